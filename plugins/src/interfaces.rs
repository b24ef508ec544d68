//! `v6fix interfaces`: gives an interface its static IPv6 address in ifupdown's
//! `/etc/network/interfaces` (and the files it includes).
//!
//! - The new `iface IF inet6 static` stanza goes right after IF's `inet` stanza, in the
//!   file that holds it, in that file's indentation (tabs or spaces) and mask style
//!   (`address A/64`, or `address A` + `netmask 64` where the file uses `netmask`).
//! - An existing `inet6 static` stanza of IF is updated in place; a second address gets a
//!   stanza of its own (two `address` lines in one stanza make ifupdown build a broken
//!   command). Nothing is ever written after a value on an option line: ifupdown would pass
//!   it to `ip`.
//! - Includes are read as ifupdown reads them: `source` globs relative to the including
//!   file, `source-directory` only names matching `^[a-zA-Z0-9_-]+$`, each file once.
//!
//! Applying: `ifup IF` skips an interface that is already up, and `ifdown IF && ifup IF`
//! drops the connection of whoever runs it remotely. The restart hint is therefore the
//! `ip` commands ifup itself runs for the new stanza (`ip -6 addr add`, `ip -6 route replace
//! default`), which add the address without touching IPv4; `--live` also prints each of them
//! as a `live:` note for hooks that apply at once.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use v6fix_core::config_set::{ConfigSet, Dirs, Include};
use v6fix_core::dialect::interfaces::{self as dialect, Doc, Stanza, IGNORED_IN_INET6_STATIC};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{
    Analysis, ArgSpec, Args, Diagnostic, Error, File, Finding, Host, Plugin, Prefix, Reach, Result,
    Severity,
};

pub(crate) struct Interfaces;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Interfaces) }

const MAIN: &str = "/etc/network/interfaces";

const NEEDS: &[Need] = &[
    Need::new(
        Fact::Iface,
        "Interface to configure (default: the only non-loopback one with an inet static stanza)",
    ),
    Need::new(
        Fact::Address,
        "IPv6 address, ADDR[/LEN]; the length comes from --network when absent. Repeat for extra \
         addresses (each gets its own stanza; the first gets the gateway)",
    )
    .multiple()
    .from_plan()
    .required(),
    Need::new(
        Fact::Gateway,
        "IPv6 default gateway (default with --role/--host: the plan's, ::1 in the network)",
    ),
    Need::new(
        Fact::Networks,
        "Site network (a /64): gives --address its length, or the address plan with --role/--host",
    ),
];

const ARGS: &[ArgSpec] = &[ArgSpec::flag(
    "live",
    "Also print the `ip` commands that bring the address up now, as `live:` notes",
)];

/// One file of the include set, parsed.
struct Loaded {
    file: File,
    doc: Doc,
}

/// The include references of one file of the set, as ifupdown reads them.
fn includes(file: &File, doc: &Doc) -> Vec<Include> {
    let base = file.path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut out = Vec::new();
    for (i, (is_dir, text, offset)) in doc.includes().into_iter().enumerate() {
        if is_dir {
            out.push(
                Include::new(i, offset, format!("source-directory {text}"), text, &base)
                    .glob(false)
                    .dirs(Dirs::Entries(dialect::source_directory_name_ok)),
            );
        } else {
            // wordexp: several blank-separated patterns, each relative to the file's dir
            // (each named alone in messages, as sshd's `Include` does: a line of many
            // patterns copied once per pattern would cost its length squared).
            for pat in text.split_ascii_whitespace() {
                out.push(
                    Include::new(i, offset, format!("source {pat}"), pat, &base).dirs(Dirs::Skip),
                );
            }
        }
    }
    out
}

/// The include set of /etc/network/interfaces in the order ifupdown reads it.
fn load(host: &Host) -> Result<Vec<Loaded>> {
    if host.is_dir(Path::new(MAIN)) {
        return Ok(Vec::new());
    }
    let set = ConfigSet::load(host, "ifupdown", Path::new(MAIN), dialect::parse, includes)?;
    Ok(set.map_or_else(Vec::new, |set| {
        set.files
            .into_iter()
            .map(|m| Loaded {
                file: m.file,
                doc: m.doc,
            })
            .collect()
    }))
}

/// A stanza and the file it sits in.
#[derive(Clone)]
struct At {
    file: usize,
    stanza: Stanza,
}

fn all_stanzas(files: &[Loaded]) -> Vec<At> {
    files
        .iter()
        .enumerate()
        .flat_map(|(i, l)| {
            l.doc
                .stanzas()
                .into_iter()
                .map(move |stanza| At { file: i, stanza })
        })
        .collect()
}

/// The interface to work on: `--iface`, or the only non-loopback `inet static` one.
fn pick_iface(target: &Target, stanzas: &[At]) -> Result<String> {
    if let Some(i) = &target.iface {
        return Ok(i.clone());
    }
    let mut names: Vec<&str> = Vec::new();
    for a in stanzas {
        let s = &a.stanza;
        if s.family == "inet"
            && s.method == "static"
            && s.name != "lo"
            && !names.contains(&&*s.name)
        {
            names.push(&s.name);
        }
    }
    let dynamic: Vec<String> = stanzas
        .iter()
        .map(|a| &a.stanza)
        .filter(|s| s.family == "inet" && s.method != "static" && s.method != "loopback")
        .map(|s| format!("{} inet {}", s.name, s.method))
        .collect();
    match names.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Error::usage(format!(
            "no interface has an `inet static` stanza{}; name the one to configure with --iface, \
             or leave /etc/network/interfaces alone (with `all`: --skip interfaces)",
            if dynamic.is_empty() {
                String::new()
            } else {
                format!(" (found {})", dynamic.join(", "))
            }
        ))),
        many => Err(Error::usage(format!(
            "several interfaces have an `inet static` stanza ({}); choose one with --iface",
            many.join(", ")
        ))),
    }
}

/// The addresses (first = primary, each with its length) and the gateway asked for.
fn wanted(target: &Target) -> Result<(Vec<Prefix>, Option<IpAddr>)> {
    let mut addrs = Vec::new();
    for a in &target.addresses {
        let text = match a.len {
            Some(l) => format!("{}/{l}", a.ip),
            None => a.ip.to_string(),
        };
        let bad = |why: String| Error::usage(format!("--address `{text}`: {why}"));
        let ip = IpAddr::V6(a.ip);
        let p = match a.len {
            Some(l) => Prefix::new(ip, l).ok_or_else(|| bad("no such prefix length".into()))?,
            None => {
                let Some(n) = target.networks.iter().find(|n| n.contains(ip)) else {
                    return Err(bad(if target.networks.is_empty() {
                        "give its length (ADDR/LEN) or the --network it belongs to".into()
                    } else {
                        "lies in no --network given; give its length (ADDR/LEN)".into()
                    }));
                };
                Prefix::new(ip, n.len()).unwrap_or(*n)
            }
        };
        if !p.is_host() && !p.has_host_bits() {
            return Err(bad(format!(
                "is the network's own address (subnet-router anycast); a host needs an address inside {p}"
            )));
        }
        addrs.push(p);
    }
    if addrs.is_empty() {
        return Err(Error::usage(
            "give the address: --address ADDR/LEN, or --network with --role and --host",
        ));
    }
    let gateway = target.gateway.map(IpAddr::V6);
    if let Some(g) = gateway {
        if addrs.iter().any(|a| a.addr() == g) {
            return Err(Error::usage(format!(
                "--gateway {g} is one of the host's own addresses"
            )));
        }
    }
    Ok((addrs, gateway))
}

/// Parses an `address` value (with the stanza's `netmask`, which wins over `/len`).
fn stanza_address(doc: &Doc, s: &Stanza) -> Option<Prefix> {
    let (_, v) = doc.get(s, "address")?;
    let p = Prefix::parse(v).ok()?;
    match doc.get(s, "netmask") {
        Some((_, m)) => m
            .parse::<u8>()
            .ok()
            .and_then(|len| Prefix::new(p.addr(), len)),
        None if v.contains('/') => Some(p),
        // No length at all: ip takes it as /128.
        None => Some(p),
    }
}

fn address_lines(addr: &Prefix, netmask: bool) -> Vec<(&'static str, String)> {
    if netmask {
        vec![
            ("address", addr.addr().to_string()),
            ("netmask", addr.len().to_string()),
        ]
    } else {
        vec![("address", addr.to_string())]
    }
}

impl Interfaces {
    /// Brings stanza `at` to `addr` (and `gateway`, for the primary) with minimal edits.
    fn update(
        &self,
        files: &[Loaded],
        at: &At,
        addr: &Prefix,
        gateway: Option<IpAddr>,
        plan: &mut Analysis,
    ) {
        let l = &files[at.file];
        let doc = &l.doc;
        let s = &at.stanza;
        let indent = doc.option_indent(Some(s));
        let has_netmask = doc.get(s, "netmask").is_some();
        let last = match doc.get(s, "address") {
            Some((i, v)) => {
                let current = stanza_address(doc, s);
                if current != Some(*addr) || v.contains('#') {
                    if v.contains('#') {
                        plan.note_at(
                            &l.file,
                            doc.items[i].span.start,
                            "removed the text after the address: ifupdown passes a `#` on an option line to `ip`",
                        );
                    }
                    let text = if has_netmask {
                        addr.addr().to_string()
                    } else {
                        addr.to_string()
                    };
                    doc.replace_option(plan.edits(&l.file), i, "address", &text);
                    if let Some((m, mv)) = doc.get(s, "netmask") {
                        if mv != addr.len().to_string() {
                            let len = addr.len().to_string();
                            doc.replace_option(plan.edits(&l.file), m, "netmask", &len);
                        }
                    }
                }
                doc.get(s, "netmask").map_or(i, |(m, _)| m.max(i))
            }
            None => {
                for (n, v) in address_lines(addr, doc.uses_netmask(s)) {
                    doc.insert_option_after(plan.edits(&l.file), s.item, &indent, n, &v);
                }
                s.item
            }
        };
        let Some(g) = gateway else { return };
        match doc.get(s, "gateway") {
            Some((_, v)) if v.parse::<IpAddr>().ok() == Some(g) => {}
            Some((i, _)) => doc.replace_option(plan.edits(&l.file), i, "gateway", &g.to_string()),
            None => {
                let e = plan.edits(&l.file);
                doc.insert_option_after(e, last, &indent, "gateway", &g.to_string())
            }
        }
    }
}

impl Plugin for Interfaces {
    fn name(&self) -> &'static str {
        "interfaces"
    }

    fn about(&self) -> &'static str {
        "ifupdown: add the interface's static IPv6 address and default route"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn args(&self) -> &'static [ArgSpec] {
        ARGS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok(load(host)?.into_iter().map(|l| l.file.path).collect())
    }

    fn analyze(&self, host: &Host, target: &Target, args: &Args) -> Result<Analysis> {
        let files = load(host)?;
        let mut a = Analysis::new();
        for f in findings(host, &files) {
            a.finding(f);
        }
        if target.addresses.is_empty() {
            return Ok(a);
        }
        // A `\` at the end of the last line continues onto whatever v6fix would add
        // after it: ifupdown would read the new line as part of the old one.
        for l in &files {
            let t = l.file.text.trim_end_matches(['\n', '\r']);
            if t.ends_with('\\') {
                a.refuse(
                    &l.file,
                    t.len() - 1,
                    "found `\\` at the end of the last line, which continues it onto the next line: a line added after it would join it; expected no `\\` there (remove it, then run v6fix again)".to_string(),
                );
            }
        }
        self.convert(host, target, args, files, a)
    }
}

/// What keeps the interfaces IPv6-less or makes ifupdown fail, in the files as they are.
fn findings(host: &Host, files: &[Loaded]) -> Vec<Finding> {
    let stanzas = all_stanzas(files);
    let mut out = Vec::new();
    let finding =
        |l: &Loaded, item: usize, severity, message: String, fix: Option<String>| Finding {
            severity,
            path: host.display(&l.file.path),
            line: Some(l.file.line(l.doc.items[item].span.start)),
            message,
            fix,
        };
    let mut reported = HashSet::new();
    let with_inet6: HashSet<&str> = stanzas
        .iter()
        .filter(|b| b.stanza.family == "inet6")
        .map(|b| b.stanza.name.as_str())
        .collect();
    for a in &stanzas {
        let l = &files[a.file];
        let s = &a.stanza;
        if s.family == "inet"
            && s.method != "loopback"
            && s.name != "lo"
            && !with_inet6.contains(s.name.as_str())
            && reported.insert(s.name.clone())
        {
            out.push(finding(
                l,
                s.item,
                Severity::Warning,
                format!(
                    "{} has no inet6 stanza: ifupdown gives it no IPv6 address or default route",
                    s.name
                ),
                Some(format!(
                    "v6fix interfaces --iface {} --network PREFIX --role ROLE --host ID",
                    s.name
                )),
            ));
        }
        if s.family != "inet6" {
            continue;
        }
        let mut addresses = 0;
        for &i in &s.options {
            let Some((name, value)) = l.doc.option(i) else {
                continue;
            };
            if name == "address" {
                addresses += 1;
                if addresses == 2 {
                    out.push(finding(
                            l,
                            i,
                            Severity::Error,
                            format!("a second `address` line in one stanza: ifupdown joins both into one broken `ip` command; give {} a stanza per address", s.name),
                            None,
                        ));
                }
            }
            if s.method == "static" {
                if let Some((_, methods)) = IGNORED_IN_INET6_STATIC.iter().find(|(n, _)| *n == name)
                {
                    out.push(finding(
                            l,
                            i,
                            Severity::Warning,
                            format!("`{name}` belongs to {methods}: ifupdown ignores it in an inet6 static stanza"),
                            None,
                        ));
                }
                if matches!(name, "address" | "gateway" | "netmask") {
                    let ok = if name == "netmask" {
                        value.parse::<u8>().is_ok_and(|n| n <= 128)
                    } else {
                        Prefix::parse(value).is_ok_and(|p| p.is_ipv6())
                    };
                    if !ok {
                        out.push(finding(
                                l,
                                i,
                                Severity::Error,
                                format!("`{name} {value}` is not a valid IPv6 {name}: ifupdown passes it to `ip` as it is (a `#` on an option line is not a comment)"),
                                None,
                            ));
                    }
                }
            }
        }
    }
    out
}

/// What the next `ifup` (or boot) does beyond the `ip -6` commands of the hint, as
/// ifupdown's inet6 `static` method does it: `autoconf=0` always, and with a gateway
/// `accept_ra=0` and a flush of the SLAAC privacy templates.
fn slaac_off(iface: &str, with_gateway: bool) -> String {
    let sysctl = |k: &str| format!("`sysctl net.ipv6.conf.{iface}.{k}=0`");
    if with_gateway {
        format!(
            "the next `ifup {iface}` or reboot also turns SLAAC and router advertisements off on {iface}: ifupdown's inet6 static stanza with a gateway runs {} and {}, then `ip addr flush dev {iface} mngtmpaddr`; the commands of the hint do not, so until then addresses and routes learned from router advertisements stay",
            sysctl("accept_ra"),
            sysctl("autoconf")
        )
    } else {
        format!(
            "the next `ifup {iface}` or reboot also turns SLAAC off on {iface}: ifupdown's inet6 static stanza runs {} (accept_ra is left as it is, as there is no gateway); the commands of the hint do not, so until then SLAAC addresses stay",
            sysctl("autoconf")
        )
    }
}

impl Interfaces {
    /// The edits that give the interface `target`'s addresses and gateway.
    fn convert(
        &self,
        host: &Host,
        target: &Target,
        args: &Args,
        files: Vec<Loaded>,
        mut plan: Analysis,
    ) -> Result<Analysis> {
        let (addrs, gateway) = wanted(target)?;
        let target_in = target;
        if files.is_empty() {
            return Err(Error::missing(
                host.display(Path::new(MAIN)),
                "no such file: ifupdown is not configured on this host",
            ));
        }
        let stanzas = all_stanzas(&files);
        let iface = pick_iface(target, &stanzas)?;

        let of_iface = |family: &str, method: Option<&str>| -> Vec<At> {
            stanzas
                .iter()
                .filter(|a| {
                    a.stanza.name == iface
                        && a.stanza.family == family
                        && method.is_none_or(|m| a.stanza.method == m)
                })
                .cloned()
                .collect()
        };
        let inet = of_iface("inet", None);
        let statics = of_iface("inet6", Some("static"));
        for other in of_iface("inet6", None) {
            if other.stanza.method != "static" {
                let l = &files[other.file];
                plan.note_at(
                    &l.file,
                    l.doc.items[other.stanza.item].span.start,
                    format!(
                        "{iface} also has an `inet6 {}` stanza; left as it is (a static stanza with a gateway sets accept_ra=0)",
                        other.stanza.method
                    ),
                );
            }
        }

        // Match requested addresses to existing inet6 static stanzas.
        let mut taken: Vec<bool> = vec![false; statics.len()];
        let mut target: Vec<Option<usize>> = vec![None; addrs.len()];
        for (k, a) in addrs.iter().enumerate() {
            if let Some(j) = statics.iter().enumerate().position(|(j, s)| {
                !taken[j]
                    && stanza_address(&files[s.file].doc, &s.stanza)
                        .is_some_and(|p| p.addr() == a.addr())
            }) {
                taken[j] = true;
                target[k] = Some(j);
            }
        }
        if target[0].is_none() {
            if let Some(j) = (0..statics.len()).find(|&j| !taken[j]) {
                taken[j] = true;
                target[0] = Some(j);
                let s = &statics[j];
                let l = &files[s.file];
                let old = l
                    .doc
                    .get(&s.stanza, "address")
                    .map_or("(none)".to_string(), |(_, v)| v.to_string());
                plan.warn_at(
                    &l.file,
                    l.doc.items[s.stanza.item].span.start,
                    format!(
                        "the inet6 static stanza of {iface} had address `{old}`; it now has {} (give the old one as a second --address to keep it)",
                        addrs[0]
                    ),
                );
            }
        }

        // A working inet6 static stanza keeps its own gateway (a provider's `fe80::1`, say)
        // unless the user typed --gateway: the address plan's default does not replace it.
        let mut kept_gateway = None;
        if let (Some(j), Some(g), true) = (target[0], gateway, target_in.gateway_by_default) {
            let s = &statics[j];
            let l = &files[s.file];
            if let Some((i, v)) = l.doc.get(&s.stanza, "gateway") {
                if v.parse::<IpAddr>().ok() != Some(g) {
                    plan.note_at(
                        &l.file,
                        l.doc.items[i].span.start,
                        format!(
                            "the inet6 static stanza of {iface} keeps its gateway `{v}` (the address plan's {g} is only a default; pass --gateway to replace it)"
                        ),
                    );
                    kept_gateway = Some(v.to_string());
                }
            }
        }
        let gateway = if kept_gateway.is_some() {
            None
        } else {
            gateway
        };
        let mut live: Vec<String> = Vec::new();
        let mut new_stanzas: Vec<(usize, Prefix)> = Vec::new();
        for (k, a) in addrs.iter().enumerate() {
            let gw = if k == 0 { gateway } else { None };
            match target[k] {
                Some(j) => {
                    let s = &statics[j];
                    let doc = &files[s.file].doc;
                    let current = stanza_address(doc, &s.stanza);
                    if current.map(|p| p.addr()) != Some(a.addr()) {
                        // What the old line put on the interface (its first word, when
                        // text follows it).
                        let old = current.or_else(|| {
                            doc.get(&s.stanza, "address").and_then(|(_, v)| {
                                Prefix::parse(v.split_ascii_whitespace().next()?).ok()
                            })
                        });
                        if let Some(old) = old {
                            live.push(format!("ip -6 addr del {old} dev {iface}"));
                        }
                        live.push(format!("ip -6 addr add {a} dev {iface}"));
                    } else if current != Some(*a) {
                        live.push(format!("ip -6 addr replace {a} dev {iface}"));
                    }
                    self.update(&files, s, a, gw, &mut plan);
                }
                None => {
                    new_stanzas.push((k, *a));
                    live.push(format!("ip -6 addr add {a} dev {iface}"));
                }
            }
        }
        if !new_stanzas.is_empty() {
            // After the last inet6 static stanza of the interface, else after its inet one.
            let anchor = statics.last().or(inet.first()).cloned().ok_or_else(|| {
                Error::invalid(
                    host.display(Path::new(MAIN)),
                    None,
                    format!(
                        "no `iface {iface} inet` stanza in this file or the files it includes; \
                         v6fix puts the inet6 stanza next to it (check --iface)"
                    ),
                )
            })?;
            let l = &files[anchor.file];
            let indent = l.doc.option_indent(Some(&anchor.stanza));
            let netmask = l.doc.uses_netmask(&anchor.stanza);
            for (k, a) in &new_stanzas {
                let mut lines = vec![format!("iface {iface} inet6 static")];
                for (n, v) in address_lines(a, netmask) {
                    lines.push(format!("{indent}{n} {v}"));
                }
                if *k == 0 {
                    if let Some(g) = gateway {
                        lines.push(format!("{indent}gateway {g}"));
                    }
                }
                l.doc
                    .insert_stanza_after(plan.edits(&l.file), &anchor.stanza, &lines);
            }
        }

        // What ifupdown will make of the result, read back.
        let planned = plan.planned();
        let after = host.with_overlay(planned.iter().map(|(p, t)| (p.as_path(), t.as_str())));
        let after_files = load(&after)?;
        for f in findings(&after, &after_files) {
            if f.severity >= Severity::Warning && !f.message.contains("has no inet6 stanza") {
                plan.say(Diagnostic::of(Reach::Warning, f));
            }
        }
        let with_gateway = all_stanzas(&after_files).iter().any(|a| {
            a.stanza.name == iface
                && a.stanza.family == "inet6"
                && a.stanza.method == "static"
                && after_files[a.file].doc.get(&a.stanza, "gateway").is_some()
        });
        let classes: Vec<String> = files
            .iter()
            .flat_map(|l| l.doc.classes_of(&iface))
            .map(String::from)
            .collect();
        if classes.is_empty() {
            plan.note(format!(
                "{iface} has no `auto` or `allow-hotplug` line: ifupdown does not bring it up at boot"
            ));
        }
        match gateway {
            Some(g) => live.push(format!(
                "ip -6 route replace default via {g} dev {iface} onlink"
            )),
            None if kept_gateway.is_some() => {}
            None => plan.note(format!(
                "no --gateway: {iface} gets no IPv6 default route from this stanza"
            )),
        }
        if plan.changes() {
            plan.note(slaac_off(&iface, with_gateway));
            let why = format!(
                "what ifup runs for the changed stanza, without ifdown: `ifup {iface}` skips an interface that is already up, and `ifdown {iface} && ifup {iface}` drops SSH connections; IPv4 is not touched"
            );
            plan.restart("networking", "reload", &live.join(" && "), &why);
            if args.flag("live") {
                for c in &live {
                    plan.note(format!("live: {c}"));
                }
            }
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(addr: &str, len: Option<u8>, network: Option<&str>) -> Target {
        Target {
            addresses: vec![v6fix_core::OwnAddress {
                ip: addr.parse().unwrap(),
                len,
            }],
            networks: network
                .map(|n| Prefix::parse_network(n).unwrap())
                .into_iter()
                .collect(),
            gateway: Some("2001:db8::1".parse().unwrap()),
            ..Target::default()
        }
    }

    #[test]
    fn bare_addresses_take_their_length_from_the_network() {
        let (a, g) = wanted(&target("2001:db8::c:1", None, Some("2001:db8::/64"))).unwrap();
        assert_eq!(a[0].to_string(), "2001:db8::c:1/64");
        assert_eq!(g.unwrap().to_string(), "2001:db8::1");
        assert!(wanted(&target("2001:db8::c:1", None, None)).is_err());
        assert!(wanted(&target("2001:db8::", Some(64), None)).is_err());
        assert!(wanted(&target("2001:db8::1", Some(64), None))
            .unwrap_err()
            .to_string()
            .contains("gateway"));
        assert!(wanted(&Target::default()).is_err());
    }

    fn host_with(text: &str) -> (tempfile::TempDir, Host) {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc/network")).unwrap();
        std::fs::write(d.path().join("etc/network/interfaces"), text).unwrap();
        let h = Host::new(d.path()).unwrap();
        (d, h)
    }

    #[test]
    fn audit_reports_missing_inet6_and_ignored_options() {
        let (_d, h) = host_with(
            "auto lo eth0 eth1\niface lo inet loopback\niface eth0 inet static\n address 192.0.2.10/24\niface eth1 inet dhcp\niface eth1 inet6 static\n address 2001:db8::1/64\n address 2001:db8::2/64\n endpoint any\n",
        );
        let f = Interfaces.audit(&h).unwrap();
        let msgs: Vec<String> = f
            .iter()
            .map(|f| format!("{}:{} {}", f.line.unwrap(), f.severity.as_str(), f.message))
            .collect();
        assert_eq!(f.len(), 3, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("3:warning eth0 has no inet6 stanza"),
            "{msgs:#?}"
        );
        assert!(
            msgs[1].starts_with("8:error a second `address` line"),
            "{msgs:#?}"
        );
        assert!(
            msgs[2].starts_with("9:warning `endpoint` belongs to"),
            "{msgs:#?}"
        );
        assert_eq!(
            f[0].fix.as_deref(),
            Some("v6fix interfaces --iface eth0 --network PREFIX --role ROLE --host ID")
        );
    }

    #[test]
    fn the_interface_is_picked_only_when_unambiguous() {
        let (_d, h) =
            host_with("iface lo inet loopback\niface eth0 inet static\n address 192.0.2.1/24\n");
        let files = load(&h).unwrap();
        assert_eq!(
            pick_iface(&Target::default(), &all_stanzas(&files)).unwrap(),
            "eth0"
        );
        let (_d, h) = host_with("iface eth0 inet dhcp\n");
        let files = load(&h).unwrap();
        let e = pick_iface(&Target::default(), &all_stanzas(&files))
            .unwrap_err()
            .to_string();
        assert!(e.contains("(found eth0 inet dhcp)"), "{e}");
        assert!(
            e.contains("--iface") && e.contains("--skip interfaces"),
            "{e}"
        );
    }

    #[test]
    fn a_source_line_of_5000_patterns_lists_its_directory_once_and_copies_each_pattern_once() {
        let words: Vec<String> = (0..5000).map(|i| format!("interfaces.d/x{i}*")).collect();
        let main = format!(
            "source {}\niface eth0 inet static\n address 192.0.2.10/24\n",
            words.join(" ")
        );
        let (d, h) = host_with(&main);
        std::fs::create_dir_all(d.path().join("etc/network/interfaces.d")).unwrap();
        for name in ["x7", "x12", "x4999", "y1"] {
            let text = format!("iface {name} inet manual\n");
            std::fs::write(d.path().join("etc/network/interfaces.d").join(name), text).unwrap();
        }
        let files = load(&h).unwrap();
        let read: Vec<String> = files
            .iter()
            .map(|l| l.file.path.display().to_string())
            .collect();
        // In the order of the patterns that read them: `x1*` (x12), `x4*` (x4999), `x7*`.
        assert_eq!(
            read,
            [
                "/etc/network/interfaces",
                "/etc/network/interfaces.d/x12",
                "/etc/network/interfaces.d/x4999",
                "/etc/network/interfaces.d/x7",
            ]
        );
        assert_eq!(
            h.dirs_listed(),
            1,
            "one listing of interfaces.d for 5000 patterns"
        );
        // Each pattern's directive names it alone: their text grows with the line, not
        // with its square.
        let incs = includes(&files[0].file, &files[0].doc);
        assert_eq!(incs.len(), 5000);
        let copied: usize = incs.iter().map(|i| i.directive.len()).sum();
        assert_eq!(
            copied,
            words
                .iter()
                .map(|w| "source ".len() + w.len())
                .sum::<usize>()
        );
    }
}
