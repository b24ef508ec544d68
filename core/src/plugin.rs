//! The Plugin trait and the registry every service plugin joins through `inventory`.
//!
//! A plugin declares its arguments as plain [`ArgSpec`]s (core stays free of clap; the CLI
//! turns them into subcommands), reads the host through [`Host`], and returns a [`Plan`].
//! It never writes and never prints.

use crate::addr::{parse_ip, AddrError, Prefix};
use crate::audit::Finding;
use crate::change::Plan;
use crate::error::{Error, Result};
use crate::host::Host;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// One command-line option of a plugin: `--name VALUE` (or a flag without a value).
#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    pub name: &'static str,
    /// The value's placeholder in help (`PREFIX`); `None` for a flag.
    pub value: Option<&'static str>,
    pub help: &'static str,
    /// May be given more than once.
    pub multiple: bool,
    /// Must be given when the plugin runs on its own (`all` skips a plugin lacking it).
    pub required: bool,
    /// An older spelling still accepted, not shown in help.
    pub alias: Option<&'static str>,
}

impl ArgSpec {
    /// `--name VALUE`, optional, once.
    pub const fn value(name: &'static str, value: &'static str, help: &'static str) -> Self {
        ArgSpec {
            name,
            value: Some(value),
            help,
            multiple: false,
            required: false,
            alias: None,
        }
    }

    /// `--name`, a switch.
    pub const fn flag(name: &'static str, help: &'static str) -> Self {
        ArgSpec {
            name,
            value: None,
            help,
            multiple: false,
            required: false,
            alias: None,
        }
    }

    pub const fn multiple(mut self) -> Self {
        self.multiple = true;
        self
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Also accepts `--alias`, without showing it in help.
    pub const fn alias(mut self, alias: &'static str) -> Self {
        self.alias = Some(alias);
        self
    }
}

/// The values given for a plugin's options, by option name (without dashes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    values: BTreeMap<String, Vec<String>>,
}

impl Args {
    pub fn new() -> Self {
        Args::default()
    }

    /// Adds `value` to option `name` (a flag is an option with the value `"true"`).
    pub fn push(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.values
            .entry(name.to_string())
            .or_default()
            .push(value.into());
        self
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], |v| v.as_slice())
    }

    pub fn one(&self, name: &str) -> Option<&str> {
        self.all(name).last().map(String::as_str)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.has(name)
    }

    /// Every value of `--name` as a network (no host bits), in any spelling.
    pub fn networks(&self, name: &str) -> Result<Vec<Prefix>> {
        self.all(name)
            .iter()
            .map(|v| Prefix::parse_network(v).map_err(|e| bad(name, e)))
            .collect()
    }

    /// `--name` as one bare IP address (brackets tolerated), if given.
    pub fn ip(&self, name: &str) -> Result<Option<IpAddr>> {
        self.one(name)
            .map(|v| {
                let t = v.trim_start_matches('[').trim_end_matches(']');
                parse_ip(t).ok_or_else(|| bad(name, AddrError::NotAnAddress(v.to_string())))
            })
            .transpose()
    }

    /// `--name` as one IPv6 address, if given.
    pub fn ipv6(&self, name: &str) -> Result<Option<IpAddr>> {
        match self.ip(name)? {
            Some(ip) if ip.is_ipv4() => Err(bad(name, AddrError::NotIpv6(ip.to_string()))),
            other => Ok(other),
        }
    }

    /// `--name` as this host's own IPv6 address (global unicast), if given: the one check
    /// every plugin applies to the address its IPv6 listeners get.
    pub fn host_address(&self, name: &str) -> Result<Option<std::net::Ipv6Addr>> {
        self.ip(name)?
            .map(|ip| crate::endpoint::host_address(ip, &format!("--{name}")).map_err(Error::usage))
            .transpose()
    }

    /// `--name` as a value that must be given.
    pub fn require(&self, name: &str) -> Result<&str> {
        self.one(name)
            .ok_or_else(|| Error::usage(format!("--{name} is required")))
    }
}

fn bad(name: &str, e: AddrError) -> Error {
    Error::usage(format!("--{name}: {e}"))
}

/// A service plugin: one subcommand of `v6fix`.
pub trait Plugin: Sync {
    /// The subcommand, e.g. `"postfix"`.
    fn name(&self) -> &'static str;

    /// One line for `--help` and `list`.
    fn about(&self) -> &'static str;

    /// The plugin's own options.
    fn args(&self) -> &'static [ArgSpec] {
        &[]
    }

    /// The config files of this service that exist on the host, includes resolved: what
    /// `list` shows and what tells `all` whether the service is there.
    fn files(&self, host: &Host) -> Result<Vec<PathBuf>>;

    /// What keeps this service IPv4-only or breaks it under IPv6. Read-only.
    fn audit(&self, host: &Host) -> Result<Vec<Finding>>;

    /// The changes that make this service dual-stack.
    fn plan(&self, host: &Host, args: &Args) -> Result<Plan>;
}

/// How a plugin joins the registry: `inventory::submit! { Registration(&MyPlugin) }`.
pub struct Registration(pub &'static dyn Plugin);

inventory::collect!(Registration);

/// Every registered plugin, sorted by name.
///
/// # Panics
/// When two plugins share a name: a build that does that is broken.
pub fn registry() -> Vec<&'static dyn Plugin> {
    let mut v: Vec<&'static dyn Plugin> = inventory::iter::<Registration>
        .into_iter()
        .map(|r| r.0)
        .collect();
    v.sort_by_key(|p| p.name());
    for w in v.windows(2) {
        assert!(
            w[0].name() != w[1].name(),
            "two plugins named {}",
            w[0].name()
        );
    }
    v
}

/// The registered plugin called `name`.
pub fn find(name: &str) -> Option<&'static dyn Plugin> {
    registry().into_iter().find(|p| p.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_parse_networks_and_addresses_with_clear_errors() {
        let mut a = Args::new();
        a.push("network", "2001:DB8::/64")
            .push("address", "[2001:db8::c:1]");
        assert_eq!(
            a.networks("network").unwrap()[0].to_string(),
            "2001:db8::/64"
        );
        assert_eq!(
            a.ipv6("address").unwrap().unwrap().to_string(),
            "2001:db8::c:1"
        );
        a.push("bad", "2001:db8::1/64");
        assert_eq!(
            a.networks("bad").unwrap_err().to_string(),
            "--bad: `2001:db8::1/64` has host bits set after the prefix length; the network is `2001:db8::/64`"
        );
        let mut b = Args::new();
        b.push("address", "192.0.2.1");
        assert!(b
            .ipv6("address")
            .unwrap_err()
            .to_string()
            .contains("not an IPv6"));
        assert!(b.require("iface").is_err());
    }
}
