//! `/file/name` lists: entries separated by blanks or commas, `#` comment lines.

use super::{group, list_tokens, trimmed_span, Element, Logical, Raw};
use crate::edit::Edits;
use crate::error::ParseError;
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
    let groups = group(text, false).map_err(|at| ParseError::new(at, "", ""))?;
    let items = groups
        .into_iter()
        .map(|g| match g {
            Raw::Comment(l) => ListItem::Comment(l.full),
            Raw::Blank(l) => ListItem::Blank(l.full),
            Raw::Logical(l) => ListItem::Entries(l),
        })
        .collect();
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
            out.extend(self.elements(l).into_iter().take_while(|t| !t.is_comment()));
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
        let segs: Vec<Span> = l
            .lines
            .iter()
            .map(|x| trimmed_span(&self.src, x.content.start, x.content.end))
            .collect();
        list_tokens(&self.src, &segs)
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
