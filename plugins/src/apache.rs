//! `v6fix apache`: IPv6 listeners, virtual host addresses and access rules for Apache 2.4.
//!
//! Apache binds a port-only `Listen 80` (and `Listen [::]:80`) as one socket with
//! IPV6_V6ONLY off, so it already accepts both families; `*:80` virtual hosts match both.
//! Those are left alone, and no `Listen [::]:80` is ever added beside them: that passes
//! `apache2 -t` and then fails to start with "Address already in use". What is changed:
//!
//! - `Listen 0.0.0.0:P` gains `Listen [::]:P`; `Listen 192.0.2.10:P` gains
//!   `Listen [--address]:P`; `Listen 127.0.0.1:P` gains `Listen [::1]:P`. The twin goes
//!   right after its original, inside the same `<IfModule>` block, with the same
//!   indentation and protocol argument.
//! - `<VirtualHost 192.0.2.10:P>` gains `[--address]:P` (and `127.0.0.1:P` gains `[::1]:P`),
//!   so IPv6 clients reach the same site instead of the default one.
//! - `Require ip` and `Allow from` lines that admit IPv4 networks gain each `--network`
//!   prefix, bare; `127.0.0.1` gains `::1`. Brackets there are an error in Apache and are
//!   removed.
//! - Unbracketed IPv6 literals in `Listen` and `<VirtualHost>` are bracketed the way Apache
//!   reads them (the last `:` separates the port).
//!
//! Restart, not reload, after Listen changes: a graceful reload (SIGUSR1) does bind new
//! Listen lines, but when one cannot be bound (an address not up yet) Apache logs "no
//! listening sockets available, shutting down" and exits, while `systemctl reload` has
//! already reported success (verified with Apache 2.4 on Debian 12). A restart reports the
//! failure where the operator looks. Changes to virtual host addresses and access rules
//! alone only need a reload.
//!
//! v6fix computes the resulting listener set itself and skips a twin that would collide
//! with a listener already there. Listeners under different `<IfModule>`/`<IfDefine>`
//! conditions (Debian's ports.conf has `Listen 443` for both ssl_module and
//! mod_gnutls.c) are taken as alternatives that are never active together.
//!
//! IPv4 loopback listeners such as `Listen 127.0.0.1:8080` (a backend behind a local
//! Varnish) get a `[::1]` twin: nothing outside the host can reach either, the proxy keeps
//! connecting over 127.0.0.1, and local clients that resolve `localhost` to `::1` first
//! reach the backend too. This needs no `--address`.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use v6fix_core::dialect::apache::{self, Doc, Item, Kind};
use v6fix_core::{
    ArgSpec, Args, Edits, Error, File, Finding, Host, Plan, Plugin, Prefix, Result, Severity,
};

pub(crate) struct Apache;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Apache) }

const SERVER_ROOT: &str = "/etc/apache2";
const MAIN: &str = "/etc/apache2/apache2.conf";
const MAX_FILES: usize = 4096;

static ARGS: &[ArgSpec] = &[
    ArgSpec::value(
        "address",
        "ADDR",
        "This host's IPv6 address: the twin of listeners and virtual hosts on a specific IPv4 address",
    ),
    ArgSpec::value(
        "network",
        "PREFIX",
        "The site's IPv6 network, added to `Require ip` and `Allow from` lines that admit IPv4 networks",
    )
    .multiple(),
];

impl Plugin for Apache {
    fn name(&self) -> &'static str {
        "apache"
    }

    fn about(&self) -> &'static str {
        "Apache 2.4: IPv6 twins for IPv4-only Listen and VirtualHost addresses, IPv6 networks in Require ip/Allow from"
    }

    fn args(&self) -> &'static [ArgSpec] {
        ARGS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok(match Conf::load(host)? {
            Some(c) => c.files.iter().map(|(f, _)| f.path.clone()).collect(),
            None => Vec::new(),
        })
    }

    fn audit(&self, host: &Host) -> Result<Vec<Finding>> {
        let Some(conf) = Conf::load(host)? else {
            return Ok(Vec::new());
        };
        let a = analyze(host, &conf, None, &[]);
        Ok(a.findings)
    }

    fn plan(&self, host: &Host, args: &Args) -> Result<Plan> {
        let address = args.ipv6("address")?;
        let networks = args.networks("network")?;
        if let Some(n) = networks.iter().find(|n| !n.is_ipv6()) {
            return Err(Error::usage(format!(
                "--network {n}: an IPv6 prefix is needed (the IPv4 networks are there already)"
            )));
        }
        if address.is_some_and(|a| a.is_unspecified() || a.is_loopback()) {
            return Err(Error::usage(
                "--address: give this host's own IPv6 address, not :: or ::1",
            ));
        }
        let mut plan = Plan::new();
        let Some(conf) = Conf::load(host)? else {
            plan.note(format!(
                "{} does not exist: Apache is not installed here",
                host.display(Path::new(MAIN))
            ));
            return Ok(plan);
        };
        let a = analyze(host, &conf, address, &networks);
        if let Some(e) = a.invalid {
            return Err(e);
        }
        for w in conf.warnings.iter().chain(&a.warnings) {
            plan.warn(w.clone());
        }
        for n in &a.notes {
            plan.note(n.clone());
        }
        for ((file, _), edits) in conf.files.iter().zip(a.edits) {
            if !edits.is_empty() {
                plan.change(file, edits.apply(&file.text));
            }
        }
        if plan.changed() {
            if a.listen_changed {
                plan.restart(
                    "apache2",
                    "restart",
                    "apache2ctl configtest && systemctl restart apache2",
                    "new Listen sockets (their addresses must be up first): a graceful reload binds them too, \
                     but one failed bind shuts the whole server down while `systemctl reload` reports success; \
                     a restart shows the failure at once",
                );
            } else {
                plan.restart(
                    "apache2",
                    "reload",
                    "apache2ctl configtest && systemctl reload apache2",
                    "only virtual host addresses and access rules changed: a graceful reload applies them",
                );
            }
        }
        Ok(plan)
    }
}

/// Every file of the configuration, in the order Apache reads them, parsed.
struct Conf {
    files: Vec<(File, Doc)>,
    warnings: Vec<String>,
}

impl Conf {
    fn load(host: &Host) -> Result<Option<Conf>> {
        let Some(main) = host.read(Path::new(MAIN))? else {
            return Ok(None);
        };
        let mut conf = Conf {
            files: Vec::new(),
            warnings: Vec::new(),
        };
        let mut seen = HashSet::new();
        let mut root = PathBuf::from(SERVER_ROOT);
        conf.add(host, main, &mut root, &mut seen)?;
        Ok(Some(conf))
    }

    fn add(
        &mut self,
        host: &Host,
        file: File,
        root: &mut PathBuf,
        seen: &mut HashSet<PathBuf>,
    ) -> Result<()> {
        if !seen.insert(file.target.clone()) || self.files.len() >= MAX_FILES {
            return Ok(());
        }
        let doc = apache::parse(&file.text).map_err(|e| host.parse_error(&file, e))?;
        let mut includes = Vec::new();
        for (i, it) in doc.items().iter().enumerate() {
            if it.is("ServerRoot") && it.kind == Kind::Directive {
                if let Some(a) = it.args.first() {
                    let r = a.unquoted();
                    if r.starts_with('/') && !r.contains("${") {
                        *root = PathBuf::from(r);
                    }
                }
            }
            let optional = it.is("IncludeOptional");
            if it.kind != Kind::Directive || !(optional || it.is("Include")) {
                continue;
            }
            for a in &it.args {
                includes.push((i, a.unquoted().to_string(), optional));
            }
        }
        let at = |i: usize| host.locate(&file, doc.items()[i].span.start);
        let mut found = Vec::new();
        for (i, pat, optional) in includes {
            if pat.contains("${") {
                self.warnings.push(format!(
                    "{}: Include {pat} names a variable that v6fix cannot resolve: not read",
                    at(i)
                ));
                continue;
            }
            let full = if pat.starts_with('/') {
                pat.clone()
            } else {
                format!("{}/{pat}", root.display())
            };
            let paths = if pat.contains(['*', '?', '[']) {
                host.glob(&full)?
            } else if host.exists(Path::new(&full)) {
                vec![PathBuf::from(&full)]
            } else {
                Vec::new()
            };
            if paths.is_empty() && !optional {
                self.warnings.push(format!(
                    "{}: Include {pat} matches nothing: Apache refuses to start this way",
                    at(i)
                ));
            }
            for p in paths {
                collect_files(host, &p, &mut found, 0)?;
            }
        }
        self.files.push((file, doc));
        for p in found {
            if let Some(f) = host.read(&p)? {
                self.add(host, f, root, seen)?;
            }
        }
        Ok(())
    }
}

/// A file, or every file below a directory (as Apache includes a directory), sorted.
fn collect_files(host: &Host, p: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<()> {
    let real = host.on_disk(&host.resolve(p)?);
    if real.is_dir() {
        if depth > 8 {
            return Ok(());
        }
        for name in host.list_dir(p)? {
            collect_files(host, &p.join(name), out, depth + 1)?;
        }
    } else if real.is_file() {
        out.push(p.to_path_buf());
    }
    Ok(())
}

/// The address part of a `Listen` or `<VirtualHost>` word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addr {
    /// Port only, `*`, `[::]`, `_default_`: one socket for both families in Apache.
    Any,
    /// `0.0.0.0`: IPv4 only.
    V4Any,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    /// A name or `${VAR}`: not something v6fix reasons about.
    Other,
}

/// An address word, read the way Apache reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spot {
    addr: Addr,
    port: Option<String>,
    /// The bracketed spelling when the word is an unbracketed IPv6 literal.
    fixed: Option<String>,
}

/// Reads `text` as Apache's `apr_parse_addr_port` does: brackets around IPv6, else the
/// last `:` separates the port.
fn read_spot(text: &str) -> std::result::Result<Spot, String> {
    let spot = |addr, port: Option<&str>| Spot {
        addr,
        port: port.map(str::to_string),
        fixed: None,
    };
    if text.contains("${") {
        return Ok(spot(Addr::Other, None));
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{text}` lacks the closing `]`"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("`{text}`: expected `:PORT` after `]`"))?,
            ),
        };
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| format!("`{inside}` in `{text}` is not an IPv6 address"))?;
        let addr = if ip.is_unspecified() {
            Addr::Any
        } else {
            Addr::V6(ip)
        };
        return Ok(spot(addr, port));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
        return Ok(spot(Addr::Any, Some(text)));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        Some((h, "*")) => (h, Some("*")),
        _ => (text, None),
    };
    if host.contains(':') {
        // An unbracketed IPv6 literal.
        if let (Ok(ip), Some(p)) = (host.parse::<Ipv6Addr>(), port) {
            let mut s = read_spot(&format!("[{ip}]:{p}"))?;
            s.fixed = Some(format!("[{host}]:{p}"));
            return Ok(s);
        }
        if let Ok(ip) = text.parse::<Ipv6Addr>() {
            let mut s = spot(Addr::V6(ip), None);
            s.fixed = Some(format!("[{text}]"));
            return Ok(s);
        }
        return Err(format!(
            "Apache reads `{text}` as host `{host}` and port `{}`, which is no address: write [IPV6]:PORT",
            port.unwrap_or("")
        ));
    }
    let addr = match host {
        "*" | "_default_" => Addr::Any,
        "0.0.0.0" => Addr::V4Any,
        h => match h.parse::<Ipv4Addr>() {
            Ok(ip) => Addr::V4(ip),
            Err(_) => Addr::Other,
        },
    };
    Ok(spot(addr, port))
}

fn render(ip: IpAddr, port: Option<&str>) -> String {
    match port {
        Some(p) => v6fix_core::addr::host_port(ip, p),
        None => v6fix_core::addr::bracketed(ip),
    }
}

/// The `<IfModule>`/`<IfDefine>`/… conditions around an item.
fn conditions(doc: &Doc, i: usize) -> Vec<String> {
    let mut c: Vec<String> = doc
        .ancestors(i)
        .into_iter()
        .filter(|s| s.name.len() > 2 && s.name[..2].eq_ignore_ascii_case("if"))
        .map(|s| {
            let args: Vec<_> = s.args.iter().map(|a| a.unquoted().to_string()).collect();
            format!("{} {}", s.name.to_ascii_lowercase(), args.join(" "))
        })
        .collect();
    c.sort();
    c
}

/// True when two condition sets can hold at once as far as v6fix can tell: one is part
/// of the other. Different conditions are taken as alternatives.
fn together(a: &[String], b: &[String]) -> bool {
    a.iter().all(|x| b.contains(x)) || b.iter().all(|x| a.contains(x))
}

/// One listener in the resulting set.
struct Sock {
    addr: Addr,
    port: String,
    cond: Vec<String>,
    text: String,
    at: String,
}

/// True when binding `new` next to `old` fails (or repeats it).
fn clashes(new: Addr, old: Addr) -> bool {
    match (new, old) {
        (Addr::Any, Addr::Any | Addr::V6(_)) => true,
        (Addr::V6(_), Addr::Any) => true,
        (Addr::V6(a), Addr::V6(b)) => a == b,
        _ => false,
    }
}

#[derive(Default)]
struct Analysis {
    edits: Vec<Edits>,
    notes: Vec<String>,
    warnings: Vec<String>,
    findings: Vec<Finding>,
    invalid: Option<Error>,
    listen_changed: bool,
}

impl Analysis {
    fn find(
        &mut self,
        host: &Host,
        file: &File,
        off: usize,
        sev: Severity,
        msg: String,
        fix: &str,
    ) {
        self.findings.push(Finding {
            severity: sev,
            path: host.display(&file.path),
            line: Some(file.line_col(off).line),
            message: msg,
            fix: (!fix.is_empty()).then(|| fix.to_string()),
        });
    }

    fn refuse(&mut self, host: &Host, file: &File, off: usize, msg: String) {
        self.find(host, file, off, Severity::Error, msg.clone(), "");
        if self.invalid.is_none() {
            self.invalid = Some(Error::invalid(
                host.display(&file.path),
                Some(file.line_col(off)),
                msg,
            ));
        }
    }
}

const FIX_PLAIN: &str = "v6fix apache";
const FIX_ADDRESS: &str = "v6fix apache --address ADDR";
const FIX_NETWORK: &str = "v6fix apache --network PREFIX";

/// Works out every change (with `address`/`networks` as given; `None`/empty for an audit)
/// and every finding.
fn analyze(host: &Host, conf: &Conf, address: Option<IpAddr>, networks: &[Prefix]) -> Analysis {
    let mut a = Analysis {
        edits: conf.files.iter().map(|_| Edits::new()).collect(),
        ..Analysis::default()
    };
    // Pass 1: the listeners as they are.
    let mut socks: Vec<Sock> = Vec::new();
    let mut listens = Vec::new();
    for (fi, (file, doc)) in conf.files.iter().enumerate() {
        for (i, it) in doc.directives("Listen") {
            let at = host.locate(file, it.span.start);
            if has_hash(it) {
                a.refuse(host, file, hash_at(it), hash_message(it));
                continue;
            }
            let Some(word) = it.args.first() else {
                continue;
            };
            if word.text.contains("${") {
                a.warnings.push(format!(
                    "{at}: Listen {} uses a variable v6fix cannot resolve: left alone, check it by hand",
                    word.text
                ));
                continue;
            }
            let spot = match read_spot(word.unquoted()) {
                Ok(s) => s,
                Err(m) => {
                    a.refuse(host, file, word.span.start, m);
                    continue;
                }
            };
            let Some(port) = spot.port.clone().filter(|p| p != "*") else {
                if spot.fixed.is_some() {
                    let t = &word.text;
                    let (h, p) = t.rsplit_once(':').unwrap_or((t, ""));
                    a.refuse(
                        host,
                        file,
                        word.span.start,
                        format!(
                            "Apache reads Listen {t} as host `{h}` and port {p}, and fails (AH00077); write [ADDRESS]:PORT"
                        ),
                    );
                } else if spot.addr != Addr::Other {
                    a.refuse(
                        host,
                        file,
                        word.span.start,
                        format!("Listen {} has no port: Apache needs one", word.text),
                    );
                }
                continue;
            };
            let cond = conditions(doc, i);
            for old in socks
                .iter()
                .filter(|s| s.port == port && together(&s.cond, &cond))
            {
                if clashes(spot.addr, old.addr) {
                    let msg = format!(
                        "Listen {} and Listen {} ({}) cannot both bind port {port}: Apache passes -t and then fails to start with \"Address already in use\"; remove one",
                        word.text, old.text, old.at
                    );
                    a.warnings.push(format!("{at}: {msg}"));
                    a.find(host, file, it.span.start, Severity::Error, msg, "");
                }
            }
            socks.push(Sock {
                addr: spot.addr,
                port: port.clone(),
                cond: cond.clone(),
                text: word.text.clone(),
                at: at.clone(),
            });
            listens.push((fi, i, spot, port, cond));
        }
    }
    // Pass 2: twins and bracket fixes for listeners.
    for (fi, i, spot, port, cond) in listens {
        let (file, doc) = &conf.files[fi];
        let it = &doc.items()[i];
        let word = &it.args[0];
        let at = host.locate(file, it.span.start);
        if let Some(fixed) = &spot.fixed {
            a.edits[fi].replace(word.span.clone(), fixed.clone());
            a.notes.push(format!(
                "{at}: Listen {} is an unbracketed IPv6 literal; Apache reads the last `:` as the port, so it is written {fixed}",
                word.text
            ));
            a.find(
                host,
                file,
                word.span.start,
                Severity::Warning,
                format!(
                    "Listen {}: IPv6 literals need brackets ({fixed})",
                    word.text
                ),
                FIX_PLAIN,
            );
            a.listen_changed = true;
        }
        let (twin, fix, sev) = match spot.addr {
            Addr::Any => {
                a.notes.push(format!(
                    "{at}: Listen {} is already dual-stack (Apache binds one socket for IPv4 and IPv6): left alone",
                    word.text
                ));
                continue;
            }
            Addr::V6(_) | Addr::Other => continue,
            Addr::V4Any => (
                Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
                FIX_PLAIN,
                Severity::Warning,
            ),
            Addr::V4(ip) if ip.is_loopback() => (
                Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                FIX_PLAIN,
                Severity::Info,
            ),
            Addr::V4(_) => (address, FIX_ADDRESS, Severity::Warning),
        };
        let live: Vec<&Sock> = socks
            .iter()
            .filter(|s| s.port == port && together(&s.cond, &cond))
            .collect();
        let Some(ip) = twin else {
            // A specific IPv4 address and no --address given.
            if !live
                .iter()
                .any(|s| matches!(s.addr, Addr::V6(_) | Addr::Any))
            {
                a.warnings.push(format!(
                    "{at}: Listen {} accepts IPv4 only: its IPv6 twin needs --address ADDR",
                    word.text
                ));
                a.find(
                    host,
                    file,
                    it.span.start,
                    sev,
                    format!("Listen {} accepts IPv4 clients only", word.text),
                    fix,
                );
            }
            continue;
        };
        let new = if ip.is_unspecified() {
            Addr::Any
        } else if let IpAddr::V6(v6) = ip {
            Addr::V6(v6)
        } else {
            continue;
        };
        if let Some(old) = live.iter().find(|s| clashes(new, s.addr)) {
            if old.text == render(ip, Some(&port)) {
                a.notes.push(format!(
                    "{at}: Listen {} has its IPv6 twin Listen {} ({}) already: left alone",
                    word.text, old.text, old.at
                ));
            } else if old.addr == Addr::Any {
                a.notes.push(format!(
                    "{at}: Listen {}: port {port} already has the dual-stack Listen {} ({}); a Listen {} beside it would fail to bind, so none is added",
                    word.text,
                    old.text,
                    old.at,
                    render(ip, Some(&port))
                ));
            }
            continue;
        }
        let spelled = render(ip, Some(&port));
        let line = doc.line_with_arg(i, 0, &spelled);
        doc.insert_after(&mut a.edits[fi], i, &line);
        a.listen_changed = true;
        a.find(
            host,
            file,
            it.span.start,
            sev,
            format!("Listen {} accepts IPv4 clients only", word.text),
            fix,
        );
        if matches!(spot.addr, Addr::V4(ip4) if ip4.is_loopback()) {
            a.notes.push(format!(
                "{at}: Listen {} is loopback only (a backend behind a local proxy): it gets {spelled} so local clients that resolve localhost to ::1 reach it too; the proxy keeps using {}",
                word.text, word.text
            ));
        }
        socks.push(Sock {
            addr: new,
            port: port.clone(),
            cond: cond.clone(),
            text: spelled,
            at: at.clone(),
        });
    }
    // Virtual hosts.
    for (fi, (file, doc)) in conf.files.iter().enumerate() {
        for (i, it) in doc.sections("VirtualHost") {
            vhost(host, file, doc, i, it, address, &mut a, fi);
        }
    }
    // Access rules.
    for (fi, (file, doc)) in conf.files.iter().enumerate() {
        for (i, it) in doc.items().iter().enumerate() {
            if it.kind != Kind::Directive {
                continue;
            }
            let first = it.args.first().map(|w| w.text.to_ascii_lowercase());
            let label = if it.is("Require") && first.as_deref() == Some("ip") {
                "Require ip"
            } else if it.is("Allow") && first.as_deref() == Some("from") {
                "Allow from"
            } else {
                continue;
            };
            acl(host, file, doc, i, label, networks, &mut a, fi);
        }
    }
    a
}

fn has_hash(it: &Item) -> bool {
    it.args.iter().any(|w| w.text.starts_with('#'))
}

/// Where the first word starting with `#` sits.
fn hash_at(it: &Item) -> usize {
    it.args
        .iter()
        .find(|w| w.text.starts_with('#'))
        .map_or(it.span.start, |w| w.span.start)
}

fn hash_message(it: &Item) -> String {
    format!(
        "`#` after {}: Apache has no trailing comments, the words become arguments; move the comment to its own line",
        it.name
    )
}

#[allow(clippy::too_many_arguments)]
fn vhost(
    host: &Host,
    file: &File,
    doc: &Doc,
    i: usize,
    it: &Item,
    address: Option<IpAddr>,
    a: &mut Analysis,
    fi: usize,
) {
    let at = host.locate(file, it.span.start);
    if has_hash(it) {
        a.refuse(host, file, hash_at(it), hash_message(it));
        return;
    }
    if it.args.iter().any(|w| w.text.contains("${")) {
        a.warnings.push(format!(
            "{at}: <VirtualHost> address uses a variable v6fix cannot resolve: left alone, check it by hand"
        ));
        return;
    }
    let mut spots = Vec::new();
    for w in &it.args {
        match read_spot(w.unquoted()) {
            Ok(s) => spots.push((w, s)),
            Err(m) => {
                a.refuse(host, file, w.span.start, m);
                return;
            }
        }
    }
    let have = |ip: Ipv6Addr, port: &Option<String>| {
        spots
            .iter()
            .any(|(_, s)| s.addr == Addr::V6(ip) && &s.port == port)
    };
    let any_v6 = |port: &Option<String>| {
        spots
            .iter()
            .any(|(_, s)| matches!(s.addr, Addr::V6(_)) && &s.port == port)
    };
    let mut add: Vec<String> = Vec::new();
    let all_any = spots
        .iter()
        .all(|(_, s)| s.addr == Addr::Any || s.addr == Addr::V4Any);
    if all_any && !spots.is_empty() {
        let list: Vec<_> = it.args.iter().map(|w| w.text.as_str()).collect();
        a.notes.push(format!(
            "{at}: <VirtualHost {}> already matches IPv4 and IPv6 clients: left alone",
            list.join(" ")
        ));
    }
    for (w, s) in &spots {
        if let Some(fixed) = &s.fixed {
            a.edits[fi].replace(w.span.clone(), fixed.clone());
            a.notes.push(format!(
                "{at}: <VirtualHost {}> holds an unbracketed IPv6 literal; written {fixed}, the way Apache reads it",
                w.text
            ));
            a.find(
                host,
                file,
                w.span.start,
                Severity::Warning,
                format!(
                    "VirtualHost address {}: IPv6 literals need brackets ({fixed})",
                    w.text
                ),
                FIX_PLAIN,
            );
        }
        let Addr::V4(ip4) = s.addr else {
            continue;
        };
        let (want, fix, sev) = if ip4.is_loopback() {
            (Some(Ipv6Addr::LOCALHOST), FIX_PLAIN, Severity::Info)
        } else {
            (
                address.and_then(|x| match x {
                    IpAddr::V6(v) => Some(v),
                    IpAddr::V4(_) => None,
                }),
                FIX_ADDRESS,
                Severity::Warning,
            )
        };
        let msg = if ip4.is_loopback() {
            format!(
                "<VirtualHost {}> matches 127.0.0.1 only: local clients over ::1 get another site",
                w.text
            )
        } else {
            format!(
                "<VirtualHost {}> matches IPv4 clients only: IPv6 clients get another site",
                w.text
            )
        };
        match want {
            Some(v6) if have(v6, &s.port) => {}
            Some(v6) => {
                let t = render(IpAddr::V6(v6), s.port.as_deref());
                if !add.contains(&t) {
                    add.push(t);
                }
                a.find(host, file, w.span.start, sev, msg, fix);
            }
            None if !any_v6(&s.port) => {
                a.warnings.push(format!(
                    "{at}: <VirtualHost {}> matches IPv4 clients only: its IPv6 address needs --address ADDR",
                    w.text
                ));
                a.find(host, file, w.span.start, sev, msg, fix);
            }
            None => {}
        }
    }
    if !add.is_empty() {
        doc.append_args(&mut a.edits[fi], i, &add);
    }
}

#[allow(clippy::too_many_arguments)]
fn acl(
    host: &Host,
    file: &File,
    doc: &Doc,
    i: usize,
    label: &str,
    networks: &[Prefix],
    a: &mut Analysis,
    fi: usize,
) {
    let it = &doc.items()[i];
    let at = host.locate(file, it.span.start);
    if has_hash(it) {
        a.refuse(host, file, hash_at(it), hash_message(it));
        return;
    }
    let mut v4 = false;
    let mut v4_host = false;
    let mut v4_loop = false;
    let mut v6: Vec<Prefix> = Vec::new();
    for w in &it.args[1..] {
        let t = w.unquoted();
        if t.starts_with('[') {
            let bare = t.replace(['[', ']'], "");
            if let Ok(p) = Prefix::parse(&bare) {
                a.edits[fi].replace(w.span.clone(), bare.clone());
                a.notes.push(format!(
                    "{at}: {label} {t}: Apache rejects brackets here; written {bare}"
                ));
                a.find(
                    host,
                    file,
                    w.span.start,
                    Severity::Error,
                    format!("{label} {t}: Apache rejects a bracketed address (\"appears to be invalid\")"),
                    FIX_PLAIN,
                );
                if p.is_ipv6() {
                    v6.push(p);
                }
                continue;
            }
        }
        if let Ok(p) = Prefix::parse(t) {
            if p.is_ipv6() {
                v6.push(p);
            } else if t.starts_with("127.") {
                v4_loop = true;
            } else if p.is_host() {
                v4_host = true;
            } else {
                v4 = true;
            }
        } else if !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'/')
        {
            // Partial (`10.1`) or netmask (`192.0.2.0/255.255.255.0`) forms.
            if t.starts_with("127") {
                v4_loop = true;
            } else {
                v4 = true;
            }
        } else if t.contains('/')
            && t.split('/')
                .next()
                .is_some_and(|h| h.parse::<Ipv4Addr>().is_ok())
        {
            v4 = true;
        }
    }
    let mut add: Vec<String> = Vec::new();
    let loopback = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
    if v4_loop && !v6.iter().any(|p| p.covers(&loopback)) {
        add.push("::1".to_string());
        a.find(
            host,
            file,
            it.span.start,
            Severity::Info,
            format!("{label} admits 127.0.0.1 but not ::1"),
            FIX_PLAIN,
        );
    }
    let v6_site = v6.iter().any(|p| !p.covers(&loopback));
    if v4 {
        if networks.is_empty() {
            if !v6_site {
                a.warnings.push(format!(
                    "{at}: {label} admits IPv4 networks only: the site's IPv6 network needs --network PREFIX"
                ));
                a.find(
                    host,
                    file,
                    it.span.start,
                    Severity::Warning,
                    format!("{label} admits IPv4 networks only: IPv6 clients are refused"),
                    FIX_NETWORK,
                );
            }
        } else {
            let missing: Vec<&Prefix> = networks.iter().filter(|n| !v6.contains(n)).collect();
            if !missing.is_empty() && !v6_site {
                a.find(
                    host,
                    file,
                    it.span.start,
                    Severity::Warning,
                    format!("{label} admits IPv4 networks only: IPv6 clients are refused"),
                    FIX_NETWORK,
                );
            }
            for n in missing {
                add.push(n.to_string());
            }
        }
    }
    if v4_host && !v4 && !v6_site {
        // Single IPv4 hosts: their IPv6 addresses are unknown, and admitting the whole
        // site network would widen the rule.
        a.warnings.push(format!(
            "{at}: {label} admits single IPv4 hosts only: v6fix does not know their IPv6 addresses and does not widen the rule to a network; add them by hand"
        ));
        a.find(
            host,
            file,
            it.span.start,
            Severity::Info,
            format!("{label} admits single IPv4 hosts only: the same hosts over IPv6 are refused"),
            "",
        );
    }
    if !add.is_empty() {
        doc.append_args(&mut a.edits[fi], i, &add);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_the_way_apache_reads_them() {
        let r = |t| read_spot(t).unwrap();
        assert_eq!(r("80").addr, Addr::Any);
        assert_eq!(r("[::]:80").addr, Addr::Any);
        assert_eq!(r("*:80").addr, Addr::Any);
        assert_eq!(r("_default_:443").addr, Addr::Any);
        assert_eq!(r("0.0.0.0:80").addr, Addr::V4Any);
        assert_eq!(r("192.0.2.10:443").port.as_deref(), Some("443"));
        assert_eq!(r("192.0.2.10").port, None);
        let s = r("::1:18080");
        assert_eq!(s.addr, Addr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(s.fixed.as_deref(), Some("[::1]:18080"));
        let s = r("2001:db8::1:80");
        assert_eq!(s.fixed.as_deref(), Some("[2001:db8::1]:80"));
        assert_eq!(r("[2001:db8::1]").port, None);
        assert_eq!(r("www.example.net:80").addr, Addr::Other);
        assert_eq!(r("${APACHE_PORT}").addr, Addr::Other);
        assert!(read_spot("2001:db8:x::80").is_err());
        assert!(read_spot("[2001:db8::1]80").is_err());
    }

    #[test]
    fn collisions_follow_apaches_socket_rules() {
        let any = Addr::Any;
        let v6 = Addr::V6("2001:db8::10".parse().unwrap());
        assert!(clashes(any, any), "80 + [::]:80 fails to start");
        assert!(clashes(v6, any));
        assert!(clashes(any, v6));
        assert!(clashes(v6, v6));
        assert!(
            !clashes(any, Addr::V4Any),
            "80 + 0.0.0.0:80 is deduplicated"
        );
        assert!(!clashes(v6, Addr::V4("192.0.2.10".parse().unwrap())));
    }

    #[test]
    fn different_conditions_are_alternatives() {
        let ssl = vec!["ifmodule ssl_module".to_string()];
        let tls = vec!["ifmodule mod_gnutls.c".to_string()];
        assert!(!together(&ssl, &tls));
        assert!(together(&ssl, &[]));
        assert!(together(&ssl, &ssl));
    }
}
