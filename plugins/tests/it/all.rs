//! `v6fix all` and `v6fix audit` on the sample host `testdata/hosts/seed`: one transaction
//! that equals the plugins run one by one, all or nothing, idempotent, and an audit that
//! finds every seeded problem before and nothing after.

use crate::support::{self, copy_tree, read_tree, show, v6fix};
use std::path::Path;

const SITE: &[&str] = &[
    "--network",
    "2001:db8::/64",
    "--role",
    "client",
    "--host",
    "1",
];
const NAMESERVER: &str = "2001:db8::53";

fn seed() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_tree(&support::testdata().join("hosts/seed"), d.path());
    d
}

fn all_args() -> Vec<&'static str> {
    let mut a = vec!["all"];
    a.extend(SITE);
    a.extend(["--nameserver", NAMESERVER]);
    a
}

fn run_ok(root: &Path, args: &[&str]) -> String {
    let o = v6fix(root, args);
    assert_eq!(o.status.code(), Some(0), "{args:?}\n{}", show(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn all_equals_the_plugins_run_one_by_one() {
    let together = seed();
    run_ok(together.path(), &all_args());

    let one_by_one = seed();
    let r = one_by_one.path();
    let address = "2001:db8::c:1";
    run_ok(
        r,
        &[
            "interfaces",
            "--address",
            address,
            "--network",
            "2001:db8::/64",
            "--gateway",
            "2001:db8::1",
        ],
    );
    run_ok(r, &["resolv", "--nameserver", NAMESERVER]);
    run_ok(
        r,
        &["apache", "--address", address, "--network", "2001:db8::/64"],
    );
    run_ok(r, &["dovecot", "--listen", address]);
    run_ok(
        r,
        &[
            "postfix",
            "--network",
            "2001:db8::/64",
            "--address",
            address,
        ],
    );
    run_ok(r, &["pure-ftpd", "--address", address]);
    run_ok(r, &["sshd", "--address", address]);
    run_ok(
        r,
        &[
            "varnish",
            "--address",
            address,
            "--network",
            "2001:db8::/64",
        ],
    );

    let a = read_tree(together.path());
    let b = read_tree(one_by_one.path());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, entry) in &a {
        assert!(
            b[path] == *entry,
            "{} differs between all and the plugins one by one",
            path.display()
        );
    }
    assert_ne!(
        a,
        read_tree(&support::testdata().join("hosts/seed")),
        "all changed nothing"
    );
}

fn all_is_one_transaction_a_failure_in_the_last_plugin_writes_nothing() {
    let d = seed();
    // varnish runs last; make its VCL unparseable.
    let vcl = d.path().join("etc/varnish/default.vcl");
    let mut text = std::fs::read_to_string(&vcl).unwrap();
    text.push_str("\nsub vcl_deliver {\n");
    std::fs::write(&vcl, text).unwrap();
    let before = read_tree(d.path());
    let o = v6fix(d.path(), &all_args());
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("default.vcl:"), "{err}");
    assert_eq!(read_tree(d.path()), before, "a failed all wrote something");
}

fn a_relative_root_works_exactly_like_an_absolute_one() {
    let absolute = seed();
    let abs_out = run_ok(absolute.path(), &all_args());

    let parent = tempfile::tempdir().unwrap();
    copy_tree(
        &support::testdata().join("hosts/seed"),
        &parent.path().join("w"),
    );
    let o = std::process::Command::new(support::bin())
        .current_dir(parent.path())
        .args(["--root", "./w", "--no-validate"])
        .args(all_args())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let rel_out = String::from_utf8_lossy(&o.stdout).replace("./w/", "[ROOT]/");
    let abs_out = abs_out.replace(&format!("{}/", absolute.path().display()), "[ROOT]/");
    assert_eq!(rel_out, abs_out);
    assert!(
        rel_out.contains("--- a/etc/ssh/sshd_config.d/"),
        "the include globs matched nothing:\n{rel_out}"
    );
    assert_eq!(
        read_tree(&parent.path().join("w")),
        read_tree(absolute.path())
    );
}

fn all_twice_changes_nothing_the_second_time() {
    let d = seed();
    let first = run_ok(d.path(), &all_args());
    assert!(first.contains("changed "), "{first}");
    let after = read_tree(d.path());
    let second = run_ok(d.path(), &all_args());
    assert!(second.contains("nothing to change"), "{second}");
    assert_eq!(read_tree(d.path()), after);
}

fn all_skips_what_is_absent_and_says_so() {
    let d = seed();
    let mut args = vec!["--check", "all"];
    args.extend(SITE);
    let o = v6fix(d.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("note: nginx: skipped, not installed"), "{out}");
    assert!(
        out.contains("note: resolv: skipped, needs --nameserver"),
        "{out}"
    );
    assert!(
        out.contains("note: address plan: host 2001:db8::c:1, gateway 2001:db8::1"),
        "{out}"
    );
    // Restart hints come network first.
    let restarts: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("restart ") || l.starts_with("reload "))
        .collect();
    assert!(restarts[0].contains("networking"), "{restarts:?}");
}

fn all_rejects_bad_plans_with_exit_2() {
    let d = seed();
    let before = read_tree(d.path());
    for args in [
        vec![
            "all",
            "--network",
            "2001:db8::/48",
            "--role",
            "client",
            "--host",
            "1",
        ],
        vec![
            "all",
            "--network",
            "2001:db8::/64",
            "--role",
            "client",
            "--host",
            "10000",
        ],
        vec!["all", "--network", "2001:db8::/64", "--role", "client"],
        vec![
            "all",
            "--network",
            "2001:db8::/64",
            "--address",
            "2001:db8:1::1",
        ],
        vec![
            "all",
            "--network",
            "2001:db8::/64",
            "--address",
            "2001:db8::5",
            "--skip",
            "nosuch",
        ],
    ] {
        let o = v6fix(d.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", show(&o));
    }
    assert_eq!(read_tree(d.path()), before);
}

fn audit_finds_every_seeded_problem_then_nothing_after_all() {
    let d = seed();
    let o = v6fix(d.path(), &["audit", "/var/www/shop"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "etc/network/interfaces",
        "etc/resolv.conf",
        "etc/postfix/main.cf",
        "etc/dovecot/",
        "etc/pure-ftpd/conf/IPV4Only",
        "etc/apache2/",
        "etc/ssh/",
        "etc/systemd/system/varnish.service.d/override.conf",
        "var/www/shop/schema.sql:5:",
        "var/www/shop/models.py:5:",
    ] {
        assert!(out.contains(needle), "audit missed {needle}\n{out}");
    }
    assert!(
        !out.contains("schema.sql:11:"),
        "a 45-character column is wide enough\n{out}"
    );

    run_ok(d.path(), &all_args());
    let o = v6fix(d.path(), &["audit"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "audit after all is not clean\n{}",
        show(&o)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("clean"));

    let o = v6fix(d.path(), &["--json", "audit", "/var/www/shop"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["clean"], false);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(
        findings.len(),
        2,
        "only the two narrow columns are left: {v}"
    );
    assert_eq!(findings[0]["line"], 5);
    assert_eq!(findings[0]["severity"], "warning");
}

fn audit_errors_exit_2() {
    let d = seed();
    let o = v6fix(d.path(), &["audit", "/no/such/dir"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        all_equals_the_plugins_run_one_by_one,
        all_is_one_transaction_a_failure_in_the_last_plugin_writes_nothing,
        a_relative_root_works_exactly_like_an_absolute_one,
        all_twice_changes_nothing_the_second_time,
        all_skips_what_is_absent_and_says_so,
        all_rejects_bad_plans_with_exit_2,
        audit_finds_every_seeded_problem_then_nothing_after_all,
        audit_errors_exit_2,
    ]
}
