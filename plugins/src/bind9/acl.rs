//! Address match lists: the site's IPv6 networks beside the IPv4 networks they admit.

use super::conf::{Conf, Ctx, Placed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use v6fix_core::dialect::bind::{element, Entry, Stmt};
use v6fix_core::{policy, Analysis, Prefix, Severity, Style};

/// The lists that decide who may ask, recurse, transfer or notify.
pub(super) const LISTS: &[&str] = &[
    "allow-query",
    "allow-recursion",
    "allow-query-cache",
    "allow-transfer",
    "allow-notify",
];

const FIX: &str = "v6fix bind9 --network PREFIX";

/// Plans the list edits; true when a file changes.
pub(super) fn plan(
    conf: &Conf,
    stmts: &[Placed<'_>],
    networks: &[Prefix],
    a: &mut Analysis,
) -> bool {
    let mut changed = false;
    for p in stmts {
        let (file, doc) = conf.file(p.file);
        let Some(kw) = p.stmt.keyword(&doc.src) else {
            continue;
        };
        let is_list = match p.ctx {
            Ctx::Top => kw == "acl",
            Ctx::Options | Ctx::View | Ctx::Zone => LISTS.contains(&kw.as_str()),
        };
        let Some(block) = p.stmt.block().filter(|_| is_list) else {
            continue;
        };
        let name = if kw == "acl" {
            format!(
                "acl {}",
                p.stmt
                    .head_values(&doc.src)
                    .get(1)
                    .map_or("", String::as_str)
            )
        } else {
            kw.clone()
        };
        let mut read = Vec::new();
        for s in &block.stmts {
            match element(&doc.src, s) {
                Ok(e) => read.push((s, e)),
                Err(e) => {
                    a.refuse(
                        file,
                        e.offset,
                        format!("{name}: found {}, expected {}", e.found, e.expected),
                    );
                }
            }
        }
        if read.len() < block.stmts.len() {
            continue;
        }
        for (st, (neg, e)) in &read {
            let Entry::Prefix(x) = e else { continue };
            if let Some(why) = Some(x)
                .filter(|x| x.is_ipv6() && !neg)
                .and_then(policy::acl_entry)
            {
                a.find(
                    file,
                    st.span.start,
                    Severity::Error,
                    format!(
                        "{name}: `{}` admits too much: {why}; admit the site's own networks instead",
                        doc.src[st.span.clone()].trim_end_matches(';').trim_end()
                    ),
                    "",
                );
            }
        }
        let positive =
            |want: &dyn Fn(&Entry) -> bool| read.iter().any(|(_, (neg, e))| !neg && want(e));
        if positive(&|e| *e == Entry::Name("any".into())) {
            continue;
        }
        let lo4 = Prefix::parse("127.0.0.0/8").expect("constant");
        let v6: Vec<Prefix> = read
            .iter()
            .filter_map(|(_, (neg, e))| match e {
                Entry::Prefix(x) if !neg && x.is_ipv6() => Some(*x),
                _ => None,
            })
            .collect();
        let site: Vec<&Stmt> = read
            .iter()
            .filter(|(_, (neg, e))| matches!(e, Entry::Prefix(x) if !neg && !x.is_ipv6() && !lo4.covers(x)))
            .map(|(s, _)| *s)
            .collect();
        let covered = |n: &Prefix| v6.iter().any(|x| x.covers(n));
        let mut edits = Vec::new();
        // ::1 beside 127.0.0.1, unless `localhost` (both families) is there already.
        let lo_host = read.iter().find(|(_, (neg, e))| {
            matches!(e, Entry::Prefix(x) if !neg && x.contains(IpAddr::V4(Ipv4Addr::LOCALHOST)) && lo4.covers(x))
        });
        if let Some((s, _)) = lo_host {
            let lo6 = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
            if !covered(&lo6) && !positive(&|e| *e == Entry::Name("localhost".into())) {
                edits.push((*s, "::1;".to_string()));
            }
        }
        if let Some(last) = site.last() {
            if v6.is_empty() {
                // Without --network the run leaves it: it warns, and the audit reports it.
                let message = format!(
                    "{name} admits IPv4 networks but no IPv6 network: the site's IPv6 clients are refused"
                );
                let at = p.stmt.span.start;
                if networks.is_empty() {
                    a.lasting(file, at, Severity::Warning, message, FIX);
                } else {
                    a.find(file, at, Severity::Warning, message, FIX);
                }
            }
            for n in networks {
                if !covered(n) {
                    edits.push((*last, format!("{};", n.render(Style::Bare))));
                }
            }
        }
        if edits.is_empty() {
            continue;
        }
        for (s, (neg, e)) in &read {
            if let (true, Entry::Prefix(x)) = (neg, e) {
                if !x.is_ipv6() {
                    a.warn_at(
                        file,
                        s.span.start,
                        format!(
                            "{name}: `{}` excludes IPv4 clients only; v6fix cannot know which IPv6 addresses to exclude as well",
                            doc.src[s.span.clone()].trim_end_matches(';').trim_end()
                        ),
                    );
                }
            }
        }
        let added: Vec<&str> = edits.iter().map(|(_, t)| t.trim_end_matches(';')).collect();
        a.note_at(
            file,
            p.stmt.span.start,
            format!("{name}: added {}", added.join(", ")),
        );
        for (after, text) in &edits {
            doc.insert_element_after(a.edits(file), after, text);
        }
        changed = true;
    }
    changed
}
