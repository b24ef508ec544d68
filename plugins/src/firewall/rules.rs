//! One iptables rule in its IPv6 form, exactly or not at all: the words of an `-A` line of
//! `iptables-save` text rewritten for `ip6tables-restore`, shared by iptables-persistent's
//! `rules.v6` and ufw's `user6.rules`.
//!
//! Translated: addresses through [`Pairs`], `-p icmp` and its types to ICMPv6, REJECT's
//! ICMP replies to their ICMPv6 twins, chain names through the caller's mapping. Kept as
//! they are: interfaces, ports, conntrack and state matches, comments, logging, limits,
//! `recent`. Anything else (an option or match v6fix does not know, an address without a
//! pair, NAT targets, fragments) makes the rule untranslatable, with the reason.

use super::pairs::Pairs;
use v6fix_core::dialect::iptables::Word;

/// Options followed by no value.
const FLAGS: &[&str] = &[
    "!",
    "--syn",
    "--set",
    "--update",
    "--rcheck",
    "--remove",
    "--rsource",
    "--rdest",
    "--log-tcp-sequence",
    "--log-tcp-options",
    "--log-ip-options",
    "--log-uid",
];

/// Options whose one value is kept as written.
const KEPT: &[&str] = &[
    "-i",
    "--in-interface",
    "-o",
    "--out-interface",
    "--dport",
    "--destination-port",
    "--sport",
    "--source-port",
    "--dports",
    "--destination-ports",
    "--sports",
    "--source-ports",
    "--ports",
    "--state",
    "--ctstate",
    "--ctstatus",
    "--comment",
    "--log-prefix",
    "--log-level",
    "--limit",
    "--limit-burst",
    "--seconds",
    "--hitcount",
    "--name",
    "--uid-owner",
    "--gid-owner",
    "--pkt-type",
    "--mark",
    "--set-mark",
    "--set-xmark",
    "--reap",
];

/// Matches that mean the same for IPv6.
const MATCHES: &[&str] = &[
    "tcp",
    "udp",
    "state",
    "conntrack",
    "comment",
    "multiport",
    "limit",
    "recent",
    "owner",
    "pkttype",
    "mark",
];

/// Targets that mean the same for IPv6 (and user chains, through the caller's mapping).
const TARGETS: &[&str] = &["ACCEPT", "DROP", "RETURN", "LOG", "REJECT", "MARK", "NFLOG"];

/// ICMP types and their ICMPv6 names, where one exists.
fn icmp6(t: &str) -> Option<&'static str> {
    Some(match t {
        "echo-request" | "8" => "echo-request",
        "echo-reply" | "0" => "echo-reply",
        "destination-unreachable" | "3" => "destination-unreachable",
        "time-exceeded" | "11" => "time-exceeded",
        "parameter-problem" | "12" => "parameter-problem",
        "any" => "any",
        _ => return None,
    })
}

/// REJECT's ICMP replies and their ICMPv6 twins.
fn reject6(t: &str) -> Option<&'static str> {
    Some(match t {
        "icmp-port-unreachable" | "port-unreach" => "icmp6-port-unreachable",
        "icmp-host-prohibited" | "icmp-admin-prohibited" | "icmp-net-prohibited" => {
            "icmp6-adm-prohibited"
        }
        "icmp-net-unreachable" | "net-unreach" => "icmp6-no-route",
        "icmp-host-unreachable" | "host-unreach" => "icmp6-addr-unreachable",
        "tcp-reset" => "tcp-reset",
        _ => return None,
    })
}

/// The replacements that make a rule's words IPv6, as (word index, new text), or why
/// there is none. `chain` maps a chain name (a jump target) to its IPv6 name.
pub(crate) fn translate(
    words: &[Word],
    pairs: &Pairs,
    chain: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(usize, String)>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].text.as_str();
        let value = |j: usize| {
            words
                .get(j)
                .map(|w| w.text.as_str())
                .ok_or_else(|| format!("`{w}` without its value"))
        };
        // A negation in front of a value (`-s ! 192.0.2.1`, old style) is skipped over.
        let at = if words.get(i + 1).is_some_and(|n| n.text == "!") {
            i + 2
        } else {
            i + 1
        };
        match w {
            _ if FLAGS.contains(&w) => i += 1,
            _ if KEPT.contains(&w) => {
                value(at)?;
                i = at + 1;
            }
            "-s" | "--source" | "-d" | "--destination" => {
                let v = value(at)?;
                let mut mapped = Vec::new();
                for a in v.split(',') {
                    mapped.push(pairs.map(a).ok_or_else(|| {
                        format!(
                            "the IPv4 address {a} has no IPv6 counterpart ({})",
                            Pairs::hint()
                        )
                    })?);
                }
                out.push((at, mapped.join(",")));
                i = at + 1;
            }
            "-p" | "--protocol" => {
                let v = value(at)?;
                match v {
                    "tcp" | "udp" | "sctp" | "udplite" | "all" => {}
                    "icmp" => out.push((at, "ipv6-icmp".into())),
                    _ => {
                        return Err(format!(
                            "the protocol `{v}` (only tcp, udp, sctp and icmp are translated)"
                        ))
                    }
                }
                i = at + 1;
            }
            "-m" | "--match" => {
                let v = value(at)?;
                if v == "icmp" {
                    out.push((at, "icmp6".into()));
                } else if !MATCHES.contains(&v) {
                    return Err(format!(
                        "the match `-m {v}`, which has no exact IPv6 form v6fix knows"
                    ));
                }
                i = at + 1;
            }
            "--icmp-type" => {
                let v = value(at)?;
                let t = icmp6(v)
                    .ok_or_else(|| format!("the ICMP type `{v}`, which has no ICMPv6 twin"))?;
                out.push((i, "--icmpv6-type".into()));
                out.push((at, t.into()));
                i = at + 1;
            }
            "--reject-with" => {
                let v = value(at)?;
                let t = reject6(v)
                    .ok_or_else(|| format!("`--reject-with {v}`, which has no ICMPv6 twin"))?;
                out.push((at, t.into()));
                i = at + 1;
            }
            "--tcp-flags" => {
                value(at + 1)?;
                i = at + 2;
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let v = value(at)?;
                if let Some(c) = chain(v) {
                    if c != v {
                        out.push((at, c));
                    }
                } else if !TARGETS.contains(&v) {
                    return Err(format!(
                        "the target `{v}`, which has no exact IPv6 form v6fix knows"
                    ));
                }
                i = at + 1;
            }
            _ => return Err(format!("the option `{w}`, which v6fix does not translate")),
        }
    }
    Ok(out)
}

/// The line's text with the replacements made (spans are offsets into `src`).
pub(crate) fn rewrite(
    src: &str,
    line: std::ops::Range<usize>,
    words: &[Word],
    reps: &[(usize, String)],
) -> String {
    let mut out = String::new();
    let mut at = line.start;
    let mut reps: Vec<&(usize, String)> = reps.iter().collect();
    reps.sort_by_key(|r| r.0);
    for (i, text) in reps {
        let w = &words[*i];
        out.push_str(&src[at..w.span.start]);
        if w.quoted {
            out.push('"');
            out.push_str(text);
            out.push('"');
        } else {
            out.push_str(text);
        }
        at = w.span.end;
    }
    out.push_str(&src[at..line.end]);
    out
}

/// The ICMPv6 types IPv6 cannot work without: neighbour discovery and router discovery.
pub(crate) const ND_TYPES: &[&str] = &[
    "router-solicitation",
    "router-advertisement",
    "neighbour-solicitation",
    "neighbour-advertisement",
];

#[cfg(test)]
mod tests {
    use super::*;
    use v6fix_core::dialect::iptables;

    fn tr(line: &str) -> Result<String, String> {
        let text = format!("*filter\n{line}\n");
        let d = iptables::parse(&text).unwrap();
        let it = &d.items[1];
        let t = v6fix_core::Target {
            networks: vec![v6fix_core::Prefix::parse("2001:db8::/64").unwrap()],
            ..Default::default()
        };
        let mut a = v6fix_core::Args::new();
        a.push(super::super::pairs::OPTION, "192.0.2.0/24");
        let p = Pairs::from(&t, &a).unwrap();
        let reps = translate(&it.words, &p, &|c| {
            c.starts_with("ufw-")
                .then(|| c.replacen("ufw-", "ufw6-", 1))
        })?;
        Ok(rewrite(&text, it.content.clone(), &it.words, &reps))
    }

    #[test]
    fn exact_translations() {
        assert_eq!(
            tr("-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j ACCEPT").unwrap(),
            "-A INPUT -s 2001:db8::/64 -p tcp -m tcp --dport 22 -j ACCEPT"
        );
        assert_eq!(
            tr("-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT").unwrap(),
            "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type echo-request -j ACCEPT"
        );
        assert_eq!(
            tr("-A INPUT -j REJECT --reject-with icmp-host-prohibited").unwrap(),
            "-A INPUT -j REJECT --reject-with icmp6-adm-prohibited"
        );
        assert_eq!(
            tr("-A ufw-user-input -p tcp --dport 2222 -j ufw-user-limit").unwrap(),
            "-A ufw-user-input -p tcp --dport 2222 -j ufw6-user-limit"
        );
        assert_eq!(
            tr("-A INPUT -m comment --comment \"a b\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT").unwrap(),
            "-A INPUT -m comment --comment \"a b\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
        );
    }

    #[test]
    fn rules_without_an_exact_form_say_why() {
        assert!(tr("-A INPUT -s 203.0.113.9 -j ACCEPT")
            .unwrap_err()
            .contains("203.0.113.9"));
        assert!(tr("-A PREROUTING -j DNAT --to-destination 192.0.2.1")
            .unwrap_err()
            .contains("DNAT"));
        assert!(tr("-A INPUT -m addrtype --dst-type LOCAL -j ACCEPT")
            .unwrap_err()
            .contains("addrtype"));
        assert!(tr("-A INPUT -f -j DROP").unwrap_err().contains("-f"));
        assert!(tr("-A INPUT -p icmp --icmp-type redirect -j DROP")
            .unwrap_err()
            .contains("redirect"));
    }
}
