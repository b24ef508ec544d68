//! The command-line contract, end to end through the real binary: global options in any
//! position, exit codes, `--check` writing nothing, one JSON object, errors that write
//! nothing, the safety of writes (owner, mode, symlinks, --root), concurrent runs, and the
//! exact plugin registry.

use crate::support::{self, read_tree, show, v6fix};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const MAIN_CF: &str = "# test host\n\
inet_protocols = ipv4\n\
mynetworks = 127.0.0.0/8 192.0.2.0/24\n";

fn host_with(main_cf: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("etc/postfix")).unwrap();
    std::fs::write(d.path().join("etc/postfix/main.cf"), main_cf).unwrap();
    d
}

fn main_cf(root: &Path) -> String {
    std::fs::read_to_string(root.join("etc/postfix/main.cf")).unwrap()
}

fn mtimes(root: &Path) -> Vec<(std::path::PathBuf, i64, i64)> {
    read_tree(root)
        .keys()
        .map(|p| {
            let m = std::fs::symlink_metadata(root.join(p)).unwrap();
            (p.clone(), m.mtime(), m.mtime_nsec())
        })
        .collect()
}

fn the_registry_holds_exactly_these_plugins() {
    let o = std::process::Command::new(support::bin())
        .args(["--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "apache",
            "bind9",
            "dovecot",
            "exim4",
            "firewall",
            "haproxy",
            "interfaces",
            "mariadb",
            "nginx",
            "postfix",
            "postgresql",
            "proftpd",
            "pure-ftpd",
            "resolv",
            "sshd",
            "varnish",
            "vsftpd",
            "all",
            "audit",
            "list",
            "preflight",
            "plan",
            "history",
            "restore",
            "recover",
            "help"
        ],
        "{help}"
    );
}

fn global_options_work_before_and_after_the_command() {
    let d = host_with(MAIN_CF);
    let root = d.path().to_str().unwrap();
    for args in [
        vec![
            "--root",
            root,
            "--check",
            "postfix",
            "--network",
            "2001:db8::/64",
        ],
        vec![
            "postfix",
            "--network",
            "2001:db8::/64",
            "--check",
            "--root",
            root,
        ],
        vec![
            "--check",
            "postfix",
            "--root",
            root,
            "--network",
            "2001:db8::/64",
        ],
    ] {
        let o = std::process::Command::new(support::bin())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}\n{}", show(&o));
        assert_eq!(main_cf(d.path()), MAIN_CF);
    }
}

fn check_writes_nothing_and_exits_1_then_0_once_applied() {
    let d = host_with(MAIN_CF);
    let before = mtimes(d.path());
    let o = v6fix(
        d.path(),
        &["--check", "postfix", "--network", "2001:db8::/64"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("--- a/etc/postfix/main.cf\n+++ b/etc/postfix/main.cf\n"),
        "{out}"
    );
    assert!(
        out.contains("+mynetworks = 127.0.0.0/8 192.0.2.0/24 [2001:db8::]/64"),
        "{out}"
    );
    assert_eq!(mtimes(d.path()), before, "--check touched the tree");
    assert_eq!(main_cf(d.path()), MAIN_CF);

    let o = v6fix(d.path(), &["postfix", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_ne!(main_cf(d.path()), MAIN_CF);
    let o = v6fix(
        d.path(),
        &["--check", "postfix", "--network", "2001:db8::/64"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("nothing to change"));
}

fn json_is_exactly_one_object_with_the_documented_fields() {
    let d = host_with(MAIN_CF);
    let o = v6fix(
        d.path(),
        &["--json", "--check", "postfix", "--network", "2001:db8::/64"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["changed"], true);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["path"], "etc/postfix/main.cf");
    assert_eq!(files[0]["action"], "modify");
    assert!(files[0]["diff"]
        .as_str()
        .unwrap()
        .starts_with("--- a/etc/postfix/main.cf"));
    assert!(v["warnings"].is_array());
    let restart = v["restart"].as_array().unwrap();
    assert!(restart
        .iter()
        .any(|r| r["service"] == "postfix" && r["command"].is_string()));

    let bad = v6fix(
        d.path(),
        &["--json", "postfix", "--network", "2001:db8::1/64"],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", show(&bad));
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).expect("one JSON document");
    assert!(v["error"].as_str().unwrap().contains("host bits"), "{v}");
}

/// With `--json`, every failing run prints exactly one JSON object with the documented
/// fields, `check` included, wherever `--json` stands: argument errors that clap rejects
/// before v6fix reads any option as much as errors in the files.
fn json_comes_out_on_every_exit_path() {
    let d = host_with(MAIN_CF);
    let before = read_tree(d.path());
    for (args, check, says) in [
        (
            vec![
                "--json",
                "postfix",
                "--network",
                "2001:db8::/64",
                "--no-such-option",
            ],
            false,
            "--no-such-option",
        ),
        (vec!["postfix", "--json"], false, "--network"),
        (
            vec!["--check", "no-such-command", "--json"],
            true,
            "no-such-command",
        ),
        (vec!["--json"], false, ""),
        (
            vec!["--json", "--check", "postfix", "--network", "2001:db8::"],
            true,
            "no prefix length",
        ),
        (
            vec!["--json", "--check", "postfix", "--network", "::/0"],
            true,
            "wider",
        ),
    ] {
        let o = v6fix(d.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", show(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e})\n{}", show(&o)));
        assert_eq!(v["changed"], false, "{args:?}: {v}");
        assert_eq!(v["check"], check, "{args:?}: {v}");
        assert_eq!(v["files"], serde_json::json!([]), "{args:?}: {v}");
        for list in ["warnings", "notes", "restart"] {
            assert!(v[list].is_array(), "{args:?}: no {list}: {v}");
        }
        let e = v["error"].as_str().unwrap_or_default();
        assert!(!e.is_empty() && e.contains(says), "{args:?}: {v}");
        assert!(
            !e.starts_with("error:") && !e.contains("Usage:"),
            "{args:?}: {e}"
        );
        assert!(!o.stderr.is_empty(), "{args:?}: stderr says nothing");
    }
    // Without --json, stdout stays empty; `--json` after `--` is no flag.
    for args in [
        vec!["postfix", "--no-such-option"],
        vec!["postfix", "--", "--json"],
    ] {
        let o = v6fix(d.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", show(&o));
        assert!(o.stdout.is_empty(), "{args:?}\n{}", show(&o));
    }
    assert_eq!(read_tree(d.path()), before);
}

/// The JSON report names files one way throughout, relative to the root as in
/// `files[].path`: notes, warnings, errors and audit findings alike.
fn json_names_files_relative_to_the_root() {
    let d = host_with("inet_protocols = ipv4\nmynetworks = 127.0.0.0/8 2001:db8:1::/64\n");
    let root = d.path().display().to_string();
    let o = v6fix(
        d.path(),
        &["--json", "--check", "postfix", "--network", "2001:db8::/64"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains(&root),
        "a host path in the JSON report:\n{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let notes = v["notes"].to_string();
    assert!(notes.contains("etc/postfix/main.cf:2"), "{notes}");

    let o = v6fix(d.path(), &["--json", "audit", "--plugin", "postfix"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains(&root),
        "a host path in the audit report:\n{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["findings"][0]["path"], "etc/postfix/main.cf", "{v}");

    std::fs::write(d.path().join("etc/postfix/main.cf"), " indented = 1\n").unwrap();
    let o = v6fix(
        d.path(),
        &["--json", "postfix", "--network", "2001:db8::/64"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = v["error"].as_str().unwrap();
    assert!(e.starts_with("etc/postfix/main.cf:1:"), "{e}");
    // Text output keeps naming files by their path on this computer.
    let o = v6fix(d.path(), &["postfix", "--network", "2001:db8::/64"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("{root}/etc/postfix/main.cf:1:")),
        "{}",
        show(&o)
    );
}

fn bad_arguments_exit_2_and_write_nothing() {
    let d = host_with(MAIN_CF);
    let before = read_tree(d.path());
    for args in [
        vec!["postfix", "--network", "2001:db8::/129"],
        vec!["postfix", "--network", "2001:db8::1/64"],
        vec!["postfix", "--network", "not-an-address"],
        vec!["postfix"],
        vec!["postfix", "--network", "2001:db8::/64", "--no-such-option"],
        vec!["no-such-command"],
    ] {
        let o = v6fix(d.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", show(&o));
        assert!(!o.stderr.is_empty(), "{args:?}: no message");
    }
    assert_eq!(read_tree(d.path()), before);
    let o = std::process::Command::new(support::bin())
        .args([
            "--root",
            "/nonexistent-v6fix-root",
            "postfix",
            "--network",
            "2001:db8::/64",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}

fn unreadable_input_exits_2_with_a_position_and_writes_nothing() {
    // (file, content, command, where the error must point)
    let cases: &[(&str, &[u8], &[&str], &str)] = &[
        (
            "etc/postfix/main.cf",
            // A code point v6fix reserves for bytes that are not UTF-8 (U+10FF80).
            b"inet_protocols = ipv4\nmynetworks = 127.0.0.0/8 \xf4\x8f\xbe\x80\n",
            &["postfix", "--network", "2001:db8::/64"],
            "main.cf:2:26:",
        ),
        (
            "etc/postfix/main.cf",
            b"   leading continuation with nothing to continue\n",
            &["postfix", "--network", "2001:db8::/64"],
            "main.cf:1:4:",
        ),
        // Truncated files: a section, block or stanza that never ends.
        (
            "etc/dovecot/dovecot.conf",
            b"listen = *\nservice imap-login {\n  inet_listener imap {\n    port = 143\n",
            &["dovecot"],
            "dovecot.conf:",
        ),
        (
            "etc/nginx/nginx.conf",
            b"events {}\nhttp {\n  server {\n    listen 80;\n",
            &["nginx"],
            "nginx.conf:",
        ),
        (
            "etc/apache2/apache2.conf",
            b"Listen 192.0.2.10:80\n<VirtualHost 192.0.2.10:80>\n  ServerName a\n",
            &["apache", "--address", "2001:db8::10"],
            "apache2.conf:",
        ),
        (
            "etc/network/interfaces",
            b"auto eth0\niface eth0 inet\n",
            &[
                "interfaces",
                "--iface",
                "eth0",
                "--address",
                "2001:db8::c:1/64",
            ],
            "interfaces:2:",
        ),
    ];
    for (file, content, args, want) in cases {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        let before = read_tree(d.path());
        let o = v6fix(d.path(), args);
        assert_eq!(o.status.code(), Some(2), "{file}\n{}", show(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(want) && err.contains("expected"),
            "{file}: want {want}\n{err}"
        );
        assert_eq!(read_tree(d.path()), before, "{file}: written");
    }
}

fn owner_group_and_mode_survive_a_real_run() {
    let d = host_with(MAIN_CF);
    let f = d.path().join("etc/postfix/main.cf");
    std::os::unix::fs::chown(&f, Some(4321), Some(8765)).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = v6fix(d.path(), &["postfix", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let m = std::fs::metadata(&f).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (4321, 8765, 0o640));
}

fn symlinks_are_written_through_but_never_outside_the_root() {
    // Inside the root: the link stays a link, its target changes.
    let d = host_with(MAIN_CF);
    let etc = d.path().join("etc/postfix");
    std::fs::rename(etc.join("main.cf"), etc.join("main.cf.real")).unwrap();
    std::os::unix::fs::symlink("/etc/postfix/main.cf.real", etc.join("main.cf")).unwrap();
    let o = v6fix(d.path(), &["postfix", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(std::fs::symlink_metadata(etc.join("main.cf"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(etc.join("main.cf.real"))
        .unwrap()
        .contains("[2001:db8::]/64"));

    // Leaving the root: refused, and the file outside is untouched.
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("root");
    std::fs::create_dir_all(root.join("etc/postfix")).unwrap();
    std::fs::write(outer.path().join("outside.cf"), MAIN_CF).unwrap();
    std::os::unix::fs::symlink("../../../outside.cf", root.join("etc/postfix/main.cf")).unwrap();
    let o = v6fix(&root, &["postfix", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("outside --root"),
        "{}",
        show(&o)
    );
    assert_eq!(
        std::fs::read_to_string(outer.path().join("outside.cf")).unwrap(),
        MAIN_CF
    );
}

fn concurrent_runs_end_like_one_run() {
    let single = host_with(MAIN_CF);
    let o = v6fix(single.path(), &["postfix", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let want = main_cf(single.path());
    for _ in 0..10 {
        let d = host_with(MAIN_CF);
        let spawn = || {
            std::process::Command::new(support::bin())
                .arg("--root")
                .arg(d.path())
                .arg("--no-validate")
                .args(["postfix", "--network", "2001:db8::/64"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert_eq!(
            (a.status.code(), b.status.code()),
            (Some(0), Some(0)),
            "{}\n{}",
            show(&a),
            show(&b)
        );
        assert_eq!(main_cf(d.path()), want);
        let said_nothing = [&a, &b]
            .iter()
            .filter(|o| String::from_utf8_lossy(&o.stdout).contains("nothing to change"))
            .count();
        assert_eq!(
            said_nothing,
            1,
            "exactly one run changed the file\n{}\n{}",
            show(&a),
            show(&b)
        );
    }
}

fn no_colour_off_a_terminal_and_backups_keep_every_generation() {
    let d = host_with(MAIN_CF);
    let o = v6fix(
        d.path(),
        &["--backup", "postfix", "--network", "2001:db8::/64"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(!o.stdout.contains(&0x1b), "escape codes in piped output");
    let o = v6fix(
        d.path(),
        &["--backup", "postfix", "--network", "2001:db8:1::/64"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let backups: Vec<_> = std::fs::read_dir(d.path().join("var/backups/v6fix"))
        .unwrap()
        .collect();
    assert_eq!(backups.len(), 2);
    let first = backups
        .iter()
        .map(|e| {
            std::fs::read_to_string(e.as_ref().unwrap().path().join("etc/postfix/main.cf")).unwrap()
        })
        .any(|t| t == MAIN_CF);
    assert!(first, "the original is kept");
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        the_registry_holds_exactly_these_plugins,
        global_options_work_before_and_after_the_command,
        check_writes_nothing_and_exits_1_then_0_once_applied,
        json_is_exactly_one_object_with_the_documented_fields,
        json_comes_out_on_every_exit_path,
        json_names_files_relative_to_the_root,
        bad_arguments_exit_2_and_write_nothing,
        unreadable_input_exits_2_with_a_position_and_writes_nothing,
        owner_group_and_mode_survive_a_real_run,
        symlinks_are_written_through_but_never_outside_the_root,
        concurrent_runs_end_like_one_run,
        no_colour_off_a_terminal_and_backups_keep_every_generation,
    ]
}
