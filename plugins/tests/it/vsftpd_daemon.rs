//! The real vsftpd (Debian 12's, unpacked by `.ci/install-daemons`) runs what
//! `v6fix vsftpd` writes; vsftpd has no config checker, so each golden output is started in
//! a private network namespace whose loopback also holds 192.0.2.21 and 2001:db8::21, and
//! the test reads the greeting on each address:
//! - every converted output answers on IPv4 and IPv6, where the input answered on IPv4
//!   only (or, with both modes on, not at all);
//! - every output v6fix leaves alone listens exactly where its warning says (one family on
//!   a specific address; every address when `listen_ipv6=YES` ignores `listen_address`);
//! - every input v6fix refuses stops vsftpd too.

use crate::support;
use std::path::Path;

const PORT: u16 = 2121;
const ADDRS: [&str; 4] = ["127.0.0.1", "::1", "192.0.2.21", "2001:db8::21"];
const ALL: &[&str] = &ADDRS;
const V4: &[&str] = &["127.0.0.1", "192.0.2.21"];

/// Where each case's output (and, second, its input) answers.
const EXPECTED: &[(&str, &[&str], &[&str])] = &[
    ("debian-default", ALL, ALL),
    ("seed", ALL, V4),
    ("listen-ipv6-off", ALL, V4),
    ("listen-wildcard-address", ALL, V4),
    ("both-on", ALL, &[]),
    ("listen-address-ipv4", &["192.0.2.21"], &["192.0.2.21"]),
    ("listen-address-loopback", &["127.0.0.1"], &["127.0.0.1"]),
    ("listen-address6-ipv4-mode", V4, V4),
    ("ipv6-address-only", &["2001:db8::21"], &["2001:db8::21"]),
    ("ipv6-ignored-address", ALL, ALL),
    ("inetd", &[], &[]),
];

/// Starts vsftpd on a copy of `conf` made fit for a test (port 2121, a private chroot
/// directory; later lines win) and returns the addresses that greet with `220`.
fn answering(vsftpd: &Path, conf: &Path) -> (Vec<&'static str>, String) {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let mut text = std::fs::read_to_string(conf).unwrap();
    if !text.ends_with('\n') && !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!(
        "listen_port={PORT}\nsecure_chroot_dir={}\n",
        empty.display()
    ));
    let copy = dir.path().join("vsftpd.conf");
    std::fs::write(&copy, text).unwrap();
    support::ftp_greeters(
        &format!("{} {}", vsftpd.display(), copy.display()),
        &ADDRS[2..],
        &ADDRS,
        PORT,
    )
}

fn vsftpd_listens_where_v6fix_says_before_and_after() -> support::Skippable {
    let vsftpd = support::unpacked("vsftpd", "usr/sbin/vsftpd")?;
    support::can_unshare()?;
    let mut seen = 0;
    for case in support::cases("vsftpd") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let code = std::fs::read_to_string(case.join("code")).unwrap_or_default();
        let input = case.join("in/etc/vsftpd.conf");
        if code.trim() == "2" {
            // Refused by v6fix: vsftpd must stop on it as well.
            let (ok, log) = answering(&vsftpd, &input);
            assert!(
                ok.is_empty(),
                "{name}: v6fix refuses the input but vsftpd serves it on {ok:?}\n{log}"
            );
            seen += 1;
            continue;
        }
        let Some((_, after, before)) = EXPECTED.iter().find(|(n, _, _)| *n == name) else {
            assert!(
                !input.exists() || name.starts_with("audit-"),
                "{name}: add the case to EXPECTED"
            );
            continue;
        };
        let tree = support::expected_tree(&case);
        let (ok, log) = answering(&vsftpd, &tree.path().join("etc/vsftpd.conf"));
        assert_eq!(&ok, after, "{name}: the output answers on\n{log}");
        let (ok, log) = answering(&vsftpd, &input);
        assert_eq!(&ok, before, "{name}: the input answers on\n{log}");
        seen += 1;
    }
    assert!(seen >= EXPECTED.len() + 5, "only {seen} cases run");
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![vsftpd_listens_where_v6fix_says_before_and_after]
}
