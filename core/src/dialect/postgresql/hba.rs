//! `pg_hba.conf`, losslessly, as PostgreSQL 15 reads it (`hba.c`):
//!
//! - one record per line; `#` outside double quotes starts a comment; a record is never
//!   continued on the next line, and PostgreSQL 15 has no include directive here;
//! - fields are separated by blanks; a comma joins tokens into one field even across
//!   blanks (`db1, db2`); double quotes keep blanks, commas and `#` in a token and take
//!   away a keyword's meaning (`"all"`), `""` is a quote inside them;
//! - `local DATABASE USER METHOD [OPTIONS]`, and `host`, `hostssl`, `hostnossl`,
//!   `hostgssenc`, `hostnogssenc` with an `ADDRESS` before the method: `addr/len`, `addr
//!   mask` (two fields), `all`, `samehost`, `samenet` or a host name;
//! - an unknown connection type or method, a missing field, a bad address or mask makes
//!   the server refuse to start (and a reload keep the old rules): refused here too.
//!
//! A [`Doc`] holds one [`Line`] per physical line; the lines tile the text.

use crate::addr::{parse_ip, Prefix};
use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};
use std::net::IpAddr;

/// One token of a field: its text as written and as the server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub span: Span,
    /// The token with its quotes resolved.
    pub value: String,
    pub quoted: bool,
}

impl Token {
    /// True when this is keyword `k` unquoted (quoting takes a keyword's meaning away).
    pub fn keyword(&self, k: &str) -> bool {
        !self.quoted && self.value == k
    }
}

/// A field: one or more comma-joined tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub span: Span,
    pub tokens: Vec<Token>,
}

impl Field {
    /// The field's single token, if it has exactly one.
    pub fn single(&self) -> Option<&Token> {
        match self.tokens.as_slice() {
            [t] => Some(t),
            _ => None,
        }
    }
}

/// Where a `host*` record admits clients from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// `addr/len` or `addr mask`; `span` covers both fields of the mask form.
    Network { prefix: Prefix, span: Span },
    /// `all`, `samehost` or `samenet`: both families already.
    Keyword(String),
    /// A host name (or `.suffix`), looked up at connection time.
    Name(String),
}

/// The connection types.
pub const TYPES: &[&str] = &[
    "local",
    "host",
    "hostssl",
    "hostnossl",
    "hostgssenc",
    "hostnogssenc",
];

/// The authentication methods PostgreSQL 15 knows.
pub const METHODS: &[&str] = &[
    "trust",
    "reject",
    "scram-sha-256",
    "md5",
    "password",
    "gss",
    "sspi",
    "ident",
    "peer",
    "pam",
    "ldap",
    "radius",
    "cert",
];

/// A record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub fields: Vec<Field>,
    /// The connection type (`host`, …), lowercase as the server requires.
    pub kind: String,
    /// `None` for `local`.
    pub address: Option<Address>,
    /// Index of the method field in `fields`.
    pub method: usize,
}

impl Record {
    /// The database field.
    pub fn database(&self) -> &Field {
        &self.fields[1]
    }

    /// The user field.
    pub fn user(&self) -> &Field {
        &self.fields[2]
    }

    /// The method and options, as a list of token values (for comparing two records).
    pub fn method_and_options(&self) -> Vec<&str> {
        self.fields[self.method..]
            .iter()
            .flat_map(|f| f.tokens.iter().map(|t| t.value.as_str()))
            .collect()
    }

    /// The byte span of the fields before the address (type, database, user).
    pub fn head(&self) -> Span {
        self.fields[0].span.start..self.fields[2].span.end
    }
}

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub span: Span,
    pub record: Option<Record>,
}

/// A parsed `pg_hba.conf`.
pub type Doc = crate::doc::Doc<Line>;

impl crate::doc::Spanned for Line {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// Splits a line's content into fields, as `next_field_expand` does.
fn fields(text: &str, content: Span) -> Result<Vec<Field>, ParseError> {
    let b = text.as_bytes();
    let end = content.end;
    let blank = |c: u8| c == b' ' || c == b'\t' || c == b'\r' || c == b'\n';
    let mut i = content.start;
    let mut out: Vec<Field> = Vec::new();
    let mut joined = false;
    loop {
        while i < end && blank(b[i]) {
            i += 1;
        }
        if i >= end || b[i] == b'#' {
            if joined {
                // A trailing comma: the server reads an empty token, which no field takes.
                return Err(ParseError::new(
                    i,
                    ParseError::describe(text, i),
                    "another value after the comma",
                ));
            }
            return Ok(out);
        }
        let start = i;
        let mut value = String::new();
        let mut in_quote = false;
        let mut quoted = false;
        let mut comma = false;
        while i < end && (in_quote || !blank(b[i])) {
            let c = b[i];
            if c == b'#' && !in_quote {
                break;
            }
            if c == b',' && !in_quote {
                comma = true;
                break;
            }
            if c == b'"' {
                if in_quote && b.get(i + 1) == Some(&b'"') {
                    value.push('"');
                    i += 2;
                    continue;
                }
                in_quote = !in_quote;
                quoted = true;
                i += 1;
                continue;
            }
            let ch = text[i..].chars().next().unwrap_or('?');
            value.push(ch);
            i += ch.len_utf8();
        }
        if in_quote {
            return Err(ParseError::new(
                start,
                format!("`{}`", &text[start..end]),
                "a closing `\"` on the same line",
            ));
        }
        let tok = Token {
            span: start..i,
            value,
            quoted,
        };
        if joined {
            let f = out.last_mut().expect("a field before the comma");
            f.span.end = i;
            f.tokens.push(tok);
        } else {
            out.push(Field {
                span: start..i,
                tokens: vec![tok],
            });
        }
        joined = comma;
        if comma {
            i += 1;
            if let Some(f) = out.last_mut() {
                f.span.end = i;
            }
        }
        if i < end && b[i] == b'#' && !comma {
            return Ok(out);
        }
    }
}

/// Prefix length of a contiguous netmask, or `None`.
fn mask_len(mask: IpAddr) -> Option<u8> {
    let (bits, width): (u128, u32) = match mask {
        IpAddr::V4(m) => (u32::from(m) as u128, 32),
        IpAddr::V6(m) => (u128::from(m), 128),
    };
    let ones = if width == 32 {
        (bits as u32).leading_ones()
    } else {
        bits.leading_ones()
    };
    let rebuilt: u128 = if ones == 0 {
        0
    } else if width == 32 {
        (u32::MAX << (32 - ones)) as u128
    } else {
        u128::MAX << (128 - ones)
    };
    (rebuilt == bits).then_some(ones as u8)
}

fn record(text: &str, fs: Vec<Field>) -> Result<Record, ParseError> {
    let need = |at: usize, what: &str| {
        ParseError::new(
            at,
            ParseError::describe(text, at),
            format!("{what} (the server does not start with an incomplete record)"),
        )
    };
    let t0 = fs[0].single().filter(|t| !t.quoted);
    let kind = match t0 {
        Some(t) if TYPES.contains(&t.value.as_str()) => t.value.clone(),
        _ => {
            return Err(ParseError::new(
                fs[0].span.start,
                format!("`{}`", &text[fs[0].span.clone()]),
                format!("a connection type: {}", TYPES.join(", ")),
            ))
        }
    };
    let line_end = fs.last().map_or(0, |f| f.span.end);
    if fs.len() < 3 {
        return Err(need(line_end, "a database and a user field"));
    }
    let (address, method) = if kind == "local" {
        (None, 3)
    } else {
        let Some(af) = fs.get(3) else {
            return Err(need(
                line_end,
                "an address (addr/len, addr mask, all, samehost, samenet or a host name)",
            ));
        };
        let Some(tok) = af.single() else {
            return Err(ParseError::new(
                af.span.start,
                format!("`{}`", &text[af.span.clone()]),
                "one address (the server refuses a list here)",
            ));
        };
        let v = tok.value.as_str();
        let bad_addr = || {
            ParseError::new(
                af.span.start,
                format!("`{v}`"),
                "an address the server reads: addr/len with a length the family allows, or addr followed by a netmask",
            )
        };
        if !tok.quoted && ["all", "samehost", "samenet"].contains(&v) {
            (Some(Address::Keyword(v.to_string())), 4)
        } else if v.contains('/') {
            let p = Prefix::parse(v).map_err(|_| bad_addr())?;
            (
                Some(Address::Network {
                    prefix: p,
                    span: af.span.clone(),
                }),
                4,
            )
        } else if let Some(ip) = parse_ip(v) {
            let Some(mf) = fs.get(4) else {
                return Err(need(line_end, "a netmask after the address"));
            };
            let m = mf.single().and_then(|t| parse_ip(&t.value));
            let len = match m {
                Some(m) if m.is_ipv4() == ip.is_ipv4() => mask_len(m),
                _ => None,
            };
            let Some(len) = len else {
                return Err(ParseError::new(
                    mf.span.start,
                    format!("`{}`", &text[mf.span.clone()]),
                    "a netmask of the address's family with its one bits first (255.255.255.0)",
                ));
            };
            let p = Prefix::new(ip, len).ok_or_else(bad_addr)?;
            (
                Some(Address::Network {
                    prefix: p,
                    span: af.span.start..mf.span.end,
                }),
                5,
            )
        } else {
            (Some(Address::Name(v.to_string())), 4)
        }
    };
    let Some(mf) = fs.get(method) else {
        return Err(need(line_end, "an authentication method"));
    };
    if !mf
        .single()
        .is_some_and(|t| METHODS.contains(&t.value.as_str()))
    {
        return Err(ParseError::new(
            mf.span.start,
            format!("`{}`", &text[mf.span.clone()]),
            format!("an authentication method: {}", METHODS.join(", ")),
        ));
    }
    for f in &fs[method + 1..] {
        if f.tokens.iter().any(|t| !t.value.contains('=')) {
            return Err(ParseError::new(
                f.span.start,
                format!("`{}`", &text[f.span.clone()]),
                "an option as name=value after the method",
            ));
        }
    }
    Ok(Record {
        fields: fs,
        kind,
        address,
        method,
    })
}

/// Parses one `pg_hba.conf`.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut items = Vec::new();
    for l in lines(text) {
        let fs = fields(text, l.content.clone())?;
        let record = if fs.is_empty() {
            None
        } else {
            if fs[0]
                .single()
                .is_some_and(|t| t.value.starts_with("include"))
            {
                return Err(ParseError::new(
                    fs[0].span.start,
                    format!("`{}`", &text[fs[0].span.clone()]),
                    "a record: PostgreSQL 15 reads no include directive in pg_hba.conf",
                ));
            }
            Some(record(text, fs)?)
        };
        items.push(Line {
            span: l.full,
            record,
        });
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

impl Doc {
    pub fn lines(&self) -> &[Line] {
        &self.items
    }

    /// The records with their line indices.
    pub fn records(&self) -> impl Iterator<Item = (usize, &Record)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.record.as_ref().map(|r| (i, r)))
    }

    /// Line `i`'s record with its address field(s) replaced by `address`, the line's
    /// spacing kept: the gap after the address shrinks or grows so the next column
    /// starts where it did when it can (at least one blank stays). Without line ending.
    pub fn with_address(&self, i: usize, address: &str) -> String {
        let l = &self.items[i];
        let r = l.record.as_ref().expect("a record");
        let Some(Address::Network { span, .. }) = &r.address else {
            panic!("a record with a network address");
        };
        let line = &self.src[l.span.clone()];
        let body = line.trim_end_matches(['\n', '\r']);
        let s = span.start - l.span.start;
        let e = span.end - l.span.start;
        let after = &body[e..];
        let gap = after.len() - after.trim_start_matches([' ', '\t']).len();
        let gap_text = &after[..gap];
        let rest = &after[gap..];
        let old = e - s;
        let spacing = if rest.is_empty() {
            String::new()
        } else if gap_text.contains('\t') || gap == 1 {
            gap_text.to_string()
        } else if old + gap <= address.len() {
            " ".to_string()
        } else {
            " ".repeat(old + gap - address.len())
        };
        format!("{}{address}{spacing}{rest}", &body[..s])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_fields_and_addresses() {
        let t = "# TYPE DATABASE USER ADDRESS METHOD\nlocal all postgres peer\n\
                 host \"my db\",b  app, \"all\" 192.0.2.0/24 scram-sha-256 # site\r\n\
                 hostssl all all 198.51.100.0 255.255.255.0 md5 clientcert=verify-ca\n\
                 host all all samenet trust\nhost all all .example.net md5";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        assert!(d.tiles());
        let r: Vec<&Record> = d.records().map(|(_, r)| r).collect();
        assert_eq!(r.len(), 5);
        assert_eq!(r[1].database().tokens[0].value, "my db");
        assert_eq!(r[1].user().tokens.len(), 2);
        assert!(!r[1].user().tokens[1].keyword("all"));
        let Some(Address::Network { prefix, span }) = &r[2].address else {
            panic!()
        };
        assert_eq!(prefix.to_string(), "198.51.100.0/24");
        assert_eq!(&t[span.clone()], "198.51.100.0 255.255.255.0");
        assert_eq!(
            r[2].method_and_options(),
            vec!["md5", "clientcert=verify-ca"]
        );
        assert_eq!(r[3].address, Some(Address::Keyword("samenet".into())));
        assert_eq!(r[4].address, Some(Address::Name(".example.net".into())));
    }

    #[test]
    fn what_the_server_refuses_is_refused_at_its_place() {
        for (t, at) in [
            ("hots all all 192.0.2.0/24 md5\n", 0),
            ("host all all 192.0.2.0/24\n", 25),
            ("host all all 192.0.2.0/33 md5\n", 13),
            ("host all all 192.0.2.0 255.0.255.0 md5\n", 23),
            ("host all all 192.0.2.0/24 md6\n", 26),
            ("host all all 192.0.2.0/24 md5 x\n", 30),
            ("host \"all all 192.0.2.0/24 md5\n", 5),
            ("include other.conf\n", 0),
            ("host all, all 192.0.2.0/24 md5\n", 30),
        ] {
            assert_eq!(parse(t).unwrap_err().offset, at, "{t}");
        }
    }

    #[test]
    fn a_new_address_keeps_the_columns() {
        let t = "host    all             all             192.0.2.0/24            scram-sha-256\n";
        let d = parse(t).unwrap();
        assert_eq!(
            d.with_address(0, "2001:db8::/64"),
            "host    all             all             2001:db8::/64           scram-sha-256"
        );
        let d = parse("host all all 192.0.2.0 255.255.255.0 md5").unwrap();
        assert_eq!(
            d.with_address(0, "2001:db8::/64"),
            "host all all 2001:db8::/64 md5"
        );
    }
}
