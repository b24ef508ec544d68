//! The real ProFTPD (Debian 12's, unpacked by `.ci/install-daemons`) checks what
//! `v6fix proftpd` writes. Each tree's `/etc` and the package's `/usr/lib` are laid over
//! the machine's with overlay mounts in private mount and network namespaces, so the
//! absolute paths of Debian's config (`Include /etc/proftpd/modules.conf`, `ModulePath
//! /usr/lib/proftpd`) read the staged files and the unpacked modules:
//! - `proftpd -t` accepts every golden output and rejects every input v6fix refuses;
//! - proftpd, started on converted outputs in a network namespace whose loopback also
//!   holds 192.0.2.21 and 2001:db8::21, greets over IPv4 and IPv6 where the input greeted
//!   over IPv4 only.

use crate::support;
use std::path::Path;

/// The script that lays `root`'s /etc and the package's /usr/lib over the machine's.
fn overlays(package: &Path, root: &Path) -> String {
    format!(
        "mount -t overlay overlay -o lowerdir='{}/etc':/etc /etc\n\
         mount -t overlay overlay -o lowerdir='{}/usr/lib':/usr/lib /usr/lib\n\
         mount -t tmpfs none /var/log\nmkdir -p /var/log/proftpd\n\
         mount -t tmpfs none /run\nmkdir -p /run/proftpd\n",
        root.display(),
        package.display()
    )
}

fn package() -> Result<std::path::PathBuf, support::Skip> {
    let bin = support::unpacked("proftpd", "usr/sbin/proftpd")?;
    Ok(bin
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf())
}

fn check(package: &Path, root: &Path) -> std::process::Output {
    support::in_namespace(
        &[],
        &format!(
            "{}exec timeout 20 '{}/usr/sbin/proftpd' -t -c /etc/proftpd/proftpd.conf </dev/null",
            overlays(package, root),
            package.display()
        ),
    )
}

fn proftpd_t_accepts_every_golden_output_and_rejects_the_bad_inputs() -> support::Skippable {
    let package = package()?;
    support::can_unshare()?;
    let mut checked = 0;
    for case in support::cases("proftpd") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        if !case.join("in/etc/proftpd/proftpd.conf").exists() {
            continue;
        }
        let code = std::fs::read_to_string(case.join("code")).unwrap_or_default();
        if code.trim() == "2" {
            let o = check(&package, &case.join("in"));
            assert!(
                !o.status.success(),
                "{name}: v6fix refuses it but proftpd -t accepts it\n{}",
                support::show(&o)
            );
        } else {
            let tree = support::expected_tree(&case);
            let o = check(&package, tree.path());
            assert!(o.status.success(), "{name}\n{}", support::show(&o));
        }
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} cases checked");
    Ok(())
}

const PROBES: [&str; 4] = ["127.0.0.1", "::1", "192.0.2.21", "2001:db8::21"];

/// The probes that greet with `220` when proftpd runs the tree at `root` on `port`.
fn greeting(package: &Path, root: &Path, port: u16) -> (Vec<&'static str>, String) {
    let command = format!(
        "{}'{}/usr/sbin/proftpd' -n -c /etc/proftpd/proftpd.conf",
        overlays(package, root),
        package.display()
    );
    support::ftp_greeters(&command, &PROBES[2..], &PROBES, port)
}

fn converted_proftpd_greets_over_ipv4_and_ipv6() -> support::Skippable {
    let package = package()?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/proftpd/debian-ipv4");
    let (before, log) = greeting(&package, &case.join("in"), 2121);
    assert_eq!(before, ["127.0.0.1", "192.0.2.21"], "input\n{log}");
    let tree = support::expected_tree(&case);
    let (after, log) = greeting(&package, tree.path(), 2121);
    assert_eq!(after, PROBES, "output\n{log}");
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        proftpd_t_accepts_every_golden_output_and_rejects_the_bad_inputs,
        converted_proftpd_greets_over_ipv4_and_ipv6,
    ]
}
