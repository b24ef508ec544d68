//! `v6fix firewall`: IPv6 filtering brought to parity with IPv4, in the firewall the host
//! already uses, before any service goes dual-stack.
//!
//! - ufw ([`ufw`]): `IPV6=yes` and the IPv6 twins of the existing rules in user6.rules;
//! - nftables ([`nft`]): a `table ip` filter becomes `table inet`, or gets an `ip6` twin;
//! - iptables-persistent ([`ipt`]): rules.v6 generated from rules.v4;
//! - sysctl ([`sysctl`]): `disable_ipv6 = 1` set to 0.
//!
//! Every input chain that filters IPv6 accepts neighbour and router discovery. A rule
//! without an exact IPv6 form refuses the change, listing each one: v6fix never writes a
//! firewall that leaves IPv6 more open than IPv4 believing it closed. An audit reports the
//! gaps ([`gaps`], also read by `preflight` and `all`).

pub(crate) mod ipt;
pub(crate) mod nft;
pub(crate) mod other;
pub(crate) mod pairs;
pub(crate) mod rules;
pub(crate) mod sysctl;
pub(crate) mod ufw;

use pairs::Pairs;
use std::path::PathBuf;
use v6fix_core::analysis::{Diagnostic, Reach};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, ArgSpec, Args, Finding, Host, Plugin, Result, Severity};

pub(crate) struct Firewall;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Firewall) }

static NEEDS: &[Need] = &[Need::new(
    Fact::Networks,
    "The site's IPv6 network: admitted by IPv6 rules wherever the paired --ipv4-network is",
)
.required()];

static ARGS: &[ArgSpec] = &[ArgSpec::value(
    pairs::OPTION,
    "PREFIX",
    "The site's IPv4 network that the --network in the same place stands in for in firewall rules (may be repeated)",
)
.multiple()];

/// An IPv4 filter with no IPv6 counterpart: IPv6 reaches what IPv4 keeps out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Gap {
    pub(crate) firewall: &'static str,
    pub(crate) path: String,
    pub(crate) line: usize,
    pub(crate) message: String,
    /// The ports the IPv4 rules let in (everything else is what IPv6 opens).
    pub(crate) allowed: Vec<String>,
}

impl Gap {
    pub(crate) fn finding(&self) -> Finding {
        Finding {
            severity: Severity::Error,
            path: self.path.clone(),
            line: Some(self.line),
            message: format!("{}: {}", self.firewall, self.message),
            fix: matches!(self.firewall, "nftables" | "iptables-persistent")
                .then(|| "v6fix firewall --network PREFIX [--ipv4-network PREFIX]".into()),
        }
    }
}

/// Every open IPv6 side of the host's firewalls.
pub(crate) fn gaps(host: &Host) -> Result<Vec<Gap>> {
    let mut out = Vec::new();
    out.extend(ipt::gap(host)?);
    if let Some(set) = nft::load(host)? {
        out.extend(nft::gaps(host, &set));
    }
    out.extend(other::gaps(host)?);
    Ok(out)
}

impl Plugin for Firewall {
    fn name(&self) -> &'static str {
        "firewall"
    }

    fn about(&self) -> &'static str {
        "Firewall: IPv6 filtering to match IPv4 (ufw, nftables, iptables-persistent), ICMPv6 neighbour discovery, disable_ipv6 off"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn args(&self) -> &'static [ArgSpec] {
        ARGS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = [
            ipt::V4,
            ipt::V6,
            nft::MAIN,
            ufw::DEFAULTS,
            ufw::USER,
            ufw::USER6,
        ]
        .iter()
        .map(PathBuf::from)
        .filter(|p| host.is_file(p))
        .collect();
        if let Some(set) = nft::load(host)? {
            out.extend(set.files.iter().skip(1).map(|m| m.file.path.clone()));
        }
        out.extend(sysctl::files(host)?);
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn analyze(&self, host: &Host, target: &Target, args: &Args) -> Result<Analysis> {
        let mut a = Analysis::new();
        let fix = !target.networks.is_empty();
        let pairs = Pairs::from(target, args)?;
        let p = fix.then_some(&pairs);
        sysctl::analyze(host, &mut a, fix)?;
        let u = ufw::analyze(host, &mut a, p)?;
        let n = nft::analyze(host, &mut a, p)?;
        let i = ipt::analyze(host, &mut a, p)?;
        // Firewalls v6fix does not convert: a run warns, the audit keeps reporting.
        for g in other::gaps(host)? {
            a.say(Diagnostic::of(Reach::Lasting, g.finding()));
        }
        let something = u || n || i || a.changes();
        if !something && !self.files(host)?.is_empty() {
            a.note("the firewall filters IPv6 as it filters IPv4: nothing to bring to parity");
        }
        Ok(a)
    }
}
