//! MariaDB's option files (`my.cnf` and the `.cnf` files it includes), losslessly, as
//! MariaDB 10.11's `my_load_defaults` reads them:
//!
//! - `[group]` starts a group; an option before any group stops every program that reads
//!   the file (`Found option without preceding group`);
//! - `!include FILE` and `!includedir DIR` (the directory's files ending in `.cnf`, in
//!   name order) at the start of a line, in any group;
//! - a line whose first non-blank character is `#` or `;` is a comment, and a `#` outside
//!   quotes ends the line anywhere; leading and trailing blanks are dropped;
//! - `option` or `option = value`; `-` and `_` in a name are the same; a value in matching
//!   `'` or `"` quotes loses them.
//!
//! A [`Doc`] holds one [`Line`] per physical line; the lines tile the text.

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// What a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Blank,
    Comment,
    /// `[name]`, the name trimmed.
    Group(String),
    /// `!include` (false) or `!includedir` (true), with the path.
    Include {
        dir: bool,
        path: String,
    },
    Option(Opt),
}

/// `name [= value]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// The name as written.
    pub name: String,
    pub name_span: Span,
    /// The value as written, without the trailing comment and blanks (quotes kept).
    pub value_span: Option<Span>,
    /// The value as the server reads it (quotes removed).
    pub value: Option<String>,
}

impl Opt {
    /// True when this is option `name`, with `-` and `_` the same and a `loose-` prefix
    /// dropped.
    pub fn is(&self, name: &str) -> bool {
        let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
        let n = norm(&self.name);
        let n = n.strip_prefix("loose-").unwrap_or(&n).to_string();
        n == norm(name)
    }
}

/// One line and the group it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub span: Span,
    pub kind: Kind,
    /// The group the line belongs to (lowercased), `None` before the first one.
    pub group: Option<String>,
}

/// A parsed option file.
pub type Doc = crate::doc::Doc<Line>;

impl crate::doc::Spanned for Line {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// The end of `s` before a `#` outside quotes (`remove_end_comment`).
fn before_comment(s: &str) -> usize {
    let mut quote = None;
    let mut escape = false;
    for (i, c) in s.char_indices() {
        if (c == '\'' || c == '"') && !escape {
            match quote {
                None => quote = Some(c),
                Some(q) if q == c => quote = None,
                _ => {}
            }
        }
        if quote.is_none() && c == '#' {
            return i;
        }
        escape = quote.is_some() && c == '\\' && !escape;
    }
    s.len()
}

/// Parses one option file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let blank = |c: char| c == ' ' || c == '\t' || c == '\r' || c == '\u{b}' || c == '\u{c}';
    let mut items = Vec::new();
    let mut group: Option<String> = None;
    for l in lines(text) {
        let body = &text[l.content.clone()];
        let base = l.content.start;
        let lead = body.len() - body.trim_start_matches(blank).len();
        let rest = &body[lead..];
        let push = |items: &mut Vec<Line>, kind, group: &Option<String>| {
            items.push(Line {
                span: l.full.clone(),
                kind,
                group: group.clone(),
            })
        };
        if rest.is_empty() {
            push(&mut items, Kind::Blank, &group);
            continue;
        }
        if rest.starts_with('#') || rest.starts_with(';') {
            push(&mut items, Kind::Comment, &group);
            continue;
        }
        if let Some(d) = rest.strip_prefix('!') {
            let (dir, arg) = if let Some(a) = d.strip_prefix("includedir") {
                (true, a)
            } else if let Some(a) = d.strip_prefix("include") {
                (false, a)
            } else {
                return Err(ParseError::new(
                    base + lead,
                    ParseError::describe(text, base + lead),
                    "`!include FILE` or `!includedir DIR`",
                ));
            };
            let path = arg.trim_matches(blank);
            if !arg.starts_with(blank) || path.is_empty() {
                return Err(ParseError::new(
                    base + lead,
                    ParseError::describe(text, base + lead),
                    "a blank and a path after the include directive",
                ));
            }
            push(
                &mut items,
                Kind::Include {
                    dir,
                    path: path.to_string(),
                },
                &group,
            );
            continue;
        }
        let end = lead + before_comment(rest);
        let content = body[lead..end].trim_end_matches(blank);
        if let Some(g) = content.strip_prefix('[') {
            let Some(name) = g.strip_suffix(']') else {
                return Err(ParseError::new(
                    base + lead,
                    format!("`{content}`"),
                    "a group name in brackets, `[mysqld]`, with nothing after the `]`",
                ));
            };
            let name = name.trim_matches(blank).to_ascii_lowercase();
            group = Some(name.clone());
            push(&mut items, Kind::Group(name), &group);
            continue;
        }
        if content.is_empty() {
            push(&mut items, Kind::Comment, &group);
            continue;
        }
        if group.is_none() {
            return Err(ParseError::new(
                base + lead,
                ParseError::describe(text, base + lead),
                "a `[group]` line before the first option (MariaDB stops with `Found option without preceding group`)",
            ));
        }
        let (name, value) = match content.find('=') {
            Some(eq) => {
                let name = content[..eq].trim_end_matches(blank);
                let v = &content[eq + 1..];
                let vl = v.len() - v.trim_start_matches(blank).len();
                let vs = base + lead + eq + 1 + vl;
                let raw = &v[vl..];
                let unq = if raw.len() >= 2
                    && (raw.starts_with('"') && raw.ends_with('"')
                        || raw.starts_with('\'') && raw.ends_with('\''))
                {
                    &raw[1..raw.len() - 1]
                } else {
                    raw
                };
                (name, Some((vs..vs + raw.len(), unq.to_string())))
            }
            None => (content, None),
        };
        let ns = base + lead;
        let (value_span, value) = match value {
            Some((s, v)) => (Some(s), Some(v)),
            None => (None, None),
        };
        push(
            &mut items,
            Kind::Option(Opt {
                name: name.to_string(),
                name_span: ns..ns + name.len(),
                value_span,
                value,
            }),
            &group,
        );
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

impl Doc {
    pub fn lines(&self) -> &[Line] {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_options_includes_and_comments() {
        let t = "# c\n[client-server]\nsocket = /run/mysqld/mysqld.sock\n\n!includedir /etc/mysql/conf.d/\n\
                 [ mysqld ]\nbind_address\t= \"0.0.0.0\" # all\r\nskip-name-resolve\n; old\nloose-bind-address=1";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        assert!(d.tiles());
        let l = d.lines();
        assert_eq!(
            l[4].kind,
            Kind::Include {
                dir: true,
                path: "/etc/mysql/conf.d/".into()
            }
        );
        assert_eq!(l[5].kind, Kind::Group("mysqld".into()));
        let Kind::Option(o) = &l[6].kind else {
            panic!()
        };
        assert!(o.is("bind-address"));
        assert_eq!(o.value.as_deref(), Some("0.0.0.0"));
        assert_eq!(&t[o.value_span.clone().unwrap()], "\"0.0.0.0\"");
        assert_eq!(l[6].group.as_deref(), Some("mysqld"));
        let Kind::Option(o) = &l[9].kind else {
            panic!()
        };
        assert!(o.is("bind_address"));
    }

    #[test]
    fn what_mariadb_refuses_is_refused_at_its_place() {
        for (t, at) in [
            ("bind-address = 1\n", 0),
            ("[mysqld\n", 0),
            ("[mysqld]\n!inclde x\n", 9),
            ("[mysqld]\n!include\n", 9),
        ] {
            assert_eq!(parse(t).unwrap_err().offset, at, "{t}");
        }
    }
}
