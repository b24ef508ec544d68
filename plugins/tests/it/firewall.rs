//! The firewall across commands: `all` stops on an IPv4-only firewall and writes nothing;
//! with `--no-firewall-check` it goes on, warns, and `audit` keeps reporting the open IPv6
//! side until `v6fix firewall` closes it; then `all` goes through.

use crate::support::{self, v6fix};

fn host() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    support::copy_tree(
        &support::testdata().join("cases/all/ipv4-only-firewall/in"),
        d.path(),
    );
    d
}

const ALL: &[&str] = &[
    "all",
    "--network",
    "2001:db8::/64",
    "--address",
    "2001:db8::10",
];

fn an_ipv4_only_firewall_stops_all_until_it_is_fixed_or_overridden() {
    let d = host();
    let before = support::read_tree(d.path());
    let o = v6fix(d.path(), ALL);
    assert_eq!(o.status.code(), Some(2), "{}", support::show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nftables") && err.contains("ports 22, 80, 5432") && err.contains("ssh"),
        "{err}"
    );
    assert_eq!(
        support::read_tree(d.path()),
        before,
        "all wrote while refusing"
    );

    let mut over = ALL.to_vec();
    over.push("--no-firewall-check");
    let o = v6fix(d.path(), &over);
    assert_eq!(o.status.code(), Some(0), "{}", support::show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("stays open"),
        "{}",
        support::show(&o)
    );
    let a = v6fix(d.path(), &["audit"]);
    assert_eq!(a.status.code(), Some(1), "{}", support::show(&a));
    assert!(String::from_utf8_lossy(&a.stdout).contains("table ip filter filters IPv4"));

    let f = v6fix(
        d.path(),
        &[
            "firewall",
            "--network",
            "2001:db8::/64",
            "--ipv4-network",
            "192.0.2.0/24",
        ],
    );
    assert_eq!(f.status.code(), Some(0), "{}", support::show(&f));
    let a = v6fix(d.path(), &["audit"]);
    assert_eq!(a.status.code(), Some(0), "{}", support::show(&a));
    let o = v6fix(d.path(), ALL);
    assert_eq!(o.status.code(), Some(0), "{}", support::show(&o));
}

fn a_kernel_without_ipv6_stops_all_even_with_no_firewall_check() {
    let d = tempfile::tempdir().unwrap();
    support::copy_tree(
        &support::testdata().join("cases/all/grub-ipv6-disabled/in"),
        d.path(),
    );
    let before = support::read_tree(d.path());
    let mut args = ALL.to_vec();
    args.push("--no-firewall-check");
    let o = v6fix(d.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", support::show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ipv6.disable=1"));
    assert_eq!(support::read_tree(d.path()), before);
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        an_ipv4_only_firewall_stops_all_until_it_is_fixed_or_overridden,
        a_kernel_without_ipv6_stops_all_even_with_no_firewall_check,
    ]
}
