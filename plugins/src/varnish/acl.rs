//! VCL acls: `"::1";` beside `"127.0.0.1";` and the site's IPv6 networks after the last
//! IPv4 entry.

use super::conf::Setup;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use v6fix_core::dialect::varnish as vcl;
use v6fix_core::{Analysis, Edits, Host, Prefix, Style};

impl Setup {
    /// acl entries. Returns whether a VCL file changes.
    pub(super) fn plan_vcl(&self, host: &Host, networks: &[Prefix], plan: &mut Analysis) -> bool {
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
