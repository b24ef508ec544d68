//! The real HAProxy checks what `v6fix haproxy` writes:
//! - `haproxy -c` accepts every golden output (staged over `/etc/haproxy` in a private
//!   mount namespace, with a throwaway certificate where a bind names one) and rejects
//!   every input v6fix refuses as malformed;
//! - haproxy, started on converted outputs in a private network namespace whose loopback
//!   also holds 192.0.2.10 and 2001:db8::10, accepts connections on IPv4 and IPv6 where the
//!   input accepted them on IPv4 only: `bind :::80 v4v6` serves both families, the added
//!   twins bind, and nothing collides.

use crate::support;
use std::path::Path;
use std::process::Command;

/// Inputs v6fix refuses that HAProxy itself accepts: v6fix's own limits, not the daemon's.
const REFUSED_BY_V6FIX_ONLY: &[&str] = &["bad-conditional"];

/// A copy of a tree's /etc/haproxy with a self-signed certificate at every `crt` path, and
/// the package's error pages (which Debian's default config names) when the tree has none.
fn staged(root: &Path) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    support::copy_tree(&root.join("etc/haproxy"), t.path());
    let errors = Path::new("/etc/haproxy/errors");
    if !t.path().join("errors").exists() && errors.is_dir() {
        support::copy_tree(errors, &t.path().join("errors"));
    }
    let cfg = std::fs::read_to_string(t.path().join("haproxy.cfg")).unwrap();
    for path in cfg
        .split_whitespace()
        .zip(cfg.split_whitespace().skip(1))
        .filter(|(k, _)| *k == "crt")
        .map(|(_, p)| p)
    {
        let rel = path
            .strip_prefix("/etc/haproxy/")
            .expect("certificates under /etc/haproxy");
        let pem = t.path().join(rel);
        let key = t.path().join("key.tmp");
        let o = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args(["-nodes", "-days", "2", "-subj", "/CN=v6fix.test", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&pem)
            .output()
            .expect("run openssl");
        assert!(o.status.success(), "{}", support::show(&o));
        let mut both = std::fs::read(&pem).unwrap();
        both.extend(std::fs::read(&key).unwrap());
        std::fs::write(&pem, both).unwrap();
        std::fs::remove_file(&key).unwrap();
    }
    t
}

/// `haproxy -c` on the tree's config, read where it lives (`/etc/haproxy`).
fn check(root: &Path) -> std::process::Output {
    let st = staged(root);
    support::in_namespace(
        &[(st.path(), "/etc/haproxy")],
        "exec haproxy -c -q -f /etc/haproxy/haproxy.cfg",
    )
}

fn haproxy_c_accepts_every_golden_output_and_rejects_the_bad_inputs() -> support::Skippable {
    support::daemon("haproxy")?;
    support::can_unshare()?;
    let mut checked = 0;
    for case in support::cases("haproxy") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        if !case.join("in/etc/haproxy/haproxy.cfg").exists() {
            continue;
        }
        let code = std::fs::read_to_string(case.join("code")).unwrap_or_default();
        if code.trim() == "2" {
            let o = check(&case.join("in"));
            if REFUSED_BY_V6FIX_ONLY.contains(&name.as_str()) {
                assert!(o.status.success(), "{name}\n{}", support::show(&o));
            } else {
                assert!(
                    !o.status.success(),
                    "{name}: v6fix refuses it but haproxy -c accepts it"
                );
            }
        } else {
            let tree = support::expected_tree(&case);
            let o = check(tree.path());
            assert!(o.status.success(), "{name}\n{}", support::show(&o));
        }
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} cases checked");
    Ok(())
}

/// The addresses each started case is probed on, and where it accepts before and after.
const STARTS: &[(&str, &[&str], &[&str])] = &[
    (
        "seed",
        &[
            "127.0.0.1:80",
            "::1:80",
            "127.0.0.1:443",
            "::1:443",
            "127.0.0.1:8404",
            "::1:8404",
        ],
        &["127.0.0.1:80", "127.0.0.1:443", "127.0.0.1:8404"],
    ),
    (
        "address-list",
        &[
            "127.0.0.1:80",
            "::1:80",
            "192.0.2.10:81",
            "2001:db8::10:81",
            "127.0.0.1:82",
            "::1:82",
        ],
        &["127.0.0.1:80", "192.0.2.10:81", "127.0.0.1:82"],
    ),
    (
        "ipv4-forced",
        &["127.0.0.1:80", "::1:80"],
        &["127.0.0.1:80"],
    ),
    (
        "specific-ipv4",
        &[
            "192.0.2.10:80",
            "2001:db8::10:80",
            "192.0.2.10:8443",
            "2001:db8::10:8443",
        ],
        &["192.0.2.10:80", "192.0.2.10:8443"],
    ),
];

/// Every probe's verdict: the `addr:port` that accept a connection.
fn accepting(root: &Path, probes: &[&str]) -> (Vec<String>, String) {
    let st = staged(root);
    let mut script = String::from(
        "ip addr add 192.0.2.10/32 dev lo\nip addr add 2001:db8::10/128 dev lo nodad\n\
         haproxy -db -f /etc/haproxy/haproxy.cfg </dev/null >/tmp/haproxy.log 2>&1 &\npid=$!\n\
         for i in $(seq 1 100); do\n\
           [ -n \"$(ss -ltnH)\" ] && break\n\
           kill -0 $pid 2>/dev/null || break\n\
           sleep 0.05\n\
         done\nsleep 0.2\n",
    );
    for p in probes {
        let (a, port) = p.rsplit_once(':').unwrap();
        script.push_str(&format!(
            "if timeout 3 bash -c 'exec 3<>/dev/tcp/{a}/{port}' 2>/dev/null; then echo 'open {p}'; fi\n"
        ));
    }
    script.push_str(
        "kill $pid 2>/dev/null || true\nwait $pid 2>/dev/null || true\ncat /tmp/haproxy.log >&2\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    let o = support::in_namespace(
        &[(st.path(), "/etc/haproxy"), (tmp.path(), "/tmp")],
        &script,
    );
    assert!(o.status.success(), "{}", support::show(&o));
    let open = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("open "))
        .map(str::to_string)
        .collect();
    (open, String::from_utf8_lossy(&o.stderr).into_owned())
}

fn converted_haproxy_accepts_ipv4_and_ipv6() -> support::Skippable {
    support::daemon("haproxy")?;
    support::can_unshare()?;
    for (name, probes, before) in STARTS {
        let case = support::testdata().join("cases/haproxy").join(name);
        let (open, log) = accepting(&case.join("in"), probes);
        assert_eq!(open, *before, "{name}: the input accepts on\n{log}");
        let tree = support::expected_tree(&case);
        let (open, log) = accepting(tree.path(), probes);
        assert_eq!(open, *probes, "{name}: the output accepts on\n{log}");
    }
    Ok(())
}

/// A run validates with `haproxy -c` before writing: a converted config passes and is
/// written; one HAProxy rejects for an unrelated reason is not, and the checker's words
/// say it failed before the change too.
fn a_run_checks_with_haproxy_c_before_writing() -> support::Skippable {
    support::daemon("haproxy")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/haproxy/address-list");
    let t = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), t.path());
    let args = ["--json", "haproxy", "--address", "2001:db8::10"];
    let o = support::v6fix_validating(t.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", support::show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("haproxy -c -f /etc/haproxy/haproxy.cfg"),
        "{out}"
    );
    assert_eq!(
        support::read_tree(&t.path().join("etc")),
        support::read_tree(&support::expected_tree(&case).path().join("etc"))
    );

    let cfg = t.path().join("etc/haproxy/haproxy.cfg");
    std::fs::write(&cfg, "frontend www\n\tbind :80\n\tno_such_keyword 1\n").unwrap();
    let o = support::v6fix_validating(t.path(), &["haproxy"]);
    assert_eq!(o.status.code(), Some(2), "{}", support::show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("it already failed before the change") && err.contains("no_such_keyword"),
        "{err}"
    );
    assert!(std::fs::read_to_string(&cfg)
        .unwrap()
        .contains("bind :80\n"));
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        a_run_checks_with_haproxy_c_before_writing,
        haproxy_c_accepts_every_golden_output_and_rejects_the_bad_inputs,
        converted_haproxy_accepts_ipv4_and_ipv6,
    ]
}
