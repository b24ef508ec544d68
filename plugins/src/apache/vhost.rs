//! `<VirtualHost>` addresses: IPv6 twins for IPv4 ones, brackets for unbracketed IPv6 literals.

use super::addr::read_spot;
use super::analysis::{has_hash, hash_at, hash_message, FIX_ADDRESS, FIX_PLAIN};
use std::net::Ipv6Addr;
use v6fix_core::dialect::apache::{Doc, Item};
use v6fix_core::endpoint::{self, Bind, Twin};
use v6fix_core::Analysis;
use v6fix_core::{File, Severity};

pub(super) fn vhost(
    file: &File,
    doc: &Doc,
    i: usize,
    it: &Item,
    address: Option<Ipv6Addr>,
    a: &mut Analysis,
) {
    if has_hash(doc, it) {
        a.refuse(file, hash_at(doc, it), hash_message(doc, it));
        return;
    }
    if doc.words(it).any(|w| w.text.contains("${")) {
        a.warn_at(
            file,
            it.span().start,
            "<VirtualHost> address uses a variable v6fix cannot resolve: left alone, check it by hand",
        );
        return;
    }
    let mut spots = Vec::new();
    for w in doc.words(it) {
        match read_spot(w.unquoted()) {
            Ok(s) => spots.push((w, s)),
            Err(m) => {
                a.refuse(file, w.span.start, m);
                return;
            }
        }
    }
    let have = |bind: &Bind, port: &Option<String>| {
        spots
            .iter()
            .any(|(_, s)| &s.bind == bind && &s.port == port)
    };
    let any_v6 = |port: &Option<String>| {
        spots
            .iter()
            .any(|(_, s)| matches!(s.bind, Bind::V6(_)) && &s.port == port)
    };
    let mut add: Vec<String> = Vec::new();
    let all_any = spots
        .iter()
        .all(|(_, s)| matches!(s.bind, Bind::AnyDual | Bind::AnyV4));
    if all_any && !spots.is_empty() {
        let list: Vec<_> = doc.words(it).map(|w| w.text).collect();
        a.note_at(
            file,
            it.span().start,
            format!(
                "<VirtualHost {}> already matches IPv4 and IPv6 clients: left alone",
                list.join(" ")
            ),
        );
    }
    for (w, s) in &spots {
        if let Some(fixed) = &s.bracketed {
            a.edits(file).replace(w.span.clone(), fixed.clone());
            a.note_at(file, it.span().start, format!("<VirtualHost {}> holds an unbracketed IPv6 literal; written {fixed}, the way Apache reads it",
                w.text
            ));
            a.find(
                file,
                w.span.start,
                Severity::Warning,
                format!(
                    "VirtualHost address {}: IPv6 literals need brackets ({fixed})",
                    w.text
                ),
                FIX_PLAIN,
            );
        }
        let Bind::V4(ip4) = s.bind else {
            continue;
        };
        let (fix, sev) = if ip4.is_loopback() {
            (FIX_PLAIN, Severity::Info)
        } else {
            (FIX_ADDRESS, Severity::Warning)
        };
        let msg = if ip4.is_loopback() {
            format!(
                "<VirtualHost {}> matches 127.0.0.1 only: local clients over ::1 get another site",
                w.text
            )
        } else {
            format!(
                "<VirtualHost {}> matches IPv4 clients only: IPv6 clients get another site",
                w.text
            )
        };
        match endpoint::twin(s, address, &Bind::AnyDual) {
            Twin::Have(t) if have(&t.bind, &s.port) => {}
            Twin::Have(t) => {
                let t = t.render(true);
                if !add.contains(&t) {
                    add.push(t);
                }
                a.find(file, w.span.start, sev, msg, fix);
            }
            Twin::NeedAddress if !any_v6(&s.port) => {
                a.lasting(file, w.span.start, sev, msg, fix);
            }
            Twin::NeedAddress | Twin::None => {}
        }
    }
    if !add.is_empty() {
        doc.append_args(a.edits(file), i, &add);
    }
}
