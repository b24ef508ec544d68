//! vsftpd's `vsftpd.conf`, losslessly.
//!
//! The rules are vsftpd's own (`parseconf.c`, checked by starting vsftpd 3.0.3 of Debian 12):
//! - one `name=value` per line, split at the first `=`; blanks before the name are skipped,
//!   nothing else is trimmed: `listen = YES` names the unknown setting `listen ` and a
//!   trailing blank or `\r` is part of the value (`YES\r` is no boolean, so a CRLF file
//!   stops vsftpd);
//! - a line is a comment only when its very first byte is `#`; an indented `# text` is
//!   read as a setting and stops vsftpd; empty and all-blank lines are skipped;
//! - names are case-sensitive; the last line of a setting wins;
//! - booleans are `YES`/`TRUE`/`1` or `NO`/`FALSE`/`0`, in any case.

use crate::edit::{Attach, Edits};
use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Empty or all blanks.
    Blank,
    /// `#` in the first column.
    Comment,
    /// `name=value`: the spans of the name and of the value (empty when there is no `=`).
    Setting { name: Span, value: Span },
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The whole line with its line ending.
    pub span: Span,
    pub kind: Kind,
}

/// A parsed vsftpd.conf.
pub type Doc = crate::doc::Doc<Line>;

impl crate::doc::Spanned for Line {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// vsftpd's `isspace`: the blanks it skips before a name and counts as an empty line.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{b}' | '\u{c}')
}

/// Parses a vsftpd.conf. Fails only on an indented comment, which vsftpd reads as the
/// unknown setting `# …` and stops on.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut items = Vec::new();
    for l in lines(text) {
        // vsftpd splits at `\n` only: a `\r` before it belongs to the line's text.
        let full = &text[l.full.clone()];
        let body = full.strip_suffix('\n').unwrap_or(full);
        let end = l.full.start + body.len();
        let kind = if body.chars().all(is_space) {
            Kind::Blank
        } else if body.starts_with('#') {
            Kind::Comment
        } else {
            let lead = body.len() - body.trim_start_matches(is_space).len();
            let start = l.full.start + lead;
            if body[lead..].starts_with('#') {
                return Err(ParseError::new(
                    start,
                    format!("`{}` after blanks", body[lead..].trim_end()),
                    "a comment with `#` in the first column (vsftpd reads an indented `#` line as a setting and does not start)",
                ));
            }
            match text[start..end].find('=') {
                Some(eq) => Kind::Setting {
                    name: start..start + eq,
                    value: start + eq + 1..end,
                },
                None => Kind::Setting {
                    name: start..end,
                    value: end..end,
                },
            }
        };
        items.push(Line { span: l.full, kind });
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// A boolean value as vsftpd reads it; `None` when vsftpd stops on it.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_uppercase().as_str() {
        "YES" | "TRUE" | "1" => Some(true),
        "NO" | "FALSE" | "0" => Some(false),
        _ => None,
    }
}

/// The spelling of `on` in the style of `like`, a boolean already in the file: `yes`/`no`
/// when it is lower case, `YES`/`NO` otherwise.
pub fn spell_bool(on: bool, like: &str) -> &'static str {
    let lower = like.bytes().any(|b| b.is_ascii_lowercase());
    match (on, lower) {
        (true, false) => "YES",
        (false, false) => "NO",
        (true, true) => "yes",
        (false, true) => "no",
    }
}

impl Doc {
    /// Every setting named `name` (case-sensitive), in file order, as (item, value span).
    pub fn settings<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (usize, Span)> + 'a {
        self.items
            .iter()
            .enumerate()
            .filter_map(move |(i, it)| match &it.kind {
                Kind::Setting { name: n, value } if &self.src[n.clone()] == name => {
                    Some((i, value.clone()))
                }
                _ => None,
            })
    }

    /// Inserts `line` after item `i`, ended with `\n` whatever the file's other lines
    /// use: vsftpd splits at `\n` only, so a `\r` would become part of the value.
    pub fn insert_after(&self, edits: &mut Edits, i: usize, line: &str) {
        let end = self.items[i].span.end;
        if self.src[..end].ends_with('\n') {
            edits.insert_as(end, Attach::Line, format!("{line}\n"));
        } else {
            edits.insert_as(end, Attach::Line, format!("\n{line}"));
        }
    }

    /// The line that sets `name` last (the one vsftpd keeps), as (item, value span).
    pub fn last(&self, name: &str) -> Option<(usize, Span)> {
        self.settings(name).last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_of_every_fixture_parses_or_fails_cleanly() {
        // The whole fixtures print back in the round-trip test of every dialect.
        for (_, text) in crate::doc::fixtures("vsftpd", 3) {
            for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                if let Ok(d) = parse(&text[..cut]) {
                    assert_eq!(d.to_string(), &text[..cut]);
                }
            }
        }
    }

    #[test]
    fn settings_split_at_the_first_equals_and_keep_blanks_and_carriage_returns() {
        let t = "listen=YES\r\n  listen_ipv6=a=b \nbanner\n#x\n \t\nlisten=NO";
        let d = parse(t).unwrap();
        let (i, v) = d.last("listen").unwrap();
        assert_eq!((i, &t[v]), (5, "NO"));
        let (_, v) = d.settings("listen").next().unwrap();
        assert_eq!(&t[v], "YES\r");
        let (_, v) = d.last("listen_ipv6").unwrap();
        assert_eq!(&t[v], "a=b ");
        let (_, v) = d.last("banner").unwrap();
        assert!(v.is_empty());
        assert_eq!(d.items[3].kind, Kind::Comment);
        assert_eq!(d.items[4].kind, Kind::Blank);
        assert!(d.last("Listen").is_none(), "names are case-sensitive");
    }

    #[test]
    fn inserted_lines_end_with_a_line_feed_in_a_crlf_file_too() {
        let t = "\r\nlisten=YES\nx=1";
        let d = parse(t).unwrap();
        let mut e = Edits::new();
        d.insert_after(&mut e, 1, "listen_ipv6=YES");
        d.insert_after(&mut e, 2, "y=2");
        assert_eq!(e.apply(t), "\r\nlisten=YES\nlisten_ipv6=YES\nx=1\ny=2");
    }

    #[test]
    fn an_indented_comment_is_refused_where_it_starts() {
        let e = parse("listen=YES\n  # note\n").unwrap_err();
        assert_eq!(e.offset, 13);
    }

    #[test]
    fn booleans_as_vsftpd_reads_them() {
        assert_eq!(parse_bool("yes"), Some(true));
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("YES\r"), None);
        assert_eq!(parse_bool("YES "), None);
        assert_eq!(spell_bool(false, "yes"), "no");
        assert_eq!(spell_bool(true, "NO"), "YES");
    }
}
