//! `/etc/exim4/update-exim4.conf.conf`: the file Debian's `update-exim4.conf` sources with
//! `sh` and turns into Exim macros (`dc_relay_nets` becomes `MAIN_RELAY_NETS`, …).
//!
//! What is read, one assignment per line as debconf writes them:
//! - blank lines, and lines whose first non-blank character is `#`;
//! - `name='value'` (taken literally), `name="value"` and `name=value` (a bare word),
//!   optionally followed by blanks and a `#` comment. The last assignment of a name wins.
//!
//! Anything else is shell v6fix does not evaluate and is refused with its place: a quote
//! not closed on its line, a command, a word after the value, a `;` or `$` outside quotes.
//! A double-quoted value with `$`, `` ` `` or `\` is expanded by the shell: it is read as
//! [`Value::dynamic`], for the plugin to leave alone.

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// A value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The text inside the quotes (or the bare word).
    pub span: Span,
    /// `'`, `"` or none.
    pub quote: Option<char>,
    /// True when the shell would expand it (`$`, `` ` `` or `\` inside double quotes).
    pub dynamic: bool,
}

/// What one line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Blank,
    Comment,
    Assign,
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: Kind,
    /// The whole line with its line ending.
    pub span: Span,
    /// The variable assigned; empty for blanks and comments.
    pub name: String,
    pub value: Option<Value>,
}

impl crate::doc::Spanned for Line {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// A parsed update-exim4.conf.conf.
pub type Doc = crate::doc::Doc<Line>;

/// Characters a bare shell word may hold without being expanded or split.
fn bare_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_./:,@+%=[]~!".contains(c)
}

/// Parses the file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut items = Vec::new();
    for l in lines(text) {
        let line = l.text(text);
        let lead = line.len() - line.trim_start_matches([' ', '\t']).len();
        let body = &line[lead..];
        let at = l.content.start + lead;
        let trivial = |kind| Line {
            kind,
            span: l.full.clone(),
            name: String::new(),
            value: None,
        };
        if body.trim_end_matches([' ', '\t', '\r']).is_empty() {
            items.push(trivial(Kind::Blank));
            continue;
        }
        if body.starts_with('#') {
            items.push(trivial(Kind::Comment));
            continue;
        }
        let name_len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let name = &body[..name_len];
        if name.is_empty()
            || name.starts_with(|c: char| c.is_ascii_digit())
            || !body[name_len..].starts_with('=')
        {
            return Err(ParseError::new(
                at,
                format!("`{}`", ParseError::describe(text, at)),
                "NAME='value', a comment or a blank line (update-exim4.conf sources this file with sh; v6fix reads assignments only)",
            ));
        }
        let vstart = at + name_len + 1;
        let rest = &text[vstart..l.content.end];
        let (value, after) = match rest.chars().next() {
            Some(q @ ('\'' | '"')) => {
                let close = rest[1..].find(q).ok_or_else(|| {
                    ParseError::new(
                        vstart,
                        format!("an unterminated {q} quote"),
                        format!("the closing {q} on the same line"),
                    )
                })?;
                let inner = &rest[1..1 + close];
                (
                    Value {
                        span: vstart + 1..vstart + 1 + close,
                        quote: Some(q),
                        dynamic: q == '"' && inner.contains(['$', '`', '\\']),
                    },
                    vstart + close + 2,
                )
            }
            _ => {
                let n = rest.find(|c: char| !bare_ok(c)).unwrap_or(rest.len());
                (
                    Value {
                        span: vstart..vstart + n,
                        quote: None,
                        dynamic: false,
                    },
                    vstart + n,
                )
            }
        };
        let tail = &text[after..l.content.end];
        let tail_t = tail.trim_start_matches([' ', '\t']);
        let ok = tail_t.trim_end_matches('\r').is_empty()
            || (tail_t.starts_with('#') && tail_t.len() < tail.len());
        if !ok {
            let off = after + (tail.len() - tail_t.len());
            return Err(ParseError::new(
                off,
                format!("`{}`", ParseError::describe(text, off)),
                "the end of the line or a # comment after the value (quote a value that holds blanks, ; or $)",
            ));
        }
        items.push(Line {
            kind: Kind::Assign,
            span: l.full.clone(),
            name: name.to_string(),
            value: Some(value),
        });
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

impl Doc {
    /// The assignment of `name` that wins (the last one).
    pub fn get(&self, name: &str) -> Option<&Line> {
        self.items
            .iter()
            .rev()
            .find(|l| l.kind == Kind::Assign && l.name == name)
    }

    /// The text of `value` as written between its quotes.
    pub fn raw(&self, value: &Value) -> &str {
        &self.src[value.span.clone()]
    }
}

/// `text` as a value of this file where `old` stood: in `old`'s quotes, or in single
/// quotes when a bare word cannot hold it.
pub fn requote(old: &Value, text: &str) -> (Span, String) {
    match old.quote {
        Some(_) => (old.span.clone(), text.to_string()),
        None if text.chars().all(bare_ok) => (old.span.clone(), text.to_string()),
        None => (old.span.clone(), format!("'{text}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debconf_assignments_comments_and_blanks_round_trip() {
        let t = "# comment\n\ndc_local_interfaces='127.0.0.1 ; ::1'\r\ndc_relay_nets=\"192.0.2.0/24\" # trusted\nCFILEMODE=644";
        let d = parse(t).unwrap();
        assert!(d.tiles());
        assert_eq!(d.to_string(), t);
        let v = d
            .get("dc_local_interfaces")
            .unwrap()
            .value
            .as_ref()
            .unwrap();
        assert_eq!(d.raw(v), "127.0.0.1 ; ::1");
        assert_eq!(
            d.raw(d.get("CFILEMODE").unwrap().value.as_ref().unwrap()),
            "644"
        );
        assert_eq!(
            d.raw(d.get("dc_relay_nets").unwrap().value.as_ref().unwrap()),
            "192.0.2.0/24"
        );
    }

    #[test]
    fn the_last_assignment_wins_and_expansions_are_dynamic() {
        let d = parse("a='1'\na=\"$HOME\"\n").unwrap();
        assert!(d.get("a").unwrap().value.as_ref().unwrap().dynamic);
    }

    #[test]
    fn shell_v6fix_does_not_evaluate_is_refused_at_its_place() {
        for (t, at) in [
            ("dc_relay_nets='192.0.2.0/24\n", 14),
            ("dc_relay_nets=192.0.2.0/24;2001:db8::/64\n", 26),
            ("dc_relay_nets='a' b\n", 18),
            ("export dc_relay_nets\n", 0),
            ("  . /etc/other\n", 2),
        ] {
            assert_eq!(parse(t).unwrap_err().offset, at, "{t}");
        }
    }

    #[test]
    fn a_bare_word_that_needs_blanks_gets_quotes() {
        let d = parse("x=a\n").unwrap();
        let v = d.get("x").unwrap().value.as_ref().unwrap();
        assert_eq!(requote(v, "a ; b"), (2..3, "'a ; b'".to_string()));
    }
}
