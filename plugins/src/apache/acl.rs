//! `Require ip` and `Allow from`: the site's IPv6 networks and `::1` beside IPv4 ones, no brackets.

use super::analysis::{has_hash, hash_at, hash_message, FIX_NETWORK, FIX_PLAIN};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use v6fix_core::dialect::apache::Doc;
use v6fix_core::{policy, Analysis, File, Prefix, Severity};

pub(super) fn acl(
    file: &File,
    doc: &Doc,
    i: usize,
    label: &str,
    networks: &[Prefix],
    a: &mut Analysis,
) {
    let it = &doc.items()[i];
    if has_hash(doc, it) {
        a.refuse(file, hash_at(doc, it), hash_message(doc, it));
        return;
    }
    let mut v4 = false;
    let mut v4_host = false;
    let mut v4_loop = false;
    let mut v6: Vec<Prefix> = Vec::new();
    for w in doc.words(it).skip(1) {
        let t = w.unquoted();
        if let Some(why) = Prefix::parse(&t.replace(['[', ']'], ""))
            .ok()
            .filter(Prefix::is_ipv6)
            .and_then(|p| policy::acl_entry(&p))
        {
            a.find(
                file,
                w.span.start,
                Severity::Error,
                format!(
                    "{label} {t} admits too much: {why}; admit the site's own networks instead"
                ),
                "",
            );
        }
        let mut t = t.to_string();
        if t.starts_with('[') {
            let bare = t.replace(['[', ']'], "");
            if Prefix::parse(&bare).is_ok() {
                a.edits(file).replace(w.span.clone(), bare.clone());
                a.note_at(
                    file,
                    it.span().start,
                    format!("{label} {t}: Apache rejects brackets here; written {bare}"),
                );
                a.find(file,
                    w.span.start,
                    Severity::Error,
                    format!("{label} {t}: Apache rejects a bracketed address (\"appears to be invalid\")"),
                    FIX_PLAIN,
                );
                // Judged as written from now on, like any other entry.
                t = bare;
            }
        }
        let t = t.as_str();
        if let Ok(p) = Prefix::parse(t) {
            if p.is_ipv6() {
                v6.push(p);
            } else if t.starts_with("127.") {
                v4_loop = true;
            } else if p.is_host() {
                v4_host = true;
            } else {
                v4 = true;
            }
        } else if !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'/')
        {
            // Partial (`10.1`) or netmask (`192.0.2.0/255.255.255.0`) forms.
            if t.starts_with("127") {
                v4_loop = true;
            } else {
                v4 = true;
            }
        } else if t.contains('/')
            && t.split('/')
                .next()
                .is_some_and(|h| h.parse::<Ipv4Addr>().is_ok())
        {
            v4 = true;
        }
    }
    let mut add: Vec<String> = Vec::new();
    let loopback = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
    if v4_loop && !v6.iter().any(|p| p.covers(&loopback)) {
        add.push("::1".to_string());
        a.find(
            file,
            it.span().start,
            Severity::Info,
            format!("{label} admits 127.0.0.1 but not ::1"),
            FIX_PLAIN,
        );
    }
    let v6_site = v6.iter().any(|p| !p.covers(&loopback));
    if v4 {
        if networks.is_empty() {
            if !v6_site {
                a.lasting(
                    file,
                    it.span().start,
                    Severity::Warning,
                    format!("{label} admits IPv4 networks only: IPv6 clients are refused"),
                    FIX_NETWORK,
                );
            }
        } else {
            let missing: Vec<&Prefix> = networks.iter().filter(|n| !v6.contains(n)).collect();
            if !missing.is_empty() && !v6_site {
                a.find(
                    file,
                    it.span().start,
                    Severity::Warning,
                    format!("{label} admits IPv4 networks only: IPv6 clients are refused"),
                    FIX_NETWORK,
                );
            }
            for n in missing {
                add.push(n.to_string());
            }
        }
    }
    if v4_host && !v4 && !v6_site {
        // Single IPv4 hosts: their IPv6 addresses are unknown, and admitting the whole
        // site network would widen the rule.
        a.lasting(
            file,
            it.span().start,
            Severity::Info,
            format!("{label} admits single IPv4 hosts only: the same hosts over IPv6 are refused; v6fix does not know their IPv6 addresses and does not widen the rule to a network, so add them by hand"),
            "",
        );
    }
    if !add.is_empty() {
        doc.append_args(a.edits(file), i, &add);
    }
}
