//! systemd unit files and drop-ins (systemd.syntax(7)), losslessly.
//!
//! A file is a sequence of whole-line items: blank lines, comments (`#` or `;` as the first
//! non-blank character), `[Section]` headers and `Key=value` entries. An entry whose line
//! ends with a backslash continues on the next line; comment lines inside a continued
//! entry belong to it and are skipped, as systemd skips them. The backslash and line
//! break read as one space.
//!
//! [`exec_words`] splits a command line (`ExecStart=`) the way systemd does: blanks separate
//! words, `"…"` and `'…'` quote, and `%%` is a literal `%` (a single `%` starts a
//! specifier). [`escape_word`] writes a word back so systemd reads it unchanged.

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// A `Key=value` entry, possibly continued over several lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    /// From the first byte of the value to the end of the entry's last line (line ending
    /// excluded); continuation backslashes, line breaks and skipped comment lines included.
    pub value_span: Span,
    /// The section the entry sits in (`Service`), empty before the first header.
    pub section: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    Blank,
    Comment,
    Section(String),
    Entry(Entry),
}

/// Whole lines: `span` includes the line endings.
pub type Item = crate::doc::Item<ItemKind>;

pub type Doc = crate::doc::Doc<Item>;

/// A piece of an entry's value on one physical line: its span and the text it adds.
fn segments(src: &str, e: &Entry) -> Vec<Span> {
    let mut out = Vec::new();
    let raw = &src[e.value_span.clone()];
    let mut first = true;
    for l in lines(raw) {
        let text = l.text(raw);
        let start = e.value_span.start + l.content.start;
        if !first {
            let t = text.trim_start_matches([' ', '\t']);
            if t.starts_with(['#', ';']) {
                continue;
            }
        }
        first = false;
        let trimmed = text.trim_end_matches([' ', '\t']);
        let body = trimmed.strip_suffix('\\').unwrap_or(text);
        out.push(start..start + body.len());
    }
    out
}

impl Doc {
    /// Every entry, in file order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.items.iter().filter_map(|i| match &i.kind {
            ItemKind::Entry(e) => Some(e),
            _ => None,
        })
    }

    /// The entry's value as systemd reads it: continuation lines joined with a space,
    /// comment lines inside them skipped, surrounding blanks removed.
    pub fn value(&self, e: &Entry) -> String {
        let parts: Vec<&str> = segments(&self.src, e)
            .into_iter()
            .map(|s| &self.src[s])
            .collect();
        parts.join(" ").trim().to_string()
    }

    /// The item holding `e`.
    pub fn item_of(&self, e: &Entry) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| matches!(&i.kind, ItemKind::Entry(x) if x.key_span == e.key_span))
    }
}

/// Parses a unit file or drop-in.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let ls = lines(text);
    let mut items = Vec::new();
    let mut section = String::new();
    let mut i = 0;
    while i < ls.len() {
        let l = &ls[i];
        let t = l.text(text);
        let trimmed = t.trim_matches([' ', '\t']);
        let lead = t.len() - t.trim_start_matches([' ', '\t']).len();
        let at = l.content.start + lead;
        if trimmed.is_empty() {
            items.push(Item {
                span: l.full.clone(),
                kind: ItemKind::Blank,
            });
            i += 1;
            continue;
        }
        if trimmed.starts_with(['#', ';']) {
            items.push(Item {
                span: l.full.clone(),
                kind: ItemKind::Comment,
            });
            i += 1;
            continue;
        }
        if trimmed.starts_with('[') {
            if !trimmed.ends_with(']') || trimmed.len() < 3 {
                return Err(ParseError::new(
                    at,
                    ParseError::describe(text, at),
                    "a section header `[Name]`",
                ));
            }
            section = trimmed[1..trimmed.len() - 1].to_string();
            items.push(Item {
                span: l.full.clone(),
                kind: ItemKind::Section(section.clone()),
            });
            i += 1;
            continue;
        }
        let Some(eq) = t.find('=') else {
            return Err(ParseError::new(
                at,
                ParseError::describe(text, at),
                "`Key=value`, a comment or a `[Section]`",
            ));
        };
        let key = t[..eq].trim_matches([' ', '\t']);
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
        {
            return Err(ParseError::new(
                at,
                ParseError::describe(text, at),
                "a key name before `=`",
            ));
        }
        if section.is_empty() {
            return Err(ParseError::new(
                at,
                ParseError::describe(text, at),
                "a `[Section]` header before the first entry",
            ));
        }
        let key_span = at..at + key.len();
        let after = &t[eq + 1..];
        let vstart =
            l.content.start + eq + 1 + (after.len() - after.trim_start_matches([' ', '\t']).len());
        // Continuation: the line (trailing blanks ignored) ends with a backslash.
        let mut j = i;
        let continues = |s: &str| s.trim_end_matches([' ', '\t']).ends_with('\\');
        let mut cont = continues(t);
        while cont && j + 1 < ls.len() {
            j += 1;
            let nt = ls[j].text(text);
            let ntt = nt.trim_start_matches([' ', '\t']);
            if ntt.starts_with(['#', ';']) {
                continue;
            }
            cont = continues(nt);
        }
        let vend = ls[j].content.end.max(vstart);
        items.push(Item {
            span: l.full.start..ls[j].full.end,
            kind: ItemKind::Entry(Entry {
                key: key.to_string(),
                key_span,
                value_span: vstart..vend,
                section: section.clone(),
            }),
        });
        i = j + 1;
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// One word of a command line: its raw span and its value as the program receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecWord {
    pub span: Span,
    pub value: String,
}

/// Splits a command-line entry (`ExecStart=`) into words. Quoted words may not span a
/// continued line break (systemd would join them with a space; v6fix refuses to guess).
pub fn exec_words(src: &str, e: &Entry) -> Result<Vec<ExecWord>, ParseError> {
    let mut out = Vec::new();
    for seg in segments(src, e) {
        let s = &src[seg.clone()];
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b' ' || b[i] == b'\t' {
                i += 1;
                continue;
            }
            let start = i;
            let mut value = String::new();
            if b[i] == b'"' || b[i] == b'\'' {
                let q = b[i];
                i += 1;
                loop {
                    if i >= b.len() {
                        return Err(ParseError::new(
                            seg.start + start,
                            ParseError::describe(src, seg.start + start),
                            format!("a closing {} on the same line", q as char),
                        ));
                    }
                    if b[i] == q {
                        i += 1;
                        break;
                    }
                    i += unescape_one(s, i, &mut value);
                }
                if i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                    return Err(ParseError::new(
                        seg.start + i,
                        ParseError::describe(src, seg.start + i),
                        "a blank after the closing quote",
                    ));
                }
            } else {
                while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                    i += unescape_one(s, i, &mut value);
                }
            }
            out.push(ExecWord {
                span: seg.start + start..seg.start + i,
                value: value.replace("%%", "%"),
            });
        }
    }
    Ok(out)
}

/// Appends the character at byte `i` of `s` (resolving a backslash escape) to `out`;
/// returns how many bytes it used.
fn unescape_one(s: &str, i: usize, out: &mut String) -> usize {
    let rest = &s[i..];
    let mut chars = rest.chars();
    let c = chars.next().unwrap_or(' ');
    if c == '\\' {
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(n) => out.push(n),
            None => {
                out.push('\\');
                return 1;
            }
        }
        1 + rest[1..].chars().next().map_or(0, char::len_utf8)
    } else {
        out.push(c);
        c.len_utf8()
    }
}

/// Writes `value` as one command-line word systemd reads back unchanged: `%` doubled,
/// quoted when it holds blanks, quotes or backslashes.
pub fn escape_word(value: &str) -> String {
    let v = value.replace('%', "%%");
    if v.is_empty() || v.contains([' ', '\t', '"', '\'', '\\']) {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continued_exec_start_splits_into_words_with_spans() {
        let t = "[Service]\nExecStart=\nExecStart=/usr/sbin/varnishd \\\n  -a :6081 \\\n# skipped\n  -p \"cli_banner=a b\" -x 100%% \\\n  -F\nType=simple\n";
        let d = parse(t).unwrap();
        let es: Vec<_> = d.entries().collect();
        assert_eq!(es.len(), 3);
        assert_eq!(d.value(es[0]), "");
        assert_eq!(
            d.value(es[1]),
            "/usr/sbin/varnishd    -a :6081    -p \"cli_banner=a b\" -x 100%%    -F"
        );
        let w = exec_words(t, es[1]).unwrap();
        let vals: Vec<_> = w.iter().map(|w| w.value.as_str()).collect();
        assert_eq!(
            vals,
            [
                "/usr/sbin/varnishd",
                "-a",
                ":6081",
                "-p",
                "cli_banner=a b",
                "-x",
                "100%",
                "-F"
            ]
        );
        assert_eq!(&t[w[2].span.clone()], ":6081");
        assert_eq!(&t[w[4].span.clone()], "\"cli_banner=a b\"");
        assert_eq!(es[2].key, "Type");
        assert_eq!(es[2].section, "Service");
    }

    #[test]
    fn errors_name_the_place() {
        let e = parse("[Service]\nExecStart /bin/true\n").unwrap_err();
        assert_eq!(e.offset, 10);
        assert!(parse("[Service\n").is_err());
        assert!(parse("Key=value\n").is_err());
        let t = "[Service]\nExecStart=/bin/x \"open\n";
        let d = parse(t).unwrap();
        let e = exec_words(t, d.entries().next().unwrap()).unwrap_err();
        assert_eq!(e.offset, 27);
    }

    #[test]
    fn words_are_escaped_for_systemd() {
        assert_eq!(escape_word("[fe80::1%eth0]:80"), "[fe80::1%%eth0]:80");
        assert_eq!(escape_word("a b"), "\"a b\"");
        assert_eq!(escape_word("-a"), "-a");
    }

    #[test]
    fn comments_crlf_and_indented_lines() {
        let t = "; c\r\n[Unit]\r\n  # indented\r\nDescription = x y \r\n";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        let e = d.entries().next().unwrap();
        assert_eq!(e.key, "Description");
        assert_eq!(d.value(e), "x y");
    }
}
