//! `pg_hba.conf`: rows for IPv6 clients beside the IPv4 rows they mirror.
//!
//! The server uses the first row whose type, database, user and address match a
//! connection, so a mirrored row goes right after the row it mirrors: the IPv6 rules are
//! then matched in the order the IPv4 ones are. Which rows are mirrored:
//!
//! - a row for the site's IPv4 network gets one row per `--network`, with the same type,
//!   database, user, method and options. The site's IPv4 network is the one network (not
//!   a single address, not loopback, not `0.0.0.0/0`) the `host*` rows name; when they
//!   name several, v6fix cannot know which one the IPv6 network stands beside and refuses
//!   unless `--mirror PREFIX` names it, and then mirrors the rows naming exactly that one;
//! - a loopback row (`127.0.0.1/32`) gets `::1/128`, and `0.0.0.0/0` gets `::/0`;
//! - a row for one IPv4 address (`/32`) is left alone with a warning: that client's IPv6
//!   address is not known; `all`, `samehost`, `samenet` and host names match both
//!   families already.
//!
//! A row already present with the same type, database, user, method, options and IPv6
//! address is never added twice.

use super::cluster::Cluster;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use v6fix_core::dialect::postgresql::hba::{Address, Doc, Record};
use v6fix_core::{Analysis, Host, Prefix, Severity};

const FIX: &str = "v6fix postgresql --network PREFIX";

/// What a row with an IPv4 network is, for mirroring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Loopback,
    Everyone,
    OneAddress,
    Site,
}

fn kind(p: &Prefix) -> Kind {
    let lo = Prefix::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8).expect("constant");
    if lo.covers(p) {
        Kind::Loopback
    } else if p.len() == 0 {
        Kind::Everyone
    } else if p.len() == 32 {
        Kind::OneAddress
    } else {
        Kind::Site
    }
}

/// A rule as matching reads it: type, database, user, method and options, and the
/// network of its address.
type RuleKey = (
    String,
    Vec<(String, bool)>,
    Vec<(String, bool)>,
    Vec<String>,
    Prefix,
);

fn rule_key(r: &Record, p: &Prefix) -> RuleKey {
    let toks = |f: &v6fix_core::dialect::postgresql::hba::Field| {
        f.tokens
            .iter()
            .map(|t| (t.value.clone(), t.quoted))
            .collect::<Vec<_>>()
    };
    (
        r.kind.clone(),
        toks(r.database()),
        toks(r.user()),
        r.method_and_options()
            .into_iter()
            .map(String::from)
            .collect(),
        p.network(),
    )
}

/// Every rule of `doc` with a network address, so asking whether a rule is there is one
/// look-up (thousands of rows stay linear).
fn rules(doc: &Doc) -> HashSet<RuleKey> {
    doc.records()
        .filter_map(|(_, r)| match &r.address {
            Some(Address::Network { prefix, .. }) => Some(rule_key(r, prefix)),
            _ => None,
        })
        .collect()
}

/// Plans the pg_hba.conf rows of cluster `c`; true when it adds some.
pub(super) fn analyze(
    host: &Host,
    c: &Cluster,
    networks: &[Prefix],
    mirror: Option<Prefix>,
    a: &mut Analysis,
) -> bool {
    let Some((file, doc)) = &c.hba else {
        a.warn(format!(
            "{}: not found: the cluster {}/{} does not start without it",
            host.display(&c.hba_path),
            c.version,
            c.name
        ));
        return false;
    };
    let present = rules(doc);
    let rows: Vec<(usize, &Record, Prefix)> = doc
        .records()
        .filter_map(|(i, r)| match &r.address {
            Some(Address::Network { prefix, .. }) if !prefix.is_ipv6() => Some((i, r, *prefix)),
            _ => None,
        })
        .collect();
    let line = |i: usize| doc.lines()[i].span.start;
    let at = |i: usize| host.locate(file, line(i));
    let mut sites: Vec<Prefix> = Vec::new();
    for (_, _, p) in &rows {
        if kind(p) == Kind::Site && !sites.contains(&p.network()) {
            sites.push(p.network());
        }
    }
    // Which site network the IPv6 networks mirror.
    let chosen: Option<Prefix> = match (mirror, sites.as_slice()) {
        (Some(m), _) => {
            if !sites.contains(&m.network()) && !networks.is_empty() {
                let names: Vec<String> = sites.iter().map(Prefix::to_string).collect();
                a.refuse(
                    file,
                    0,
                    format!(
                        "--mirror {m}: no host row names that network; the rows name {}",
                        if names.is_empty() {
                            "no IPv4 network".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                );
            }
            Some(m.network())
        }
        (None, [one]) => Some(*one),
        (None, []) => None,
        (None, many) => {
            if !networks.is_empty() {
                let first = rows
                    .iter()
                    .find(|(_, _, p)| kind(p) == Kind::Site)
                    .map_or(0, |(i, _, _)| line(*i));
                let names: Vec<String> = many.iter().map(Prefix::to_string).collect();
                a.refuse(file,
                    first,
                    format!(
                        "host rows name several IPv4 networks ({}): which one does the site's IPv6 network stand beside? \
                         Name it with --mirror PREFIX; its rows are mirrored, the others left alone",
                        names.join(", ")
                    ),
                );
            }
            None
        }
    };
    let mut added = false;
    for (i, r, p) in &rows {
        let twins: Vec<Prefix> = match kind(p) {
            Kind::Loopback => vec![Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST))],
            Kind::Everyone => {
                vec![Prefix::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0).expect("constant")]
            }
            Kind::OneAddress => {
                a.warn(format!(
                    "{}: the row for the one address {} is left alone: that client's IPv6 address is not known; add a row for it by hand",
                    at(*i),
                    p.addr()
                ));
                continue;
            }
            Kind::Site => {
                // A reject row admits nobody: no IPv6 client misses it.
                let admits = r.method_and_options().first() != Some(&"reject");
                let audit_gap = admits
                    && !doc.records().any(|(_, o)| {
                        matches!(&o.address, Some(Address::Network { prefix, .. })
                        if prefix.is_ipv6() && !prefix.addr().is_loopback() && prefix.len() > 0)
                            && o.kind == r.kind
                            && o.method_and_options() == r.method_and_options()
                    });
                if audit_gap {
                    a.find(file,
                        line(*i),
                        Severity::Warning,
                        format!("this {} row admits {} over IPv4 only: the site's IPv6 clients match no row like it", r.kind, p.network()),
                        FIX,
                    );
                }
                if chosen != Some(p.network()) {
                    if chosen.is_some() && !networks.is_empty() {
                        a.note(format!(
                            "{}: the row for {} is left alone: --mirror names {}",
                            at(*i),
                            p.network(),
                            chosen.map(|c| c.to_string()).unwrap_or_default()
                        ));
                    }
                    continue;
                }
                networks.to_vec()
            }
        };
        for t in twins {
            if present.contains(&rule_key(r, &t)) {
                continue;
            }
            if kind(p) != Kind::Site {
                a.find(
                    file,
                    line(*i),
                    if kind(p) == Kind::Loopback {
                        Severity::Info
                    } else {
                        Severity::Warning
                    },
                    format!(
                        "this {} row for {} has no IPv6 counterpart ({t})",
                        r.kind,
                        p.network()
                    ),
                    FIX,
                );
            }
            let new = doc.with_address(*i, &t.to_string());
            a.edits(file)
                .insert_line_after(doc.src.as_str(), line(*i), &new);
            a.note(format!(
                "{}: a {} row for {t} follows the one for {}, with the same database, user and method",
                at(*i),
                r.kind,
                p.network()
            ));
            added = true;
        }
    }
    added
}
