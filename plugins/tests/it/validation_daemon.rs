//! Validation before commit, through the binary and the real checkers: a configuration the
//! service's own checker rejects is never written (the checker's words are shown, and
//! whether it failed before the change too), `--no-validate` writes it anyway, and the
//! JSON report names every checker that ran.

use crate::support::{self, copy_tree, read_tree, show, v6fix, v6fix_validating, Skippable};
use std::path::Path;

fn tree_from(case: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_tree(&support::testdata().join(case), d.path());
    d
}

/// Runs `args` on `root` with validation: exit 2, the checker's `message`, nothing
/// written; then with `--no-validate`: applied.
fn rejected_then_applied(root: &Path, args: &[&str], message: &str) {
    let before = read_tree(root);
    let o = v6fix_validating(root, args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("rejects the changed configuration; nothing was written")
            && err.contains("it already failed before the change")
            && err.contains(message),
        "{err}"
    );
    assert_eq!(read_tree(root), before, "written despite the checker");
    let mut json = vec!["--json"];
    json.extend(args);
    let o = v6fix_validating(root, &json);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert!(v["error"].as_str().unwrap().contains(message), "{v}");

    let o = v6fix(root, args);
    assert_eq!(o.status.code(), Some(0), "--no-validate\n{}", show(&o));
    assert_ne!(read_tree(root), before, "--no-validate wrote nothing");
}

fn an_unrelated_error_in_an_included_nginx_file_stops_the_run() -> Skippable {
    support::daemon("nginx")?;
    support::can_unshare()?;
    let d = tree_from("cases/nginx/shop/in");
    let args = [
        "nginx",
        "--address",
        "2001:db8::10",
        "--network",
        "2001:db8::/64",
    ];
    // Clean, the same run validates and applies, and says which checker ran.
    let clean = tree_from("cases/nginx/shop/in");
    let mut json = vec!["--json"];
    json.extend(args);
    let o = v6fix_validating(clean.path(), &json);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["validated"],
        serde_json::json!([{"service": "nginx", "command": "nginx -t -q -c /etc/nginx/nginx.conf", "ok": true}]),
        "{v}"
    );

    std::fs::write(
        d.path().join("etc/nginx/conf.d/broken.conf"),
        "bogus_directive on;\n",
    )
    .unwrap();
    rejected_then_applied(
        d.path(),
        &args,
        "unknown directive \"bogus_directive\" in /etc/nginx/conf.d/broken.conf:1",
    );
    Ok(())
}

fn an_unrelated_error_in_an_included_apache_file_stops_the_run() -> Skippable {
    support::daemon("apache2")?;
    support::can_unshare()?;
    let d = tree_from("hosts/seed");
    let args = ["apache", "--address", "2001:db8::10"];
    let clean = tree_from("hosts/seed");
    let mut json = vec!["--json"];
    json.extend(args);
    let o = v6fix_validating(clean.path(), &json);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["validated"][0]["service"], "apache", "{v}");
    assert_eq!(v["validated"][0]["ok"], true, "{v}");

    std::fs::write(
        d.path().join("etc/apache2/conf-enabled/local.conf"),
        "NoSuchDirective on\n",
    )
    .unwrap();
    rejected_then_applied(d.path(), &args, "Invalid command 'NoSuchDirective'");
    Ok(())
}

fn every_checker_of_the_sample_host_runs_and_passes() -> Skippable {
    let programs = [
        "postconf", "doveconf", "apache2", "varnishd", "sshd", "ifup",
    ];
    for p in programs {
        support::daemon(p)?;
    }
    support::can_unshare()?;
    let d = tree_from("hosts/seed");
    let o = v6fix_validating(
        d.path(),
        &[
            "--json",
            "all",
            "--network",
            "2001:db8::/64",
            "--role",
            "client",
            "--host",
            "1",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ran: Vec<(&str, bool)> = v["validated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["service"].as_str().unwrap(), c["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        ran,
        [
            ("postfix", true),
            ("dovecot", true),
            ("apache", true),
            ("varnish", true),
            ("sshd", true),
            ("interfaces", true),
        ],
        "{v}"
    );
    Ok(())
}

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        an_unrelated_error_in_an_included_nginx_file_stops_the_run,
        an_unrelated_error_in_an_included_apache_file_stops_the_run,
        every_checker_of_the_sample_host_runs_and_passes,
    ]
}
