//! Audit: findings about IPv6 in main.cf, its network lists and master.cf.

use super::conf::{live_tokens, token_ip, Conf, Entry, Tables};
use super::elem::{broken_message, Elem};
use super::master::{bound_services, lonely_v4};
use super::protocols::enables_ipv6;
use super::{MAIN_CF, MASTER_CF, NETWORK_LISTS};
use std::collections::HashSet;
use std::net::IpAddr;
use std::path::Path as FsPath;
use std::path::Path;
use std::rc::Rc;
use v6fix_core::addr::parse_ip;
use v6fix_core::dialect::postfix as pf;
use v6fix_core::policy;
use v6fix_core::{Finding, Prefix, Result, Severity};

const FIX: &str = "v6fix postfix --network PREFIX";

impl Conf<'_> {
    /// The audit, reading the lists and tables through `tables` (shared with the plan).
    pub(super) fn audit(&self, tables: &mut Tables) -> Result<Vec<Finding>> {
        let mut out = Vec::new();
        let main_path = self.host.display(Path::new(MAIN_CF));
        let at = |offset: usize| Some(self.main.line(offset));
        match self.doc.param("inet_protocols") {
            Some(p) if self.doc.tokens(p).iter().any(pf::Element::is_comment) => out.push(Finding {
                severity: Severity::Error,
                path: main_path.clone(),
                line: at(p.name_span.start),
                message: format!(
                    "inet_protocols = {}: Postfix refuses to start with a `#` note in this value (unknown inet_protocols value \"#\")",
                    self.doc.value(p)
                ),
                fix: Some(FIX.into()),
            }),
            Some(p) if !enables_ipv6(&self.doc, p) => out.push(Finding {
                severity: Severity::Warning,
                path: main_path.clone(),
                line: at(p.name_span.start),
                message: format!(
                    "inet_protocols = {} keeps Postfix IPv4-only: it neither listens nor connects over IPv6",
                    self.doc.value(p)
                ),
                fix: Some(FIX.into()),
            }),
            Some(_) => {}
            None => out.push(Finding {
                severity: Severity::Info,
                path: main_path.clone(),
                line: None,
                message: "inet_protocols is not set: the compiled-in default is `all` in current Postfix but `ipv4` in old versions".into(),
                fix: Some(FIX.into()),
            }),
        }

        // An element two lists share is reported once.
        let mut reported = HashSet::new();
        for name in NETWORK_LISTS {
            for e in self.walk(name, tables)?.iter() {
                let finding = |message: String| Finding {
                    severity: Severity::Error,
                    path: self.host.display(&e.path),
                    line: self.line_of(tables, &e.path, e.span.start),
                    message,
                    fix: Some(FIX.into()),
                };
                let mut out = Reported {
                    out: &mut out,
                    reported: &mut reported,
                    entry: e,
                    fresh: None,
                };
                // An entry that trusts too much (every list grants something, but for
                // debug_peer_list, which only logs more).
                if let Elem::Net {
                    prefix,
                    negated: false,
                }
                | Elem::Broken {
                    prefix,
                    negated: false,
                    ..
                } = &e.elem
                {
                    if let Some(why) =
                        policy::acl_entry(prefix).filter(|_| *name != "debug_peer_list")
                    {
                        out.push(Finding {
                            fix: None,
                            ..finding(format!(
                                "`{}` in {name} trusts too much: {why}; list the site's own networks instead",
                                e.text
                            ))
                        });
                    }
                }
                match &e.elem {
                    Elem::Broken { fixed, why, .. } => {
                        out.push(finding(format!(
                        "{}; write it as `{fixed}`",
                        broken_message(name, &e.text, *why)
                    )))
                    }
                    Elem::UnknownType(ty) => out.push(Finding {
                        fix: None,
                        ..finding(format!(
                            "`{}` in {name}: Postfix reads it as a lookup table of the unknown type `{ty}`, and every client whose check reaches it gets 451 4.3.0",
                            e.text
                        ))
                    }),
                    Elem::File(p) | Elem::Cidr(p) if !self.host.exists(p) => out.push(Finding {
                        fix: None,
                        ..finding(format!(
                            "{name} names {}, which does not exist: Postfix cannot open it",
                            self.host.display(p)
                        ))
                    }),
                    _ => {}
                }
            }
        }

        // The lost email: IPv4 networks trusted to relay, no IPv6 one.
        if self.doc.param("mynetworks").is_some() {
            let entries = self.walk("mynetworks", tables)?;
            let nets: Vec<(&Entry, Prefix)> = entries
                .iter()
                .filter_map(|e| match &e.elem {
                    Elem::Net {
                        prefix,
                        negated: false,
                    }
                    | Elem::Broken {
                        prefix,
                        negated: false,
                        ..
                    } if !is_loopback(prefix) => Some((e, *prefix)),
                    _ => None,
                })
                .collect();
            let has_v6 = nets.iter().any(|(_, p)| p.is_ipv6());
            if let (false, Some((first, _))) = (has_v6, nets.first()) {
                let p = self.doc.param("mynetworks").expect("checked");
                out.push(Finding {
                    severity: Severity::Warning,
                    path: main_path.clone(),
                    line: at(p.name_span.start),
                    message: format!(
                        "mynetworks trusts IPv4 networks ({} …) but no IPv6 network: the same clients are refused relaying (554 Relay access denied) once they use IPv6",
                        first.text
                    ),
                    fix: Some(FIX.into()),
                });
            }
        }

        if let Some(p) = self.doc.param("inet_interfaces") {
            let tokens = live_tokens(&self.doc, p);
            let any_v6 = tokens.iter().any(|t| is_v6_text(&t.text));
            let v4: Vec<&str> = tokens
                .iter()
                .filter(|t| matches!(parse_ip(&t.text), Some(IpAddr::V4(_))))
                .map(|t| t.text.as_ref())
                .collect();
            if !any_v6 && !v4.is_empty() {
                out.push(Finding {
                    severity: Severity::Warning,
                    path: main_path.clone(),
                    line: at(p.name_span.start),
                    message: format!(
                        "inet_interfaces = {} binds IPv4 addresses only: Postfix does not listen on IPv6",
                        self.doc.value(p)
                    ),
                    fix: Some("v6fix postfix --network PREFIX --address ADDR".into()),
                });
            }
        }
        self.audit_master(&mut out)?;
        Ok(out)
    }

    fn audit_master(&self, out: &mut Vec<Finding>) -> Result<()> {
        let Some((file, doc)) = self.read_master()? else {
            return Ok(());
        };
        let bound = bound_services(&doc);
        for b in lonely_v4(&bound) {
            out.push(Finding {
                severity: Severity::Warning,
                path: self.host.display(Path::new(MASTER_CF)),
                line: Some(file.line(b.service.fields[0].start)),
                message: format!(
                    "service {} listens on an IPv4 address only: Postfix takes no IPv6 connections for it",
                    doc.field(b.service, 0)
                ),
                fix: Some("v6fix postfix --network PREFIX --address ADDR".into()),
            });
        }
        Ok(())
    }
}

fn is_v6_text(t: &str) -> bool {
    matches!(token_ip(t), Some(IpAddr::V6(_)))
}

fn is_loopback(p: &Prefix) -> bool {
    match p.addr() {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v| v.is_loopback()),
    }
}

/// The findings of one list element, kept only when that element (its file, offset and
/// text) has not had findings in an earlier list, so an element with none costs no
/// bookkeeping.
struct Reported<'o> {
    out: &'o mut Vec<Finding>,
    reported: &'o mut HashSet<(Rc<FsPath>, usize, String)>,
    entry: &'o Entry,
    fresh: Option<bool>,
}

impl Reported<'_> {
    fn push(&mut self, f: Finding) {
        let e = self.entry;
        let fresh = *self.fresh.get_or_insert_with(|| {
            self.reported
                .insert((e.path.clone(), e.span.start, e.text.clone()))
        });
        if fresh {
            self.out.push(f);
        }
    }
}
