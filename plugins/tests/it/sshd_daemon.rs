//! sshd itself checks what `v6fix sshd` writes.
//!
//! - Every golden output tree is checked with `sshd -t -f STAGE/etc/ssh/sshd_config -h KEY`
//!   (a throwaway ed25519 key) inside a private mount namespace where the stage is
//!   bind-mounted over /etc/ssh (Debian's `Include /etc/ssh/sshd_config.d/*.conf` is
//!   absolute) and /run is a tmpfs holding /run/sshd. `sshd -T` shows the values that win.
//! - A runtime test starts sshd on high ports in a network namespace and connects over
//!   IPv4 and IPv6, before and after conversion.
//! - Every converted golden tree audits clean; the unconverted ones report their problems.

use crate::support;
use std::path::{Path, PathBuf};
use std::process::Output;

fn ok_cases() -> Vec<PathBuf> {
    support::cases("sshd")
        .into_iter()
        .filter(|c| !c.join("code").exists())
        .collect()
}

/// A throwaway host key in `dir`.
fn host_key(dir: &Path) -> PathBuf {
    let key = dir.join("hostkey");
    let o = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", support::show(&o));
    key
}

/// Runs `sshd ARGS -f STAGE/etc/ssh/sshd_config -h KEY` with the stage over /etc/ssh.
fn sshd(tree: &Path, args: &str) -> Output {
    let keys = tempfile::tempdir().unwrap();
    let key = host_key(keys.path());
    let stage = tree.join("etc/ssh");
    let script = format!(
        "mount -t tmpfs none /run\nmkdir -p /run/sshd\n\
         /usr/sbin/sshd {args} -f {s}/sshd_config -h {k} 2>&1\n",
        s = stage.display(),
        k = key.display()
    );
    support::in_namespace(&[(&stage, "/etc/ssh")], &script)
}

fn sshd_accepts_every_golden_output_tree() -> support::Skippable {
    support::daemon("sshd")?;
    support::can_unshare()?;
    let cases = ok_cases();
    assert!(cases.len() >= 5, "golden sshd cases: {cases:?}");
    for case in cases {
        let tree = support::expected_tree(&case);
        let o = sshd(tree.path(), "-t");
        assert!(
            o.status.success(),
            "{}: sshd -t on the converted tree failed\n{}",
            case.display(),
            support::show(&o)
        );
        let before = tempfile::tempdir().unwrap();
        support::copy_tree(&case.join("in"), before.path());
        let o = sshd(before.path(), "-t");
        assert!(
            o.status.success(),
            "{}: sshd -t on the input tree failed\n{}",
            case.display(),
            support::show(&o)
        );
        let o = sshd(tree.path(), "-T");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && out.contains("\naddressfamily any\n"),
            "{}: sshd -T\n{}",
            case.display(),
            support::show(&o)
        );
    }
    Ok(())
}

fn the_drop_in_decides_and_the_twins_are_read_as_written() -> support::Skippable {
    support::daemon("sshd")?;
    support::can_unshare()?;
    // The seed: `AddressFamily inet` in a drop-in included at the top wins over the main file.
    let case = support::testdata().join("cases/sshd/seed");
    let before = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), before.path());
    let o = sshd(before.path(), "-T");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("\naddressfamily inet\n"),
        "{}",
        support::show(&o)
    );
    let after = support::expected_tree(&case);
    let o = sshd(after.path(), "-T");
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "\naddressfamily any\n",
        "\nlistenaddress 0.0.0.0:22\n",
        "\nlistenaddress [::]:22\n",
    ] {
        assert!(
            out.contains(want),
            "missing {want:?}\n{}",
            support::show(&o)
        );
    }
    // Twins with ports are bracketed, so sshd reads address and port apart.
    let after = support::expected_tree(&support::testdata().join("cases/sshd/specific"));
    let o = sshd(after.path(), "-T");
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "\nlistenaddress [2001:db8::10]:2200\n",
        "\nlistenaddress [2001:db8::10]:22\n",
        "\nlistenaddress [2001:db8::10]:2222\n",
        "\nlistenaddress [::1]:2201\n",
        "\naddressfamily any\n",
    ] {
        assert!(
            out.contains(want),
            "missing {want:?}\n{}",
            support::show(&o)
        );
    }
    Ok(())
}

fn the_staged_check_can_fail() -> support::Skippable {
    // An IPv6 ListenAddress while `AddressFamily inet` still wins: sshd -t refuses it,
    // which is why v6fix changes every `AddressFamily inet` of the include set.
    support::daemon("sshd")?;
    support::can_unshare()?;
    let tree = support::expected_tree(&support::testdata().join("cases/sshd/seed"));
    let drop_in = tree.path().join("etc/ssh/sshd_config.d/ipv4-only.conf");
    let text = std::fs::read_to_string(&drop_in).unwrap();
    std::fs::write(
        &drop_in,
        text.replace("AddressFamily any", "AddressFamily inet"),
    )
    .unwrap();
    let o = sshd(tree.path(), "-t");
    assert!(!o.status.success(), "{}", support::show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Address family for hostname not supported"),
        "{}",
        support::show(&o)
    );
    Ok(())
}

const PROBES: &[(&str, u16)] = &[
    ("127.0.0.1", 12222),
    ("::1", 12222),
    ("127.0.0.1", 12223),
    ("::1", 12223),
    ("192.0.2.10", 12224),
    ("2001:db8::10", 12224),
];

/// Starts sshd from `tree` in a fresh network namespace holding 192.0.2.10 and
/// 2001:db8::10 on `lo`, connects to each probe, stops sshd.
fn serve_and_probe(tree: &Path) -> String {
    let keys = tempfile::tempdir().unwrap();
    let key = host_key(keys.path());
    let stage = tree.join("etc/ssh");
    let mut script = format!(
        "mount -t tmpfs none /run\nmkdir -p /run/sshd\n\
         ip addr add 192.0.2.10/32 dev lo\nip -6 addr add 2001:db8::10/128 dev lo nodad\n\
         /usr/sbin/sshd -D -e -f {s}/sshd_config -h {k} 2>{d}/sshd.log &\npid=$!\n\
         i=0; while [ $i -lt 100 ] && ! bash -c 'exec 3<>/dev/tcp/127.0.0.1/12222' 2>/dev/null; do sleep 0.1; i=$((i+1)); done\n",
        s = stage.display(),
        k = key.display(),
        d = keys.path().display()
    );
    for (h, p) in PROBES {
        script.push_str(&format!(
            "if timeout 5 bash -c 'exec 3<>/dev/tcp/{h}/{p}' 2>/dev/null; then echo '{h} {p} ok'; else echo '{h} {p} refused'; fi\n"
        ));
    }
    script.push_str("kill $pid\nwait $pid || true\n");
    let o = support::in_namespace(&[(&stage, "/etc/ssh")], &script);
    assert!(o.status.success(), "{}", support::show(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn converted_sshd_accepts_ipv4_and_ipv6_connections() -> support::Skippable {
    support::daemon("sshd")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/sshd/high-ports");
    let after = support::expected_tree(&case);
    let want: String = PROBES
        .iter()
        .map(|(h, p)| format!("{h} {p} ok\n"))
        .collect();
    assert_eq!(serve_and_probe(after.path()), want, "after conversion");

    let before = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), before.path());
    assert_eq!(
        serve_and_probe(before.path()),
        "127.0.0.1 12222 ok\n::1 12222 refused\n127.0.0.1 12223 ok\n::1 12223 refused\n\
         192.0.2.10 12224 ok\n2001:db8::10 12224 refused\n",
        "before conversion"
    );
    Ok(())
}

fn converted_trees_audit_clean_and_unconverted_ones_do_not() {
    // The seed: each IPv4-only listener, with its fix.
    let found =
        support::audits_clean_after("sshd", &["seed", "specific", "high-ports"], "etc/ssh/");
    for want in [
        "AddressFamily inet: sshd accepts IPv4 connections only",
        "ipv4-only.conf",
        "ListenAddress 0.0.0.0: sshd accepts IPv4 connections only here",
        "\"fix\":\"v6fix sshd\"",
    ] {
        assert!(found.contains(want), "missing {want}: {found}");
    }
    let debian = support::testdata().join("cases/sshd/debian-default/in");
    assert!(support::serious_findings(&debian, "etc/ssh/").is_empty());
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        sshd_accepts_every_golden_output_tree,
        the_drop_in_decides_and_the_twins_are_read_as_written,
        the_staged_check_can_fail,
        converted_sshd_accepts_ipv4_and_ipv6_connections,
        converted_trees_audit_clean_and_unconverted_ones_do_not,
    ]
}
