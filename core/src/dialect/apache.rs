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
use crate::lex::{each_word, Word};
use crate::text::Text;
use crate::text::{indent_of, Span};
use std::fmt;

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

/// One word of a directive or section line: where it sits in the text (a file is at most
/// 256 MiB, so 32-bit offsets hold it). Its text is [`Doc::word`], read from the file
/// only when asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    start: u32,
    end: u32,
}

impl Arg {
    fn new(span: Span) -> Arg {
        Arg {
            start: span.start as u32,
            end: span.end as u32,
        }
    }

    /// The word's bytes in the file.
    pub fn span(&self) -> Span {
        self.start as usize..self.end as usize
    }
}

/// One logical line: a blank, a comment, a directive, or a section's open or close tag.
/// It holds positions only: its name and words are read from the document's text
/// ([`Doc::name`], [`Doc::args`], [`Doc::word`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: Kind,
    /// Every byte of the item ([`Item::span`]): its physical lines with their line
    /// endings.
    at: (u32, u32),
    /// The directive or section name as written (without `<`, `</`, `>`); empty for blanks
    /// and comments.
    name: (u32, u32),
    /// The arguments (for a section: before the closing `>`): a range of the document's
    /// words.
    args: (u32, u32),
    /// The index of the enclosing section's [`Kind::Open`] item, plus one (0: none).
    parent: u32,
}

impl Item {
    /// Every byte of the item: its physical lines with their line endings.
    pub fn span(&self) -> Span {
        self.at.0 as usize..self.at.1 as usize
    }

    /// The index of the enclosing section's [`Kind::Open`] item.
    pub fn parent(&self) -> Option<usize> {
        (self.parent > 0).then(|| self.parent as usize - 1)
    }

    /// Where the name sits in the text.
    pub fn name_span(&self) -> Span {
        self.name.0 as usize..self.name.1 as usize
    }
}

/// A parsed Apache configuration file: its text, the items that tile it and the words of
/// all its lines, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub src: Text,
    pub items: Vec<Item>,
    args: Vec<Arg>,
}

/// True when the physical line `content` (without its ending) continues on the next one:
/// httpd's rule, a `\\` as its very last character.
fn continues(text: &str, content: &Span) -> bool {
    text.as_bytes()[..content.end].last() == Some(&b'\\') && content.end > content.start
}

/// The next physical line from `at`: its content's end and its end with the line ending.
fn physical(bytes: &[u8], at: usize) -> (usize, usize) {
    match memchr::memchr(b'\n', &bytes[at..]) {
        Some(i) => {
            let nl = at + i;
            let end = if nl > at && bytes[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            (end, nl + 1)
        }
        None => (bytes.len(), bytes.len()),
    }
}

/// Parses one Apache configuration file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

/// The parser's state: what it has built so far and the sections open at this point.
struct Builder {
    items: Vec<Item>,
    args: Vec<Arg>,
    stack: Vec<usize>,
}

impl Builder {
    fn parent(&self) -> u32 {
        self.stack.last().map_or(0, |&p| p as u32 + 1)
    }

    /// Adds an item without name or words.
    fn plain(&mut self, kind: Kind, span: Span, parent: u32) {
        let at = self.args.len() as u32;
        self.items.push(Item {
            kind,
            name: (span.start as u32, span.start as u32),
            at: (span.start as u32, span.end as u32),
            args: (at, at),
            parent,
        });
    }
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let bytes = text.as_bytes();
    // At most one item per physical line: the list is made once, at its final size.
    let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
    let mut b = Builder {
        items: Vec::with_capacity(lines),
        args: Vec::new(),
        stack: Vec::new(),
    };
    let mut segments: Vec<Span> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        // One logical line: a physical line and those its trailing `\` joins.
        let start = at;
        segments.clear();
        let mut count = 0;
        let first_end = physical(bytes, at).0;
        loop {
            let (end, full) = physical(bytes, at);
            count += 1;
            let content = at..end;
            let joins = continues(text, &content);
            // Each physical line without a trailing `\`.
            segments.push(if joins { at..end - 1 } else { content });
            at = full;
            if !joins || at >= text.len() {
                break;
            }
        }
        let span = start..at;
        let first = &text[start..first_end];
        if count == 1 && first.trim().is_empty() {
            let parent = b.parent();
            b.plain(Kind::Blank, span, parent);
            continue;
        }
        let parent = b.parent();
        let lead = first.trim_start_matches([' ', '\t']);
        if lead.starts_with('#') {
            b.plain(Kind::Comment, span, parent);
            continue;
        }
        let base = b.args.len();
        for s in &segments {
            b.args
                .extend(each_word(&text[s.clone()], s.start).map(|w| Arg::new(w.span)));
        }
        if b.args.len() == base {
            // Only blanks and continuation backslashes: Apache reads an empty line.
            b.plain(Kind::Blank, span, parent);
            continue;
        }
        let head = b.args.remove(base).span();
        let nargs = b.args.len() - base;
        let word = |b: &Builder, k: usize| &text[b.args[base + k].span()];
        let head_text = &text[head.clone()];
        if let Some(rest) = head_text.strip_prefix("</") {
            // `</Name>`, `</Name >`.
            let (name, closed) = match rest.strip_suffix('>') {
                Some(n) => (n, nargs == 0),
                None => (rest, nargs == 1 && word(&b, 0) == ">"),
            };
            if !closed || name.is_empty() {
                return Err(ParseError::new(
                    head.start,
                    ParseError::describe(text, head.start),
                    "a closing tag like `</VirtualHost>`",
                ));
            }
            let Some(open) = b.stack.pop() else {
                return Err(ParseError::new(
                    head.start,
                    format!("`</{name}>`"),
                    "a directive (no section is open here)",
                ));
            };
            let want = &text[b.items[open].name_span()];
            if !want.eq_ignore_ascii_case(name) {
                // Apache names this line too (except in a conditional section it skips,
                // where it names the opening line, given here as well).
                let at = crate::text::line_col(text, b.items[open].span().start);
                return Err(ParseError::new(
                    head.start,
                    format!("`</{name}>`"),
                    format!(
                        "`</{want}>` (closing the section opened at line {})",
                        at.line
                    ),
                ));
            }
            b.args.truncate(base);
            let parent = b.parent();
            let name_start = head.start + 2;
            b.items.push(Item {
                kind: Kind::Close,
                at: (span.start as u32, span.end as u32),
                name: (name_start as u32, (name_start + name.len()) as u32),
                args: (base as u32, base as u32),
                parent,
            });
        } else if let Some(rest) = head_text.strip_prefix('<') {
            let (name, closed) = match rest.strip_suffix('>') {
                Some(n) => (n, nargs == 0),
                None if nargs == 0 => (rest, false),
                None => {
                    let last = b.args.len() - 1;
                    if word(&b, nargs - 1) == ">" {
                        b.args.pop();
                        (rest, true)
                    } else if word(&b, nargs - 1).ends_with('>') {
                        b.args[last].end -= 1;
                        (rest, true)
                    } else {
                        (rest, false)
                    }
                }
            };
            if name.is_empty() || name.contains(['<', '>']) {
                return Err(ParseError::new(
                    head.start,
                    ParseError::describe(text, head.start),
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
            if b.args.len() == base && NEEDS_ARGUMENTS.iter().any(|n| n.eq_ignore_ascii_case(name))
            {
                return Err(ParseError::new(
                    head.start,
                    format!("`<{name}>` without arguments"),
                    format!("the arguments of <{name}> (Apache requires them)"),
                ));
            }
            let idx = b.items.len();
            let name_start = head.start + 1;
            b.items.push(Item {
                kind: Kind::Open,
                at: (span.start as u32, span.end as u32),
                name: (name_start as u32, (name_start + name.len()) as u32),
                args: (base as u32, b.args.len() as u32),
                parent,
            });
            b.stack.push(idx);
        } else {
            if head_text.eq_ignore_ascii_case("listen") && !(1..=2).contains(&nargs) {
                if let Some(hash) = b.args[base..]
                    .iter()
                    .find(|a| text[a.span()].starts_with('#'))
                {
                    return Err(ParseError::new(
                        hash.start as usize,
                        "`#` after Listen",
                        "the end of the line: Apache has no trailing comments, the words \
                         become arguments; move the comment to its own line",
                    ));
                }
                let at = if nargs > 2 {
                    b.args[base + 2].start as usize
                } else {
                    head.start
                };
                return Err(ParseError::new(
                    at,
                    ParseError::describe(text, at),
                    "`Listen [address:]port [protocol]` (Apache requires 1 or 2 arguments)",
                ));
            }
            b.items.push(Item {
                kind: Kind::Directive,
                at: (span.start as u32, span.end as u32),
                name: (head.start as u32, head.end as u32),
                args: (base as u32, b.args.len() as u32),
                parent,
            });
        }
    }
    if let Some(&open) = b.stack.last() {
        // Apache names the line of the section left open.
        let name = &text[b.items[open].name_span()];
        return Err(ParseError::new(
            open_at(text, &b.items[open]),
            format!("`<{name}>` open at the end of the file"),
            format!("`</{name}>` closing it"),
        ));
    }
    b.items.shrink_to_fit();
    b.args.shrink_to_fit();
    Ok(Doc {
        src: shared.clone(),
        items: b.items,
        args: b.args,
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
    open.span().start + indent_of(&text[open.span()]).len()
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

impl Doc {
    pub fn text(&self) -> &str {
        &self.src
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// True when the items cover the source exactly, in order, without gaps or overlaps.
    pub fn tiles(&self) -> bool {
        let mut at = 0;
        for it in &self.items {
            if it.span().start != at || it.span().end < it.span().start {
                return false;
            }
            at = it.span().end;
        }
        at == self.src.len()
    }

    /// The directive or section name of `it` as written (without `<`, `</`, `>`); empty
    /// for blanks and comments.
    pub fn name(&self, it: &Item) -> &str {
        &self.src[it.name_span()]
    }

    /// True when `it` is a directive or section called `name` (case-insensitive).
    pub fn is(&self, it: &Item, name: &str) -> bool {
        matches!(it.kind, Kind::Directive | Kind::Open)
            && (it.name.1 - it.name.0) as usize == name.len()
            && self.name(it).eq_ignore_ascii_case(name)
    }

    /// The number of physical lines of `it`.
    pub fn lines(&self, it: &Item) -> usize {
        let text = &self.src.as_bytes()[it.span()];
        memchr::memchr_iter(b'\n', text).count() + usize::from(text.last() != Some(&b'\n'))
    }

    /// The arguments of `it` (for a section: before the closing `>`).
    pub fn args(&self, it: &Item) -> &[Arg] {
        &self.args[it.args.0 as usize..it.args.1 as usize]
    }

    /// A word as written, quotes and all.
    pub fn word(&self, a: &Arg) -> &str {
        &self.src[a.span()]
    }

    /// A word without surrounding double quotes, if it has them.
    pub fn unquoted(&self, a: &Arg) -> &str {
        unquote(self.word(a))
    }

    /// The words of `it` (for a section: before the closing `>`), each as written with
    /// its span.
    pub fn words<'a>(
        &'a self,
        it: &Item,
    ) -> impl ExactSizeIterator<Item = Word<'a>> + DoubleEndedIterator + use<'a> {
        let src = self.src.as_str();
        self.args(it).iter().map(move |a| Word {
            text: &src[a.span()],
            span: a.span(),
        })
    }

    /// Word `k` of `it`.
    pub fn arg(&self, it: &Item, k: usize) -> Option<Word<'_>> {
        self.args(it).get(k).map(|a| Word {
            text: self.word(a),
            span: a.span(),
        })
    }

    /// The directives called `name` (case-insensitive), with their indices.
    pub fn directives<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (usize, &'a Item)> {
        self.items
            .iter()
            .enumerate()
            .filter(move |(_, it)| it.kind == Kind::Directive && self.is(it, name))
    }

    /// The sections called `name` (their open tags), with their indices.
    pub fn sections<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (usize, &'a Item)> {
        self.items
            .iter()
            .enumerate()
            .filter(move |(_, it)| it.kind == Kind::Open && self.is(it, name))
    }

    /// The open tags around item `i`, innermost first.
    pub fn ancestors(&self, i: usize) -> Vec<&Item> {
        let mut out = Vec::new();
        let mut p = self.items[i].parent();
        while let Some(k) = p {
            out.push(&self.items[k]);
            p = self.items[k].parent();
        }
        out
    }

    /// The leading blanks of item `i`'s first line.
    pub fn indent(&self, i: usize) -> &str {
        let s = self.items[i].span().start;
        let line = self.src[s..].lines().next().unwrap_or("");
        indent_of(line)
    }

    /// A copy of directive `i` as one physical line with argument `k` replaced by `with`:
    /// the twin of a `Listen` line. A single-line directive keeps its exact spacing; a
    /// continued one is rebuilt on one line.
    pub fn line_with_arg(&self, i: usize, k: usize, with: &str) -> String {
        let it = &self.items[i];
        let a = self.args(it)[k].span();
        if self.lines(it) == 1 {
            let start = it.span().start;
            let end = crate::text::lines(&self.src[it.span()])
                .first()
                .map_or(it.span().end, |l| start + l.content.end);
            // Without a dangling `\` (a last line continuing into nothing).
            let tail = &self.src[a.end..end];
            let tail = tail.strip_suffix('\\').map_or(tail, str::trim_end);
            format!("{}{}{}", &self.src[start..a.start], with, tail)
        } else {
            let mut words: Vec<&str> = vec![self.name(it)];
            for (n, x) in self.words(it).enumerate() {
                words.push(if n == k { with } else { x.text });
            }
            format!("{}{}", self.indent(i), words.join(" "))
        }
    }

    /// Inserts `line` (no line ending) as a new line after item `i`.
    pub fn insert_after(&self, edits: &mut Edits, i: usize, line: &str) {
        let it = &self.items[i];
        // The item's last character (not its last byte, which may sit inside a character
        // when the file ends without a newline).
        let last = self.src[..it.span().end]
            .char_indices()
            .next_back()
            .map_or(it.span().start, |(k, _)| k)
            .max(it.span().start);
        // A last line ending in `\` (the file's end, where Apache reads it as continuing
        // into nothing) would take the new line in: an empty line after it ends it first.
        let content = self.src[..it.span().end].trim_end_matches(['\n', '\r']);
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
        // No arguments: after the name (for an open tag, after `<Name`).
        let at = self
            .args(it)
            .last()
            .map_or(it.name.1 as usize, |a| a.end as usize);
        let text: String = words.iter().map(|w| format!(" {w}")).collect();
        edits.insert(at, text);
    }
}

impl fmt::Display for Doc {
    /// The items' text, in order: the input, when nothing was edited.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for it in &self.items {
            f.write_str(&self.src[it.span()])?;
        }
        Ok(())
    }
}

impl crate::doc::Spanned for Item {
    fn span(&self) -> Span {
        Item::span(self)
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
    fn a_document_costs_a_fixed_amount_per_line_and_word() {
        // Counted, not timed: what a document holds grows with its text and nothing
        // else, so twice the vhosts is twice the items and words, and no more memory
        // than a fixed number of bytes per byte of text.
        let vhost = |i: usize| {
            format!(
                "<VirtualHost 192.0.2.10:80>\n    ServerName \"site{i}.example\"\n    \
                 <Location /admin>\n        Require ip 192.0.2.0/24 \\\n          198.51.100.0/24\n    \
                 </Location>\n</VirtualHost>\n\n"
            )
        };
        let cost = |n: usize| {
            let t: String = (0..n).map(vhost).collect();
            let d = parse(t.as_str()).unwrap();
            let words: usize = d.items().iter().map(|it| d.args(it).len()).sum();
            let heap = d.items.capacity() * std::mem::size_of::<Item>()
                + d.args.capacity() * std::mem::size_of::<Arg>();
            (d.items().len(), words, heap, t.len())
        };
        let (items, words, heap, len) = cost(1000);
        assert_eq!((items, words), (7000, 6000));
        assert_eq!(cost(2000).0, 2 * items);
        assert_eq!(cost(2000).1, 2 * words);
        assert!(heap <= 3 * len, "{heap} bytes for {len} bytes of text");
        assert!(std::mem::size_of::<Item>() <= 32 && std::mem::size_of::<Arg>() == 8);
    }

    #[test]
    fn directives_sections_and_nesting() {
        let t = "Listen 80\n<IfModule ssl_module>\n\tListen 192.0.2.10:443 https\n</IfModule>\n";
        let d = parse(t).unwrap();
        let listens: Vec<_> = d.directives("listen").collect();
        assert_eq!(listens.len(), 2);
        let (i, l) = listens[1];
        let w: Vec<_> = d.words(l).map(|w| w.text).collect();
        assert_eq!(w, ["192.0.2.10:443", "https"]);
        let anc = d.ancestors(i);
        assert_eq!(anc.len(), 1);
        assert!(d.is(anc[0], "IfModule"));
        assert_eq!(
            d.words(anc[0]).map(|w| w.text).collect::<Vec<_>>(),
            ["ssl_module"]
        );
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
            let a: Vec<_> = d.words(v).map(|w| w.text).collect();
            assert_eq!(a, ["192.0.2.10:443", "[2001:db8::10]:443"]);
            assert_eq!(&t[d.args(v)[1].span()], "[2001:db8::10]:443");
        }
        let d = parse("<Directory \"/var/www\">\n</Directory>\n").unwrap();
        assert_eq!(d.unquoted(&d.args(&d.items()[0])[0]), "/var/www");
        let d = parse("<RequireAll>\n</RequireAll>\n").unwrap();
        assert!(d.args(&d.items()[0]).is_empty());
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
        assert_eq!(d.lines(r), 2);
        assert_eq!(d.args(r).len(), 3);
        assert_eq!(d.word(&d.args(r)[2]), "198.51.100.0/24");
        assert_eq!(d.items()[1].kind, Kind::Comment);
        assert_eq!(d.lines(&d.items()[1]), 2, "a comment continues too");
        assert_eq!(d.to_string(), t);
    }

    #[test]
    fn trailing_hash_is_not_a_comment() {
        let d = parse("Require ip 192.0.2.1 # web\n").unwrap();
        let a: Vec<_> = d.words(&d.items()[0]).map(|w| w.text).collect();
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
