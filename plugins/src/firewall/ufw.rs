//! ufw: `IPV6=yes` in /etc/default/ufw, and the IPv6 twins of the rules in
//! /etc/ufw/user.rules written to user6.rules, in ufw's own format (its `### tuple ###`
//! comments, its `ufw6-` chains), as ufw writes them for a rule added with IPv6 on.
//!
//! With `IPV6=no` ufw drops every IPv6 packet, so dual-stack listeners are unreachable;
//! with `IPV6=yes` ufw creates both families' rules only for rules added afterwards, so
//! the existing ones stay IPv4-only (their ports closed over IPv6) until their twins are
//! written. A tuple naming an IPv4 network gets the paired IPv6 network; one naming any
//! other IPv4 address refuses the change.

use super::pairs::Pairs;
use super::rules;
use std::path::Path;
use v6fix_core::dialect::iptables::{self, Doc, Kind};
use v6fix_core::dialect::shellvars;
use v6fix_core::{Analysis, File, Host, Result, Severity};

pub(crate) const DEFAULTS: &str = "/etc/default/ufw";
pub(crate) const CONF: &str = "/etc/ufw/ufw.conf";
pub(crate) const USER: &str = "/etc/ufw/user.rules";
pub(crate) const USER6: &str = "/etc/ufw/user6.rules";

const TUPLE: &str = "### tuple ### ";

fn read(host: &Host, path: &str) -> Result<Option<(File, Doc)>> {
    let Some(f) = host.read(Path::new(path))? else {
        return Ok(None);
    };
    let d = iptables::parse(&f.text).map_err(|e| host.parse_error(&f, e))?;
    Ok(Some((f, d)))
}

/// True when ufw.conf says `ENABLED=yes`.
pub(crate) fn enabled(host: &Host) -> Result<bool> {
    let Some(f) = host.read(Path::new(CONF))? else {
        return Ok(false);
    };
    let d = shellvars::parse(&f.text).map_err(|e| host.parse_error(&f, e))?;
    Ok(d.get("ENABLED")
        .is_some_and(|(_, v, _)| v.eq_ignore_ascii_case("yes")))
}

/// A tuple's IPv6 form: its destination (4th) and source (6th) fields mapped.
fn tuple6(tuple: &str, pairs: &Pairs) -> std::result::Result<String, String> {
    let mut f: Vec<String> = tuple.split(' ').map(str::to_string).collect();
    for i in [3, 5] {
        let Some(v) = f.get(i) else {
            return Err(format!(
                "the tuple `{tuple}` has fewer fields than ufw writes"
            ));
        };
        if v.contains(':') {
            return Err(format!("the tuple `{tuple}` is IPv6 already"));
        }
        f[i] = pairs.map(v).ok_or_else(|| {
            format!(
                "the IPv4 address {v} has no IPv6 counterpart ({})",
                Pairs::hint()
            )
        })?;
    }
    Ok(f.join(" "))
}

/// A tuple with its addresses reduced to `any` or `net`: what a twin shares with it.
fn shape(tuple: &str) -> Vec<&str> {
    tuple
        .split(' ')
        .enumerate()
        .map(|(i, f)| match (i, f) {
            (3 | 5, "0.0.0.0/0" | "::/0") => "any",
            (3 | 5, _) => "net",
            _ => f,
        })
        .collect()
}

/// ufw's IPv6 name of one of its chains.
fn chain6(c: &str) -> Option<String> {
    c.strip_prefix("ufw-").map(|r| format!("ufw6-{r}"))
}

/// The tuples of a rules file: (item, tuple text after the marker).
fn tuples(d: &Doc) -> Vec<(usize, String)> {
    d.items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| {
            let t = d.src[it.content.clone()].strip_prefix(TUPLE)?;
            (it.kind == Kind::Comment).then(|| (i, t.to_string()))
        })
        .collect()
}

/// Plans the ufw change; `pairs` `None` for an audit. True when ufw has something to fix.
pub(crate) fn analyze(host: &Host, a: &mut Analysis, pairs: Option<&Pairs>) -> Result<bool> {
    let Some((fu, du)) = read(host, USER)? else {
        return Ok(false);
    };
    let on = enabled(host)?;
    let mut found = false;
    let mut changed = false;
    if let Some(fd) = host.read(Path::new(DEFAULTS))? {
        let dd = shellvars::parse(&fd.text).map_err(|e| host.parse_error(&fd, e))?;
        if let Some((i, v, span)) = dd.get("IPV6") {
            if !v.eq_ignore_ascii_case("yes") {
                found = true;
                a.find(&fd,
                    dd.items[i].span.start,
                    if on { Severity::Error } else { Severity::Warning },
                    format!(
                        "IPV6={v}: ufw{} drops every IPv6 packet, so dual-stack services are unreachable over IPv6",
                        if on { "" } else { ", once enabled," }
                    ),
                    "v6fix firewall --network PREFIX",
                );
                if pairs.is_some() {
                    a.edits(&fd).replace(span, "yes");
                    a.note_at(&fd, dd.items[i].span.start, format!("IPV6={v} -> yes"));
                    changed = true;
                }
            }
        }
    }
    let v4 = tuples(&du);
    let v6 = match read(host, USER6)? {
        Some((f, d)) => {
            let t = tuples(&d);
            Some((f, d, t))
        }
        None => None,
    };
    let have6: Vec<&str> = v6.as_ref().map_or(Vec::new(), |(_, _, t)| {
        t.iter().map(|(_, s)| s.as_str()).collect()
    });
    // With the pairs, a twin is the exact IPv6 tuple; an audit, which knows no pairs, takes
    // any IPv6 network where the IPv4 tuple names a network.
    let missing: Vec<&(usize, String)> = v4
        .iter()
        .filter(|(_, t)| match pairs {
            Some(p) => tuple6(t, p).map_or(true, |t6| !have6.contains(&t6.as_str())),
            None => !have6.iter().any(|h| shape(h) == shape(t)),
        })
        .collect();
    if !missing.is_empty() {
        found = true;
        for (i, t) in &missing {
            a.find(&fu,
                du.items[*i].span.start,
                Severity::Warning,
                format!("ufw rule `{t}` has no IPv6 twin in user6.rules: its port stays closed over IPv6"),
                "v6fix firewall --network PREFIX",
            );
        }
    }
    let Some(pairs) = pairs else {
        return Ok(found);
    };
    if !missing.is_empty() {
        let mut refused = Vec::new();
        let rule6 = |src: &str, it: &iptables::Item| -> std::result::Result<String, String> {
            let reps = rules::translate(&it.words, pairs, &chain6)?;
            let line = rules::rewrite(src, it.content.clone(), &it.words, &reps);
            let line = line.replacen(" ufw-", " ufw6-", 1);
            Ok(format!("{line}{}", &src[it.content.end..it.span.end]))
        };
        // Each tuple's block: the tuple line and the rule lines after it.
        let block = |i: usize| -> std::result::Result<String, String> {
            let mut s = String::new();
            let t6 = tuple6(&tuples_at(&du, i), pairs)?;
            let it = &du.items[i];
            s.push_str(&format!(
                "{TUPLE}{t6}{}",
                &du.src[it.content.end..it.span.end]
            ));
            for it in du.items.iter().skip(i + 1) {
                let Kind::Rule { .. } = &it.kind else { break };
                s.push_str(&rule6(&du.src, it)?);
            }
            Ok(s)
        };
        match &v6 {
            Some((f6, _, t6)) if !t6.is_empty() => {
                // ufw's own rules there: add the missing blocks before `### END RULES ###`.
                let d6 = iptables::parse(&f6.text).map_err(|e| host.parse_error(f6, e))?;
                let end = d6
                    .items
                    .iter()
                    .find(|it| d6.src[it.content.clone()].trim() == "### END RULES ###")
                    .map(|it| it.span.start);
                let Some(end) = end else {
                    a.refuse(
                        f6,
                        0,
                        "no `### END RULES ###` line, which ufw writes and v6fix adds rules before",
                    );
                    return Ok(true);
                };
                let mut add = String::new();
                let nl = v6fix_core::text::newline_of(&f6.text);
                for (i, t) in &missing {
                    match block(*i) {
                        Ok(b) => add.push_str(&format!("{b}{nl}")),
                        Err(why) => refused.push(format!(
                            "{}: `{t}`: {why}",
                            host.locate(&fu, du.items[*i].span.start)
                        )),
                    }
                }
                if refused.is_empty() {
                    a.edits(f6).insert(end, add);
                }
            }
            _ => {
                // Only ufw's skeleton there: user6.rules as ufw writes it, from user.rules.
                let mut out = String::new();
                for (i, it) in du.items.iter().enumerate() {
                    let line = &du.src[it.span.clone()];
                    match &it.kind {
                        Kind::Comment if line.starts_with(TUPLE) => {
                            match tuple6(&tuples_at(&du, i), pairs) {
                                Ok(t6) => {
                                    out.push_str(&format!(
                                        "{TUPLE}{t6}{}",
                                        &du.src[it.content.end..it.span.end]
                                    ));
                                }
                                Err(why) => refused.push(format!(
                                    "{}: `{}`: {why}",
                                    host.locate(&fu, it.span.start),
                                    line.trim_end()
                                )),
                            }
                        }
                        Kind::Chain { name, .. } => {
                            let c = chain6(name).unwrap_or_else(|| name.clone());
                            out.push_str(&line.replacen(&format!(":{name}"), &format!(":{c}"), 1));
                        }
                        Kind::Rule { .. } => match rule6(&du.src, it) {
                            Ok(l) => out.push_str(&l),
                            Err(why) => refused.push(format!(
                                "{}: `{}`: {why}",
                                host.locate(&fu, it.span.start),
                                du.line(i)
                            )),
                        },
                        _ => out.push_str(line),
                    }
                }
                // Rules someone added by hand would be lost: each must be in the new text.
                if let Some((f6, d6, _)) = &v6 {
                    let kept: Vec<&str> = out.lines().collect();
                    for it in d6
                        .items
                        .iter()
                        .filter(|it| matches!(it.kind, Kind::Rule { .. }))
                    {
                        let l = d6.src[it.content.clone()].trim_end();
                        if !kept.contains(&l) {
                            a.refuse(
                                f6,
                                it.span.start,
                                format!("`{l}` has no tuple comment, so it is not ufw's own; v6fix would lose it rewriting user6.rules from user.rules: add the IPv6 rules with ufw itself"),
                            );
                            return Ok(true);
                        }
                    }
                }
                if refused.is_empty() {
                    match &v6 {
                        Some((f6, _, _)) => a.rewrite(f6, out),
                        None => a.create(Path::new(USER6), out),
                    }
                }
            }
        }
        if !refused.is_empty() {
            a.refuse(
                &fu,
                0,
                format!(
                    "{} ufw rule(s) have no exact IPv6 form, so user6.rules was not changed:\n  {}",
                    refused.len(),
                    refused.join("\n  ")
                ),
            );
            return Ok(true);
        }
        a.note_at(
            &fu,
            0,
            format!(
                "user6.rules gets the IPv6 twins of {} rule(s) of this file, as ufw writes them",
                missing.len()
            ),
        );
        changed = true;
    }
    if changed {
        a.restart(
            "ufw",
            "reload",
            "ufw reload",
            "loads IPV6=yes and user6.rules (a disabled ufw loads them when enabled)",
        );
    }
    Ok(found)
}

fn tuples_at(d: &Doc, i: usize) -> String {
    d.src[d.items[i].content.clone()]
        .strip_prefix(TUPLE)
        .unwrap_or("")
        .to_string()
}
