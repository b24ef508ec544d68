//! Debian's own `pure-ftpd-wrapper` and the real `pure-ftpd` check what `v6fix pure-ftpd`
//! writes:
//! - a copy of the wrapper, its conf/ and auth/ paths redirected to a golden output tree,
//!   turns every output into flags (`--show-options`) without failing: `-H`, no `-4`, no
//!   `-4 -6`, and a Bind without brackets or wildcard; every input v6fix rejects as an
//!   invalid value or file name makes the wrapper fail too;
//! - pure-ftpd, started in a private network namespace with the flags of the converted
//!   sample host on a high port, greets over 127.0.0.1 and ::1 (and before the conversion
//!   only over 127.0.0.1).

use crate::support;
use std::path::Path;
use std::process::{Command, Output};

/// Runs a copy of the wrapper whose conf/ and auth/ are those under `root`.
pub(crate) fn show_options(wrapper: &Path, root: &Path) -> Output {
    let text = std::fs::read_to_string(wrapper).unwrap();
    let conf = root.join("etc/pure-ftpd/conf");
    let auth = root.join("etc/pure-ftpd/auth");
    std::fs::create_dir_all(&auth).unwrap();
    let copy = text
        .replace("/etc/pure-ftpd/conf", &conf.display().to_string())
        .replace("/etc/pure-ftpd/auth", &auth.display().to_string());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wrapper");
    std::fs::write(&path, copy).unwrap();
    Command::new("perl")
        .arg(&path)
        .arg("--show-options")
        .env_remove("STANDALONE_OR_INETD")
        .output()
        .expect("run perl")
}

fn flags(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn first_value(path: &Path) -> Option<String> {
    let t = std::fs::read_to_string(path).ok()?;
    t.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
}

fn the_wrapper_accepts_every_golden_output_and_rejects_the_bad_inputs() -> support::Skippable {
    let wrapper = support::daemon("pure-ftpd-wrapper")?;
    let mut checked = 0;
    for case in support::cases("pure-ftpd") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let args = std::fs::read_to_string(case.join("args")).unwrap();
        if args.split_whitespace().next() != Some("pure-ftpd") {
            continue; // `audit` cases: read-only
        }
        if !case.join("in/etc/pure-ftpd/conf").exists() {
            continue;
        }
        let code = std::fs::read_to_string(case.join("code")).unwrap_or_default();
        if code.trim() == "2" {
            let t = tempfile::tempdir().unwrap();
            support::copy_tree(&case.join("in"), t.path());
            let o = show_options(&wrapper, t.path());
            if name == "bad-bind-colon" {
                // The wrapper passes it on; pure-ftpd itself refuses it (see below).
                assert!(o.status.success(), "{name}\n{}", support::show(&o));
            } else {
                assert!(
                    !o.status.success(),
                    "{name}: v6fix rejects the input but the wrapper accepts it\n{}",
                    support::show(&o)
                );
            }
            checked += 1;
            continue;
        }
        let tree = support::expected_tree(&case);
        let o = show_options(&wrapper, tree.path());
        assert!(o.status.success(), "{name}\n{}", support::show(&o));
        let f = flags(&o);
        assert!(f.contains(&"-H".to_string()), "{name}: no -H in {f:?}");
        assert!(!f.contains(&"-4".to_string()), "{name}: -4 in {f:?}");
        if let Some(i) = f.iter().position(|x| x == "-S") {
            let bind = &f[i + 1];
            assert!(!bind.contains(['[', ']']), "{name}: bracketed Bind {bind}");
            assert!(
                !bind.starts_with("0.0.0.0,") && !bind.starts_with("::,"),
                "{name}: single-family wildcard Bind {bind}"
            );
            let file = first_value(&tree.path().join("etc/pure-ftpd/conf/Bind"));
            assert_eq!(Some(bind.clone()), file, "{name}");
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} cases checked");

    // The unconverted sample host: -4 and no -H, which is what the conversion fixes.
    let seed = support::testdata().join("cases/pure-ftpd/seed/in");
    let t = tempfile::tempdir().unwrap();
    support::copy_tree(&seed, t.path());
    let f = flags(&show_options(&wrapper, t.path()));
    assert!(
        f.contains(&"-4".to_string()) && !f.contains(&"-H".to_string()),
        "{f:?}"
    );
    Ok(())
}

const PORT: u16 = 2121;

/// Starts pure-ftpd with `args` in a new network namespace, waits until it listens (or
/// exits), and returns the first line read over 127.0.0.1 and over ::1 (empty if refused).
fn greetings(args: &[String]) -> (String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        r#"exec bash -c '
pure-ftpd {args} -g "{dir}/pid" </dev/null >"{dir}/out" 2>&1 &
pid=$!
for i in $(seq 1 200); do
  if [ -n "$(ss -ltnH "sport = :{PORT}")" ]; then break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
for a in 127.0.0.1 ::1; do
  g=$(timeout 5 bash -c "exec 3<>/dev/tcp/$a/{PORT}; head -n1 <&3" 2>/dev/null | tr -d "\r")
  echo "$a=$g"
done
kill $pid 2>/dev/null
wait $pid 2>/dev/null
cat "{dir}/out" >&2
true
'"#,
        args = quoted.join(" ").replace('\'', "'\\''"),
        dir = dir.path().display(),
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
    (
        get("127.0.0.1"),
        get("::1"),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The wrapper's flags for the tree at `root`, made fit for a test run: no alternative
/// log, no pid file of the machine's, and port 2121 unless Bind names one.
fn test_flags(wrapper: &Path, root: &Path) -> Vec<String> {
    let o = show_options(wrapper, root);
    assert!(o.status.success(), "{}", support::show(&o));
    let f = flags(&o);
    let mut out = Vec::new();
    let mut i = 0;
    while i < f.len() {
        if f[i] == "-O" || f[i] == "-g" {
            i += 2;
            continue;
        }
        out.push(f[i].clone());
        i += 1;
    }
    if !out.contains(&"-S".to_string()) {
        out.push("-S".into());
        out.push(format!(",{PORT}"));
    }
    out
}

fn converted_pure_ftpd_greets_over_ipv4_and_ipv6() -> support::Skippable {
    let wrapper = support::daemon("pure-ftpd-wrapper")?;
    support::daemon("pure-ftpd")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/pure-ftpd/seed");
    let before = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), before.path());
    let after = support::expected_tree(&case);

    let (v4, v6, log) = greetings(&test_flags(&wrapper, before.path()));
    assert!(
        v4.starts_with("220"),
        "unconverted over 127.0.0.1: {v4:?}\n{log}"
    );
    assert_eq!(
        v6, "",
        "unconverted (IPV4Only) must not answer over ::1\n{log}"
    );

    let (v4, v6, log) = greetings(&test_flags(&wrapper, after.path()));
    assert!(
        v4.starts_with("220"),
        "converted over 127.0.0.1: {v4:?}\n{log}"
    );
    assert!(v6.starts_with("220"), "converted over ::1: {v6:?}\n{log}");
    Ok(())
}

/// Bind values v6fix rewrites or rejects behave as it says when pure-ftpd runs them.
fn bind_values_behave_as_v6fix_says() -> support::Skippable {
    support::daemon("pure-ftpd")?;
    support::can_unshare()?;
    let run = |bind: &str| greetings(&["-H".into(), "-S".into(), bind.into()]);
    // The bracketed form v6fix rewrites never starts; what it writes serves both.
    let (v4, v6, _) = run(&format!("[::],{PORT}"));
    assert_eq!((v4.as_str(), v6.as_str()), ("", ""));
    let (v4, v6, log) = run(&format!(",{PORT}"));
    assert!(
        v4.starts_with("220") && v6.starts_with("220"),
        "{v4:?} {v6:?}\n{log}"
    );
    // `0.0.0.0` is IPv4 only (so v6fix drops it); `::1:2121` (bad-bind-colon) never starts.
    let (v4, v6, _) = run(&format!("0.0.0.0,{PORT}"));
    assert!(v4.starts_with("220") && v6.is_empty(), "{v4:?} {v6:?}");
    let (v4, v6, _) = run(&format!("::1:{PORT}"));
    assert_eq!((v4.as_str(), v6.as_str()), ("", ""));
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        the_wrapper_accepts_every_golden_output_and_rejects_the_bad_inputs,
        converted_pure_ftpd_greets_over_ipv4_and_ipv6,
        bind_values_behave_as_v6fix_says,
    ]
}
