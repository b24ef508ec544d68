//! OpenSSH `sshd_config` files, losslessly.
//!
//! The rules are sshd's own (verified against `sshd -t`/`-T` of OpenSSH 9.2 on Debian 12):
//! - one `Keyword arguments` per line; the keyword is case-insensitive and may be
//!   followed by `=` (`Port=22`, `Port = 22`);
//! - blank lines and lines whose first non-blank character is `#` are comments; a word
//!   starting with `#` after the arguments starts a trailing comment;
//! - arguments may be double-quoted; no line continuation;
//! - a `Match` line starts a block that runs to the next `Match` or the end of the file.
//!
//! A [`Doc`] is a list of [`Item`]s, one per physical line, that tile the text exactly.

use crate::edit::Edits;
use crate::error::ParseError;
use crate::lex::words;
use crate::text::Text;
use crate::text::{lines, Span};

/// What one line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Blank,
    Comment,
    Directive,
}

/// An argument of a directive and its place in the text.
pub use crate::lex::Token as Arg;

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: Kind,
    /// The whole line with its line ending.
    pub span: Span,
    /// The keyword as written; empty for blanks and comments.
    pub keyword: String,
    /// The arguments, without a trailing comment.
    pub args: Vec<Arg>,
    /// The index of the `Match` line whose block holds this line.
    pub in_match: Option<usize>,
}

impl Item {
    /// True when this is a directive with keyword `k` (case-insensitive).
    pub fn is(&self, k: &str) -> bool {
        self.kind == Kind::Directive && self.keyword.eq_ignore_ascii_case(k)
    }
}

/// A parsed sshd_config file.
pub type Doc = crate::doc::Doc<Item>;

/// Parses one sshd_config file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut items = Vec::new();
    let mut in_match = None;
    for l in lines(text) {
        let line = l.text(text);
        let lead = line.trim_start_matches([' ', '\t', '\r']);
        let start = l.content.start + (line.len() - lead.len());
        let kind = if lead.trim().is_empty() {
            Kind::Blank
        } else if lead.starts_with('#') {
            Kind::Comment
        } else {
            Kind::Directive
        };
        if kind != Kind::Directive {
            items.push(Item {
                kind,
                span: l.full.clone(),
                keyword: String::new(),
                args: Vec::new(),
                in_match,
            });
            continue;
        }
        let klen = lead.find([' ', '\t', '=']).unwrap_or(lead.len());
        let keyword = &lead[..klen];
        if keyword.is_empty() || !keyword.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ParseError::new(
                start,
                ParseError::describe(text, start),
                "a keyword (letters and digits) such as `ListenAddress`",
            ));
        }
        // Skip blanks, one optional `=`, blanks.
        let mut rest_start = start + klen;
        let after = &text[rest_start..l.content.end];
        let t = after.trim_start_matches([' ', '\t']);
        let t2 = t.strip_prefix('=').unwrap_or(t);
        let t3 = t2.trim_start_matches([' ', '\t']);
        rest_start += after.len() - t3.len();
        let mut args = Vec::new();
        for w in words(&text[rest_start..l.content.end], rest_start) {
            if w.text.starts_with('#') {
                break;
            }
            let quotes = w.text.matches('"').count() - w.text.matches("\\\"").count();
            if quotes % 2 == 1 {
                return Err(ParseError::new(
                    w.span.start,
                    format!("`{}`", w.text),
                    "a closing `\"` (sshd rejects an unterminated quote)",
                ));
            }
            args.push(Arg {
                text: w.text.to_string(),
                span: w.span,
            });
        }
        if rest_start == l.content.end || text[rest_start..l.content.end].trim().is_empty() {
            return Err(ParseError::new(
                start,
                format!("`{keyword}` without an argument"),
                "an argument after the keyword (sshd rejects a keyword without one)",
            ));
        }
        check_values(keyword, &args, start)?;
        if keyword.eq_ignore_ascii_case("match") {
            in_match = Some(items.len());
        }
        items.push(Item {
            kind,
            span: l.full.clone(),
            keyword: keyword.to_string(),
            args,
            in_match: if keyword.eq_ignore_ascii_case("match") {
                None
            } else {
                in_match
            },
        });
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// sshd's own checks of the values of the keywords v6fix reads and edits (`Port`,
/// `AddressFamily`, `ListenAddress`): the argument count, port numbers and the
/// `[address]:port` form. Host names are not resolved, and a `rdomain` name is taken
/// as written.
fn check_values(keyword: &str, args: &[Arg], start: usize) -> Result<(), ParseError> {
    let k = keyword.to_ascii_lowercase();
    if !matches!(k.as_str(), "port" | "addressfamily" | "listenaddress") {
        return Ok(());
    }
    let Some(first) = args.first() else {
        return Err(ParseError::new(
            start,
            format!("`{keyword}` without a value"),
            "a value (sshd rejects a missing one)",
        ));
    };
    let bad = |a: &Arg, expected: &str| {
        Err(ParseError::new(
            a.span.start,
            format!("`{}`", a.text),
            format!("{expected} (sshd -t rejects this {keyword})"),
        ))
    };
    match k.as_str() {
        "port" | "addressfamily" if args.len() > 1 => bad(&args[1], "the end of the line"),
        "port" if !port_ok(first.unquoted()) => bad(first, "a port number from 1 to 65535"),
        "addressfamily"
            if !["any", "inet", "inet6"]
                .iter()
                .any(|v| first.unquoted().eq_ignore_ascii_case(v)) =>
        {
            bad(first, "`any`, `inet` or `inet6`")
        }
        "listenaddress" if args.len() == 2 || args.len() > 3 => {
            bad(&args[1], "the end of the line or `rdomain NAME`")
        }
        "listenaddress" if args.len() == 3 && args[1].text != "rdomain" => {
            bad(&args[1], "`rdomain NAME`")
        }
        "listenaddress" if !listen_ok(first.unquoted()) => {
            bad(first, "an address, `address:port` or `[address]:port`")
        }
        _ => Ok(()),
    }
}

/// A port as sshd takes it: a number from 1 to 65535, or a service name (looked up by
/// sshd, not here).
fn port_ok(p: &str) -> bool {
    if p.bytes().all(|b| b.is_ascii_digit()) {
        p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
    } else {
        !p.is_empty()
    }
}

/// A `ListenAddress` value as sshd splits it: `[host]`, `[host]:port`, `host:port` (one
/// colon) or a bare host (no colon, or an IPv6 literal with several).
fn listen_ok(v: &str) -> bool {
    if let Some(rest) = v.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return false;
        };
        return !host.is_empty()
            && (after.is_empty() || after.strip_prefix(':').is_some_and(port_ok));
    }
    match v.split_once(':') {
        _ if v.is_empty() => false,
        Some((host, port)) if !port.contains(':') => !host.is_empty() && port_ok(port),
        _ => true,
    }
}

impl Doc {
    pub fn text(&self) -> &str {
        &self.src
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The directives with keyword `k` (case-insensitive), with their indices.
    pub fn directives<'a>(&'a self, k: &'a str) -> impl Iterator<Item = (usize, &'a Item)> {
        self.items
            .iter()
            .enumerate()
            .filter(move |(_, it)| it.is(k))
    }

    /// A copy of line `i` with argument `k` replaced by `with`, everything else (indent,
    /// keyword spelling, `=`, other arguments) as written; a trailing comment is dropped.
    pub fn line_with_arg(&self, i: usize, k: usize, with: &str) -> String {
        let it = &self.items[i];
        let a = &it.args[k];
        let end = it.args.last().map_or(a.span.end, |l| l.span.end);
        format!(
            "{}{}{}",
            &self.src[it.span.start..a.span.start],
            with,
            &self.src[a.span.end..end]
        )
    }

    /// Replaces argument `k` of line `i` with `with`.
    pub fn replace_arg(&self, edits: &mut Edits, i: usize, k: usize, with: &str) {
        edits.replace(self.items[i].args[k].span.clone(), with);
    }

    /// Inserts `line` (no line ending) as a new line after line `i`.
    pub fn insert_after(&self, edits: &mut Edits, i: usize, line: &str) {
        edits.insert_line_after(&self.src, self.items[i].span.start, line);
    }
}

impl crate::doc::Spanned for Item {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_of_every_fixture_parses_or_fails_cleanly() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sshd");
        for e in std::fs::read_dir(&dir).unwrap() {
            let text = crate::text::decode(std::fs::read(e.unwrap().path()).unwrap()).unwrap();
            for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let t = &text[..cut];
                if let Ok(d) = parse(t) {
                    assert_eq!(d.to_string(), t);
                }
            }
        }
        for t in ["=", "\"\n", "a \"", "\r\n\r", "Port=", "Port ="] {
            if let Ok(d) = parse(t) {
                assert_eq!(d.to_string(), t);
            }
        }
    }

    #[test]
    fn keywords_equals_quotes_trailing_comments_and_match_blocks() {
        let t = "listenaddress=0.0.0.0\nPort = 2222\n  ListenAddress \"[::]:22\" # all v6\nMatch User backup\n\tAddressFamily inet\nMatch all\n";
        let d = parse(t).unwrap();
        let la: Vec<_> = d.directives("ListenAddress").collect();
        assert_eq!(la.len(), 2);
        assert_eq!(la[0].1.args[0].text, "0.0.0.0");
        assert_eq!(la[1].1.args.len(), 1, "the trailing comment is no argument");
        assert_eq!(la[1].1.args[0].unquoted(), "[::]:22");
        let (pi, p) = d.directives("port").next().unwrap();
        assert_eq!(p.args[0].text, "2222");
        assert_eq!(d.items()[pi].in_match, None);
        let (_, af) = d.directives("addressfamily").next().unwrap();
        assert_eq!(af.in_match, Some(3));
        assert_eq!(
            d.items()[5].in_match,
            None,
            "a Match line is not inside a block"
        );
    }

    #[test]
    fn twins_copy_the_spelling_and_inserted_lines_the_newline() {
        let t = "  listenaddress=192.0.2.10:2222 rdomain blue\r\nPort 22";
        let d = parse(t).unwrap();
        let line = d.line_with_arg(0, 0, "[2001:db8::10]:2222");
        assert_eq!(line, "  listenaddress=[2001:db8::10]:2222 rdomain blue");
        let mut e = Edits::new();
        d.insert_after(&mut e, 0, &line);
        d.insert_after(&mut e, 1, "ListenAddress ::");
        assert_eq!(
            e.apply(t),
            "  listenaddress=192.0.2.10:2222 rdomain blue\r\n  listenaddress=[2001:db8::10]:2222 rdomain blue\r\nPort 22\r\nListenAddress ::"
        );
    }

    #[test]
    fn bad_lines_are_positioned_errors() {
        let e = parse("Port 22\nListenAddress: 0.0.0.0\n").unwrap_err();
        assert_eq!(e.offset, 8);
        let e = parse("Port 22\n  ListenAddress \"[::]:22\n").unwrap_err();
        assert_eq!(e.offset, 24);
        assert!(e.expected.contains("quote"));
        let e = parse("= 22\n").unwrap_err();
        assert_eq!(e.offset, 0);
    }

    #[test]
    fn what_sshd_rejects_in_the_lines_v6fix_reads_is_an_error_there() {
        for (t, at) in [
            ("Port 22\nListenAddress\n", 8),
            ("Port =\n", 0),
            ("Include\n", 0),
            ("Port 22 23\n", 8),
            ("Port 65536\n", 5),
            ("Port 0\n", 5),
            ("AddressFamily inet7\n", 14),
            ("AddressFamily any x\n", 18),
            ("AddressFamily # c\n", 0),
            ("ListenAddress 192.0.2.1 x\n", 24),
            ("ListenAddress 192.0.2.1 rdomain\n", 24),
            ("ListenAddress 192.0.2.1 domain x\n", 24),
            ("ListenAddress 192.0.2.1:70000\n", 14),
            ("ListenAddress 192.0.2.1:\n", 14),
            ("ListenAddress [2001:db8::1\n", 14),
            ("ListenAddress [2001:db8::1]x\n", 14),
            ("ListenAddress \"\"\n", 14),
        ] {
            let e = parse(t).unwrap_err();
            assert_eq!(e.offset, at, "{t:?}: {e:?}");
        }
        for t in [
            "Port ssh\n",
            "Port 22 # c\n",
            "AcceptEnv LANG\n",
            "AddressFamily INET6\n",
            "ListenAddress [2001:db8::1]\n",
            "ListenAddress [2001:db8::1]:22 rdomain blue\n",
            "ListenAddress 2001:db8::1\n",
            "ListenAddress host.example:2222\n",
        ] {
            assert!(parse(t).is_ok(), "{t:?}");
        }
    }
}
