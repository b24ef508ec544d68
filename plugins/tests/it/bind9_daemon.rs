//! BIND itself checks what `v6fix bind9` writes.
//!
//! - `named-checkconf` reads every golden input and output tree inside a private mount
//!   namespace where the tree's etc/bind is bind-mounted over /etc/bind (Debian's includes
//!   are absolute): the inputs and outputs of the good cases pass, the bad inputs fail, as
//!   v6fix refuses them.
//! - A runtime test starts named in a network namespace on addresses of that namespace,
//!   with the `site` case's configuration and a throwaway /var/cache/bind and /run. A
//!   client in the site network (2001:db8::5) gets no answer over IPv6 before the
//!   conversion, is refused after a conversion with `--address` alone (named listens, the
//!   acls still admit IPv4 networks only), and after the full conversion and `rndc
//!   reconfig` (the command v6fix reports) the same query is answered (recursion
//!   available), while a client outside the site network (3fff::5) is refused, and its
//!   recursive query gets no recursion.

use crate::support;
use std::path::{Path, PathBuf};
use std::process::Output;

fn cases(ok: bool) -> Vec<PathBuf> {
    support::cases("bind9")
        .into_iter()
        .filter(|c| c.join("code").exists() != ok)
        .collect()
}

/// `named-checkconf /etc/bind/named.conf` with the tree's etc/bind in place.
pub(crate) fn checkconf(tree: &Path) -> Output {
    let stage = tree.join("etc/bind");
    support::in_namespace(
        &[(&stage, "/etc/bind")],
        "named-checkconf /etc/bind/named.conf",
    )
}

fn named_checkconf_accepts_every_golden_tree_and_rejects_the_bad_ones() -> support::Skippable {
    support::daemon("named-checkconf")?;
    support::can_unshare()?;
    let good = cases(true);
    assert!(good.len() >= 2, "golden bind9 cases: {good:?}");
    for case in good {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let o = checkconf(&case.join("in"));
        assert!(o.status.success(), "{name}: input\n{}", support::show(&o));
        let tree = support::expected_tree(&case);
        let o = checkconf(tree.path());
        assert!(o.status.success(), "{name}: output\n{}", support::show(&o));
    }
    let bad = cases(false);
    assert!(bad.len() >= 2, "bad bind9 cases: {bad:?}");
    for case in bad {
        let o = checkconf(&case.join("in"));
        assert!(
            !o.status.success(),
            "{}: named-checkconf accepts it\n{}",
            case.display(),
            support::show(&o)
        );
    }
    Ok(())
}

/// The script run in the namespace: named on the `before` configuration, queried; then
/// the `listen` configuration (converted with `--address` alone) put in place and `rndc
/// reconfig`, queried; then the `after` one (`--address` and `--network`), queried again. Each query
/// prints `LABEL STATUS RA FIRST-ANSWER`: `none -` when no server answered, `no-ra` when
/// the answer says recursion is not available to this client.
const LIVE: &str = r#"
mount -t tmpfs none /run
mkdir -p /run/named
mount -t tmpfs none /var/cache/bind
ip addr add 192.0.2.53/24 dev lo
for a in 2001:db8::53/64 2001:db8::5/128 3fff::5/128; do ip -6 addr add $a dev lo nodad; done
mount --bind "$BEFORE" /etc/bind
named -g -c /etc/bind/named.conf >"$W/log" 2>&1 &
P=$!
i=0
until rndc status >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "named did not start"; cat "$W/log"; kill $P; exit 1; }
  sleep 0.1
done
q() {
  label=$1; shift
  out=$(dig +tries=1 +time=2 "$@" 2>&1 || true)
  s=$(printf '%s\n' "$out" | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
  a=$(printf '%s\n' "$out" | awk '/^;; ANSWER SECTION/{f=1;next} f&&NF{print $NF; exit}')
  ra=$(printf '%s\n' "$out" | grep -q '^;; flags:.* ra[ ;]' && echo ra || echo no-ra)
  [ -n "$s" ] || ra=-
  echo "$label ${s:-none} $ra ${a:--}"
}
q before-site-v4 -b 192.0.2.53 @192.0.2.53 www.example.com A
q before-site-v6 -b 2001:db8::5 @2001:db8::53 www.example.com A
mount --bind "$LISTEN" /etc/bind
rndc reconfig
q listen-only-site-v6 -b 2001:db8::5 @2001:db8::53 www.example.com A
mount --bind "$AFTER" /etc/bind
rndc reconfig
q after-site-v6 -b 2001:db8::5 @2001:db8::53 www.example.com A
q after-outside-v6 -b 3fff::5 @2001:db8::53 www.example.com A
q after-outside-recursion -b 3fff::5 @2001:db8::53 +recurse example.org A
rndc stop >/dev/null 2>&1 || kill $P
wait $P || true
"#;

fn named_answers_the_site_over_ipv6_after_conversion_and_refuses_outsiders() -> support::Skippable {
    support::daemon("named")?;
    support::daemon("rndc")?;
    support::daemon("dig")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/bind9/site");
    let work = tempfile::tempdir().unwrap();
    let before = work.path().join("before");
    let after = work.path().join("after");
    support::copy_tree(&case.join("in/etc/bind"), &before);
    // The same configuration converted without --network: named listens on IPv6, and the
    // acls still admit IPv4 networks only.
    let root = work.path().join("listen-root");
    support::copy_tree(&case.join("in"), &root);
    let o = support::v6fix(&root, &["bind9", "--address", "2001:db8::53"]);
    assert!(
        o.status.success(),
        "v6fix --address only\n{}",
        support::show(&o)
    );
    let listen = root.join("etc/bind");
    let expected = support::expected_tree(&case);
    support::copy_tree(&expected.path().join("etc/bind"), &after);
    // A throwaway rndc key, the same in both configurations.
    let o = std::process::Command::new("rndc-confgen")
        .args(["-a", "-c"])
        .arg(before.join("rndc.key"))
        .output()
        .unwrap();
    assert!(o.status.success(), "rndc-confgen\n{}", support::show(&o));
    std::fs::copy(before.join("rndc.key"), after.join("rndc.key")).unwrap();
    std::fs::copy(before.join("rndc.key"), listen.join("rndc.key")).unwrap();
    let o = std::process::Command::new("unshare")
        .current_dir("/")
        .args(["--mount", "--net", "--propagation", "private", "sh", "-c"])
        .arg(format!("set -e\nip link set lo up\n{LIVE}"))
        .env("BEFORE", &before)
        .env("LISTEN", &listen)
        .env("AFTER", &after)
        .env("W", work.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let log = std::fs::read_to_string(work.path().join("log")).unwrap_or_default();
    let show = || format!("{}\n--- named\n{log}", support::show(&o));
    assert!(o.status.success(), "{}", show());
    let got: Vec<&str> = out.lines().filter(|l| l.contains('-')).collect();
    assert_eq!(
        got,
        [
            "before-site-v4 NOERROR ra 192.0.2.80",
            "before-site-v6 none - -",
            // Listening on IPv6 is not enough: the acl must admit the site's IPv6 network.
            "listen-only-site-v6 REFUSED no-ra -",
            "after-site-v6 NOERROR ra 192.0.2.80",
            "after-outside-v6 REFUSED no-ra -",
            // allow-query-cache { any; } hands out the root hints, without recursion.
            "after-outside-recursion NOERROR no-ra -",
        ],
        "{}",
        show()
    );
    Ok(())
}

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        named_checkconf_accepts_every_golden_tree_and_rejects_the_bad_ones,
        named_answers_the_site_over_ipv6_after_conversion_and_refuses_outsiders,
    ]
}
