//! `audit` on the golden cases of each service: a converted tree audits clean, and an input
//! reports the problems it was chosen for.

use crate::support::{cases, copy_tree, testdata, v6fix};

/// Findings of warning level or worse, as `audit --plugin PLUGIN` prints them with the root
/// left out, for a case's input (`converted` false) or its converted tree (`converted` true).
fn serious(plugin: &str, case: &str, converted: bool) -> Vec<String> {
    let dir = testdata().join("cases").join(plugin).join(case);
    let t = tempfile::tempdir().unwrap();
    copy_tree(&dir.join("in"), t.path());
    if converted {
        copy_tree(&dir.join("out"), t.path());
    }
    let o = v6fix(t.path(), &["audit", "--plugin", plugin]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{plugin}/{case}: {}",
        crate::support::show(&o)
    );
    let root = t.path().display().to_string();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains(": warning: ") || l.contains(": error: "))
        .map(|l| l.replace(&root, ""))
        .collect()
}

fn nginx_inputs_report_and_converted_trees_are_clean() {
    for case in [
        "shop",
        "multiline-crlf",
        "runtime-high-ports",
        "debian-default",
    ] {
        assert_eq!(serious("nginx", case, true), Vec::<String>::new(), "{case}");
    }
    let shop = serious("nginx", "shop", false);
    let has = |want: &[&str]| shop.iter().any(|f| want.iter().all(|w| f.contains(w)));
    assert!(
        has(&["/etc/nginx/sites-enabled/shop:3: warning: `listen 80 default_server` accepts IPv4 only"]),
        "{shop:#?}"
    );
    assert!(
        has(&["intranet:5: error: `allow [2001:db8:ffff::]/48`"]),
        "{shop:#?}"
    );
    assert!(
        has(&["office.conf:1: warning: this allow list admits no IPv6 client"]),
        "{shop:#?}"
    );
    assert!(
        has(&[
            "`listen 192.0.2.10:8080` accepts IPv4 only",
            "--address ADDR"
        ]),
        "{shop:#?}"
    );
    let trap = serious("nginx", "ipv6only-off", true);
    assert!(
        trap.iter()
            .any(|f| f.contains("error: `listen [::]:80 ipv6only=off` takes IPv4 too")),
        "{trap:#?}"
    );
    assert!(serious("nginx", "debian-default", false).is_empty());
}

fn varnish_inputs_report_and_converted_trees_are_clean() {
    for case in [
        "seed",
        "named-proxy",
        "lib-only-wildcard",
        "dropin-no-reset",
        "sysv",
        "runtime-high-ports",
        "debian-default",
    ] {
        assert_eq!(
            serious("varnish", case, true),
            Vec::<String>::new(),
            "{case}"
        );
    }
    assert_eq!(
        serious("varnish", "seed", false),
        [
            "/etc/systemd/system/varnish.service.d/override.conf:7: warning: `-a 192.0.2.10:80` accepts IPv4 only and no IPv6 listener shares its port (fix: v6fix varnish --address ADDR)",
            "/etc/varnish/default.vcl:13: warning: acl purgers matches no IPv6 client (fix: v6fix varnish --network PREFIX)"
        ]
    );
    let broken = serious("varnish", "dropin-no-reset", false);
    assert!(
        broken
            .iter()
            .any(|f| f.contains("error: varnish.service gets more than one ExecStart=")),
        "{broken:#?}"
    );
    assert!(serious("varnish", "debian-default", false).is_empty());
}

/// `audit --plugin PLUGIN --json` on `root`: each finding as (path, message, fix); none
/// when the config cannot be read (the audit's answer is then an error object).
fn findings(root: &std::path::Path, plugin: &str) -> Vec<(String, String, Option<String>)> {
    let o = v6fix(root, &["--json", "audit", "--plugin", plugin]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}", crate::support::show(&o)));
    let Some(found) = v["findings"].as_array() else {
        assert_eq!(o.status.code(), Some(2), "{}", crate::support::show(&o));
        return Vec::new();
    };
    found
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
                f["fix"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Every finding on a golden input names a fix, and running that fix (with documentation
/// values for ADDR and PREFIX) makes the finding go away: the audit and the run are one
/// judgement. A fix the run refuses (exit 2) is left to the case's own test.
fn each_fix_removes_its_finding(plugin: &str) {
    let mut checked = 0;
    for case in cases(plugin) {
        let input = case.join("in");
        let probe = tempfile::tempdir().unwrap();
        copy_tree(&input, probe.path());
        let mut fixes: Vec<String> = findings(probe.path(), plugin)
            .into_iter()
            .filter_map(|(_, _, fix)| fix)
            .collect();
        fixes.sort();
        fixes.dedup();
        for fix in fixes {
            let t = tempfile::tempdir().unwrap();
            copy_tree(&input, t.path());
            let before = findings(t.path(), plugin);
            let args: Vec<&str> = fix
                .split(' ')
                .skip(1)
                .map(|w| match w {
                    "ADDR" => "2001:db8::10",
                    "PREFIX" => "2001:db8::/64",
                    w => w,
                })
                .collect();
            let o = v6fix(t.path(), &args);
            if o.status.code() == Some(2) {
                continue;
            }
            let after = findings(t.path(), plugin);
            for f in before
                .iter()
                .filter(|f| f.2.as_deref() == Some(fix.as_str()))
            {
                assert!(
                    !after.iter().any(|a| a.0 == f.0 && a.1 == f.1),
                    "{}: `{fix}` leaves {}: {}\n{}",
                    case.display(),
                    f.0,
                    f.1,
                    crate::support::show(&o)
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "{plugin}: no finding with a fix was checked");
}

fn nginx_fixes_remove_their_findings() {
    each_fix_removes_its_finding("nginx");
}

fn varnish_fixes_remove_their_findings() {
    each_fix_removes_its_finding("varnish");
}

fn postfix_fixes_remove_their_findings() {
    each_fix_removes_its_finding("postfix");
}

/// A problem the run leaves as it is is one record: the run warns with the line the audit
/// prints for it (an unbracketed IPv6 `-a`, which varnishd reads whole, on port 80).
fn a_problem_left_alone_is_one_record_in_the_run_and_the_audit() {
    let case = testdata().join("cases/varnish/seed/in");
    let t = tempfile::tempdir().unwrap();
    copy_tree(&case, t.path());
    let unit = t
        .path()
        .join("etc/systemd/system/varnish.service.d/override.conf");
    let text = std::fs::read_to_string(&unit).unwrap();
    let text = text.replace(
        "-a 192.0.2.10:80 \\\n",
        "-a 192.0.2.10:80 \\\n          -a 2001:db8::1:6081 \\\n",
    );
    std::fs::write(&unit, text).unwrap();
    let root = t.path().display().to_string();
    let audit = v6fix(t.path(), &["audit", "--plugin", "varnish"]);
    let audit = String::from_utf8_lossy(&audit.stdout).replace(&root, "");
    let found = audit
        .lines()
        .find(|l| l.contains("-a 2001:db8::1:6081"))
        .unwrap_or_else(|| panic!("no finding for the unbracketed -a\n{audit}"));
    let (place, message) = found.split_once(": error: ").expect("an error finding");
    assert_eq!(
        place,
        "/etc/systemd/system/varnish.service.d/override.conf:8"
    );
    let run = v6fix(
        t.path(),
        &[
            "--check",
            "varnish",
            "--address",
            "2001:db8::10",
            "--network",
            "2001:db8::/64",
        ],
    );
    let warnings = String::from_utf8_lossy(&run.stderr).replace(&root, "");
    let said: Vec<&str> = warnings
        .lines()
        .filter(|l| l.contains("2001:db8::1:6081"))
        .collect();
    assert_eq!(said, [format!("warning: {place}: {message}")], "{warnings}");
}

/// An IPv4-specific listen whose server already listens on an IPv6 address of the port was
/// given its twin by hand: without --address the run leaves it alone and says so, without a
/// warning, and the audit finds nothing, for nginx and Varnish alike.
fn a_twin_made_by_hand_is_one_judgement_without_address() {
    let t = tempfile::tempdir().unwrap();
    let conf = t.path().join("etc/nginx/nginx.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(
        &conf,
        "events {}\nhttp {\n    server {\n        listen 192.0.2.10:80;\n        listen [2001:db8::10]:80;\n    }\n}\n",
    )
    .unwrap();
    let dropin = t
        .path()
        .join("etc/systemd/system/varnish.service.d/override.conf");
    std::fs::create_dir_all(dropin.parent().unwrap()).unwrap();
    std::fs::write(
        &dropin,
        "[Service]\nExecStart=\nExecStart=/usr/sbin/varnishd -a 192.0.2.10:80 -a [2001:db8::10]:80 -f /etc/varnish/default.vcl\n",
    )
    .unwrap();
    std::fs::create_dir_all(t.path().join("etc/varnish")).unwrap();
    std::fs::write(
        t.path().join("etc/varnish/default.vcl"),
        "vcl 4.1;\nbackend default { .host = \"127.0.0.1\"; .port = \"8080\"; }\n",
    )
    .unwrap();
    for (plugin, says) in [
        (
            "nginx",
            "this server already listens on IPv6 on port 80: left alone",
        ),
        (
            "varnish",
            "an IPv6 listener on a specific address already shares its port: left alone",
        ),
    ] {
        let args = if plugin == "nginx" {
            vec!["--check", plugin]
        } else {
            vec!["--check", plugin, "--network", "2001:db8::/64"]
        };
        let run = v6fix(t.path(), &args);
        let out = String::from_utf8_lossy(&run.stdout);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{plugin}: {}",
            crate::support::show(&run)
        );
        assert!(
            run.stderr.is_empty(),
            "{plugin}: {}",
            crate::support::show(&run)
        );
        assert!(out.contains(says), "{plugin}: {out}");
        assert_eq!(findings(t.path(), plugin), [], "{plugin}");
    }
}

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        nginx_inputs_report_and_converted_trees_are_clean,
        varnish_inputs_report_and_converted_trees_are_clean,
        nginx_fixes_remove_their_findings,
        varnish_fixes_remove_their_findings,
        postfix_fixes_remove_their_findings,
        a_problem_left_alone_is_one_record_in_the_run_and_the_audit,
        a_twin_made_by_hand_is_one_judgement_without_address,
    ]
}
