//! The two Exim lists v6fix edits, whatever file holds them: the relay list (the site
//! networks beside the IPv4 ones it trusts) and the interface list (`::1` beside
//! `127.0.0.1`, the host's address beside a specific IPv4 one).
//!
//! Each takes a list's text and returns its new text (or none), written in the list's own
//! style: after the existing items with the separator text found between them, an address
//! in a `:` list with its colons doubled; a list is never switched to `<;` form, since
//! doubling always works. In update-exim4.conf.conf a value of one item has no style yet
//! and gets `;`, the separator Debian's generator documents and writes (`127.0.0.1 ; ::1`). An
//! IPv6 word with single colons in a `:` list (which Exim reads as several items) is
//! rewritten with its colons doubled first.

use std::net::{IpAddr, Ipv6Addr};
use v6fix_core::addr::Prefix;
use v6fix_core::dialect::exim::list::{self, List};
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin};
use v6fix_core::text::Span;

/// How a list is read: Exim's own rule, or Debian's generator's (a `;` anywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    Exim,
    Debian,
}

impl Reading {
    pub(crate) fn read(self, value: &str) -> List {
        match self {
            Reading::Exim => list::read(value),
            Reading::Debian => list::read_debian(value),
        }
    }
}

/// What editing one list found and did.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// The list's new text, when it changes.
    pub(crate) new: Option<String>,
    /// The same change as edits of the list's text, in order and apart: (span, new text).
    pub(crate) edits: Vec<(Span, String)>,
    /// IPv6 words with single colons that were repaired: (as written, as rewritten).
    pub(crate) repaired: Vec<(String, String)>,
    /// Items added.
    pub(crate) added: Vec<String>,
}

/// The IPv6 words Exim splits at their colons, each with its repair, recorded in `out`;
/// `value` with them repaired.
fn repair(value: &str, reading: Reading, out: &mut Outcome) -> String {
    if reading.read(value).sep != ':' {
        return value.to_string();
    }
    let mut fixed = value.to_string();
    for (span, good) in list::single_colon_ipv6(value).into_iter().rev() {
        out.repaired
            .insert(0, (value[span.clone()].to_string(), good.clone()));
        out.edits.insert(0, (span.clone(), good.clone()));
        fixed.replace_range(span, &good);
    }
    fixed
}

/// Appends `items` in the style of `fixed` (the list once repaired) as an edit of
/// `value` (the list as written): at its end, before trailing blanks.
fn append(value: &str, fixed: &str, reading: Reading, items: &[String], out: &mut Outcome) {
    let l = reading.read(fixed);
    if items.is_empty() || l.items.is_empty() {
        return;
    }
    let (sep, between) = match (l.sep, &l.between) {
        (':', Some(b)) => (':', b.clone()),
        // One item has no style yet, unless it ends with its separator: then the new
        // item follows that `:`, written for it.
        (':', None) if !l.declared && !l.trailing && reading == Reading::Debian => {
            (';', " ; ".to_string())
        }
        (':', None) => (':', " : ".to_string()),
        (s, Some(b)) => (s, b.clone()),
        (s, None) => (s, format!(" {s} ")),
    };
    let end = value.trim_end().len();
    // A list that ends with its separator gets the item after it, without another one.
    let dangling = l.trailing;
    let mut text = String::new();
    for (k, i) in items.iter().enumerate() {
        let item = list::escape(i, sep);
        if k == 0 && dangling {
            text.push(' ');
        } else {
            text.push_str(&between);
        }
        // `:::::1` after `a:` would read as a doubled separator: a blank keeps them apart.
        if item.starts_with(sep) && !text.ends_with(|c: char| c.is_ascii_whitespace()) {
            text.push(' ');
        }
        text.push_str(&item);
    }
    match out.edits.last_mut() {
        // The last item was repaired: the new items follow its repair.
        Some((span, good)) if span.end == end => good.push_str(&text),
        _ => out.edits.push((end..end, text)),
    }
}

/// Applies `out.edits` to `value` and sets `out.new` when the text changes.
fn finish(value: &str, out: &mut Outcome) {
    let mut text = value.to_string();
    for (span, t) in out.edits.iter().rev() {
        text.replace_range(span.clone(), t);
    }
    out.new = (text != value).then_some(text);
}

/// The networks and addresses a list names (lookups, names and negations are skipped).
pub(crate) fn prefixes(l: &List) -> Vec<Prefix> {
    l.items
        .iter()
        .filter_map(|i| list::prefix(&i.text))
        .collect()
}

/// True when `p` is a loopback network or address.
fn loopback(p: &Prefix) -> bool {
    match p.addr() {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback(),
    }
}

/// The relay list: trusts IPv4 networks other than loopback, and none over IPv6.
pub(crate) fn relay_ipv4_only(l: &List) -> bool {
    let p = prefixes(l);
    p.iter().any(|p| !p.is_ipv6() && !loopback(p)) && !p.iter().any(|p| p.is_ipv6() && !loopback(p))
}

/// Adds each of `networks` not yet covered to a relay list that trusts IPv4 networks other
/// than loopback; a list that trusts none of them (local relaying only) is left alone. An
/// Exim list that trusts IPv4 loopback gets `::1` too.
pub(crate) fn relay(value: &str, reading: Reading, networks: &[Prefix]) -> Outcome {
    let mut out = Outcome::default();
    let fixed = repair(value, reading, &mut out);
    let have = prefixes(&reading.read(&fixed));
    let mut add: Vec<String> = Vec::new();
    // Local clients reach Exim over ::1 as over 127.0.0.1 (update-exim4.conf adds both
    // to dc_relay_nets itself; Exim's own lists get ::1 here).
    let v6_loopback = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
    if reading == Reading::Exim
        && have.iter().any(|p| !p.is_ipv6() && loopback(p))
        && !have.iter().any(|h| h.covers(&v6_loopback))
    {
        add.push("::1".to_string());
    }
    if have.iter().any(|p| !p.is_ipv6() && !loopback(p)) {
        add.extend(
            networks
                .iter()
                .filter(|n| !have.iter().any(|h| h.covers(n)))
                .map(|n| n.to_string()),
        );
    }
    append(value, &fixed, reading, &add, &mut out);
    out.added = add;
    finish(value, &mut out);
    out
}

/// An interface item: `addr`, `addr.port` or `[addr]:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interface {
    pub(crate) ep: Endpoint,
    /// Written `[addr]:port` rather than `addr.port`.
    pub(crate) bracketed: bool,
}

/// Reads an item of `local_interfaces` as Exim does; `None` for what is no address.
pub(crate) fn interface(text: &str) -> Option<Interface> {
    let (addr, port, bracketed) = if let Some(rest) = text.strip_prefix('[') {
        let (a, p) = rest.split_once(']')?;
        (a, Some(p.strip_prefix(':')?), true)
    } else {
        match text.parse::<IpAddr>() {
            Ok(_) => (text, None, false),
            Err(_) => {
                let (a, p) = text.rsplit_once('.')?;
                (a, Some(p), false)
            }
        }
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let ip: IpAddr = addr.parse().ok()?;
    Some(Interface {
        ep: Endpoint::of_ip(ip, port, &Spelling::PLAIN),
        bracketed,
    })
}

impl Interface {
    /// The item as Exim reads it (separators not yet doubled).
    pub(crate) fn render(&self) -> String {
        let ip = self.ep.ip().expect("interfaces are addresses");
        match (&self.ep.port, self.bracketed) {
            (Some(p), true) => format!("[{ip}]:{p}"),
            (Some(p), false) => format!("{ip}.{p}"),
            (None, _) => ip.to_string(),
        }
    }
}

/// What the interface list needs.
#[derive(Debug, Default)]
pub(crate) struct Interfaces {
    pub(crate) outcome: Outcome,
    /// IPv4-specific items whose twin is the host's address, which was not given.
    pub(crate) need_address: Vec<String>,
    /// The IPv4-specific, non-loopback items (for the collapse check).
    pub(crate) specific: Vec<(std::net::Ipv4Addr, String, String)>,
}

/// Adds the IPv6 twin of every IPv4 interface that has none: `::` for `0.0.0.0`, `::1`
/// for loopback, `address` for a specific one.
pub(crate) fn interfaces(value: &str, reading: Reading, address: Option<Ipv6Addr>) -> Interfaces {
    let mut r = Interfaces::default();
    let fixed = repair(value, reading, &mut r.outcome);
    let l = reading.read(&fixed);
    let items: Vec<(String, Option<Interface>)> = l
        .items
        .iter()
        .map(|i| (i.text.clone(), interface(&i.text)))
        .collect();
    let mut add: Vec<Interface> = Vec::new();
    for (text, it) in &items {
        let Some(it) = it else { continue };
        if let Bind::V4(a) = it.ep.bind {
            if !a.is_loopback() {
                r.specific
                    .push((a, it.ep.port.clone().unwrap_or_default(), text.clone()));
            }
        }
        match endpoint::twin(&it.ep, address, &Bind::AnyV6) {
            Twin::Have(ep) => {
                let have = items
                    .iter()
                    .filter_map(|(_, i)| i.as_ref())
                    .chain(add.iter());
                let known = have
                    .clone()
                    .any(|h| h.ep.ip() == ep.ip() && h.ep.port == ep.port);
                if !known {
                    add.push(Interface {
                        ep,
                        bracketed: it.bracketed,
                    });
                }
            }
            // Without the host's address, an IPv6 address on the same port counts as the
            // twin (the audit runs without one).
            Twin::NeedAddress => {
                let paired = items.iter().filter_map(|(_, i)| i.as_ref()).any(|h| {
                    matches!(h.ep.bind, Bind::V6(a) if !a.is_loopback() && !a.is_unspecified())
                        && h.ep.port == it.ep.port
                });
                if !paired {
                    r.need_address.push(text.clone());
                }
            }
            Twin::None => {}
        }
    }
    let add: Vec<String> = add.iter().map(Interface::render).collect();
    append(value, &fixed, reading, &add, &mut r.outcome);
    finish(value, &mut r.outcome);
    r.outcome.added = add;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets() -> Vec<Prefix> {
        vec![Prefix::parse("2001:db8::/64").unwrap()]
    }

    #[test]
    fn relay_lists_get_the_network_in_their_own_style() {
        for (value, reading, want) in [
            (
                "192.0.2.0/24 ; 198.51.100.0/24",
                Reading::Debian,
                "192.0.2.0/24 ; 198.51.100.0/24 ; 2001:db8::/64",
            ),
            (
                "192.0.2.0/24:198.51.100.0/24",
                Reading::Debian,
                "192.0.2.0/24:198.51.100.0/24:2001::db8::::/64",
            ),
            (
                "192.0.2.0/24",
                Reading::Debian,
                "192.0.2.0/24 ; 2001:db8::/64",
            ),
            (
                "192.0.2.0/24",
                Reading::Exim,
                "192.0.2.0/24 : 2001::db8::::/64",
            ),
            (
                "<; 127.0.0.1 ; 192.0.2.0/24 ",
                Reading::Exim,
                "<; 127.0.0.1 ; 192.0.2.0/24 ; ::1 ; 2001:db8::/64 ",
            ),
            (
                "192.0.2.0/24 : 2001:db8::/64",
                Reading::Debian,
                "192.0.2.0/24 : 2001::db8::::/64",
            ),
        ] {
            assert_eq!(
                relay(value, reading, &nets()).new.as_deref(),
                Some(want),
                "{value}"
            );
        }
    }

    #[test]
    fn relay_lists_that_trust_no_ipv4_network_or_the_site_already_stay() {
        for value in [
            "",
            "127.0.0.1",
            "192.0.2.0/24 ; 2001:db8::/48",
            "192.0.2.0/24:2001::db8::::/64",
        ] {
            assert_eq!(relay(value, Reading::Debian, &nets()).new, None, "{value}");
        }
    }

    #[test]
    fn interface_lists_get_twins_with_the_port_form_of_their_item() {
        let a: Ipv6Addr = "2001:db8::10".parse().unwrap();
        for (value, want) in [
            ("127.0.0.1", Some("127.0.0.1 ; ::1")),
            ("127.0.0.1 ; ::1", None),
            (
                "127.0.0.1 : 192.0.2.10",
                Some("127.0.0.1 : 192.0.2.10 : ::::1 : 2001::db8::::10"),
            ),
            (
                "<; 192.0.2.10.25 ; [127.0.0.1]:587",
                Some("<; 192.0.2.10.25 ; [127.0.0.1]:587 ; 2001:db8::10.25 ; [::1]:587"),
            ),
            ("0.0.0.0", Some("0.0.0.0 ; ::")),
            ("127.0.0.1 : ::1", Some("127.0.0.1 : ::::1")),
            (
                "127.0.0.1:192.0.2.10",
                Some("127.0.0.1:192.0.2.10: ::::1:2001::db8::::10"),
            ),
        ] {
            assert_eq!(
                interfaces(value, Reading::Debian, Some(a))
                    .outcome
                    .new
                    .as_deref(),
                want,
                "{value}"
            );
        }
        let r = interfaces("192.0.2.10", Reading::Debian, None);
        assert_eq!(
            (r.outcome.new, r.need_address),
            (None, vec!["192.0.2.10".to_string()])
        );
        let r = interfaces("192.0.2.10 ; 2001:db8::10", Reading::Debian, None);
        assert!(r.need_address.is_empty());
    }
}
