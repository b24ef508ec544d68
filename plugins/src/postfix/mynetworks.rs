//! mynetworks: adding the site networks where the list keeps its networks.

use super::conf::{Conf, Entry};
use super::elem::Elem;
use super::state::State;
use super::{FIX, MAIN_CF};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::rc::Rc;
use v6fix_core::addr::Style;
use v6fix_core::{Edits, Error, Prefix, Result, Severity};

impl Conf<'_> {
    /// Adds `networks` to mynetworks; when this run opens ::1 to clients (`opened` says
    /// how), also `::1` where 127.0.0.0/8 is trusted.
    pub(super) fn mynetworks(
        &self,
        st: &mut State,
        networks: &[Prefix],
        opened: Option<&str>,
    ) -> Result<()> {
        let Some(p) = self.doc.param("mynetworks") else {
            self.mynetworks_unset(st, networks);
            return Ok(());
        };
        self.warn_duplicates(st, "mynetworks");
        let entries = self.walk("mynetworks", &mut st.tables)?;
        let entries = &entries[..];

        // The lost email: IPv4 networks trusted to relay, no IPv6 one.
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
        if let (false, Some((first, _))) = (nets.iter().any(|(_, p)| p.is_ipv6()), nets.first()) {
            st.plan.find(
                &self.main,
                p.name_span.start,
                Severity::Warning,
                format!(
                    "mynetworks trusts IPv4 networks ({} …) but no IPv6 network: the same clients are refused relaying (554 Relay access denied) once they use IPv6",
                    first.text()
                ),
                FIX,
            );
        }

        // A `{` never closed: Postfix reads the rest of the list as one element, so an
        // entry added after it would never be seen (and would be added again on every run).
        if let Some(e) = entries.iter().find(|e| {
            e.text().contains('{') && e.text().matches('{').count() > e.text().matches('}').count()
        }) {
            return Err(Error::Refused {
                path: self.where_is(&st.tables, e),
                reason: format!(
                    "mynetworks: `{}` opens a `{{` that is never closed, so Postfix reads the rest of the list as one element; close or remove it, then run v6fix again",
                    e.text().trim().chars().take(60).collect::<String>()
                ),
            });
        }

        // A /file/name list that does not exist: Postfix cannot read it either.
        for e in entries {
            if let Elem::File(path) = &e.elem {
                if !self.host.exists(path) {
                    return Err(Error::invalid(
                        self.host.display(Path::new(MAIN_CF)),
                        Some(self.main.line_col(e.span.start)),
                        format!(
                            "mynetworks names {}, which does not exist: Postfix cannot open it, and v6fix will not guess which IPv4 networks belong in it. Create it with the site's networks (one per line, IPv6 as [2001:db8::]/64) or drop it from mynetworks, then run v6fix again",
                            self.host.display(path)
                        ),
                    ));
                }
            }
            if let Elem::Cidr(path) = &e.elem {
                if !self.host.exists(path) {
                    return Err(Error::invalid(
                        self.host.display(Path::new(MAIN_CF)),
                        Some(self.main.line_col(e.span.start)),
                        format!(
                            "mynetworks names cidr:{}, which does not exist: Postfix cannot open it. Create the table or drop it from mynetworks, then run v6fix again",
                            self.host.display(path)
                        ),
                    ));
                }
            }
        }

        let mut missing = Vec::new();
        for n in networks {
            let mut found = None;
            for e in entries {
                let (prefix, negated) = match &e.elem {
                    Elem::Net { prefix, negated }
                    | Elem::Broken {
                        prefix, negated, ..
                    } => (*prefix, *negated),
                    _ => continue,
                };
                if prefix.covers(n) {
                    found = Some((e, prefix, negated));
                    break;
                }
            }
            match found {
                Some((e, prefix, negated)) => {
                    let place = self.where_is(&st.tables, e);
                    if negated {
                        st.plan.warn(format!(
                            "{place}: mynetworks excludes {n} with `{}` before any entry could trust it (first match wins): not added; remove the exclusion if the network should relay",
                            e.text()
                        ));
                    } else if prefix == *n {
                        st.note(format!(
                            "{place}: mynetworks already has {n} (as `{}`): not added again",
                            e.text()
                        ));
                    } else {
                        st.note(format!(
                            "{place}: mynetworks already covers {n} with `{}`: not added",
                            e.text()
                        ));
                    }
                }
                None => missing.push(*n),
            }
        }
        // Local trust stays local and working: once this run opens ::1, `localhost` reaches
        // Postfix over ::1, so a list trusting 127.0.0.0/8 trusts ::1 too.
        if let Some(why) = opened {
            let covering = |ip: IpAddr, negated_too: bool| {
                entries.iter().find(|e| match &e.elem {
                    Elem::Net { prefix, negated }
                    | Elem::Broken {
                        prefix, negated, ..
                    } => (negated_too || !negated) && prefix.contains(ip),
                    _ => false,
                })
            };
            if let (Some(v4), None) = (
                covering(IpAddr::V4(Ipv4Addr::LOCALHOST), false),
                covering(IpAddr::V6(Ipv6Addr::LOCALHOST), true),
            ) {
                let place = self.where_is(&st.tables, v4);
                st.note(format!(
                    "{place}: mynetworks trusts `{}` and {why}, so local clients reach Postfix over ::1 too: trusting [::1]/128 as well",
                    v4.text()
                ));
                missing.push(Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST)));
            }
        }
        if missing.is_empty() {
            return Ok(());
        }

        // Where the list keeps its networks: a /file list, else a cidr table, else inline.
        let file = entries.iter().rev().find_map(|e| match &e.elem {
            Elem::File(p) => Some(p.clone()),
            _ => None,
        });
        let cidr = entries.iter().rev().find_map(|e| match &e.elem {
            Elem::Cidr(p) => Some(p.clone()),
            _ => None,
        });
        let added: Vec<String> = missing.iter().map(|n| n.to_string()).collect();
        let added = added.join(", ");
        if let Some(path) = file {
            // A name that exists but is no readable list (a directory, say) was never loaded.
            let Some(Some((_, doc))) = st.tables.lists.get(&path) else {
                return Err(unreadable(self.host, &path, ""));
            };
            let lines: Vec<String> = missing
                .iter()
                .map(|n| n.render(Style::BracketedV6))
                .collect();
            let mut edits = Edits::new();
            doc.append_entries(&lines, &mut edits);
            st.edits_path(&path).extend(edits);
            st.note(format!(
                "{}: added {} (mynetworks reads this list file)",
                self.host.display(&path),
                lines.join(" ")
            ));
        } else if let Some(path) = cidr {
            let Some(Some((_, doc))) = st.tables.cidrs.get(&path) else {
                return Err(unreadable(self.host, &path, "cidr:"));
            };
            let result = doc
                .rules()
                .filter(|r| r.depth == 0)
                .last()
                .map_or("OK".to_string(), |r| doc.result(r));
            let rules: Vec<(String, String)> = missing
                .iter()
                .map(|n| (n.render(Style::Bare), result.clone()))
                .collect();
            let mut edits = Edits::new();
            doc.append_rules(&rules, &mut edits);
            st.edits_path(&path).extend(edits);
            st.note(format!(
                "{}: added {added} (a cidr table mynetworks looks up; bare, as cidr_table(5) writes it)",
                self.host.display(&path)
            ));
        } else {
            let literal = entries.iter().rev().find(|e| {
                e.editable
                    && *e.path == *Path::new(MAIN_CF)
                    && matches!(e.elem, Elem::Net { .. } | Elem::Broken { .. })
            });
            let tables: Vec<&Entry> = entries
                .iter()
                .filter(|e| matches!(e.elem, Elem::Table(_)))
                .collect();
            if literal.is_none() && !tables.is_empty() {
                let t = &tables[tables.len() - 1].text();
                let want: Vec<String> = missing
                    .iter()
                    .map(|n| n.render(Style::BracketedV6))
                    .collect();
                return Err(Error::invalid(
                    self.host.display(Path::new(MAIN_CF)),
                    Some(self.main.line_col(p.name_span.start)),
                    format!(
                        "mynetworks keeps its networks in `{t}`, a table type that cannot hold networks (only exact addresses), and lists none v6fix can add to: add {} to mynetworks yourself (e.g. `mynetworks = {} {t}`) or move the networks to a cidr: table, then run v6fix again",
                        want.join(" "),
                        want.join(" ")
                    ),
                ));
            }
            let holder = literal
                .and_then(|e| e.param.clone())
                .unwrap_or_else(|| Rc::from("mynetworks"));
            let hp = self.doc.param(&holder).expect("walked from main.cf");
            let items: Vec<String> = missing
                .iter()
                .map(|n| n.render(Style::BracketedV6))
                .collect();
            self.doc.append_to_list(hp, &items, st.edits(MAIN_CF));
            let via = if &*holder == "mynetworks" {
                String::new()
            } else {
                format!(" (in {holder}, where its networks are written)")
            };
            st.note(format!(
                "{}: mynetworks: added {}{via}",
                self.locate(&self.main, hp.name_span.start),
                items.join(" ")
            ));
            if let Some(t) = tables.last() {
                st.note(format!(
                    "mynetworks also looks up `{}`, which cannot hold networks: left alone",
                    t.text()
                ));
            }
        }
        st.lists_changed = true;
        Ok(())
    }

    fn mynetworks_unset(&self, st: &mut State, networks: &[Prefix]) {
        let style = self
            .doc
            .get("mynetworks_style")
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_else(|| {
                let level = self.doc.get("compatibility_level").unwrap_or_default();
                let major: u32 = level
                    .split('.')
                    .next()
                    .and_then(|m| m.trim().parse().ok())
                    .unwrap_or(0);
                if major >= 2 { "host" } else { "subnet" }.to_string()
            });
        let nets: Vec<String> = networks.iter().map(|n| n.to_string()).collect();
        let nets = nets.join(", ");
        if style == "host" {
            st.note(format!(
                "mynetworks is not set, so Postfix trusts only this host's own addresses (mynetworks_style = host), IPv4 and IPv6 alike; {nets} is not trusted over IPv4 either, so v6fix adds no mynetworks line (that would change what is trusted). To let the site relay, set mynetworks with its IPv4 and IPv6 networks and run v6fix again"
            ));
        } else {
            st.note(format!(
                "mynetworks is not set, so Postfix trusts the subnets of this host's own addresses (mynetworks_style = {style}), IPv6 ones included: once an interface has its address in {nets}, those clients may relay. Left alone"
            ));
        }
    }
}

/// The error for a list or table that mynetworks names but that could not be read as one.
fn unreadable(host: &v6fix_core::Host, path: &Path, kind: &str) -> Error {
    Error::invalid(
        host.display(Path::new(MAIN_CF)),
        None,
        format!(
            "mynetworks names {kind}{}, which is not a file v6fix can read as a list of networks (a directory?): fix the name or drop it from mynetworks, then run v6fix again",
            host.display(path)
        ),
    )
}

fn is_loopback(p: &Prefix) -> bool {
    match p.addr() {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v| v.is_loopback()),
    }
}
