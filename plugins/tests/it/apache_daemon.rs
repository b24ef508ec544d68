//! Apache itself checks what `v6fix apache` writes.
//!
//! - Every golden output tree is staged and checked with `apache2 -t`, with the APACHE_*
//!   variables Debian's apache2.conf needs, inside a private mount namespace where the
//!   stage is bind-mounted over /etc/apache2 (a `ServerRoot "/etc/apache2"` line would
//!   otherwise read the live files) and /etc/ssl/{certs,private} hold a throwaway certificate for the
//!   sample host's TLS site.
//! - A runtime test starts Apache on high ports in a network namespace, with the Listen
//!   lines of a converted tree, and connects over IPv4 and IPv6 — including the port-only
//!   `Listen 18080` that v6fix leaves alone because it is one dual-stack socket already.
//! - The trap v6fix avoids: `Listen 18080` plus `Listen [::]:18080` passes `apache2 -t`
//!   and then fails to start.
//! - Every converted golden tree audits clean; the unconverted ones report their problems.

use crate::support;
use std::path::{Path, PathBuf};
use std::process::Output;
use v6fix_core::dialect::apache;

const MODULES: &str = "/usr/lib/apache2/modules";

fn ok_cases() -> Vec<PathBuf> {
    support::cases("apache")
        .into_iter()
        .filter(|c| !c.join("code").exists())
        .collect()
}

/// `apache2 -t` on the staged `etc/apache2` of `tree`.
pub(crate) fn apache_t(tree: &Path) -> Output {
    let stage = tree.join("etc/apache2");
    let vars = tempfile::tempdir().unwrap();
    let v = vars.path().display();
    for d in ["run", "lock", "log"] {
        std::fs::create_dir_all(vars.path().join(d)).unwrap();
    }
    let script = format!(
        "mount -t tmpfs none /run\n\
         mount -t tmpfs none /etc/ssl/certs\n\
         mount -t tmpfs none /etc/ssl/private\n\
         openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
           -subj /CN=shop.example.net -keyout /etc/ssl/private/ssl-cert-snakeoil.key \
           -out /etc/ssl/certs/ssl-cert-snakeoil.pem 2>/dev/null\n\
         env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin APACHE_RUN_USER=www-data \
           APACHE_RUN_GROUP=www-data APACHE_PID_FILE={v}/run/apache2.pid \
           APACHE_RUN_DIR={v}/run APACHE_LOCK_DIR={v}/lock APACHE_LOG_DIR={v}/log \
           apache2 -d /etc/apache2 -f apache2.conf -t 2>&1\n"
    );
    support::in_namespace(&[(&stage, "/etc/apache2")], &script)
}

fn apache_accepts_every_golden_output_tree() -> support::Skippable {
    support::daemon("apache2")?;
    support::daemon("openssl")?;
    support::can_unshare()?;
    let cases = ok_cases();
    assert!(cases.len() >= 5, "golden apache cases: {cases:?}");
    for case in cases {
        let tree = support::expected_tree(&case);
        let o = apache_t(tree.path());
        assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Syntax OK"),
            "{}: apache2 -t on the converted tree failed\n{}",
            case.display(),
            support::show(&o)
        );
        // The inputs are working configs too, except those that v6fix repairs: a bracketed
        // `Require ip` address, which Apache rejects.
        let before = tempfile::tempdir().unwrap();
        support::copy_tree(&case.join("in"), before.path());
        let o = apache_t(before.path());
        let out = String::from_utf8_lossy(&o.stdout);
        let repaired = [
            ("wildcard-v4", "'[2001:db8::7]' appears to be invalid"),
            (
                "bracketed-ipv4-acl",
                "'[192.0.2.0/24' appears to be invalid",
            ),
        ];
        if let Some((_, why)) = repaired.iter().find(|(name, _)| case.ends_with(name)) {
            assert!(
                !o.status.success() && out.contains(why),
                "{}: input tree\n{}",
                case.display(),
                support::show(&o)
            );
        } else {
            assert!(
                o.status.success() && out.contains("Syntax OK"),
                "{}: input tree\n{}",
                case.display(),
                support::show(&o)
            );
        }
    }
    Ok(())
}

fn the_staged_check_can_fail() -> support::Skippable {
    // A bracketed `Require ip` address, as v6fix must never write it: apache2 -t rejects it.
    support::daemon("apache2")?;
    support::daemon("openssl")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/apache/seed");
    let tree = support::expected_tree(&case);
    let site = tree
        .path()
        .join("etc/apache2/sites-available/shop-ssl.conf");
    let text = std::fs::read_to_string(&site).unwrap();
    assert!(text.contains(" 2001:db8::/64\n"), "{text}");
    std::fs::write(
        &site,
        text.replace(" 2001:db8::/64\n", " [2001:db8::]/64\n"),
    )
    .unwrap();
    let o = apache_t(tree.path());
    assert!(!o.status.success(), "{}", support::show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("appears to be invalid"),
        "{}",
        support::show(&o)
    );
    Ok(())
}

/// The Listen lines (as written, arguments joined) of every file in `dir`.
fn listen_lines(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (_, entry) in support::read_tree(dir) {
        let support::Entry::File(bytes) = entry else {
            continue;
        };
        let doc = apache::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
        for (_, it) in doc.directives("Listen") {
            let args: Vec<_> = doc.words(it).map(|a| a.text).collect();
            out.push(format!("Listen {}", args.join(" ")));
        }
    }
    out
}

/// A minimal server config in `dir` around `listens`.
fn minimal_config(dir: &Path, listens: &[String]) -> PathBuf {
    let d = dir.display();
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(dir.join("www/index.html"), "ok\n").unwrap();
    let conf = format!(
        "ServerName localhost\nPidFile {d}/httpd.pid\nErrorLog {d}/error.log\n\
         DefaultRuntimeDir {d}\nMutex file:{d}\n\
         LoadModule mpm_event_module {MODULES}/mod_mpm_event.so\n\
         LoadModule authz_core_module {MODULES}/mod_authz_core.so\n\
         DocumentRoot {d}/www\n<Directory {d}/www>\n    Require all granted\n</Directory>\n{}\n",
        listens.join("\n")
    );
    let path = dir.join("httpd.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

/// Starts Apache with `listens` in a fresh network namespace holding 192.0.2.10 and
/// 2001:db8::10 on `lo`, tries a TCP connection to each (host, port), stops Apache.
/// Returns one `host port ok|refused` line per probe.
fn serve_and_probe(listens: &[String], probes: &[(&str, u16)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let conf = minimal_config(dir.path(), listens);
    let (h0, p0) = probes[0];
    let mut script = format!(
        "ip addr add 192.0.2.10/32 dev lo\nip -6 addr add 2001:db8::10/128 dev lo nodad\n\
         apache2 -X -d {d} -f {c} &\npid=$!\n\
         i=0; while [ $i -lt 100 ] && ! bash -c 'exec 3<>/dev/tcp/{h0}/{p0}' 2>/dev/null; do sleep 0.1; i=$((i+1)); done\n",
        d = dir.path().display(),
        c = conf.display()
    );
    for (h, p) in probes {
        script.push_str(&format!(
            "if timeout 5 bash -c 'exec 3<>/dev/tcp/{h}/{p}' 2>/dev/null; then echo '{h} {p} ok'; else echo '{h} {p} refused'; fi\n"
        ));
    }
    script.push_str("kill $pid\nwait $pid || true\n");
    let o = support::in_namespace(&[], &script);
    assert!(o.status.success(), "{}", support::show(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const PROBES: &[(&str, u16)] = &[
    ("127.0.0.1", 18080),
    ("::1", 18080),
    ("127.0.0.1", 18081),
    ("::1", 18081),
    ("192.0.2.10", 18082),
    ("2001:db8::10", 18082),
    ("127.0.0.1", 18083),
    ("::1", 18083),
];

fn converted_listeners_accept_ipv4_and_ipv6_connections() -> support::Skippable {
    support::daemon("apache2")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/apache/high-ports");
    let after = support::expected_tree(&case);
    let listens = listen_lines(after.path());
    assert!(
        listens.contains(&"Listen 18080".to_string())
            && !listens.contains(&"Listen [::]:18080".to_string()),
        "Listen 18080 is left alone: {listens:?}"
    );
    let got = serve_and_probe(&listens, PROBES);
    let want: String = PROBES
        .iter()
        .map(|(h, p)| format!("{h} {p} ok\n"))
        .collect();
    assert_eq!(got, want, "after conversion, listens {listens:?}");

    // Before: only the port-only Listen 18080 took IPv6 connections.
    let before = listen_lines(&case.join("in"));
    let got = serve_and_probe(&before, PROBES);
    assert_eq!(
        got,
        "127.0.0.1 18080 ok\n::1 18080 ok\n127.0.0.1 18081 ok\n::1 18081 refused\n\
         192.0.2.10 18082 ok\n2001:db8::10 18082 refused\n127.0.0.1 18083 ok\n::1 18083 refused\n",
        "before conversion, listens {before:?}"
    );
    Ok(())
}

fn a_second_ipv6_wildcard_beside_a_port_only_listen_fails_to_start() -> support::Skippable {
    // What v6fix never writes: `apache2 -t` accepts it, the server then cannot bind.
    support::daemon("apache2")?;
    support::can_unshare()?;
    let dir = tempfile::tempdir().unwrap();
    let listens = ["Listen 18080".to_string(), "Listen [::]:18080".to_string()];
    let conf = minimal_config(dir.path(), &listens);
    let d = dir.path().display();
    let c = conf.display();
    let o = support::in_namespace(
        &[],
        &format!(
            "apache2 -d {d} -f {c} -t 2>&1\n\
             if timeout 20 apache2 -X -d {d} -f {c}; then echo started; else echo \"exit $?\"; fi\n\
             cat {d}/error.log\n"
        ),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Syntax OK"), "{}", support::show(&o));
    assert!(out.contains("exit 1"), "{}", support::show(&o));
    assert!(
        out.contains("Address already in use") && out.contains("[::]:18080"),
        "{}",
        support::show(&o)
    );
    Ok(())
}

fn converted_trees_audit_clean_and_unconverted_ones_do_not() {
    // The seed: each IPv4-only listener, with its fix.
    let found = support::audits_clean_after(
        "apache",
        &["seed", "high-ports", "wildcard-v4"],
        "etc/apache2/",
    );
    for want in [
        "Listen 192.0.2.10:443 accepts IPv4 clients only",
        "<VirtualHost 192.0.2.10:443> matches IPv4 clients only",
        "Require ip admits IPv4 networks only",
        "v6fix apache --address ADDR",
        "v6fix apache --network PREFIX",
        "ports.conf\",\"severity\":\"warning\"",
    ] {
        assert!(found.contains(want), "missing {want}: {found}");
    }
    // A debian default install is dual-stack already.
    let case = support::testdata().join("cases/apache/debian-default/in");
    assert!(support::serious_findings(&case, "etc/apache2/").is_empty());
}

fn a_graceful_reload_that_cannot_bind_a_new_listen_stops_apache() -> support::Skippable {
    // Why v6fix asks for a restart after Listen changes: a graceful reload binds new
    // Listen lines, but one that cannot be bound (its address not up yet) takes the
    // whole server down, while `systemctl reload` has already said it worked.
    support::daemon("apache2")?;
    support::can_unshare()?;
    let dir = tempfile::tempdir().unwrap();
    let conf = minimal_config(dir.path(), &["Listen 127.0.0.1:18080".to_string()]);
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, format!("User nobody\nGroup nogroup\n{text}")).unwrap();
    let d = dir.path().display();
    let c = conf.display();
    let up = "bash -c 'exec 3<>/dev/tcp/127.0.0.1/18080' 2>/dev/null";
    let o = support::in_namespace(
        &[],
        &format!(
            "apache2 -d {d} -f {c} -k start\n\
             i=0; while [ $i -lt 100 ] && ! {up}; do sleep 0.1; i=$((i+1)); done\n\
             if {up}; then echo 'before: up'; fi\n\
             i=0; while [ $i -lt 100 ] && [ ! -s {d}/httpd.pid ]; do sleep 0.1; i=$((i+1)); done\n\
             pid=$(cat {d}/httpd.pid)\n\
             echo 'Listen [2001:db8::10]:18081' >> {c}\n\
             kill -USR1 $pid\n\
             i=0; while [ $i -lt 100 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i+1)); done\n\
             if kill -0 $pid 2>/dev/null; then echo 'after: running'; kill $pid; else echo 'after: gone'; fi\n\
             if {up}; then echo 'after: up'; else echo 'after: refused'; fi\n\
             cat {d}/error.log\n"
        ),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("before: up\nafter: gone\nafter: refused\n"),
        "{}",
        support::show(&o)
    );
    assert!(
        out.contains("no listening sockets available, shutting down"),
        "{}",
        support::show(&o)
    );
    Ok(())
}

fn the_files_are_the_ones_apache_reads() {
    // Includes relative to ServerRoot; sites-enabled only through `*.conf`, so the
    // `.bak` link is not read (nor changed by the golden case).
    let root = support::testdata().join("cases/apache/wildcard-v4/in");
    let o = support::v6fix(&root, &["--json", "list"]);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", support::show(&o)));
    let apache = v["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "apache")
        .unwrap();
    assert_eq!(
        apache["files"],
        serde_json::json!([
            "etc/apache2/apache2.conf",
            "etc/apache2/ports.conf",
            "etc/apache2/sites-enabled/www.conf"
        ])
    );
    assert_eq!(apache["status"], "needs conversion (6 findings)");
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        apache_accepts_every_golden_output_tree,
        the_staged_check_can_fail,
        converted_listeners_accept_ipv4_and_ipv6_connections,
        a_second_ipv6_wildcard_beside_a_port_only_listen_fails_to_start,
        converted_trees_audit_clean_and_unconverted_ones_do_not,
        a_graceful_reload_that_cannot_bind_a_new_listen_stops_apache,
        the_files_are_the_ones_apache_reads,
    ]
}
