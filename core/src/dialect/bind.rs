//! BIND's `named.conf` and the files it includes, losslessly.
//!
//! A file is a sequence of top-level items: blanks, comments (`//` and `#` to the end of
//! the line, `/* … */`, which does not nest) and statements. A statement is a run of
//! elements, words, `"quoted strings"` (which may span lines; `\` escapes the next
//! character), the marks `!` and `/`, and `{ … }` blocks of statements of their own,
//! ended by `;`: `options { listen-on-v6 { any; }; };`. A block's inner `;` never ends
//! the statement around it. Comments may sit between any two elements, and start at `#`,
//! `//` or `/*` even right after a word, as named's lexer reads them.
//!
//! Address match lists (`allow-query { 192.0.2.0/24; !198.51.100.7; localnets; };`) are
//! blocks whose statements are the list's elements; [`element`] reads one as BIND does,
//! including the shortened IPv4 forms `10/8` and `192.168/16`, and a quoted element as the
//! name of an acl, never as an address.

use crate::addr::Prefix;
use crate::edit::Edits;
use crate::error::ParseError;
use crate::text::Text;
use crate::text::{indent_of, line_col, line_end_full, line_start, Span};
use std::net::{IpAddr, Ipv4Addr};

/// Blocks nested deeper than this are a parse error, not a stack overflow.
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// A run of characters up to a blank, a mark, a quote or a comment.
    Word,
    /// A quoted string, quotes included.
    Str,
    /// `!` or `/`.
    Mark,
}

/// One token of a statement and its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexeme {
    pub kind: TokKind,
    pub span: Span,
}

/// One element of a statement: a token or a `{ … }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elem {
    Tok(Lexeme),
    Block(Block),
}

/// A `{ … }` block: the offsets of its braces and the statements between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub open: usize,
    pub close: usize,
    pub stmts: Vec<Stmt>,
}

/// A statement: its elements and its span, from the first element to the `;` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    pub span: Span,
    pub elems: Vec<Elem>,
}

impl Stmt {
    /// The tokens before the first block.
    pub fn head(&self) -> impl Iterator<Item = &Lexeme> {
        self.elems.iter().map_while(|e| match e {
            Elem::Tok(t) => Some(t),
            Elem::Block(_) => None,
        })
    }

    /// The first word, lower-cased as named compares keywords.
    pub fn keyword(&self, src: &str) -> Option<String> {
        match self.elems.first() {
            Some(Elem::Tok(t)) if t.kind == TokKind::Word => {
                Some(src[t.span.clone()].to_ascii_lowercase())
            }
            _ => None,
        }
    }

    /// The first block, if any.
    pub fn block(&self) -> Option<&Block> {
        self.elems.iter().find_map(|e| match e {
            Elem::Block(b) => Some(b),
            Elem::Tok(_) => None,
        })
    }

    /// The value of a token of the head: a string without its quotes and escapes.
    pub fn head_values(&self, src: &str) -> Vec<String> {
        self.head().map(|t| value(src, t)).collect()
    }

    /// The file an `include "…";` statement names.
    pub fn include_path(&self, src: &str) -> Option<String> {
        if self.keyword(src).as_deref() != Some("include") {
            return None;
        }
        match self.elems.as_slice() {
            [_, Elem::Tok(t)] if t.kind == TokKind::Str => Some(value(src, t)),
            _ => None,
        }
    }
}

/// A token's value: a string without quotes, `\x` read as `x`; a word as written.
pub fn value(src: &str, t: &Lexeme) -> String {
    let raw = &src[t.span.clone()];
    if t.kind != TokKind::Str {
        return raw.to_string();
    }
    crate::lex::unbackslash(&raw[1..raw.len() - 1])
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    Blank,
    Comment,
    Stmt(Stmt),
}

pub type Item = crate::doc::Item<ItemKind>;

pub type Doc = crate::doc::Doc<Item>;

/// One element of an address match list, as named reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// An address or network (`192.0.2.0/24`, `"2001:db8::/64"`, `10/8`).
    Prefix(Prefix),
    /// A name: `any`, `none`, `localhost`, `localnets` or an acl's name (lower-cased for
    /// the built-in ones, as written otherwise).
    Name(String),
    /// `key NAME`.
    Key,
    /// A nested `{ … }` list.
    Nested,
}

/// A list element read: negated or not, and what it is. An address with bits set after
/// its prefix length is an error, as in named (`address/prefix length mismatch`).
pub fn element(src: &str, s: &Stmt) -> Result<(bool, Entry), ParseError> {
    let mut elems = s.elems.as_slice();
    let tok = |e: &Elem| match e {
        Elem::Tok(t) => Some(t.clone()),
        Elem::Block(_) => None,
    };
    let text = |t: &Lexeme| &src[t.span.clone()];
    let mut negated = false;
    if let Some(t) = elems.first().and_then(tok) {
        if t.kind == TokKind::Mark && text(&t) == "!" {
            negated = true;
            elems = &elems[1..];
        }
    }
    let bad = |at: usize| {
        ParseError::new(
            at,
            ParseError::describe(src, at),
            "an address match list element",
        )
    };
    match elems {
        [Elem::Block(_)] => Ok((negated, Entry::Nested)),
        [Elem::Tok(k), Elem::Tok(_)]
            if k.kind == TokKind::Word && text(k).eq_ignore_ascii_case("key") =>
        {
            Ok((negated, Entry::Key))
        }
        // A quoted string is always a name: `"192.0.2.0/24"` names an acl (named reports it
        // as an undefined ACL), it is no address.
        [Elem::Tok(a)] if a.kind == TokKind::Str => Ok((negated, Entry::Name(value(src, a)))),
        [Elem::Tok(a)] if a.kind == TokKind::Word => {
            let v = value(src, a);
            let parsed = match v.split_once('/') {
                Some((addr, len)) => parse_prefix(addr, Some(len)),
                None => parse_prefix(&v, None),
            };
            match parsed {
                Some(p) => checked(a.span.start, &v, p).map(|p| (negated, Entry::Prefix(p))),
                None => {
                    let builtin = ["any", "none", "localhost", "localnets"];
                    let name = if builtin.iter().any(|b| b.eq_ignore_ascii_case(&v)) {
                        v.to_ascii_lowercase()
                    } else {
                        v
                    };
                    Ok((negated, Entry::Name(name)))
                }
            }
        }
        [Elem::Tok(a), Elem::Tok(m), Elem::Tok(l)]
            if a.kind == TokKind::Word && text(m) == "/" && l.kind == TokKind::Word =>
        {
            let v = value(src, a);
            match parse_prefix(&v, Some(text(l))) {
                Some(p) => checked(a.span.start, &format!("{v}/{}", text(l)), p)
                    .map(|p| (negated, Entry::Prefix(p))),
                None => Err(bad(a.span.start)),
            }
        }
        _ => Err(bad(s.span.start)),
    }
}

fn checked(at: usize, written: &str, p: Prefix) -> Result<Prefix, ParseError> {
    if p.has_host_bits() {
        return Err(ParseError::new(
            at,
            format!("`{written}` (bits set after the prefix length)"),
            format!(
                "a network, `{}` (named refuses it: address/prefix length mismatch)",
                p.network()
            ),
        ));
    }
    Ok(p)
}

/// An address or `address/length` as named reads it: IPv6, a dotted quad, or an IPv4
/// address shortened to 1-3 parts when a length follows (`10/8`, `192.168/16`).
fn parse_prefix(addr: &str, len: Option<&str>) -> Option<Prefix> {
    let ip = addr.parse::<IpAddr>().ok().or_else(|| {
        len?;
        let parts: Vec<&str> = addr.split('.').collect();
        if parts.len() > 3
            || parts
                .iter()
                .any(|p| p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let mut o = [0u8; 4];
        for (i, p) in parts.iter().enumerate() {
            o[i] = p.parse().ok()?;
        }
        Some(IpAddr::V4(Ipv4Addr::from(o)))
    })?;
    match len {
        None => Some(Prefix::host(ip)),
        Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
            Prefix::new(ip, l.parse().ok()?)
        }
        Some(_) => None,
    }
}

impl Doc {
    /// The top-level statements.
    pub fn statements(&self) -> impl Iterator<Item = &Stmt> {
        self.items.iter().filter_map(|i| match &i.kind {
            ItemKind::Stmt(s) => Some(s),
            _ => None,
        })
    }

    /// Every `include "…";` statement, at the top level and in blocks (named reads them
    /// wherever a statement may stand), depth first in file order: the statement and the
    /// file it names.
    pub fn includes(&self) -> Vec<(&Stmt, String)> {
        fn walk<'a>(src: &str, s: &'a Stmt, out: &mut Vec<(&'a Stmt, String)>) {
            if let Some(p) = s.include_path(src) {
                out.push((s, p));
            }
            for e in &s.elems {
                if let Elem::Block(b) = e {
                    for inner in &b.stmts {
                        walk(src, inner, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for s in self.statements() {
            walk(&self.src, s, &mut out);
        }
        out
    }

    /// Adds an edit inserting list element `text` (with its `;`) after element `after`:
    /// on a line of its own with the same indentation when `after` ends its line, else
    /// on the same line after a space.
    pub fn insert_element_after(&self, edits: &mut Edits, after: &Stmt, text: &str) {
        let src = &self.src;
        let end = after.span.end;
        if self.ends_its_line(end) {
            let ls = line_start(src, after.span.start);
            let before = &src[ls..after.span.start];
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

    /// Adds an edit inserting statement `text` after statement `after`, on a line of its
    /// own with the indentation of the line `after` starts on.
    /// When more follows `after` on its line (`options { listen-on { … }; };`), the
    /// statement goes on that line after a space, inside the same block.
    pub fn insert_stmt_after(&self, edits: &mut Edits, after: &Stmt, text: &str) {
        let src = &self.src;
        if !self.ends_its_line(after.span.end) {
            edits.insert(after.span.end, format!(" {text}"));
            return;
        }
        let indent = indent_of(&src[line_start(src, after.span.start)..]);
        edits.insert_line_after(src, after.span.end, &format!("{indent}{text}"));
    }

    /// True when nothing but blanks and a comment follow offset `end` on its line (a
    /// comment there stays with what it follows).
    fn ends_its_line(&self, end: usize) -> bool {
        let src = &self.src;
        let rest = src[end..line_end_full(src, end)].trim_end_matches(['\n', '\r']);
        let rest = rest.trim_start_matches([' ', '\t']);
        rest.is_empty()
            || rest.starts_with("//")
            || rest.starts_with('#')
            || (rest.starts_with("/*")
                && rest
                    .find("*/")
                    .is_some_and(|n| rest[n + 2..].trim().is_empty()))
    }
}

/// Parses a named.conf file (or a file it includes).
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut p = Parser {
        src: text,
        b: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let mut items = Vec::new();
    while p.i < p.b.len() {
        let start = p.i;
        let c = p.b[p.i];
        if c.is_ascii_whitespace() {
            while p.i < p.b.len() && p.b[p.i].is_ascii_whitespace() {
                p.i += 1;
            }
            items.push(Item {
                span: start..p.i,
                kind: ItemKind::Blank,
            });
        } else if let Some(end) = p.comment()? {
            p.i = end;
            items.push(Item {
                span: start..end,
                kind: ItemKind::Comment,
            });
        } else if c == b'}' {
            return Err(p.err(start, "a statement (this `}` closes no block)"));
        } else {
            let s = p.stmt()?;
            items.push(Item {
                span: s.span.clone(),
                kind: ItemKind::Stmt(s),
            });
        }
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, at: usize, expected: &str) -> ParseError {
        ParseError::new(at, ParseError::describe(self.src, at), expected)
    }

    /// The end of a comment starting at `i`, if one does.
    fn comment(&self) -> Result<Option<usize>, ParseError> {
        let rest = &self.src[self.i..];
        if rest.starts_with('#') || rest.starts_with("//") {
            // To the end of the line: named's lexer ends a comment at `\n` only (a `\r`
            // inside one does not end it).
            Ok(Some(rest.find('\n').map_or(self.src.len(), |n| self.i + n)))
        } else if let Some(body) = rest.strip_prefix("/*") {
            match body.find("*/") {
                Some(n) => Ok(Some(self.i + 2 + n + 2)),
                None => Err(self.err(self.i, "`*/` closing the comment")),
            }
        } else {
            Ok(None)
        }
    }

    /// Skips blanks and comments.
    fn skip(&mut self) -> Result<(), ParseError> {
        loop {
            while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            match self.comment()? {
                Some(e) if self.i < self.b.len() => self.i = e,
                _ => return Ok(()),
            }
        }
    }

    /// One statement, from its first element (at `i`) to its `;`.
    fn stmt(&mut self) -> Result<Stmt, ParseError> {
        let start = self.i;
        // No statement or list element of named.conf starts with a bracket (IPv6 addresses
        // are written bare): named stops with "unknown option '[::]'".
        if let Some(&c @ (b'[' | b']')) = self.b.get(self.i) {
            return Err(self.err(
                self.i,
                if c == b'[' {
                    "a statement or list element (named writes IPv6 addresses without brackets)"
                } else {
                    "a statement or list element"
                },
            ));
        }
        let mut elems = Vec::new();
        loop {
            self.skip()?;
            let Some(&c) = self.b.get(self.i) else {
                return Err(self.err(self.i, "`;` ending the statement"));
            };
            let at = self.i;
            match c {
                b';' => {
                    self.i += 1;
                    return Ok(Stmt {
                        span: start..self.i,
                        elems,
                    });
                }
                b'}' => return Err(self.err(at, "`;` ending the statement before `}`")),
                b'{' => {
                    if self.depth >= MAX_DEPTH {
                        return Err(self.err(at, "a block nested no deeper than 200 levels"));
                    }
                    self.depth += 1;
                    self.i += 1;
                    let mut stmts = Vec::new();
                    loop {
                        self.skip()?;
                        match self.b.get(self.i) {
                            None => {
                                let lc = line_col(self.src, at);
                                return Err(self.err(
                                    self.i,
                                    &format!(
                                        "`}}` closing the block opened at line {} column {}",
                                        lc.line, lc.col
                                    ),
                                ));
                            }
                            Some(b'}') => break,
                            Some(_) => stmts.push(self.stmt()?),
                        }
                    }
                    self.depth -= 1;
                    elems.push(Elem::Block(Block {
                        open: at,
                        close: self.i,
                        stmts,
                    }));
                    self.i += 1;
                }
                b'"' => {
                    let mut j = self.i + 1;
                    loop {
                        match self.b.get(j) {
                            None => return Err(self.err(at, "`\"` closing the string")),
                            Some(b'\\') => j += 2,
                            Some(b'"') => break,
                            Some(_) => j += 1,
                        }
                    }
                    self.i = (j + 1).min(self.b.len());
                    if j >= self.b.len() {
                        return Err(self.err(at, "`\"` closing the string"));
                    }
                    elems.push(Elem::Tok(Lexeme {
                        kind: TokKind::Str,
                        span: at..self.i,
                    }));
                }
                b'!' | b'/' => {
                    self.i += 1;
                    elems.push(Elem::Tok(Lexeme {
                        kind: TokKind::Mark,
                        span: at..self.i,
                    }));
                }
                _ => {
                    while let Some(&c) = self.b.get(self.i) {
                        if c.is_ascii_whitespace() || b"{};\"!/#".contains(&c) {
                            break;
                        }
                        // A multi-byte character: step over it whole.
                        self.i += self.src[self.i..].chars().next().map_or(1, char::len_utf8);
                    }
                    elems.push(Elem::Tok(Lexeme {
                        kind: TokKind::Word,
                        span: at..self.i,
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(d: &Doc) -> Vec<String> {
        d.statements().filter_map(|s| s.keyword(&d.src)).collect()
    }

    #[test]
    fn statements_and_includes_read_as_named_reads_them() {
        let d = parse("include \"/etc/bind/a\"; // x\noptions { directory \"/x\"; };\n").unwrap();
        assert_eq!(kw(&d), ["include", "options"]);
        assert_eq!(d.includes()[0].1, "/etc/bind/a");
    }

    #[test]
    fn comments_strings_and_nested_blocks() {
        let t = "options {\n  /* a { ; */ listen-on port 53 { 127.0.0.1; }; # c\n  directory \"/v;{\\\"\"; // d\n};\n";
        let d = parse(t).unwrap();
        let o = d.statements().next().unwrap();
        let b = o.block().unwrap();
        assert_eq!(b.stmts.len(), 2);
        assert_eq!(b.stmts[0].keyword(t).as_deref(), Some("listen-on"));
        assert_eq!(b.stmts[0].head_values(t), ["listen-on", "port", "53"]);
        assert_eq!(b.stmts[1].head_values(t), ["directory", "/v;{\""]);
        // An include inside a block is found too.
        let d = parse("options { include \"/etc/bind/o\"; };").unwrap();
        assert_eq!(d.includes().len(), 1);
    }

    #[test]
    fn list_elements_read_as_named_reads_them() {
        let t = "acl a { 10/8; 192.168/16; ! 192.0.2.5; \"2001:db8::/64\"; 2001:DB8:0::1; key \"k\"; { any; }; Localhost; trusted; 198.51.100.0 / 24; };";
        let d = parse(t).unwrap();
        let b = d.statements().next().unwrap().block().unwrap();
        let got: Vec<_> = b.stmts.iter().map(|s| element(t, s).unwrap()).collect();
        let p = |s: &str| Entry::Prefix(Prefix::parse(s).unwrap());
        assert_eq!(
            got,
            [
                (false, p("10.0.0.0/8")),
                (false, p("192.168.0.0/16")),
                (true, p("192.0.2.5")),
                (false, Entry::Name("2001:db8::/64".into())),
                (false, p("2001:db8::1")),
                (false, Entry::Key),
                (false, Entry::Nested),
                (false, Entry::Name("localhost".into())),
                (false, Entry::Name("trusted".into())),
                (false, p("198.51.100.0/24")),
            ]
        );
        let t = "acl a { 192.0.2.1/24; };";
        let d = parse(t).unwrap();
        let s = &d.statements().next().unwrap().block().unwrap().stmts[0];
        let e = element(t, s).unwrap_err();
        assert!(e.expected.contains("192.0.2.0/24"), "{e:?}");
    }

    #[test]
    fn bad_input_is_an_error_at_its_place() {
        for (t, at, want) in [
            (
                "options { directory \"/x\";\n",
                26,
                "`}` closing the block opened at line 1 column 9",
            ),
            (
                "options { };\n};\n",
                13,
                "a statement (this `}` closes no block)",
            ),
            (
                "options { directory \"/x; };\n",
                20,
                "`\"` closing the string",
            ),
            (
                "options { allow-query { any; } };",
                31,
                "`;` ending the statement before `}`",
            ),
            ("/* open", 0, "`*/` closing the comment"),
            (
                "zone \"x\" { type hint }",
                21,
                "`;` ending the statement before `}`",
            ),
        ] {
            let e = parse(t).unwrap_err();
            assert_eq!((e.offset, e.expected.as_str()), (at, want), "{t}");
        }
        let deep = "a {".repeat(300);
        assert!(parse(&deep).unwrap_err().expected.contains("200 levels"));
    }

    #[test]
    fn insertions_copy_the_lists_layout() {
        let t = "acl a {\n\t192.0.2.0/24;\n};\nacl b { 192.0.2.0/24; };\nacl c {\n 192.0.2.0/24; /* x */\n};\n";
        let d = parse(t).unwrap();
        let mut e = Edits::new();
        for s in d.statements() {
            let last = s.block().unwrap().stmts.last().unwrap();
            d.insert_element_after(&mut e, last, "2001:db8::/64;");
        }
        assert_eq!(
            e.apply(t),
            "acl a {\n\t192.0.2.0/24;\n\t2001:db8::/64;\n};\nacl b { 192.0.2.0/24; 2001:db8::/64; };\nacl c {\n 192.0.2.0/24; /* x */\n 2001:db8::/64;\n};\n"
        );
    }
}
