//! `main.cf`: `name = value` definitions, continuation lines, `$name` expansion.

use super::{group, insert_inline, list_tokens, separators, trimmed_span, Element, Logical, Raw};
use crate::edit::Edits;
use crate::error::ParseError;
use crate::text::Text;
use crate::text::{indent_of, newline_of, Span};

/// One `name = value` definition, possibly spread over continuation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub name_span: Span,
    /// The value's text on each physical line that holds some of it, blank-trimmed
    /// (the first may be empty, as in `name =`).
    pub segments: Vec<Span>,
    /// Where the value starts: just after `=` and the blanks following it.
    pub value_start: usize,
    /// The logical line, continuation and interleaved comment lines included.
    pub logical: Logical,
}

/// What one item of a main.cf is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Comment,
    Blank,
    Param(Param),
}

/// A piece of a main.cf: its raw text is `src[span]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub span: Span,
    pub kind: Kind,
}

/// A parsed main.cf.
pub type Doc = crate::doc::Doc<Item>;

/// Parses a main.cf. Errors: an indented line before any parameter, a line without `=`,
/// an empty parameter name.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let groups = group(text, true).map_err(|at| {
        ParseError::new(
            at,
            ParseError::describe(text, at),
            "a parameter name at the start of the line (an indented line continues the parameter above it, and there is none)",
        )
    })?;
    let mut items = Vec::new();
    for g in groups {
        items.push(match g {
            Raw::Comment(l) => Item {
                span: l.full,
                kind: Kind::Comment,
            },
            Raw::Blank(l) => Item {
                span: l.full,
                kind: Kind::Blank,
            },
            Raw::Logical(lg) => {
                let first = &lg.lines[0];
                let t = first.text(text);
                let base = first.content.start;
                let Some(eq) = t.find('=') else {
                    return Err(ParseError::new(
                        base,
                        ParseError::describe(text, base),
                        "`name = value`",
                    ));
                };
                let name = t[..eq].trim_end_matches([' ', '\t']);
                if name.is_empty() || name.contains([' ', '\t']) {
                    return Err(ParseError::new(
                        base,
                        ParseError::describe(text, base),
                        "a parameter name before `=`",
                    ));
                }
                let after = base + eq + 1;
                let first_seg = trimmed_span(text, after, first.content.end);
                let value_start = if first_seg.is_empty() {
                    // `name =` or `name =   `: the value would start after the blanks.
                    after
                        + (text[after..first.content.end].len()
                            - text[after..first.content.end]
                                .trim_start_matches([' ', '\t'])
                                .len())
                } else {
                    first_seg.start
                };
                let mut segments = vec![first_seg];
                for l in &lg.lines[1..] {
                    segments.push(trimmed_span(text, l.content.start, l.content.end));
                }
                Item {
                    span: lg.span.clone(),
                    kind: Kind::Param(Param {
                        name: name.to_string(),
                        name_span: base..base + name.len(),
                        segments,
                        value_start,
                        logical: lg,
                    }),
                }
            }
        });
    }
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

impl crate::doc::Spanned for Item {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

impl Doc {
    pub fn src(&self) -> &str {
        &self.src
    }

    /// Every definition, in file order.
    pub fn params(&self) -> impl Iterator<Item = &Param> {
        self.items.iter().filter_map(|i| match &i.kind {
            Kind::Param(p) => Some(p),
            _ => None,
        })
    }

    /// Every definition of `name`, in file order (the last one is in effect).
    pub fn defs(&self, name: &str) -> Vec<&Param> {
        self.params().filter(|p| p.name == name).collect()
    }

    /// The definition of `name` Postfix uses: the last one.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params().filter(|p| p.name == name).last()
    }

    /// A definition's value as Postfix reads it (continuations joined by a blank).
    pub fn value(&self, p: &Param) -> String {
        p.segments
            .iter()
            .map(|s| &self.src[s.clone()])
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The value of the last definition of `name`, if any.
    pub fn get(&self, name: &str) -> Option<String> {
        self.param(name).map(|p| self.value(p))
    }

    /// A definition's value split as a list, with spans.
    pub fn tokens(&self, p: &Param) -> Vec<Element<'_>> {
        list_tokens(&self.src, &p.segments)
    }

    /// Adds `entries` at the end of list parameter `p`: before a trailing `# note`, in the
    /// value's separator style; on new continuation lines when the value already puts one
    /// element on each continuation line, else on its last line.
    pub fn append_to_list(&self, p: &Param, entries: &[String], edits: &mut Edits) {
        if entries.is_empty() {
            return;
        }
        let tokens = self.tokens(p);
        let live = tokens
            .iter()
            .position(Element::is_comment)
            .unwrap_or(tokens.len());
        let live_tokens = &tokens[..live];
        let one_per_line = {
            // Tokens per continuation segment, one binary search per token (segments are
            // in file order), so long lists stay linear.
            let conts = &p.segments[1..];
            let mut counts = vec![0usize; conts.len()];
            for t in live_tokens {
                let i = conts.partition_point(|s| s.end <= t.span.start);
                if i < conts.len() && conts[i].contains(&t.span.start) {
                    counts[i] += 1;
                }
            }
            counts.retain(|&n| n > 0);
            !counts.is_empty() && counts.iter().all(|&n| n == 1) && live == tokens.len()
        };
        if one_per_line {
            let last = &live_tokens[live - 1];
            let line = p
                .logical
                .lines
                .iter()
                .find(|l| l.content.contains(&last.span.start))
                .expect("a token lies on a line");
            let indent = indent_of(line.text(&self.src));
            let sep = separators(&self.src, live_tokens);
            let trailing = last.comma.is_some();
            if sep.comma && !trailing {
                edits.insert(last.span.end, ",");
            }
            let n = entries.len();
            for (k, e) in entries.iter().enumerate() {
                let comma = if trailing || (sep.comma && k + 1 < n) {
                    ","
                } else {
                    ""
                };
                edits.continue_line_after(
                    &self.src,
                    line.content.start,
                    &format!("{indent}{e}{comma}"),
                );
            }
            return;
        }
        let after = live.checked_sub(1);
        let at_start = if live < tokens.len() {
            tokens[live].span.start
        } else {
            p.value_start
        };
        if after.is_none() && live < tokens.len() {
            // Only a `# note`: the entries go before it.
            let s = format!("{} ", entries.join(" "));
            edits.insert(at_start, s);
            return;
        }
        insert_inline(&self.src, &tokens, after, at_start, entries, edits);
    }

    /// Inserts `entries` right after list element `index` of `p`, on the same line.
    pub fn insert_after_token(
        &self,
        p: &Param,
        index: usize,
        entries: &[String],
        edits: &mut Edits,
    ) {
        let tokens = self.tokens(p);
        insert_inline(
            &self.src,
            &tokens,
            Some(index),
            p.value_start,
            entries,
            edits,
        );
    }

    /// Replaces the whole value of `p` (from its first to its last element) with `value`.
    pub fn set_value(&self, p: &Param, value: &str, edits: &mut Edits) {
        let tokens = self.tokens(p);
        match (tokens.first(), tokens.last()) {
            (Some(a), Some(b)) => edits.replace(a.span.start..b.span.end, value),
            _ => {
                let pre = if self.src[..p.value_start].ends_with([' ', '\t']) {
                    ""
                } else {
                    " "
                };
                edits.insert(p.value_start, format!("{pre}{value}"));
            }
        }
    }

    /// Inserts the line `name = value` after the whole of definition `p`.
    pub fn insert_param_after(&self, p: &Param, name: &str, value: &str, edits: &mut Edits) {
        let last = p.logical.lines.last().expect("a logical line has a line");
        edits.insert_line_after(&self.src, last.content.start, &format!("{name} = {value}"));
    }

    /// Appends the line `name = value` at the end of the file.
    pub fn append_param(&self, name: &str, value: &str, edits: &mut Edits) {
        edits.append_line(&self.src, &format!("{name} = {value}"));
    }

    pub fn newline(&self) -> &'static str {
        newline_of(&self.src)
    }
}

/// Expands `$name`, `${name}` and `$$` in `value` with `lookup`. Returns `None` for the
/// conditional forms (`${name?x}`, `${name:x}`), which v6fix does not evaluate.
pub fn expand(value: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    fn go(value: &str, lookup: &dyn Fn(&str) -> Option<String>, depth: usize) -> Option<String> {
        if depth > 20 {
            return None;
        }
        let mut out = String::new();
        let mut rest = value;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('$') {
                out.push('$');
                rest = r;
                continue;
            }
            let (name, r) = if let Some(b) = after.strip_prefix('{') {
                let close = b.find('}')?;
                let name = &b[..close];
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return None;
                }
                (name, &b[close + 1..])
            } else if let Some(b) = after.strip_prefix('(') {
                let close = b.find(')')?;
                (&b[..close], &b[close + 1..])
            } else {
                let n = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..n], &after[n..])
            };
            if name.is_empty() {
                return None;
            }
            if let Some(v) = lookup(name) {
                out.push_str(&go(&v, lookup, depth + 1)?);
            }
            rest = r;
        }
        out.push_str(rest);
        Some(out)
    }
    go(value, lookup, 0)
}
