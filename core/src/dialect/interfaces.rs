//! Debian ifupdown's `/etc/network/interfaces` (interfaces(5), ifupdown 0.8), losslessly.
//!
//! The rules are ifupdown's own (config.c `get_line`, `read_interfaces_defn`):
//! - A line whose first non-blank character is `#` is a comment; a `#` anywhere else is
//!   part of the text (on an option line it ends up in the value and in the `ip` command).
//! - A line whose last character is `\` continues on the next physical line, which is
//!   appended as it is (a comment line never continues; with CRLF the `\` is followed by
//!   `\r` and does not continue either).
//! - Keywords start a stanza: `iface`, `mapping`, `auto`, `allow-*`, `source`,
//!   `source-dir*`, `rename`, `no-auto-down`, `no-scripts`. Every other line is an option of
//!   the most recent `iface` (or `mapping`), whatever its indentation, across blank and
//!   comment lines. An option with no stanza to belong to is ifupdown's "misplaced option".
//!
//! Each item is one logical line (a comment, a blank line, or a keyword or option line
//! with its continuations); items tile the text, so printing them gives the input back.
//! Includes (`source`, `source-directory`) are reported, never followed: the disk belongs
//! to the plugin.

use crate::edit::{Attach, Edits};
use crate::error::ParseError;
use crate::logical::{Join, LogicalLines};
use crate::text::Text;
use crate::text::{indent_of, newline_of, Line, Span};

/// What one logical line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Blank,
    Comment,
    /// `iface NAME FAMILY METHOD [inherits TEMPLATE] …`
    Iface {
        name: String,
        family: String,
        method: String,
    },
    /// `mapping PATTERN…`
    Mapping,
    /// `auto NAMES…` or `allow-CLASS NAMES…` (`class` is `auto` for `auto`).
    Allow {
        class: String,
        names: Vec<String>,
    },
    /// `source PATTERN`
    Source {
        pattern: String,
    },
    /// `source-directory DIR`
    SourceDirectory {
        dir: String,
    },
    /// `rename`, `no-auto-down`, `no-scripts`.
    Other {
        keyword: String,
    },
    /// An option of the current `iface` or `mapping` stanza: its name and its value (the
    /// rest of the logical line, trailing blanks removed, as ifupdown keeps it).
    Option {
        name: String,
        value: String,
    },
}

/// One logical line and the bytes it covers (line endings included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub span: Span,
    pub kind: Kind,
    /// The leading blanks of its first physical line.
    pub indent: String,
    /// True when it spans several physical lines.
    pub continued: bool,
}

/// An `iface` stanza: the `iface` item and its option items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    /// Index of the `iface` item.
    pub item: usize,
    pub name: String,
    pub family: String,
    pub method: String,
    /// Indices of the option items.
    pub options: Vec<usize>,
}

/// A parsed interfaces file.
pub type Doc = crate::doc::Doc<Item>;

const FAMILIES: &[(&str, &[&str])] = &[
    (
        "inet",
        &[
            "loopback", "static", "manual", "dhcp", "bootp", "tunnel", "ppp", "wvdial", "ipv4ll",
        ],
    ),
    (
        "inet6",
        &[
            "auto", "loopback", "static", "manual", "dhcp", "v4tunnel", "6to4", "tunnel",
        ],
    ),
    ("ipx", &["static", "dynamic"]),
    ("can", &["static"]),
];

/// The options `iface … inet6 static` uses (ifupdown 0.8 inet6.defn) and the universal ones.
pub const INET6_STATIC_OPTIONS: &[&str] = &[
    "address",
    "netmask",
    "gateway",
    "metric",
    "media",
    "hwaddress",
    "mtu",
    "accept_ra",
    "autoconf",
    "privext",
    "scope",
    "preferred-lifetime",
    "dad-attempts",
    "dad-interval",
];

/// Options of other inet6 methods that `inet6 static` accepts and silently ignores.
pub const IGNORED_IN_INET6_STATIC: &[(&str, &str)] = &[
    ("endpoint", "the tunnel and v4tunnel methods"),
    ("local", "the tunnel, v4tunnel and 6to4 methods"),
    ("dstaddr", "the tunnel method"),
    ("mode", "the tunnel method"),
    ("ttl", "the tunnel, v4tunnel and 6to4 methods"),
    ("encaplimit", "the tunnel method"),
    ("dhcp", "the auto method"),
    ("request_prefix", "the auto and dhcp methods"),
    ("ll-attempts", "the auto and dhcp methods"),
    ("ll-interval", "the auto and dhcp methods"),
];

/// Parses an interfaces file. Fails where ifupdown fails: an option outside a stanza, an
/// `iface` line without a known family and method, an option without a value.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut items = Vec::new();
    // 0: no stanza, 1: iface, 2: mapping
    let mut state = 0u8;
    for l in LogicalLines::new(text, ifupdown_rule) {
        let first = &l.lines[0];
        let line = first.text(text);
        let indent = indent_of(line).to_string();
        let body = &line[indent.len()..];
        if body.trim().is_empty() && !raw_continues(text, first) {
            items.push(Item {
                span: first.full.clone(),
                kind: Kind::Blank,
                indent,
                continued: false,
            });
            continue;
        }
        if body.starts_with('#') {
            items.push(Item {
                span: first.full.clone(),
                kind: Kind::Comment,
                indent,
                continued: false,
            });
            continue;
        }
        // Join continuations: the `\` is removed and the next line appended verbatim.
        let start = first.full.start;
        let mut logical = String::new();
        for x in l.lines.iter() {
            let raw = &text[x.full.start..x.full.end];
            let raw = raw.strip_suffix('\n').unwrap_or(raw);
            match raw.strip_suffix('\\') {
                Some(r) => logical.push_str(r),
                None => logical.push_str(x.text(text)),
            }
        }
        let end = l.span.end;
        let logical = logical.trim_end_matches(|c: char| c.is_ascii_whitespace());
        let words: Vec<&str> = logical.split_ascii_whitespace().collect();
        let offset = start + indent.len();
        let kw = words.first().copied().unwrap_or("");
        let kind = match kw {
            "iface" => {
                state = 1;
                iface_kind(&words, offset, text)?
            }
            "mapping" => {
                if words.len() < 2 {
                    return Err(ParseError::new(
                        offset,
                        ParseError::describe(text, offset),
                        "`mapping` followed by an interface pattern",
                    ));
                }
                state = 2;
                Kind::Mapping
            }
            "auto" => {
                state = 0;
                Kind::Allow {
                    class: "auto".into(),
                    names: words[1..].iter().map(|s| s.to_string()).collect(),
                }
            }
            k if k.starts_with("allow-") => {
                state = 0;
                Kind::Allow {
                    class: k["allow-".len()..].to_string(),
                    names: words[1..].iter().map(|s| s.to_string()).collect(),
                }
            }
            "source" => {
                state = 0;
                Kind::Source {
                    pattern: rest_after(logical, 1).ok_or_else(|| {
                        ParseError::new(
                            offset,
                            "`source` alone",
                            "`source` followed by a file pattern",
                        )
                    })?,
                }
            }
            k if k.starts_with("source-dir") => {
                state = 0;
                Kind::SourceDirectory {
                    dir: rest_after(logical, 1).ok_or_else(|| {
                        ParseError::new(
                            offset,
                            format!("`{k}` alone"),
                            "`source-directory` followed by a directory",
                        )
                    })?,
                }
            }
            "rename" | "no-auto-down" | "no-scripts" => {
                state = 0;
                Kind::Other {
                    keyword: kw.to_string(),
                }
            }
            name => {
                if state == 0 {
                    return Err(ParseError::new(
                        offset,
                        ParseError::describe(text, offset),
                        "a keyword (iface, auto, allow-*, mapping, source, source-directory, \
                         rename); an option must follow an `iface` line (ifupdown: misplaced option)",
                    ));
                }
                let value = rest_after(logical, 1).ok_or_else(|| {
                    ParseError::new(
                        offset,
                        format!("`{name}` without a value"),
                        "an option and its value (ifupdown: option with empty value)",
                    )
                })?;
                Kind::Option {
                    name: name.to_string(),
                    value,
                }
            }
        };
        items.push(Item {
            span: start..end,
            kind,
            indent,
            continued: l.lines.len() > 1,
        });
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// ifupdown's rule: a line whose last character is `\\` continues on the next one, which
/// is appended as it is; a comment line continues nothing.
fn ifupdown_rule(text: &str, first: &Line, last: &Line, _: &Line) -> Join {
    let comment = first
        .text(text)
        .trim_start_matches([' ', '\t'])
        .starts_with('#');
    if !comment && raw_continues(text, last) {
        Join::Joins
    } else {
        Join::Ends
    }
}

fn raw_continues(text: &str, l: &Line) -> bool {
    let raw = &text[l.full.clone()];
    raw.strip_suffix('\n').unwrap_or(raw).ends_with('\\')
}

/// The text after the first `n` words, leading blanks removed; `None` when empty.
fn rest_after(logical: &str, n: usize) -> Option<String> {
    let mut rest = logical.trim_start_matches(|c: char| c.is_ascii_whitespace());
    for _ in 0..n {
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        rest = rest[end..].trim_start_matches(|c: char| c.is_ascii_whitespace());
    }
    (!rest.is_empty()).then(|| rest.to_string())
}

fn iface_kind(words: &[&str], offset: usize, text: &str) -> Result<Kind, ParseError> {
    let inherits = words.iter().position(|w| *w == "inherits");
    let name = words.get(1).copied().unwrap_or("");
    if name.is_empty() || Some(1) == inherits {
        return Err(ParseError::new(
            offset,
            ParseError::describe(text, offset),
            "`iface NAME FAMILY METHOD`",
        ));
    }
    let family = words.get(2).copied().filter(|_| Some(2) != inherits);
    let method = words.get(3).copied().filter(|_| Some(3) != inherits);
    match family {
        Some(f) => match FAMILIES.iter().find(|(n, _)| *n == f) {
            Some((_, methods)) => match method {
                Some(m) if methods.contains(&m) => {}
                None if inherits.is_some() => {}
                _ => {
                    return Err(ParseError::new(
                        offset,
                        format!("`{}`", words.join(" ")),
                        format!("a method of family {f} ({})", methods.join(", ")),
                    ))
                }
            },
            None => {
                return Err(ParseError::new(
                    offset,
                    format!("`{}`", words.join(" ")),
                    "an address family (inet, inet6, ipx, can)",
                ))
            }
        },
        None if inherits.is_some() => {}
        None => {
            return Err(ParseError::new(
                offset,
                format!("`{}`", words.join(" ")),
                "`iface NAME FAMILY METHOD`",
            ))
        }
    }
    Ok(Kind::Iface {
        name: name.to_string(),
        family: family.unwrap_or("").to_string(),
        method: method.unwrap_or("").to_string(),
    })
}

impl crate::doc::Spanned for Item {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

impl Doc {
    /// The text the document was parsed from.
    pub fn source(&self) -> &str {
        &self.src
    }

    /// Every `iface` stanza with its options, in file order.
    pub fn stanzas(&self) -> Vec<Stanza> {
        let mut out: Vec<Stanza> = Vec::new();
        let mut in_iface = false;
        for (i, it) in self.items.iter().enumerate() {
            match &it.kind {
                Kind::Iface {
                    name,
                    family,
                    method,
                } => {
                    in_iface = true;
                    out.push(Stanza {
                        item: i,
                        name: name.clone(),
                        family: family.clone(),
                        method: method.clone(),
                        options: Vec::new(),
                    });
                }
                Kind::Option { .. } if in_iface => {
                    if let Some(s) = out.last_mut() {
                        s.options.push(i);
                    }
                }
                Kind::Blank | Kind::Comment | Kind::Option { .. } => {}
                _ => in_iface = false,
            }
        }
        out
    }

    /// The option name and value of item `i`, when it is an option.
    pub fn option(&self, i: usize) -> Option<(&str, &str)> {
        match &self.items[i].kind {
            Kind::Option { name, value } => Some((name, value)),
            _ => None,
        }
    }

    /// The first value of option `name` in `stanza`, with its item index.
    pub fn get(&self, stanza: &Stanza, name: &str) -> Option<(usize, &str)> {
        stanza.options.iter().find_map(|&i| match self.option(i) {
            Some((n, v)) if n == name => Some((i, v)),
            _ => None,
        })
    }

    /// The `source` patterns and `source-directory` directories, in order, with their
    /// byte offsets: `(is_directory, text, offset)`.
    pub fn includes(&self) -> Vec<(bool, &str, usize)> {
        self.items
            .iter()
            .filter_map(|it| match &it.kind {
                Kind::Source { pattern } => Some((false, pattern.as_str(), it.span.start)),
                Kind::SourceDirectory { dir } => Some((true, dir.as_str(), it.span.start)),
                _ => None,
            })
            .collect()
    }

    /// The `auto`/`allow-*` classes that name interface `name`.
    pub fn classes_of(&self, name: &str) -> Vec<&str> {
        self.items
            .iter()
            .filter_map(|it| match &it.kind {
                Kind::Allow { class, names } if names.iter().any(|n| n == name) => {
                    Some(class.as_str())
                }
                _ => None,
            })
            .collect()
    }

    /// The indentation the file uses for options: that of `stanza`'s first option, else
    /// of the file's first option, else four spaces.
    pub fn option_indent(&self, stanza: Option<&Stanza>) -> String {
        let from = |i: &usize| self.items[*i].indent.clone();
        stanza
            .and_then(|s| s.options.first().map(from))
            .or_else(|| {
                self.items
                    .iter()
                    .find(|it| matches!(it.kind, Kind::Option { .. }))
                    .map(|it| it.indent.clone())
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "    ".to_string())
    }

    /// True when `stanza` (or, without one that says, the file) writes masks as `netmask`.
    pub fn uses_netmask(&self, stanza: &Stanza) -> bool {
        if stanza.options.iter().any(|&i| self.option(i).is_some())
            && self.get(stanza, "address").is_some()
        {
            return self.get(stanza, "netmask").is_some();
        }
        self.items
            .iter()
            .any(|it| matches!(&it.kind, Kind::Option { name, .. } if name == "netmask"))
    }

    /// Byte offset just after the last line of `stanza` (its last option, or its `iface`
    /// line): where a stanza that follows it goes. Comments and blank lines after the last
    /// option stay with what comes next.
    pub fn stanza_end(&self, stanza: &Stanza) -> usize {
        let last = stanza.options.last().copied().unwrap_or(stanza.item);
        self.items[last].span.end
    }

    /// Adds `edits` that insert a new stanza (its lines, without line endings; the first
    /// is the `iface` line, the others are indented by the caller) after `stanza`,
    /// separated by one blank line, in the file's newline style.
    pub fn insert_stanza_after(&self, edits: &mut Edits, stanza: &Stanza, new_lines: &[String]) {
        let nl = newline_of(&self.src);
        let at = self.stanza_end(stanza);
        let mut block = String::new();
        let open_end = at == self.src.len() && !self.src.ends_with('\n');
        if open_end {
            block.push_str(nl);
        }
        block.push_str(nl);
        for (k, l) in new_lines.iter().enumerate() {
            block.push_str(l);
            if !(open_end && k + 1 == new_lines.len()) {
                block.push_str(nl);
            }
        }
        edits.insert_as(at, Attach::Line, block);
    }

    /// Adds `edits` that replace option item `i` with `name value` at its indentation
    /// (all its continuation lines become that one line).
    pub fn replace_option(&self, edits: &mut Edits, i: usize, name: &str, value: &str) {
        let it = &self.items[i];
        let raw = &self.src[it.span.clone()];
        let ending = if raw.ends_with("\r\n") {
            "\r\n"
        } else if raw.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        edits.replace(
            it.span.clone(),
            format!("{}{name} {value}{ending}", it.indent),
        );
    }

    /// Adds `edits` that insert option `name value` after item `after` (an option or the
    /// `iface` line) with indentation `indent`.
    pub fn insert_option_after(
        &self,
        edits: &mut Edits,
        after: usize,
        indent: &str,
        name: &str,
        value: &str,
    ) {
        let it = &self.items[after];
        let nl = newline_of(&self.src);
        let at = it.span.end;
        let raw = &self.src[it.span.clone()];
        if raw.ends_with('\n') {
            edits.insert(at, format!("{indent}{name} {value}{nl}"));
        } else {
            edits.insert(at, format!("{nl}{indent}{name} {value}"));
        }
    }
}

/// True for names `source-directory` reads: `^[a-zA-Z0-9_-]+$` (run-parts' rule).
pub fn source_directory_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_belong_to_the_last_iface_whatever_the_indentation() {
        let t = "auto eth0\niface eth0 inet static\naddress 192.0.2.10/24\n\n# note\n\tgateway 192.0.2.1\niface eth1 inet dhcp\n";
        let d = parse(t).unwrap();
        let s = d.stanzas();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].options.len(), 2);
        assert_eq!(d.get(&s[0], "gateway").unwrap().1, "192.0.2.1");
        assert_eq!(d.classes_of("eth0"), ["auto"]);
        assert_eq!(d.stanza_end(&s[0]), t.find("iface eth1").unwrap());
    }

    #[test]
    fn a_hash_inside_a_line_is_text_and_comments_start_lines() {
        let t = "iface eth0 inet6 static\n  address 2001:db8::1/64 # primary\n  # a comment \\\n  mtu 1500\n";
        let d = parse(t).unwrap();
        let s = &d.stanzas()[0];
        assert_eq!(d.get(s, "address").unwrap().1, "2001:db8::1/64 # primary");
        // The comment ending in `\` does not swallow the next line.
        assert_eq!(d.get(s, "mtu").unwrap().1, "1500");
    }

    #[test]
    fn continuations_join_lines_but_not_after_crlf() {
        let t = "iface eth0 inet static\n    address \\\n  192.0.2.10/24\n    up echo a \\\n# not a comment\n";
        let d = parse(t).unwrap();
        let s = &d.stanzas()[0];
        assert_eq!(d.get(s, "address").unwrap().1, "192.0.2.10/24");
        assert_eq!(d.get(s, "up").unwrap().1, "echo a # not a comment");
        assert!(d.items[1].continued);
        let crlf = "iface eth0 inet6 static\r\n  netmask 64 \\\r\n  mtu 1500\r\n";
        let d = parse(crlf).unwrap();
        let s = &d.stanzas()[0];
        assert_eq!(d.get(s, "netmask").unwrap().1, "64 \\");
        assert_eq!(d.to_string(), crlf);
    }

    #[test]
    fn errors_where_ifupdown_errors() {
        let e = parse("auto eth0\n  address 192.0.2.1/24\n").unwrap_err();
        assert_eq!(e.offset, 12);
        assert!(e.expected.contains("misplaced option"));
        assert!(parse("iface eth0 inet7 static\n").is_err());
        assert!(parse("iface eth0 inet6 statik\n").is_err());
        assert!(parse("iface eth0 inet6\n").is_err());
        assert!(parse("iface eth0 inet static\n mtu\n").is_err());
        assert!(parse("iface eth0 inet6 static inherits tmpl\n").is_ok());
        assert!(parse("mapping eth0\n script /bin/true\n map a b\n").is_ok());
    }

    #[test]
    fn includes_and_source_directory_names() {
        let d =
            parse("source /etc/network/interfaces.d/*\nsource-directory interfaces.d\n").unwrap();
        assert_eq!(
            d.includes(),
            [
                (false, "/etc/network/interfaces.d/*", 0),
                (true, "interfaces.d", 35)
            ]
        );
        assert!(source_directory_name_ok("eth0-v6_x"));
        assert!(!source_directory_name_ok("eth2.cfg"));
        assert!(!source_directory_name_ok(""));
    }

    #[test]
    fn a_stanza_goes_after_the_last_option_keeping_the_missing_final_newline() {
        let t = "iface eth0 inet static\n\taddress 192.0.2.10/24";
        let d = parse(t).unwrap();
        let s = &d.stanzas()[0];
        assert_eq!(d.option_indent(Some(s)), "\t");
        let mut e = Edits::new();
        d.insert_stanza_after(
            &mut e,
            s,
            &[
                "iface eth0 inet6 static".into(),
                "\taddress 2001:db8::1/64".into(),
            ],
        );
        assert_eq!(
            e.apply(t),
            "iface eth0 inet static\n\taddress 192.0.2.10/24\n\niface eth0 inet6 static\n\taddress 2001:db8::1/64"
        );
    }
}
