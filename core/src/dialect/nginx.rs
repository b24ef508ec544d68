//! nginx configuration files, losslessly.
//!
//! A file is a sequence of items: runs of blanks, `#` comments and directives. A directive
//! is its words (bare, `"double"` or `'single'` quoted) and either a terminating `;` or a
//! `{ … }` block holding items of its own. Directives may span lines, and comments may sit
//! anywhere between words; `#` inside a word or a quoted string is not a comment. Every
//! byte of the input belongs to exactly one top-level item, so printing the items gives
//! the input back.

use crate::edit::Edits;
use crate::error::ParseError;
use crate::text::Text;
use crate::text::{indent_of, line_end_full, line_start, newline_of, Span};

/// One word of a directive: the shared token, its text as written (quotes included) and
/// its span.
pub use crate::lex::Token as Word;

/// A word's value as nginx reads it: quotes removed, `\"`-style escapes resolved.
pub fn value(word: &Word) -> String {
    let r = word.text.as_str();
    let inner = if r.len() >= 2
        && ((r.starts_with('"') && r.ends_with('"')) || (r.starts_with('\'') && r.ends_with('\'')))
    {
        &r[1..r.len() - 1]
    } else {
        return r.to_string();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\'' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A directive: `name args… ;` or `name args… { items }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// From the first byte of the name to the `;` or the closing `}` included.
    pub span: Span,
    /// The name first, then the arguments.
    pub words: Vec<Word>,
    /// The block's items, for a block directive.
    pub block: Option<Block>,
}

impl Directive {
    pub fn name(&self) -> &str {
        &self.words[0].text
    }

    /// The arguments' values.
    pub fn args(&self) -> Vec<String> {
        self.words[1..].iter().map(value).collect()
    }
}

/// The inside of a `{ … }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Offset of `{`.
    pub open: usize,
    /// Offset of `}`.
    pub close: usize,
    /// Items between the braces; they tile `open + 1 .. close`.
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// Spaces, tabs and line endings.
    Blank,
    /// `#` to the end of the line (line ending excluded).
    Comment,
    Directive(Directive),
}

pub type Item = crate::doc::Item<ItemKind>;

/// A parsed nginx file.
pub type Doc = crate::doc::Doc<Item>;

impl Doc {
    /// Every directive, depth first in file order, with the names of the block directives
    /// around it, outermost first (`["http", "server"]`).
    pub fn directives(&self) -> Vec<(Vec<String>, &Directive)> {
        fn go<'a>(
            items: &'a [Item],
            ctx: &mut Vec<String>,
            out: &mut Vec<(Vec<String>, &'a Directive)>,
        ) {
            for it in items {
                if let ItemKind::Directive(d) = &it.kind {
                    out.push((ctx.clone(), d));
                    if let Some(b) = &d.block {
                        ctx.push(d.name().to_string());
                        go(&b.items, ctx, out);
                        ctx.pop();
                    }
                }
            }
        }
        let mut out = Vec::new();
        go(&self.items, &mut Vec::new(), &mut out);
        out
    }

    /// Adds an edit inserting directive text `text` (e.g. `listen [::]:80;`) right after
    /// directive `after`: on a new line with the same indentation when `after` ends its
    /// line (a trailing comment stays with `after`), otherwise on the same line after it.
    pub fn insert_after(&self, edits: &mut Edits, after: &Directive, text: &str) {
        let src = &self.src;
        let end = after.span.end;
        let rest_end = line_end_full(src, end);
        let rest = src[end..rest_end].trim_end_matches(['\n', '\r']);
        let rest_trim = rest.trim_start_matches([' ', '\t']);
        if rest_trim.is_empty() || rest_trim.starts_with('#') {
            let ls = line_start(src, after.span.start);
            let line = &src[ls..line_end_full(src, ls)];
            let before = &src[ls..after.span.start];
            let indent = if before.trim().is_empty() {
                before.to_string()
            } else {
                indent_of(line).to_string()
            };
            edits.continue_line_after(src, end, &format!("{indent}{text}"));
        } else {
            edits.insert(end, format!(" {text}"));
        }
    }

    /// The newline this file uses.
    pub fn newline(&self) -> &'static str {
        newline_of(&self.src)
    }
}

/// Parses an nginx configuration file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut p = Parser {
        src: text,
        pos: 0,
        depth: 0,
    };
    let items = p.items(false)?;
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// How deep blocks may nest: far beyond any real configuration, and well within the stack.
const MAX_DEPTH: usize = 200;

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Blocks open around the current position.
    depth: usize,
}

enum Tok {
    Word(Word),
    Semi,
    Open,
    Close,
    Eof,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn err(&self, at: usize, expected: &str) -> ParseError {
        ParseError::new(at, ParseError::describe(self.src, at), expected)
    }

    /// Skips blanks and comments; returns whether anything was skipped.
    fn skip_trivia(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'#') => self.pos += comment_len(&self.src[self.pos..]),
                _ => return,
            }
        }
    }

    fn token(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Tok::Eof);
        };
        match c {
            b';' => {
                self.pos += 1;
                Ok(Tok::Semi)
            }
            b'{' => {
                self.pos += 1;
                Ok(Tok::Open)
            }
            b'}' => {
                self.pos += 1;
                Ok(Tok::Close)
            }
            b'"' | b'\'' => {
                let bytes = self.src.as_bytes();
                let mut i = self.pos + 1;
                loop {
                    match bytes.get(i) {
                        None => return Err(self.err(start, &format!("a closing {}", c as char))),
                        Some(b'\\') => i += 2,
                        Some(&b) if b == c => break,
                        Some(_) => i += 1,
                    }
                }
                self.pos = i + 1;
                Ok(Tok::Word(Word {
                    text: self.src[start..self.pos].to_string(),
                    span: start..self.pos,
                }))
            }
            _ => {
                let bytes = self.src.as_bytes();
                let mut i = self.pos;
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'}' => break,
                        b'{' => {
                            // `${name}` is a variable, not a block.
                            if i > start && bytes[i - 1] == b'$' {
                                match self.src[i..].find('}') {
                                    Some(n) => i += n + 1,
                                    None => {
                                        return Err(self.err(i, "`}` closing the variable name"))
                                    }
                                }
                                continue;
                            }
                            break;
                        }
                        b'\\' => i += 2,
                        _ => i += 1,
                    }
                }
                let i = i.min(self.src.len());
                self.pos = i;
                Ok(Tok::Word(Word {
                    text: self.src[start..i].to_string(),
                    span: start..i,
                }))
            }
        }
    }

    /// Items up to the end of the text (`in_block` false) or up to a `}` (left unread).
    fn items(&mut self, in_block: bool) -> Result<Vec<Item>, ParseError> {
        let mut items = Vec::new();
        loop {
            // Blanks and comments as separate items.
            loop {
                let start = self.pos;
                match self.peek() {
                    Some(b' ' | b'\t' | b'\r' | b'\n') => {
                        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                            self.pos += 1;
                        }
                        items.push(Item {
                            span: start..self.pos,
                            kind: ItemKind::Blank,
                        });
                    }
                    Some(b'#') => {
                        self.pos += comment_len(&self.src[self.pos..]);
                        items.push(Item {
                            span: start..self.pos,
                            kind: ItemKind::Comment,
                        });
                    }
                    _ => break,
                }
            }
            let start = self.pos;
            match self.peek() {
                None if in_block => return Err(self.err(start, "`}` closing the block")),
                None => return Ok(items),
                Some(b'}') if in_block => return Ok(items),
                Some(b'}') => return Err(self.err(start, "a directive (this `}` closes no block)")),
                _ => {}
            }
            let d = self.directive()?;
            items.push(Item {
                span: d.span.clone(),
                kind: ItemKind::Directive(d),
            });
        }
    }

    fn directive(&mut self) -> Result<Directive, ParseError> {
        let start = self.pos;
        let mut words = Vec::new();
        loop {
            let at = self.pos;
            match self.token()? {
                Tok::Word(w) => words.push(w),
                Tok::Semi if words.is_empty() => {
                    return Err(self.err(at, "a directive name before `;`"))
                }
                Tok::Semi => {
                    return Ok(Directive {
                        span: start..self.pos,
                        words,
                        block: None,
                    })
                }
                Tok::Open if words.is_empty() => {
                    return Err(self.err(at, "a directive name before `{`"))
                }
                Tok::Open => {
                    if self.depth >= MAX_DEPTH {
                        return Err(self.err(
                            at,
                            &format!("a directive (blocks nested deeper than {MAX_DEPTH} levels)"),
                        ));
                    }
                    self.depth += 1;
                    let items = self.items(true)?;
                    self.depth -= 1;
                    let close = self.pos;
                    self.pos += 1;
                    return Ok(Directive {
                        span: start..self.pos,
                        words,
                        block: Some(Block {
                            open: at,
                            close,
                            items,
                        }),
                    });
                }
                Tok::Close => {
                    return Err(
                        self.err(at, &format!("`;` ending the `{}` directive", words[0].text))
                    )
                }
                Tok::Eof => {
                    return Err(self.err(
                        at,
                        &format!("`;` or `{{` after the `{}` directive", words[0].text),
                    ))
                }
            }
            self.skip_trivia();
        }
    }
}

/// The length of the `#` comment at the start of `rest`: up to the line feed, as nginx reads
/// it (a lone `\r` is part of the comment), leaving out the `\r` of a CRLF.
fn comment_len(rest: &str) -> usize {
    match rest.find('\n') {
        Some(i) if rest[..i].ends_with('\r') => i - 1,
        Some(i) => i,
        None => rest.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_span_lines_and_comments_sit_anywhere() {
        let t = "http {\n  server { listen\n    [::]:80 # v6\n    default_server; }\n}\n";
        let d = parse(t).unwrap();
        let all = d.directives();
        let (ctx, listen) = &all[2];
        assert_eq!(ctx, &["http", "server"]);
        assert_eq!(listen.args(), ["[::]:80", "default_server"]);
    }

    #[test]
    fn quotes_and_hashes_inside_words_are_not_comments() {
        let t = "add_header X \"a # b;\"; return 200 'it s'; rewrite ^/a#b /c;\nset $x ${y}z;\n";
        let d = parse(t).unwrap();
        let all = d.directives();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].1.args(), ["X", "a # b;"]);
        assert_eq!(all[2].1.args(), ["^/a#b", "/c"]);
        assert_eq!(all[3].1.args(), ["$x", "${y}z"]);
    }

    #[test]
    fn blocks_nested_past_the_limit_are_an_error_not_a_stack_overflow() {
        let deep = "server {\n".repeat(50_000);
        let e = parse(&deep).unwrap_err();
        assert!(e.expected.contains("nested deeper than 200"), "{e:?}");
        let ok = format!("{}{}", "a {\n".repeat(MAX_DEPTH), "}\n".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse("http {\n  listen 80;\n").unwrap_err();
        assert_eq!(e.offset, 20);
        assert!(e.expected.contains("`}`"));
        let e = parse("listen 80\n}").unwrap_err();
        assert_eq!(e.offset, 10);
        let e = parse("a \"open;\n").unwrap_err();
        assert_eq!(e.offset, 2);
        let e = parse("}\n").unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(parse("listen 80").is_err());
        assert!(parse(" ; ").is_err());
    }

    #[test]
    fn inserts_follow_indentation_or_stay_on_the_line() {
        let t = "server {\n\tlisten 80; # web\n\tserver_name a;\n}\nserver { listen 81; }";
        let d = parse(t).unwrap();
        let all = d.directives();
        let mut e = Edits::new();
        d.insert_after(&mut e, all[1].1, "listen [::]:80;");
        d.insert_after(&mut e, all[4].1, "listen [::]:81;");
        assert_eq!(
            e.apply(t),
            "server {\n\tlisten 80; # web\n\tlisten [::]:80;\n\tserver_name a;\n}\nserver { listen 81; listen [::]:81; }"
        );
    }

    #[test]
    fn crlf_is_kept_for_inserted_lines() {
        let t = "server {\r\n    listen 80;\r\n}\r\n";
        let d = parse(t).unwrap();
        let all = d.directives();
        let mut e = Edits::new();
        d.insert_after(&mut e, all[1].1, "listen [::]:80;");
        assert_eq!(
            e.apply(t),
            "server {\r\n    listen 80;\r\n    listen [::]:80;\r\n}\r\n"
        );
    }
}
