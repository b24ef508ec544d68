//! `master.cf`: one service per logical line, `-o` options on continuation lines.

use super::{group, Logical, Raw};
use crate::edit::Edits;
use crate::error::ParseError;
use crate::text::Text;
use crate::text::{newline_of, Span};

/// One master.cf service: its logical line and the spans of its fields on the first line
/// (`service type private unpriv chroot wakeup maxproc command`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub logical: Logical,
    pub fields: Vec<Span>,
}

/// A piece of a master.cf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterItem {
    Comment(Span),
    Blank(Span),
    Service(Service),
}

impl MasterItem {
    pub fn span(&self) -> Span {
        match self {
            MasterItem::Comment(s) | MasterItem::Blank(s) => s.clone(),
            MasterItem::Service(x) => x.logical.span.clone(),
        }
    }
}

/// A parsed master.cf.
pub type MasterDoc = crate::doc::Doc<MasterItem>;

/// Parses a master.cf. Errors: an indented first line, a service line with fewer than
/// eight fields.
pub fn parse_master(text: impl Into<Text>) -> Result<MasterDoc, ParseError> {
    parse_master_shared(text.into())
}

fn parse_master_shared(shared: Text) -> Result<MasterDoc, ParseError> {
    let text = shared.as_str();
    let groups = group(text, true).map_err(|at| {
        ParseError::new(
            at,
            ParseError::describe(text, at),
            "a service name at the start of the line (an indented line continues the service above it, and there is none)",
        )
    })?;
    let mut items = Vec::new();
    for g in groups {
        items.push(match g {
            Raw::Comment(l) => MasterItem::Comment(l.full),
            Raw::Blank(l) => MasterItem::Blank(l.full),
            Raw::Logical(lg) => {
                let first = &lg.lines[0];
                let words = crate::lex::words(first.text(text), first.content.start);
                if words.len() < 8 {
                    let at = first.content.start;
                    return Err(ParseError::new(
                        at,
                        ParseError::describe(text, at),
                        "a service line: name, type, private, unpriv, chroot, wakeup, maxproc, command",
                    ));
                }
                check_fields(&words)?;
                MasterItem::Service(Service {
                    fields: words.into_iter().map(|w| w.span).collect(),
                    logical: lg,
                })
            }
        });
    }
    Ok(MasterDoc {
        src: shared.clone(),
        items,
    })
}

/// A field check: its name, the test, what is expected.
type FieldCheck = (&'static str, fn(&str) -> bool, &'static str);

fn yes_no(w: &str) -> bool {
    matches!(w, "y" | "n" | "-")
}

fn number(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())
}

/// The checks `postconf -M` makes of fields 2 to 7 (`invalid type field "inex"`, …).
const FIELDS: [FieldCheck; 6] = [
    (
        "type",
        |w| matches!(w, "inet" | "unix" | "unix-dgram" | "fifo" | "pass"),
        "`inet`, `unix`, `unix-dgram`, `fifo` or `pass`",
    ),
    ("private", yes_no, "`y`, `n` or `-`"),
    ("unpriv", yes_no, "`y`, `n` or `-`"),
    ("chroot", yes_no, "`y`, `n` or `-`"),
    (
        "wakeup",
        |w| w == "-" || number(w.strip_suffix('?').unwrap_or(w)),
        "a number of seconds, optionally with `?`, or `-`",
    ),
    ("maxproc", |w| w == "-" || number(w), "a number or `-`"),
];

/// A service line whose fields 2 to 7 `postconf -M` rejects is an error at the field.
fn check_fields(words: &[crate::lex::Word<'_>]) -> Result<(), ParseError> {
    for (w, (field, ok, expected)) in words[1..7].iter().zip(FIELDS) {
        if !ok(w.text) {
            return Err(ParseError::new(
                w.span.start,
                format!("`{}` as the {field} field", w.text),
                format!("{expected} (postconf rejects the service otherwise)"),
            ));
        }
    }
    Ok(())
}

impl crate::doc::Spanned for MasterItem {
    fn span(&self) -> Span {
        MasterItem::span(self)
    }
}

impl MasterDoc {
    pub fn src(&self) -> &str {
        &self.src
    }

    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.items.iter().filter_map(|i| match i {
            MasterItem::Service(s) => Some(s),
            _ => None,
        })
    }

    /// Field `i` of a service (0: the service name or `host:port`, 1: the type).
    pub fn field<'a>(&'a self, s: &Service, i: usize) -> &'a str {
        &self.src[s.fields[i].clone()]
    }

    /// Inserts a copy of service `s` (its first line and its `-o` continuation lines,
    /// without interleaved comments) right after it, named `name`.
    pub fn insert_sibling(&self, s: &Service, name: &str, edits: &mut Edits) {
        let copy = self.sibling(s, name);
        self.insert_after_service(s, &copy, edits);
    }

    /// Inserts `text` (whole lines, without the last line ending) right after service `s`.
    pub fn insert_after_service(&self, s: &Service, text: &str, edits: &mut Edits) {
        let last = s.logical.lines.last().expect("a logical line has a line");
        edits.insert_line_after(&self.src, last.content.start, text);
    }

    /// The text of a copy of service `s` named `name`: its first line and its `-o`
    /// continuation lines, without interleaved comments or the last line ending.
    pub fn sibling(&self, s: &Service, name: &str) -> String {
        let nl = newline_of(&self.src);
        let mut copy = String::new();
        for (k, l) in s.logical.lines.iter().enumerate() {
            if k == 0 {
                copy.push_str(name);
                copy.push_str(&self.src[s.fields[0].end..l.content.end]);
            } else {
                copy.push_str(nl);
                copy.push_str(l.text(&self.src));
            }
        }
        copy
    }
}
