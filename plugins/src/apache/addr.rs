//! Address words of `Listen` and `<VirtualHost>`: reading them as Apache does, and writing them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address part of a `Listen` or `<VirtualHost>` word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Addr {
    /// Port only, `*`, `[::]`, `_default_`: one socket for both families in Apache.
    Any,
    /// `0.0.0.0`: IPv4 only.
    V4Any,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    /// A name or `${VAR}`: not something v6fix reasons about.
    Other,
}

/// An address word, read the way Apache reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Spot {
    pub(super) addr: Addr,
    pub(super) port: Option<String>,
    /// The bracketed spelling when the word is an unbracketed IPv6 literal.
    pub(super) fixed: Option<String>,
}

/// Reads `text` as Apache's `apr_parse_addr_port` does: brackets around IPv6, else the
/// last `:` separates the port.
pub(super) fn read_spot(text: &str) -> std::result::Result<Spot, String> {
    let spot = |addr, port: Option<&str>| Spot {
        addr,
        port: port.map(str::to_string),
        fixed: None,
    };
    if text.contains("${") {
        return Ok(spot(Addr::Other, None));
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{text}` lacks the closing `]`"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("`{text}`: expected `:PORT` after `]`"))?,
            ),
        };
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| format!("`{inside}` in `{text}` is not an IPv6 address"))?;
        let addr = if ip.is_unspecified() {
            Addr::Any
        } else {
            Addr::V6(ip)
        };
        return Ok(spot(addr, port));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
        return Ok(spot(Addr::Any, Some(text)));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        Some((h, "*")) => (h, Some("*")),
        _ => (text, None),
    };
    if host.contains(':') {
        // An unbracketed IPv6 literal.
        if let (Ok(ip), Some(p)) = (host.parse::<Ipv6Addr>(), port) {
            let mut s = read_spot(&format!("[{ip}]:{p}"))?;
            s.fixed = Some(format!("[{host}]:{p}"));
            return Ok(s);
        }
        if let Ok(ip) = text.parse::<Ipv6Addr>() {
            let mut s = spot(Addr::V6(ip), None);
            s.fixed = Some(format!("[{text}]"));
            return Ok(s);
        }
        return Err(format!(
            "Apache reads `{text}` as host `{host}` and port `{}`, which is no address: write [IPV6]:PORT",
            port.unwrap_or("")
        ));
    }
    let addr = match host {
        "*" | "_default_" => Addr::Any,
        "0.0.0.0" => Addr::V4Any,
        h => match h.parse::<Ipv4Addr>() {
            Ok(ip) => Addr::V4(ip),
            Err(_) => Addr::Other,
        },
    };
    Ok(spot(addr, port))
}

pub(super) fn render(ip: IpAddr, port: Option<&str>) -> String {
    match port {
        Some(p) => v6fix_core::addr::host_port(ip, p),
        None => v6fix_core::addr::bracketed(ip),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_the_way_apache_reads_them() {
        let r = |t| read_spot(t).unwrap();
        assert_eq!(r("80").addr, Addr::Any);
        assert_eq!(r("[::]:80").addr, Addr::Any);
        assert_eq!(r("*:80").addr, Addr::Any);
        assert_eq!(r("_default_:443").addr, Addr::Any);
        assert_eq!(r("0.0.0.0:80").addr, Addr::V4Any);
        assert_eq!(r("192.0.2.10:443").port.as_deref(), Some("443"));
        assert_eq!(r("192.0.2.10").port, None);
        let s = r("::1:18080");
        assert_eq!(s.addr, Addr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(s.fixed.as_deref(), Some("[::1]:18080"));
        let s = r("2001:db8::1:80");
        assert_eq!(s.fixed.as_deref(), Some("[2001:db8::1]:80"));
        assert_eq!(r("[2001:db8::1]").port, None);
        assert_eq!(r("www.example.net:80").addr, Addr::Other);
        assert_eq!(r("${APACHE_PORT}").addr, Addr::Other);
        assert!(read_spot("2001:db8:x::80").is_err());
        assert!(read_spot("[2001:db8::1]80").is_err());
    }
}
