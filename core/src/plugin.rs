//! The Plugin trait and the registry every service plugin joins through `inventory`.
//!
//! A plugin declares its arguments as plain [`ArgSpec`]s (core stays free of clap; the CLI
//! turns them into subcommands), reads the host through [`Host`], and returns a [`Plan`].
//! It never writes and never prints.

use crate::analysis::Analysis;
use crate::audit::Finding;
use crate::change::Plan;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::target::{Need, Target};
use std::collections::BTreeMap;
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

    /// `--name` as a value that must be given.
    pub fn require(&self, name: &str) -> Result<&str> {
        self.one(name)
            .ok_or_else(|| Error::usage(format!("--{name} is required")))
    }
}

/// A service plugin: one subcommand of `v6fix`.
pub trait Plugin: Sync {
    /// The subcommand, e.g. `"postfix"`.
    fn name(&self) -> &'static str;

    /// One line for `--help` and `list`.
    fn about(&self) -> &'static str;

    /// The facts of the [`Target`] it uses, with what each means for this service.
    fn needs(&self) -> &'static [Need] {
        &[]
    }

    /// The plugin's own options, beyond the target's facts.
    fn args(&self) -> &'static [ArgSpec] {
        &[]
    }

    /// The config files of this service that exist on the host, includes resolved: what
    /// `list` shows and what tells `all` whether the service is there.
    fn files(&self, host: &Host) -> Result<Vec<PathBuf>>;

    /// One reading of the service's config: the edits that make it dual-stack for `target`
    /// and everything found on the way. An audit runs it with an empty target, so a plugin
    /// must not require a fact to analyze (only to edit). A plugin in this shape implements
    /// only `analyze`; `plan` and `audit` follow from it and cannot disagree.
    fn analyze(&self, host: &Host, target: &Target, args: &Args) -> Result<Analysis>;

    /// What keeps this service IPv4-only or breaks it under IPv6. Read-only.
    fn audit(&self, host: &Host) -> Result<Vec<Finding>> {
        Ok(self
            .analyze(host, &Target::default(), &Args::new())?
            .findings())
    }

    /// The changes that make this service dual-stack for `target`; `args` holds the
    /// plugin's own options.
    fn plan(&self, host: &Host, target: &Target, args: &Args) -> Result<Plan> {
        self.analyze(host, target, args)?.into_plan()
    }
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
    fn args_hold_repeated_values_and_flags() {
        let mut a = Args::new();
        a.push("nameserver", "2001:db8::53")
            .push("nameserver", "2001:db8::35");
        a.push("first", "true");
        assert_eq!(a.all("nameserver").len(), 2);
        assert_eq!(a.one("nameserver"), Some("2001:db8::35"));
        assert!(a.flag("first"));
        assert!(!a.flag("drop-extra"));
        assert!(a.require("iface").is_err());
    }
}
