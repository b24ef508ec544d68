//! The negative corpus: inputs the daemon's own checker rejects, in
//! `testdata/negative/<plugin>/<name>/` (a tree under `etc/`). For each, the real checker
//! (`nginx -t`, `doveconf -n`, `named-checkconf`) must reject it, and v6fix must refuse it too (exit 2,
//! nothing written) at the line the checker names, with `path:line:col`. v6fix being
//! looser than the daemon — editing a file the daemon will not load — fails here.

use crate::bind9_daemon::checkconf;
use crate::dovecot_daemon::doveconf;
use crate::nginx_daemon::nginx_t;
use crate::support;
use std::path::{Path, PathBuf};

fn corpus(plugin: &str) -> Vec<PathBuf> {
    let dir = support::testdata().join("negative").join(plugin);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "{}: empty corpus", dir.display());
    v
}

/// The line number after `marker` in the checker's output (`…conf:5` or `line 9:`).
fn line_after(out: &str, marker: &str) -> Option<u32> {
    let at = out.find(marker)? + marker.len();
    let digits: String = out[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// v6fix refuses the tree at `line` of `file` (relative to the root), writing nothing.
fn v6fix_refuses(name: &str, tree: &Path, plugin: &str, file: &str, line: u32) {
    let before = support::read_tree(tree);
    let o = support::v6fix(tree, &[plugin]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{name}: v6fix\n{}",
        support::show(&o)
    );
    let want = format!("{}:{line}:", tree.join(file).display());
    assert!(
        err.contains(&want),
        "{name}: v6fix does not refuse at {want} where the checker does\n{err}"
    );
    let col = err[err.find(&want).unwrap() + want.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .count();
    assert!(col > 0, "{name}: no column in {err}");
    assert_eq!(before, support::read_tree(tree), "{name}: v6fix wrote");
}

fn nginx_and_v6fix_reject_the_nginx_corpus() -> support::Skippable {
    support::daemon("nginx")?;
    support::can_unshare()?;
    for case in corpus("nginx") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let tree = tempfile::tempdir().unwrap();
        support::copy_tree(&case, tree.path());
        let o = nginx_t(tree.path());
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(!o.status.success(), "{name}: nginx -t accepts it\n{out}");
        // `… in /etc/nginx/sites-enabled/shop:5`
        let (file, line) = out
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("/etc/nginx/"))
            .find_map(|w| {
                let (f, l) = w.rsplit_once(':')?;
                Some((format!("etc/nginx/{f}"), l.parse::<u32>().ok()?))
            })
            .unwrap_or_else(|| panic!("{name}: no file:line in nginx's output\n{out}"));
        v6fix_refuses(&name, tree.path(), "nginx", &file, line);
    }
    Ok(())
}

fn doveconf_and_v6fix_reject_the_dovecot_corpus() -> support::Skippable {
    support::daemon("doveconf")?;
    for case in corpus("dovecot") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let tree = tempfile::tempdir().unwrap();
        support::copy_tree(&case, tree.path());
        let conf = tree.path().join("etc/dovecot/dovecot.conf");
        let o = doveconf(&conf, &["-n"]);
        let out = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "{name}: doveconf -n accepts it\n{out}");
        let line = line_after(&out, " line ")
            .unwrap_or_else(|| panic!("{name}: no line in doveconf's output\n{out}"));
        v6fix_refuses(
            &name,
            tree.path(),
            "dovecot",
            "etc/dovecot/dovecot.conf",
            line,
        );
    }
    Ok(())
}

fn named_checkconf_and_v6fix_reject_the_bind9_corpus() -> support::Skippable {
    support::daemon("named-checkconf")?;
    support::can_unshare()?;
    for case in corpus("bind9") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let tree = tempfile::tempdir().unwrap();
        support::copy_tree(&case, tree.path());
        let o = checkconf(tree.path());
        // named-checkconf reports on stdout.
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            !o.status.success(),
            "{name}: named-checkconf accepts it\n{out}"
        );
        // `/etc/bind/named.conf:4: missing ';' before '}'`
        let (file, line) = out
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("/etc/bind/"))
            .find_map(|w| {
                let (f, l) = w.trim_end_matches(':').rsplit_once(':')?;
                Some((format!("etc/bind/{f}"), l.parse::<u32>().ok()?))
            })
            .unwrap_or_else(|| panic!("{name}: no file:line in named-checkconf's output\n{out}"));
        v6fix_refuses(&name, tree.path(), "bind9", &file, line);
    }
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        nginx_and_v6fix_reject_the_nginx_corpus,
        doveconf_and_v6fix_reject_the_dovecot_corpus,
        named_checkconf_and_v6fix_reject_the_bind9_corpus,
    ]
}
