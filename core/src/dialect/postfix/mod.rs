//! Postfix: `main.cf`, `/file/name` network lists, `cidr:` tables and `master.cf`.
//!
//! All four share Postfix's line rules (postconf(5), cidr_table(5)): a line whose first
//! non-blank character is `#` is a comment; blank lines are ignored; a line starting with
//! a space or a tab continues the logical line before it, and comment or blank lines in
//! between do not end that logical line. A `#` after a value is *not* a comment: it stays
//! in the value, and list parameters stop reading at it.
//!
//! - [`parse`] reads `main.cf`: `name = value` definitions (duplicates allowed; the last
//!   one wins), with `$name` references and list values split on commas and/or blanks.
//! - [`parse_list`] reads a `/file/name` list: entries separated by blanks or commas.
//! - [`parse_cidr`] reads a `cidr:` table: `pattern result` rules, `if`/`endif` blocks.
//! - [`parse_master`] reads `master.cf`: one service per logical line.
//!
//! Every document prints back its input byte for byte, and its items tile the input.

mod cidr;
mod list;
mod maincf;
mod master;

pub use cidr::{parse_cidr, CidrDoc, CidrItem, Rule};
pub use list::{parse_list, ListDoc, ListItem};
pub use maincf::{expand, parse, Doc, Item, Kind, Param};
pub use master::{parse_master, MasterDoc, MasterItem, Service};

use crate::edit::Edits;
use crate::logical::{is_blank, Join, LogicalLines};
use crate::text::{indent_of, Line, Span};
use std::borrow::Cow;

/// One logical line: its first physical line and its continuation lines (with any
/// comment or blank lines between them), as Postfix's `readllines` groups them.
pub use crate::logical::Logical;

enum Raw {
    Comment(Line),
    Blank(Line),
    Logical(Logical),
}

/// Postfix's rule: a line starting with a blank continues the logical line before it,
/// and comment and blank lines between are passed over; a comment or blank line with no
/// logical line before it continues nothing.
fn postfix_rule(text: &str, first: &Line, _: &Line, next: &Line) -> Join {
    let (f, t) = (first.text(text), next.text(text));
    if is_blank(f) || f.trim_start_matches([' ', '\t']).starts_with('#') {
        Join::Ends
    } else if is_blank(t) || t.trim_start_matches([' ', '\t']).starts_with('#') {
        Join::Passes
    } else if t.starts_with([' ', '\t']) {
        Join::Joins
    } else {
        Join::Ends
    }
}

/// Groups `text` into comments, blanks and logical lines. An indented line with no
/// logical line before it is returned as `Err(offset)` when `strict`, else it starts one.
fn group(text: &str, strict: bool) -> Result<Vec<Raw>, usize> {
    let mut out = Vec::new();
    each_group(text, strict, |g| out.push(g))?;
    Ok(out)
}

/// [`group`], handing each piece to `out` as it is found.
fn each_group(text: &str, strict: bool, mut out: impl FnMut(Raw)) -> Result<(), usize> {
    for l in LogicalLines::new(text, postfix_rule) {
        let first = &l.lines[0];
        let t = first.text(text);
        if is_blank(t) {
            out(Raw::Blank(first.clone()));
        } else if t.trim_start_matches([' ', '\t']).starts_with('#') {
            out(Raw::Comment(first.clone()));
        } else {
            if t.starts_with([' ', '\t']) && strict {
                return Err(first.content.start + indent_of(t).len());
            }
            out(Raw::Logical(l));
        }
    }
    Ok(())
}

/// The blank-trimmed part of a physical line from `from` on, as a span.
fn trimmed_span(src: &str, from: usize, to: usize) -> Span {
    let s = &src[from..to];
    let lead = s.len() - s.trim_start_matches([' ', '\t', '\r']).len();
    let body = s.trim_matches([' ', '\t', '\r']);
    from + lead..from + lead + body.len()
}

// ---------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------

/// One element of a Postfix list value, with its span in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element<'a> {
    /// The element's text: borrowed from the file, owned only for a `{...}` group that
    /// spans lines (Postfix joins its pieces with a blank).
    pub text: Cow<'a, str>,
    pub span: Span,
    /// The byte offset of a comma that directly follows the token (blanks allowed between).
    pub comma: Option<usize>,
}

impl Element<'_> {
    /// True for a `# note`: Postfix stops reading the list here.
    pub fn is_comment(&self) -> bool {
        self.text.starts_with('#')
    }
}

/// Splits the value pieces `segments` of `src` into list elements the way Postfix does:
/// commas and blanks separate, `{...}` groups stay one element.
pub fn list_tokens<'a>(src: &'a str, segments: &[Span]) -> Vec<Element<'a>> {
    let mut out = Vec::new();
    list_tokens_into(src, segments, &mut out);
    out
}

/// [`list_tokens`], appending to `out`.
pub fn list_tokens_into<'a>(src: &'a str, segments: &[Span], out: &mut Vec<Element<'a>>) {
    let base = out.len();
    let mut depth = 0usize;
    // Where the current element starts, and the pieces that earlier segments gave it
    // when it is a `{...}` group spanning lines (each followed by a blank).
    let mut start: Option<usize> = None;
    let mut joined: Option<String> = None;
    let mut last_end = 0;
    for seg in segments {
        // Where this segment's piece of the current element starts.
        let mut piece = start.map(|_| seg.start);
        // Separators and braces are ASCII, so the bytes are walked: a byte of a longer
        // character is never one of them, and its last byte ends the element right.
        let bytes = src.as_bytes();
        let mut at = seg.start;
        while at < seg.end {
            let c = bytes[at];
            let sep = depth == 0 && matches!(c, b' ' | b'\t' | b',' | b'\r');
            if sep {
                if let Some(s) = start.take() {
                    let from = piece.take().unwrap_or(s);
                    out.push(element(src, s, from, last_end, joined.take()));
                }
                if c == b',' && out.len() > base {
                    if let Some(t) = out.last_mut() {
                        if t.comma.is_none() && src[t.span.end..at].trim().is_empty() {
                            t.comma = Some(at);
                        }
                    }
                }
                at += 1;
                continue;
            }
            if c == b'{' {
                depth += 1;
            } else if c == b'}' {
                depth = depth.saturating_sub(1);
            }
            if start.is_none() {
                start = Some(at);
                piece = Some(at);
            }
            // On over the bytes that are neither a separator nor a brace.
            at += 1;
            while at < seg.end && !matches!(bytes[at], b' ' | b'\t' | b',' | b'\r' | b'{' | b'}') {
                at += 1;
            }
            last_end = at;
        }
        if let Some(s) = start {
            let from = piece.unwrap_or(seg.start);
            if depth == 0 {
                out.push(element(src, s, from, last_end, joined.take()));
                start = None;
            } else {
                let j = joined.get_or_insert_with(String::new);
                j.push_str(&src[from..last_end.max(from)]);
                j.push(' ');
            }
        }
    }
    if let Some(s) = start {
        out.push(Element {
            text: Cow::Owned(joined.unwrap_or_default()),
            span: s..last_end,
            comma: None,
        });
    }
}

/// The element from `start` to `end`: borrowed when it lies in one segment, else the
/// pieces of the segments before (`joined`) and this one's from `from`.
fn element(
    src: &str,
    start: usize,
    from: usize,
    end: usize,
    joined: Option<String>,
) -> Element<'_> {
    let text = match joined {
        Some(mut j) => {
            j.push_str(&src[from..end]);
            Cow::Owned(j)
        }
        None => Cow::Borrowed(&src[start..end]),
    };
    Element {
        text,
        span: start..end,
        comma: None,
    }
}

/// How a list separates its elements, learned from the elements themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Separators {
    comma: bool,
    space_after_comma: bool,
}

fn separators(src: &str, tokens: &[Element]) -> Separators {
    let mut s = Separators {
        comma: false,
        space_after_comma: true,
    };
    let mut saw_tight = false;
    let mut saw_loose = false;
    for t in tokens {
        if let Some(c) = t.comma {
            s.comma = true;
            match src[c + 1..].chars().next() {
                Some(' ' | '\t') => saw_loose = true,
                Some('\r' | '\n') | None => {}
                Some(_) => saw_tight = true,
            }
        }
    }
    s.space_after_comma = saw_loose || !saw_tight;
    s
}

/// Inserts `entries` into the list `tokens` of `src` right after token `after` (or at
/// `at_start` when the list is empty), in the list's own separator style, on the same line.
fn insert_inline(
    src: &str,
    tokens: &[Element],
    after: Option<usize>,
    at_start: usize,
    entries: &[String],
    edits: &mut Edits,
) {
    if entries.is_empty() {
        return;
    }
    let sep = separators(src, tokens);
    let join = match (sep.comma, sep.space_after_comma) {
        (true, true) => ", ",
        (true, false) => ",",
        (false, _) => " ",
    };
    let Some(i) = after else {
        let mut s = entries.join(join);
        let next_is_text = src[at_start..]
            .chars()
            .next()
            .is_some_and(|c| !matches!(c, '\r' | '\n'));
        if next_is_text {
            s.push(' ');
        } else if !src[..at_start].ends_with([' ', '\t']) {
            s.insert(0, ' ');
        }
        edits.insert(at_start, s);
        return;
    };
    let t = &tokens[i];
    match t.comma {
        // `a, b,` + x → `a, b, x,`: keep the trailing comma last.
        Some(c) if i + 1 == tokens.len() || tokens[i + 1].is_comment() => {
            let space = if sep.space_after_comma { " " } else { "" };
            let s: Vec<String> = entries.iter().map(|e| format!("{space}{e},")).collect();
            edits.insert(c + 1, s.concat());
        }
        _ => {
            let s: Vec<String> = entries.iter().map(|e| format!("{join}{e}")).collect();
            edits.insert(t.span.end, s.concat());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Vec<(String, String)> {
        crate::doc::fixtures("postfix", 8)
    }

    #[test]
    fn an_entry_appended_to_any_parameter_of_any_fixture_is_read_by_the_list() {
        let entry = "[2001:db8::]/64".to_string();
        for (name, text) in fixtures() {
            if !name.ends_with(".main.cf") {
                continue;
            }
            let d = parse(&text).unwrap();
            for (i, p) in d.params().enumerate() {
                let mut e = Edits::new();
                d.append_to_list(p, std::slice::from_ref(&entry), &mut e);
                let out = e.apply(&text);
                let again = parse(&out).unwrap_or_else(|e| panic!("{name}/{}: {e:?}", p.name));
                let q = again.params().nth(i).unwrap();
                assert_eq!(q.name, p.name);
                let live: Vec<String> = again
                    .tokens(q)
                    .into_iter()
                    .take_while(|t| !t.is_comment())
                    .map(|t| t.text.into_owned())
                    .collect();
                assert_eq!(live.last(), Some(&entry), "{name}/{}:\n{out}", p.name);
                assert_eq!(again.params().count(), d.params().count(), "{name}");
            }
        }
    }

    #[test]
    fn continuation_lines_keep_comments_and_blanks_inside_the_value() {
        let t = "mynetworks = 127.0.0.0/8,\n# office\n\n    192.0.2.0/24 # lan\nrelayhost =\n";
        let d = parse(t).unwrap();
        let p = d.param("mynetworks").unwrap();
        assert_eq!(d.value(p), "127.0.0.0/8, 192.0.2.0/24 # lan");
        let tokens: Vec<_> = d.tokens(p).into_iter().map(|t| t.text).collect();
        assert_eq!(tokens, ["127.0.0.0/8", "192.0.2.0/24", "#", "lan"]);
        assert_eq!(d.get("relayhost").as_deref(), Some(""));
        assert_eq!(d.items.len(), 2);
    }

    #[test]
    fn duplicates_the_last_wins_and_crlf_is_not_part_of_the_value() {
        let d = parse("inet_protocols = all\r\nx=1\r\ninet_protocols = ipv4\r\n").unwrap();
        assert_eq!(d.defs("inet_protocols").len(), 2);
        assert_eq!(d.get("inet_protocols").as_deref(), Some("ipv4"));
        assert_eq!(d.get("x").as_deref(), Some("1"));
    }

    #[test]
    fn parse_errors_point_at_the_line() {
        let e = parse("a = 1\njust words\n").unwrap_err();
        assert_eq!((e.offset, e.expected.as_str()), (6, "`name = value`"));
        let e = parse("  indented = 1\n").unwrap_err();
        assert_eq!(e.offset, 2);
        let e = parse_cidr("192.0.2.0/24 OK\n2001:db8::/64\n").unwrap_err();
        assert_eq!(e.expected, "a lookup result after the pattern");
        assert!(parse_cidr("if 192.0.2.0/24\n").is_err());
        assert!(parse_cidr("endif\n").is_err());
    }

    #[test]
    fn list_tokens_split_on_commas_and_blanks_and_keep_brace_groups() {
        let t = "a,b , c\t{x, y} cidr:{ {1 OK}, {2 OK} },";
        let toks = list_tokens(t, std::slice::from_ref(&(0..t.len())));
        let texts: Vec<_> = toks.iter().map(|t| &*t.text).collect();
        assert_eq!(texts, ["a", "b", "c", "{x, y}", "cidr:{ {1 OK}, {2 OK} }"]);
        assert_eq!(toks[0].comma, Some(1));
        assert_eq!(toks[1].comma, Some(4));
        assert_eq!(toks[2].comma, None);
        assert!(toks[4].comma.is_some());
    }

    fn appended(t: &str, name: &str, entries: &[&str]) -> String {
        let d = parse(t).unwrap();
        let mut e = Edits::new();
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        d.append_to_list(d.param(name).unwrap(), &entries, &mut e);
        e.apply(t)
    }

    #[test]
    fn list_entries_are_added_in_the_values_own_layout() {
        assert_eq!(
            appended(
                "mynetworks = 127.0.0.0/8 [::1]/128\n",
                "mynetworks",
                &["[2001:db8::]/64"]
            ),
            "mynetworks = 127.0.0.0/8 [::1]/128 [2001:db8::]/64\n"
        );
        assert_eq!(
            appended(
                "mynetworks = 127.0.0.0/8  # office LAN\n",
                "mynetworks",
                &["[2001:db8::]/64"]
            ),
            "mynetworks = 127.0.0.0/8 [2001:db8::]/64  # office LAN\n"
        );
        assert_eq!(
            appended("mynetworks = a,b\n", "mynetworks", &["x", "y"]),
            "mynetworks = a,b,x,y\n"
        );
        assert_eq!(
            appended(
                "mynetworks = 127.0.0.0/8,\n# lan\n    192.0.2.0/24\n\n",
                "mynetworks",
                &["[2001:db8::]/64"]
            ),
            "mynetworks = 127.0.0.0/8,\n# lan\n    192.0.2.0/24,\n    [2001:db8::]/64\n\n"
        );
        assert_eq!(
            appended("mynetworks =\n\ta,\n\tb,\n", "mynetworks", &["x"]),
            "mynetworks =\n\ta,\n\tb,\n\tx,\n"
        );
        assert_eq!(
            appended("mynetworks = a b\n  c d\n", "mynetworks", &["x"]),
            "mynetworks = a b\n  c d x\n"
        );
        assert_eq!(
            appended("mynetworks =\n", "mynetworks", &["x"]),
            "mynetworks = x\n"
        );
        assert_eq!(
            appended("mynetworks = # none", "mynetworks", &["x"]),
            "mynetworks = x # none"
        );
    }

    #[test]
    fn expansion_follows_references_and_refuses_conditionals() {
        let look = |n: &str| match n {
            "config_directory" => Some("/etc/postfix".to_string()),
            "a" => Some("$b x".to_string()),
            "b" => Some("y".to_string()),
            _ => None,
        };
        assert_eq!(
            expand("${config_directory}/nets $a $$ $none.", &look).as_deref(),
            Some("/etc/postfix/nets y x $ .")
        );
        assert_eq!(expand("${a?yes}", &look), None);
    }

    #[test]
    fn master_services_get_siblings_with_their_options() {
        let t = "# services\n192.0.2.25:smtp inet  n - y - - smtpd\n  -o syslog_name=postfix/a\n# x\n  -o smtpd_tls_security_level=may\npickup unix n - y 60 1 pickup\n";
        let d = parse_master(t).unwrap();
        let s = d.services().next().unwrap();
        assert_eq!(d.field(s, 0), "192.0.2.25:smtp");
        assert_eq!(d.field(s, 1), "inet");
        let mut e = Edits::new();
        d.insert_sibling(s, "[2001:db8::25]:smtp", &mut e);
        assert_eq!(
            e.apply(t),
            "# services\n192.0.2.25:smtp inet  n - y - - smtpd\n  -o syslog_name=postfix/a\n# x\n  -o smtpd_tls_security_level=may\n[2001:db8::25]:smtp inet  n - y - - smtpd\n  -o syslog_name=postfix/a\n  -o smtpd_tls_security_level=may\npickup unix n - y 60 1 pickup\n"
        );
        assert!(parse_master("smtp inet n\n").is_err());
        for (line, at) in [
            ("x inex n - y - - smtpd\n", 2),
            ("x INET n - y - - smtpd\n", 2),
            ("x inet N - y - - smtpd\n", 7),
            ("x inet n - x - - smtpd\n", 11),
            ("x inet n - y 1x - smtpd\n", 13),
            ("x inet n - y - a smtpd\n", 15),
        ] {
            assert_eq!(parse_master(line).unwrap_err().offset, at, "{line:?}");
        }
        for line in [
            "pickup unix-dgram n - y 60 1 pickup\n",
            "qmgr unix n - n 300? 1 qmgr\n",
            "x pass - - y - - smtpd\n",
            "retry fifo n - - - - error\n",
        ] {
            assert!(parse_master(line).is_ok(), "{line:?}");
        }
    }

    #[test]
    fn list_files_and_cidr_tables_append_in_their_style() {
        let t = "# trusted\n192.0.2.0/24\n198.51.100.0/24 # branch\n\n# end\n";
        let d = parse_list(t).unwrap();
        let e: Vec<_> = d.entries().into_iter().map(|t| t.text).collect();
        assert_eq!(e, ["192.0.2.0/24", "198.51.100.0/24"]);
        let mut ed = Edits::new();
        d.append_entries(&["[2001:db8::]/64".into()], &mut ed);
        assert_eq!(
            ed.apply(t),
            "# trusted\n192.0.2.0/24\n198.51.100.0/24 # branch\n[2001:db8::]/64\n\n# end\n"
        );

        let c = "# t\n192.0.2.0/24      OK\nif 198.51.100.0/24\n198.51.100.7 REJECT\nendif\n";
        let d = parse_cidr(c).unwrap();
        assert_eq!(d.rules().count(), 2);
        let mut ed = Edits::new();
        d.append_rules(&[("2001:db8::/64".into(), "OK".into())], &mut ed);
        assert_eq!(ed.apply(c), format!("{c}2001:db8::/64     OK\n"));
    }
}
