//! The Plugin trait and the registry every service plugin joins through `inventory`.
//!
//! A plugin declares its arguments as plain [`ArgSpec`]s (core stays free of clap; the CLI
//! turns them into subcommands), reads the host through [`Host`], and returns a [`Plan`].
//! It never writes and never prints. A service whose daemon starts from one main file
//! opens with [`MainFile`]: its `files`, and the reading that says the service is absent.

use crate::analysis::Analysis;
use crate::audit::Finding;
use crate::change::Plan;
use crate::error::{Error, ParseError, Result};
use crate::host::{File, Host};
use crate::target::{Need, Target};
use crate::text::Text;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

/// The file a service's daemon starts reading, and the service as messages name it
/// (`HAProxy`, `the OpenSSH server`): the opening of every plugin whose service has one.
///
/// ```text
/// const MAIN: MainFile = MainFile::new("/etc/haproxy/haproxy.cfg", "HAProxy");
/// fn files(&self, host: &Host) -> Result<Vec<PathBuf>> { MAIN.files(host) }
/// fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
///     let mut a = Analysis::new();
///     let Some((file, doc)) = MAIN.read(host, haproxy::parse, &mut a)? else {
///         return Ok(a);
///     };
///     …
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MainFile {
    pub path: &'static str,
    pub service: &'static str,
}

impl MainFile {
    pub const fn new(path: &'static str, service: &'static str) -> MainFile {
        MainFile { path, service }
    }

    /// [`Plugin::files`] of a service configured in this one file: the file, when it
    /// exists (read, so a directory or FIFO in its place is an error, as for `analyze`).
    pub fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok(host
            .read(Path::new(self.path))?
            .map_or_else(Vec::new, |f| vec![f.path]))
    }

    /// The file and its document; `None`, with the note of [`MainFile::absent`] in `a`,
    /// when it does not exist. A parse error names the file, line and column.
    pub fn read<D>(
        &self,
        host: &Host,
        parse: impl FnOnce(Text) -> Result<D, ParseError>,
        a: &mut Analysis,
    ) -> Result<Option<(File, D)>> {
        let Some(file) = host.read(Path::new(self.path))? else {
            a.note(self.absent_note(host));
            return Ok(None);
        };
        let doc = parse(file.text.clone()).map_err(|e| host.parse_error(&file, e))?;
        Ok(Some((file, doc)))
    }

    /// The analysis of a host without the file, for a plugin that loads it some other
    /// way (with its includes): a note that the service is not installed, nothing else.
    pub fn absent(&self, host: &Host) -> Analysis {
        let mut a = Analysis::new();
        a.note(self.absent_note(host));
        a
    }

    fn absent_note(&self, host: &Host) -> String {
        format!(
            "{} does not exist: {} is not installed here",
            host.display(Path::new(self.path)),
            self.service
        )
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
    fn a_main_file_is_read_and_parsed_or_noted_as_absent() {
        const CONFIG: MainFile = MainFile::new("/etc/toy/toy.conf", "Toyd");
        let d = tempfile::tempdir().unwrap();
        let host = Host::new(d.path()).unwrap();
        let lines = |t: Text| -> Result<usize, ParseError> {
            match t.find('!') {
                Some(at) => Err(ParseError::new(at, "`!`", "a line")),
                None => Ok(t.lines().count()),
            }
        };
        let mut a = Analysis::new();
        assert!(CONFIG.read(&host, lines, &mut a).unwrap().is_none());
        assert!(CONFIG.files(&host).unwrap().is_empty());
        let noted = |a: &Analysis| -> Vec<String> {
            a.diagnostics().iter().map(|d| d.message.clone()).collect()
        };
        let absent = format!(
            "{}/etc/toy/toy.conf does not exist: Toyd is not installed here",
            d.path().display()
        );
        assert_eq!(noted(&a), std::slice::from_ref(&absent));
        assert_eq!(noted(&CONFIG.absent(&host)), [absent]);

        std::fs::create_dir_all(d.path().join("etc/toy")).unwrap();
        std::fs::write(d.path().join("etc/toy/toy.conf"), "a\nb\n").unwrap();
        let mut a = Analysis::new();
        let (file, doc) = CONFIG.read(&host, lines, &mut a).unwrap().unwrap();
        assert_eq!((file.text.as_str(), doc), ("a\nb\n", 2));
        assert!(noted(&a).is_empty());
        assert_eq!(CONFIG.files(&host).unwrap(), [PathBuf::from(CONFIG.path)]);

        std::fs::write(d.path().join("etc/toy/toy.conf"), "a\nb!\n").unwrap();
        let e = CONFIG.read(&host, lines, &mut a).unwrap_err().to_string();
        assert!(
            e.ends_with("etc/toy/toy.conf:2:2: found `!`, expected a line"),
            "{e}"
        );
    }

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
