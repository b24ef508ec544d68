//! One fuzz trial and the properties it checks, shared by the fuzzer and by the replay of
//! saved findings in the `v6fix` integration tests (which include this file by path, so
//! both run exactly the same checks).
//!
//! A trial lays a small machine tree into a fresh temporary root, runs one plugin's
//! `audit` and `plan` on it with a fixed [`Target`], and checks:
//!
//! 1. nothing panics (each call runs under `catch_unwind`);
//! 2. planning writes nothing: the tree's bytes are the same after `audit` and `plan`;
//! 3. every file the plan changes parses again with its dialect (when the input parsed, a
//!    refusal is the plan breaking the file) and prints back byte for byte;
//! 4. the plan is idempotent: with its files written, planning again succeeds and changes
//!    nothing.
//!
//! A plan that fails with an error is a refusal, which is fine: v6fix exits 2 and writes
//! nothing. Hangs are the fuzzer's business (it runs trials on a thread with a time budget).

use std::fmt;
use std::net::Ipv6Addr;
use std::os::unix::fs::MetadataExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use v6fix_core::dialect::{
    apache, bind, dovecot, exim, haproxy, hostsfile, interfaces, iptables, mycnf, nftables, nginx,
    postfix, postgresql, proftpd, pureftpd, resolv, shellvars, sshd, sysctl, systemd, varnish,
    vsftpd,
};
use v6fix_core::{Args, Host, OwnAddress, Plugin, Prefix, Target};

/// What `v6fix preflight` reads of /etc/hosts, as a plugin the fuzzer can run: it
/// parses the file as preflight does and asks it the same questions, and never edits. No
/// service plugin reads /etc/hosts, so without it the dialect would have no trials.
pub(crate) struct Hosts;

pub(crate) static HOSTS: Hosts = Hosts;

impl Plugin for Hosts {
    fn name(&self) -> &'static str {
        "hosts"
    }

    fn about(&self) -> &'static str {
        "/etc/hosts as preflight reads it"
    }

    fn needs(&self) -> &'static [v6fix_core::Need] {
        &[]
    }

    fn files(&self, host: &Host) -> v6fix_core::Result<Vec<PathBuf>> {
        Ok(host
            .read(Path::new("/etc/hosts"))?
            .map(|f| vec![f.path])
            .unwrap_or_default())
    }

    fn analyze(
        &self,
        host: &Host,
        _: &Target,
        _: &Args,
    ) -> v6fix_core::Result<v6fix_core::Analysis> {
        if let Some(f) = host.read(Path::new("/etc/hosts"))? {
            let d = hostsfile::parse(&f.text).map_err(|e| host.parse_error(&f, e))?;
            for (addr, name) in [
                ("::1", "localhost"),
                ("::1", "ip6-localhost"),
                ("127.0.0.1", "localhost"),
            ] {
                std::hint::black_box(d.maps(addr.parse().expect("a literal address"), name));
            }
        }
        Ok(v6fix_core::Analysis::new())
    }
}

/// A file or a symlink of a machine tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Node {
    File(Vec<u8>),
    Link(PathBuf),
}

/// A small machine tree: entries by absolute machine path (`/etc/postfix/main.cf`).
pub(crate) type Tree = Vec<(PathBuf, Node)>;

/// The target every trial converts to: the facts the plugin declares, taken from
/// address 2001:db8::ad:1/64, network 2001:db8::/64, gateway 2001:db8::1, interface eth0
/// and nameserver 2001:db8::53.
pub(crate) fn target(plugin: &dyn Plugin) -> Target {
    use v6fix_core::Fact;
    let mut t = Target::default();
    for need in plugin.needs() {
        match need.fact {
            Fact::Address => {
                t.addresses = vec![OwnAddress {
                    ip: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0xad, 1),
                    len: Some(64),
                }]
            }
            Fact::Networks => {
                t.networks = vec![Prefix::parse("2001:db8::/64").expect("a valid prefix")]
            }
            Fact::Gateway => t.gateway = Some(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            Fact::Iface => t.iface = Some("eth0".into()),
            Fact::Nameservers => t.nameservers = vec!["2001:db8::53".into()],
        }
    }
    t
}

/// The dialects, by the name of their directory under `testdata/`.
pub(crate) const DIALECTS: &[&str] = &[
    "apache",
    "bind",
    "dovecot",
    "exim4",
    "haproxy",
    "hostsfile",
    "interfaces",
    "iptables",
    "mycnf",
    "nftables",
    "nginx",
    "postfix",
    "postgresql",
    "proftpd",
    "pureftpd",
    "resolv",
    "shellvars",
    "sshd",
    "sysctl",
    "systemd",
    "varnish",
    "vsftpd",
];

/// The dialect `plugin` reads the file at machine path `path` with, if it reads it with one.
pub(crate) fn dialect_of(plugin: &str, path: &Path) -> Option<&'static str> {
    let p = path.to_string_lossy();
    let name = path.file_name()?.to_string_lossy();
    let under = |dir: &str| p.starts_with(dir);
    match plugin {
        "apache" if under("/etc/apache2/") && name != "envvars" => Some("apache"),
        "bind9" if under("/etc/bind/") && !name.starts_with("db.") && name != "bind.keys" => {
            Some("bind")
        }
        "dovecot" if under("/etc/dovecot/") => Some("dovecot"),
        "firewall" if p == "/etc/nftables.conf" || under("/etc/nftables.d/") => Some("nftables"),
        "firewall"
            if under("/etc/iptables/")
                || p == "/etc/ufw/user.rules"
                || p == "/etc/ufw/user6.rules" =>
        {
            Some("iptables")
        }
        "firewall" if p == "/etc/default/ufw" || p == "/etc/ufw/ufw.conf" => Some("shellvars"),
        "firewall"
            if p == "/etc/sysctl.conf"
                || p == "/etc/ufw/sysctl.conf"
                || under("/etc/sysctl.d/") =>
        {
            Some("sysctl")
        }
        "exim4" if under("/etc/exim4/") => Some("exim4"),
        "haproxy" if p == "/etc/haproxy/haproxy.cfg" => Some("haproxy"),
        "hosts" if p == "/etc/hosts" => Some("hostsfile"),
        "interfaces" if p == "/etc/network/interfaces" || under("/etc/network/interfaces.d/") => {
            Some("interfaces")
        }
        "nginx" if under("/etc/nginx/") => Some("nginx"),
        "postfix" if under("/etc/postfix/") => Some("postfix"),
        "pure-ftpd" if under("/etc/pure-ftpd/conf/") => Some("pureftpd"),
        "mariadb" if under("/etc/mysql/") || p == "/etc/my.cnf" => Some("mycnf"),
        "postgresql" if under("/etc/postgresql/") || under("/var/lib/postgresql/") => {
            Some("postgresql")
        }
        "proftpd" if under("/etc/proftpd/") => Some("proftpd"),
        "resolv" if p == "/etc/resolv.conf" => Some("resolv"),
        "sshd" if p == "/etc/ssh/sshd_config" || under("/etc/ssh/sshd_config.d/") => Some("sshd"),
        "varnish" if name.ends_with(".vcl") => Some("varnish"),
        "vsftpd" if p == "/etc/vsftpd.conf" => Some("vsftpd"),
        "varnish"
            if name == "varnish.service" || under("/etc/systemd/system/varnish.service.d/") =>
        {
            Some("systemd")
        }
        _ => None,
    }
}

/// True when `plugin` may read the file at `path`: the files a trial lays out for it.
pub(crate) fn relevant(plugin: &str, path: &Path) -> bool {
    let p = path.to_string_lossy();
    dialect_of(plugin, path).is_some()
        || match plugin {
            "apache" => p.starts_with("/etc/apache2/"),
            "bind9" => p.starts_with("/etc/bind/"),
            "pure-ftpd" => p.starts_with("/etc/pure-ftpd/") || p == "/etc/default/pure-ftpd-common",
            "resolv" => p.starts_with("/run/") || p.starts_with("/etc/resolvconf"),
            "varnish" => {
                p.starts_with("/etc/varnish/")
                    || p.starts_with("/usr/share/varnish/")
                    || p == "/etc/default/varnish"
            }
            _ => false,
        }
}

/// Parses `text` as `dialect` (a Postfix file by its name) and prints it back.
pub(crate) fn reprint(dialect: &str, path: &Path, text: &str) -> Result<String, String> {
    // A byte order mark is kept apart from the text the dialects read, as v6fix reads it.
    if let Some(rest) = text.strip_prefix(v6fix_core::text::BOM) {
        return reprint(dialect, path, rest).map(|t| format!("{}{t}", v6fix_core::text::BOM));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let e = |e: v6fix_core::ParseError| format!("{e:?}");
    match dialect {
        "apache" => apache::parse(text).map(|d| d.to_string()).map_err(e),
        "bind" => bind::parse(text).map(|d| d.to_string()).map_err(e),
        "dovecot" => dovecot::parse(text).map(|d| d.to_string()).map_err(e),
        "exim4" if name != "update-exim4.conf.conf" => exim::conf::parse(text, true)
            .map(|d| d.to_string())
            .map_err(e),
        "exim4" => exim::debconf::parse(text).map(|d| d.to_string()).map_err(e),
        "haproxy" => haproxy::parse(text).map(|d| d.to_string()).map_err(e),
        "interfaces" => interfaces::parse(text).map(|d| d.to_string()).map_err(e),
        "nginx" => nginx::parse(text).map(|d| d.to_string()).map_err(e),
        "pureftpd" => Ok(pureftpd::parse(text).to_string()),
        "mycnf" => mycnf::parse(text).map(|d| d.to_string()).map_err(e),
        "postgresql" if name.contains("pg_hba") => postgresql::hba::parse(text)
            .map(|d| d.to_string())
            .map_err(e),
        "postgresql" => postgresql::conf::parse(text)
            .map(|d| d.to_string())
            .map_err(e),
        "proftpd" => proftpd::parse(text).map(|d| d.to_string()).map_err(e),
        "resolv" => resolv::parse(text).map(|d| d.to_string()).map_err(e),
        "iptables" => iptables::parse(text).map(|d| d.to_string()).map_err(e),
        "nftables" => nftables::parse(text).map(|d| d.to_string()).map_err(e),
        "sysctl" => sysctl::parse(text).map(|d| d.to_string()).map_err(e),
        "shellvars" => shellvars::parse(text).map(|d| d.to_string()).map_err(e),
        "hostsfile" => hostsfile::parse(text).map(|d| d.to_string()).map_err(e),
        "sshd" => sshd::parse(text).map(|d| d.to_string()).map_err(e),
        "systemd" => systemd::parse(text).map(|d| d.to_string()).map_err(e),
        "varnish" => varnish::parse(text).map(|d| d.to_string()).map_err(e),
        "vsftpd" => vsftpd::parse(text).map(|d| d.to_string()).map_err(e),
        "postfix" if name == "main.cf" => postfix::parse(text).map(|d| d.to_string()).map_err(e),
        "postfix" if name == "master.cf" => postfix::parse_master(text)
            .map(|d| d.to_string())
            .map_err(e),
        // A `.cidr` file is a cidr table when main.cf names it `cidr:…`, but a plain list
        // (which every text is) when it names the bare path: either reading will do.
        "postfix" if name.ends_with(".cidr") => postfix::parse_cidr(text)
            .map(|d| d.to_string())
            .or_else(|_| postfix::parse_list(text).map(|d| d.to_string()))
            .map_err(e),
        "postfix" => postfix::parse_list(text).map(|d| d.to_string()).map_err(e),
        other => Err(format!("no dialect `{other}`")),
    }
}

/// The property a trial broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Property {
    /// `audit` or `plan` panicked.
    Panic,
    /// The trial did not finish within its time budget.
    Hang,
    /// The process died (a stack overflow aborts it; no `catch_unwind` stops that).
    Crash,
    /// `audit` or `plan` changed the tree on disk.
    Wrote,
    /// The plan turned a file that parsed into one its dialect refuses.
    Broke,
    /// The plan wrote a file its dialect refuses (the input did not parse either).
    Unparsable,
    /// The plan's output does not print back byte for byte.
    RoundTrip,
    /// Planning again on the plan's result fails.
    SecondRefused,
    /// Planning again on the plan's result changes files.
    NotIdempotent,
}

impl Property {
    /// The word that names it in saved findings.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Property::Panic => "panic",
            Property::Hang => "hang",
            Property::Crash => "crash",
            Property::Wrote => "wrote",
            Property::Broke => "broke",
            Property::Unparsable => "unparsable",
            Property::RoundTrip => "round-trip",
            Property::SecondRefused => "second-refused",
            Property::NotIdempotent => "not-idempotent",
        }
    }
}

/// How a trial ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The plan succeeded and every property held; `changed` when it changed files.
    Planned { changed: bool },
    /// The plan failed with an error (exit 2), nothing written, nothing panicked.
    Refused(String),
    /// A property failed.
    Failed(Property, String),
}

impl Verdict {
    pub(crate) fn failed(&self) -> Option<Property> {
        match self {
            Verdict::Failed(p, _) => Some(*p),
            _ => None,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Planned { changed: true } => write!(f, "planned changes"),
            Verdict::Planned { changed: false } => write!(f, "planned nothing"),
            Verdict::Refused(e) => write!(f, "refused: {e}"),
            Verdict::Failed(p, d) => write!(f, "{}: {d}", p.word()),
        }
    }
}

/// Writes `tree` below `root`.
pub(crate) fn lay_out(root: &Path, tree: &Tree) -> std::io::Result<()> {
    for (path, node) in tree {
        let at = on_disk(root, path);
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match node {
            Node::File(bytes) => std::fs::write(&at, bytes)?,
            Node::Link(to) => std::os::unix::fs::symlink(to, &at)?,
        }
    }
    Ok(())
}

fn on_disk(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// Every file and symlink below `dir`, by path relative to it, sorted.
pub(crate) fn snapshot(dir: &Path) -> Vec<(PathBuf, Node)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, Node)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap_or(&p).to_path_buf();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_symlink() {
                out.push((rel, Node::Link(std::fs::read_link(&p).unwrap_or_default())));
            } else if ft.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((rel, Node::File(std::fs::read(&p).unwrap_or_default())));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

/// Runs `f`, turning a panic into a [`Verdict::Failed`] naming `what`.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Verdict> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|p| Verdict::Failed(Property::Panic, format!("{what}: {}", panic_message(&*p))))
}

/// One trial: `plugin` with `args` on `tree`, laid out in a fresh temporary directory.
pub(crate) fn check(plugin: &dyn Plugin, args: &Args, tree: &Tree) -> Verdict {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return Verdict::Refused(format!("no temporary directory: {e}")),
    };
    if let Err(e) = lay_out(dir.path(), tree) {
        return Verdict::Refused(format!("cannot lay out the tree: {e}"));
    }
    check_in(dir.path(), plugin, args, &mut Vec::new())
}

/// An entry on disk: path, size, inode, modification time.
type Stamp = (PathBuf, u64, u64, Option<std::time::SystemTime>);

/// What the disk holds below `dir`: each entry's path, size and modification time (a write
/// changes the time), sorted.
fn fingerprint(dir: &Path) -> Vec<Stamp> {
    fn walk(dir: &Path, out: &mut Vec<Stamp>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(m) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if m.is_dir() {
                walk(&e.path(), out);
            }
            out.push((e.path(), m.len(), m.ino(), m.modified().ok()));
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// One trial on a tree already laid out below `root`; the machine paths of the files it
/// wrote there (the plan's, for planning again) are added to `written`.
pub(crate) fn check_in(
    root: &Path,
    plugin: &dyn Plugin,
    args: &Args,
    written: &mut Vec<PathBuf>,
) -> Verdict {
    let v = match trial(root, plugin, args, written) {
        Ok(v) | Err(v) => v,
    };
    // Messages name the root, which differs every run: show it as `[ROOT]`.
    let root = root.display().to_string();
    match v {
        Verdict::Refused(m) => Verdict::Refused(m.replace(&root, "[ROOT]")),
        Verdict::Failed(p, m) => Verdict::Failed(p, m.replace(&root, "[ROOT]")),
        v => v,
    }
}

fn trial(
    root: &Path,
    plugin: &dyn Plugin,
    args: &Args,
    written: &mut Vec<PathBuf>,
) -> Result<Verdict, Verdict> {
    let before = fingerprint(root);
    let host = Host::new(root).map_err(|e| Verdict::Refused(e.to_string()))?;
    let target = target(plugin);
    let _ = guarded("audit", || plugin.audit(&host))?;
    let plan = guarded("plan", || plugin.plan(&host, &target, args))?;
    if fingerprint(root) != before {
        return Err(Verdict::Failed(
            Property::Wrote,
            "audit or plan changed the tree".into(),
        ));
    }
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return Ok(Verdict::Refused(e.to_string())),
    };
    for fc in &plan.files {
        let Some(dialect) = dialect_of(plugin.name(), &fc.target) else {
            continue;
        };
        match reprint(dialect, &fc.target, &fc.new) {
            Ok(out) if fc.new == out => {}
            Ok(_) => {
                return Err(Verdict::Failed(
                    Property::RoundTrip,
                    format!(
                        "{}: the new text does not print back as it is",
                        fc.target.display()
                    ),
                ))
            }
            Err(e) => {
                let parsed = fc
                    .old
                    .as_deref()
                    .is_none_or(|old| reprint(dialect, &fc.target, old).is_ok());
                let p = if parsed {
                    Property::Broke
                } else {
                    Property::Unparsable
                };
                return Err(Verdict::Failed(
                    p,
                    format!(
                        "{}: the {dialect} dialect refuses the new text: {e}",
                        fc.target.display()
                    ),
                ));
            }
        }
    }
    if !plan.changed() {
        return Ok(Verdict::Planned { changed: false });
    }
    for fc in &plan.files {
        let at = on_disk(root, &fc.target);
        written.push(fc.target.clone());
        let written = at
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&at, v6fix_core::text::encode(&fc.new)));
        if let Err(e) = written {
            return Err(Verdict::Refused(format!(
                "cannot write {}: {e}",
                at.display()
            )));
        }
    }
    let host = Host::new(root).map_err(|e| Verdict::Refused(e.to_string()))?;
    let again = guarded("second plan", || plugin.plan(&host, &target, args))?;
    match again {
        Err(e) => Err(Verdict::Failed(
            Property::SecondRefused,
            format!("planning again on the result fails: {e}"),
        )),
        Ok(p) if p.changed() => {
            let fc = &p.files[0];
            Err(Verdict::Failed(
                Property::NotIdempotent,
                format!(
                    "planning again changes {}: {:?} -> {:?}",
                    fc.target.display(),
                    first_difference(fc.old.as_deref().unwrap_or(""), &fc.new).0,
                    first_difference(fc.old.as_deref().unwrap_or(""), &fc.new).1,
                ),
            ))
        }
        Ok(_) => Ok(Verdict::Planned { changed: true }),
    }
}

/// The first differing line of `a` and of `b`, shortened.
fn first_difference(a: &str, b: &str) -> (String, String) {
    let short = |l: &str| l.chars().take(120).collect::<String>();
    let mut la = a.lines();
    let mut lb = b.lines();
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => return (short(x.unwrap_or("")), short(y.unwrap_or(""))),
        }
    }
}
