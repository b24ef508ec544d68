//! Options that mean the same thing in every command: the facts of a [`Target`] and the
//! address plan. Each fact has one option name and one check here, whichever plugin uses it;
//! a plugin only declares which facts it needs ([`Need`]).

use clap::{Arg, ArgAction, ArgMatches};
use std::net::{IpAddr, Ipv6Addr};
use v6fix_core::endpoint::host_address;
use v6fix_core::policy::{self, Wide};
use v6fix_core::site::{AddressPlan, ClientNet, Role, Site};
use v6fix_core::target::{Fact, Need, OwnAddress, Target};
use v6fix_core::{Error, Prefix, Result};

/// The value placeholder of a fact's option in `--help`.
fn value_name(fact: Fact) -> &'static str {
    match fact {
        Fact::Address => "ADDR",
        Fact::Networks => "PREFIX",
        Fact::Gateway => "ADDR",
        Fact::Iface => "IF",
        Fact::Nameservers => "ADDR",
    }
}

/// The command-line options for `needs`, in their order; the address plan's `--role` and
/// `--host` follow an address that may come from it.
pub(crate) fn fact_args(needs: &[Need]) -> Vec<Arg> {
    let mut out = Vec::new();
    for n in needs {
        let name = n.fact.option();
        let mut a = Arg::new(name)
            .long(name)
            .value_name(value_name(n.fact))
            .help(n.help)
            .action(if n.multiple {
                ArgAction::Append
            } else {
                ArgAction::Set
            })
            .required(n.required && !n.from_plan);
        if let Some(alias) = n.alias {
            a = a.alias(alias);
        }
        out.push(a);
        if n.from_plan {
            out.push(
                Arg::new("role")
                    .long("role")
                    .value_name("ROLE")
                    .help("Address plan: admin (tag ad), client (tag c), or a tag in hex"),
            );
            out.push(
                Arg::new("host")
                    .long("host")
                    .value_name("ID")
                    .help("Address plan: the host id, 1 to 4 hex digits (the last 16-bit group)"),
            );
        }
    }
    out
}

/// One value of option `name`, when the command has that option and it was given.
pub(crate) fn one<'a>(m: &'a ArgMatches, name: &str) -> Option<&'a str> {
    m.try_get_one::<String>(name)
        .ok()
        .flatten()
        .map(String::as_str)
}

/// Every value of option `name` (none when the command lacks the option).
pub(crate) fn all<'a>(m: &'a ArgMatches, name: &str) -> Vec<&'a str> {
    m.try_get_many::<String>(name)
        .ok()
        .flatten()
        .map(|v| v.map(String::as_str).collect())
        .unwrap_or_default()
}

/// The target facts `needs` asks for, from the options given.
pub(crate) fn target(needs: &[Need], m: &ArgMatches) -> Result<Target> {
    let mut t = Target::default();
    for n in needs {
        match n.fact {
            Fact::Networks => t.networks = networks(m)?,
            Fact::Gateway => t.gateway = ipv6(m, "gateway")?,
            Fact::Iface => t.iface = one(m, "iface").map(str::to_string),
            Fact::Nameservers => {
                t.nameservers = all(m, "nameserver")
                    .into_iter()
                    .map(str::to_string)
                    .collect();
            }
            Fact::Address => {
                for v in all(m, "address") {
                    let a = own_address(v)?;
                    if t.addresses.iter().any(|x| x.ip == a.ip) {
                        continue;
                    }
                    t.addresses.push(a);
                }
            }
        }
    }
    // The address plan, where an address may come from it.
    if needs.iter().any(|n| n.fact == Fact::Address && n.from_plan) {
        if let Some(h) = host_plan(m)? {
            if !t.addresses.is_empty() {
                return Err(Error::usage(
                    "give either --address or the address plan (--network with --role and --host), not both",
                ));
            }
            t.addresses = vec![OwnAddress {
                ip: h.address,
                len: Some(h.site.network.len()),
            }];
            if needs.iter().any(|n| n.fact == Fact::Gateway) {
                t.gateway = Some(h.site.gateway);
                t.gateway_by_default = one(m, "gateway").is_none();
            }
        }
    }
    for n in needs.iter().filter(|n| n.required) {
        if !t.has(n.fact) {
            let name = n.fact.option();
            return Err(Error::usage(if n.from_plan {
                format!("give --{name}, or the address plan (--network with --role and --host)")
            } else {
                format!("--{name} is required")
            }));
        }
    }
    Ok(t)
}

/// `ADDR` or `ADDR/LEN` (brackets tolerated): one of this host's own IPv6 addresses.
fn own_address(text: &str) -> Result<OwnAddress> {
    let bad = |why: String| Error::usage(format!("--address `{text}`: {why}"));
    let (a, len) = match text.split_once('/') {
        Some((a, l)) => {
            let len: u8 = l
                .parse()
                .ok()
                .filter(|l| *l <= 128)
                .ok_or_else(|| bad(format!("`/{l}` is no IPv6 prefix length (0 to 128)")))?;
            (a, Some(len))
        }
        None => (text, None),
    };
    let a = a.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = a
        .parse()
        .map_err(|_| bad("not an IPv6 address".to_string()))?;
    let ip = host_address(ip, "--address").map_err(Error::usage)?;
    Ok(OwnAddress { ip, len })
}

/// `--name` as one IPv6 address (brackets tolerated), if given.
fn ipv6(m: &ArgMatches, name: &str) -> Result<Option<Ipv6Addr>> {
    one(m, name)
        .map(|v| {
            let t = v.trim_start_matches('[').trim_end_matches(']');
            match t.parse::<IpAddr>() {
                Ok(IpAddr::V6(a)) => Ok(a),
                Ok(IpAddr::V4(_)) => Err(Error::usage(format!(
                    "--{name}: `{v}` is not an IPv6 address"
                ))),
                Err(_) => Err(Error::usage(format!("--{name}: `{v}` is not an address"))),
            }
        })
        .transpose()
}

/// The global flag that lets a `--network` be shorter than /32.
pub(crate) const ALLOW_WIDE: &str = "allow-wide-network";

/// Every `--network`: an IPv6 network in any spelling, with an explicit length and
/// without host bits, that passes the site-network policy ([`v6fix_core::policy`]).
pub(crate) fn networks(m: &ArgMatches) -> Result<Vec<Prefix>> {
    let wide = wide(m);
    let mut out = Vec::new();
    for v in all(m, "network") {
        let p = Prefix::parse_network(v).map_err(|e| Error::usage(format!("--network: {e}")))?;
        if !p.is_ipv6() {
            return Err(Error::usage(format!(
                "--network {p}: an IPv6 prefix is needed (the IPv4 networks are there already)"
            )));
        }
        if !v.contains('/') {
            return Err(Error::usage(format!(
                "--network `{v}`: no prefix length; a network needs one (e.g. {}/64), and a bare address would be read as a single host (/128)",
                p.addr()
            )));
        }
        if let Some(why) = policy::site_network(&p, wide) {
            return Err(Error::usage(format!("--network {p}: {why}")));
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Whether `--allow-wide-network` was given.
fn wide(m: &ArgMatches) -> Wide {
    if m.try_get_one::<bool>(ALLOW_WIDE).ok().flatten() == Some(&true) {
        Wide::Allow
    } else {
        Wide::Refuse
    }
}

/// The site from `--network` (exactly one) and `--gateway`.
pub(crate) fn site(m: &ArgMatches) -> Result<Site> {
    let nets = networks(m)?;
    let network = match nets.as_slice() {
        [n] => *n,
        [] => return Err(Error::usage("--network (the site /64) is required")),
        _ => {
            return Err(Error::usage(
                "give one --network (the site /64) for the address plan",
            ))
        }
    };
    Site::new(network, ipv6(m, "gateway")?.map(IpAddr::V6))
}

/// The plan from `--network` (one /64), `--role`, `--host` and optional `--gateway`.
/// `None` when neither `--role` nor `--host` was given; an error when only one was.
pub(crate) fn host_plan(m: &ArgMatches) -> Result<Option<AddressPlan>> {
    match (one(m, "role"), one(m, "host")) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::usage("--role needs --host (the machine's id)")),
        (None, Some(_)) => Err(Error::usage("--host needs --role (admin, client or a tag)")),
        (Some(role), Some(host)) => {
            let role = Role::parse(role)?;
            let host = v6fix_core::site::parse_host_id(host)?;
            AddressPlan::new(site(m)?, role, host).map(Some)
        }
    }
}

/// The plan's client network from `--client-pool` and `--index`; `None` without a pool.
pub(crate) fn client_net(m: &ArgMatches, site: &Site) -> Result<Option<ClientNet>> {
    let Some(pool) = one(m, "client-pool") else {
        if one(m, "index").is_some() {
            return Err(Error::usage("--index needs --client-pool"));
        }
        return Ok(None);
    };
    let text = pool;
    let pool = Prefix::parse_any(pool).map_err(|e| Error::usage(format!("--client-pool: {e}")))?;
    // A pool of the site's routed networks is held to the site-network policy.
    if pool.is_ipv6() && !pool.has_host_bits() {
        if !text.contains('/') {
            return Err(Error::usage(format!(
                "--client-pool `{text}`: no prefix length; give the pool's, e.g. {}/48",
                pool.addr()
            )));
        }
        if let Some(why) = policy::site_network(&pool, wide(m)) {
            return Err(Error::usage(format!("--client-pool {pool}: {why}")));
        }
    }
    let index = one(m, "index").ok_or_else(|| {
        Error::usage("--client-pool needs --index (the machine's number in the pool)")
    })?;
    let index: u64 = index
        .parse()
        .map_err(|_| Error::usage(format!("--index `{index}`: not a decimal number from 0")))?;
    ClientNet::new(pool, index, site).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Command;

    fn matches(needs: &[Need], argv: &[&str]) -> ArgMatches {
        Command::new("t")
            .args(fact_args(needs))
            .try_get_matches_from(std::iter::once("t").chain(argv.iter().copied()))
            .unwrap()
    }

    #[test]
    fn facts_are_parsed_and_checked_once() {
        let needs = [
            Need::new(Fact::Address, "a").multiple(),
            Need::new(Fact::Networks, "n"),
        ];
        let m = matches(
            &needs,
            &[
                "--address",
                "[2001:db8::ad:1]",
                "--address",
                "2001:DB8::AD:1/64",
                "--network",
                "2001:DB8::/64",
            ],
        );
        let t = target(&needs, &m).unwrap();
        assert_eq!(t.addresses.len(), 1, "one address in two spellings");
        assert_eq!(t.address().unwrap().to_string(), "2001:db8::ad:1");
        assert_eq!(t.networks[0].to_string(), "2001:db8::/64");
        for bad in ["::1", "192.0.2.1", "fe80::1", "2001:db8::1/129"] {
            let m = matches(&needs, &["--address", bad]);
            assert!(target(&needs, &m).is_err(), "{bad}");
        }
        let m = matches(&needs, &["--network", "192.0.2.0/24"]);
        assert!(target(&needs, &m)
            .unwrap_err()
            .to_string()
            .contains("IPv6 prefix is needed"));
    }

    #[test]
    fn networks_follow_the_site_network_policy() {
        let needs = [Need::new(Fact::Networks, "n")];
        let err = |argv: &[&str]| {
            target(&needs, &matches(&needs, argv))
                .map(|t| t.networks)
                .unwrap_err()
                .to_string()
        };
        let e = err(&["--network", "2001:db8:1::"]);
        assert!(
            e.contains("no prefix length") && e.contains("2001:db8:1::/64"),
            "{e}"
        );
        let e = err(&["--network", "[2001:db8:1::]"]);
        assert!(e.contains("no prefix length"), "{e}");
        for (bad, says) in [
            ("::/0", "wider than any site network"),
            ("2000::/3", "--allow-wide-network"),
            ("fe80::/64", "link-local"),
            ("ff00::/8", "multicast"),
            ("::1/128", "loopback"),
            ("::ffff:0:0/96", "IPv4-mapped"),
        ] {
            let e = err(&["--network", bad]);
            assert!(
                e.starts_with("--network ") && e.contains(says),
                "{bad}: {e}"
            );
        }
        for ok in ["2001:db8::/32", "fd00:1:2::/48", "2001:db8:1::/64"] {
            let t = target(&needs, &matches(&needs, &["--network", ok])).unwrap();
            assert_eq!(t.networks[0].to_string(), ok);
        }

        // --allow-wide-network (a global flag) admits a wide prefix, never a special one.
        let cmd = || {
            Command::new("t")
                .arg(
                    Arg::new(ALLOW_WIDE)
                        .long(ALLOW_WIDE)
                        .action(ArgAction::SetTrue),
                )
                .args(fact_args(&needs))
        };
        let m = cmd()
            .try_get_matches_from(["t", "--allow-wide-network", "--network", "2a00::/12"])
            .unwrap();
        assert_eq!(
            target(&needs, &m).unwrap().networks[0].to_string(),
            "2a00::/12"
        );
        let m = cmd()
            .try_get_matches_from(["t", "--allow-wide-network", "--network", "::/0"])
            .unwrap();
        let e = target(&needs, &m).unwrap_err().to_string();
        assert!(e.contains("it includes"), "{e}");
    }

    #[test]
    fn the_address_plan_gives_address_and_gateway() {
        let needs = [
            Need::new(Fact::Address, "a").from_plan().required(),
            Need::new(Fact::Networks, "n"),
            Need::new(Fact::Gateway, "g"),
        ];
        let m = matches(
            &needs,
            &[
                "--network",
                "2001:db8::/64",
                "--role",
                "client",
                "--host",
                "1",
            ],
        );
        let t = target(&needs, &m).unwrap();
        assert_eq!(t.address().unwrap().to_string(), "2001:db8::c:1");
        assert_eq!(t.addresses[0].len, Some(64));
        assert_eq!(t.gateway.unwrap().to_string(), "2001:db8::1");
        let m = matches(&needs, &["--network", "2001:db8::/64", "--role", "client"]);
        assert!(target(&needs, &m).is_err());
        let both = [
            "--network",
            "2001:db8::/64",
            "--role",
            "client",
            "--host",
            "1",
            "--address",
            "2001:db8::5/64",
        ];
        let e = target(&needs, &matches(&needs, &both))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not both"), "{e}");
        let two = ["--network", "2001:db8::/64", "--network", "2001:db8:1::/64"];
        let m = matches(
            &needs,
            &[&two[..], &["--role", "client", "--host", "1"]].concat(),
        );
        assert!(target(&needs, &m)
            .unwrap_err()
            .to_string()
            .contains("one --network"));
        let m = matches(&needs, &["--network", "2001:db8::/64"]);
        let e = target(&needs, &m).unwrap_err().to_string();
        assert!(e.contains("--role and --host"), "{e}");
    }
}
