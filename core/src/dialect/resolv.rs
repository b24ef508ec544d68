//! `/etc/resolv.conf` as glibc's stub resolver reads it (resolv.conf(5), glibc 2.36
//! `res_vinit_1`), losslessly.
//!
//! - A line whose first character is `#` or `;` is a comment.
//! - A keyword (`nameserver`, `search`, `domain`, `options`, `sortlist`) counts only in
//!   column 1 and followed by a blank: an indented line is ignored by glibc.
//! - A nameserver's value is its first token, ended by a space, a tab or the line feed, not
//!   by `\r`: on a CRLF line the token carries the `\r` and the line is dropped. Brackets
//!   and ports are never allowed; an IPv6 link-local address needs `%scope`. An IPv4
//!   address is read by `inet_aton`: `192.0.2.053` is 192.0.2.43, `0xc0.0.2.1` is
//!   192.0.2.1.
//! - Only the first three valid nameserver lines are used (MAXNS); later ones are ignored
//!   without a word.
//!
//! The parser never fails: glibc skips what it does not understand, and so does
//! [`Doc::nameservers`], which says for each `nameserver` line whether glibc uses it.

use crate::addr::{is_link_local, parse_ip};
use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};
use std::net::IpAddr;

/// glibc's MAXNS: the number of nameservers it uses.
pub const MAXNS: usize = 3;

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Blank,
    Comment,
    /// A `nameserver` line (also an indented one, which glibc ignores).
    Nameserver,
    Search,
    Domain,
    Options,
    Sortlist,
    /// Anything else; glibc ignores it.
    Other,
}

/// One physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The line with its ending.
    pub span: Span,
    pub kind: Kind,
}

/// How glibc takes a nameserver line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// A usable address, with its `%scope` for link-local.
    Valid { ip: IpAddr, scope: Option<String> },
    /// A link-local address without `%scope`: it takes a slot but no query reaches it.
    NoScope { ip: IpAddr },
    /// Ignored by glibc, with the reason.
    Dead { reason: String },
}

/// A nameserver line as glibc sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nameserver {
    /// Index of the line's item.
    pub item: usize,
    /// The value token as written (without a `\r`).
    pub token: String,
    pub server: Server,
    /// Counting only lines that take a slot, its place (0-based); `None` for dead lines.
    pub slot: Option<usize>,
}

impl Nameserver {
    /// True when glibc sends queries to it: a valid address among the first three.
    pub fn used(&self) -> bool {
        matches!(self.server, Server::Valid { .. }) && self.slot.is_some_and(|s| s < MAXNS)
    }

    /// The address and scope, when the line takes a slot.
    pub fn addr(&self) -> Option<(IpAddr, Option<&str>)> {
        match &self.server {
            Server::Valid { ip, scope } => Some((*ip, scope.as_deref())),
            Server::NoScope { ip } => Some((*ip, None)),
            Server::Dead { .. } => None,
        }
    }
}

/// A parsed resolv.conf.
pub type Doc = crate::doc::Doc<Item>;

/// Parses resolv.conf text. Never fails (see the module documentation); the `Result` is
/// the shape every dialect has.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let items = lines(text)
        .into_iter()
        .map(|l| {
            let t = l.text(text);
            let kind = if t.trim().is_empty() {
                Kind::Blank
            } else if t.starts_with(['#', ';']) {
                Kind::Comment
            } else if keyword(t, "nameserver")
                || keyword(t.trim_start_matches([' ', '\t']), "nameserver")
            {
                Kind::Nameserver
            } else if keyword(t, "search") {
                Kind::Search
            } else if keyword(t, "domain") {
                Kind::Domain
            } else if keyword(t, "options") {
                Kind::Options
            } else if keyword(t, "sortlist") {
                Kind::Sortlist
            } else {
                Kind::Other
            };
            Item { span: l.full, kind }
        })
        .collect();
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// glibc's `MATCH`: the keyword, then a space or a tab.
fn keyword(line: &str, kw: &str) -> bool {
    line.strip_prefix(kw)
        .is_some_and(|r| r.starts_with([' ', '\t']))
}

/// Classifies a nameserver value token as glibc would (without the `\r` case).
pub fn classify(token: &str) -> Server {
    if token.is_empty() {
        return Server::Dead {
            reason: "no address".into(),
        };
    }
    if token.starts_with('[') {
        return Server::Dead {
            reason: "brackets are not allowed".into(),
        };
    }
    // glibc tries the whole token as IPv4 first, with inet_aton's forms (`192.0.2.053`
    // is 192.0.2.43, `0xc0.0.2.1` and `3221225985` are 192.0.2.1), then as IPv6.
    if let Some(v4) = inet_aton(token) {
        return Server::Valid {
            ip: IpAddr::V4(v4),
            scope: None,
        };
    }
    let (a, scope) = match token.split_once('%') {
        Some((a, s)) => (a, Some(s)),
        None => (token, None),
    };
    match (parse_ip(a), scope) {
        (Some(ip @ IpAddr::V4(_)), None) => Server::Valid { ip, scope: None },
        (Some(IpAddr::V4(_)), Some(_)) => Server::Dead {
            reason: "an IPv4 address takes no %scope".into(),
        },
        (Some(ip @ IpAddr::V6(_)), Some(s)) if !s.is_empty() => Server::Valid {
            ip,
            scope: Some(s.to_string()),
        },
        (Some(ip @ IpAddr::V6(_)), None) if is_link_local(ip) => Server::NoScope { ip },
        (Some(ip @ IpAddr::V6(_)), None) => Server::Valid { ip, scope: None },
        _ => Server::Dead {
            reason: "not an IP address (and no port may follow it)".into(),
        },
    }
}

/// glibc's `inet_aton` (exact: nothing may follow): one to four parts, each decimal,
/// octal after a `0` or hex after `0x`; every part but the last is one byte, the last
/// fills the remaining bytes.
fn inet_aton(s: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(4);
    for p in &parts {
        let (digits, radix) = match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            Some(h) => (h, 16),
            None if p.len() > 1 && p.starts_with('0') => (&p[1..], 8),
            None => (*p, 10),
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        vals.push(u32::from_str_radix(digits, radix).ok()?);
    }
    let (last, first) = vals.split_last()?;
    if first.iter().any(|&v| v > 0xff) {
        return None;
    }
    let room = 32 - 8 * u32::try_from(first.len()).ok()?;
    if room < 32 && *last >> room != 0 {
        return None;
    }
    let mut addr = *last;
    for (i, v) in first.iter().enumerate() {
        addr |= v << (24 - 8 * i);
    }
    Some(addr.into())
}

impl crate::doc::Spanned for Item {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

impl Doc {
    pub fn source(&self) -> &str {
        &self.src
    }

    /// The line's text without its ending (a CRLF line's `\r` excluded).
    pub fn line(&self, i: usize) -> &str {
        let raw = &self.src[self.items[i].span.clone()];
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        raw.strip_suffix('\r').unwrap_or(raw)
    }

    /// Every nameserver line, in order, as glibc takes it.
    pub fn nameservers(&self) -> Vec<Nameserver> {
        let mut out = Vec::new();
        let mut slot = 0;
        for (i, it) in self.items.iter().enumerate() {
            if it.kind != Kind::Nameserver {
                continue;
            }
            let raw = &self.src[it.span.clone()];
            let raw = raw.strip_suffix('\n').unwrap_or(raw);
            let indented = raw.starts_with([' ', '\t']);
            let body = raw.trim_start_matches([' ', '\t']);
            let value = body["nameserver".len()..].trim_start_matches([' ', '\t']);
            // Token ends at a space, tab or the line end; a `\r` stays in it.
            let end = value.find([' ', '\t']).unwrap_or(value.len());
            let tok = &value[..end];
            let server = if indented {
                Server::Dead {
                    reason: "indented: glibc reads keywords only in column 1".into(),
                }
            } else if tok.ends_with('\r') {
                Server::Dead {
                    reason: "the line ends in CRLF, and glibc keeps the \\r in the address".into(),
                }
            } else {
                classify(tok)
            };
            let takes_slot = !matches!(server, Server::Dead { .. });
            out.push(Nameserver {
                item: i,
                token: tok.trim_end_matches('\r').to_string(),
                server,
                slot: takes_slot.then_some(slot),
            });
            if takes_slot {
                slot += 1;
            }
        }
        out
    }

    /// The words of every `options` line (later lines add to earlier ones).
    pub fn options(&self) -> Vec<(usize, &str)> {
        let mut v = Vec::new();
        for (i, it) in self.items.iter().enumerate() {
            if it.kind == Kind::Options {
                for w in self.line(i)["options".len()..].split([' ', '\t']) {
                    if !w.is_empty() {
                        v.push((i, w));
                    }
                }
            }
        }
        v
    }

    /// The comment lines at the top of the file (where generators write their headers).
    pub fn header(&self) -> Vec<&str> {
        self.items
            .iter()
            .enumerate()
            .take_while(|(_, it)| matches!(it.kind, Kind::Comment | Kind::Blank))
            .filter(|(_, it)| it.kind == Kind::Comment)
            .map(|(i, _)| self.line(i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_servers_are_read_as_inet_aton_reads_them() {
        for (t, want) in [
            ("192.0.2.053", Some("192.0.2.43")),
            ("0xc0.0.2.1", Some("192.0.2.1")),
            ("0300.0.2.1", Some("192.0.2.1")),
            ("3221225985", Some("192.0.2.1")),
            ("192.0.513", Some("192.0.2.1")),
            ("192.11010", Some("192.0.43.2")),
            ("0", Some("0.0.0.0")),
            ("192.0.2.08", None),
            ("192.0.2.256", None),
            ("256.0.2.1", None),
            ("192.0.2.", None),
            ("1.2.3.4.5", None),
            ("0x", None),
            ("+1", None),
            ("192.0.2.1\r", None),
        ] {
            let got = inet_aton(t).map(|a| a.to_string());
            assert_eq!(got.as_deref(), want, "{t:?}");
        }
    }

    #[test]
    fn nameservers_as_glibc_takes_them() {
        let t = "# c\n; c\nnameserver 192.0.2.53 # trailing is ignored\n nameserver 192.0.2.99\nnameserver [2001:db8::53]\nnameserver 2001:db8::54\r\nnameserver fe80::1%eth0\nnameserver fe80::2\nnameserver\t2001:db8::55\n";
        let d = parse(t).unwrap();
        let ns = d.nameservers();
        assert_eq!(ns.len(), 7);
        assert!(ns[0].used());
        assert!(matches!(&ns[1].server, Server::Dead { reason } if reason.contains("indented")));
        assert!(matches!(&ns[2].server, Server::Dead { reason } if reason.contains("brackets")));
        assert!(matches!(&ns[3].server, Server::Dead { reason } if reason.contains("CRLF")));
        assert_eq!(ns[3].token, "2001:db8::54");
        assert_eq!(
            ns[4].addr().map(|(_, s)| s.map(String::from)),
            Some(Some("eth0".into()))
        );
        assert!(ns[4].used());
        assert!(matches!(ns[5].server, Server::NoScope { .. }));
        assert_eq!(ns[5].slot, Some(2));
        assert!(!ns[5].used());
        // The fourth slot: a valid address glibc never asks.
        assert_eq!(ns[6].slot, Some(3));
        assert!(!ns[6].used());
    }

    #[test]
    fn a_blank_before_the_cr_keeps_a_crlf_line_alive() {
        let d = parse("nameserver 192.0.2.1 \r\n").unwrap();
        assert!(d.nameservers()[0].used());
    }

    #[test]
    fn keywords_options_and_header() {
        let d = parse("# Generated by NetworkManager\nsearch example.com\noptions edns0 inet6\noptions rotate\nsortlist 192.0.2.0/255.255.255.0\nnameservers 1\n").unwrap();
        assert_eq!(d.header(), ["# Generated by NetworkManager"]);
        let kinds: Vec<_> = d.items.iter().map(|i| i.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                Kind::Comment,
                Kind::Search,
                Kind::Options,
                Kind::Options,
                Kind::Sortlist,
                Kind::Other
            ]
        );
        let o: Vec<_> = d.options().into_iter().map(|(_, w)| w).collect();
        assert_eq!(o, ["edns0", "inet6", "rotate"]);
    }
}
