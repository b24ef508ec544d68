//! Listener endpoints: the one type for a listen or bind address in every dialect, the one
//! parser for its spellings, and the one rule that says which IPv6 listener makes an IPv4
//! one dual-stack.
//!
//! Dialects spell the same idea differently (`80`, `*:80`, `0.0.0.0:80`, `[::]:80`,
//! `192.0.2.10:80`, an unbracketed `2001:db8::1`), and the same spelling means different
//! things: Apache's `Listen 80` binds one socket for both families while nginx's
//! `listen 80` is IPv4 only. A [`Spelling`] holds a dialect's meanings; [`Endpoint::parse`]
//! reads a word with them, and [`twin`] decides the IPv6 counterpart the same way for every
//! plugin.

use crate::addr::host_port;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a listener binds, after the dialect's defaults are applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Bind {
    /// One socket for both families (`Listen 80` in Apache, `-a :80` in Varnish).
    AnyDual,
    /// The IPv4 wildcard: `0.0.0.0`, and `80` or `*:80` in nginx.
    AnyV4,
    /// The IPv6 wildcard on an IPv6-only socket (`listen [::]:80` in nginx).
    AnyV6,
    V4(Ipv4Addr),
    /// A specific IPv6 address (never `::`, which is [`Bind::AnyDual`] or [`Bind::AnyV6`]).
    V6(Ipv6Addr),
    /// A host name or a variable: whatever it resolves to, which v6fix does not guess.
    Name(String),
}

/// How a dialect reads an unbracketed IPv6 literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unbracketed {
    /// The whole word is the address (sshd, Varnish, Dovecot).
    Whole,
    /// The text after the last `:` is the port (Apache's `apr_parse_addr_port`).
    LastColonIsPort,
    /// An error: the daemon refuses it (nginx).
    Refused,
}

/// A dialect's meanings for the spellings that differ between daemons.
#[derive(Debug, Clone)]
pub struct Spelling {
    /// The daemon, as messages name it.
    pub daemon: &'static str,
    /// A bare port (`80`) and a port after `*:` or `:`.
    pub any: Bind,
    /// `[::]` or `::`.
    pub v6_any: Bind,
    pub unbracketed: Unbracketed,
}

impl Spelling {
    /// Apache: `80`, `*:80` and `[::]:80` are one dual-stack socket.
    pub const APACHE: Spelling = Spelling {
        daemon: "Apache",
        any: Bind::AnyDual,
        v6_any: Bind::AnyDual,
        unbracketed: Unbracketed::LastColonIsPort,
    };
    /// nginx: `80` and `*:80` are IPv4 only; `[::]:80` is IPv6 only (ipv6only=on).
    pub const NGINX: Spelling = Spelling {
        daemon: "nginx",
        any: Bind::AnyV4,
        v6_any: Bind::AnyV6,
        unbracketed: Unbracketed::Refused,
    };
    /// varnishd `-a`: `:80` is both families; `[::]:80` is IPv6 only.
    pub const VARNISH: Spelling = Spelling {
        daemon: "varnishd",
        any: Bind::AnyDual,
        v6_any: Bind::AnyV6,
        unbracketed: Unbracketed::Whole,
    };
    /// sshd `ListenAddress`, Dovecot `listen`, Postfix master.cf, Pure-FTPd `Bind`: each
    /// address is its own socket, `::` with IPV6_V6ONLY.
    pub const PLAIN: Spelling = Spelling {
        daemon: "the daemon",
        any: Bind::AnyV4,
        v6_any: Bind::AnyV6,
        unbracketed: Unbracketed::Whole,
    };
}

/// A listen or bind address as a daemon reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub bind: Bind,
    /// The port as written (a number, a service name, `*`); `None` when the word has none.
    pub port: Option<String>,
    /// For an unbracketed IPv6 literal that the dialect accepts: the bracketed spelling of
    /// the same endpoint, which is what the daemon's documentation asks for.
    pub bracketed: Option<String>,
}

/// Why a word is no endpoint, said the way the daemon would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError(pub String);

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EndpointError {}

fn is_port(p: &str) -> bool {
    !p.is_empty() && (p == "*" || p.bytes().all(|b| b.is_ascii_digit()))
}

/// A port as a listen word may give it: a number, `*`, or a service name (`http`).
fn port_word(text: &str, p: &str) -> Result<(), EndpointError> {
    let name = p.starts_with(|c: char| c.is_ascii_alphabetic())
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if is_port(p) || name {
        Ok(())
    } else {
        Err(EndpointError(format!("`{text}`: `{p}` is not a port")))
    }
}

impl Endpoint {
    /// An endpoint for `ip` on `port`, `::`/`0.0.0.0` read as the wildcards of `spelling`.
    pub fn of_ip(ip: IpAddr, port: Option<&str>, spelling: &Spelling) -> Endpoint {
        let bind = match ip {
            IpAddr::V4(a) if a.is_unspecified() => Bind::AnyV4,
            IpAddr::V4(a) => Bind::V4(a),
            IpAddr::V6(a) if a.is_unspecified() => spelling.v6_any.clone(),
            IpAddr::V6(a) => Bind::V6(a),
        };
        Endpoint {
            bind,
            port: port.map(str::to_string),
            bracketed: None,
        }
    }

    /// Reads `[v6]:p`, `[v6]`, `v4:p`, `v4`, `name:p`, `p`, `*:p`, `:p`, `*` and unbracketed
    /// IPv6 literals with the meanings of `spelling`. Words with `$` stay names.
    pub fn parse(text: &str, spelling: &Spelling) -> Result<Endpoint, EndpointError> {
        let ep = |bind, port: Option<&str>| Endpoint {
            bind,
            port: port.map(str::to_string),
            bracketed: None,
        };
        if text.contains('$') {
            return Ok(ep(Bind::Name(text.to_string()), None));
        }
        if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest
                .split_once(']')
                .ok_or_else(|| EndpointError(format!("`{text}` lacks the closing `]`")))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .filter(|p| !p.is_empty())
                        .ok_or_else(|| {
                            EndpointError(format!("`{text}`: expected `:PORT` after `]`"))
                        })?,
                ),
            };
            let ip: Ipv6Addr = inside.parse().map_err(|_| {
                EndpointError(format!("`{inside}` in `{text}` is not an IPv6 address"))
            })?;
            if let Some(p) = port {
                port_word(text, p)?;
            }
            return Ok(Endpoint::of_ip(IpAddr::V6(ip), port, spelling));
        }
        if text == "*" {
            return Ok(ep(spelling.any.clone(), None));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
            return Ok(ep(spelling.any.clone(), Some(text)));
        }
        if text.matches(':').count() >= 2 {
            return Endpoint::unbracketed(text, spelling);
        }
        let (host, port) = match text.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        };
        if port == Some("") {
            return Err(EndpointError(format!(
                "`{text}`: expected a port after `:`"
            )));
        }
        if let Some(p) = port {
            port_word(text, p)?;
        }
        if host.is_empty() || host == "*" {
            return Ok(ep(spelling.any.clone(), port));
        }
        Ok(match host.parse::<Ipv4Addr>() {
            Ok(a) => Endpoint::of_ip(IpAddr::V4(a), port, spelling),
            Err(_) => ep(Bind::Name(host.to_string()), port),
        })
    }

    fn unbracketed(text: &str, spelling: &Spelling) -> Result<Endpoint, EndpointError> {
        let whole = text.parse::<Ipv6Addr>();
        match spelling.unbracketed {
            Unbracketed::Refused => Err(EndpointError(format!(
                "`{text}` is an IPv6 literal without brackets, which {} refuses: write [ADDRESS]:PORT",
                spelling.daemon
            ))),
            Unbracketed::Whole => {
                let ip = whole.map_err(|_| {
                    EndpointError(format!("`{text}` is not an address (IPv6 needs brackets)"))
                })?;
                let mut e = Endpoint::of_ip(IpAddr::V6(ip), None, spelling);
                e.bracketed = Some(format!("[{text}]"));
                Ok(e)
            }
            Unbracketed::LastColonIsPort => {
                let (h, p) = text.rsplit_once(':').unwrap_or((text, ""));
                match (h.parse::<Ipv6Addr>(), whole) {
                    (Ok(ip), _) if is_port(p) => {
                        let mut e = Endpoint::of_ip(IpAddr::V6(ip), Some(p), spelling);
                        e.bracketed = Some(format!("[{h}]:{p}"));
                        Ok(e)
                    }
                    // No way to read a port off it: the whole word is the address.
                    (_, Ok(ip)) => {
                        let mut e = Endpoint::of_ip(IpAddr::V6(ip), None, spelling);
                        e.bracketed = Some(format!("[{text}]"));
                        Ok(e)
                    }
                    _ => Err(EndpointError(format!(
                        "{} reads `{text}` as host `{h}` and port `{p}`, which is no address: write [IPV6]:PORT",
                spelling.daemon
                    ))),
                }
            }
        }
    }

    /// The address this endpoint binds, when it is one (`0.0.0.0` and `::` for wildcards).
    pub fn ip(&self) -> Option<IpAddr> {
        match &self.bind {
            Bind::AnyV4 => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            Bind::AnyDual | Bind::AnyV6 => Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
            Bind::V4(a) => Some(IpAddr::V4(*a)),
            Bind::V6(a) => Some(IpAddr::V6(*a)),
            Bind::Name(_) => None,
        }
    }

    /// True when IPv4 clients can connect and IPv6 ones cannot.
    pub fn is_ipv4_only(&self) -> bool {
        matches!(self.bind, Bind::AnyV4 | Bind::V4(_))
    }

    /// True when IPv6 clients reach it (on its own address or on every address).
    pub fn serves_ipv6(&self) -> bool {
        matches!(self.bind, Bind::AnyDual | Bind::AnyV6 | Bind::V6(_))
    }

    /// The port, or `default` when the word has none.
    pub fn port_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.port.as_deref().unwrap_or(default)
    }

    /// `[addr]:port`, `v4:port`, or the address alone (bracketed when IPv6 and `bracket`).
    /// Wildcards are written as addresses (`[::]`, `0.0.0.0`); names as they are.
    pub fn render(&self, bracket: bool) -> String {
        let Some(ip) = self.ip() else {
            let Bind::Name(n) = &self.bind else {
                unreachable!("every bind but a name has an address")
            };
            return match &self.port {
                Some(p) => format!("{n}:{p}"),
                None => n.clone(),
            };
        };
        match (&self.port, ip) {
            (Some(p), _) => host_port(ip, p),
            (None, IpAddr::V6(_)) if bracket => format!("[{ip}]"),
            (None, _) => ip.to_string(),
        }
    }
}

/// The IPv6 counterpart an IPv4-only listener needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Twin {
    /// Listen here too: the same port on this IPv6 endpoint.
    Have(Endpoint),
    /// A specific IPv4 address: its twin is this host's IPv6 address, which was not given.
    NeedAddress,
    /// IPv6 clients are served already (or it is a name v6fix cannot reason about).
    None,
}

/// The one twin rule: the IPv4 wildcard gets the IPv6 wildcard (`v6_any`, the dialect's
/// spelling of `::`), any loopback address `::1`, a specific address the host's IPv6
/// `address`. The twin keeps the port as written.
pub fn twin(ep: &Endpoint, address: Option<Ipv6Addr>, v6_any: &Bind) -> Twin {
    let bind = match &ep.bind {
        Bind::AnyV4 => v6_any.clone(),
        Bind::V4(a) if a.is_loopback() => Bind::V6(Ipv6Addr::LOCALHOST),
        Bind::V4(_) => match address {
            Some(a) => Bind::V6(a),
            None => return Twin::NeedAddress,
        },
        _ => return Twin::None,
    };
    Twin::Have(Endpoint {
        bind,
        port: ep.port.clone(),
        bracketed: None,
    })
}

/// One IPv4-specific listener, as [`collapsing`] sees it: its address, its port and where
/// it is written (`path:line`, with the directive as the admin wrote it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specific {
    pub ip: Ipv4Addr,
    pub port: String,
    pub text: String,
    pub at: String,
}

/// The listeners whose IPv6 twins would all be one listener: IPv4-specific, non-loopback
/// addresses (two or more different ones) sharing a port, each of which would get the one
/// host `address` as its twin. IP-based sites behind them could no longer be told apart
/// over IPv6, so a plugin refuses instead of guessing. Loopback listeners all becoming
/// `::1` is fine (the clients are local) and are never grouped. Groups come in the order
/// of their first listener.
pub fn collapsing(listeners: &[Specific]) -> Vec<Vec<&Specific>> {
    let mut groups: Vec<Vec<&Specific>> = Vec::new();
    for l in listeners.iter().filter(|l| !l.ip.is_loopback()) {
        match groups.iter_mut().find(|g| g[0].port == l.port) {
            Some(g) => {
                if !g.iter().any(|o| o.ip == l.ip) {
                    g.push(l);
                }
            }
            None => groups.push(vec![l]),
        }
    }
    groups.retain(|g| g.len() > 1);
    groups
}

/// The refusal for one group of [`collapsing`]: names every listener, the one IPv6
/// listener they would become, and what the admin does instead.
pub fn collapse_message(group: &[&Specific], address: Ipv6Addr, twin: &str) -> String {
    let all: Vec<String> = group
        .iter()
        .map(|l| format!("{} ({})", l.text, l.at))
        .collect();
    let port = match group[0].port.as_str() {
        "" => "one port".to_string(),
        p => format!("port {p}"),
    };
    format!(
        "{} listen on different IPv4 addresses of {port}: with --address {address} all of them would get the one IPv6 twin {twin}, and what is told apart by IPv4 address could no longer be told apart over IPv6. Nothing written: give each its own IPv6 listener by hand (one IPv6 address per IPv4 one), or keep one IPv4-specific listener on the port",
        all.join(", "),
    )
}

/// Checks an address given as "this host's IPv6 address": a global unicast address, not a
/// wildcard, loopback, link-local, multicast or IPv4-mapped one. `what` names the option.
pub fn host_address(ip: IpAddr, what: &str) -> Result<Ipv6Addr, String> {
    let IpAddr::V6(v6) = ip else {
        return Err(format!(
            "{what}: `{ip}` is IPv4; give this host's IPv6 address (the IPv4 ones stay as configured)"
        ));
    };
    let seg = v6.segments();
    let why = if v6.is_unspecified() {
        Some("the wildcard address ::")
    } else if v6.is_loopback() {
        Some("the loopback address ::1")
    } else if seg[0] & 0xffc0 == 0xfe80 {
        Some("a link-local address (fe80::/10), which needs an interface")
    } else if seg[0] & 0xff00 == 0xff00 {
        Some("a multicast address")
    } else if v6.to_ipv4_mapped().is_some() {
        Some("an IPv4-mapped address")
    } else {
        None
    };
    match why {
        Some(w) => Err(format!(
            "{what}: `{v6}` is {w}; give this host's own IPv6 address"
        )),
        None => Ok(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_specific_ipv4_listeners_on_one_port_collapse() {
        let l = |ip: &str, port: &str| Specific {
            ip: ip.parse().unwrap(),
            port: port.into(),
            text: format!("{ip}:{port}"),
            at: "f:1".into(),
        };
        let v = vec![
            l("192.0.2.10", "80"),
            l("192.0.2.11", "80"),
            l("192.0.2.10", "443"),
            l("127.0.0.1", "80"),
            l("127.0.0.2", "8080"),
            l("127.0.0.3", "8080"),
            l("192.0.2.12", "25"),
            l("192.0.2.12", "25"),
        ];
        let g = collapsing(&v);
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!(g[0].len(), 2);
        assert_eq!(g[0][1].ip, "192.0.2.11".parse::<Ipv4Addr>().unwrap());
        let m = collapse_message(&g[0], "2001:db8::10".parse().unwrap(), "[2001:db8::10]:80");
        assert!(
            m.contains("192.0.2.10:80 (f:1), 192.0.2.11:80 (f:1)"),
            "{m}"
        );
    }

    fn p(t: &str, s: &Spelling) -> Endpoint {
        Endpoint::parse(t, s).unwrap()
    }

    #[test]
    fn one_spelling_different_meanings() {
        assert_eq!(p("80", &Spelling::APACHE).bind, Bind::AnyDual);
        assert_eq!(p("80", &Spelling::NGINX).bind, Bind::AnyV4);
        assert_eq!(p("*:80", &Spelling::NGINX).bind, Bind::AnyV4);
        assert_eq!(p(":6081", &Spelling::VARNISH).bind, Bind::AnyDual);
        assert_eq!(p("[::]:80", &Spelling::APACHE).bind, Bind::AnyDual);
        assert_eq!(p("[::]:80", &Spelling::NGINX).bind, Bind::AnyV6);
        assert_eq!(p("0.0.0.0:80", &Spelling::APACHE).bind, Bind::AnyV4);
        assert_eq!(p("::", &Spelling::PLAIN).bind, Bind::AnyV6);
        let e = p("192.0.2.10:443", &Spelling::NGINX);
        assert_eq!(e.bind, Bind::V4("192.0.2.10".parse().unwrap()));
        assert_eq!(e.port.as_deref(), Some("443"));
        assert_eq!(
            p("localhost:6082", &Spelling::VARNISH).bind,
            Bind::Name("localhost".into())
        );
        assert_eq!(
            p("${PORT}", &Spelling::APACHE).bind,
            Bind::Name("${PORT}".into())
        );
    }

    #[test]
    fn unbracketed_ipv6_follows_the_dialect() {
        let a = p("2001:db8::1:80", &Spelling::APACHE);
        assert_eq!(a.bind, Bind::V6("2001:db8::1".parse().unwrap()));
        assert_eq!(a.port.as_deref(), Some("80"));
        assert_eq!(a.bracketed.as_deref(), Some("[2001:db8::1]:80"));
        let s = p("2001:db8::1:2222", &Spelling::PLAIN);
        assert_eq!(s.bind, Bind::V6("2001:db8::1:2222".parse().unwrap()));
        assert_eq!(s.port, None);
        assert!(Endpoint::parse("::1:80", &Spelling::NGINX).is_err());
        assert!(Endpoint::parse("2001:db8:x::80", &Spelling::APACHE).is_err());
        assert!(Endpoint::parse("[2001:db8::1]80", &Spelling::APACHE).is_err());
        assert!(Endpoint::parse("[2001:db8::1", &Spelling::APACHE).is_err());
        assert!(Endpoint::parse("[::1]:80[::]", &Spelling::PLAIN).is_err());
        assert!(Endpoint::parse("192.0.2.10:8é", &Spelling::APACHE).is_err());
        assert_eq!(
            p("[::]:http", &Spelling::VARNISH).port.as_deref(),
            Some("http")
        );
    }

    #[test]
    fn the_twin_rule() {
        let s = &Spelling::NGINX;
        let addr: Ipv6Addr = "2001:db8::ad:1".parse().unwrap();
        let t = |w: &str, a| twin(&p(w, s), a, &Bind::AnyV6);
        assert_eq!(t("80", None), Twin::Have(p("[::]:80", s)));
        assert_eq!(t("127.0.0.1:8080", None), Twin::Have(p("[::1]:8080", s)));
        assert_eq!(t("127.0.0.2:8080", None), Twin::Have(p("[::1]:8080", s)));
        assert_eq!(t("192.0.2.10:80", None), Twin::NeedAddress);
        assert_eq!(
            t("192.0.2.10:80", Some(addr)),
            Twin::Have(p("[2001:db8::ad:1]:80", s))
        );
        assert_eq!(t("[::]:80", None), Twin::None);
        assert_eq!(t("www.example.net:80", None), Twin::None);
        assert_eq!(
            p("[2001:db8::ad:1]:80", s).render(true),
            "[2001:db8::ad:1]:80"
        );
        assert_eq!(p("::", &Spelling::PLAIN).render(false), "::");
        assert_eq!(p("::", &Spelling::PLAIN).render(true), "[::]");
    }

    #[test]
    fn host_addresses_are_global_ipv6() {
        let ok = |t: &str| host_address(t.parse().unwrap(), "--address");
        assert!(ok("2001:db8::ad:1").is_ok());
        for bad in [
            "::",
            "::1",
            "fe80::1",
            "ff02::1",
            "::ffff:192.0.2.1",
            "192.0.2.1",
        ] {
            let e = ok(bad).unwrap_err();
            assert!(e.starts_with("--address: `"), "{e}");
        }
    }
}
