//! Exim's lists, read the way Exim 4.96 reads them (`string_nextinlist`), and written back
//! in a list's own style.
//!
//! - The separator is `:`, unless the list starts with `<` and a punctuation character,
//!   which becomes the separator (`<; 127.0.0.1 ; ::1`).
//! - Blanks around an item are not part of it; a doubled separator inside an item is one
//!   literal separator character (`2001::::db8::::1` is `2001::db8::1` in a `:` list).
//! - Debian's `update-exim4.conf` adds one rule for `dc_local_interfaces`, `dc_relay_nets`
//!   and `dc_relay_domains`: a value holding a `;` that does not start with `<` is given a
//!   leading `<; ` ([`read_debian`]).

use crate::addr::Prefix;
use crate::text::Span;

/// One item of a list: its raw text (blanks trimmed) and what Exim reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The raw item in the list's text, without the blanks around it.
    pub span: Span,
    /// The item with doubled separators undoubled.
    pub text: String,
}

/// A parsed list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// The separator character.
    pub sep: char,
    /// True when the list itself declares its separator (`<;`).
    pub declared: bool,
    pub items: Vec<Item>,
    /// The text between the first two items (`" ; "`), when there are two.
    pub between: Option<String>,
    /// True when a separator follows the last item (`a : b :`).
    pub trailing: bool,
}

fn blank(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// Reads `value` as Exim reads a list.
pub fn read(value: &str) -> List {
    let start = value.len() - value.trim_start_matches(blank).len();
    let rest = &value[start..];
    let mut chars = rest.chars();
    let (sep, declared, mut at) = match (chars.next(), chars.next()) {
        (Some('<'), Some(c)) if c.is_ascii_punctuation() || c.is_ascii_control() => {
            (c, true, start + 1 + c.len_utf8())
        }
        _ => (':', false, start),
    };
    read_with(value, sep, declared, &mut at)
}

/// Reads `value` as Debian's `update-exim4.conf` hands it to Exim: a value holding a `;`
/// that does not start with `<` is a `;` list.
pub fn read_debian(value: &str) -> List {
    if value.contains(';') && !value.trim_start_matches(blank).starts_with('<') {
        let mut at = 0;
        return read_with(value, ';', false, &mut at);
    }
    read(value)
}

fn read_with(value: &str, sep: char, declared: bool, at: &mut usize) -> List {
    let b = value.as_bytes();
    let s = sep as u8;
    let mut items = Vec::new();
    let mut between = None;
    let mut last_end = None;
    let mut trailing = false;
    loop {
        while *at < b.len() && blank(b[*at] as char) {
            *at += 1;
        }
        if *at >= b.len() {
            break;
        }
        if let (Some(e), None) = (last_end, &between) {
            if items.len() == 1 {
                between = Some(value[e..*at].to_string());
            }
        }
        trailing = false;
        let begin = *at;
        let mut text = String::new();
        loop {
            if *at >= b.len() {
                break;
            }
            if b[*at] == s {
                if *at + 1 < b.len() && b[*at + 1] == s {
                    text.push(sep);
                    *at += 2;
                    continue;
                }
                break;
            }
            let c = value[*at..].chars().next().expect("in bounds");
            text.push(c);
            *at += c.len_utf8();
        }
        let trimmed = text.trim_end_matches(blank).len();
        let mut end = *at;
        while end > begin && blank(b[end - 1] as char) {
            end -= 1;
        }
        text.truncate(trimmed);
        items.push(Item {
            span: begin..end,
            text,
        });
        last_end = Some(end);
        if *at < b.len() {
            *at += 1;
            trailing = true;
        }
    }
    List {
        sep,
        declared,
        items,
        between,
        trailing,
    }
}

/// `text` with every `sep` doubled, as an item of a `sep` list must be written.
pub fn escape(text: &str, sep: char) -> String {
    text.replace(sep, &format!("{sep}{sep}"))
}

/// The network or address an item names, when it names one (`192.0.2.0/24`, `::1`).
pub fn prefix(item: &str) -> Option<Prefix> {
    Prefix::parse(item).ok()
}

/// The words of a `:` list that are IPv6 addresses or networks written with single colons
/// (`2001:db8::/64`, `[2001:db8::1]:25`, `::1`), which Exim reads as several items:
/// each with its span in `value` and its spelling with the colons doubled.
pub fn single_colon_ipv6(value: &str) -> Vec<(Span, String)> {
    if read(value).sep != ':' {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut at = 0;
    for word in value.split(|c: char| blank(c) || c == '\'' || c == '"') {
        let span = at..at + word.len();
        at += word.len() + 1;
        if !word.contains(':') || word.contains("::::") {
            continue;
        }
        // An address or network, bracketed with an optional `:port`, or with `.port`.
        let inner = match word.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((a, rest)) if rest.is_empty() || rest.starts_with(':') => a,
            Some(_) => continue,
            None => word
                .rsplit_once('.')
                .filter(|(a, p)| p.bytes().all(|b| b.is_ascii_digit()) && a.contains(':'))
                .map_or(word, |(a, _)| a),
        };
        if Prefix::parse(inner).is_ok_and(|p| p.is_ipv6()) {
            out.push((span, escape(word, ':')));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(l: &List) -> Vec<&str> {
        l.items.iter().map(|i| i.text.as_str()).collect()
    }

    #[test]
    fn a_colon_list_splits_at_single_colons_and_undoubles_double_ones() {
        let l = read("192.0.2.0/24 : 2001::db8::::/64:127.0.0.1");
        assert_eq!(l.sep, ':');
        assert_eq!(texts(&l), ["192.0.2.0/24", "2001:db8::/64", "127.0.0.1"]);
        assert_eq!(l.between.as_deref(), Some(" : "));
        assert!(!l.trailing);
        assert!(read("a : b : ").trailing);
        assert!(!read("a : ::::").trailing);
        // The trap: single colons are separators, `::` a literal colon.
        let l = read("192.0.2.0/24 : 2001:db8::/64 : ::1");
        assert_eq!(texts(&l), ["192.0.2.0/24", "2001", "db8:/64", ":1"]);
    }

    #[test]
    fn a_leading_angle_bracket_sets_the_separator() {
        let l = read("<; 127.0.0.1 ; ::1");
        assert!(l.declared);
        assert_eq!(texts(&l), ["127.0.0.1", "::1"]);
        assert_eq!(l.items[1].span, 15..18);
        assert_eq!(l.between.as_deref(), Some(" ; "));
    }

    #[test]
    fn debian_reads_a_semicolon_anywhere_as_a_semicolon_list() {
        let l = read_debian("192.0.2.0/24; 2001:db8::/64");
        assert_eq!((l.sep, l.declared), (';', false));
        assert_eq!(texts(&l), ["192.0.2.0/24", "2001:db8::/64"]);
        assert_eq!(read_debian("127.0.0.1").sep, ':');
        assert!(read_debian("").items.is_empty());
    }

    #[test]
    fn single_colon_ipv6_words_are_found_with_their_repair() {
        let v = "192.0.2.0/24 : 2001:db8::/64 : [::1]:25 : 2001::::db8::::1";
        let found = single_colon_ipv6(v);
        assert_eq!(
            found
                .iter()
                .map(|(s, r)| (&v[s.clone()], r.as_str()))
                .collect::<Vec<_>>(),
            [
                ("2001:db8::/64", "2001::db8::::/64"),
                ("[::1]:25", "[::::1]::25")
            ]
        );
        assert!(single_colon_ipv6("<; 2001:db8::/64").is_empty());
    }
}
