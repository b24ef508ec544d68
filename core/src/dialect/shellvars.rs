//! Files of shell variable assignments that tools source or read line by line:
//! `/etc/default/ufw` (ufw reads `KEY=value` lines itself) and `/etc/default/grub`
//! (sourced by `update-grub`), losslessly.
//!
//! - `NAME=value`, `NAME="value"`, `NAME='value'`, with optional `export `; the last
//!   assignment of a name wins.
//! - `#` lines are comments; anything else (a conditional, a command) is kept as
//!   [`Kind::Other`] and never read as an assignment.

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Blank,
    Comment,
    /// `NAME=value`: the name, the value without its quotes, and the span of the value
    /// inside its quotes.
    Assign {
        name: String,
        value: String,
        value_span: Span,
    },
    Other,
}

/// One physical line.
pub type Item = crate::doc::Item<Kind>;

/// A parsed file of assignments.
pub type Doc = crate::doc::Doc<Item>;

/// Parses a file of assignments. Never fails: what is not an assignment is kept as is.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let items = lines(text)
        .into_iter()
        .map(|l| {
            let t = l.text(text);
            let body = t.trim_start();
            let lead = t.len() - body.len();
            let kind = if body.is_empty() {
                Kind::Blank
            } else if body.starts_with('#') {
                Kind::Comment
            } else {
                assignment(body, l.content.start + lead).unwrap_or(Kind::Other)
            };
            Item { span: l.full, kind }
        })
        .collect();
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

fn assignment(body: &str, base: usize) -> Option<Kind> {
    let (body, base) = match body.strip_prefix("export ") {
        Some(r) => (r.trim_start(), base + body.len() - r.trim_start().len()),
        None => (body, base),
    };
    let eq = body.find('=')?;
    let name = &body[..eq];
    if name.is_empty()
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || name.as_bytes()[0].is_ascii_digit()
    {
        return None;
    }
    let rest = body[eq + 1..].trim_end();
    let v0 = base + eq + 1;
    let (value, span) = match rest.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) => {
            let close = rest[1..].find(*q as char)? + 1;
            if !rest[close + 1..].trim().is_empty() && !rest[close + 1..].trim().starts_with('#') {
                return None;
            }
            (rest[1..close].to_string(), v0 + 1..v0 + close)
        }
        _ => {
            let end = rest.find([' ', '\t']).unwrap_or(rest.len());
            (rest[..end].to_string(), v0..v0 + end)
        }
    };
    Some(Kind::Assign {
        name: name.to_string(),
        value,
        value_span: span,
    })
}

impl Doc {
    /// The assignment of `name` that wins (the last): (item, value, value span).
    pub fn get(&self, name: &str) -> Option<(usize, &str, Span)> {
        self.items
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, it)| match &it.kind {
                Kind::Assign {
                    name: n,
                    value,
                    value_span,
                } if n == name => Some((i, value.as_str(), value_span.clone())),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_bare_and_exported_values_the_last_wins() {
        let t = "# x\nIPV6=no\nGRUB_CMDLINE_LINUX=\"quiet ipv6.disable=1\"\nexport A='b c' # note\nif [ x ]; then\nIPV6=yes\n";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        let (i, v, s) = d.get("IPV6").unwrap();
        assert_eq!((i, v, &t[s]), (5, "yes", "yes"));
        let (_, v, s) = d.get("GRUB_CMDLINE_LINUX").unwrap();
        assert_eq!((v, &t[s]), ("quiet ipv6.disable=1", "quiet ipv6.disable=1"));
        assert_eq!(d.get("A").unwrap().1, "b c");
        assert_eq!(d.items[4].kind, Kind::Other);
    }
}
