//! The `iptables-save` format that `iptables-restore` and `ip6tables-restore` read
//! (iptables 1.8, `xtables-restore`), losslessly: iptables-persistent's
//! `/etc/iptables/rules.v4` and `rules.v6`, and ufw's `user.rules` and `user6.rules`.
//!
//! - `*TABLE` opens a table, `COMMIT` closes it; `:CHAIN POLICY [packets:bytes]` declares
//!   a chain (the policy `-` for a chain of the user's own); `-A CHAIN …` (or `-I`) is a
//!   rule, its arguments split at blanks, with `"…"` quoting as iptables-restore does
//!   (a backslash escapes a quote inside it).
//! - `#` starts a comment line; ufw keeps its rule tuples in such comments
//!   (`### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in`).
//!
//! Every line is one item; an unterminated quote is a parse error at the quote, since
//! iptables-restore refuses the line.

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Blank,
    /// A `#` line.
    Comment,
    /// `*filter`: the table's name.
    Table(String),
    /// `:INPUT DROP [0:0]`: the chain and its policy (`-` for a user chain).
    Chain {
        name: String,
        policy: String,
    },
    /// `-A INPUT …` or `-I INPUT …`: the chain the rule joins.
    Rule {
        chain: String,
    },
    Commit,
    /// Anything else (iptables-restore refuses it; its checker says so).
    Other,
}

/// One argument of a rule, unquoted, with the span of its text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub span: Span,
    pub text: String,
    /// Written in double quotes.
    pub quoted: bool,
}

/// One physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The line with its ending.
    pub span: Span,
    /// The line without its ending.
    pub content: Span,
    pub kind: Kind,
    /// A rule's words after the chain name (`-p tcp --dport 22 -j ACCEPT`).
    pub words: Vec<Word>,
    /// The table the line is in (`None` before the first `*TABLE`).
    pub table: Option<String>,
}

impl crate::doc::Spanned for Item {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// A parsed rules file.
pub type Doc = crate::doc::Doc<Item>;

/// Parses an `iptables-save` file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut items = Vec::new();
    let mut table: Option<String> = None;
    for l in lines(text) {
        let t = l.text(text);
        let body = t.trim_start_matches([' ', '\t']);
        let lead = t.len() - body.len();
        let mut words = Vec::new();
        // iptables-restore reads a carriage return as part of the line's last word and
        // refuses it (`Invalid target name`, `Bad argument \`COMMIT'`); only comments, blank
        // lines and chain declarations (whose counters end the line) may carry one.
        if l.ending(text) == "\r\n" && !body.trim().is_empty() && !body.starts_with(['#', ':']) {
            return Err(ParseError::new(
                l.content.end,
                "a carriage return at the end of the line",
                "a line ending in a line feed alone (iptables-restore reads the \\r as part of the last word)",
            ));
        }
        let kind = if body.trim().is_empty() {
            Kind::Blank
        } else if body.starts_with('#') {
            Kind::Comment
        } else if let Some(name) = body.strip_prefix('*') {
            table = Some(name.trim().to_string());
            Kind::Table(name.trim().to_string())
        } else if body.trim_end() == "COMMIT" {
            Kind::Commit
        } else if let Some(decl) = body.strip_prefix(':') {
            let mut it = decl.split_whitespace();
            Kind::Chain {
                name: it.next().unwrap_or("").to_string(),
                policy: it.next().unwrap_or("").to_string(),
            }
        } else if body.starts_with("-A ") || body.starts_with("-I ") {
            let all = split(l.content.start + lead, body)?;
            let chain = all.get(1).map(|w| w.text.clone()).unwrap_or_default();
            words = all.into_iter().skip(2).collect();
            Kind::Rule { chain }
        } else {
            Kind::Other
        };
        if kind == Kind::Commit {
            items.push(Item {
                span: l.full,
                content: l.content,
                kind,
                words,
                table: table.take(),
            });
            continue;
        }
        items.push(Item {
            span: l.full,
            content: l.content,
            kind,
            words,
            table: table.clone(),
        });
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// Splits a rule line at blanks, reading `"…"` as iptables-restore does.
fn split(base: usize, line: &str) -> Result<Vec<Word>, ParseError> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        let mut text = String::new();
        let mut quoted = false;
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            if b[i] == b'"' {
                quoted = true;
                let open = i;
                i += 1;
                loop {
                    if i >= b.len() {
                        return Err(ParseError::new(
                            base + open,
                            "a `\"` that is never closed",
                            "a closing `\"` on the same line",
                        ));
                    }
                    if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'"' {
                        text.push('"');
                        i += 2;
                        continue;
                    }
                    if b[i] == b'"' {
                        i += 1;
                        break;
                    }
                    let c = line[i..].chars().next().unwrap_or(' ');
                    text.push(c);
                    i += c.len_utf8();
                }
            } else {
                let c = line[i..].chars().next().unwrap_or(' ');
                text.push(c);
                i += c.len_utf8();
            }
        }
        out.push(Word {
            span: base + start..base + i,
            text,
            quoted,
        });
    }
    Ok(out)
}

impl Doc {
    /// The line's text without its ending.
    pub fn line(&self, i: usize) -> &str {
        &self.src[self.items[i].content.clone()]
    }

    /// The rules of `table`, as item indices, in order.
    pub fn rules<'a>(&'a self, table: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.items.iter().enumerate().filter_map(move |(i, it)| {
            (matches!(it.kind, Kind::Rule { .. }) && it.table.as_deref() == Some(table))
                .then_some(i)
        })
    }

    /// The chain declarations of `table`: (item, name, policy).
    pub fn chains<'a>(&'a self, table: &'a str) -> impl Iterator<Item = (usize, &'a str, &'a str)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(move |(i, it)| match &it.kind {
                Kind::Chain { name, policy } if it.table.as_deref() == Some(table) => {
                    Some((i, name.as_str(), policy.as_str()))
                }
                _ => None,
            })
    }

    /// The tables the file fills, in order.
    pub fn tables(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter_map(|it| match &it.kind {
                Kind::Table(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// True when `table` drops or rejects anything: a chain policy of DROP or REJECT, or a
    /// rule whose target is DROP or REJECT (or a ufw chain that ends in one).
    pub fn filters(&self, table: &str) -> bool {
        self.chains(table)
            .any(|(_, _, p)| p == "DROP" || p == "REJECT")
            || self.rules(table).any(|i| {
                let w = &self.items[i].words;
                w.windows(2).any(|p| {
                    (p[0].text == "-j" || p[0].text == "--jump")
                        && matches!(p[1].text.as_str(), "DROP" | "REJECT")
                })
            })
    }
}

/// `--dport 22`, `--dports 80,443` and `-m multiport --dports`: the ports a rule names.
pub fn ports(words: &[Word]) -> Vec<String> {
    let mut out = Vec::new();
    for p in words.windows(2) {
        if matches!(
            p[0].text.as_str(),
            "--dport" | "--destination-port" | "--dports" | "--destination-ports"
        ) {
            out.extend(p[1].text.split(',').map(str::to_string));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: &str = "# Generated by iptables-save\n*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -m comment --comment \"ssh \\\"in\\\"\" -j ACCEPT\nCOMMIT\n";

    #[test]
    fn rules_chains_and_quoted_words() {
        let d = parse(V4).unwrap();
        assert_eq!(d.to_string(), V4);
        assert!(d.tiles());
        assert_eq!(d.tables(), ["filter"]);
        assert!(d.filters("filter"));
        let rules: Vec<usize> = d.rules("filter").collect();
        assert_eq!(rules.len(), 2);
        let w = &d.items[rules[1]].words;
        assert_eq!(w.iter().find(|w| w.quoted).unwrap().text, "ssh \"in\"");
        assert_eq!(ports(w), ["22"]);
        assert_eq!(d.chains("filter").count(), 3);
    }

    #[test]
    fn an_open_quote_is_an_error_at_the_quote() {
        let e = parse("*filter\n-A INPUT -m comment --comment \"x\n").unwrap_err();
        assert_eq!(
            &"*filter\n-A INPUT -m comment --comment \"x\n"[e.offset..e.offset + 1],
            "\""
        );
    }

    #[test]
    fn a_carriage_return_ends_only_comments() {
        assert!(parse("# c\r\n\r\n*filter\nCOMMIT\n").is_ok());
        assert_eq!(
            parse("*filter\n-A INPUT -j ACCEPT\r\n").unwrap_err().offset,
            26
        );
    }

    #[test]
    fn an_accept_only_table_does_not_filter() {
        let d = parse("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j LOG\nCOMMIT\n").unwrap();
        assert!(!d.filters("filter"));
    }
}
