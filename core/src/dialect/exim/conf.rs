//! Exim's own configuration files (`/etc/exim4/exim4.conf`, Debian's
//! `exim4.conf.template` and `conf.d/` parts, `exim4.conf.localmacros`), losslessly.
//!
//! The rules are Exim 4.96's (spec chapter 6):
//! - blank lines, and lines whose first non-blank character is `#`, are ignored;
//! - a line ending in `\` continues on the next, whose leading blanks are dropped; comment
//!   lines between continued lines are skipped;
//! - a line starting with `.` is a directive (`.include`, `.ifdef`, `.endif`, …);
//! - a line starting with an upper-case letter defines a macro: `NAME = value`;
//! - `begin NAME` starts a section; before the first one are the main options,
//!   `name = value` or `hostlist name = value` (and the other named lists).
//!
//! A [`Doc`] is a list of [`Item`]s, one per logical line (a physical line and the lines
//! that continue it), that tile the text exactly. An option's value keeps a map from the
//! joined text Exim reads back to the bytes of the file, so an edit of the joined value
//! lands on the right physical line.

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// What one logical line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Blank,
    Comment,
    /// `.include`, `.ifdef` and the others: the directive's name.
    Directive(String),
    /// `NAME = value`.
    Macro,
    /// `name = value` or `hostlist name = value` in the main section.
    Option,
    /// `begin NAME`.
    Begin,
    /// A line of a section after the main one (routers, ACLs, …), not interpreted.
    Other,
}

/// A value as Exim reads it (continuations joined), with the way back to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub text: String,
    /// (offset in `text`, offset in the file) at the start of each joined piece.
    pieces: Vec<(usize, usize)>,
    /// Where the value ends in the file (before any trailing blanks of its last line).
    end: usize,
}

impl Value {
    /// The file offset of offset `at` of the joined text.
    pub fn to_file(&self, at: usize) -> usize {
        if at >= self.text.len() {
            return self.end - (self.text.len() - at.min(self.text.len()));
        }
        let i = self.pieces.partition_point(|&(j, _)| j <= at) - 1;
        let (j, f) = self.pieces[i];
        f + (at - j)
    }

    /// The file span of span `s` of the joined text; `None` when it crosses a line.
    pub fn span_in_file(&self, s: &Span) -> Option<Span> {
        let start = self.to_file(s.start);
        let end = self.to_file(s.end);
        (end - start == s.end - s.start).then_some(start..end)
    }
}

/// One logical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: Kind,
    /// Every physical line of it, line endings included.
    pub span: Span,
    /// The option or macro name (`local_interfaces`, `relay_from_hosts`, `MAIN_RELAY_NETS`);
    /// the section name for `begin`.
    pub name: String,
    /// `hostlist` and the like, for a named list.
    pub list_kind: Option<String>,
    pub value: Option<Value>,
    /// The depth of `.if…` blocks around it.
    pub depth: usize,
    /// True in the main section (before the first `begin`).
    pub main: bool,
}

impl crate::doc::Spanned for Item {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// A parsed Exim configuration file.
pub type Doc = crate::doc::Doc<Item>;

const LISTS: &[&str] = &["hostlist", "domainlist", "addresslist", "localpartlist"];

fn blank(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\r'
}

/// Parses one file. `main` says whether it starts in the main section (a `conf.d/main`
/// part or a whole configuration does; other parts do not).
pub fn parse(text: impl Into<Text>, main: bool) -> Result<Doc, ParseError> {
    parse_shared(text.into(), main)
}

fn parse_shared(shared: Text, main: bool) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let ls = lines(text);
    let mut items = Vec::new();
    let mut in_main = main;
    let mut depth: usize = 0;
    let mut i = 0;
    while i < ls.len() {
        let l = &ls[i];
        let line = l.text(text);
        let body = line.trim_start_matches(blank);
        let at = l.content.start + (line.len() - body.len());
        let trivial = |kind| Item {
            kind,
            span: l.full.clone(),
            name: String::new(),
            list_kind: None,
            value: None,
            depth,
            main: in_main,
        };
        if body.trim_end_matches(blank).is_empty() {
            items.push(trivial(Kind::Blank));
            i += 1;
            continue;
        }
        if body.starts_with('#') {
            items.push(trivial(Kind::Comment));
            i += 1;
            continue;
        }
        // The logical line: this one and the ones its trailing `\` continues.
        let mut pieces = Vec::new();
        let mut joined = String::new();
        let mut j = i;
        let mut piece_start = at;
        let end;
        loop {
            let lj = &ls[j];
            let content = &text[piece_start..lj.content.end];
            let trimmed = content.trim_end_matches(blank);
            pieces.push((joined.len(), piece_start));
            if let Some(cont) = trimmed.strip_suffix('\\') {
                joined.push_str(cont);
                // The next line that is not a comment continues it.
                j += 1;
                while j < ls.len() && ls[j].text(text).trim_start_matches(blank).starts_with('#') {
                    j += 1;
                }
                if j >= ls.len() {
                    // Exim ends the value at the end of the file.
                    j = ls.len() - 1;
                    end = piece_start + cont.len();
                    break;
                }
                let nl = ls[j].text(text);
                piece_start = ls[j].content.start + (nl.len() - nl.trim_start_matches(blank).len());
                continue;
            }
            joined.push_str(trimmed);
            end = piece_start + trimmed.len();
            break;
        }
        let span = l.full.start..ls[j].full.end;
        i = j + 1;
        let word_len = joined
            .find(|c: char| c.is_ascii_whitespace() || c == '=')
            .unwrap_or(joined.len());
        let word = &joined[..word_len];
        let mut item = Item {
            kind: Kind::Other,
            span,
            name: String::new(),
            list_kind: None,
            value: None,
            depth,
            main: in_main,
        };
        if let Some(d) = word.strip_prefix('.') {
            match d {
                "ifdef" | "ifndef" => depth += 1,
                // Exim ignores an `.endif` without its `.if…`, and a block the file
                // leaves open.
                "endif" => depth = depth.saturating_sub(1),
                _ => {}
            }
            item.kind = Kind::Directive(d.to_string());
            item.depth = depth.min(item.depth);
            items.push(item);
            continue;
        }
        if word == "begin" {
            in_main = false;
            item.main = false;
            item.kind = Kind::Begin;
            item.name = joined[word_len..].trim().to_string();
            items.push(item);
            continue;
        }
        let macro_def = word.starts_with(|c: char| c.is_ascii_uppercase());
        if !macro_def && !in_main {
            items.push(item);
            continue;
        }
        // `[hostlist] name = value`.
        let (list_kind, rest_at) = if LISTS.contains(&word) {
            let r = joined[word_len..].trim_start();
            (Some(word.to_string()), joined.len() - r.len())
        } else {
            (None, 0)
        };
        let rest = &joined[rest_at..];
        let name_len = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        let after = rest[name_len..].trim_start();
        let Some(v) = after.strip_prefix('=') else {
            // A boolean option (`no_x`, `x`), or a macro without value.
            item.kind = if macro_def { Kind::Macro } else { Kind::Option };
            item.name = name.to_string();
            items.push(item);
            continue;
        };
        let v = v.strip_prefix('=').unwrap_or(v); // `NAME == value` redefines
        let vtext = v.trim_start_matches([' ', '\t']);
        let vstart = joined.len() - vtext.len();
        let value = Value {
            text: vtext.to_string(),
            pieces: pieces
                .iter()
                .filter_map(|&(jo, fo)| {
                    if jo + joined_piece_len(&pieces, jo, joined.len()) <= vstart {
                        None
                    } else if jo <= vstart {
                        Some((0, fo + (vstart - jo)))
                    } else {
                        Some((jo - vstart, fo))
                    }
                })
                .collect(),
            end,
        };
        item.kind = if macro_def { Kind::Macro } else { Kind::Option };
        item.name = name.to_string();
        item.list_kind = list_kind;
        item.value = Some(value);
        items.push(item);
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// The length of the joined piece starting at `jo`.
fn joined_piece_len(pieces: &[(usize, usize)], jo: usize, total: usize) -> usize {
    pieces
        .iter()
        .map(|&(j, _)| j)
        .find(|&j| j > jo)
        .unwrap_or(total)
        - jo
}

impl Doc {
    /// The main-section options and macros named `name` (every definition, in order).
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items
            .iter()
            .filter(move |i| matches!(i.kind, Kind::Option | Kind::Macro) && i.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_lists_macros_and_continuations_round_trip() {
        let t = "# main\nMAIN_RELAY_NETS = 192.0.2.0/24 : \\\n   # a comment inside\n   198.51.100.0/24\r\nhostlist relay_from_hosts = <; 127.0.0.1 ; ::1\n.ifdef X\nlocal_interfaces = 127.0.0.1\n.endif\nbegin acl\nlocal_interfaces = ignored\n";
        let d = parse(t, true).unwrap();
        assert!(d.tiles());
        assert_eq!(d.to_string(), t);
        let m = d.named("MAIN_RELAY_NETS").next().unwrap();
        let v = m.value.as_ref().unwrap();
        assert_eq!(v.text, "192.0.2.0/24 : 198.51.100.0/24");
        // The second network is on the fourth line of the file.
        let s = v.span_in_file(&(15..30)).unwrap();
        assert_eq!(&t[s], "198.51.100.0/24");
        assert_eq!(&t[v.to_file(v.text.len())..][..2], "\r\n");
        let r = d.named("relay_from_hosts").next().unwrap();
        assert_eq!(r.list_kind.as_deref(), Some("hostlist"));
        assert_eq!(r.value.as_ref().unwrap().text, "<; 127.0.0.1 ; ::1");
        assert_eq!(d.named("local_interfaces").count(), 1);
        assert_eq!(d.named("local_interfaces").next().unwrap().depth, 1);
    }

    #[test]
    fn what_exim_accepts_reads_an_unbalanced_conditional_a_final_backslash_a_blank_line() {
        assert!(parse(".ifdef X\nlocal_interfaces = 127.0.0.1\n", true).is_ok());
        assert!(parse("a = 1\n.endif\n", true).is_ok());
        let d = parse("local_interfaces = 127.0.0.1 \\\n", true).unwrap();
        assert_eq!(
            d.named("local_interfaces")
                .next()
                .unwrap()
                .value
                .as_ref()
                .unwrap()
                .text,
            "127.0.0.1 "
        );
        // A blank line ends a continuation (the next line is a new setting to Exim).
        let d = parse("local_interfaces = 127.0.0.1 \\\n\n  : ::::1\n", true).unwrap();
        assert!(d.tiles());
        assert_eq!(
            d.named("local_interfaces")
                .next()
                .unwrap()
                .value
                .as_ref()
                .unwrap()
                .text,
            "127.0.0.1 "
        );
    }
}
