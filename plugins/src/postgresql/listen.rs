//! `listen_addresses`: the IPv6 counterparts of its IPv4 entries.
//!
//! The list is split as the server splits it (commas, blanks trimmed, double quotes
//! around an entry). `*` is every address of both families; `localhost` is whatever
//! `/etc/hosts` gives it, both families on Debian's default file; each other entry is
//! bound on its own socket, an IPv6 one with `IPV6_V6ONLY`, so `0.0.0.0` needs `::`
//! beside it and `127.0.0.1` needs `::1` ([`endpoint::twin`]).

use super::cluster::Cluster;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;
use v6fix_core::addr::parse_ip;
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin};
use v6fix_core::{Analysis, Host, Severity};

const SPELLING: Spelling = Spelling {
    daemon: "PostgreSQL",
    ..Spelling::PLAIN
};

const FIX: &str = "v6fix postgresql --network PREFIX";
const FIX_ADDRESS: &str = "v6fix postgresql --network PREFIX --address ADDR";

/// The entries of a listen_addresses value, as the server's `SplitGUCList` reads them: an
/// entry is a `"quoted"` name (`""` inside for a quote) or runs to a comma or a blank; only
/// blanks may follow it before the comma. `None` for what the server rejects at start
/// ("invalid list syntax in parameter listen_addresses"): an empty entry, an unclosed
/// quote, two words without a comma.
pub(super) fn entries(value: &str) -> Option<Vec<String>> {
    let b = value.as_bytes();
    let blank = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\x0b');
    let mut i = 0;
    let skip = |mut i: usize| {
        while i < b.len() && blank(b[i]) {
            i += 1;
        }
        i
    };
    i = skip(i);
    let mut out = Vec::new();
    if i == b.len() {
        return Some(out);
    }
    loop {
        if b[i] == b'"' {
            let mut name = String::new();
            i += 1;
            loop {
                let close = value[i..].find('"')? + i;
                name.push_str(&value[i..close]);
                if b.get(close + 1) == Some(&b'"') {
                    name.push('"');
                    i = close + 2;
                } else {
                    i = close + 1;
                    break;
                }
            }
            out.push(name);
        } else {
            let start = i;
            while i < b.len() && b[i] != b',' && !blank(b[i]) {
                i += 1;
            }
            if i == start {
                return None;
            }
            out.push(value[start..i].to_string());
        }
        i = skip(i);
        match b.get(i) {
            None => return Some(out),
            Some(b',') => i = skip(i + 1),
            Some(_) => return None,
        }
        if i == b.len() {
            // A comma at the end: an empty last entry.
            return None;
        }
    }
}

/// Why a listen_addresses value that does not split is refused.
fn invalid(value: &str) -> String {
    format!(
        "listen_addresses = '{value}': PostgreSQL does not start (\"invalid list syntax in parameter listen_addresses\"): \
         entries are separated by commas, none empty, a name with a comma or a blank in double quotes"
    )
}

/// True when `/etc/hosts` under the root maps `localhost` to `::1`; `None` without the file.
fn localhost_has_v6(host: &Host) -> Option<bool> {
    let f = host.read(Path::new("/etc/hosts")).ok()??;
    Some(f.text.lines().any(|l| {
        let l = l.split('#').next().unwrap_or("");
        let mut w = l.split_whitespace();
        w.next().and_then(parse_ip) == Some(IpAddr::V6(Ipv6Addr::LOCALHOST))
            && w.any(|n| n.eq_ignore_ascii_case("localhost"))
    }))
}

/// What the list lacks: the twins to add (in order, once each) and the entries whose twin
/// needs the host's address.
fn missing(list: &[String], address: Option<Ipv6Addr>) -> (Vec<IpAddr>, Vec<String>) {
    let ips: Vec<Option<IpAddr>> = list.iter().map(|e| parse_ip(e)).collect();
    if list.iter().any(|e| e == "*") {
        return (Vec::new(), Vec::new());
    }
    let mut add: Vec<IpAddr> = Vec::new();
    let mut need = Vec::new();
    for (e, ip) in list.iter().zip(&ips) {
        let Some(ip) = ip else { continue };
        let ep = Endpoint::of_ip(*ip, None, &SPELLING);
        match endpoint::twin(&ep, address, &Bind::AnyV6) {
            Twin::Have(t) => {
                let tip = match t.bind {
                    Bind::AnyV6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                    _ => t.ip().unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
                };
                if !ips.contains(&Some(tip)) && !add.contains(&tip) {
                    add.push(tip);
                }
            }
            Twin::NeedAddress => {
                // A specific IPv6 address in the list already serves IPv6 clients.
                let v6 = ips
                    .iter()
                    .any(|i| matches!(i, Some(IpAddr::V6(a)) if !a.is_loopback()));
                if !v6 {
                    need.push(e.clone());
                }
            }
            Twin::None => {}
        }
    }
    (add, need)
}

/// Plans the listen_addresses change of cluster `c`; true when it edits something.
pub(super) fn analyze(
    host: &Host,
    c: &Cluster,
    address: Option<Ipv6Addr>,
    a: &mut Analysis,
) -> bool {
    let label = format!("{}/{}", c.version, c.name);
    if let (Some(auto), Some((file, _))) = (c.get_auto("listen_addresses"), &c.auto) {
        let Some(list) = entries(&auto.value) else {
            a.refuse(file, auto.name_span.start, invalid(&auto.value));
            return false;
        };
        let (add, need) = missing(&list, address);
        let offset = auto.name_span.start;
        if !add.is_empty() || !need.is_empty() {
            let mut new = list.clone();
            new.extend(add.iter().map(IpAddr::to_string));
            let msg = format!(
                "listen_addresses = '{}' is set by ALTER SYSTEM here, which overrides postgresql.conf and keeps PostgreSQL IPv4-only; \
                 v6fix does not edit this file (the server rewrites it): run ALTER SYSTEM SET listen_addresses = '{}'; then restart",
                auto.value,
                new.join(",")
            );
            a.refuse(file, offset, msg);
        } else {
            a.note(format!(
                "{}: listen_addresses = '{}' (ALTER SYSTEM) serves IPv6 already: left alone",
                host.locate(file, offset),
                auto.value
            ));
        }
        return false;
    }
    let Some((fi, s)) = c.get("listen_addresses") else {
        a.note(format!(
            "{label}: listen_addresses is not set: PostgreSQL listens on localhost, both families where /etc/hosts gives it ::1"
        ));
        check_localhost(host, a);
        return false;
    };
    let file = &c.files[fi].0;
    let at = host.locate(file, s.name_span.start);
    let Some(list) = entries(&s.value) else {
        a.refuse(file, s.name_span.start, invalid(&s.value));
        return false;
    };
    if list.is_empty() {
        a.note(format!(
            "{at}: listen_addresses is empty: no TCP connections at all; left alone"
        ));
        return false;
    }
    if list.iter().any(|e| e == "*") {
        a.note(format!(
            "{at}: listen_addresses '{}' includes * (every address, both families): left alone",
            s.value
        ));
        return false;
    }
    if list.iter().any(|e| e.eq_ignore_ascii_case("localhost")) {
        check_localhost(host, a);
    }
    for e in list
        .iter()
        .filter(|e| parse_ip(e).is_none() && !e.eq_ignore_ascii_case("localhost"))
    {
        a.note(format!(
            "{at}: listen_addresses entry `{e}` is a host name: the server binds every address it resolves to at start; left alone"
        ));
    }
    let (add, need) = missing(&list, address);
    let msg = format!(
        "listen_addresses = '{}': PostgreSQL accepts IPv4 connections only here",
        s.value
    );
    if !need.is_empty() {
        a.lasting(
            file,
            s.name_span.start,
            Severity::Warning,
            format!(
                "{msg}: the specific IPv4 address {} needs --address ADDR for its IPv6 counterpart",
                need.join(", ")
            ),
            FIX_ADDRESS,
        );
    }
    if add.is_empty() {
        if need.is_empty() {
            a.note(format!(
                "{at}: listen_addresses '{}' serves IPv6 already: left alone",
                s.value
            ));
        }
        return false;
    }
    if need.is_empty() {
        let fix = if add
            .iter()
            .any(|ip| matches!(ip, IpAddr::V6(v) if !v.is_loopback() && !v.is_unspecified()))
        {
            FIX_ADDRESS
        } else {
            FIX
        };
        a.find(file, s.name_span.start, Severity::Warning, msg, fix);
    }
    let sep = if s.value.contains(", ") { ", " } else { "," };
    let added: Vec<String> = add.iter().map(IpAddr::to_string).collect();
    let text = format!("{sep}{}", added.join(sep));
    let shown: Vec<String> = added.iter().map(|a| format!("`{a}`")).collect();
    if s.quoted {
        a.edits(file).insert(s.value_span.end - 1, text);
    } else {
        let new = format!("{}{text}", s.value);
        a.edits(file).replace(
            s.value_span.clone(),
            v6fix_core::dialect::postgresql::conf::quote(&new),
        );
    }
    a.note(format!(
        "{at}: listen_addresses gains {}: each entry is its own socket, and an IPv6 one takes IPv6 clients only",
        shown.join(", ")
    ));
    true
}

/// Warns when `localhost` resolves to 127.0.0.1 only under the root's /etc/hosts.
fn check_localhost(host: &Host, a: &mut Analysis) {
    if localhost_has_v6(host) == Some(false) {
        let p = host.display(Path::new("/etc/hosts"));
        a.warn(format!(
            "{p}: no `::1 localhost` line: PostgreSQL's `localhost` then means 127.0.0.1 only; add `::1 localhost ip6-localhost ip6-loopback` (Debian's default)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_split_and_completed_as_the_server_binds_them() {
        assert_eq!(
            entries(" a , \"b,c\", \"e\"\"f\" ,d ").unwrap(),
            vec!["a", "b,c", "e\"f", "d"]
        );
        // A quote inside a name is part of it; what the server rejects is `None`.
        assert_eq!(
            entries("127.0.0.1, 192.0.2.10\"").unwrap(),
            vec!["127.0.0.1", "192.0.2.10\""]
        );
        assert_eq!(entries("  ").unwrap(), Vec::<String>::new());
        for bad in ["a,,b", "a,", ",a", "a b", "\"a", "\"a\"b"] {
            assert_eq!(entries(bad), None, "{bad}");
        }
        let l = |s: &str| entries(s).unwrap();
        let h: Ipv6Addr = "2001:db8::10".parse().unwrap();
        let (add, need) = missing(&l("0.0.0.0"), None);
        assert_eq!(add, vec!["::".parse::<IpAddr>().unwrap()]);
        assert!(need.is_empty());
        let (add, _) = missing(&l("127.0.0.1,192.0.2.10,198.51.100.10"), Some(h));
        assert_eq!(add, vec!["::1".parse::<IpAddr>().unwrap(), IpAddr::V6(h)]);
        let (add, need) = missing(&l("127.0.0.1, ::1, 192.0.2.10"), None);
        assert!(add.is_empty());
        assert_eq!(need, vec!["192.0.2.10"]);
        assert_eq!(missing(&l("*,192.0.2.10"), None), (vec![], vec![]));
        assert_eq!(missing(&l("0.0.0.0,::"), None), (vec![], vec![]));
    }
}
