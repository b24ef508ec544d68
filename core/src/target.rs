//! The target of a conversion: the typed facts every plugin draws on (this host's IPv6
//! addresses, the site networks, the gateway, the interface, the nameservers).
//!
//! A target is built once, by the command line from the options a user typed or by `all`
//! from the address plan, and handed to every plugin of the run. Each plugin declares the
//! facts it uses with [`Need`]s; the command line offers exactly those options, with one
//! name and one check per fact, so no two plugins spell or validate the same fact
//! differently. Core only holds the data: turning options into facts happens in the CLI.

use crate::addr::Prefix;
use std::net::Ipv6Addr;

/// One of this host's IPv6 addresses, with its prefix length when one was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnAddress {
    /// A global unicast address (checked by [`crate::endpoint::host_address`]).
    pub ip: Ipv6Addr,
    /// `ADDR/LEN` as given; `None` for a bare address.
    pub len: Option<u8>,
}

/// The facts of one conversion. Empty facts are simply absent: an audit runs on
/// [`Target::default()`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// This host's IPv6 addresses, the primary one first.
    pub addresses: Vec<OwnAddress>,
    /// The site networks (IPv6, no host bits) to admit wherever the site's IPv4 networks are.
    pub networks: Vec<Prefix>,
    /// The IPv6 default gateway.
    pub gateway: Option<Ipv6Addr>,
    /// The gateway is the address plan's default (`::1` in the site network, or the plan's
    /// own), not one the user typed with `--gateway`: a gateway the host already has
    /// configured wins over it.
    pub gateway_by_default: bool,
    /// The network interface to configure.
    pub iface: Option<String>,
    /// Nameservers to add, as given (a link-local one carries its `%zone`).
    pub nameservers: Vec<String>,
}

impl Target {
    /// The host's primary IPv6 address.
    pub fn address(&self) -> Option<Ipv6Addr> {
        self.addresses.first().map(|a| a.ip)
    }

    /// Every IPv6 address of the host, primary first.
    pub fn address_ips(&self) -> Vec<Ipv6Addr> {
        self.addresses.iter().map(|a| a.ip).collect()
    }

    /// True when `fact` holds a value.
    pub fn has(&self, fact: Fact) -> bool {
        match fact {
            Fact::Address => !self.addresses.is_empty(),
            Fact::Networks => !self.networks.is_empty(),
            Fact::Gateway => self.gateway.is_some(),
            Fact::Iface => self.iface.is_some(),
            Fact::Nameservers => !self.nameservers.is_empty(),
        }
    }
}

/// A fact of the target, by the option that gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// `--address ADDR[/LEN]` (or `--role`/`--host` with the address plan, where allowed).
    Address,
    /// `--network PREFIX`, repeatable.
    Networks,
    /// `--gateway ADDR`.
    Gateway,
    /// `--iface IF`.
    Iface,
    /// `--nameserver ADDR`, repeatable.
    Nameservers,
}

impl Fact {
    /// The option's name, without dashes.
    pub const fn option(self) -> &'static str {
        match self {
            Fact::Address => "address",
            Fact::Networks => "network",
            Fact::Gateway => "gateway",
            Fact::Iface => "iface",
            Fact::Nameservers => "nameserver",
        }
    }
}

/// A fact a plugin uses, what it means there (for `--help`), and how it may be given.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    pub fact: Fact,
    pub help: &'static str,
    /// The plugin cannot run without it (`all` skips it and says why).
    pub required: bool,
    /// More than one value is used (several host addresses, several networks).
    pub multiple: bool,
    /// The address may come from the address plan (`--network` with `--role` and `--host`).
    pub from_plan: bool,
    /// An older spelling of the option still accepted, not shown in help.
    pub alias: Option<&'static str>,
}

impl Need {
    pub const fn new(fact: Fact, help: &'static str) -> Need {
        Need {
            fact,
            help,
            required: false,
            multiple: matches!(fact, Fact::Networks | Fact::Nameservers),
            from_plan: false,
            alias: None,
        }
    }

    pub const fn required(mut self) -> Need {
        self.required = true;
        self
    }

    pub const fn multiple(mut self) -> Need {
        self.multiple = true;
        self
    }

    pub const fn from_plan(mut self) -> Need {
        self.from_plan = true;
        self
    }

    pub const fn alias(mut self, alias: &'static str) -> Need {
        self.alias = Some(alias);
        self
    }
}
