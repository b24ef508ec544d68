//! The site's IPv4 networks and the IPv6 networks that stand in for them in firewall
//! rules: `--ipv4-network` paired in order with `--network`.
//!
//! Only a network the admin names is translated; any other IPv4 address in a rule has no
//! known IPv6 counterpart, and the rule is not translated.

use std::net::IpAddr;
use v6fix_core::{Args, Error, Prefix, Result, Style, Target};

/// The option naming the site's IPv4 networks.
pub(crate) const OPTION: &str = "ipv4-network";

/// IPv4 networks and their IPv6 counterparts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pairs(Vec<(Prefix, Prefix)>);

impl Pairs {
    /// `--ipv4-network` values paired in order with the target's networks.
    pub(crate) fn from(target: &Target, args: &Args) -> Result<Pairs> {
        let v4 = args.all(OPTION);
        if v4.is_empty() {
            return Ok(Pairs::default());
        }
        if target.networks.is_empty() {
            // An audit: nothing is translated.
            return Ok(Pairs::default());
        }
        if v4.len() != target.networks.len() {
            return Err(Error::usage(format!(
                "--{OPTION} is given {} times and --network {} times: each IPv4 network pairs with the --network in the same place",
                v4.len(),
                target.networks.len()
            )));
        }
        let mut out = Vec::new();
        for (text, v6) in v4.iter().zip(&target.networks) {
            let p = Prefix::parse_network(text)
                .ok()
                .filter(|p| !p.is_ipv6())
                .ok_or_else(|| {
                    Error::usage(format!(
                        "--{OPTION} {text}: expected an IPv4 network without host bits (192.0.2.0/24)"
                    ))
                })?;
            out.push((p, *v6));
        }
        Ok(Pairs(out))
    }

    /// The IPv6 spelling of an IPv4 address or network in a rule: `0.0.0.0/0` is `::/0`,
    /// loopback is `::1`, a named network is its pair. `None` when there is no exact one.
    pub(crate) fn map(&self, text: &str) -> Option<String> {
        let p = Prefix::parse(text).ok()?;
        let IpAddr::V4(a) = p.addr() else {
            return None;
        };
        if p.len() == 0 {
            return Some("::/0".into());
        }
        if a.is_loopback() && (p.len() == 32 || p.len() == 8) {
            return Some(if text.contains('/') { "::1/128" } else { "::1" }.into());
        }
        self.0
            .iter()
            .find(|(v4, _)| *v4 == p.network() && !p.has_host_bits())
            .map(|(_, v6)| v6.render(Style::Bare))
    }

    /// How to name a pair, for a refusal.
    pub(crate) fn hint() -> &'static str {
        "name the site's IPv4 network with --ipv4-network beside its --network"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_named_networks_any_and_loopback_translate() {
        let t = Target {
            networks: vec![Prefix::parse("2001:db8::/64").unwrap()],
            ..Default::default()
        };
        let mut a = Args::new();
        a.push(OPTION, "192.0.2.0/24");
        let p = Pairs::from(&t, &a).unwrap();
        assert_eq!(p.map("192.0.2.0/24").as_deref(), Some("2001:db8::/64"));
        assert_eq!(p.map("0.0.0.0/0").as_deref(), Some("::/0"));
        assert_eq!(p.map("127.0.0.1").as_deref(), Some("::1"));
        assert_eq!(p.map("192.0.2.7"), None);
        assert_eq!(p.map("198.51.100.0/24"), None);
        a.push(OPTION, "198.51.100.0/24");
        assert!(Pairs::from(&t, &a).is_err());
    }
}
