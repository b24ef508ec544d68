//! nginx itself checks what `v6fix nginx` writes.
//!
//! - Every golden output tree is staged and checked with `nginx -t` inside private mount
//!   and network namespaces: the stage is bind-mounted over /etc/nginx (Debian's includes
//!   are absolute), /run, /var/log/nginx and /var/lib/nginx are private tmpfs mounts, and
//!   the IPv6 addresses the config names are added to `lo`, because `nginx -t` test-binds
//!   IPv6 listen addresses.
//! - A runtime test starts nginx on high ports in a network namespace, before and after
//!   conversion, and connects over 127.0.0.1 and ::1.

use crate::support;
use std::collections::BTreeSet;
use std::net::Ipv6Addr;
use std::path::Path;
use std::process::Output;

/// The IPv6 addresses (other than `::` and `::1`) written in brackets in the tree's files.
fn ipv6_in_tree(dir: &Path) -> BTreeSet<Ipv6Addr> {
    let mut out = BTreeSet::new();
    for (_, entry) in support::read_tree(dir) {
        let support::Entry::File(bytes) = entry else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        for part in text.split('[').skip(1) {
            if let Some((inside, _)) = part.split_once(']') {
                if let Ok(a) = inside.parse::<Ipv6Addr>() {
                    if !a.is_unspecified() && !a.is_loopback() {
                        out.insert(a);
                    }
                }
            }
        }
    }
    out
}

/// The specific IPv4 addresses on `listen` lines of the tree's files: `nginx -t` binds
/// those too.
fn ipv4_listens_in_tree(dir: &Path) -> BTreeSet<std::net::Ipv4Addr> {
    let mut out = BTreeSet::new();
    for (_, entry) in support::read_tree(dir) {
        let support::Entry::File(bytes) = entry else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines().filter(|l| l.contains("listen")) {
            for w in line.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
                if let Ok(a) = w.parse::<std::net::Ipv4Addr>() {
                    if !a.is_unspecified() && !a.is_loopback() {
                        out.insert(a);
                    }
                }
            }
        }
    }
    out
}

/// Runs `script` with the staged `etc/nginx` of `tree` in place of /etc/nginx.
fn staged(tree: &Path, script: &str) -> Output {
    let stage = tree.join("etc/nginx");
    let mut pre = String::from(
        "mount -t tmpfs none /run\nmount -t tmpfs none /var/log/nginx\nmount -t tmpfs none /var/lib/nginx\n",
    );
    for a in ipv6_in_tree(&stage) {
        pre.push_str(&format!("ip -6 addr add {a}/128 dev lo nodad\n"));
    }
    for a in ipv4_listens_in_tree(&stage) {
        pre.push_str(&format!("ip addr add {a}/32 dev lo\n"));
    }
    support::in_namespace(&[(&stage, "/etc/nginx")], &format!("{pre}{script}"))
}

pub(crate) fn nginx_t(tree: &Path) -> Output {
    staged(tree, "nginx -t 2>&1")
}

/// Cases whose input nginx rejects (a bracketed `allow` address, which v6fix repairs).
const BROKEN_INPUT: &[&str] = &["latin1-comment", "no-address", "shop"];

fn ok_cases() -> Vec<std::path::PathBuf> {
    support::cases("nginx")
        .into_iter()
        .filter(|c| !c.join("code").exists())
        .collect()
}

fn nginx_accepts_every_golden_output_tree() -> support::Skippable {
    support::daemon("nginx")?;
    support::can_unshare()?;
    let cases = ok_cases();
    assert!(cases.len() >= 5, "golden nginx cases: {cases:?}");
    for case in cases {
        let tree = support::expected_tree(&case);
        let o = nginx_t(tree.path());
        assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("test is successful"),
            "{}: nginx -t on the converted tree failed\n{}",
            case.display(),
            support::show(&o)
        );
        // The inputs are working configs, except where v6fix repairs a bracketed allow
        // address that nginx rejects.
        let before = tempfile::tempdir().unwrap();
        support::copy_tree(&case.join("in"), before.path());
        let o = nginx_t(before.path());
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        if BROKEN_INPUT.contains(&name.as_str()) {
            assert!(
                String::from_utf8_lossy(&o.stdout)
                    .contains("invalid parameter \"[2001:db8:ffff::]/48\""),
                "{name}: input tree\n{}",
                support::show(&o)
            );
        } else {
            assert!(
                o.status.success(),
                "{name}: input tree\n{}",
                support::show(&o)
            );
        }
    }
    Ok(())
}

fn a_second_default_server_would_have_been_rejected() -> support::Skippable {
    // The shop case leaves default_server out of a twin because another server already is
    // the default for [::]:8000; with it, nginx -t fails. This also proves the staged check
    // can fail.
    support::daemon("nginx")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/nginx/shop");
    let tree = support::expected_tree(&case);
    let api = tree.path().join("etc/nginx/conf.d/api.conf");
    let text = std::fs::read_to_string(&api).unwrap();
    assert!(text.contains("    listen [::]:8000;\n"), "{text}");
    std::fs::write(
        &api,
        text.replace(
            "    listen [::]:8000;\n",
            "    listen [::]:8000 default_server;\n",
        ),
    )
    .unwrap();
    let o = nginx_t(tree.path());
    assert!(!o.status.success(), "{}", support::show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("a duplicate default server for [::]:8000"),
        "{}",
        support::show(&o)
    );
    Ok(())
}

fn the_staged_check_needs_the_ipv6_address_in_the_namespace() -> support::Skippable {
    // nginx -t test-binds IPv6 listens: without the --address on lo it fails with
    // "Cannot assign requested address". The check above adds it; this shows why.
    support::daemon("nginx")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/nginx/shop");
    let tree = support::expected_tree(&case);
    let stage = tree.path().join("etc/nginx");
    let o = support::in_namespace(
        &[(&stage, "/etc/nginx")],
        "mount -t tmpfs none /run\nmount -t tmpfs none /var/log/nginx\nmount -t tmpfs none /var/lib/nginx\n\
         ip addr add 192.0.2.10/32 dev lo\nnginx -t 2>&1",
    );
    assert!(!o.status.success(), "{}", support::show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("[2001:db8::10]:8080"),
        "{}",
        support::show(&o)
    );
    Ok(())
}

/// Starts nginx from the staged tree, connects to each URL, stops nginx; returns
/// `url code` lines (code 000 when the connection was refused).
fn serve_and_probe(tree: &Path, urls: &[&str]) -> String {
    let mut script = String::from(
        "nginx -g 'daemon off;' &\npid=$!\n\
         i=0; while [ $i -lt 50 ] && ! curl -s -o /dev/null http://127.0.0.1:18080/; do sleep 0.1; i=$((i+1)); done\n",
    );
    for u in urls {
        script.push_str(&format!(
            "echo \"{u} $(curl -s -o /dev/null -m 3 -g -w '%{{http_code}}' '{u}' || true)\"\n"
        ));
    }
    script.push_str("kill $pid\nwait $pid || true\n");
    let o = staged(tree, &script);
    assert!(o.status.success(), "{}", support::show(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn converted_nginx_accepts_connections_on_both_loopbacks() -> support::Skippable {
    support::daemon("nginx")?;
    support::daemon("curl")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/nginx/runtime-high-ports");
    let urls = [
        "http://127.0.0.1:18080/",
        "http://[::1]:18080/",
        "http://127.0.0.1:18081/",
        "http://[::1]:18081/",
    ];
    // Before: `listen 18080` and `listen 127.0.0.1:18081` are IPv4 only.
    let before = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), before.path());
    let got = serve_and_probe(before.path(), &urls);
    assert!(got.contains("http://127.0.0.1:18080/ 200"), "{got}");
    assert!(got.contains("http://[::1]:18080/ 000"), "{got}");
    assert!(got.contains("http://[::1]:18081/ 000"), "{got}");

    // Convert with the binary, then serve again.
    let root = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), root.path());
    let o = support::v6fix(root.path(), &["nginx"]);
    assert!(o.status.success(), "{}", support::show(&o));
    let got = serve_and_probe(root.path(), &urls);
    for u in urls {
        assert!(got.contains(&format!("{u} 200")), "{u}\n{got}");
    }
    Ok(())
}

fn ipv6only_off_beside_the_ipv4_wildcard_passes_the_check_and_fails_to_start() -> support::Skippable
{
    // Why v6fix never writes ipv6only=off, and warns about it: nginx -t accepts the
    // ipv6only-off case, and nginx then cannot bind.
    support::daemon("nginx")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/nginx/ipv6only-off");
    let tree = support::expected_tree(&case);
    let o = nginx_t(tree.path());
    assert!(o.status.success(), "{}", support::show(&o));
    let o = staged(
        tree.path(),
        "if nginx -g 'daemon off;' 2>&1; then echo started; else echo \"exit $?\"; fi",
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("started"), "{out}");
    assert!(out.contains("failed (98: Address already in use)"), "{out}");
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        nginx_accepts_every_golden_output_tree,
        a_second_default_server_would_have_been_rejected,
        the_staged_check_needs_the_ipv6_address_in_the_namespace,
        converted_nginx_accepts_connections_on_both_loopbacks,
        ipv6only_off_beside_the_ipv4_wildcard_passes_the_check_and_fails_to_start,
    ]
}
