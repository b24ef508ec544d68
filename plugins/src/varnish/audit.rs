//! Findings: listeners that accept IPv4 only or stop varnishd, unbracketed IPv6 backends,
//! and acls that match no IPv6 client.

use super::acl::entry_prefix;
use super::cmdline::{options, Opt};
use super::conf::Setup;
use super::listen::{parse_a, twin_of, Listen};
use v6fix_core::{Bind, Twin};

use v6fix_core::{policy, File, Finding, Host, Severity};

impl Setup {
    pub(super) fn audit(&self, host: &Host) -> Vec<Finding> {
        let mut out = Vec::new();
        let finding =
            |file: &File, offset: usize, severity: Severity, message: String, fix: Option<&str>| {
                Finding {
                    severity,
                    path: host.display(&file.path),
                    line: Some(file.line(offset)),
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
                let has = |h: &Bind| {
                    listens
                        .iter()
                        .any(|(_, x)| x.bind() == Some(h) && x.port() == l.port())
                };
                if l.unbracketed() {
                    out.push(finding(
                        file,
                        o.flag.start,
                        Severity::Error,
                        format!("`{shown}`: varnishd reads an unbracketed IPv6 address as the whole host, on port 80"),
                        None,
                    ));
                    continue;
                }
                match l.bind() {
                    Some(Bind::AnyDual) if has(&Bind::AnyV6) => out.push(finding(
                        file,
                        o.flag.start,
                        Severity::Error,
                        format!(
                            "`{shown}` with -a [::]:{}: varnishd stops with \"have same address\"",
                            l.port()
                        ),
                        None,
                    )),
                    Some(Bind::AnyV4 | Bind::V4(_)) => {
                        let twin = twin_of(l, None);
                        let ok = match &twin {
                            Twin::Have(t) => has(&t.bind),
                            _ => listens.iter().any(|(_, x)| {
                                matches!(x.bind(), Some(Bind::V6(_))) && x.port() == l.port()
                            }),
                        };
                        if !ok {
                            let fix = match twin {
                                Twin::Have(_) => "v6fix varnish",
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
        for (fi, (acl_file, doc)) in self.vcls.iter().enumerate() {
            let Ok(acls) = doc.acls() else { continue };
            let tags = doc.includes();
            for acl in acls {
                let mut v4 = false;
                let mut v6 = false;
                let Ok(all) = self.acl_entries(fi, &tags, &acl) else {
                    continue;
                };
                for en in &all {
                    let e = &en.entry;
                    let file = &self.vcls[en.file].0;
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
                        if let Some(why) = Some(p)
                            .filter(|p| p.is_ipv6() && !e.negated)
                            .and_then(|p| policy::acl_entry(&p))
                        {
                            out.push(finding(
                                file,
                                e.span.start,
                                Severity::Error,
                                format!(
                                    "acl {}: \"{}\"{} matches too much: {why}; list the site's own networks instead",
                                    acl.name,
                                    e.addr,
                                    e.mask.map(|m| format!("/{m}")).unwrap_or_default()
                                ),
                                None,
                            ));
                        }
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
                        acl_file,
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
