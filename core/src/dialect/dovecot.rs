//! Dovecot's configuration language (`dovecot.conf` and the files it includes).
//!
//! The lexical rules follow Dovecot's own parser (`config-parser.c`):
//! - `key = value`; blanks around `=` do not matter; `key=value` is fine.
//! - `#` starts a comment anywhere outside single or double quotes, also after a value.
//! - A line whose content (comment removed, trailing blanks trimmed) ends with `\` continues
//!   on the next line; the pieces are joined with one space. A blank or comment line ends
//!   the run (doveconf then reads the next line as a new one).
//! - Sections `name [arg] {` … `}`, each brace on its own line (`a { b = c }` on one line
//!   is an error in Dovecot too). Filters (`protocol imap {`, `local 192.0.2.1 {`) look the same.
//! - `!include PATH` and `!include_try PATH` (globs allowed, relative to the including file).
//! - `key = <file` reads the value from a file; `\Drafts` and other backslashes are data.
//!
//! A [`Doc`] is a list of items that tile the text; each item is one logical line (a setting
//! with its continuation lines is one item). Printing a `Doc` gives back the input.

use crate::edit::Edits;
use crate::error::ParseError;
use crate::logical::{Join, LogicalLines};
use crate::text::Text;
use crate::text::{Line, Span};
use nom::bytes::complete::take_till1;
use nom::{IResult, Parser};

/// What one logical line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An empty or blank line.
    Blank,
    /// A whole-line `#` comment.
    Comment,
    /// `key = value`.
    Setting(Setting),
    /// `name [arg] {`.
    Open { name: String, arg: Option<String> },
    /// `}`.
    Close,
    /// `!include PATH` or `!include_try PATH`.
    Include { path: String, optional: bool },
}

/// A `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub key_span: Span,
    /// The value as Dovecot sees it: comment removed, continuation pieces joined with one
    /// space, surrounding quotes removed and escapes undone. For `<file` it is the raw text.
    pub value: String,
    /// The value's bytes in the source (quotes included, comment and trailing blanks not).
    /// Empty (at the end of the `=`'s line) when the value is empty.
    pub value_span: Span,
    /// The value was written in quotes.
    pub quoted: bool,
    /// The value is `<file`: read from a file when Dovecot starts.
    pub from_file: bool,
}

/// One logical line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The item's bytes: whole physical lines, line endings included.
    pub span: Span,
    pub kind: Kind,
    /// The index of the enclosing `Open` item, if any.
    pub parent: Option<usize>,
}

/// A parsed Dovecot configuration file.
pub type Doc = crate::doc::Doc<Item>;

impl crate::doc::Spanned for Item {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

fn is_white(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// The key token: everything up to a blank, `=` or `{`.
fn key_token(input: &str) -> IResult<&str, &str> {
    take_till1(|c: char| is_white(c) || c == '=' || c == '{').parse(input)
}

/// Byte offset of a `#` that starts a comment in `line`, outside quotes.
fn comment_start(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= b.len() {
                    return None;
                }
            }
            b'#' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Removes one pair of matching quotes, undoing escapes; `None` when not quoted.
fn unquote(s: &str) -> Option<String> {
    let q = s.chars().next()?;
    if s.len() >= 2 && (q == '"' || q == '\'') && s.ends_with(q) {
        Some(crate::lex::unbackslash(&s[1..s.len() - 1]))
    } else {
        None
    }
}

/// One physical line's content after Dovecot's pre-processing.
struct Piece {
    /// Content start (after indentation) and end (comment removed, blanks trimmed).
    start: usize,
    end: usize,
}

/// The text of a line that Dovecot reads: without its indent and its comment, trailing
/// blanks trimmed; its start offset; and whether it ends with a continuing `\\`.
fn content(text: &str, l: &Line) -> (usize, usize, bool) {
    let t = l.text(text);
    let indent = t.len() - t.trim_start_matches([' ', '\t']).len();
    let body = &t[indent..];
    let cut = comment_start(body).unwrap_or(body.len());
    let c = body[..cut].trim_end_matches([' ', '\t']);
    let start = l.content.start + indent;
    (start, start + c.len(), c.ends_with('\\'))
}

/// True for a blank line or a comment line.
fn blank_or_comment(text: &str, l: &Line) -> bool {
    let t = l.text(text).trim_start_matches([' ', '\t']);
    t.trim_end_matches([' ', '\t']).is_empty() || t.starts_with('#')
}

/// Dovecot's rule: a line whose content (comment removed, trailing blanks trimmed) ends
/// with `\\` continues on the next one, unless that is a blank or comment line, which ends
/// it; blank and comment lines continue nothing.
fn dovecot_rule(text: &str, first: &Line, last: &Line, next: &Line) -> Join {
    let body = next.text(text).trim_start_matches([' ', '\t']);
    let ends = body.trim().is_empty() || body.starts_with('#');
    if !blank_or_comment(text, first) && content(text, last).2 && !ends {
        Join::Joins
    } else {
        Join::Ends
    }
}

/// Parses a Dovecot configuration file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut items: Vec<Item> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    for l in LogicalLines::new(text, dovecot_rule) {
        let first = &l.lines[0];
        let raw = first.text(text);
        let trimmed = raw.trim_start_matches([' ', '\t']);
        let parent = stack.last().copied();
        if trimmed.trim_end_matches([' ', '\t']).is_empty() {
            items.push(Item {
                span: first.full.clone(),
                kind: Kind::Blank,
                parent,
            });
            continue;
        }
        if trimmed.starts_with('#') {
            items.push(Item {
                span: first.full.clone(),
                kind: Kind::Comment,
                parent,
            });
            continue;
        }
        // The logical line's pieces, each without its continuing backslash and the blanks
        // before it.
        let pieces: Vec<Piece> = l
            .lines
            .iter()
            .map(|x| {
                let (start, mut end, cont) = content(text, x);
                if cont {
                    end -= 1;
                    while end > start && is_white(text[..end].chars().last().unwrap_or('x')) {
                        end -= 1;
                    }
                }
                Piece { start, end }
            })
            .collect();
        let span = l.span;
        let logical: String = pieces
            .iter()
            .map(|p| &text[p.start..p.end])
            .collect::<Vec<_>>()
            .join(" ");
        // Map offsets in `logical` back to the source (for spans of single-piece values).
        let src_of = |off: usize| -> usize {
            let mut acc = 0;
            for p in &pieces {
                let len = p.end - p.start;
                if off <= acc + len {
                    return p.start + (off - acc);
                }
                acc += len + 1;
            }
            pieces.last().map_or(0, |p| p.end)
        };
        let base = pieces[0].start;
        let kind = parse_logical(&logical, &src_of, text)?;
        if kind == Kind::Close && stack.pop().is_none() {
            return Err(early_close(text, &items).unwrap_or_else(|| {
                ParseError::new(
                    base,
                    "`}`",
                    "a setting or a section (this `}` closes nothing)",
                )
            }));
        }
        let is_open = matches!(kind, Kind::Open { .. });
        items.push(Item { span, kind, parent });
        if is_open {
            stack.push(items.len() - 1);
        }
    }
    if let Some(&open) = stack.last() {
        let name = match &items[open].kind {
            Kind::Open { name, .. } => name.clone(),
            _ => String::new(),
        };
        let at = items[open].span.start;
        let line = text[..at].matches('\n').count() + 1;
        return Err(ParseError::new(
            text.len(),
            "end of file",
            format!("`}}` closing section `{name}` opened on line {line}"),
        ));
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// Settings and sections Dovecot knows only inside `service { }` and its listeners:
/// `doveconf` stops at one of them at the top level ("Unknown setting").
const SERVICE_ONLY: &[&str] = &[
    "executable",
    "user",
    "group",
    "privileged_group",
    "extra_groups",
    "chroot",
    "drop_priv_before_exec",
    "process_min_avail",
    "process_limit",
    "client_limit",
    "service_count",
    "idle_kill",
    "vsz_limit",
    "type",
    "protocol",
    "port",
    "address",
    "haproxy",
    "reuse_port",
    "mode",
    "inet_listener",
    "unix_listener",
    "fifo_listener",
];

/// A `}` that closes nothing usually has a twin above it that closed a section early. The
/// items after that early `}` then sit at the top level, and `doveconf` stops at the first
/// one it knows only inside a service ("Unknown setting"): the same place is reported here.
fn early_close(text: &str, items: &[Item]) -> Option<ParseError> {
    let top_close =
        |it: &Item| it.kind == Kind::Close && it.parent.is_some_and(|o| items[o].parent.is_none());
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    items.iter().enumerate().find_map(|(k, it)| {
        if it.parent.is_some() {
            return None;
        }
        let (name, at) = match &it.kind {
            Kind::Setting(s) => (s.key.as_str(), s.key_span.start),
            Kind::Open { name, .. } => {
                let line = &text[it.span.clone()];
                let pad = line.len() - line.trim_start_matches([' ', '\t']).len();
                (name.as_str(), it.span.start + pad)
            }
            _ => return None,
        };
        if !SERVICE_ONLY.contains(&name) {
            return None;
        }
        let close = items[..k].iter().rposition(top_close)?;
        let section = match items[close].parent.map(|o| &items[o].kind) {
            Some(Kind::Open { name, arg: Some(a) }) => format!("{name} {a}"),
            Some(Kind::Open { name, arg: None }) => name.clone(),
            _ => return None,
        };
        Some(ParseError::new(
            at,
            format!("`{name}` at the top level"),
            format!(
                "a top-level setting or section (Dovecot knows `{name}` only inside a service, and doveconf stops here with \"Unknown setting\"): the `}}` on line {} closes section `{section}` early",
                line_of(items[close].span.start)
            ),
        ))
    })
}

fn parse_logical(
    logical: &str,
    src_of: &dyn Fn(usize) -> usize,
    text: &str,
) -> Result<Kind, ParseError> {
    let err = |off: usize, expected: &str| {
        let at = src_of(off);
        ParseError::new(at, ParseError::describe(text, at), expected)
    };
    let Ok((rest, key)) = key_token(logical) else {
        // Starts with `=` or `{`.
        return Err(err(0, "a setting name or a section name"));
    };
    let after_key = logical.len() - rest.len();
    let rest_trim = rest.trim_start_matches([' ', '\t']);
    let rest_off = logical.len() - rest_trim.len();
    if key.starts_with('!') {
        let optional = match key {
            "!include" => false,
            "!include_try" => true,
            _ => return Err(err(0, "`!include` or `!include_try`")),
        };
        if rest_trim.is_empty() {
            return Err(err(after_key, "a path after the include"));
        }
        let path = unquote(rest_trim).unwrap_or_else(|| rest_trim.to_string());
        return Ok(Kind::Include { path, optional });
    }
    if key == "}" && rest_trim.is_empty() {
        return Ok(Kind::Close);
    }
    if let Some(v) = rest_trim.strip_prefix('=') {
        let vt = v.trim_start_matches([' ', '\t']);
        let voff = logical.len() - vt.len();
        let value_span = src_of(voff)..src_of(logical.len());
        let (value, quoted) = match unquote(vt) {
            Some(u) => (u, true),
            None => (vt.to_string(), false),
        };
        return Ok(Kind::Setting(Setting {
            key: key.to_string(),
            key_span: src_of(0)..src_of(key.len()),
            from_file: !quoted && value.starts_with('<'),
            value,
            value_span,
            quoted,
        }));
    }
    if rest_trim.is_empty() {
        return Err(err(after_key, "`=` and a value, or `{` opening a section"));
    }
    // A section: `name {` or `name arg {`, the brace last on its line.
    let (arg, brace_off) = if rest_trim.starts_with('{') {
        (None, rest_off)
    } else {
        let (arg_text, after) = match rest_trim.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let mut end = None;
                let b = rest_trim.as_bytes();
                let mut k = 1;
                while k < b.len() {
                    if b[k] == b'\\' {
                        k += 2;
                        continue;
                    }
                    if b[k] == q as u8 {
                        end = Some(k);
                        break;
                    }
                    k += 1;
                }
                match end {
                    Some(e) => (
                        crate::lex::unbackslash(&rest_trim[1..e]),
                        &rest_trim[e + 1..],
                    ),
                    None => return Err(err(rest_off, "a closing quote")),
                }
            }
            _ => {
                let n = rest_trim
                    .find(|c: char| is_white(c) || c == '{')
                    .unwrap_or(rest_trim.len());
                (rest_trim[..n].to_string(), &rest_trim[n..])
            }
        };
        let a = after.trim_start_matches([' ', '\t']);
        (Some(arg_text), logical.len() - a.len())
    };
    let brace = &logical[brace_off..];
    if !brace.starts_with('{') {
        return Err(err(
            brace_off,
            "`{` opening a section (or `=` for a setting)",
        ));
    }
    if brace.len() > 1 {
        return Err(err(
            brace_off + 1,
            "the end of the line after `{` (each brace goes on its own line)",
        ));
    }
    Ok(Kind::Open {
        name: key.to_string(),
        arg,
    })
}

/// A commented-out setting such as Debian's `#listen = *, ::`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commented {
    /// The index of the comment item.
    pub item: usize,
    /// The bytes from the `#` up to the key, removed to uncomment the line.
    pub marker: Span,
    pub value: String,
}

impl Doc {
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn src(&self) -> &str {
        &self.src
    }

    /// The setting of item `i`, if it is one.
    pub fn setting(&self, i: usize) -> Option<&Setting> {
        match &self.items.get(i)?.kind {
            Kind::Setting(s) => Some(s),
            _ => None,
        }
    }

    /// The sections enclosing item `i`, outermost first, as `(name, arg)`.
    pub fn path(&self, i: usize) -> Vec<(&str, Option<&str>)> {
        let mut out = Vec::new();
        let mut p = self.items[i].parent;
        while let Some(k) = p {
            if let Kind::Open { name, arg } = &self.items[k].kind {
                out.push((name.as_str(), arg.as_deref()));
            }
            p = self.items[k].parent;
        }
        out.reverse();
        out
    }

    /// Indices of the settings named `key` at the top level (outside any section), in order.
    pub fn top_level(&self, key: &str) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| self.items[i].parent.is_none())
            .filter(|&i| self.setting(i).is_some_and(|s| s.key == key))
            .collect()
    }

    /// The top-level comments that hold a commented-out `key = value` (`#listen = *, ::`).
    pub fn commented(&self, key: &str) -> Vec<Commented> {
        let mut out = Vec::new();
        for (i, it) in self.items.iter().enumerate() {
            if it.kind != Kind::Comment || it.parent.is_some() {
                continue;
            }
            let line = self.src[it.span.clone()].trim_end_matches(['\r', '\n']);
            let start = it.span.start + (line.len() - line.trim_start_matches([' ', '\t']).len());
            let body = line.trim_start_matches([' ', '\t']).trim_start_matches('#');
            let body_trim = body.trim_start_matches([' ', '\t']);
            let key_at = it.span.start + (line.len() - body_trim.len());
            let Some(rest) = body_trim.strip_prefix(key) else {
                continue;
            };
            let Some(v) = rest.trim_start_matches([' ', '\t']).strip_prefix('=') else {
                continue;
            };
            let cut = comment_start(v).unwrap_or(v.len());
            let value = v[..cut].trim().to_string();
            out.push(Commented {
                item: i,
                marker: start..key_at,
                value,
            });
        }
        out
    }

    /// An edit that replaces the value of setting item `i` with `value` (written as is),
    /// keeping the key, the spacing and any trailing comment.
    pub fn set_value(&self, i: usize, value: &str, edits: &mut Edits) {
        if let Some(s) = self.setting(i) {
            edits.replace(s.value_span.clone(), value);
        }
    }
}

/// Splits a list value (`*, ::`, `*,::`, `* ::`) into its addresses.
pub fn split_list(value: &str) -> Vec<&str> {
    value
        .split([',', ' ', '\t'])
        .filter(|s| !s.is_empty())
        .collect()
}

/// The separator a list value uses between items: `", "` unless it uses another.
pub fn list_separator(raw: &str) -> &'static str {
    if raw.contains(", ") || !raw.contains([',', ' ']) {
        ", "
    } else if raw.contains(',') {
        ","
    } else {
        " "
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_brace_is_reported_where_doveconf_stops() {
        // The `}` on line 4 closes the service early; doveconf stops at line 5.
        let t =
            "service imap-login {\n  inet_listener imap {\n  }\n  }\n  process_min_avail = 1\n}\n";
        let e = parse(t).unwrap_err();
        assert_eq!(&t[e.offset..e.offset + 17], "process_min_avail");
        assert!(e.expected.contains("line 4"), "{e:?}");
        // Nothing at the top level that only a service knows: the stray `}` itself.
        let t = "service imap-login {\n}\nssl = no\n}\n";
        assert_eq!(parse(t).unwrap_err().offset, t.len() - 2);
    }

    fn kinds(d: &Doc) -> Vec<&Kind> {
        d.items().iter().map(|i| &i.kind).collect()
    }

    #[test]
    fn settings_sections_comments_and_includes() {
        let t = "# c\nlisten = *   # trailing\n\nservice imap-login {\n  inet_listener imap {\n    address = 192.0.2.10\n  }\n}\n!include conf.d/*.conf\n!include_try local.conf\n";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        let k = kinds(&d);
        assert_eq!(k[0], &Kind::Comment);
        let s = d.setting(1).unwrap();
        assert_eq!((s.key.as_str(), s.value.as_str()), ("listen", "*"));
        assert_eq!(&t[s.value_span.clone()], "*");
        assert_eq!(k[2], &Kind::Blank);
        assert_eq!(
            k[3],
            &Kind::Open {
                name: "service".into(),
                arg: Some("imap-login".into())
            }
        );
        assert_eq!(
            d.path(5),
            vec![
                ("service", Some("imap-login")),
                ("inet_listener", Some("imap"))
            ]
        );
        assert_eq!(d.setting(5).unwrap().value, "192.0.2.10");
        assert_eq!(
            k[8],
            &Kind::Include {
                path: "conf.d/*.conf".into(),
                optional: false
            }
        );
        assert_eq!(
            k[9],
            &Kind::Include {
                path: "local.conf".into(),
                optional: true
            }
        );
        assert_eq!(d.top_level("listen"), vec![1]);
    }

    #[test]
    fn quotes_keep_hashes_and_backslashes_are_data() {
        let t = "login_greeting = \"# not a comment\" # but this is\nspecial_use = \\Drafts\nssl_cert = </etc/dovecot/private/dovecot.pem\nmailbox \"Sent Messages\" {\n}\n";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        let s = d.setting(0).unwrap();
        assert_eq!(s.value, "# not a comment");
        assert!(s.quoted);
        assert_eq!(&t[s.value_span.clone()], "\"# not a comment\"");
        assert_eq!(d.setting(1).unwrap().value, "\\Drafts");
        assert!(d.setting(2).unwrap().from_file);
        assert_eq!(
            d.items()[3].kind,
            Kind::Open {
                name: "mailbox".into(),
                arg: Some("Sent Messages".into())
            }
        );
    }

    #[test]
    fn continuation_lines_join_with_one_space() {
        let t = "import_environment = TZ \\\n  LANG # c\nlisten = *\r\n";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        assert_eq!(d.items().len(), 2);
        let s = d.setting(0).unwrap();
        assert_eq!(s.value, "TZ LANG");
        assert_eq!(&t[s.value_span.clone()], "TZ \\\n  LANG");
        assert_eq!(&t[d.setting(1).unwrap().value_span.clone()], "*");
        // A comment line ends the run: `LANG` then stands alone, which Dovecot rejects.
        let e = parse("import_environment = TZ \\\n# c\n  LANG\n").unwrap_err();
        assert_eq!(e.offset, "import_environment = TZ \\\n# c\n  LANG".len());
        // A continuation at the end of the file ends there.
        let d = parse("a = b \\\n").unwrap();
        assert_eq!(d.setting(0).unwrap().value, "b");
    }

    #[test]
    fn compact_and_tabbed_forms() {
        let t = "listen=*,::\nlisten\t=\t*, ::\t\nempty =\nsvc{\n}";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        assert_eq!(d.setting(0).unwrap().value, "*,::");
        assert_eq!(d.setting(1).unwrap().value, "*, ::");
        let e = d.setting(2).unwrap();
        assert_eq!(e.value, "");
        assert!(e.value_span.is_empty());
        assert_eq!(
            e.value_span.start,
            "listen=*,::\nlisten\t=\t*, ::\t\nempty =".len()
        );
    }

    #[test]
    fn errors_are_positioned() {
        let e = parse("a = b\nservice x { port = 1 }\n").unwrap_err();
        assert_eq!(e.offset, 17);
        assert!(e.expected.contains("own line"), "{e:?}");
        let e = parse("service x {\n  a = b\n").unwrap_err();
        assert_eq!(e.found, "end of file");
        assert!(e.expected.contains("line 1"), "{e:?}");
        let e = parse("}\n").unwrap_err();
        assert_eq!(e.offset, 0);
        let e = parse("a = b\nlisten\n").unwrap_err();
        assert_eq!(e.offset, 12);
        assert!(parse("!includ x\n").is_err());
    }

    #[test]
    fn commented_settings_are_found() {
        let t = "# \"*\" listens in all IPv4 interfaces\n#listen = *, ::\n  # listen = 127.0.0.1\n";
        let d = parse(t).unwrap();
        let c = d.commented("listen");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].value, "*, ::");
        assert_eq!(&t[c[0].marker.clone()], "#");
        assert_eq!(&t[c[1].marker.clone()], "# ");
    }

    #[test]
    fn values_edit_in_place() {
        let t = "listen = *   # v4\n";
        let d = parse(t).unwrap();
        let mut e = Edits::new();
        d.set_value(0, "*, ::", &mut e);
        assert_eq!(e.apply(t), "listen = *, ::   # v4\n");
        assert_eq!(split_list("*, ::"), vec!["*", "::"]);
        assert_eq!(split_list("* ::"), vec!["*", "::"]);
        assert_eq!(list_separator("*,::"), ",");
        assert_eq!(list_separator("*"), ", ");
    }
}
