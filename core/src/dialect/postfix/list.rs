//! `/file/name` lists: entries separated by blanks or commas, `#` comment lines.

use super::{each_group, list_tokens_into, trimmed_span, Element, Logical, Raw};
use crate::edit::Edits;
use crate::error::ParseError;
use crate::logical::Lines;
use crate::text::Span;
use crate::text::Text;

/// A piece of a `/file/name` list: a comment, a blank, or a logical line of entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListItem {
    Comment(Span),
    Blank(Span),
    Entries(Logical),
}

impl ListItem {
    pub fn span(&self) -> Span {
        match self {
            ListItem::Comment(s) | ListItem::Blank(s) => s.clone(),
            ListItem::Entries(l) => l.span.clone(),
        }
    }
}

/// A parsed `/file/name` list.
pub type ListDoc = crate::doc::Doc<ListItem>;

/// Parses a `/file/name` list. Every text is a list, so this never fails; it returns a
/// `Result` like every dialect's `parse`.
pub fn parse_list(text: impl Into<Text>) -> Result<ListDoc, ParseError> {
    parse_list_shared(text.into())
}

fn parse_list_shared(shared: Text) -> Result<ListDoc, ParseError> {
    let text = shared.as_str();
    let mut items = Vec::new();
    each_group(text, false, |g| {
        items.push(match g {
            Raw::Comment(l) => ListItem::Comment(l.full),
            Raw::Blank(l) => ListItem::Blank(l.full),
            Raw::Logical(l) => ListItem::Entries(l),
        })
    })
    .map_err(|at| ParseError::new(at, "", ""))?;
    Ok(ListDoc {
        src: shared.clone(),
        items,
    })
}

impl crate::doc::Spanned for ListItem {
    fn span(&self) -> Span {
        ListItem::span(self)
    }
}

impl ListDoc {
    pub fn src(&self) -> &str {
        &self.src
    }

    /// The elements of each logical line, in order. Postfix reads each logical line as a
    /// list of its own, so a `# note` ends only its own line.
    pub fn lines(&self) -> Vec<Vec<Element<'_>>> {
        self.logicals().map(|l| self.elements(l)).collect()
    }

    /// Every element Postfix reads (`# notes` and what follows them on their line left out).
    pub fn entries(&self) -> Vec<Element<'_>> {
        let mut out = Vec::with_capacity(self.items.len());
        for l in self.logicals() {
            let from = out.len();
            self.elements_into(l, &mut out);
            if let Some(c) = out[from..].iter().position(|t| t.is_comment()) {
                out.truncate(from + c);
            }
        }
        out
    }

    fn logicals(&self) -> impl Iterator<Item = &Logical> {
        self.items.iter().filter_map(|i| match i {
            ListItem::Entries(l) => Some(l),
            _ => None,
        })
    }

    /// The elements of one logical line.
    fn elements(&self, l: &Logical) -> Vec<Element<'_>> {
        let mut out = Vec::new();
        self.elements_into(l, &mut out);
        out
    }

    fn elements_into<'d>(&'d self, l: &Logical, out: &mut Vec<Element<'d>>) {
        let seg = |x: &crate::text::Line| trimmed_span(&self.src, x.content.start, x.content.end);
        match &l.lines {
            Lines::One(x) => list_tokens_into(&self.src, &[seg(x)], out),
            Lines::Many(v) => {
                list_tokens_into(&self.src, &v.iter().map(seg).collect::<Vec<_>>(), out)
            }
        }
    }

    /// Adds each entry on a line of its own after the last line holding entries (at the
    /// end when there is none), ending with a comma when the existing lines do.
    pub fn append_entries(&self, entries: &[String], edits: &mut Edits) {
        let last = self.items.iter().rev().find_map(|i| match i {
            ListItem::Entries(l) => Some(l),
            _ => None,
        });
        let Some(last) = last else {
            for e in entries {
                edits.append_line(&self.src, e);
            }
            return;
        };
        let comma = self
            .elements(last)
            .last()
            .is_some_and(|t| t.comma.is_some());
        let line = last.lines.last().expect("a logical line has a line");
        for e in entries {
            let c = if comma { "," } else { "" };
            edits.insert_line_after(&self.src, line.content.start, &format!("{e}{c}"));
        }
    }
}
