//! allow/deny lists: the site's IPv6 network beside its IPv4 ones, `::1` beside loopback.

use super::conf::{Conf, Placed};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use v6fix_core::{policy, Analysis, Host, Prefix, Severity};

impl Conf {
    /// allow/deny lists, block by block.
    pub(super) fn plan_access(
        &self,
        host: &Host,
        placed: &[Placed<'_>],
        networks: &[Prefix],
        plan: &mut Analysis,
    ) {
        // allow/deny by block, blocks in the order first seen.
        let mut by_block: Vec<(usize, Vec<&Placed<'_>>)> = Vec::new();
        let mut slot: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        for p in placed {
            if p.d.name() != "allow" && p.d.name() != "deny" {
                continue;
            }
            let i = *slot.entry(p.block).or_insert_with(|| {
                by_block.push((p.block, Vec::new()));
                by_block.len() - 1
            });
            by_block[i].1.push(p);
        }
        let mut need_network = Vec::new();
        let mut done: HashSet<(usize, usize)> = HashSet::new();
        for (_, list) in by_block {
            if !done.insert((list[0].file, list[0].d.span.start)) {
                continue;
            }
            let mut allows: Vec<(&Placed<'_>, Prefix)> = Vec::new();
            for p in &list {
                let args = p.d.args();
                let Some(a) = args.first() else { continue };
                if a == "all" || a.starts_with("unix:") {
                    continue;
                }
                let Ok(prefix) = Prefix::parse_any(a) else {
                    continue;
                };
                let file = &self.files[p.file].file;
                if a.contains('[') {
                    plan.find(
                        file,
                        p.d.span.start,
                        Severity::Error,
                        format!(
                            "`{}`: nginx rejects a bracketed address here",
                            self.text_of(p)
                        ),
                        "v6fix nginx",
                    );
                    let w = &p.d.words[1];
                    plan.edits(file)
                        .replace(w.span.clone(), prefix_text(&prefix));
                    plan.note(format!(
                        "{}: `{}`: nginx rejects brackets here; written `{}`",
                        self.at(host, p),
                        self.text_of(p),
                        prefix_text(&prefix)
                    ));
                }
                if p.d.name() == "deny" {
                    if !prefix.is_ipv6() {
                        plan.warn(format!(
                            "{}: `{}` blocks IPv4 clients only; v6fix cannot know which IPv6 networks to block as well",
                            self.at(host, p),
                            self.text_of(p)
                        ));
                    }
                    continue;
                }
                if let Some(why) = Some(prefix)
                    .filter(Prefix::is_ipv6)
                    .and_then(|x| policy::acl_entry(&x))
                {
                    plan.find(
                        file,
                        p.d.span.start,
                        Severity::Error,
                        format!(
                            "`{}` admits too much: {why}; allow the site's own networks instead",
                            self.text_of(p)
                        ),
                        "",
                    );
                }
                allows.push((p, prefix));
            }
            let covered = |n: &Prefix| allows.iter().any(|(_, a)| a.is_ipv6() && a.covers(n));
            let v4: Vec<&(&Placed<'_>, Prefix)> =
                allows.iter().filter(|(_, a)| !a.is_ipv6()).collect();
            let Some(last) = v4.last() else { continue };
            let lo6 = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
            let lo4 = Prefix::parse("127.0.0.0/8").expect("constant");
            let site = v4.iter().any(|(_, a)| !lo4.covers(a));
            let any_v6 = allows.iter().any(|(_, a)| a.is_ipv6());
            let first = v4[0].0;
            if site && !any_v6 {
                plan.find(
                    &self.files[first.file].file,
                    first.d.span.start,
                    Severity::Warning,
                    "this allow list admits no IPv6 client".to_string(),
                    "v6fix nginx --network PREFIX",
                );
            }
            if let Some((lp, _)) = v4
                .iter()
                .find(|(_, a)| lo4.covers(a) && a.contains(IpAddr::V4(Ipv4Addr::LOCALHOST)))
            {
                if !covered(&lo6) {
                    if !site || any_v6 {
                        plan.find(
                            &self.files[lp.file].file,
                            lp.d.span.start,
                            Severity::Warning,
                            format!(
                                "`{}` admits 127.0.0.1 but not ::1: local clients that reach it over ::1 are refused",
                                self.text_of(lp)
                            ),
                            "v6fix nginx",
                        );
                    }
                    self.files[lp.file].doc.insert_after(
                        plan.edits(&self.files[lp.file].file),
                        lp.d,
                        "allow ::1;",
                    );
                }
            }
            if !site {
                continue;
            }
            if networks.is_empty() {
                need_network.push(format!(
                    "{}: `{}`",
                    self.at(host, last.0),
                    self.text_of(last.0)
                ));
            }
            for n in networks {
                if !covered(n) {
                    let lp = last.0;
                    self.files[lp.file].doc.insert_after(
                        plan.edits(&self.files[lp.file].file),
                        lp.d,
                        &format!("allow {};", prefix_text(n)),
                    );
                }
            }
        }
        if !need_network.is_empty() {
            plan.warn(format!(
                "allow lists admit IPv4 networks only; give --network PREFIX to admit the site's IPv6 network: {}",
                need_network.join(", ")
            ));
        }
    }
}

fn prefix_text(p: &Prefix) -> String {
    if p.is_host() {
        p.addr().to_string()
    } else {
        p.to_string()
    }
}
