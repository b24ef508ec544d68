//! The `-a` listeners: reading them as varnishd does, and adding the IPv6 twin of each
//! IPv4 one where the command line is (a drop-in when it comes from /lib).

use super::cmdline::{insert_option, options, Opt};
use super::conf::{Cmd, Setup, Unit, SYSV};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use v6fix_core::addr::host_port;
use v6fix_core::dialect::systemd::{self, escape_word};
use v6fix_core::{Edits, Host, Plan, Result};

const DROPIN_NEW: &str = "/etc/systemd/system/varnish.service.d/override.conf";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AHost {
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
pub(super) struct Listen {
    pub(super) name: Option<String>,
    pub(super) host: AHost,
    pub(super) port: Option<String>,
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
    pub(super) fn port(&self) -> &str {
        self.port.as_deref().unwrap_or("80")
    }
}

/// Where the IPv6 twin of an IPv4 listener goes: `Some(None)` when it needs --address.
pub(super) fn twin_addr(l: &Listen, address: Option<IpAddr>) -> Option<Option<IpAddr>> {
    match l.host {
        AHost::Wild4 => Some(Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))),
        AHost::V4(a) if a == Ipv4Addr::LOCALHOST => Some(Some(IpAddr::V6(Ipv6Addr::LOCALHOST))),
        AHost::V4(a) if a.is_loopback() => None,
        AHost::V4(_) => Some(address),
        _ => None,
    }
}

impl Setup {
    /// The `-a` twins. Returns whether the command line changes.
    pub(super) fn plan_listeners(
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
}
