//! The `-a` listeners: reading them as varnishd does, and adding the IPv6 twin of each
//! IPv4 one where the command line is (a drop-in when it comes from /lib).

use super::cmdline::{insert_option, options, Opt};
use super::conf::{Cmd, Setup, Unit, SYSV};
use std::collections::HashSet;
use std::net::Ipv6Addr;
use std::path::Path;
use v6fix_core::dialect::systemd::{self, escape_word};
use v6fix_core::edit::Attach;
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin};
use v6fix_core::{Analysis, Edits, Host, Result, Severity};

const DROPIN_NEW: &str = "/etc/systemd/system/varnish.service.d/override.conf";

/// What an `-a` names: an endpoint, a Unix socket (or nothing v6fix touches), or a word
/// varnishd cannot read as an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum At {
    Ep(Endpoint),
    Other,
    Refused(String),
}

#[derive(Debug, Clone)]
pub(super) struct Listen {
    pub(super) name: Option<String>,
    pub(super) at: At,
    /// `,PROTO,...` as written.
    pub(super) rest: String,
}

pub(super) fn parse_a(v: &str) -> Listen {
    let (head, rest) = match v.find(',') {
        Some(i) => (&v[..i], v[i..].to_string()),
        None => (v, String::new()),
    };
    let (name, ep) = match head.split_once('=') {
        Some((n, e)) if !n.contains([':', '[', '/']) => (Some(n.to_string()), e),
        _ => (None, head),
    };
    let at = if ep.starts_with('/') || ep.starts_with('@') || ep.is_empty() {
        At::Other
    } else {
        match Endpoint::parse(ep, &Spelling::VARNISH) {
            Ok(e) => At::Ep(e),
            Err(e) => At::Refused(e.to_string()),
        }
    };
    Listen { name, at, rest }
}

impl Listen {
    pub(super) fn endpoint(&self) -> Option<&Endpoint> {
        match &self.at {
            At::Ep(e) => Some(e),
            _ => None,
        }
    }

    /// The bind, when the word is an endpoint.
    pub(super) fn bind(&self) -> Option<&Bind> {
        self.endpoint().map(|e| &e.bind)
    }

    /// The port varnishd binds: 80 when the word has none.
    pub(super) fn port(&self) -> &str {
        self.endpoint().map_or("80", |e| e.port_or("80"))
    }

    /// True for an unbracketed IPv6 literal, which varnishd reads whole, on port 80.
    pub(super) fn unbracketed(&self) -> bool {
        self.endpoint().is_some_and(|e| e.bracketed.is_some()) || matches!(self.at, At::Refused(_))
    }
}

/// The IPv6 twin of an IPv4-only listener, by the one twin rule.
pub(super) fn twin_of(l: &Listen, address: Option<Ipv6Addr>) -> Twin {
    match l.endpoint() {
        Some(ep) => endpoint::twin(ep, address, &Bind::AnyV6),
        None => Twin::None,
    }
}

impl Setup {
    /// The `-a` twins. Returns whether the command line changes.
    pub(super) fn plan_listeners(
        &self,
        host: &Host,
        address: Option<Ipv6Addr>,
        plan: &mut Analysis,
    ) -> Result<bool> {
        let Some(file) = self.cmd_file() else {
            if !self.units.is_empty() {
                plan.warn("varnish.service has no ExecStart=: nothing to convert".to_string());
            }
            return Ok(false);
        };
        let src = &file.text;
        if self.exec_count > 1 {
            // The edit below adds the empty `ExecStart=` (or a drop-in that starts with one).
            plan.find(
                file,
                0,
                Severity::Error,
                "varnish.service gets more than one ExecStart= (a drop-in lacks the empty `ExecStart=`): systemd refuses to start it",
                "v6fix varnish",
            );
        }
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
        // What the -a options bind, by port, so each listener is checked in constant time
        // (a unit with thousands of -a stays linear).
        let bound: HashSet<(&Bind, &str)> = listens
            .iter()
            .filter_map(|(_, x)| Some((x.bind()?, x.port())))
            .collect();
        let v6_ports: HashSet<&str> = listens
            .iter()
            .filter(|(_, x)| matches!(x.bind(), Some(Bind::V6(_))))
            .map(|(_, x)| x.port())
            .collect();
        // Several IPv4-specific -a on one port would all get the one --address twin (and
        // varnishd refuses two -a with the same address): refused, naming them.
        if let Some(address) = address {
            let mapped_ports: HashSet<&str> = listens
                .iter()
                .filter(|(_, x)| matches!(x.bind(), Some(Bind::V6(v)) if !v.is_loopback()))
                .map(|(_, x)| x.port())
                .collect();
            let mapped = |port: &str| mapped_ports.contains(port);
            let mut specific = Vec::new();
            let mut place = Vec::new();
            for (o, l) in &listens {
                if let Some(Bind::V4(ip)) = l.bind() {
                    if !mapped(l.port()) {
                        specific.push(endpoint::Specific {
                            ip: *ip,
                            port: l.port().to_string(),
                            text: format!("`-a {}`", o.value),
                            at: at(o),
                        });
                        place.push(o.flag.start);
                    }
                }
            }
            for group in endpoint::collapsing(&specific) {
                let first = specific
                    .iter()
                    .position(|s| std::ptr::eq(s, group[0]))
                    .unwrap_or(0);
                let twin = format!("`-a [{address}]:{}`", group[0].port);
                let msg = endpoint::collapse_message(&group, address, &twin);
                plan.refuse(file, place[first], msg);
            }
        }
        for (o, l) in &listens {
            let shown = format!("-a {}", o.value);
            let has = |b: &Bind| bound.contains(&(b, l.port()));
            if l.unbracketed() {
                plan.lasting(
                    file,
                    o.flag.start,
                    Severity::Error,
                    format!("`{shown}`: varnishd reads an unbracketed IPv6 address as the whole host, on port 80"),
                    "",
                );
                continue;
            }
            match l.bind() {
                Some(Bind::AnyDual) => {
                    if has(&Bind::AnyV6) {
                        plan.find(
                            file,
                            o.flag.start,
                            Severity::Error,
                            format!(
                                "`{shown}` with -a [::]:{}: varnishd stops with \"have same address\"",
                                l.port()
                            ),
                            "",
                        );
                    }
                    plan.note(format!(
                        "{}: `{shown}` already listens on IPv4 and IPv6: left alone (adding -a [::]:{} would stop varnishd: \"have same address\")",
                        at(o),
                        l.port()
                    ));
                    continue;
                }
                Some(Bind::Name(n)) => {
                    plan.note(format!("{}: `{shown}` names the host `{n}`: varnishd binds what it resolves to; left alone", at(o)));
                    continue;
                }
                _ => {}
            }
            let twin = match twin_of(l, address) {
                Twin::Have(t) => Some(t),
                Twin::NeedAddress => None,
                Twin::None => continue,
            };
            match &twin {
                Some(t) if has(&t.bind) => {
                    plan.note(format!(
                        "{}: `{shown}` already has its twin {}: left alone",
                        at(o),
                        t.render(true)
                    ));
                    continue;
                }
                // Without --address, an IPv6 listener on a specific address of the port is
                // taken as the twin made by hand.
                None if v6_ports.contains(l.port()) => {
                    plan.note_at(
                        file,
                        o.flag.start,
                        format!("`{shown}`: an IPv6 listener on a specific address already shares its port: left alone"),
                    );
                    continue;
                }
                _ => {}
            }
            plan.find(
                file,
                o.flag.start,
                Severity::Warning,
                format!("`{shown}` accepts IPv4 only and no IPv6 listener shares its port"),
                if matches!(twin_of(l, None), Twin::NeedAddress) {
                    "v6fix varnish --address ADDR"
                } else {
                    "v6fix varnish"
                },
            );
            let Some(twin) = twin else {
                need_address.push(format!("{}: `{shown}`", at(o)));
                continue;
            };
            let endpoint = twin.render(true);
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
            if let Some(Bind::V4(a)) = parse_a(&o.value).bind() {
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
                plan.change(file, edits);
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
                        text_edits.insert_as(
                            item.span.start,
                            Attach::Line,
                            format!("ExecStart={}", u.doc.newline_of()),
                        );
                        plan.note(format!(
                            "{}: added the empty `ExecStart=` a drop-in needs before its own command (without it systemd refuses the unit)",
                            host.locate(&u.file, e.key_span.start)
                        ));
                    }
                    plan.change(&u.file, text_edits);
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
        plan: &mut Analysis,
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
                let mut text = f.text.to_string();
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&block);
                plan.rewrite(&f, text);
            }
            None => plan.create(Path::new(DROPIN_NEW), block),
        }
        plan.note(format!(
            "{}: ExecStart comes from {from}, which v6fix never writes: the drop-in overrides it",
            host.display(Path::new(DROPIN_NEW))
        ));
        Ok(())
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
        assert_eq!(parse_a(":6081").bind(), Some(&Bind::AnyDual));
        assert_eq!(parse_a("0.0.0.0:80").bind(), Some(&Bind::AnyV4));
        let l = parse_a("web=192.0.2.10:80,PROXY");
        assert_eq!(l.name.as_deref(), Some("web"));
        assert_eq!(l.bind(), Some(&Bind::V4("192.0.2.10".parse().unwrap())));
        assert_eq!(l.rest, ",PROXY");
        assert_eq!(parse_a("192.0.2.10").port(), "80");
        assert!(parse_a("::1:6081").unbracketed());
        assert_eq!(
            parse_a("[::1]:6081").bind(),
            Some(&Bind::V6(Ipv6Addr::LOCALHOST))
        );
        assert!(matches!(
            parse_a("localhost:6082").bind(),
            Some(Bind::Name(_))
        ));
        assert_eq!(parse_a("/run/varnish.sock,user=vcache").at, At::Other);
    }
}
