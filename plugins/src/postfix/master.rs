//! master.cf: IPv6 siblings for services bound to an IPv4 address.

use super::conf::{live_tokens, token_ip, Conf};
use super::state::State;
use super::{FIX, FIX_ADDRESS, MASTER_CF};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use v6fix_core::dialect::postfix as pf;
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin};
use v6fix_core::{Edits, Error, File, Prefix, Result, Severity};

/// An `inet` service of master.cf bound to an address: its service and endpoint.
pub(super) struct Bound<'a> {
    pub(super) service: &'a pf::Service,
    ep: Endpoint,
}

pub(super) fn bound_services(doc: &pf::MasterDoc) -> Vec<Bound<'_>> {
    doc.services()
        .filter(|s| doc.field(s, 1) == "inet")
        .filter_map(|s| {
            let ep = Endpoint::parse(doc.field(s, 0), &Spelling::PLAIN).ok()?;
            (ep.ip().is_some() && ep.port.is_some()).then_some(Bound { service: s, ep })
        })
        .collect()
}

/// IPv4-bound services without an IPv6 sibling on the same port.
pub(super) fn lonely_v4<'a>(bound: &'a [Bound<'a>]) -> Vec<&'a Bound<'a>> {
    bound
        .iter()
        .filter(|b| b.ep.is_ipv4_only())
        .filter(|b| {
            !bound
                .iter()
                .any(|o| o.ep.serves_ipv6() && o.ep.port == b.ep.port)
        })
        .collect()
}

/// The copy `text` of a loopback service for its `[::1]` sibling, with `[::1]/128` added to
/// its `-o mynetworks=` override when that trusts 127.0.0.1 but not ::1. `Ok(None)`: no
/// change needed; `Err`: an override v6fix cannot read, with why.
pub(super) fn local_trust(text: &str) -> Result<Option<String>, String> {
    let words: Vec<(usize, &str)> = text
        .split_ascii_whitespace()
        .map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
        .collect();
    for (k, pair) in words.windows(2).enumerate() {
        let [(_, flag), (at, word)] = pair else {
            continue;
        };
        if *flag != "-o" {
            continue;
        }
        if word.starts_with('{') && words[k + 1..].iter().any(|(_, w)| w.contains("mynetworks")) {
            return Err(
                "its `-o { … }` override may set mynetworks, which v6fix does not edit".into(),
            );
        }
        let Some(value) = word.strip_prefix("mynetworks=") else {
            continue;
        };
        let mut v4_local = false;
        let mut v6_local = false;
        let mut unknown = Vec::new();
        for item in value.split(',').filter(|i| !i.is_empty()) {
            let (negated, entry) = match item.strip_prefix('!') {
                Some(e) => (true, e),
                None => (false, item),
            };
            match Prefix::parse_any(entry) {
                Ok(p) => {
                    v4_local |= !negated && p.contains(IpAddr::V4(Ipv4Addr::LOCALHOST));
                    v6_local |= p.contains(IpAddr::V6(Ipv6Addr::LOCALHOST));
                }
                Err(_) if matches!(entry, "$mynetworks" | "${mynetworks}") => {}
                Err(_) => unknown.push(item),
            }
        }
        if v6_local || (!v4_local && unknown.is_empty()) {
            return Ok(None);
        }
        if !v4_local {
            return Err(format!(
                "its `-o mynetworks={value}` holds `{}`, so v6fix cannot tell whether it trusts 127.0.0.1",
                unknown.join(",")
            ));
        }
        let end = at + word.len();
        return Ok(Some(format!("{},[::1]/128{}", &text[..end], &text[end..])));
    }
    Ok(None)
}

impl Conf<'_> {
    /// How this run opens ::1 to clients while IPv6 is already on, if it does: inet_interfaces
    /// gains `[::1]` beside 127.0.0.1, or a loopback master.cf
    /// service that uses the main mynetworks gets its `[::1]` sibling. Mirrors
    /// [`Conf::interfaces`] and [`Conf::master`], which make those edits.
    pub(super) fn opens_v6_loopback(&self) -> Result<Option<String>> {
        if let Some(p) = self.doc.param("inet_interfaces") {
            let tokens = live_tokens(&self.doc, p);
            let all = tokens.iter().any(|t| {
                matches!(
                    t.text.to_ascii_lowercase().as_str(),
                    "all" | "loopback-only"
                )
            });
            let ips: Vec<Option<IpAddr>> = tokens.iter().map(|t| token_ip(&t.text)).collect();
            let loop4 = ips
                .iter()
                .any(|i| matches!(i, Some(IpAddr::V4(a)) if a.is_loopback()));
            if !all && loop4 && !ips.contains(&Some(IpAddr::V6(Ipv6Addr::LOCALHOST))) {
                return Ok(Some("inet_interfaces now names [::1]".to_string()));
            }
        }
        let Some((_, doc)) = self.read_master()? else {
            return Ok(None);
        };
        let bound = bound_services(&doc);
        for b in lonely_v4(&bound) {
            let loopback = b.ep.ip().is_some_and(|ip| ip.is_loopback());
            let copy = doc.sibling(b.service, "");
            if loopback && !copy.contains("mynetworks") {
                return Ok(Some(format!(
                    "master.cf now has a [::1] sibling of {}",
                    doc.field(b.service, 0)
                )));
            }
        }
        Ok(None)
    }

    pub(super) fn read_master(&self) -> Result<Option<(File, pf::MasterDoc)>> {
        let Some(f) = self.host.read(Path::new(MASTER_CF))? else {
            return Ok(None);
        };
        let d = pf::parse_master(&f.text).map_err(|e| self.host.parse_error(&f, e))?;
        Ok(Some((f, d)))
    }

    /// master.cf services bound to an IPv4 address get an IPv6 sibling: `[::1]` next to
    /// a loopback one, `--address` next to any other.
    pub(super) fn master(&self, st: &mut State, address: Option<Ipv6Addr>) -> Result<()> {
        let Some((file, doc)) = self.read_master()? else {
            return Ok(());
        };
        let bound = bound_services(&doc);
        let mut edits = Edits::new();
        // Several services on different IPv4 addresses of one port would all get the one
        // --address sibling (and master.cf would hold one service twice): refused.
        if let Some(address) = address {
            let lonely = lonely_v4(&bound);
            let specific: Vec<endpoint::Specific> = lonely
                .iter()
                .filter_map(|b| {
                    let Bind::V4(ip) = b.ep.bind else { return None };
                    Some(endpoint::Specific {
                        ip,
                        port: b.ep.port.clone().unwrap_or_default(),
                        text: format!("service {}", doc.field(b.service, 0)),
                        at: self.locate(&file, b.service.fields[0].start),
                    })
                })
                .collect();
            if let Some(group) = endpoint::collapsing(&specific).first() {
                let first = specific
                    .iter()
                    .position(|s| std::ptr::eq(s, group[0]))
                    .unwrap_or(0);
                let offset = lonely
                    .iter()
                    .filter(|b| matches!(b.ep.bind, Bind::V4(_)))
                    .nth(first)
                    .map_or(0, |b| b.service.fields[0].start);
                let twin = format!("service [{address}]:{}", group[0].port);
                let msg = endpoint::collapse_message(group, address, &twin);
                st.plan.invalid.get_or_insert(Error::invalid(
                    self.host.display(&file.path),
                    Some(file.line_col(offset)),
                    msg,
                ));
                return Ok(());
            }
        }
        for b in lonely_v4(&bound) {
            let offset = b.service.fields[0].start;
            let place = self.locate(&file, offset);
            let name = doc.field(b.service, 0);
            let lonely = format!(
                "service {name} listens on an IPv4 address only: Postfix takes no IPv6 connections for it"
            );
            match endpoint::twin(&b.ep, address, &Bind::AnyV6) {
                Twin::Have(t) => {
                    let sibling = t.render(true);
                    let mut copy = doc.sibling(b.service, &sibling);
                    if t.ip().is_some_and(|ip| ip.is_loopback()) {
                        match local_trust(&copy) {
                            Ok(None) => {}
                            Ok(Some(trusting)) => {
                                copy = trusting;
                                st.note(format!(
                                    "{place}: service {name} trusts 127.0.0.0/8 in its own `-o mynetworks=`: its sibling {sibling} trusts [::1]/128 as well, so local clients over ::1 still relay"
                                ));
                            }
                            Err(why) => {
                                st.plan.lasting(
                                    &file,
                                    offset,
                                    Severity::Warning,
                                    format!(
                                        "service {name} listens on IPv4 only, and {why}: no IPv6 sibling made, since local clients over ::1 might lose the trust they have over 127.0.0.1; add [::1]:{} with [::1]/128 in its mynetworks by hand",
                                        b.ep.port.as_deref().unwrap_or_default()
                                    ),
                                    "",
                                );
                                continue;
                            }
                        }
                    }
                    let fix = match endpoint::twin(&b.ep, None, &Bind::AnyV6) {
                        Twin::NeedAddress => FIX_ADDRESS,
                        _ => FIX,
                    };
                    st.plan
                        .find(&file, offset, Severity::Warning, lonely, fix);
                    doc.insert_after_service(b.service, &copy, &mut edits);
                    st.note(format!(
                        "{place}: service {name} listens on IPv4 only: added the sibling {sibling} with the same settings"
                    ));
                }
                Twin::None => {}
                Twin::NeedAddress => st.plan.lasting(
                    &file,
                    offset,
                    Severity::Warning,
                    format!("service {name} listens on IPv4 only: pass --address ADDR to add an IPv6 sibling"),
                    "",
                ),
            }
        }
        if !edits.is_empty() {
            let path = file.path.clone();
            st.others.insert(path.clone(), file);
            *st.edits_path(&path) = edits;
            st.lists_changed = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::local_trust;

    #[test]
    fn a_loopback_siblings_own_mynetworks_trusts_loopback_over_ipv6_too() {
        let svc = "[::1]:2525 inet n - n - - smtpd\n  -o mynetworks=127.0.0.0/8,192.0.2.0/24\n  -o smtpd_relay_restrictions=permit_mynetworks,reject";
        assert_eq!(
            local_trust(svc).unwrap().unwrap(),
            svc.replace("192.0.2.0/24", "192.0.2.0/24,[::1]/128")
        );
        for unchanged in [
            "[::1]:2525 inet n - n - - smtpd",
            "[::1]:2525 inet n - n - - smtpd -o mynetworks=127.0.0.0/8,[::1]/128",
            "[::1]:2525 inet n - n - - smtpd -o mynetworks=192.0.2.0/24",
            "[::1]:2525 inet n - n - - smtpd -o mynetworks=$mynetworks",
            "[::1]:2525 inet n - n - - smtpd -o mynetworks=127.0.0.0/8,![::1]",
        ] {
            assert_eq!(local_trust(unchanged), Ok(None), "{unchanged}");
        }
        for refused in [
            "[::1]:2525 inet n - n - - smtpd -o mynetworks=/etc/postfix/local",
            "[::1]:2525 inet n - n - - smtpd -o { mynetworks = 127.0.0.0/8 }",
        ] {
            assert!(local_trust(refused).is_err(), "{refused}");
        }
    }
}
