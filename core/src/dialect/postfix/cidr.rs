//! `cidr:` tables (cidr_table(5)): `pattern result` rules and `if`/`endif` blocks.

use super::{group, trimmed_span, Logical, Raw};
use crate::edit::Edits;
use crate::error::ParseError;
use crate::text::Span;
use crate::text::Text;

/// One rule of a cidr table: `pattern result`, or an `if`/`endif` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub logical: Logical,
    pub pattern: Span,
    /// The blanks between pattern and result, as written.
    pub gap: Span,
    /// The result (to the end of the logical line); empty for `endif`.
    pub result: Span,
    /// `if`/`endif` nesting depth of the rule (0 at top level).
    pub depth: usize,
}

/// A piece of a cidr table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrItem {
    Comment(Span),
    Blank(Span),
    Rule(Rule),
    If(Rule),
    Endif(Rule),
}

impl CidrItem {
    pub fn span(&self) -> Span {
        match self {
            CidrItem::Comment(s) | CidrItem::Blank(s) => s.clone(),
            CidrItem::Rule(r) | CidrItem::If(r) | CidrItem::Endif(r) => r.logical.span.clone(),
        }
    }
}

/// A parsed cidr table.
pub type CidrDoc = crate::doc::Doc<CidrItem>;

/// Parses a cidr table. Errors: an indented first line, a rule without a result, an
/// `endif` without `if`, an `if` without `endif`.
pub fn parse_cidr(text: impl Into<Text>) -> Result<CidrDoc, ParseError> {
    parse_cidr_shared(text.into())
}

fn parse_cidr_shared(shared: Text) -> Result<CidrDoc, ParseError> {
    let text = shared.as_str();
    let groups = group(text, true).map_err(|at| {
        ParseError::new(
            at,
            ParseError::describe(text, at),
            "a pattern at the start of the line (an indented line continues the rule above it, and there is none)",
        )
    })?;
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut open_if = Vec::new();
    for g in groups {
        items.push(match g {
            Raw::Comment(l) => CidrItem::Comment(l.full),
            Raw::Blank(l) => CidrItem::Blank(l.full),
            Raw::Logical(lg) => {
                let first = &lg.lines[0];
                let t = first.text(text);
                let base = first.content.start;
                let plen = t.find([' ', '\t']).unwrap_or(t.len());
                let pattern = base..base + plen;
                let rest_start = pattern.end;
                let last = lg.lines.last().expect("a logical line has a line");
                let mut whole = trimmed_span(text, rest_start, last.content.end);
                // A result on a continuation line: skip the line breaks and indentation.
                let lead = text[whole.clone()].len()
                    - text[whole.clone()]
                        .trim_start_matches([' ', '\t', '\r', '\n'])
                        .len();
                whole.start += lead;
                let gap = rest_start..whole.start.min(first.content.end).max(rest_start);
                let word = &text[pattern.clone()];
                let kw = word.to_ascii_lowercase();
                let rule = |depth| Rule {
                    logical: lg.clone(),
                    pattern: pattern.clone(),
                    gap: gap.clone(),
                    result: whole.clone(),
                    depth,
                };
                if kw == "endif" {
                    if depth == 0 {
                        return Err(ParseError::new(
                            base,
                            "`endif`",
                            "a rule (this `endif` has no `if`)",
                        ));
                    }
                    depth -= 1;
                    open_if.pop();
                    CidrItem::Endif(rule(depth))
                } else if kw == "if" {
                    if whole.is_empty() {
                        return Err(ParseError::new(
                            pattern.end,
                            ParseError::describe(text, pattern.end),
                            "a pattern after `if`",
                        ));
                    }
                    let r = rule(depth);
                    depth += 1;
                    open_if.push(base);
                    CidrItem::If(r)
                } else {
                    if whole.is_empty() {
                        return Err(ParseError::new(
                            pattern.end,
                            ParseError::describe(text, pattern.end),
                            "a lookup result after the pattern",
                        ));
                    }
                    CidrItem::Rule(rule(depth))
                }
            }
        });
    }
    if let Some(&at) = open_if.last() {
        return Err(ParseError::new(
            at,
            ParseError::describe(text, at),
            "an `endif` for this `if`",
        ));
    }
    Ok(CidrDoc {
        src: shared.clone(),
        items,
    })
}

impl crate::doc::Spanned for CidrItem {
    fn span(&self) -> Span {
        CidrItem::span(self)
    }
}

impl CidrDoc {
    pub fn src(&self) -> &str {
        &self.src
    }

    /// The lookup rules (not `if`/`endif`), in order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.items.iter().filter_map(|i| match i {
            CidrItem::Rule(r) => Some(r),
            _ => None,
        })
    }

    pub fn pattern<'a>(&'a self, r: &Rule) -> &'a str {
        &self.src[r.pattern.clone()]
    }

    /// The result as Postfix reads it: continuation lines joined by a blank.
    pub fn result(&self, r: &Rule) -> String {
        self.src[r.result.clone()]
            .split([' ', '\t', '\r', '\n'])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Adds `pattern result` rules after the last top-level rule (at the end when there
    /// is none), aligning the result the way that rule does.
    pub fn append_rules(&self, rules: &[(String, String)], edits: &mut Edits) {
        let last = self.items.iter().rev().find_map(|i| match i {
            CidrItem::Rule(r) | CidrItem::Endif(r) if r.depth == 0 => Some(r),
            _ => None,
        });
        let one_line = |r: &&Rule| r.depth == 0 && r.gap.end == r.result.start;
        let (gap_text, width) = match self.rules().filter(one_line).last() {
            Some(r) => {
                let g = &self.src[r.gap.clone()];
                (g.to_string(), r.pattern.len() + g.len())
            }
            None => (" ".to_string(), 0),
        };
        let render = |p: &str, res: &str| {
            let gap = if gap_text.contains('\t') || gap_text.len() <= 1 {
                gap_text.clone()
            } else {
                " ".repeat(width.saturating_sub(p.len()).max(1))
            };
            format!("{p}{gap}{res}")
        };
        match last {
            Some(r) => {
                let line = r.logical.lines.last().expect("a logical line has a line");
                for (p, res) in rules {
                    edits.insert_line_after(&self.src, line.content.start, &render(p, res));
                }
            }
            None => {
                for (p, res) in rules {
                    edits.append_line(&self.src, &render(p, res));
                }
            }
        }
    }
}
