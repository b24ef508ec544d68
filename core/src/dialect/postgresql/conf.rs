//! `postgresql.conf` (and `postgresql.auto.conf`), losslessly, as PostgreSQL 15's
//! configuration scanner (`guc-file.l`) reads it:
//!
//! - one `name [=] value` per line; blanks, tabs and `\r` separate; `#` starts a comment
//!   to the end of the line; there are no continuation lines;
//! - a name is a letter or `_` followed by letters, digits and `_`, optionally one `.`
//!   and a second such word (`plpgsql.variable_conflict`); names are case-insensitive;
//! - a value is a single-quoted string (`''` or `\'` for a quote, `\n`, `\t`, octal
//!   escapes), a number with an optional unit (`128MB`, `0.9`, `-1`, `0x10`), or an
//!   unquoted word that starts with a letter and may hold `-._:/` (`localhost`, `on`);
//!   anything else on the line (two values, `1.5GB`, an unquoted `*`) stops the server with
//!   a syntax error;
//! - `include`, `include_if_exists` and `include_dir` name files relative to the
//!   directory of the file that holds them; the last value of a setting read wins.
//!
//! A [`Doc`] holds one [`Line`] per physical line; the lines tile the text.

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// One line: blank or comment (`setting: None`), or a setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The whole line, its ending included.
    pub span: Span,
    pub setting: Option<Setting>,
}

/// `name = value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    pub name_span: Span,
    /// The value token as written (quotes included for a string).
    pub raw: String,
    pub value_span: Span,
    /// The value as the server sees it (a string unquoted and unescaped).
    pub value: String,
    /// True when the value was a single-quoted string.
    pub quoted: bool,
}

impl Setting {
    /// True when the setting is `name` (case-insensitive, as PostgreSQL compares names).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The include directive this line is, if any: `include`, `include_if_exists` or
    /// `include_dir`, lowercased.
    pub fn include(&self) -> Option<&'static str> {
        ["include", "include_if_exists", "include_dir"]
            .into_iter()
            .find(|k| self.is(k))
    }
}

/// A parsed `postgresql.conf`.
pub type Doc = crate::doc::Doc<Line>;

impl crate::doc::Spanned for Line {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

fn letter(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn letter_or_digit(b: u8) -> bool {
    letter(b) || b.is_ascii_digit()
}

/// True for a name the scanner reads as one (`ID` or `QUALIFIED_ID`).
fn is_name(t: &str) -> bool {
    let id = |s: &str| {
        let b = s.as_bytes();
        !b.is_empty() && letter(b[0]) && b[1..].iter().all(|&c| letter_or_digit(c))
    };
    match t.split_once('.') {
        Some((a, b)) => id(a) && id(b),
        None => id(t),
    }
}

/// True for an unquoted value the scanner reads as one token: an unquoted string
/// (`localhost`, `en_US.UTF-8`), an integer with an optional unit, or a real.
fn is_bare_value(t: &str) -> bool {
    let b = t.as_bytes();
    if b.is_empty() {
        return false;
    }
    if letter(b[0]) {
        return b[1..]
            .iter()
            .all(|&c| letter_or_digit(c) || b"-._:/".contains(&c));
    }
    let s = t.strip_prefix(['-', '+']).unwrap_or(t);
    // INTEGER: digits or 0x hex digits, then unit letters.
    let int = {
        let (digits, rest) = match s.strip_prefix("0x") {
            Some(h) => {
                let n = h.bytes().take_while(u8::is_ascii_hexdigit).count();
                (n, &h[n..])
            }
            None => {
                let n = s.bytes().take_while(u8::is_ascii_digit).count();
                (n, &s[n..])
            }
        };
        digits > 0 && rest.bytes().all(|c| c.is_ascii_alphabetic())
    };
    // REAL: digits* . digits* [Ee sign? digits+]
    let real = || {
        let Some((a, b)) = s.split_once('.') else {
            return false;
        };
        if !a.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
        let n = b.bytes().take_while(u8::is_ascii_digit).count();
        let exp = &b[n..];
        if exp.is_empty() {
            return true;
        }
        let Some(e) = exp.strip_prefix(['e', 'E']) else {
            return false;
        };
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
    };
    int || real()
}

/// A string's value as the server reads it (`GUC_scanstr`): quotes off, `''` and the
/// backslash escapes resolved.
pub fn unescape(quoted: &str) -> String {
    let inner = &quoted[1..quoted.len() - 1];
    let mut out = String::new();
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\'' => {
                it.next();
                out.push('\'');
            }
            '\\' => match it.next() {
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(d @ '0'..='7') => {
                    let mut v = d as u32 - '0' as u32;
                    for _ in 0..2 {
                        match it.peek() {
                            Some(&o @ '0'..='7') => {
                                v = v * 8 + (o as u32 - '0' as u32);
                                it.next();
                            }
                            _ => break,
                        }
                    }
                    out.push(char::from_u32(v & 0xff).unwrap_or('?'));
                }
                Some(o) => out.push(o),
                None => {}
            },
            c => out.push(c),
        }
    }
    out
}

/// The end (exclusive, relative to `s`) of a single-quoted string starting at `s[0]`.
fn string_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => i += 2,
            b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

const EXPECTED_VALUE: &str = "a value: a 'quoted string', a number with an optional unit, \
     or one word starting with a letter (PostgreSQL stops with a syntax error otherwise)";

/// Parses one `postgresql.conf`.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let blank = |c: char| c == ' ' || c == '\t' || c == '\r';
    let mut items = Vec::new();
    for l in lines(text) {
        let body = &text[l.content.clone()];
        let base = l.content.start;
        let skip =
            |from: usize| from + body[from..].len() - body[from..].trim_start_matches(blank).len();
        let at = skip(0);
        if at == body.len() || body[at..].starts_with('#') {
            items.push(Line {
                span: l.full,
                setting: None,
            });
            continue;
        }
        let word_end = |from: usize| {
            from + body[from..]
                .find(|c: char| blank(c) || c == '=' || c == '#' || c == '\'')
                .unwrap_or(body.len() - from)
        };
        let ne = word_end(at);
        let name = &body[at..ne];
        if !is_name(name) {
            return Err(ParseError::new(
                base + at,
                ParseError::describe(text, base + at),
                "a setting name (letters, digits and `_`, starting with a letter) or a `#` comment",
            ));
        }
        let mut v = skip(ne);
        if body[v..].starts_with('=') {
            v = skip(v + 1);
        }
        let (ve, value, quoted) = if body[v..].starts_with('\'') {
            let Some(n) = string_end(&body[v..]) else {
                return Err(ParseError::new(
                    base + v,
                    format!("`{}`", &body[v..]),
                    "a closing `'` on the same line (PostgreSQL strings do not span lines)",
                ));
            };
            (v + n, unescape(&body[v..v + n]), true)
        } else {
            let e = word_end(v);
            let w = &body[v..e];
            if !is_bare_value(w) {
                return Err(ParseError::new(
                    base + v,
                    ParseError::describe(text, base + v),
                    EXPECTED_VALUE,
                ));
            }
            (e, w.to_string(), false)
        };
        let rest = skip(ve);
        if rest < body.len() && !body[rest..].starts_with('#') {
            return Err(ParseError::new(
                base + rest,
                ParseError::describe(text, base + rest),
                "the end of the line or a `#` comment after the value (quote a value with blanks or several words)",
            ));
        }
        items.push(Line {
            span: l.full,
            setting: Some(Setting {
                name: name.to_string(),
                name_span: base + at..base + ne,
                raw: body[v..ve].to_string(),
                value_span: base + v..base + ve,
                value,
                quoted,
            }),
        });
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// Quotes `value` as a `postgresql.conf` string.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

impl Doc {
    pub fn lines(&self) -> &[Line] {
        &self.items
    }

    /// The settings, with their line indices.
    pub fn settings(&self) -> impl Iterator<Item = (usize, &Setting)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.setting.as_ref().map(|s| (i, s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_as_the_scanner_reads_them() {
        let t = "# c\nlisten_addresses = '192.0.2.10, ''x''' # where\r\nport=5433\n\
                 shared_buffers 128MB\nplpgsql.x = on\nlc_messages = en_US.UTF-8\nf = 0.9\n";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        assert!(d.tiles());
        let s: Vec<&Setting> = d.settings().map(|(_, s)| s).collect();
        assert_eq!(s[0].value, "192.0.2.10, 'x'");
        assert!(s[0].quoted && s[0].is("LISTEN_ADDRESSES"));
        assert_eq!(&t[s[0].value_span.clone()], "'192.0.2.10, ''x'''");
        assert_eq!(s[1].value, "5433");
        assert_eq!(s[2].value, "128MB");
        assert_eq!(s[3].name, "plpgsql.x");
        assert_eq!(s[4].value, "en_US.UTF-8");
        assert_eq!(unescape(r"'a\'b\tc\101'"), "a'b\tcA");
    }

    #[test]
    fn what_the_server_rejects_is_refused_at_its_place() {
        for (t, at) in [
            ("listen_addresses = *\n", 19),
            ("listen_addresses = '*\n", 19),
            ("a = 1 2\n", 6),
            ("a = 1.5GB\n", 4),
            ("listen-addresses = 'x'\n", 0),
            ("x\n", 1),
            ("a = 'x' y\n", 8),
        ] {
            assert_eq!(parse(t).unwrap_err().offset, at, "{t}");
        }
        assert_eq!(quote("it's"), "'it''s'");
    }
}
