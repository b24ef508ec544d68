//! Apache httpd 2.4 configuration files, losslessly.
//!
//! The rules are httpd's own (verified against `apache2 -t` on Debian 12):
//! - one directive per line; leading blanks mean nothing;
//! - a line whose first non-blank character is `#` is a comment, and there are no
//!   trailing comments (`Listen 80 # web` is three words);
//! - a `\` as the very last character of a line (before LF or CRLF) joins the next line,
//!   for comments too;
//! - `<Section args>` … `</Section>` nest, names match case-insensitively, and every file
//!   closes what it opens;
//! - directive names are case-insensitive; arguments may be double-quoted.
//!
//! A [`Doc`] is a list of [`Item`]s, one per logical line (a directive with its
//! continuation lines is one item), that tile the text exactly; printing it gives the
//! input back byte for byte.

use crate::edit::Edits;
use crate::error::ParseError;
use crate::lex::words;
use crate::logical::{Join, LogicalLines};
use crate::text::Text;
use crate::text::{indent_of, Line, Span};

/// What one logical line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only blanks.
    Blank,
    /// `# …`, with any continuation lines.
    Comment,
    /// `Name args…`.
    Directive,
    /// `<Name args…>`.
    Open,
    /// `</Name>`.
    Close,
}

/// One word of a directive or section line, and where it sits in the text.
pub use crate::lex::Token as Arg;

/// One logical line: a blank, a comment, a directive, or a section's open or close tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: Kind,
    /// Every byte of the item: its physical lines with their line endings.
    pub span: Span,
    /// The directive or section name as written (without `<`, `</`, `>`); empty for blanks
    /// and comments.
    pub name: String,
    /// The arguments (for a section: before the closing `>`).
    pub args: Vec<Arg>,
    /// The index of the enclosing section's [`Kind::Open`] item.
    pub parent: Option<usize>,
    /// The number of physical lines.
    pub lines: usize,
}

impl Item {
    /// True when this is a directive or section called `name` (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        matches!(self.kind, Kind::Directive | Kind::Open) && self.name.eq_ignore_ascii_case(name)
    }
}

/// A parsed Apache configuration file.
pub type Doc = crate::doc::Doc<Item>;

/// httpd's rule: a `\\` as the very last character of a line joins the next line.
fn apache_rule(text: &str, _: &Line, last: &Line, _: &Line) -> Join {
    if text[last.content.clone()].ends_with('\\') {
        Join::Joins
    } else {
        Join::Ends
    }
}

/// Parses one Apache configuration file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut items: Vec<Item> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut segments: Vec<Span> = Vec::new();
    for logical in LogicalLines::new(text, apache_rule) {
        let first = logical.lines[0].text(text);
        let span = logical.span;
        let count = logical.lines.len();
        if count == 1 && first.trim().is_empty() {
            items.push(Item {
                kind: Kind::Blank,
                span,
                name: String::new(),
                args: Vec::new(),
                parent: stack.last().copied(),
                lines: 1,
            });
            continue;
        }
        // The physical lines of this logical line, each without a trailing `\`.
        segments.clear();
        segments.extend(logical.lines.iter().map(|l| {
            let c = l.content.clone();
            if text[c.clone()].ends_with('\\') {
                c.start..c.end - 1
            } else {
                c
            }
        }));
        let parent = stack.last().copied();
        let lead = first.trim_start_matches([' ', '\t']);
        if lead.starts_with('#') {
            items.push(Item {
                kind: Kind::Comment,
                span,
                name: String::new(),
                args: Vec::new(),
                parent,
                lines: count,
            });
            continue;
        }
        let mut ws: Vec<Arg> = Vec::new();
        for s in &segments {
            for w in words(&text[s.clone()], s.start) {
                ws.push(Arg {
                    text: w.text.to_string(),
                    span: w.span,
                });
            }
        }
        if ws.is_empty() {
            // Only blanks and continuation backslashes: Apache reads an empty line.
            items.push(Item {
                kind: Kind::Blank,
                span,
                name: String::new(),
                args: Vec::new(),
                parent,
                lines: count,
            });
            continue;
        }
        let head = ws.remove(0);
        if let Some(rest) = head.text.strip_prefix("</") {
            // `</Name>`, `</Name >`.
            let mut name = rest.to_string();
            let closed = if let Some(n) = name.strip_suffix('>') {
                name = n.to_string();
                ws.is_empty()
            } else {
                ws.len() == 1 && ws[0].text == ">"
            };
            if !closed || name.is_empty() {
                return Err(ParseError::new(
                    head.span.start,
                    ParseError::describe(text, head.span.start),
                    "a closing tag like `</VirtualHost>`",
                ));
            }
            let Some(open) = stack.pop() else {
                return Err(ParseError::new(
                    head.span.start,
                    format!("`</{name}>`"),
                    "a directive (no section is open here)",
                ));
            };
            let want = &items[open].name;
            if !want.eq_ignore_ascii_case(&name) {
                // Apache names this line too (except in a conditional section it skips,
                // where it names the opening line, given here as well).
                let at = crate::text::line_col(text, items[open].span.start);
                return Err(ParseError::new(
                    head.span.start,
                    format!("`</{name}>`"),
                    format!(
                        "`</{want}>` (closing the section opened at line {})",
                        at.line
                    ),
                ));
            }
            items.push(Item {
                kind: Kind::Close,
                span,
                name,
                args: Vec::new(),
                parent: stack.last().copied(),
                lines: count,
            });
        } else if let Some(rest) = head.text.strip_prefix('<') {
            let mut name = rest.to_string();
            let mut args = ws;
            let closed = if let Some(n) = name.strip_suffix('>') {
                name = n.to_string();
                args.is_empty()
            } else if let Some(last) = args.last_mut() {
                if last.text == ">" {
                    args.pop();
                    true
                } else if let Some(t) = last.text.strip_suffix('>') {
                    last.text = t.to_string();
                    last.span.end -= 1;
                    true
                } else {
                    false
                }
            } else {
                false
            };
            if name.is_empty() || name.contains(['<', '>']) {
                return Err(ParseError::new(
                    head.span.start,
                    ParseError::describe(text, head.span.start),
                    "a section name right after `<`",
                ));
            }
            if !closed {
                let end = segments.last().map_or(span.end, |s| s.end);
                return Err(ParseError::new(
                    end,
                    ParseError::describe(text, end),
                    format!("`>` closing the <{name}> line"),
                ));
            }
            if args.is_empty()
                && NEEDS_ARGUMENTS
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&name))
            {
                return Err(ParseError::new(
                    head.span.start,
                    format!("`<{name}>` without arguments"),
                    format!("the arguments of <{name}> (Apache requires them)"),
                ));
            }
            let idx = items.len();
            items.push(Item {
                kind: Kind::Open,
                span,
                name,
                args,
                parent,
                lines: count,
            });
            stack.push(idx);
        } else {
            if head.text.eq_ignore_ascii_case("listen") && !(1..=2).contains(&ws.len()) {
                if let Some(hash) = ws.iter().find(|a| a.text.starts_with('#')) {
                    return Err(ParseError::new(
                        hash.span.start,
                        "`#` after Listen",
                        "the end of the line: Apache has no trailing comments, the words \
                         become arguments; move the comment to its own line",
                    ));
                }
                let at = ws.get(2).map_or(head.span.start, |a| a.span.start);
                return Err(ParseError::new(
                    at,
                    ParseError::describe(text, at),
                    "`Listen [address:]port [protocol]` (Apache requires 1 or 2 arguments)",
                ));
            }
            items.push(Item {
                kind: Kind::Directive,
                span,
                name: head.text,
                args: ws,
                parent,
                lines: count,
            });
        }
    }
    if let Some(&open) = stack.last() {
        // Apache names the line of the section left open.
        return Err(ParseError::new(
            open_at(text, &items[open]),
            format!("`<{}>` open at the end of the file", items[open].name),
            format!("`</{}>` closing it", items[open].name),
        ));
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// The sections Apache refuses to open without arguments (`<Else>`, `<RequireAll>` and
/// their kin take none).
const NEEDS_ARGUMENTS: &[&str] = &[
    "VirtualHost",
    "IfModule",
    "IfDefine",
    "IfFile",
    "IfDirective",
    "IfSection",
    "IfVersion",
    "If",
    "ElseIf",
    "Directory",
    "DirectoryMatch",
    "Files",
    "FilesMatch",
    "Location",
    "LocationMatch",
    "Proxy",
    "ProxyMatch",
    "Limit",
    "LimitExcept",
    "Macro",
];

/// Where an open section's `<` is: the position of errors about it.
fn open_at(text: &str, open: &Item) -> usize {
    open.span.start + indent_of(&text[open.span.clone()]).len()
}

impl Doc {
    pub fn text(&self) -> &str {
        &self.src
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The directives called `name` (case-insensitive), with their indices.
    pub fn directives<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (usize, &'a Item)> {
        self.items
            .iter()
            .enumerate()
            .filter(move |(_, it)| it.kind == Kind::Directive && it.is(name))
    }

    /// The sections called `name` (their open tags), with their indices.
    pub fn sections<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (usize, &'a Item)> {
        self.items
            .iter()
            .enumerate()
            .filter(move |(_, it)| it.kind == Kind::Open && it.is(name))
    }

    /// The open tags around item `i`, innermost first.
    pub fn ancestors(&self, i: usize) -> Vec<&Item> {
        let mut out = Vec::new();
        let mut p = self.items[i].parent;
        while let Some(k) = p {
            out.push(&self.items[k]);
            p = self.items[k].parent;
        }
        out
    }

    /// The leading blanks of item `i`'s first line.
    pub fn indent(&self, i: usize) -> &str {
        let s = self.items[i].span.start;
        let line = self.src[s..].lines().next().unwrap_or("");
        indent_of(line)
    }

    /// A copy of directive `i` as one physical line with argument `k` replaced by `with`:
    /// the twin of a `Listen` line. A single-line directive keeps its exact spacing; a
    /// continued one is rebuilt on one line.
    pub fn line_with_arg(&self, i: usize, k: usize, with: &str) -> String {
        let it = &self.items[i];
        let a = &it.args[k];
        if it.lines == 1 {
            let start = it.span.start;
            let end = crate::text::lines(&self.src[it.span.clone()])
                .first()
                .map_or(it.span.end, |l| start + l.content.end);
            // Without a dangling `\` (a last line continuing into nothing).
            let tail = &self.src[a.span.end..end];
            let tail = tail.strip_suffix('\\').map_or(tail, str::trim_end);
            format!("{}{}{}", &self.src[start..a.span.start], with, tail)
        } else {
            let mut words: Vec<&str> = vec![it.name.as_str()];
            for (n, x) in it.args.iter().enumerate() {
                words.push(if n == k { with } else { x.text.as_str() });
            }
            format!("{}{}", self.indent(i), words.join(" "))
        }
    }

    /// Inserts `line` (no line ending) as a new line after item `i`.
    pub fn insert_after(&self, edits: &mut Edits, i: usize, line: &str) {
        let it = &self.items[i];
        // The item's last character (not its last byte, which may sit inside a character
        // when the file ends without a newline).
        let last = self.src[..it.span.end]
            .char_indices()
            .next_back()
            .map_or(it.span.start, |(k, _)| k)
            .max(it.span.start);
        // A last line ending in `\` (the file's end, where Apache reads it as continuing
        // into nothing) would take the new line in: an empty line after it ends it first.
        let content = self.src[..it.span.end].trim_end_matches(['\n', '\r']);
        if content.ends_with('\\') {
            let nl = crate::text::newline_of(&self.src);
            edits.insert_line_after(&self.src, last, &format!("{nl}{line}"));
        } else {
            edits.insert_line_after(&self.src, last, line);
        }
    }

    /// Appends `words` after the last word of item `i` (a directive or an open tag),
    /// each preceded by one space; the rest of the line stays as it was.
    pub fn append_args(&self, edits: &mut Edits, i: usize, words: &[String]) {
        let it = &self.items[i];
        let at = it.args.last().map_or_else(
            || {
                // No arguments: after the name (for an open tag, after `<Name`).
                let s = it.span.start + self.indent(i).len();
                let off = if it.kind == Kind::Open { 1 } else { 0 };
                s + off + it.name.len()
            },
            |a| a.span.end,
        );
        let text: String = words.iter().map(|w| format!(" {w}")).collect();
        edits.insert(at, text);
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

    fn fixtures() -> Vec<(String, String)> {
        crate::doc::fixtures("apache", 5)
    }

    #[test]
    fn every_prefix_of_every_fixture_parses_or_fails_cleanly() {
        // Cut files anywhere (mid-line, mid-section, after a backslash): parse must never
        // panic, and what parses must print back.
        for (name, text) in fixtures() {
            for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let t = &text[..cut];
                if let Ok(d) = parse(t) {
                    assert_eq!(d.to_string(), t, "{name} cut at {cut}");
                }
            }
        }
        for t in [
            "\\",
            "\\\n\n",
            "  \\\n",
            "<\n",
            "</>\n",
            "<a>\n</a >\n",
            "<>\n",
        ] {
            if let Ok(d) = parse(t) {
                assert_eq!(d.to_string(), t);
            }
        }
    }

    #[test]
    fn directives_sections_and_nesting() {
        let t = "Listen 80\n<IfModule ssl_module>\n\tListen 192.0.2.10:443 https\n</IfModule>\n";
        let d = parse(t).unwrap();
        let listens: Vec<_> = d.directives("listen").collect();
        assert_eq!(listens.len(), 2);
        let (i, l) = listens[1];
        assert_eq!(l.args[0].text, "192.0.2.10:443");
        assert_eq!(l.args[1].text, "https");
        let anc = d.ancestors(i);
        assert_eq!(anc.len(), 1);
        assert!(anc[0].is("IfModule"));
        assert_eq!(anc[0].args[0].text, "ssl_module");
        assert_eq!(d.indent(i), "\t");
    }

    #[test]
    fn section_args_lose_the_closing_bracket() {
        for t in [
            "<VirtualHost 192.0.2.10:443 [2001:db8::10]:443>\n</VirtualHost>\n",
            "<VirtualHost 192.0.2.10:443 [2001:db8::10]:443 >\n</virtualhost >\n",
        ] {
            let d = parse(t).unwrap();
            let (_, v) = d.sections("virtualhost").next().unwrap();
            let a: Vec<_> = v.args.iter().map(|a| a.text.as_str()).collect();
            assert_eq!(a, ["192.0.2.10:443", "[2001:db8::10]:443"]);
            assert_eq!(&t[v.args[1].span.clone()], "[2001:db8::10]:443");
        }
        let d = parse("<Directory \"/var/www\">\n</Directory>\n").unwrap();
        assert_eq!(d.items()[0].args[0].unquoted(), "/var/www");
        let d = parse("<RequireAll>\n</RequireAll>\n").unwrap();
        assert!(d.items()[0].args.is_empty());
        let e = parse("<IfModule>\n</IfModule>\n").unwrap_err();
        assert_eq!(e.offset, 0, "Apache requires the module's name");
        let e = parse("Listen 80\n  <VirtualHost >\n</VirtualHost>\n").unwrap_err();
        assert_eq!(e.offset, 12);
    }

    #[test]
    fn continuation_joins_lines_also_with_crlf_and_in_comments() {
        let t = "Require ip 192.0.2.0/24 \\\r\n    198.51.100.0/24\r\n# a comment \\\nListen 80\nListen 81";
        let d = parse(t).unwrap();
        assert_eq!(d.items().len(), 3);
        let r = &d.items()[0];
        assert_eq!(r.lines, 2);
        assert_eq!(r.args.len(), 3);
        assert_eq!(r.args[2].text, "198.51.100.0/24");
        assert_eq!(d.items()[1].kind, Kind::Comment);
        assert_eq!(d.items()[1].lines, 2, "a comment continues too");
        assert_eq!(d.to_string(), t);
    }

    #[test]
    fn trailing_hash_is_not_a_comment() {
        let d = parse("Require ip 192.0.2.1 # web\n").unwrap();
        let a: Vec<_> = d.items()[0].args.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(a, ["ip", "192.0.2.1", "#", "web"]);
        assert!(parse("Listen 80 # web\n").is_err(), "three arguments");
    }

    #[test]
    fn unbalanced_sections_are_positioned_errors() {
        let e = parse("<VirtualHost *:80>\n  ServerName a\n</Directory>\n").unwrap_err();
        assert_eq!(e.offset, 34);
        assert_eq!(e.found, "`</Directory>`");
        assert!(e.expected.contains("</VirtualHost>"), "{e:?}");
        // A section left open at the end: Apache names its opening line, and so does v6fix.
        let e = parse("Listen 80\n\t<VirtualHost *:80>\n").unwrap_err();
        assert_eq!(e.offset, 11);
        assert!(e.found.contains("end of the file"), "{e:?}");
        let e = parse("Listen 80\n</IfModule>\n").unwrap_err();
        assert_eq!(e.offset, 10);
        let e = parse("<VirtualHost *:80\n</VirtualHost>\n").unwrap_err();
        assert!(e.expected.contains('>'), "{e:?}");
    }

    #[test]
    fn listen_takes_one_or_two_arguments() {
        let e = parse("Listen 80\nListen\n").unwrap_err();
        assert_eq!(e.offset, 10);
        let e = parse("Listen 192.0.2.10:80 https extra\n").unwrap_err();
        assert_eq!(e.offset, 27);
        assert!(parse("listen 192.0.2.10:443 https\n").is_ok());
    }

    #[test]
    fn edits_copy_the_neighbours_spelling() {
        let t = "<IfModule ssl_module>\n    Listen   192.0.2.10:443 https\n</IfModule>\nRequire ip 192.0.2.0/24 \\\n  198.51.100.0/24  \n";
        let d = parse(t).unwrap();
        let (li, _) = d.directives("Listen").next().unwrap();
        let twin = d.line_with_arg(li, 0, "[2001:db8::10]:443");
        assert_eq!(twin, "    Listen   [2001:db8::10]:443 https");
        let mut e = Edits::new();
        d.insert_after(&mut e, li, &twin);
        let (ri, _) = d.directives("require").next().unwrap();
        d.append_args(&mut e, ri, &["2001:db8::/64".to_string()]);
        assert_eq!(
            e.apply(t),
            "<IfModule ssl_module>\n    Listen   192.0.2.10:443 https\n    Listen   [2001:db8::10]:443 https\n</IfModule>\nRequire ip 192.0.2.0/24 \\\n  198.51.100.0/24 2001:db8::/64  \n"
        );
        // A `\` ending the file continues into nothing: an empty line ends it first.
        for (t, want) in [
            (
                "Listen 0.0.0.0:80 \\",
                "Listen 0.0.0.0:80 \\\n\nListen [::]:80",
            ),
            (
                "Listen 0.0.0.0:80 \\\r\n",
                "Listen 0.0.0.0:80 \\\r\n\r\nListen [::]:80\r\n",
            ),
        ] {
            let d = parse(t).unwrap();
            let mut e = Edits::new();
            d.insert_after(&mut e, 0, &d.line_with_arg(0, 0, "[::]:80"));
            let out = e.apply(t);
            assert_eq!(out, want);
            assert_eq!(parse(&out).unwrap().directives("listen").count(), 2);
        }
        // A last line without a newline stays without one.
        let t = "Listen 0.0.0.0:80";
        let d = parse(t).unwrap();
        let mut e = Edits::new();
        d.insert_after(&mut e, 0, &d.line_with_arg(0, 0, "[::]:80"));
        assert_eq!(e.apply(t), "Listen 0.0.0.0:80\nListen [::]:80");
    }
}
