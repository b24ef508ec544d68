//! nftables: `/etc/nftables.conf` and the files it includes (nft reads `include` at the
//! top level, with globs, relative to the including file's directory).
//!
//! A `table ip` whose filter chains drop or reject while no `inet` or `ip6` table filters
//! the same hook leaves IPv6 open. `v6fix firewall` turns such a table into `table inet`
//! when its rules are family-neutral (ports, interfaces, conntrack states), so one set of
//! rules filters both families; when they are not (`ip saddr`, `icmp type`…) it adds an
//! `ip6` twin of the table after it, each rule translated (the site network for its IPv4
//! network, ICMPv6 for ICMP) or the whole change refused with the rules it cannot
//! translate. Every input chain that filters IPv6 gets neighbour and router discovery
//! accepted first, without which IPv6 stops working.

use super::pairs::Pairs;
use super::Gap;
use std::path::Path;
use v6fix_core::config_set::{ConfigSet, Include, Missing};
use v6fix_core::dialect::nftables::{self, chain_info, table_of, Block, Doc, Item, ItemKind};
use v6fix_core::text::Span;
use v6fix_core::{Analysis, File, Host, Result};

pub(crate) const MAIN: &str = "/etc/nftables.conf";

/// The accept rule for neighbour and router discovery.
const ND: &str = "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept";

/// The ruleset files, main file first; `None` when there is no /etc/nftables.conf.
pub(crate) fn load(host: &Host) -> Result<Option<ConfigSet<Doc>>> {
    ConfigSet::load(
        host,
        "nftables",
        Path::new(MAIN),
        nftables::parse,
        |file: &File, doc: &Doc| {
            let base = file
                .path
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "/etc".into());
            doc.items
                .iter()
                .enumerate()
                .filter(|(_, it)| it.is("include"))
                .filter_map(|(i, it)| {
                    let pat = it.words().get(1)?.unquoted().to_string();
                    Some(
                        Include::new(
                            i,
                            it.span.start,
                            format!("include \"{pat}\""),
                            pat,
                            base.as_str(),
                        )
                        .missing(Missing::Error),
                    )
                })
                .collect()
        },
    )
}

/// True when a chain drops or rejects: a `drop` policy or a rule ending in drop/reject.
fn filters(b: &Block) -> bool {
    chain_info(b).policy.as_deref() == Some("drop")
        || b.items.iter().any(|it| {
            matches!(it.kind, ItemKind::Statement(_))
                && it
                    .words()
                    .iter()
                    .any(|w| w.text == "drop" || w.text == "reject")
        })
}

/// The chains of a table block, with their hooks.
fn chains(t: &Block) -> impl Iterator<Item = (&Item, &Block)> {
    t.items.iter().filter_map(|it| match &it.kind {
        ItemKind::Block(b) if it.is("chain") => Some((it, b)),
        _ => None,
    })
}

/// Every table of the set: (file index, item, block, family, name).
fn tables(set: &ConfigSet<Doc>) -> Vec<(usize, &Item, &Block, String, String)> {
    let mut out = Vec::new();
    for (fi, m) in set.files.iter().enumerate() {
        for it in &m.doc.items {
            if let ItemKind::Block(b) = &it.kind {
                if let Some((fam, name)) = table_of(b) {
                    out.push((fi, it, b, fam.to_string(), name.to_string()));
                }
            }
        }
    }
    out
}

/// The hooks whose IPv6 traffic some inet or ip6 table filters.
fn v6_hooks(set: &ConfigSet<Doc>) -> Vec<String> {
    tables(set)
        .into_iter()
        .filter(|t| t.3 == "inet" || t.3 == "ip6")
        .flat_map(|t| {
            chains(t.2)
                .filter(|(_, c)| filters(c))
                .filter_map(|(_, c)| chain_info(c).hook)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The IPv4-only filter tables: `table ip` with a filtering chain on a hook no IPv6 table
/// filters.
pub(crate) fn gaps(host: &Host, set: &ConfigSet<Doc>) -> Vec<Gap> {
    let v6 = v6_hooks(set);
    let mut out = Vec::new();
    for (fi, it, b, fam, name) in tables(set) {
        if fam != "ip" {
            continue;
        }
        let open: Vec<String> = chains(b)
            .filter(|(_, c)| filters(c))
            .filter_map(|(_, c)| chain_info(c).hook)
            .filter(|h| !v6.contains(h))
            .collect();
        if open.is_empty() {
            continue;
        }
        let ports = b
            .items
            .iter()
            .filter_map(|c| match &c.kind {
                ItemKind::Block(c) => Some(c),
                _ => None,
            })
            .flat_map(|c| c.items.iter())
            .filter(|r| r.words().iter().any(|w| w.text == "accept"))
            .flat_map(|r| {
                let w = r.words();
                w.windows(2)
                    .filter(|p| p[0].text == "dport")
                    .flat_map(|p| {
                        p[1].elements()
                            .into_iter()
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let file = &set.files[fi].file;
        out.push(Gap {
            firewall: "nftables",
            path: host.display(&file.path),
            line: file.line(it.span.start),
            message: format!(
                "table ip {name} filters IPv4 on {} but no inet or ip6 table filters IPv6 there: IPv6 reaches every port",
                open.join(", ")
            ),
            allowed: ports,
        });
    }
    out
}

/// Words that make a rule IPv4-only in an inet table.
fn family_bound(it: &Item) -> bool {
    it.words().iter().any(|w| {
        matches!(
            w.text.as_str(),
            "ip" | "icmp" | "igmp" | "nfproto" | "ip_protocol"
        )
    })
}

/// True when a chain already accepts neighbour discovery.
fn accepts_nd(b: &Block) -> bool {
    b.items.iter().any(|it| {
        let w = it.words();
        let text: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        text.contains(&"accept")
            && (w.iter().any(|w| w.text.contains("nd-neighbor-solicit"))
                || ((text.contains(&"ipv6-icmp") || text.contains(&"icmpv6"))
                    && !text.contains(&"type")))
    })
}

/// Where the ND rule goes in a chain: after its `type`/`policy` statements, in the
/// indentation of the chain's statements.
fn nd_insert(src: &str, b: &Block) -> (usize, String, String) {
    let stmts: Vec<&Item> = b
        .items
        .iter()
        .filter(|i| matches!(i.kind, ItemKind::Statement(_)))
        .collect();
    let lead = stmts
        .iter()
        .rev()
        .find(|i| i.is("type") || i.is("policy"))
        .copied();
    let at = lead.map_or(b.open + 1, |i| i.span.end);
    let sample = stmts
        .first()
        .map(|i| &src[i.span.clone()])
        .unwrap_or("\t\t");
    let indent: String = sample
        .trim_start_matches(['\n', '\r'])
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    // A chain on one line (`{ type …; policy drop; }`) gets the rule on that line too.
    if !src[at..b.close].contains('\n') {
        return (at, " ".into(), ";".into());
    }
    let nl = v6fix_core::text::newline_of(src).to_string();
    // Right after `{` on the same line, the rule needs its own line first.
    let pre = if lead.is_none() && !src[b.open + 1..].starts_with(['\n', '\r']) {
        nl.clone()
    } else {
        String::new()
    };
    (at, format!("{pre}{indent}"), nl)
}

/// The translation of one IPv4 rule into its ip6 form, or why there is none.
fn rule6(src: &str, it: &Item, pairs: &Pairs) -> std::result::Result<String, String> {
    let w = it.words();
    let mut reps: Vec<(Span, String)> = Vec::new();
    let mut i = 0;
    while i < w.len() {
        let t = w[i].text.as_str();
        match t {
            "ip" => {
                let field = w.get(i + 1).map(|x| x.text.as_str()).unwrap_or("");
                match field {
                    "saddr" | "daddr" => {
                        let v = w.get(i + 2).ok_or("`ip saddr` without a value")?;
                        let mut mapped = Vec::new();
                        for e in v.elements() {
                            mapped.push(pairs.map(e).ok_or_else(|| {
                                format!(
                                    "the IPv4 address {e} has no IPv6 counterpart ({})",
                                    Pairs::hint()
                                )
                            })?);
                        }
                        let val = if v.text.starts_with('{') {
                            format!("{{ {} }}", mapped.join(", "))
                        } else {
                            mapped.join("")
                        };
                        reps.push((w[i].span.clone(), "ip6".into()));
                        reps.push((v.span.clone(), val));
                        i += 3;
                    }
                    "protocol" => {
                        reps.push((w[i].span.start..w[i + 1].span.end, "meta l4proto".into()));
                        if let Some(v) = w.get(i + 2) {
                            if v.text == "icmp" {
                                reps.push((v.span.clone(), "ipv6-icmp".into()));
                            }
                        }
                        i += 3;
                    }
                    _ => {
                        return Err(format!(
                            "`ip {field}`, which has no exact IPv6 form v6fix knows"
                        ))
                    }
                }
            }
            "icmp" => {
                if w.get(i + 1).map(|x| x.text.as_str()) != Some("type") {
                    return Err("an `icmp` match other than `icmp type`".into());
                }
                let v = w.get(i + 2).ok_or("`icmp type` without a value")?;
                let mut mapped = Vec::new();
                for e in v.elements() {
                    mapped.push(match e {
                        "echo-request"
                        | "echo-reply"
                        | "destination-unreachable"
                        | "time-exceeded"
                        | "parameter-problem" => e.to_string(),
                        _ => return Err(format!("the ICMP type `{e}`, which has no ICMPv6 twin")),
                    });
                }
                let val = if v.text.starts_with('{') {
                    format!("{{ {} }}", mapped.join(", "))
                } else {
                    mapped.join("")
                };
                reps.push((w[i].span.clone(), "icmpv6".into()));
                reps.push((v.span.clone(), val));
                i += 3;
            }
            "with" if w.get(i + 1).is_some_and(|x| x.text == "icmp") => {
                let v = w.get(i + 3).ok_or("`reject with icmp` without a type")?;
                let t6 = match v.text.as_str() {
                    "port-unreachable" => "port-unreachable",
                    "host-prohibited" | "admin-prohibited" | "net-prohibited" => "admin-prohibited",
                    "host-unreachable" => "addr-unreachable",
                    "net-unreachable" => "no-route",
                    o => {
                        return Err(format!(
                            "`reject with icmp type {o}`, which has no ICMPv6 twin"
                        ))
                    }
                };
                reps.push((w[i + 1].span.clone(), "icmpv6".into()));
                reps.push((v.span.clone(), t6.into()));
                i += 4;
            }
            "igmp" | "nfproto" | "ip_protocol" => {
                return Err(format!("`{t}`, which has no IPv6 form"));
            }
            _ => i += 1,
        }
    }
    Ok(splice(src, it.span.clone(), reps))
}

/// The text of `span` with each replacement made (spans inside it, none overlapping; an
/// empty span inserts). Inserts at one offset keep their order.
fn splice(src: &str, span: Span, mut reps: Vec<(Span, String)>) -> String {
    reps.sort_by_key(|r| (r.0.start, r.0.end));
    let mut out = String::new();
    let mut at = span.start;
    for (r, text) in reps {
        out.push_str(&src[at..r.start]);
        out.push_str(&text);
        at = r.end;
    }
    out.push_str(&src[at..span.end]);
    out
}

/// Plans the conversion (with `pairs`) or only records the gaps (`pairs` `None`: an audit).
pub(crate) fn analyze(host: &Host, a: &mut Analysis, pairs: Option<&Pairs>) -> Result<bool> {
    let Some(set) = load(host)? else {
        return Ok(false);
    };
    for n in &set.notes {
        a.note(n.clone());
    }
    let gaps = gaps(host, &set);
    let mut changed = false;
    for g in &gaps {
        a.finding(g.finding());
    }
    let Some(pairs) = pairs else {
        return Ok(!gaps.is_empty());
    };
    let gap_lines: Vec<(String, usize)> = gaps.iter().map(|g| (g.path.clone(), g.line)).collect();
    // (file, offset, rule and why) of each rule without an exact IPv6 form.
    let mut refused: Vec<(usize, usize, String)> = Vec::new();
    for (fi, m) in set.files.iter().enumerate() {
        let src = &m.file.text;
        for it in &m.doc.items {
            let ItemKind::Block(t) = &it.kind else {
                continue;
            };
            let Some((fam, name)) = table_of(t) else {
                continue;
            };
            let is_gap =
                gap_lines.contains(&(host.display(&m.file.path), m.file.line(it.span.start)));
            if fam == "ip" && is_gap {
                let rules: Vec<&Item> = chains(t)
                    .flat_map(|(_, c)| c.items.iter())
                    .filter(|r| {
                        matches!(r.kind, ItemKind::Statement(_)) && !r.is("type") && !r.is("policy")
                    })
                    .collect();
                if rules.iter().all(|r| !family_bound(r)) {
                    // Family-neutral: one inet table filters both.
                    let fw = &t.head[1];
                    if t.head.len() == 3 {
                        a.edits(&m.file).replace(fw.span.clone(), "inet");
                    } else {
                        a.edits(&m.file).insert(fw.span.start, "inet ");
                    }
                    a.note_at(
                        &m.file,
                        t.head[0].span.start,
                        format!("table ip {name} -> table inet {name}: its rules are family-neutral, so they now filter IPv6 too"),
                    );
                    for (_, c) in chains(t) {
                        if chain_info(c).hook.as_deref() == Some("input") && !accepts_nd(c) {
                            let (at, indent, nl) = nd_insert(src, c);
                            a.edits(&m.file).insert(at, format!("{indent}{ND}{nl}"));
                        }
                    }
                    changed = true;
                } else {
                    // Twin table: the block's text, each rule in its ip6 form.
                    let mut reps: Vec<(Span, String)> = Vec::new();
                    // `table ip NAME` -> `table ip6 NAME`; `table NAME` (family ip) likewise.
                    match t.head.len() {
                        3 => reps.push((t.head[1].span.clone(), "ip6".into())),
                        _ => reps.push((t.head[1].span.start..t.head[1].span.start, "ip6 ".into())),
                    }
                    // A set or map of IPv4 addresses has no IPv6 twin v6fix could fill.
                    for s in t.items.iter().filter(|s| s.is("set") || s.is("map")) {
                        let ItemKind::Block(b) = &s.kind else {
                            continue;
                        };
                        if b.items
                            .iter()
                            .flat_map(|i| i.words())
                            .any(|w| w.text.contains("ipv4_addr"))
                        {
                            refused.push((
                                fi,
                                s.words()[0].span.start,
                                format!(
                                    "{}: `{}`: a set of IPv4 addresses, which has no IPv6 counterpart v6fix knows",
                                    host.locate(&m.file, s.span.start),
                                    s.words().iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
                                ),
                            ));
                        }
                    }
                    for (_, c) in chains(t) {
                        if chain_info(c).hook.as_deref() == Some("input") && !accepts_nd(c) {
                            let (at, indent, nl) = nd_insert(src, c);
                            reps.push((at..at, format!("{indent}{ND}{nl}")));
                        }
                        for r in c
                            .items
                            .iter()
                            .filter(|r| matches!(r.kind, ItemKind::Statement(_)))
                        {
                            match rule6(src, r, pairs) {
                                Ok(text) => reps.push((r.span.clone(), text)),
                                Err(why) => refused.push((
                                    fi,
                                    r.words().first().map_or(r.span.start, |w| w.span.start),
                                    format!(
                                        "{}: `{}`: {why}",
                                        host.locate(&m.file, r.span.start),
                                        src[r.span.clone()].trim()
                                    ),
                                )),
                            }
                        }
                    }
                    let mut twin = splice(src, it.span.clone(), reps);
                    let nl = v6fix_core::text::newline_of(src);
                    if !twin.ends_with('\n') {
                        twin.insert_str(0, nl);
                    }
                    a.edits(&m.file).insert(it.span.end, twin);
                    a.note_at(
                        &m.file,
                        t.head[0].span.start,
                        format!("table ip {name} names IPv4 addresses or ICMP: an ip6 twin table {name} follows it, each rule in its IPv6 form"),
                    );
                    changed = true;
                }
            } else if fam == "inet" || fam == "ip6" {
                for (_, c) in chains(t) {
                    if chain_info(c).hook.as_deref() == Some("input")
                        && filters(c)
                        && !accepts_nd(c)
                    {
                        let (at, indent, nl) = nd_insert(src, c);
                        a.edits(&m.file).insert(at, format!("{indent}{ND}{nl}"));
                        a.note_at(
                            &m.file,
                            c.open,
                            format!("table {fam} {name} filters IPv6 input without accepting neighbour and router discovery: added"),
                        );
                        changed = true;
                    }
                }
            }
        }
    }
    if let Some((fi, at, _)) = refused.first() {
        let list: Vec<&str> = refused.iter().map(|r| r.2.as_str()).collect();
        a.refuse(
            &set.files[*fi].file,
            *at,
            format!(
                "{} rule(s) of an IPv4-only table have no exact IPv6 form, so IPv6 would stay open; nothing was changed:\n  {}",
                refused.len(),
                list.join("\n  ")
            ),
        );
    }
    if changed {
        a.restart(
            "nftables",
            "reload",
            "nft -c -f /etc/nftables.conf && systemctl reload nftables",
            "loads the ruleset that now filters IPv6; nft -c first, since a ruleset that fails to load leaves the old one in place",
        );
    }
    Ok(!gaps.is_empty())
}
