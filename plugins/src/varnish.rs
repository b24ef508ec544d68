//! `v6fix varnish`: IPv6 listeners for varnishd, and the site's IPv6 network in VCL acls.
//!
//! On Debian the `-a`/`-T` options live in the systemd unit. v6fix finds the ExecStart
//! systemd would run (the unit, then the drop-ins in /etc/systemd/system/varnish.service.d/
//! in name order, an empty `ExecStart=` clearing the list) and edits it where it is: in a
//! drop-in or in a full copy under /etc. When the command comes from /lib (never written),
//! it is copied into a drop-in that starts with an empty `ExecStart=`. Only without any
//! systemd unit is /etc/default/varnish (SysV) edited.
//!
//! `-a :P` already listens on both families (adding `-a [::]:P` would be fatal:
//! "have same address"), so it is left alone. `-a 0.0.0.0:P` gets `-a [::]:P`,
//! `-a 127.0.0.1:P` gets `-a [::1]:P`, `-a 192.0.2.10:P` gets `-a [--address]:P`; a named
//! listener's twin gets its own name. In the VCL (`-f`, its includes through vcl_path),
//! acls gain `"::1";` beside `"127.0.0.1";` and the `--network` prefixes after their
//! last IPv4 entry; backends stay as they are.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use v6fix_core::addr::host_port;
use v6fix_core::dialect::systemd::{self, escape_word, exec_words};
use v6fix_core::dialect::varnish as vcl;
use v6fix_core::text::{indent_of, line_end_full, line_start, Span};
use v6fix_core::{
    ArgSpec, Args, Edits, Error, File, Finding, Host, Plan, Plugin, Prefix, Result, Severity, Style,
};

pub(crate) struct Varnish;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Varnish) }

const ETC_UNIT: &str = "/etc/systemd/system/varnish.service";
const LIB_UNITS: &[&str] = &[
    "/lib/systemd/system/varnish.service",
    "/usr/lib/systemd/system/varnish.service",
];
const DROPIN_DIR: &str = "/etc/systemd/system/varnish.service.d";
const DROPIN_NEW: &str = "/etc/systemd/system/varnish.service.d/override.conf";
const SYSV: &str = "/etc/default/varnish";
const DEFAULT_VCL: &str = "/etc/varnish/default.vcl";
const DEFAULT_VCL_PATH: &str = "/etc/varnish:/usr/share/varnish/vcl";

static ARGS: &[ArgSpec] = &[
    ArgSpec::value(
        "address",
        "ADDR",
        "This host's IPv6 address: the twin of -a on a specific IPv4 address",
    ),
    ArgSpec::value(
        "network",
        "PREFIX",
        "The site's IPv6 network, added to VCL acls that hold IPv4 networks",
    )
    .multiple(),
];

/// varnishd options that take no value.
const FLAGS: &[u8] = b"CdFV?";

impl Plugin for Varnish {
    fn name(&self) -> &'static str {
        "varnish"
    }

    fn about(&self) -> &'static str {
        "Varnish: IPv6 -a listeners in the systemd unit (a drop-in), site network in VCL acls"
    }

    fn args(&self) -> &'static [ArgSpec] {
        ARGS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        let Some(setup) = Setup::load(host)? else {
            return Ok(Vec::new());
        };
        let mut v: Vec<PathBuf> = setup.units.iter().map(|u| u.file.path.clone()).collect();
        if let Some(s) = &setup.sysv {
            v.push(s.path.clone());
        }
        v.extend(setup.vcls.iter().map(|f| f.0.path.clone()));
        Ok(v)
    }

    fn audit(&self, host: &Host) -> Result<Vec<Finding>> {
        let Some(setup) = Setup::load(host)? else {
            return Ok(Vec::new());
        };
        Ok(setup.audit(host))
    }

    fn plan(&self, host: &Host, args: &Args) -> Result<Plan> {
        let address = args.ipv6("address")?;
        let networks = args.networks("network")?;
        if let Some(n) = networks.iter().find(|n| !n.is_ipv6()) {
            return Err(Error::usage(format!("--network {n}: not an IPv6 network")));
        }
        let Some(setup) = Setup::load(host)? else {
            return Err(Error::usage(format!(
                "no varnish.service unit and no {} found; is varnish installed?",
                host.display(Path::new(SYSV))
            )));
        };
        setup.plan(host, address, &networks)
    }
}

struct Unit {
    file: File,
    doc: systemd::Doc,
    /// Under /lib or /usr: read, never written.
    readonly: bool,
}

/// A command-line word, wherever it came from, with its span in its file.
#[derive(Debug, Clone)]
struct Word {
    span: Span,
    value: String,
}

/// An option of varnishd: `-a VALUE` or `-aVALUE`.
#[derive(Debug, Clone)]
struct Opt {
    letter: char,
    /// The word holding the flag (`-a`, or `-a:80` when attached).
    flag: Span,
    /// The value's word span (same as `flag` when attached).
    value_span: Span,
    value: String,
}

fn options(words: &[Word]) -> Vec<Opt> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < words.len() {
        let w = &words[i];
        let b = w.value.as_bytes();
        if b.len() >= 2 && b[0] == b'-' && b[1] != b'-' {
            let letter = b[1];
            if FLAGS.contains(&letter) {
                i += 1;
                continue;
            }
            if b.len() > 2 {
                out.push(Opt {
                    letter: letter as char,
                    flag: w.span.clone(),
                    value_span: w.span.clone(),
                    value: w.value[2..].to_string(),
                });
                i += 1;
            } else if let Some(v) = words.get(i + 1) {
                out.push(Opt {
                    letter: letter as char,
                    flag: w.span.clone(),
                    value_span: v.span.clone(),
                    value: v.value.clone(),
                });
                i += 2;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum AHost {
    /// `:P`: both families.
    Dual,
    Wild4,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Unbracketed(String),
    Name(String),
    /// A Unix socket or something else v6fix does not touch.
    Other,
}

#[derive(Debug, Clone)]
struct Listen {
    name: Option<String>,
    host: AHost,
    port: Option<String>,
    /// `,PROTO,...` as written.
    rest: String,
}

fn parse_a(v: &str) -> Listen {
    let (head, rest) = match v.find(',') {
        Some(i) => (&v[..i], v[i..].to_string()),
        None => (v, String::new()),
    };
    let (name, ep) = match head.split_once('=') {
        Some((n, e)) if !n.contains([':', '[', '/']) => (Some(n.to_string()), e),
        _ => (None, head),
    };
    let (host, port) = if ep.starts_with('/') || ep.starts_with('@') || ep.is_empty() {
        (AHost::Other, None)
    } else if let Some(r) = ep.strip_prefix('[') {
        match r.split_once(']') {
            Some((a, p)) => match a.parse::<Ipv6Addr>() {
                Ok(ip) => (AHost::V6(ip), p.strip_prefix(':').map(str::to_string)),
                Err(_) => (AHost::Other, None),
            },
            None => (AHost::Other, None),
        }
    } else if ep.matches(':').count() >= 2 {
        (AHost::Unbracketed(ep.to_string()), None)
    } else if let Some(p) = ep.strip_prefix(':') {
        (AHost::Dual, Some(p.to_string()))
    } else {
        let (h, p) = match ep.split_once(':') {
            Some((h, p)) => (h, Some(p.to_string())),
            None => (ep, None),
        };
        match h.parse::<Ipv4Addr>() {
            Ok(a) if a.is_unspecified() => (AHost::Wild4, p),
            Ok(a) => (AHost::V4(a), p),
            Err(_) => (AHost::Name(h.to_string()), p),
        }
    };
    Listen {
        name,
        host,
        port,
        rest,
    }
}

impl Listen {
    fn port(&self) -> &str {
        self.port.as_deref().unwrap_or("80")
    }
}

/// Where the IPv6 twin of an IPv4 listener goes: `Some(None)` when it needs --address.
fn twin_addr(l: &Listen, address: Option<IpAddr>) -> Option<Option<IpAddr>> {
    match l.host {
        AHost::Wild4 => Some(Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))),
        AHost::V4(a) if a == Ipv4Addr::LOCALHOST => Some(Some(IpAddr::V6(Ipv6Addr::LOCALHOST))),
        AHost::V4(a) if a.is_loopback() => None,
        AHost::V4(_) => Some(address),
        _ => None,
    }
}

/// Where the command line is.
enum Cmd {
    /// Entry `entry` (index among the entries) of unit `unit`.
    Unit {
        unit: usize,
        entry: usize,
    },
    Sysv,
}

struct Setup {
    /// The unit file systemd uses (an /etc copy or the /lib one), then the drop-ins.
    units: Vec<Unit>,
    sysv: Option<File>,
    cmd: Option<Cmd>,
    /// ExecStart lines in effect: more than one means a drop-in lacks `ExecStart=`.
    exec_count: usize,
    words: Vec<Word>,
    vcls: Vec<(File, vcl::Doc)>,
}

fn sysv_words(text: &str) -> Option<(Span, Vec<Word>)> {
    // DAEMON_OPTS="..." (the first uncommented assignment), possibly over several lines.
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("DAEMON_OPTS=\"") {
            let start = pos + (line.len() - t.len()) + "DAEMON_OPTS=\"".len();
            let close = text[start..].find('"')? + start;
            let _ = rest;
            let mut words = Vec::new();
            let body = &text[start..close];
            let mut off = 0;
            for seg in body.split_inclusive('\n') {
                let content = seg.trim_end_matches(['\n', '\r']);
                let content = content.trim_end_matches([' ', '\t']);
                let content = content.strip_suffix('\\').unwrap_or(content);
                let mut i = 0;
                let b = content.as_bytes();
                while i < b.len() {
                    if b[i] == b' ' || b[i] == b'\t' {
                        i += 1;
                        continue;
                    }
                    let s = i;
                    while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                        i += 1;
                    }
                    words.push(Word {
                        span: start + off + s..start + off + i,
                        value: content[s..i].to_string(),
                    });
                }
                off += seg.len();
            }
            // options() skips the program name at index 0.
            words.insert(
                0,
                Word {
                    span: start..start,
                    value: "varnishd".into(),
                },
            );
            return Some((start..close, words));
        }
        pos += line.len();
    }
    None
}

impl Setup {
    fn load(host: &Host) -> Result<Option<Setup>> {
        let mut units = Vec::new();
        let read_unit = |path: &Path, readonly: bool| -> Result<Option<Unit>> {
            let Some(file) = host.read(path)? else {
                return Ok(None);
            };
            let doc = systemd::parse(&file.text).map_err(|e| host.parse_error(&file, e))?;
            Ok(Some(Unit {
                file,
                doc,
                readonly,
            }))
        };
        if let Some(u) = read_unit(Path::new(ETC_UNIT), false)? {
            units.push(u);
        } else {
            for p in LIB_UNITS {
                if let Some(u) = read_unit(Path::new(p), true)? {
                    units.push(u);
                    break;
                }
            }
        }
        for p in host.glob(&format!("{DROPIN_DIR}/*.conf"))? {
            if let Some(u) = read_unit(&p, false)? {
                units.push(u);
            }
        }
        let mut setup = Setup {
            units,
            sysv: None,
            cmd: None,
            exec_count: 0,
            words: Vec::new(),
            vcls: Vec::new(),
        };
        if !setup.units.is_empty() {
            let mut last = None;
            let mut count = 0;
            for (ui, u) in setup.units.iter().enumerate() {
                for (ei, e) in u.doc.entries().enumerate() {
                    if e.section == "Service" && e.key == "ExecStart" {
                        if u.doc.value(e).is_empty() {
                            count = 0;
                            last = None;
                        } else {
                            count += 1;
                            last = Some((ui, ei));
                        }
                    }
                }
            }
            setup.exec_count = count;
            if let Some((ui, ei)) = last {
                let u = &setup.units[ui];
                let e = u.doc.entries().nth(ei).expect("entry index");
                let ws =
                    exec_words(&u.file.text, e).map_err(|err| host.parse_error(&u.file, err))?;
                setup.words = ws
                    .into_iter()
                    .map(|w| Word {
                        span: w.span,
                        value: w.value,
                    })
                    .collect();
                setup.cmd = Some(Cmd::Unit {
                    unit: ui,
                    entry: ei,
                });
            }
        } else if let Some(f) = host.read(Path::new(SYSV))? {
            if let Some((_, words)) = sysv_words(&f.text) {
                setup.words = words;
                setup.cmd = Some(Cmd::Sysv);
            }
            setup.sysv = Some(f);
        } else {
            return Ok(None);
        }
        setup.load_vcl(host)?;
        Ok(Some(setup))
    }

    fn load_vcl(&mut self, host: &Host) -> Result<()> {
        let opts = options(&self.words);
        if self.cmd.is_some()
            && opts.iter().any(|o| o.letter == 'b')
            && !opts.iter().any(|o| o.letter == 'f')
        {
            return Ok(());
        }
        let vcl_path: Vec<String> = opts
            .iter()
            .filter(|o| o.letter == 'p')
            .filter_map(|o| o.value.strip_prefix("vcl_path=").map(str::to_string))
            .next_back()
            .unwrap_or_else(|| DEFAULT_VCL_PATH.to_string())
            .split(':')
            .map(str::to_string)
            .collect();
        let main = opts
            .iter()
            .filter(|o| o.letter == 'f')
            .map(|o| o.value.clone())
            .next_back()
            .unwrap_or_else(|| DEFAULT_VCL.to_string());
        let find = |name: &str, from: Option<&Path>| -> Option<PathBuf> {
            if name.starts_with('/') {
                return Some(PathBuf::from(name));
            }
            if let (Some(rel), Some(dir)) = (name.strip_prefix("./"), from.and_then(Path::parent)) {
                return Some(dir.join(rel));
            }
            vcl_path
                .iter()
                .map(|d| Path::new(d).join(name))
                .find(|p| host.exists(p))
        };
        let mut todo: Vec<PathBuf> = find(&main, None).into_iter().collect();
        let mut seen = HashSet::new();
        while let Some(p) = todo.pop() {
            let Some(file) = host.read(&p)? else { continue };
            if !seen.insert(file.target.clone()) {
                continue;
            }
            let doc = vcl::parse(&file.text).map_err(|e| host.parse_error(&file, e))?;
            doc.acls().map_err(|e| host.parse_error(&file, e))?;
            let mut inc: Vec<PathBuf> = doc
                .includes()
                .iter()
                .filter_map(|(n, _)| find(n, Some(&file.path)))
                .collect();
            inc.reverse();
            todo.extend(inc);
            self.vcls.push((file, doc));
        }
        Ok(())
    }

    fn cmd_file(&self) -> Option<&File> {
        match self.cmd.as_ref()? {
            Cmd::Unit { unit, .. } => Some(&self.units[*unit].file),
            Cmd::Sysv => self.sysv.as_ref(),
        }
    }

    fn plan(&self, host: &Host, address: Option<IpAddr>, networks: &[Prefix]) -> Result<Plan> {
        let mut plan = Plan::new();
        let unit_changed = self.plan_listeners(host, address, &mut plan)?;
        let vcl_changed = self.plan_vcl(host, networks, &mut plan);
        if unit_changed {
            match self.cmd {
                Some(Cmd::Sysv) => plan.restart(
                    "varnish",
                    "restart",
                    "service varnish restart",
                    "varnishd reads its -a listeners only at start",
                ),
                _ => plan.restart(
                    "varnish",
                    "restart",
                    "systemctl daemon-reload && systemctl restart varnish",
                    "systemd must re-read the unit, and varnishd opens its -a listeners only at start (varnishreload reloads just the VCL)",
                ),
            }
        } else if vcl_changed {
            plan.restart(
                "varnish",
                "reload",
                "varnishreload",
                "loads the changed VCL without a restart (the cache is kept)",
            );
        }
        Ok(plan)
    }

    /// The `-a` twins. Returns whether the command line changes.
    fn plan_listeners(
        &self,
        host: &Host,
        address: Option<IpAddr>,
        plan: &mut Plan,
    ) -> Result<bool> {
        let Some(file) = self.cmd_file() else {
            if !self.units.is_empty() {
                plan.warn("varnish.service has no ExecStart=: nothing to convert".to_string());
            }
            return Ok(false);
        };
        let src = &file.text;
        if let Some(w) = self.words.iter().find(|w| w.value.contains('$')) {
            plan.warn(format!(
                "{}: `{}`: part of the varnishd command line comes from a variable, which v6fix cannot see; check its -a options by hand",
                host.locate(file, w.span.start),
                w.value
            ));
        }
        let opts = options(&self.words);
        let listens: Vec<(&Opt, Listen)> = opts
            .iter()
            .filter(|o| o.letter == 'a')
            .map(|o| (o, parse_a(&o.value)))
            .collect();
        let names: HashSet<String> = listens.iter().filter_map(|(_, l)| l.name.clone()).collect();
        let is_unit = matches!(self.cmd, Some(Cmd::Unit { .. }));
        let mut edits = Edits::new();
        let mut need_address = Vec::new();
        let at = |o: &Opt| host.locate(file, o.flag.start);
        for (o, l) in &listens {
            let shown = format!("-a {}", o.value);
            match &l.host {
                AHost::Dual => {
                    plan.note(format!(
                        "{}: `{shown}` already listens on IPv4 and IPv6: left alone (adding -a [::]:{} would stop varnishd: \"have same address\")",
                        at(o),
                        l.port()
                    ));
                    continue;
                }
                AHost::Unbracketed(a) => {
                    plan.warn(format!(
                        "{}: `{shown}`: varnishd reads an unbracketed IPv6 address as the whole host (port 80); write `[{a}]` with the port after it: left alone",
                        at(o)
                    ));
                    continue;
                }
                AHost::Name(n) => {
                    plan.note(format!("{}: `{shown}` names the host `{n}`: varnishd binds what it resolves to; left alone", at(o)));
                    continue;
                }
                AHost::V6(_) | AHost::Other => continue,
                AHost::Wild4 | AHost::V4(_) => {}
            }
            let twin = match twin_addr(l, address) {
                Some(Some(t)) => t,
                Some(None) => {
                    need_address.push(format!("{}: `{shown}`", at(o)));
                    continue;
                }
                None => {
                    plan.warn(format!("{}: `{shown}`: no IPv6 counterpart of this loopback address is known; left alone", at(o)));
                    continue;
                }
            };
            let exists = listens.iter().any(|(_, x)| {
                x.host
                    == AHost::V6(match twin {
                        IpAddr::V6(a) => a,
                        IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
                    })
                    && x.port() == l.port()
            });
            let endpoint = match &l.port {
                Some(p) => host_port(twin, p),
                None => format!("[{twin}]"),
            };
            if exists {
                plan.note(format!(
                    "{}: `{shown}` already has its twin {endpoint}: left alone",
                    at(o)
                ));
                continue;
            }
            let name = l.name.as_ref().map(|n| {
                let mut cand = format!("{n}6");
                let mut k = 2;
                while names.contains(&cand) {
                    cand = format!("{n}6_{k}");
                    k += 1;
                }
                format!("{cand}=")
            });
            let value = format!("{}{endpoint}{}", name.unwrap_or_default(), l.rest);
            let word = if is_unit { escape_word(&value) } else { value };
            insert_option(src, &mut edits, o, &format!("-a {word}"));
        }
        for o in opts.iter().filter(|o| o.letter == 'T') {
            if let AHost::V4(a) = parse_a(&o.value).host {
                plan.note(format!(
                    "{}: `-T {}`: the management port stays on {a} (varnishd takes a single -T)",
                    at(o),
                    o.value
                ));
            }
        }
        if !need_address.is_empty() {
            plan.warn(format!(
                "listening on a specific IPv4 address needs --address ADDR (this host's IPv6 address) for its twin: {}",
                need_address.join(", ")
            ));
        }
        if edits.is_empty() && self.exec_count <= 1 {
            return Ok(false);
        }
        match self.cmd {
            Some(Cmd::Sysv) => {
                plan.note(format!(
                    "{}: no systemd unit for varnish: the SysV init script reads DAEMON_OPTS here",
                    host.display(Path::new(SYSV))
                ));
                plan.change(file, edits.apply(src));
            }
            Some(Cmd::Unit { unit, entry }) => {
                let u = &self.units[unit];
                let e = u.doc.entries().nth(entry).expect("entry index");
                if u.readonly {
                    self.create_dropin(host, u, e, edits, plan)?;
                } else {
                    let mut text_edits = edits;
                    if self.exec_count > 1 {
                        let item = u.doc.item_of(e).expect("entry item");
                        text_edits
                            .insert(item.span.start, format!("ExecStart={}", u.doc.newline_of()));
                        plan.note(format!(
                            "{}: added the empty `ExecStart=` a drop-in needs before its own command (without it systemd refuses the unit)",
                            host.locate(&u.file, e.key_span.start)
                        ));
                    }
                    plan.change(&u.file, text_edits.apply(src));
                }
            }
            None => {}
        }
        Ok(true)
    }

    /// Copies the /lib unit's ExecStart (with the edits) into a drop-in.
    fn create_dropin(
        &self,
        host: &Host,
        u: &Unit,
        e: &systemd::Entry,
        edits: Edits,
        plan: &mut Plan,
    ) -> Result<()> {
        let item = u.doc.item_of(e).expect("entry item");
        let new_lib = {
            // Apply the edits to the /lib text, then cut out the edited entry: the edits
            // all lie inside the entry, so its start stays put and its end moves by the
            // length they add.
            let before = u.file.text.len();
            let text = edits.apply(&u.file.text);
            let grow = text.len() - before;
            text[item.span.start..item.span.end + grow].to_string()
        };
        let mut exec = new_lib;
        if !exec.ends_with('\n') {
            exec.push('\n');
        }
        let from = u.file.path.display().to_string();
        let block = format!(
            "# varnishd command line from {from}, with IPv6 listeners added.\n[Service]\nExecStart=\n{exec}"
        );
        match host.read(Path::new(DROPIN_NEW))? {
            Some(f) => {
                let mut text = f.text.clone();
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&block);
                plan.change(&f, text);
            }
            None => plan.create(Path::new(DROPIN_NEW), block),
        }
        plan.note(format!(
            "{}: ExecStart comes from {from}, which v6fix never writes: the drop-in overrides it",
            host.display(Path::new(DROPIN_NEW))
        ));
        Ok(())
    }

    /// acl entries. Returns whether a VCL file changes.
    fn plan_vcl(&self, host: &Host, networks: &[Prefix], plan: &mut Plan) -> bool {
        let mut changed = false;
        let mut need_network = Vec::new();
        let lo4 = Prefix::parse("127.0.0.0/8").expect("constant");
        let lo6 = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
        for (file, doc) in &self.vcls {
            if !file.target.starts_with("/etc") {
                continue;
            }
            let Ok(acls) = doc.acls() else { continue };
            let mut edits = Edits::new();
            for acl in &acls {
                let mut v4 = Vec::new();
                let mut v6 = Vec::new();
                for e in &acl.entries {
                    if e.addr.starts_with('[') {
                        plan.warn(format!(
                            "{}: acl {}: `{}`: Varnish rejects brackets in acl entries; write the address bare",
                            host.locate(file, e.span.start),
                            acl.name,
                            &doc.src[e.span.clone()]
                        ));
                        continue;
                    }
                    let Some(p) = entry_prefix(e) else { continue };
                    if e.negated {
                        if !p.is_ipv6() {
                            plan.warn(format!(
                                "{}: acl {}: `{}` excludes IPv4 clients only; v6fix cannot know which IPv6 addresses to exclude as well",
                                host.locate(file, e.span.start),
                                acl.name,
                                &doc.src[e.span.clone()]
                            ));
                        }
                        continue;
                    }
                    if p.is_ipv6() {
                        v6.push(p);
                    } else {
                        v4.push((e, p));
                    }
                }
                let covered = |n: &Prefix| v6.iter().any(|a| a.covers(n));
                if let Some((e, _)) = v4
                    .iter()
                    .find(|(_, p)| lo4.covers(p) && p.contains(IpAddr::V4(Ipv4Addr::LOCALHOST)))
                {
                    if !covered(&lo6) {
                        doc.insert_after(&mut edits, &e.span, "\"::1\";");
                    }
                }
                let site: Vec<_> = v4.iter().filter(|(_, p)| !lo4.covers(p)).collect();
                let Some((last, _)) = site.last() else {
                    continue;
                };
                if networks.is_empty() {
                    need_network.push(format!(
                        "{}: acl {}",
                        host.locate(file, last.span.start),
                        acl.name
                    ));
                }
                for n in networks {
                    if !covered(n) {
                        doc.insert_after(
                            &mut edits,
                            &last.span,
                            &format!("{};", n.render(Style::Quoted)),
                        );
                    }
                }
            }
            if !edits.is_empty() {
                plan.change(file, edits.apply(&doc.src));
                changed = true;
            }
        }
        if !need_network.is_empty() {
            plan.warn(format!(
                "acls hold IPv4 networks only; give --network PREFIX to add the site's IPv6 network: {}",
                need_network.join(", ")
            ));
        }
        changed
    }

    fn audit(&self, host: &Host) -> Vec<Finding> {
        let mut out = Vec::new();
        let finding =
            |file: &File, offset: usize, severity: Severity, message: String, fix: Option<&str>| {
                Finding {
                    severity,
                    path: host.display(&file.path),
                    line: Some(file.line_col(offset).line),
                    message,
                    fix: fix.map(str::to_string),
                }
            };
        if let Some(file) = self.cmd_file() {
            if self.exec_count > 1 {
                out.push(finding(
                    file,
                    0,
                    Severity::Error,
                    "varnish.service gets more than one ExecStart= (a drop-in lacks the empty `ExecStart=`): systemd refuses to start it".into(),
                    None,
                ));
            }
            let opts = options(&self.words);
            let listens: Vec<(&Opt, Listen)> = opts
                .iter()
                .filter(|o| o.letter == 'a')
                .map(|o| (o, parse_a(&o.value)))
                .collect();
            for (o, l) in &listens {
                let shown = format!("-a {}", o.value);
                let has = |h: AHost| {
                    listens
                        .iter()
                        .any(|(_, x)| x.host == h && x.port() == l.port())
                };
                match &l.host {
                    AHost::Dual if has(AHost::V6(Ipv6Addr::UNSPECIFIED)) => out.push(finding(
                        file,
                        o.flag.start,
                        Severity::Error,
                        format!("`{shown}` with -a [::]:{}: varnishd stops with \"have same address\"", l.port()),
                        None,
                    )),
                    AHost::Unbracketed(_) => out.push(finding(
                        file,
                        o.flag.start,
                        Severity::Error,
                        format!("`{shown}`: varnishd reads an unbracketed IPv6 address as the whole host, on port 80"),
                        None,
                    )),
                    AHost::Wild4 | AHost::V4(_) => {
                        let twin = twin_addr(l, None);
                        let ok = match twin {
                            Some(Some(IpAddr::V6(t))) => has(AHost::V6(t)),
                            _ => listens.iter().any(|(_, x)| matches!(x.host, AHost::V6(_)) && x.port() == l.port()),
                        };
                        if !ok {
                            let fix = match twin {
                                Some(Some(_)) => "v6fix varnish",
                                _ => "v6fix varnish --address ADDR",
                            };
                            out.push(finding(
                                file,
                                o.flag.start,
                                Severity::Warning,
                                format!("`{shown}` accepts IPv4 only and no IPv6 listener shares its port"),
                                Some(fix),
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
        for (file, doc) in &self.vcls {
            for (offset, host_text) in doc.backend_hosts() {
                if host_text.matches(':').count() >= 2 && !host_text.starts_with('[') {
                    out.push(finding(
                        file,
                        offset,
                        Severity::Warning,
                        format!(
                            "backend .host = \"{host_text}\": an unbracketed IPv6 address is read whole, on port 80; write \"[{host_text}]\" or, with a port, \"[address]:port\""
                        ),
                        None,
                    ));
                }
            }
        }
        for (file, doc) in &self.vcls {
            let Ok(acls) = doc.acls() else { continue };
            for acl in acls {
                let mut v4 = false;
                let mut v6 = false;
                for e in &acl.entries {
                    if e.addr.starts_with('[') {
                        out.push(finding(
                            file,
                            e.span.start,
                            Severity::Error,
                            format!("acl {}: a bracketed address does not compile", acl.name),
                            None,
                        ));
                    }
                    if let Some(p) = entry_prefix(e) {
                        if !e.negated {
                            if p.is_ipv6() {
                                v6 = true;
                            } else {
                                v4 = true;
                            }
                        }
                    }
                }
                if v4 && !v6 {
                    out.push(finding(
                        file,
                        acl.span.start,
                        Severity::Warning,
                        format!("acl {} matches no IPv6 client", acl.name),
                        Some("v6fix varnish --network PREFIX"),
                    ));
                }
            }
        }
        out
    }
}

/// An acl entry's network, when it is a literal address.
fn entry_prefix(e: &vcl::AclEntry) -> Option<Prefix> {
    if e.optional {
        return None;
    }
    let p = Prefix::parse(&e.addr).ok()?;
    match e.mask {
        Some(m) => Prefix::new(p.addr(), m),
        None => Some(p),
    }
}

/// Inserts option text `text` (`-a [::]:80`) after option `o`: on a continuation line of
/// its own when `o` starts its line and ends it before a backslash continuation,
/// otherwise right after its value on the same line.
fn insert_option(src: &str, edits: &mut Edits, o: &Opt, text: &str) {
    let ls = line_start(src, o.flag.start);
    let flag_starts_line = src[ls..o.flag.start].trim().is_empty();
    let le = line_end_full(src, o.value_span.end);
    let rest = src[o.value_span.end..le]
        .trim_end_matches(['\n', '\r'])
        .trim();
    if flag_starts_line && rest == "\\" {
        let indent = indent_of(&src[ls..]);
        let tail = &src[o.value_span.end..le];
        let sep = tail.trim_end_matches(['\n', '\r']);
        let sep = &sep[..sep.len() - sep.trim_start().len()];
        edits.insert_line_after(src, o.value_span.end, &format!("{indent}{text}{sep}\\"));
    } else {
        edits.insert(o.value_span.end, format!(" {text}"));
    }
}

trait NewlineOf {
    fn newline_of(&self) -> &'static str;
}

impl NewlineOf for systemd::Doc {
    fn newline_of(&self) -> &'static str {
        v6fix_core::text::newline_of(&self.src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_options_are_read_as_varnishd_reads_them() {
        assert_eq!(parse_a(":6081").host, AHost::Dual);
        assert_eq!(parse_a("0.0.0.0:80").host, AHost::Wild4);
        let l = parse_a("web=192.0.2.10:80,PROXY");
        assert_eq!(l.name.as_deref(), Some("web"));
        assert_eq!(l.host, AHost::V4("192.0.2.10".parse().unwrap()));
        assert_eq!(l.rest, ",PROXY");
        assert_eq!(parse_a("192.0.2.10").port(), "80");
        assert!(matches!(parse_a("::1:6081").host, AHost::Unbracketed(_)));
        assert_eq!(parse_a("[::1]:6081").host, AHost::V6(Ipv6Addr::LOCALHOST));
        assert!(matches!(parse_a("localhost:6082").host, AHost::Name(_)));
        assert_eq!(parse_a("/run/varnish.sock,user=vcache").host, AHost::Other);
    }

    #[test]
    fn options_with_attached_and_separate_values() {
        let words: Vec<Word> = [
            "varnishd",
            "-F",
            "-a",
            ":80",
            "-a:81",
            "-T",
            "localhost:6082",
        ]
        .iter()
        .map(|w| Word {
            span: 0..0,
            value: w.to_string(),
        })
        .collect();
        let o = options(&words);
        let got: Vec<_> = o.iter().map(|o| (o.letter, o.value.as_str())).collect();
        assert_eq!(got, [('a', ":80"), ('a', ":81"), ('T', "localhost:6082")]);
    }

    #[test]
    fn sysv_daemon_opts_are_split_with_spans() {
        let t = "# x\nDAEMON_OPTS=\"-a 192.0.2.10:6081 \\\n             -T localhost:6082\"\n";
        let (_, w) = sysv_words(t).unwrap();
        let vals: Vec<_> = w.iter().map(|w| w.value.as_str()).collect();
        assert_eq!(
            vals,
            ["varnishd", "-a", "192.0.2.10:6081", "-T", "localhost:6082"]
        );
        assert_eq!(&t[w[2].span.clone()], "192.0.2.10:6081");
    }
}

#[cfg(test)]
mod audit_tests {
    use super::*;

    fn copy(src: &Path, dst: &Path) {
        std::fs::create_dir_all(dst).unwrap();
        let Ok(entries) = std::fs::read_dir(src) else {
            return;
        };
        for e in entries {
            let e = e.unwrap();
            let to = dst.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to);
            } else {
                std::fs::copy(e.path(), &to).unwrap();
            }
        }
    }

    fn serious(case: &str, out: bool) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/cases/varnish")
            .join(case);
        let t = tempfile::tempdir().unwrap();
        copy(&dir.join("in"), t.path());
        if out {
            copy(&dir.join("out"), t.path());
        }
        let host = Host::new(t.path()).unwrap();
        Varnish
            .audit(&host)
            .unwrap()
            .into_iter()
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| f.to_string().replace(&t.path().display().to_string(), ""))
            .collect()
    }

    #[test]
    fn converted_trees_audit_clean_and_inputs_do_not() {
        for case in [
            "seed",
            "named-proxy",
            "lib-only-wildcard",
            "dropin-no-reset",
            "sysv",
            "runtime-high-ports",
            "debian-default",
        ] {
            assert_eq!(serious(case, true), Vec::<String>::new(), "{case}");
        }
        let seed = serious("seed", false);
        assert_eq!(
            seed,
            [
                "/etc/systemd/system/varnish.service.d/override.conf:7: warning: `-a 192.0.2.10:80` accepts IPv4 only and no IPv6 listener shares its port (fix: v6fix varnish --address ADDR)",
                "/etc/varnish/default.vcl:13: warning: acl purgers matches no IPv6 client (fix: v6fix varnish --network PREFIX)"
            ]
        );
        let broken = serious("dropin-no-reset", false);
        assert!(
            broken
                .iter()
                .any(|f| f.contains("error: varnish.service gets more than one ExecStart=")),
            "{broken:#?}"
        );
        assert!(serious("debian-default", false).is_empty());
    }
}
