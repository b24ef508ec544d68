//! Varnish VCL files, losslessly.
//!
//! A file is a sequence of top-level items: blanks, comments (`//` and `#` to the end of
//! the line, `/* … */`) and statements. A statement runs to its `;` (`vcl 4.1;`,
//! `include "x.vcl";`, `import std;`) or to the `}` closing its block (`backend`, `acl`,
//! `sub`, `probe`). Strings are `"…"`, `{"…"}` and `"""…"""`; braces and comment markers
//! inside them mean nothing. `acl` blocks are read entry by entry (`"192.0.2.0"/24;`,
//! `! "host";`, `("name");`) so entries can be added beside existing ones.

use crate::edit::Edits;
use crate::error::ParseError;
use crate::text::Text;
use crate::text::{indent_of, line_end_full, line_start, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// A string literal, quotes included.
    Str,
    /// A run of letters, digits, `_`, `.`, `-`.
    Word,
    /// Any other single character.
    Punct,
}

/// One lexeme of VCL (a word, string, number or punctuation mark) and its span: what the
/// VCL lexer yields, not a word of a line like [`crate::lex::Token`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexeme {
    pub kind: TokKind,
    pub span: Span,
}

/// One acl entry: `[!] ["(]"address"[)] [/len];`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry {
    /// From the entry's first token to its `;` included.
    pub span: Span,
    pub negated: bool,
    /// A name in parentheses: looked up, ignored when it does not resolve.
    pub optional: bool,
    /// The string's contents (without quotes).
    pub addr: String,
    /// The `/len` after the string, if any.
    pub mask: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    pub span: Span,
    pub tokens: Vec<Lexeme>,
    /// Offsets of the block's `{` and `}`, for a block statement.
    pub block: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    Blank,
    Comment,
    Stmt(Stmt),
}

pub type Item = crate::doc::Item<ItemKind>;

pub type Doc = crate::doc::Doc<Item>;

/// An `acl NAME { … }` declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub name: String,
    pub span: Span,
    pub entries: Vec<AclEntry>,
    /// `include "file";` statements in the body (VCL expands includes anywhere, so the
    /// file's entries are the acl's entries there): the name and the statement's span.
    pub includes: Vec<(String, Span)>,
    /// Offset of the closing `}`.
    pub close: usize,
}

/// An acl body read: its entries, and its `include` statements (file name, span).
type AclBody = (Vec<AclEntry>, Vec<(String, Span)>);

impl Doc {
    fn text(&self, t: &Lexeme) -> &str {
        &self.src[t.span.clone()]
    }

    fn stmts(&self) -> impl Iterator<Item = &Stmt> {
        self.items.iter().filter_map(|i| match &i.kind {
            ItemKind::Stmt(s) => Some(s),
            _ => None,
        })
    }

    /// The files named by `include "…";` statements, with their statements' spans, in the
    /// order of the text: top-level ones and those inside `acl` bodies (whose files hold
    /// acl entries). An acl that does not read yields none of its includes.
    pub fn includes(&self) -> Vec<(String, Span)> {
        let mut out = Vec::new();
        for s in self.stmts() {
            if s.tokens.len() >= 2
                && self.text(&s.tokens[0]) == "include"
                && s.tokens[1].kind == TokKind::Str
            {
                out.push((unquote(self.text(&s.tokens[1])).to_string(), s.span.clone()));
            } else if let Some(Ok(acl)) = self.acl_of(s) {
                out.extend(acl.includes);
            }
        }
        out
    }

    /// The whole file read as the body of an acl: the entries of a file included inside
    /// `acl NAME { … }`.
    pub fn acl_fragment(&self) -> Result<Vec<AclEntry>, ParseError> {
        let body: Vec<&Lexeme> = self.stmts().flat_map(|s| s.tokens.iter()).collect();
        // The including acl's flags are not known here: host bits are not checked.
        let (entries, includes) = self.acl_body(&body, self.src.len(), false)?;
        if let Some((_, span)) = includes.first() {
            return Err(ParseError::new(
                span.start,
                ParseError::describe(&self.src, span.start),
                "an acl entry (v6fix does not follow an include inside a file included in an acl)",
            ));
        }
        Ok(entries)
    }

    /// The acl a statement declares, read; `None` for any other statement.
    fn acl_of(&self, s: &Stmt) -> Option<Result<Acl, ParseError>> {
        if s.tokens.len() < 3 || self.text(&s.tokens[0]) != "acl" {
            return None;
        }
        let (_, close) = s.block?;
        let at = &s.tokens[1];
        if at.kind != TokKind::Word {
            return Some(Err(ParseError::new(
                at.span.start,
                ParseError::describe(&self.src, at.span.start),
                "the acl's name after `acl` (varnishd requires one)",
            )));
        }
        let name = self.text(at).to_string();
        let open_idx = s
            .tokens
            .iter()
            .position(|t| t.kind == TokKind::Punct && self.text(t) == "{")
            .unwrap_or(s.tokens.len());
        // `acl NAME -pedantic {`: host bits under the mask allowed (an error by default).
        let flags: String = s.tokens[2..open_idx].iter().map(|t| self.text(t)).collect();
        let pedantic = !flags.contains("-pedantic");
        let body: Vec<&Lexeme> = s.tokens[open_idx + 1..s.tokens.len() - 1].iter().collect();
        Some(
            self.acl_body(&body, close, pedantic)
                .map(|(entries, includes)| Acl {
                    name,
                    span: s.span.clone(),
                    entries,
                    includes,
                    close,
                }),
        )
    }

    /// Every `acl` declaration with its entries.
    pub fn acls(&self) -> Result<Vec<Acl>, ParseError> {
        self.stmts().filter_map(|s| self.acl_of(s)).collect()
    }

    /// The entries and `include` statements of an acl body (`close`: where it ends). As
    /// varnishd, a mask wider than the address is an error, and so, when `pedantic`, are
    /// address bits under the mask.
    fn acl_body(
        &self,
        body: &[&Lexeme],
        close: usize,
        pedantic: bool,
    ) -> Result<AclBody, ParseError> {
        let mut entries = Vec::new();
        let mut includes = Vec::new();
        let mut i = 0;
        while i < body.len() {
            let start = body[i].span.start;
            if self.text(body[i]) == "include" {
                match (body.get(i + 1), body.get(i + 2)) {
                    (Some(f), Some(semi)) if f.kind == TokKind::Str && self.text(semi) == ";" => {
                        includes.push((unquote(self.text(f)).to_string(), start..semi.span.end));
                        i += 3;
                        continue;
                    }
                    _ => {
                        let t = body.get(i + 1).copied().unwrap_or(body[i]);
                        return Err(ParseError::new(
                            t.span.start,
                            ParseError::describe(&self.src, t.span.start),
                            "a quoted file name and `;` after include",
                        ));
                    }
                }
            }
            let mut e = AclEntry {
                span: start..start,
                negated: false,
                optional: false,
                addr: String::new(),
                mask: None,
            };
            let bad = |t: &Lexeme, what: &str| {
                ParseError::new(
                    t.span.start,
                    ParseError::describe(&self.src, t.span.start),
                    what,
                )
            };
            if self.text(body[i]) == "!" {
                e.negated = true;
                i += 1;
            }
            if i < body.len() && self.text(body[i]) == "(" {
                e.optional = true;
                i += 1;
            }
            let Some(t) = body.get(i).filter(|t| t.kind == TokKind::Str) else {
                return Err(bad(
                    body.get(i).copied().unwrap_or(body[body.len() - 1]),
                    "a quoted address in the acl",
                ));
            };
            e.addr = unquote(self.text(t)).to_string();
            i += 1;
            if e.optional {
                match body.get(i) {
                    Some(t) if self.text(t) == ")" => i += 1,
                    Some(t) => return Err(bad(t, "`)`")),
                    None => return Err(bad(body[i - 1], "`)`")),
                }
            }
            if i < body.len() && self.text(body[i]) == "/" {
                let Some(n) = body
                    .get(i + 1)
                    .and_then(|t| self.text(t).parse::<u8>().ok())
                else {
                    return Err(bad(body[i], "a prefix length after `/`"));
                };
                let addr = e.addr.parse::<std::net::IpAddr>().ok();
                let width = match addr {
                    Some(std::net::IpAddr::V4(_)) => 32,
                    Some(std::net::IpAddr::V6(_)) => 128,
                    None => u8::MAX,
                };
                if n > width {
                    return Err(bad(
                        body[i + 1],
                        &format!("a mask of at most /{width} (varnishd rejects a wider one)"),
                    ));
                }
                if pedantic && addr.is_some_and(|a| host_bits(a, n)) {
                    return Err(bad(
                        t,
                        "no address bits under the mask (varnishd rejects them unless the \
                         acl says `-pedantic`)",
                    ));
                }
                e.mask = Some(n);
                i += 2;
            }
            match body.get(i) {
                Some(t) if self.text(t) == ";" => {
                    e.span = start..t.span.end;
                    i += 1;
                }
                Some(t) => return Err(bad(t, "`;` ending the acl entry")),
                None => {
                    return Err(ParseError::new(
                        close,
                        ParseError::describe(&self.src, close),
                        "`;` ending the acl entry",
                    ))
                }
            }
            entries.push(e);
        }
        Ok((entries, includes))
    }

    /// The `.host = "…"` values of top-level backends, with their offsets.
    pub fn backend_hosts(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for s in self.stmts() {
            if s.tokens.first().map(|t| self.text(t)) != Some("backend") {
                continue;
            }
            for w in s.tokens.windows(3) {
                if self.text(&w[0]) == ".host"
                    && self.text(&w[1]) == "="
                    && w[2].kind == TokKind::Str
                {
                    out.push((w[2].span.start, unquote(self.text(&w[2])).to_string()));
                }
            }
        }
        out
    }

    /// True when acl `name` is used somewhere (`~ name`): an unused acl does not compile.
    pub fn acl_used(&self, name: &str) -> bool {
        self.stmts().any(|s| {
            s.tokens
                .windows(2)
                .any(|w| self.text(&w[0]) == "~" && self.text(&w[1]) == name)
        })
    }

    /// Adds an edit inserting `text` after the acl entry spanning `after`: on its own
    /// line with the same indentation when the entry ends its line, else on the same line.
    pub fn insert_after(&self, edits: &mut Edits, after: &Span, text: &str) {
        let src = &self.src;
        let end = after.end;
        let rest = src[end..line_end_full(src, end)].trim_end_matches(['\n', '\r']);
        let rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() || rest.starts_with("//") || rest.starts_with('#') {
            let ls = line_start(src, after.start);
            let before = &src[ls..after.start];
            let indent = if before.trim().is_empty() {
                before.to_string()
            } else {
                indent_of(&src[ls..]).to_string()
            };
            edits.continue_line_after(src, end, &format!("{indent}{text}"));
        } else {
            edits.insert(end, format!(" {text}"));
        }
    }
}

/// True when `a` has bits set past the first `len`.
fn host_bits(a: std::net::IpAddr, len: u8) -> bool {
    let (bits, width) = match a {
        std::net::IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
        std::net::IpAddr::V6(v) => (u128::from(v), 128),
    };
    let host = u32::from(width - len.min(width));
    let mask = if host >= 128 {
        u128::MAX
    } else {
        (1u128 << host) - 1
    };
    bits & mask != 0
}

fn unquote(s: &str) -> &str {
    if let Some(x) = s
        .strip_prefix("\"\"\"")
        .and_then(|x| x.strip_suffix("\"\"\""))
    {
        x
    } else if let Some(x) = s.strip_prefix("{\"").and_then(|x| x.strip_suffix("\"}")) {
        x
    } else {
        s.strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(s)
    }
}

/// Parses a VCL file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let b = text.as_bytes();
    let mut i = 0;
    let mut items = Vec::new();
    let err = |at: usize, what: &str| ParseError::new(at, ParseError::describe(text, at), what);
    // Skips one comment at `i`, returning its end; None when there is none.
    let comment = |i: usize| -> Result<Option<usize>, ParseError> {
        if b[i] == b'#' || text[i..].starts_with("//") {
            Ok(Some(
                text[i..].find(['\n', '\r']).map_or(text.len(), |n| i + n),
            ))
        } else if text[i..].starts_with("/*") {
            match text[i + 2..].find("*/") {
                Some(n) => Ok(Some(i + 2 + n + 2)),
                None => Err(err(i, "`*/` closing the comment")),
            }
        } else {
            Ok(None)
        }
    };
    let string = |i: usize| -> Result<Option<usize>, ParseError> {
        if text[i..].starts_with("\"\"\"") {
            match text[i + 3..].find("\"\"\"") {
                Some(n) => Ok(Some(i + 3 + n + 3)),
                None => Err(err(i, "`\"\"\"` closing the string")),
            }
        } else if text[i..].starts_with("{\"") {
            match text[i + 2..].find("\"}") {
                Some(n) => Ok(Some(i + 2 + n + 2)),
                None => Err(err(i, "`\"}` closing the long string")),
            }
        } else if b[i] == b'"' {
            match text[i + 1..].find(['"', '\n']) {
                Some(n) if b[i + 1 + n] == b'"' => Ok(Some(i + 1 + n + 1)),
                _ => Err(err(i, "`\"` closing the string on the same line")),
            }
        } else {
            Ok(None)
        }
    };
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_whitespace() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            items.push(Item {
                span: start..i,
                kind: ItemKind::Blank,
            });
            continue;
        }
        if let Some(end) = comment(i)? {
            i = end;
            items.push(Item {
                span: start..i,
                kind: ItemKind::Comment,
            });
            continue;
        }
        // A statement.
        let mut tokens = Vec::new();
        let mut depth = 0usize;
        let mut open = None;
        let end = loop {
            if i >= b.len() {
                let what = if depth > 0 {
                    "`}` closing the block"
                } else {
                    "`;` ending the statement"
                };
                return Err(err(i, what));
            }
            if b[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if let Some(e) = comment(i)? {
                i = e;
                continue;
            }
            if let Some(e) = string(i)? {
                tokens.push(Lexeme {
                    kind: TokKind::Str,
                    span: i..e,
                });
                i = e;
                continue;
            }
            let c = b[i];
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-' {
                let s = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'.'
                        || b[i] == b'-')
                {
                    i += 1;
                }
                tokens.push(Lexeme {
                    kind: TokKind::Word,
                    span: s..i,
                });
                continue;
            }
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            tokens.push(Lexeme {
                kind: TokKind::Punct,
                span: i..i + len,
            });
            i += len;
            match c {
                b'{' => {
                    if depth == 0 {
                        open = Some(i - 1);
                    }
                    depth += 1;
                }
                b'}' => {
                    if depth == 0 {
                        return Err(err(i - 1, "a declaration (this `}` closes no block)"));
                    }
                    depth -= 1;
                    if depth == 0 {
                        break i;
                    }
                }
                b';' if depth == 0 => break i,
                _ => {}
            }
        };
        if tokens.len() == 1 {
            return Err(err(start, "a declaration"));
        }
        items.push(Item {
            span: start..end,
            kind: ItemKind::Stmt(Stmt {
                span: start..end,
                tokens,
                block: open.map(|o| (o, end - 1)),
            }),
        });
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_include_inside_an_acl_is_read_as_its_entries_place() {
        let d = parse(
            "acl a {\n    include \"office.vcl\";\n    \"198.51.100.7\";\n}\ninclude \"b.vcl\";\n",
        )
        .unwrap();
        let acl = &d.acls().unwrap()[0];
        assert_eq!(acl.entries.len(), 1);
        assert_eq!(acl.includes.len(), 1);
        assert_eq!(acl.includes[0].0, "office.vcl");
        assert_eq!(&d.src[acl.includes[0].1.clone()], "include \"office.vcl\";");
        let names: Vec<String> = d.includes().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["office.vcl", "b.vcl"], "in the order of the text");
        let bad = parse("acl a { include office; }\n").unwrap();
        assert_eq!(bad.acls().unwrap_err().offset, 16);
        let frag =
            parse("// office\n\"127.0.0.1\";\n! \"192.0.2.66\";\n\"192.0.2.0\"/24;\n").unwrap();
        let e = frag.acl_fragment().unwrap();
        assert_eq!(e.len(), 3);
        assert!(e[1].negated);
        assert_eq!(e[2].mask, Some(24));
        assert!(parse("include \"x.vcl\";\n")
            .unwrap()
            .acl_fragment()
            .is_err());
    }

    const T: &str = "vcl 4.1; # version\ninclude \"backends.vcl\";\n/* acl { } */\nacl purgers {\n    \"127.0.0.1\"; // local\n    \"192.0.2.0\"/24;\n    ! \"192.0.2.66\";\n    (\"office.example.net\");\n}\nsub vcl_recv {\n    if (client.ip ~ purgers) { return (synth(200, {\"a } b\"})); }\n}\n";

    #[test]
    fn statements_acls_and_includes() {
        let d = parse(T).unwrap();
        assert_eq!(d.includes()[0].0, "backends.vcl");
        let acls = d.acls().unwrap();
        assert_eq!(acls.len(), 1);
        let a = &acls[0];
        assert_eq!(a.name, "purgers");
        let e: Vec<_> = a
            .entries
            .iter()
            .map(|e| (e.negated, e.optional, e.addr.as_str(), e.mask))
            .collect();
        assert_eq!(
            e,
            [
                (false, false, "127.0.0.1", None),
                (false, false, "192.0.2.0", Some(24)),
                (true, false, "192.0.2.66", None),
                (false, true, "office.example.net", None)
            ]
        );
        assert!(d.acl_used("purgers"));
        let b = parse("backend a {\n .host = \"::1:8080\"; .port = \"80\";\n}\n").unwrap();
        assert_eq!(b.backend_hosts(), [(21, "::1:8080".to_string())]);
        assert!(!d.acl_used("other"));
    }

    #[test]
    fn inserted_entries_follow_the_indentation() {
        let d = parse(T).unwrap();
        let a = &d.acls().unwrap()[0];
        let mut ed = Edits::new();
        d.insert_after(&mut ed, &a.entries[0].span, "\"::1\";");
        d.insert_after(&mut ed, &a.entries[1].span, "\"2001:db8::\"/64;");
        let out = ed.apply(T);
        assert!(out.contains("    \"127.0.0.1\"; // local\n    \"::1\";\n    \"192.0.2.0\"/24;\n    \"2001:db8::\"/64;\n"), "{out}");
        let one = "acl a { \"127.0.0.1\"; }\n";
        let d = parse(one).unwrap();
        let mut ed = Edits::new();
        d.insert_after(&mut ed, &d.acls().unwrap()[0].entries[0].span, "\"::1\";");
        assert_eq!(ed.apply(one), "acl a { \"127.0.0.1\"; \"::1\"; }\n");
    }

    #[test]
    fn errors_name_the_place() {
        assert_eq!(parse("vcl 4.1;\nsub x {\n").unwrap_err().offset, 17);
        assert_eq!(parse("vcl 4.1;\n}\n").unwrap_err().offset, 9);
        assert_eq!(parse("/* open").unwrap_err().offset, 0);
        assert_eq!(parse("x = \"a\nb\";").unwrap_err().offset, 4);
        let d = parse("acl a { \"1.2.3.4\" }\n").unwrap();
        assert_eq!(d.acls().unwrap_err().offset, 18);
    }

    #[test]
    fn what_varnishd_rejects_in_an_acl_is_an_error_there() {
        for (t, at) in [
            ("acl { \"127.0.0.1\"; }\n", 4),
            ("acl a { \"192.0.2.0\"/33; }\n", 20),
            ("acl a { \"2001:db8::\"/129; }\n", 21),
            ("acl a {\n  \"192.0.2.1\"/24;\n}\n", 10),
            ("acl a +log {\n  ! \"2001:db8::1\"/64;\n}\n", 17),
        ] {
            let e = parse(t).unwrap().acls().unwrap_err();
            assert_eq!(e.offset, at, "{t:?}: {e:?}");
        }
        for t in [
            "acl a -pedantic { \"192.0.2.1\"/24; }\n",
            "acl a { \"192.0.2.0\"/24; \"2001:db8::\"/32; \"::\"/0; \"192.0.2.1\"/32; }\n",
            "acl a { \"localhost\"/8; }\n",
        ] {
            assert!(parse(t).unwrap().acls().is_ok(), "{t:?}");
        }
    }
}
