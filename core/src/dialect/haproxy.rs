//! HAProxy's `haproxy.cfg`, losslessly.
//!
//! The rules are HAProxy's own (`parse_line()` and `readcfgfile()`, checked with
//! `haproxy -c` of HAProxy 2.6 on Debian 12):
//! - one statement per line, no continuation lines; a `\r` before the `\n` is dropped;
//!   the last line must end with a line feed too;
//! - words are separated by blanks; `"…"` quotes (with escapes) and `'…'` quotes (without)
//!   may hold blanks; outside single quotes a backslash escapes the next character
//!   (`\ `, `\#`, `\"`, `\'`, `\\`, and `\r`, `\n`, `\t`, `\xHH`); a quote left open at
//!   the end of the line is an error;
//! - `#` outside quotes, not escaped, starts a comment to the end of the line;
//! - a line whose first word is a section keyword (`global`, `defaults`, `frontend`,
//!   `backend`, `listen`, …; case-sensitive) starts a section that runs to the next one;
//! - lines starting with `.if`, `.elif`, `.else` and `.endif` select lines at start-up,
//!   which v6fix does not evaluate: [`Line::cond`] says a line is inside such a block.

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// The keywords that open a section (HAProxy 2.6).
pub const SECTIONS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "peers",
    "resolvers",
    "mailers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "fcgi-app",
];

/// One word: its bytes as written and its value once quotes and escapes are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub span: Span,
    pub value: String,
}

/// What one line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Blank or only a comment.
    Blank,
    /// A section keyword and its arguments.
    Section,
    /// `.if`, `.elif`, `.else`, `.endif` or another `.`-directive.
    Directive,
    /// A statement inside a section.
    Statement,
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The whole line with its line ending.
    pub span: Span,
    pub kind: Kind,
    /// The words before any comment.
    pub words: Vec<Word>,
    /// The index of the section line this line belongs to (a section line: itself).
    pub section: Option<usize>,
    /// True inside an `.if` block.
    pub cond: bool,
}

impl Line {
    /// The first word's value (the keyword), or "".
    pub fn keyword(&self) -> &str {
        self.words.first().map_or("", |w| w.value.as_str())
    }

    /// The end of the last word: where an appended word goes.
    pub fn words_end(&self) -> Option<usize> {
        self.words.last().map(|w| w.span.end)
    }
}

/// A parsed haproxy.cfg.
pub type Doc = crate::doc::Doc<Line>;

impl crate::doc::Spanned for Line {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// Splits the text of one line (without its line ending) that starts at `base` into words.
fn split(text: &str, base: usize) -> Result<Vec<Word>, ParseError> {
    let b = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    let mut cur: Option<(usize, String)> = None;
    let (mut squote, mut dquote) = (false, false);
    let mut quote_at = 0;
    while i < b.len() {
        let c = b[i];
        if !squote && !dquote && (c == b' ' || c == b'\t') {
            if let Some((s, v)) = cur.take() {
                words.push(Word {
                    span: base + s..base + i,
                    value: v,
                });
            }
            i += 1;
            continue;
        }
        if !squote && !dquote && c == b'#' {
            break;
        }
        if c == b'\\' && !squote && i + 1 == b.len() {
            return Err(ParseError::new(
                base + i,
                "`\\` at the end of the line",
                "an escaped character after `\\` (HAProxy has no continuation lines, and reads \
                 the statement differently from what it looks like)",
            ));
        }
        let start = cur.get_or_insert_with(|| (i, String::new()));
        let v = &mut start.1;
        match c {
            b'\\' if !squote && i + 1 < b.len() => {
                let n = b[i + 1];
                match n {
                    b' ' | b'\t' | b'#' | b'\\' | b'\'' | b'"' => v.push(n as char),
                    b'r' => v.push('\r'),
                    b'n' => v.push('\n'),
                    b't' => v.push('\t'),
                    _ => {
                        // `\xHH` and unknown escapes: kept as written, which is all v6fix
                        // needs (an address never holds one).
                        v.push('\\');
                        i += 1;
                        continue;
                    }
                }
                i += 2;
                continue;
            }
            b'\'' if !dquote => {
                squote = !squote;
                quote_at = i;
            }
            b'"' if !squote => {
                dquote = !dquote;
                quote_at = i;
            }
            _ => {
                let ch = text[i..].chars().next().expect("a char at a boundary");
                v.push(ch);
                i += ch.len_utf8();
                continue;
            }
        }
        i += 1;
    }
    if squote || dquote {
        return Err(ParseError::new(
            base + quote_at,
            format!("`{}`", text[quote_at..].trim_end()),
            format!(
                "a closing `{}` on the same line (HAProxy reports an unmatched quote)",
                if squote { '\'' } else { '"' }
            ),
        ));
    }
    if let Some((s, v)) = cur {
        words.push(Word {
            span: base + s..base + i,
            value: v,
        });
    }
    Ok(words)
}

/// Parses a haproxy.cfg.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut items = Vec::new();
    let mut section = None;
    let mut depth = 0usize;
    for l in lines(text) {
        let words = split(l.text(text), l.content.start)?;
        let first = words.first().map(|w| w.value.as_str()).unwrap_or("");
        let kind = if words.is_empty() {
            Kind::Blank
        } else if SECTIONS.contains(&first) {
            section = Some(items.len());
            Kind::Section
        } else if first.starts_with('.') {
            Kind::Directive
        } else {
            Kind::Statement
        };
        let mut cond = depth > 0;
        if kind == Kind::Directive {
            match first {
                ".if" => {
                    depth += 1;
                    cond = true;
                }
                ".endif" => {
                    depth = depth.checked_sub(1).ok_or_else(|| {
                        ParseError::new(
                            words[0].span.start,
                            "`.endif` without `.if`",
                            "an `.if` before it",
                        )
                    })?;
                }
                _ => {}
            }
        }
        items.push(Line {
            span: l.full,
            kind,
            words,
            section,
            cond,
        });
    }
    if let Some(last) = items
        .last()
        .filter(|l| !text[l.span.clone()].ends_with('\n'))
    {
        return Err(ParseError::new(
            last.span.end,
            "the end of the file after a last line without a line feed",
            "a line feed ending the last line (HAProxy stops with `Missing LF on last line`)",
        ));
    }
    if depth > 0 {
        let at = items
            .iter()
            .rev()
            .find(|l| l.kind == Kind::Directive && l.keyword() == ".if")
            .map_or(0, |l| l.span.start);
        return Err(ParseError::new(
            at,
            "an `.if` block that is never closed",
            "`.endif` before the end of the file",
        ));
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

impl Doc {
    /// The section line `i` belongs to: its keyword and name (`frontend`, `www`).
    pub fn section_of(&self, i: usize) -> Option<(&str, &str)> {
        let s = &self.items[self.items[i].section?];
        Some((s.keyword(), s.words.get(1).map_or("", |w| w.value.as_str())))
    }

    /// The indentation of line `i`, as written.
    pub fn indent(&self, i: usize) -> &str {
        let s = &self.src[self.items[i].span.clone()];
        &s[..s.len() - s.trim_start_matches([' ', '\t']).len()]
    }

    /// The text of line `i` from its start to the end of its last word: the statement
    /// without a trailing comment or line ending.
    pub fn statement(&self, i: usize) -> &str {
        let it = &self.items[i];
        &self.src[it.span.start..it.words_end().unwrap_or(it.span.start)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_of_every_fixture_parses_or_fails_cleanly() {
        // The whole fixtures print back in the round-trip test of every dialect.
        for (_, text) in crate::doc::fixtures("haproxy", 3) {
            for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                if let Ok(d) = parse(&text[..cut]) {
                    assert_eq!(d.to_string(), &text[..cut]);
                }
            }
        }
    }

    #[test]
    fn words_quotes_escapes_and_comments() {
        let t = "frontend www # public\r\n  bind \"*:80\" 'a b' c\\ d e\\#f # x\n\tacl ok src 192.0.2.0/24\n";
        let d = parse(t).unwrap();
        assert_eq!(d.items[0].kind, Kind::Section);
        let w: Vec<&str> = d.items[1].words.iter().map(|w| w.value.as_str()).collect();
        assert_eq!(w, ["bind", "*:80", "a b", "c d", "e#f"]);
        assert_eq!(&t[d.items[1].words[1].span.clone()], "\"*:80\"");
        assert_eq!(d.statement(1), "  bind \"*:80\" 'a b' c\\ d e\\#f");
        assert_eq!(d.section_of(2), Some(("frontend", "www")));
        assert_eq!(d.indent(2), "\t");
    }

    #[test]
    fn an_open_quote_is_refused_where_it_opens() {
        let e = parse("frontend a\n  bind \":80\n").unwrap_err();
        assert_eq!(e.offset, 18);
    }

    #[test]
    fn conditional_blocks_are_marked_and_must_close() {
        let d = parse("frontend a\n.if defined(X)\n bind :80\n.endif\n bind :81\n").unwrap();
        assert!(d.items[2].cond);
        assert!(!d.items[4].cond);
        assert!(parse(".if 1\n").is_err());
        assert_eq!(parse("acl a src 192.0.2.0/24\\\n").unwrap_err().offset, 22);
        assert_eq!(parse("global\n  daemon").unwrap_err().offset, 15);
        assert!(parse(".endif\n").is_err());
    }
}
