//! IPv4 and IPv6 addresses and prefixes: parsing, semantic comparison, RFC 5952 text, and
//! rendering in each dialect's spelling.
//!
//! Comparison is on the binary value, so `2001:DB8:0::/64`, `[2001:db8::]/64` and
//! `[2001:db8::/64]` are one network. Text output is always RFC 5952 (lower case, longest
//! run of zero groups compressed), which is what `std`'s `Display` for `Ipv6Addr` prints.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a piece of text is not the address or prefix that was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrError {
    /// Not an IPv4 or IPv6 address at all.
    NotAnAddress(String),
    /// A prefix length that is not a number, or larger than the family allows.
    BadLength(String),
    /// A network was required, but bits after the prefix length are set.
    HostBits { given: String, network: Prefix },
    /// An IPv6 address or prefix was required.
    NotIpv6(String),
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrError::NotAnAddress(s) => write!(f, "`{s}` is not an IPv4 or IPv6 address"),
            AddrError::BadLength(s) => {
                write!(
                    f,
                    "`{s}` has a bad prefix length (0-32 for IPv4, 0-128 for IPv6)"
                )
            }
            AddrError::HostBits { given, network } => write!(
                f,
                "`{given}` has host bits set after the prefix length; the network is `{network}`"
            ),
            AddrError::NotIpv6(s) => write!(f, "`{s}` is not an IPv6 address"),
        }
    }
}

impl std::error::Error for AddrError {}

/// An address with a prefix length; a plain address is a prefix of full length.
///
/// Equality is semantic: two prefixes are equal when their address bits and lengths are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// A prefix from an address and a length; `None` when the length is too large.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        (len <= max_len(addr)).then_some(Prefix { addr, len })
    }

    /// A single host: the address with its family's full length.
    pub fn host(addr: IpAddr) -> Prefix {
        Prefix {
            addr,
            len: max_len(addr),
        }
    }

    /// Parses `addr` or `addr/len`, bare. Host bits are allowed (see [`Prefix::network`]).
    pub fn parse(text: &str) -> Result<Prefix, AddrError> {
        let (a, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr = parse_ip(a).ok_or_else(|| AddrError::NotAnAddress(text.to_string()))?;
        let len = match len {
            None => max_len(addr),
            Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => l
                .parse()
                .map_err(|_| AddrError::BadLength(text.to_string()))?,
            Some(_) => return Err(AddrError::BadLength(text.to_string())),
        };
        Prefix::new(addr, len).ok_or_else(|| AddrError::BadLength(text.to_string()))
    }

    /// Parses a prefix written in any spelling a config may use: bare `a/len`,
    /// `[a]/len`, `[a/len]`, `"a"/len`, `"a/len"`, or `[a]`. Host bits are allowed.
    pub fn parse_any(text: &str) -> Result<Prefix, AddrError> {
        let t = text.trim();
        let err = || AddrError::NotAnAddress(text.to_string());
        let (inner, outside) = if let Some(rest) = t.strip_prefix('[') {
            let close = rest.find(']').ok_or_else(err)?;
            (&rest[..close], &rest[close + 1..])
        } else if let Some(rest) = t.strip_prefix('"') {
            let close = rest.find('"').ok_or_else(err)?;
            (&rest[..close], &rest[close + 1..])
        } else {
            (t, "")
        };
        let inner = inner.trim();
        match outside.trim_start() {
            "" => Prefix::parse(inner),
            o => {
                let len = o.strip_prefix('/').ok_or_else(err)?.trim();
                if inner.contains('/') {
                    return Err(err());
                }
                Prefix::parse(&format!("{inner}/{len}"))
            }
        }
    }

    /// Parses a network: like [`Prefix::parse_any`], but bits after the length must be zero.
    pub fn parse_network(text: &str) -> Result<Prefix, AddrError> {
        let p = Prefix::parse_any(text)?;
        if p.has_host_bits() {
            return Err(AddrError::HostBits {
                given: text.to_string(),
                network: p.network(),
            });
        }
        Ok(p)
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length (not a count of anything, hence no `is_empty`).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u8 {
        self.len
    }

    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// True for a single address (full-length prefix).
    pub fn is_host(&self) -> bool {
        self.len == max_len(self.addr)
    }

    /// The prefix with every bit after the length cleared.
    pub fn network(&self) -> Prefix {
        Prefix {
            addr: mask(self.addr, self.len),
            len: self.len,
        }
    }

    pub fn has_host_bits(&self) -> bool {
        self.network().addr != self.addr
    }

    /// True when `ip` lies inside this prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.len) == self.network().addr
    }

    /// True when every address of `other` lies inside this prefix.
    pub fn covers(&self, other: &Prefix) -> bool {
        other.len >= self.len && self.contains(other.addr)
    }

    /// Spells the prefix the way a dialect wants it. A full-length prefix is written
    /// without its length only where [`Style`] says so.
    pub fn render(&self, style: Style) -> String {
        let a = self.addr;
        let len = self.len;
        match (style, a) {
            (Style::Bare, _) => format!("{a}/{len}"),
            (Style::BracketedV6, IpAddr::V6(_)) => format!("[{a}]/{len}"),
            (Style::BracketedV6, IpAddr::V4(_)) => format!("{a}/{len}"),
            (Style::Quoted, _) if self.is_host() => format!("\"{a}\""),
            (Style::Quoted, _) => format!("\"{a}\"/{len}"),
        }
    }
}

impl fmt::Display for Prefix {
    /// RFC 5952 text, bare: `2001:db8::/64`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// How a dialect spells a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `2001:db8::/64`: Apache `Require ip`, nginx `allow`, Dovecot, cidr tables, ifupdown.
    Bare,
    /// `[2001:db8::]/64` for IPv6, `192.0.2.0/24` for IPv4: Postfix network lists.
    BracketedV6,
    /// `"2001:db8::"/64`, or `"2001:db8::1"` for a host: VCL acl entries.
    Quoted,
}

/// Parses a bare IPv4 or IPv6 address (no brackets, no zone).
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    // std accepts only canonical dotted quads and RFC 4291 text, which is what we want.
    text.parse().ok()
}

/// Parses an address that may carry a `%zone` (link-local IPv6 only).
pub fn parse_scoped(text: &str) -> Result<(IpAddr, Option<&str>), AddrError> {
    let (a, zone) = match text.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (text, None),
    };
    let ip = parse_ip(a).ok_or_else(|| AddrError::NotAnAddress(text.to_string()))?;
    match zone {
        Some(z) if z.is_empty() || ip.is_ipv4() => Err(AddrError::NotAnAddress(text.to_string())),
        _ => Ok((ip, zone)),
    }
}

/// `[addr]:port` for IPv6, `addr:port` for IPv4: Apache, nginx, Varnish, sshd.
pub fn host_port(ip: IpAddr, port: &str) -> String {
    match ip {
        IpAddr::V6(_) => format!("[{ip}]:{port}"),
        IpAddr::V4(_) => format!("{ip}:{port}"),
    }
}

/// `addr` in brackets for IPv6, bare for IPv4: Postfix inet_interfaces, Dovecot 1.x.
pub fn bracketed(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(_) => format!("[{ip}]"),
        IpAddr::V4(_) => ip.to_string(),
    }
}

/// `addr,port`, never bracketed: Pure-FTPd `Bind`.
pub fn comma_port(ip: IpAddr, port: &str) -> String {
    format!("{ip},{port}")
}

/// True for fe80::/10.
pub fn is_link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

/// The IPv4 or IPv6 wildcard address.
pub fn is_unspecified(ip: IpAddr) -> bool {
    ip.is_unspecified()
}

/// Splits `host:port`, `[v6]:port`, `[v6]` or `port` the way listen directives spell them.
/// Returns the host text (brackets removed, `None` when absent or `*`) and the port text.
pub fn split_host_port(text: &str) -> Option<(Option<&str>, Option<&str>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let close = rest.find(']')?;
        let host = &rest[..close];
        let after = &rest[close + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        return Some((Some(host), port));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some((None, Some(text)));
    }
    match text.rsplit_once(':') {
        // An unbracketed IPv6 literal: no way to tell a port; report the whole as host.
        Some((h, _)) if h.contains(':') => Some((Some(text), None)),
        Some(("", p)) | Some(("*", p)) => Some((None, Some(p))),
        Some((h, p)) => Some((Some(h), Some(p))),
        None if text == "*" => Some((None, None)),
        None => Some((Some(text), None)),
    }
}

fn max_len(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        Prefix::parse_any(s).unwrap()
    }

    #[test]
    fn equivalent_spellings_are_one_network() {
        let want = p("2001:db8::/64");
        for s in [
            "2001:DB8:0::/64",
            "[2001:db8::]/64",
            "[2001:db8::/64]",
            "[2001:DB8:0:0::]/64",
            "\"2001:db8::\"/64",
            "\"2001:db8::/64\"",
            "2001:0db8:0000:0000:0000:0000:0000:0000/64",
        ] {
            assert_eq!(p(s), want, "{s}");
        }
        assert_ne!(p("2001:db8::/48"), want);
    }

    #[test]
    fn text_is_rfc5952() {
        assert_eq!(
            p("2001:DB8:0:0:1:0:0:1").to_string(),
            "2001:db8::1:0:0:1/128"
        );
        assert_eq!(
            p("2001:db8:0:1:1:1:1:1").to_string(),
            "2001:db8:0:1:1:1:1:1/128"
        );
        assert_eq!(p("2001:0DB8::0001/64").to_string(), "2001:db8::1/64");
    }

    #[test]
    fn bad_lengths_and_garbage_are_rejected() {
        assert!(matches!(
            Prefix::parse("2001:db8::/129"),
            Err(AddrError::BadLength(_))
        ));
        assert!(matches!(
            Prefix::parse("192.0.2.0/33"),
            Err(AddrError::BadLength(_))
        ));
        assert!(matches!(
            Prefix::parse("192.0.2.0/"),
            Err(AddrError::BadLength(_))
        ));
        assert!(matches!(
            Prefix::parse("192.0.2.0/+8"),
            Err(AddrError::BadLength(_))
        ));
        assert!(matches!(
            Prefix::parse("2001:db8::zz/64"),
            Err(AddrError::NotAnAddress(_))
        ));
        assert!(matches!(
            Prefix::parse("example.com"),
            Err(AddrError::NotAnAddress(_))
        ));
        assert!(Prefix::parse_any("[2001:db8::/64").is_err());
        assert!(Prefix::parse_any("[2001:db8::/64]/64").is_err());
    }

    #[test]
    fn a_network_must_not_have_host_bits() {
        let e = Prefix::parse_network("[2001:db8::5]/64").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`[2001:db8::5]/64` has host bits set after the prefix length; the network is `2001:db8::/64`"
        );
        assert!(Prefix::parse_network("192.0.2.0/24").is_ok());
        assert!(Prefix::parse_network("::/0").is_ok());
    }

    #[test]
    fn rendering_follows_each_dialect() {
        let n = p("2001:DB8::/64");
        assert_eq!(n.render(Style::Bare), "2001:db8::/64");
        assert_eq!(n.render(Style::BracketedV6), "[2001:db8::]/64");
        assert_eq!(n.render(Style::Quoted), "\"2001:db8::\"/64");
        assert_eq!(p("::1").render(Style::Quoted), "\"::1\"");
        assert_eq!(p("192.0.2.0/24").render(Style::BracketedV6), "192.0.2.0/24");
        let ip: IpAddr = "2001:db8::10".parse().unwrap();
        assert_eq!(host_port(ip, "80"), "[2001:db8::10]:80");
        assert_eq!(comma_port(ip, "21"), "2001:db8::10,21");
        assert_eq!(bracketed(ip), "[2001:db8::10]");
        assert_eq!(
            host_port("192.0.2.1".parse().unwrap(), "80"),
            "192.0.2.1:80"
        );
    }

    #[test]
    fn containment_respects_families_and_lengths() {
        let n = p("2001:db8::/64");
        assert!(n.contains("2001:db8::c:1".parse().unwrap()));
        assert!(!n.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!p("0.0.0.0/0").contains("::1".parse().unwrap()));
        assert!(n.covers(&p("2001:db8::/80")));
        assert!(!n.covers(&p("2001:db8::/48")));
    }

    #[test]
    fn scoped_addresses_keep_their_zone() {
        let (ip, zone) = parse_scoped("fe80::1%eth0").unwrap();
        assert!(is_link_local(ip));
        assert_eq!(zone, Some("eth0"));
        assert!(parse_scoped("192.0.2.1%eth0").is_err());
        assert!(parse_scoped("fe80::1%").is_err());
        assert!(!is_link_local("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn host_port_splitting() {
        assert_eq!(split_host_port("80"), Some((None, Some("80"))));
        assert_eq!(split_host_port("*:80"), Some((None, Some("80"))));
        assert_eq!(split_host_port(":6081"), Some((None, Some("6081"))));
        assert_eq!(split_host_port("[::]:80"), Some((Some("::"), Some("80"))));
        assert_eq!(split_host_port("[::1]"), Some((Some("::1"), None)));
        assert_eq!(
            split_host_port("192.0.2.1:80"),
            Some((Some("192.0.2.1"), Some("80")))
        );
        assert_eq!(
            split_host_port("localhost"),
            Some((Some("localhost"), None))
        );
        assert_eq!(split_host_port("::1:80"), Some((Some("::1:80"), None)));
        assert_eq!(split_host_port("[::1]80"), None);
    }
}
