//! Dovecot's own tools check what `v6fix dovecot` writes:
//! - `doveconf -n` accepts every golden output tree, and `doveconf -h listen` prints the
//!   effective value the case expects (`listen.expected`); inputs v6fix rejects as
//!   unparseable are rejected by doveconf too;
//! - a real Dovecot, started in a private network namespace on a high loopback port from a
//!   converted config, greets over 127.0.0.1 and ::1 (and the unconverted config does not).

use crate::support;
use std::path::Path;
use std::process::Command;

pub(crate) fn doveconf(conf: &Path, args: &[&str]) -> std::process::Output {
    Command::new("doveconf")
        .arg("-c")
        .arg(conf)
        .args(args)
        .output()
        .expect("run doveconf")
}

fn doveconf_accepts_every_golden_output_with_the_expected_listen() -> support::Skippable {
    support::daemon("doveconf")?;
    let mut checked = 0;
    for case in support::cases("dovecot") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let args = std::fs::read_to_string(case.join("args")).unwrap();
        if args.split_whitespace().next() != Some("dovecot") {
            continue; // `audit` cases: read-only
        }
        let code = std::fs::read_to_string(case.join("code")).unwrap_or_default();
        if !case.join("in/etc/dovecot/dovecot.conf").exists() {
            continue;
        }
        if code.trim() == "2" {
            // A parse error of v6fix's is one of Dovecot's too.
            let stderr = std::fs::read_to_string(case.join("stderr")).unwrap_or_default();
            if stderr.contains(": found ") {
                let t = tempfile::tempdir().unwrap();
                support::copy_tree(&case.join("in"), t.path());
                let o = doveconf(&t.path().join("etc/dovecot/dovecot.conf"), &["-n"]);
                assert!(
                    !o.status.success(),
                    "{name}: v6fix rejects the input but doveconf accepts it\n{}",
                    support::show(&o)
                );
                checked += 1;
            }
            continue;
        }
        let tree = support::expected_tree(&case);
        let conf = tree.path().join("etc/dovecot/dovecot.conf");
        let o = doveconf(&conf, &["-n"]);
        assert!(
            o.status.success(),
            "{name}: doveconf -n rejects the output\n{}",
            support::show(&o)
        );
        let o = doveconf(&conf, &["-h", "listen"]);
        assert!(o.status.success(), "{name}\n{}", support::show(&o));
        let got = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let want = std::fs::read_to_string(case.join("listen.expected"))
            .unwrap_or_else(|_| panic!("{name}: listen.expected is missing"));
        assert_eq!(got, want.trim(), "{name}: effective listen");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} cases checked");
    Ok(())
}

fn doveconf_accepts_the_dialect_fixtures() -> support::Skippable {
    support::daemon("doveconf")?;
    let dir = support::testdata().join("dovecot");
    for f in [
        "features.conf",
        "crlf-tabs-no-final-newline.conf",
        "debian/dovecot.conf",
    ] {
        let o = doveconf(&dir.join(f), &["-n"]);
        assert!(o.status.success(), "{f}\n{}", support::show(&o));
    }
    Ok(())
}

const PORT: u16 = 11143;

/// Settings that let a Dovecot run from a scratch directory, appended to a converted
/// config: later settings win and same-named sections merge, so only the imap port,
/// the runtime paths and the users change.
fn runtime(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "\n# test runtime\nbase_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
         protocols = imap\nssl = no\nmail_location = maildir:{d}/mail\n\
         passdb {{\n  driver = static\n  args = nopassword=y\n}}\n\
         userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={d}/mail\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    port = {PORT}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n"
    )
}

/// Starts `dovecot -F -c conf` in a new network namespace, waits until the port is bound,
/// and returns the greeting read over 127.0.0.1 and over ::1 (empty when refused).
fn greetings(dir: &Path, conf: &Path) -> (String, String) {
    for sub in ["run", "state", "mail"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let script = format!(
        r#"exec bash -c '
dovecot -F -c "{conf}" </dev/null >"{dir}/stdout" 2>&1 &
pid=$!
for i in $(seq 1 200); do
  if [ -n "$(ss -ltnH "sport = :{PORT}")" ]; then break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
ss -ltnH "sport = :{PORT}" >"{dir}/sockets"
for a in 127.0.0.1 ::1; do
  g=$(timeout 5 bash -c "exec 3<>/dev/tcp/$a/{PORT}; head -c 40 <&3" 2>/dev/null | tr -d "\r\n")
  echo "$a=$g"
done
kill $pid 2>/dev/null
wait $pid 2>/dev/null
true
'"#,
        conf = conf.display(),
        dir = dir.display(),
    );
    let o = support::in_namespace(&[], &script);
    assert!(o.status.success(), "{}", support::show(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let get = |a: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{a}=")))
            .unwrap_or("")
            .to_string()
    };
    (get("127.0.0.1"), get("::1"))
}

fn log(dir: &Path) -> String {
    let mut s = std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
    s.push_str(&std::fs::read_to_string(dir.join("stdout")).unwrap_or_default());
    s.push_str(&std::fs::read_to_string(dir.join("sockets")).unwrap_or_default());
    s
}

/// The story's `listen = [::]`: before the conversion only ::1 answers, after it both.
fn converted_dovecot_greets_over_ipv4_and_ipv6() -> support::Skippable {
    support::daemon("dovecot")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/dovecot/ipv6-only-brackets");
    let converted = support::expected_tree(&case);
    for (label, tree, want4) in [
        ("unconverted", case.join("in"), false),
        ("converted", converted.path().to_path_buf(), true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("dovecot.conf");
        let mut text = std::fs::read_to_string(tree.join("etc/dovecot/dovecot.conf")).unwrap();
        text.push_str(&runtime(dir.path()));
        std::fs::write(&conf, text).unwrap();
        let (v4, v6) = greetings(dir.path(), &conf);
        assert!(
            v6.starts_with("* OK"),
            "{label}: no greeting over ::1\n{}",
            log(dir.path())
        );
        if want4 {
            assert!(
                v4.starts_with("* OK"),
                "{label}: no greeting over 127.0.0.1\n{}",
                log(dir.path())
            );
        } else {
            assert_eq!(v4, "", "{label}: `listen = [::]` should be IPv6-only");
        }
    }
    Ok(())
}

/// An inet_listener bound to an IPv4 address gets its IPv6 twin from v6fix, and a real
/// Dovecot then answers on both.
fn converted_inet_listener_address_greets_over_both_loopbacks() -> support::Skippable {
    support::daemon("dovecot")?;
    support::can_unshare()?;
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/dovecot");
    std::fs::create_dir_all(&etc).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The runtime part comes first here, so that v6fix's edit of the listener is what
    // Dovecot uses.
    let text = format!(
        "{}service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n  }}\n}}\n",
        runtime(dir.path())
    );
    std::fs::write(etc.join("dovecot.conf"), &text).unwrap();
    let o = support::v6fix(root.path(), &["dovecot"]);
    assert_eq!(o.status.code(), Some(0), "{}", support::show(&o));
    let converted = std::fs::read_to_string(etc.join("dovecot.conf")).unwrap();
    assert!(
        converted.contains("address = 127.0.0.1, ::1"),
        "{converted}"
    );
    let (v4, v6) = greetings(dir.path(), &etc.join("dovecot.conf"));
    assert!(
        v4.starts_with("* OK"),
        "127.0.0.1: {v4:?}\n{}",
        log(dir.path())
    );
    assert!(v6.starts_with("* OK"), "::1: {v6:?}\n{}", log(dir.path()));
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        doveconf_accepts_every_golden_output_with_the_expected_listen,
        doveconf_accepts_the_dialect_fixtures,
        converted_dovecot_greets_over_ipv4_and_ipv6,
        converted_inet_listener_address_greets_over_both_loopbacks,
    ]
}
