//! The negative corpus: inputs the daemon's own checker rejects, in
//! `testdata/negative/<plugin>/<name>/` (a tree under `etc/`). For each, the real checker
//! (`nginx -t`, `doveconf -n`, `sshd -t`, `apache2 -t`, `varnishd -C`, `postconf -n`/`-M`
//! and `postfix check`, `ifup --no-act`, `pure-ftpd-wrapper`, `named-checkconf`) must reject
//! it, and v6fix must refuse it too (exit 2, nothing written) at the line the checker names,
//! with `path:line:col`. v6fix being looser than the daemon — editing a file the daemon will
//! not load — fails here. resolv.conf has no checker: there the real glibc reads each
//! mangled file, and v6fix must agree with it on the nameservers used. What each dialect
//! models, and what it leaves to the checker, is in `testdata/negative/README.md`.

use crate::apache_daemon::apache_t;
use crate::bind9_daemon::checkconf;
use crate::dovecot_daemon::doveconf;
use crate::nginx_daemon::nginx_t;
use crate::sshd_daemon::sshd_t;
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
    v6fix_refuses_with(name, tree, &[plugin], file, line);
}

/// [`v6fix_refuses`] with the command line `args`.
fn v6fix_refuses_with(name: &str, tree: &Path, args: &[&str], file: &str, line: u32) {
    let before = support::read_tree(tree);
    let o = support::v6fix(tree, args);
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

/// A copy of `case` in a fresh directory, and the case's name.
fn staged(case: &Path) -> (String, tempfile::TempDir) {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let tree = tempfile::tempdir().unwrap();
    support::copy_tree(case, tree.path());
    (name, tree)
}

/// The last `line N of /etc/apache2/FILE` in Apache's output: the innermost file.
fn apache_line(out: &str) -> Option<(String, u32)> {
    let at = out.rfind(" of /etc/apache2/")?;
    let file = out[at + 4..].split([':', '\n', ' ']).next()?;
    let line = out[..at].rsplit(' ').next()?.parse().ok()?;
    Some((file.trim_start_matches('/').to_string(), line))
}

fn sshd_and_v6fix_reject_the_sshd_corpus() -> support::Skippable {
    support::daemon("sshd")?;
    support::can_unshare()?;
    for case in corpus("sshd") {
        let (name, tree) = staged(&case);
        let o = sshd_t(tree.path());
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(!o.status.success(), "{name}: sshd -t accepts it\n{out}");
        let line = line_after(&out, "sshd_config line ")
            .unwrap_or_else(|| panic!("{name}: no line in sshd's output\n{out}"));
        v6fix_refuses_with(
            &name,
            tree.path(),
            &["sshd", "--address", "2001:db8::10"],
            "etc/ssh/sshd_config",
            line,
        );
    }
    Ok(())
}

fn apache_and_v6fix_reject_the_apache_corpus() -> support::Skippable {
    support::daemon("apache2")?;
    support::daemon("openssl")?;
    support::can_unshare()?;
    for case in corpus("apache") {
        let (name, tree) = staged(&case);
        let o = apache_t(tree.path());
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(!o.status.success(), "{name}: apache2 -t accepts it\n{out}");
        let (file, line) = apache_line(&out)
            .unwrap_or_else(|| panic!("{name}: no line in Apache's output\n{out}"));
        v6fix_refuses_with(
            &name,
            tree.path(),
            &["apache", "--address", "2001:db8::10"],
            &file,
            line,
        );
    }
    Ok(())
}

/// `varnishd -C` on the tree's default.vcl (its includes read from the tree), with a
/// private working directory.
fn varnishd_c(tree: &Path) -> std::process::Output {
    let work = tempfile::tempdir().unwrap();
    let vcl = tree.join("etc/varnish");
    std::process::Command::new("varnishd")
        .arg("-C")
        .arg("-n")
        .arg(work.path().join("varnish"))
        .arg("-p")
        .arg(format!("vcl_path={}:/usr/share/varnish/vcl", vcl.display()))
        .arg("-f")
        .arg(vcl.join("default.vcl"))
        .output()
        .expect("run varnishd")
}

fn varnishd_and_v6fix_reject_the_varnish_corpus() -> support::Skippable {
    support::daemon("varnishd")?;
    for case in corpus("varnish") {
        let (name, tree) = staged(&case);
        let o = varnishd_c(tree.path());
        let out = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "{name}: varnishd -C accepts it\n{out}");
        // `('/…/etc/varnish/default.vcl' Line 13 Pos 5)`
        let line = line_after(&out, "default.vcl' Line ")
            .unwrap_or_else(|| panic!("{name}: no line in varnishd's output\n{out}"));
        v6fix_refuses_with(
            &name,
            tree.path(),
            &[
                "varnish",
                "--address",
                "2001:db8::10",
                "--network",
                "2001:db8::/64",
            ],
            "etc/varnish/default.vcl",
            line,
        );
    }
    Ok(())
}

/// What Postfix's checkers say about the tree: `postconf -n`, `postconf -M`, then
/// `postfix check` (on a terminal, where it prints its fatal errors instead of logging
/// them). `None` when all accept it.
fn postfix_checks(tree: &Path) -> Option<String> {
    let dir = tree.join("etc/postfix");
    for args in [&["-n"][..], &["-M"]] {
        let o = std::process::Command::new("postconf")
            .arg("-c")
            .arg(&dir)
            .args(args)
            .output()
            .expect("run postconf");
        if !o.status.success() {
            return Some(String::from_utf8_lossy(&o.stderr).into_owned());
        }
    }
    let o = std::process::Command::new("script")
        .args(["-qec"])
        .arg(format!("postfix -c '{}' check", dir.display()))
        .arg("/dev/null")
        .output()
        .expect("run script");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    (!o.status.success() || out.contains("fatal:")).then_some(out)
}

/// The file and line a Postfix error names: `main.cf, line 6` or `master.cf: line 7`, or
/// the line holding the text it quotes (`invalid type field "inex" in "127.0.0.1:10025
/// inex …"`, `unknown inet_protocols value "IPv4" in "IPv4"`).
fn postfix_line(tree: &Path, out: &str) -> Option<(String, u32)> {
    for (file, marker) in [
        ("main.cf", "main.cf, line "),
        ("master.cf", "master.cf: line "),
    ] {
        if let Some(line) = line_after(out, marker) {
            return Some((format!("etc/postfix/{file}"), line));
        }
    }
    let file = if out.contains("inet_protocols") {
        "main.cf"
    } else {
        "master.cf"
    };
    let quoted = out.split("\" in \"").nth(1)?;
    let quoted: String = quoted.chars().take_while(|&c| c != '"').take(30).collect();
    let text = std::fs::read_to_string(tree.join("etc/postfix").join(file)).ok()?;
    let at = text.lines().position(|l| l.contains(quoted.trim()))?;
    Some((format!("etc/postfix/{file}"), u32::try_from(at).ok()? + 1))
}

fn postfix_and_v6fix_reject_the_postfix_corpus() -> support::Skippable {
    support::daemon("postconf")?;
    support::daemon("postfix")?;
    support::daemon("script")?;
    for case in corpus("postfix") {
        let (name, tree) = staged(&case);
        let out = postfix_checks(tree.path())
            .unwrap_or_else(|| panic!("{name}: postconf and postfix check accept it"));
        let (file, line) = postfix_line(tree.path(), &out)
            .unwrap_or_else(|| panic!("{name}: no line in Postfix's output\n{out}"));
        v6fix_refuses_with(
            &name,
            tree.path(),
            &["postfix", "--network", "2001:db8::/64"],
            &file,
            line,
        );
    }
    Ok(())
}

fn ifup_and_v6fix_reject_the_interfaces_corpus() -> support::Skippable {
    support::daemon("ifup")?;
    support::can_unshare()?;
    for case in corpus("interfaces") {
        let (name, tree) = staged(&case);
        let net = tree.path().join("etc/network");
        std::fs::create_dir_all(net.join("interfaces.d")).unwrap();
        let state = tempfile::tempdir().unwrap();
        let script = format!(
            "ifup --no-act --no-mappings --no-scripts -a -i /etc/network/interfaces \
             --state-dir='{}' 2>&1 >/dev/null",
            state.path().display()
        );
        let o = support::in_namespace(&[(net.as_path(), "/etc/network")], &script);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            !o.status.success(),
            "{name}: ifup --no-act accepts it\n{out}"
        );
        // `ifup: /etc/network/interfaces:8: misplaced option`
        let line = line_after(&out, "/etc/network/interfaces:")
            .unwrap_or_else(|| panic!("{name}: no line in ifup's output\n{out}"));
        std::fs::remove_dir(net.join("interfaces.d")).unwrap();
        v6fix_refuses_with(
            &name,
            tree.path(),
            &[
                "interfaces",
                "--address",
                "2001:db8::10/64",
                "--gateway",
                "2001:db8::1",
            ],
            "etc/network/interfaces",
            line,
        );
    }
    Ok(())
}

fn the_wrapper_and_v6fix_reject_the_pureftpd_corpus() -> support::Skippable {
    let wrapper = support::daemon("pure-ftpd-wrapper")?;
    support::daemon("perl")?;
    for case in corpus("pure-ftpd") {
        let (name, tree) = staged(&case);
        let o = crate::pureftpd_daemon::show_options(&wrapper, tree.path());
        let out = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "{name}: the wrapper accepts it\n{out}");
        // `Invalid configuration file /…/conf/IPV4Only: "maybe" not convertible …`
        let conf = tree.path().join("etc/pure-ftpd/conf");
        let (file, value) = out
            .split_once(&format!("{}/", conf.display()))
            .and_then(|(_, rest)| {
                let (file, rest) = rest.split_once(": \"")?;
                Some((file.to_string(), rest.split_once('"')?.0.to_string()))
            })
            .unwrap_or_else(|| panic!("{name}: no file and value in the wrapper's output\n{out}"));
        // The wrapper names the value; its line is where the file holds it.
        let text = std::fs::read_to_string(conf.join(&file)).unwrap();
        let line = text
            .lines()
            .position(|l| l.trim() == value)
            .unwrap_or_else(|| panic!("{name}: `{value}` is not a line of {file}"));
        v6fix_refuses_with(
            &name,
            tree.path(),
            &["pure-ftpd", "--address", "2001:db8::21"],
            &format!("etc/pure-ftpd/conf/{file}"),
            u32::try_from(line).unwrap() + 1,
        );
    }
    Ok(())
}

/// A program that prints the nameservers glibc's stub resolver uses after `res_init`,
/// one per line, in order (an IPv6 one with `%scope-id` when it has one).
const GLIBC_NAMESERVERS: &str = r#"
#include <arpa/inet.h>
#include <resolv.h>
#include <stdio.h>
int main(void) {
    if (res_init() != 0) return 1;
    for (int i = 0; i < _res.nscount; i++) {
        char buf[INET6_ADDRSTRLEN];
        struct sockaddr_in6 *six = _res._u._ext.nsaddrs[i];
        if (six != NULL && six->sin6_family == AF_INET6)
            printf("%s\n", inet_ntop(AF_INET6, &six->sin6_addr, buf, sizeof buf));
        else
            printf("%s\n", inet_ntop(AF_INET, &_res.nsaddr_list[i].sin_addr, buf, sizeof buf));
    }
    return 0;
}
"#;

/// The nameservers glibc uses with `conf` as /etc/resolv.conf (`prog`: the compiled
/// [`GLIBC_NAMESERVERS`]).
fn glibc_nameservers(prog: &Path, conf: &Path) -> Vec<String> {
    let o = support::in_namespace(&[(conf, "/etc/resolv.conf")], &prog.display().to_string());
    assert!(o.status.success(), "{}", support::show(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// resolv.conf has no checker, and glibc never rejects one: it skips what it cannot read.
/// So v6fix never refuses a resolv.conf either; what it must get right is which lines
/// glibc uses. For each mangled file, the nameservers v6fix's dialect says glibc uses are
/// the ones the real glibc uses, and after `v6fix resolv` the new server is among them.
fn glibc_reads_the_resolv_corpus_as_v6fix_does() -> support::Skippable {
    support::daemon("cc")?;
    support::can_unshare()?;
    let build = tempfile::tempdir().unwrap();
    let src = build.path().join("ns.c");
    let prog = build.path().join("ns");
    std::fs::write(&src, GLIBC_NAMESERVERS).unwrap();
    let o = std::process::Command::new("cc")
        .arg("-o")
        .arg(&prog)
        .arg(&src)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", support::show(&o));
    for case in corpus("resolv") {
        let (name, tree) = staged(&case);
        let conf = tree.path().join("etc/resolv.conf");
        let text = std::fs::read_to_string(&conf).unwrap();
        let doc = v6fix_core::dialect::resolv::parse(&text).unwrap();
        let v6fix: Vec<String> = doc
            .nameservers()
            .iter()
            .filter(|n| {
                n.slot
                    .is_some_and(|s| s < v6fix_core::dialect::resolv::MAXNS)
            })
            .filter_map(|n| n.addr().map(|(ip, _)| ip.to_string()))
            .collect();
        assert_eq!(
            glibc_nameservers(&prog, &conf),
            v6fix,
            "{name}: glibc and v6fix read different nameservers"
        );
        let o = support::v6fix(tree.path(), &["resolv", "--nameserver", "2001:db8::53"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", support::show(&o));
        assert!(
            glibc_nameservers(&prog, &conf).contains(&"2001:db8::53".to_string()),
            "{name}: glibc does not use the nameserver v6fix added\n{}",
            std::fs::read_to_string(&conf).unwrap()
        );
    }
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        nginx_and_v6fix_reject_the_nginx_corpus,
        doveconf_and_v6fix_reject_the_dovecot_corpus,
        named_checkconf_and_v6fix_reject_the_bind9_corpus,
        sshd_and_v6fix_reject_the_sshd_corpus,
        apache_and_v6fix_reject_the_apache_corpus,
        varnishd_and_v6fix_reject_the_varnish_corpus,
        postfix_and_v6fix_reject_the_postfix_corpus,
        ifup_and_v6fix_reject_the_interfaces_corpus,
        the_wrapper_and_v6fix_reject_the_pureftpd_corpus,
        glibc_reads_the_resolv_corpus_as_v6fix_does,
    ]
}
