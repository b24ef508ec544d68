//! VCL acls: `"::1";` beside `"127.0.0.1";` and the site's IPv6 networks after the last
//! IPv4 entry.

use super::conf::Setup;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use v6fix_core::config_set::included;
use v6fix_core::dialect::varnish as vcl;
use v6fix_core::error::ParseError;
use v6fix_core::text::Span;
use v6fix_core::{Analysis, Edits, Host, Prefix, Style};

/// One entry of an acl, where it is written.
pub(super) struct Entry {
    /// The index in `Setup::vcls` of the file that holds it.
    pub(super) file: usize,
    pub(super) entry: vcl::AclEntry,
    /// For an entry of an included file: the `include` statement in the acl's body it came
    /// through (where an entry beside it goes, since v6fix edits the acl body itself).
    pub(super) via: Option<Span>,
}

impl Entry {
    /// Where something placed after this entry goes in the acl's own body.
    pub(super) fn anchor(&self) -> &Span {
        self.via.as_ref().unwrap_or(&self.entry.span)
    }
}

impl Setup {
    /// The entries of acl `acl` of file `fi` in the order VCL reads them: its own, and at
    /// each `include` in its body the entries of the file that include read. A file
    /// included there that does not read as acl entries is an error at its place.
    pub(super) fn acl_entries(
        &self,
        fi: usize,
        acl: &vcl::Acl,
    ) -> Result<Vec<Entry>, (usize, ParseError)> {
        let doc = &self.vcls[fi].1;
        // Only an acl with includes needs the file's include order (reading it walks every
        // acl of the file, so doing it for each acl would be quadratic in their number).
        let tags = if acl.includes.is_empty() {
            Vec::new()
        } else {
            doc.includes()
        };
        let mut out: Vec<Entry> = acl
            .entries
            .iter()
            .map(|e| Entry {
                file: fi,
                entry: e.clone(),
                via: None,
            })
            .collect();
        for (_, span) in &acl.includes {
            let Some(tag) = tags.iter().position(|(_, s)| s == span) else {
                continue;
            };
            for f in included(&self.vcl_includes[fi], tag) {
                let entries = self.vcls[f].1.acl_fragment().map_err(|e| (f, e))?;
                out.extend(entries.into_iter().map(|e| Entry {
                    file: f,
                    entry: e,
                    via: Some(span.clone()),
                }));
            }
        }
        out.sort_by_key(|e| e.anchor().start);
        Ok(out)
    }
}

impl Setup {
    /// acl entries. Returns whether a VCL file changes.
    pub(super) fn plan_vcl(&self, host: &Host, networks: &[Prefix], plan: &mut Analysis) -> bool {
        let mut changed = false;
        let mut need_network = Vec::new();
        let lo4 = Prefix::parse("127.0.0.0/8").expect("constant");
        let lo6 = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
        for (fi, (file, doc)) in self.vcls.iter().enumerate() {
            if !file.target.starts_with("/etc") {
                continue;
            }
            let Ok(acls) = doc.acls() else { continue };
            let mut edits = Edits::new();
            for acl in &acls {
                let mut v4 = Vec::new();
                let mut v6 = Vec::new();
                let all = match self.acl_entries(fi, acl) {
                    Ok(all) => all,
                    Err((f, e)) => {
                        let (ffile, _) = &self.vcls[f];
                        plan.refuse(
                            ffile,
                            e.offset,
                            format!(
                                "included in acl {}: found {}, expected {}",
                                acl.name, e.found, e.expected
                            ),
                        );
                        continue;
                    }
                };
                for en in &all {
                    let e = &en.entry;
                    let (file, doc) = &self.vcls[en.file];
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
                        v4.push((en, p));
                    }
                }
                let covered = |n: &Prefix| v6.iter().any(|a| a.covers(n));
                if let Some((e, _)) = v4
                    .iter()
                    .find(|(_, p)| lo4.covers(p) && p.contains(IpAddr::V4(Ipv4Addr::LOCALHOST)))
                {
                    if !covered(&lo6) {
                        doc.insert_after(&mut edits, e.anchor(), "\"::1\";");
                    }
                }
                let site: Vec<_> = v4.iter().filter(|(_, p)| !lo4.covers(p)).collect();
                let Some((last, _)) = site.last() else {
                    continue;
                };
                if networks.is_empty() {
                    need_network.push(format!(
                        "{}: acl {}",
                        host.locate(&self.vcls[last.file].0, last.entry.span.start),
                        acl.name
                    ));
                }
                for n in networks {
                    if !covered(n) {
                        doc.insert_after(
                            &mut edits,
                            last.anchor(),
                            &format!("{};", n.render(Style::Quoted)),
                        );
                    }
                }
            }
            if !edits.is_empty() {
                plan.change(file, edits);
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
}

/// An acl entry's network, when it is a literal address.
pub(super) fn entry_prefix(e: &vcl::AclEntry) -> Option<Prefix> {
    if e.optional {
        return None;
    }
    let p = Prefix::parse(&e.addr).ok()?;
    match e.mask {
        Some(m) => Prefix::new(p.addr(), m),
        None => Some(p),
    }
}
