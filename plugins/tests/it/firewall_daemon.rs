//! The firewalls' own tools check what `v6fix firewall` writes, and a firewall loaded in a
//! network namespace proves it: IPv6 closed where IPv4 is, open where IPv4 is, and
//! neighbour discovery still working.
//!
//! - Every golden output is loaded in test mode: `nft -c -f` on nftables.conf (in a fresh
//!   network namespace), `iptables-restore --test` on rules.v4, `ip6tables-restore --test`
//!   on rules.v6 and ufw's user6.rules.
//! - ufw's user6.rules equals, byte for byte, what ufw itself writes when the same rules
//!   are added with `IPV6=yes` (the fixture was made with ufw 0.36 under `--rootdir`).
//! - Two namespaces joined by a veth pair (192.0.2.1/24 and 2001:db8::1/64 on one side,
//!   .2 and ::2 on the other); listeners on the first, the firewall loaded there. Before
//!   the conversion a port the IPv4 rules close answers over IPv6 (the gap); after it, that
//!   port is closed over both families, an allowed port answers over both, and
//!   `ping -6` crosses (neighbour discovery passes the filter).

use crate::support;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sh(script: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("run sh")
}

fn ok_cases() -> Vec<PathBuf> {
    support::cases("firewall")
        .into_iter()
        .filter(|c| !c.join("code").exists())
        .collect()
}

fn checkers_accept_every_golden_output() -> support::Skippable {
    support::daemon("nft")?;
    support::daemon("ip6tables-restore")?;
    support::can_unshare()?;
    let cases = ok_cases();
    assert!(cases.len() >= 4, "golden firewall cases: {cases:?}");
    let mut checked = 0;
    for case in cases {
        let tree = support::expected_tree(&case);
        let t = tree.path();
        let runs: [(&str, &str); 4] = [
            ("etc/nftables.conf", "nft -c -f"),
            ("etc/iptables/rules.v4", "iptables-restore --test"),
            ("etc/iptables/rules.v6", "ip6tables-restore --test"),
            ("etc/ufw/user6.rules", "ip6tables-restore --test"),
        ];
        for (file, check) in runs {
            let p = t.join(file);
            if !p.exists() {
                continue;
            }
            let o = support::in_namespace(&[], &format!("{check} {}", p.display()));
            assert!(
                o.status.success(),
                "{}: `{check}` rejects {file}\n{}",
                case.display(),
                support::show(&o)
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} outputs checked");
    Ok(())
}

fn the_checkers_can_fail() -> support::Skippable {
    support::daemon("nft")?;
    support::can_unshare()?;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.nft");
    std::fs::write(
        &p,
        "table ip6 f {\n chain c {\n ip saddr 2001:db8::/64 accept\n }\n}\n",
    )
    .unwrap();
    let o = support::in_namespace(&[], &format!("nft -c -f {}", p.display()));
    assert!(
        !o.status.success(),
        "nft -c accepted an IPv6 address in an ip match"
    );
    Ok(())
}

fn user6_rules_are_what_ufw_writes() {
    // (case, what ufw 0.36 wrote with IPV6=yes for the same rules)
    for (case, ufw) in [
        ("ufw-rules", "user6.rules"),
        ("ufw-twins-exist", "user6-twins-added.rules"),
    ] {
        let tree = support::expected_tree(&support::testdata().join("cases/firewall").join(case));
        let ours = std::fs::read_to_string(tree.path().join("etc/ufw/user6.rules")).unwrap();
        let ufw =
            std::fs::read_to_string(support::testdata().join("iptables/ufw-ipv6-yes").join(ufw))
                .unwrap();
        assert_eq!(ours, ufw, "{case}");
    }
}

/// Loads `load` (a shell command run inside namespace A, `$T` the tree) and probes from B.
/// Returns the probe lines: `v4:PORT yes|no`, `v6:PORT yes|no`, `ping6 yes|no`.
fn probe(tree: &Path, load: &str) -> String {
    let script = format!(
        r#"
set -u
A=v6fa$$; B=v6fb$$; T='{t}'; P1=; P2=; export T
cleanup() {{ kill $P1 $P2 2>/dev/null; ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }}
trap cleanup EXIT
ip netns add $A; ip netns add $B
ip link add va$$ netns $A type veth peer name vb$$ netns $B
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A addr add 192.0.2.1/24 dev va$$; ip -n $A addr add 2001:db8::1/64 dev va$$ nodad
ip -n $B addr add 192.0.2.2/24 dev vb$$; ip -n $B addr add 2001:db8::2/64 dev vb$$ nodad
ip -n $A link set va$$ up; ip -n $B link set vb$$ up
ip netns exec $A sh -c "$LOAD" >&2 || {{ echo "load failed"; exit 3; }}
ip netns exec $A socat TCP6-LISTEN:22,ipv6only=0,reuseaddr,fork SYSTEM:'echo open' & P1=$!
ip netns exec $A socat TCP6-LISTEN:8080,ipv6only=0,reuseaddr,fork SYSTEM:'echo open' & P2=$!
sleep 0.3
for port in 22 8080; do
  for dst in 192.0.2.1 '[2001:db8::1]'; do
    fam=v4; case $dst in \[*) fam=v6;; esac
    got=$(ip netns exec $B socat -T1 - TCP:$dst:$port,connect-timeout=1 </dev/null 2>/dev/null)
    [ "$got" = open ] && echo "$fam:$port yes" || echo "$fam:$port no"
  done
done
ip netns exec $B ping -4 -c1 -W2 192.0.2.1 >/dev/null 2>&1 && echo "ping4 yes" || echo "ping4 no"
ip -n $B neigh flush dev vb$$
ip netns exec $B ping -6 -c1 -W2 2001:db8::1 >/dev/null 2>&1 && echo "ping6 yes" || echo "ping6 no"
ip -n $B -6 neigh show 2001:db8::1 | grep -q lladdr && echo "nd yes" || echo "nd no"
"#,
        t = tree.display()
    );
    let o = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("LOAD", load)
        .output()
        .expect("run sh");
    assert!(
        o.status.success(),
        "namespace probe failed\n{}",
        support::show(&o)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// An allowed port answers over both families, a closed one over neither, and the
/// neighbour entry of the filtered side resolves (neighbour discovery passes).
const CLOSED_OVER_BOTH: &str = "v4:22 yes\nv6:22 yes\nv4:8080 no\nv6:8080 no\n";

fn in_namespaces(loads: &[(&str, &str)]) -> support::Skippable {
    support::daemon("socat")?;
    support::daemon("nft")?;
    support::daemon("ip6tables-restore")?;
    support::can_unshare()?;
    for (case, load) in loads {
        let dir = support::testdata().join("cases/firewall").join(case);
        let before = probe(&dir.join("in"), load);
        assert!(
            before.contains("v4:8080 no") && before.contains("v6:8080 yes"),
            "{case}: before the conversion IPv6 should reach the port IPv4 closes:\n{before}"
        );
        let tree = support::expected_tree(&dir);
        let after = probe(tree.path(), load);
        assert!(
            after.starts_with(CLOSED_OVER_BOTH),
            "{case}: after the conversion:\n{after}"
        );
        assert!(
            after.contains("nd yes"),
            "{case}: neighbour discovery failed:\n{after}"
        );
        // Ping over IPv6 exactly where IPv4 allows it: parity, not more.
        let ping4 = after.contains("ping4 yes");
        assert_eq!(
            after.contains("ping6 yes"),
            ping4,
            "{case}: ping parity:\n{after}"
        );
        if *case != "nft-neutral" {
            assert!(ping4, "{case}: the rules allow echo requests:\n{after}");
        }
    }
    Ok(())
}

fn converted_nftables_close_ipv6_where_ipv4_is_closed() -> support::Skippable {
    in_namespaces(&[
        ("nft-neutral", "nft -f $T/etc/nftables.conf"),
        ("nft-twin", "nft -f $T/etc/nftables.conf"),
    ])
}

fn converted_iptables_close_ipv6_where_ipv4_is_closed() -> support::Skippable {
    in_namespaces(&[(
        "iptables-v4-only",
        "iptables-restore $T/etc/iptables/rules.v4 && if [ -f $T/etc/iptables/rules.v6 ]; then ip6tables-restore $T/etc/iptables/rules.v6; fi",
    )])
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    let _ = sh;
    crate::trials![
        checkers_accept_every_golden_output,
        the_checkers_can_fail,
        user6_rules_are_what_ufw_writes,
        converted_nftables_close_ipv6_where_ipv4_is_closed,
        converted_iptables_close_ipv6_where_ipv4_is_closed,
    ]
}
