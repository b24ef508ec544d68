//! What v6fix accepts as a site network, and which ACL entries trust too much: one table
//! of special-purpose ranges and one width rule, used by the command line (`--network`)
//! and by every audit of an access list.
//!
//! - A site network is an IPv6 prefix of length /32 or longer (a /64 usually) inside global
//!   unicast (2000::/3) or unique-local (fc00::/7) space that touches no special-purpose
//!   range: not loopback, unspecified, IPv4-mapped, link-local, multicast, a translation or
//!   tunnel prefix… The documentation ranges (2001:db8::/32, 3fff::/20) are allowed, so
//!   examples and tests work. A shorter prefix needs an explicit [`Wide::Allow`], which
//!   still refuses one that includes a special range.
//! - An ACL entry trusts too much when it is IPv6 and shorter than /32, IPv4 and shorter
//!   than /8 (`0.0.0.0/0` is an open relay), or lies in (or includes) a special range other
//!   than loopback: a 6to4, Teredo or NAT64 prefix stands for the whole IPv4 Internet, a
//!   link-local one for every neighbour on every link. An IPv4-mapped entry
//!   (`[::ffff:127.0.0.0]/104`) is judged as the IPv4 prefix it maps.

use crate::addr::Prefix;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

/// The shortest IPv6 prefix taken as a site network, or trusted in an ACL: a /32 is a
/// whole provider allocation.
pub const MIN_V6_LEN: u8 = 32;

/// The shortest IPv4 prefix trusted in an ACL without a finding.
pub const MIN_V4_LEN: u8 = 8;

/// Whether a site network shorter than [`MIN_V6_LEN`] is allowed (`--allow-wide-network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wide {
    #[default]
    Refuse,
    Allow,
}

/// An IANA special-purpose (or otherwise not unicast) IPv6 range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Special {
    /// The range, as text (`fe80::/10`).
    pub range: &'static str,
    /// Its name (`link-local`).
    pub name: &'static str,
    /// Why no site network, or trusted client network, lies there.
    pub why: &'static str,
}

/// The special ranges, most specific first (a prefix is named by the first it touches).
pub const SPECIAL_V6: &[Special] = &[
    Special {
        range: "::/128",
        name: "the unspecified address",
        why: "no host has it",
    },
    Special {
        range: "::1/128",
        name: "loopback",
        why: "it is this host itself, not a network",
    },
    Special {
        range: "::ffff:0:0/96",
        name: "IPv4-mapped",
        why: "these are IPv4 addresses written as IPv6; IPv4 clients are seen as IPv4",
    },
    Special {
        range: "64:ff9b::/96",
        name: "the NAT64 well-known prefix",
        why: "it stands for every IPv4 host on the Internet behind a NAT64",
    },
    Special {
        range: "64:ff9b:1::/48",
        name: "local-use NAT64",
        why: "it stands for IPv4 hosts behind a NAT64",
    },
    Special {
        range: "100::/64",
        name: "discard-only",
        why: "traffic to it is dropped",
    },
    Special {
        range: "2001::/32",
        name: "Teredo",
        why: "any host on the Internet can get a Teredo address",
    },
    Special {
        range: "2001::/23",
        name: "IETF protocol assignments",
        why: "it holds protocol anycast, benchmarking and ORCHID ranges, not sites",
    },
    Special {
        range: "2002::/16",
        name: "6to4",
        why: "it stands for every IPv4 host on the Internet, tunnelled",
    },
    Special {
        range: "2620:4f:8000::/48",
        name: "AS112 direct delegation",
        why: "it is an anycast DNS service",
    },
    Special {
        range: "5f00::/16",
        name: "SRv6 segment identifiers",
        why: "they name routing functions, not hosts",
    },
    Special {
        range: "fe80::/10",
        name: "link-local",
        why: "its addresses are valid on one link only, and every link has them all",
    },
    Special {
        range: "fec0::/10",
        name: "site-local (deprecated by RFC 3879)",
        why: "it is no longer assigned",
    },
    Special {
        range: "ff00::/8",
        name: "multicast",
        why: "no client sends from a multicast address",
    },
];

/// Where site networks live: global unicast and unique-local space.
const UNICAST_V6: &[&str] = &["2000::/3", "fc00::/7"];

/// The ranges of the tables above, parsed once: they are checked for every list entry, so
/// a range is found by its text's address first (a few comparisons, no hashing).
static PARSED: LazyLock<Vec<(&'static str, Prefix)>> = LazyLock::new(|| {
    SPECIAL_V6
        .iter()
        .map(|s| s.range)
        .chain(UNICAST_V6.iter().copied())
        .chain(["::ffff:0:0/96"])
        .map(|r| (r, Prefix::parse(r).expect("a valid range in the table")))
        .collect()
});

fn prefix(text: &'static str) -> Prefix {
    let found = PARSED
        .iter()
        .find(|(r, _)| std::ptr::eq(*r, text))
        .or_else(|| PARSED.iter().find(|(r, _)| *r == text));
    match found {
        Some((_, p)) => *p,
        None => Prefix::parse(text).expect("a valid range in the table"),
    }
}

/// The first special range `p` lies in or includes.
pub fn special(p: &Prefix) -> Option<&'static Special> {
    if !p.is_ipv6() {
        return None;
    }
    SPECIAL_V6.iter().find(|s| {
        let r = prefix(s.range);
        r.covers(p) || p.covers(&r)
    })
}

/// True when `p` lies outside global unicast and unique-local space altogether.
fn reserved(p: &Prefix) -> bool {
    p.is_ipv6() && !UNICAST_V6.iter().any(|u| prefix(u).covers(p))
}

/// Why `p` is no site network, or `None` when it is one. `p` is IPv6 without host bits.
pub fn site_network(p: &Prefix, wide: Wide) -> Option<String> {
    if !p.is_ipv6() {
        return Some("an IPv6 prefix is needed".to_string());
    }
    let len = p.len();
    if let Some(s) = special(p).filter(|s| prefix(s.range).covers(p)) {
        return Some(format!(
            "it lies in {} ({}): {}; give the site's own global or unique-local prefix",
            s.range, s.name, s.why
        ));
    }
    if len < MIN_V6_LEN && wide == Wide::Refuse {
        return Some(format!(
            "/{len} is wider than any site network (shorter than /{MIN_V6_LEN}: everything there would be trusted); give the site's own prefix, e.g. 2001:db8::/64, or pass --allow-wide-network if the site truly holds a /{len}"
        ));
    }
    if let Some(s) = special(p) {
        return Some(format!(
            "it includes {} ({}): {}; give the site's own global or unique-local prefix",
            s.range, s.name, s.why
        ));
    }
    if reserved(p) {
        return Some(
            "it lies outside global unicast (2000::/3) and unique-local (fc00::/7) space, in ranges reserved by the IETF; give the site's own prefix"
                .to_string(),
        );
    }
    None
}

/// Why a single address is no usable nameserver, or `None`. A link-local address is
/// fine only with a `%zone` (`zoned`).
pub fn nameserver(ip: IpAddr, zoned: bool) -> Option<String> {
    let p = Prefix::host(ip);
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => {
            Some("0.0.0.0 is the unspecified address: no server answers there".to_string())
        }
        IpAddr::V4(v4) if v4.is_multicast() || v4.is_broadcast() => {
            Some(format!("{v4} is a multicast or broadcast address, not a server"))
        }
        IpAddr::V4(_) => None,
        IpAddr::V6(_) if crate::addr::is_link_local(ip) => (!zoned).then(|| {
            format!("{ip} is link-local: give its interface too, as {ip}%eth0, or glibc cannot reach it")
        }),
        IpAddr::V6(v6) if v6 == Ipv6Addr::LOCALHOST => None,
        IpAddr::V6(_) => match special(&p) {
            Some(s) => Some(format!("{ip} lies in {} ({})", s.range, s.name)),
            None if reserved(&p) => Some(format!(
                "{ip} lies outside global unicast (2000::/3) and unique-local (fc00::/7) space"
            )),
            None => None,
        },
    }
}

/// Why ACL entry `p` trusts too much, or `None` when it does not.
pub fn acl_entry(p: &Prefix) -> Option<String> {
    let p = p.network();
    match p.addr() {
        IpAddr::V4(_) => v4_too_wide(&p),
        IpAddr::V6(v6) => {
            let mapped = prefix("::ffff:0:0/96");
            if mapped.covers(&p) {
                let v4 = Ipv4Addr::from((u128::from(v6) & 0xffff_ffff) as u32);
                let v4 = Prefix::new(IpAddr::V4(v4), p.len() - 96).expect("96 to 128 less 96");
                return v4_too_wide(&v4).map(|why| format!("it is IPv4-mapped {v4}, and {why}"));
            }
            if let Some(s) = special(&p).filter(|s| prefix(s.range).covers(&p)) {
                if p != Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST)) {
                    return Some(format!("it lies in {} ({}): {}", s.range, s.name, s.why));
                }
            }
            if p.len() < MIN_V6_LEN {
                return Some(format!(
                    "/{} is shorter than /{MIN_V6_LEN}: it trusts more than a whole provider allocation",
                    p.len()
                ));
            }
            if p == Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST)) {
                return None;
            }
            if let Some(s) = special(&p) {
                return Some(format!("it includes {} ({}): {}", s.range, s.name, s.why));
            }
            if reserved(&p) {
                return Some(
                    "it lies outside global unicast (2000::/3) and unique-local (fc00::/7) space"
                        .to_string(),
                );
            }
            None
        }
    }
}

fn v4_too_wide(p: &Prefix) -> Option<String> {
    if p.len() == 0 {
        Some("0.0.0.0/0 trusts every IPv4 client: an open relay".to_string())
    } else if p.len() < MIN_V4_LEN {
        Some(format!(
            "/{} is shorter than /{MIN_V4_LEN}: it trusts a large part of the IPv4 Internet",
            p.len()
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        Prefix::parse_any(s).unwrap()
    }

    #[test]
    fn site_networks_are_global_or_unique_local_and_not_too_wide() {
        for ok in [
            "2001:db8::/64",
            "2001:db8::/32",
            "fd00:1::/48",
            "2a01:4f8::/32",
            "3fff::/64",
        ] {
            assert_eq!(site_network(&p(ok), Wide::Refuse), None, "{ok}");
        }
        for (bad, says) in [
            ("::/0", "wider than any site network"),
            ("2000::/3", "wider"),
            ("2001:db8::/31", "wider"),
            ("fe80::/64", "link-local"),
            ("ff02::/16", "multicast"),
            ("::1/128", "loopback"),
            ("::/128", "unspecified"),
            ("::ffff:0:0/96", "IPv4-mapped"),
            ("64:ff9b::/96", "NAT64"),
            ("2002:c000:204::/48", "6to4"),
            ("2001:0:1::/48", "Teredo"),
            ("2001:2::/48", "IETF protocol"),
            ("100::/64", "discard"),
            ("fec0::/64", "site-local"),
            ("4000::/64", "outside global unicast"),
        ] {
            let why = site_network(&p(bad), Wide::Refuse).unwrap_or_default();
            assert!(why.contains(says), "{bad}: {why}");
        }
        // --allow-wide-network lets a wide site prefix through, never a special one.
        assert_eq!(site_network(&p("2a00::/12"), Wide::Allow), None);
        for bad in ["::/0", "2000::/3", "2001::/16", "fe80::/10"] {
            let why = site_network(&p(bad), Wide::Allow).unwrap_or_default();
            assert!(
                why.contains("it includes") || why.contains("it lies in"),
                "{bad}: {why}"
            );
        }
    }

    #[test]
    fn acl_entries_that_trust_too_much() {
        for ok in [
            "127.0.0.0/8",
            "192.0.2.0/24",
            "::1/128",
            "::ffff:127.0.0.0/104",
            "2001:db8::/64",
            "fd00::/48",
            "10.0.0.0/8",
        ] {
            assert_eq!(acl_entry(&p(ok)), None, "{ok}");
        }
        for (bad, says) in [
            ("0.0.0.0/0", "open relay"),
            ("0.0.0.0/1", "shorter than /8"),
            ("::/0", "shorter than /32"),
            ("2000::/3", "shorter than /32"),
            ("fc00::/7", "shorter than /32"),
            ("::ffff:0:0/96", "IPv4-mapped 0.0.0.0/0"),
            ("2002::/16", "6to4"),
            ("2001::/16", "shorter than /32"),
            ("2001:db8::/31", "shorter than /32"),
            ("2002:c000:204::/48", "6to4"),
            ("2001::/32", "Teredo"),
            ("64:ff9b::/96", "NAT64"),
            ("fe80::/64", "link-local"),
            ("ff02::1", "multicast"),
            ("::/128", "unspecified"),
        ] {
            let why = acl_entry(&p(bad)).unwrap_or_default();
            assert!(why.contains(says), "{bad}: {why}");
        }
    }

    #[test]
    fn nameservers_are_reachable_unicast_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(nameserver(ip("2001:db8::53"), false), None);
        assert_eq!(nameserver(ip("192.0.2.53"), false), None);
        assert_eq!(nameserver(ip("::1"), false), None);
        assert_eq!(nameserver(ip("fe80::1"), true), None);
        for bad in [
            "::",
            "0.0.0.0",
            "ff02::1",
            "::ffff:192.0.2.1",
            "fe80::1",
            "224.0.0.1",
        ] {
            assert!(nameserver(ip(bad), false).is_some(), "{bad}");
        }
    }
}
