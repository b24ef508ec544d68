//! Minimal edits of a text: byte-range replacements applied in one pass.
//!
//! A dialect parses a file into items that point back into the text; a plugin then asks
//! for a few replacements or insertions. Everything not covered by an edit is copied
//! unchanged, so an edit touches only the lines it must, and applying costs one pass over
//! the text however many edits there are.
//!
//! Several insertions may land on one offset, typically the end of a file, where a list
//! grows by a continuation line and a new parameter is appended. Their order there is
//! defined by what each insertion belongs to ([`Attach`]), never by the order the plugin
//! happened to make them in: text that continues the logical line (or block) before the
//! offset comes first, then whole new lines, then text that belongs to what follows.

use crate::text::{first_foreign, line_end_full, line_start, newline_of, Span};

/// What an insertion belongs to, which orders the insertions made at one offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attach {
    /// It continues the text before the offset: an element appended to a list, an
    /// argument, a continuation line, an option that ends a stanza. First at its offset.
    Before,
    /// A line (or block of lines) of its own: a new parameter, directive or stanza.
    Line,
    /// It belongs to the text after the offset: a prefix of the next line. Last.
    After,
}

/// Where applying edits changed a text: bytes `old` of the old text became bytes `new` of
/// the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub old: Span,
    pub new: Span,
}

/// A set of non-overlapping replacements to apply to one text.
#[derive(Debug, Clone, Default)]
pub struct Edits {
    edits: Vec<(Span, Attach, String)>,
}

impl Edits {
    pub fn new() -> Self {
        Edits::default()
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Adds every edit of `other`, after this buffer's own at equal offsets.
    pub fn extend(&mut self, other: Edits) {
        self.edits.extend(other.edits);
    }

    /// Replaces the bytes in `span` with `text`.
    pub fn replace(&mut self, span: Span, text: impl Into<String>) {
        self.edits.push((span, Attach::Line, text.into()));
    }

    /// Inserts `text` at byte `at`, continuing the text before it (an element or argument
    /// appended on the same line): [`Attach::Before`].
    pub fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.insert_as(at, Attach::Before, text);
    }

    /// Inserts `text` at byte `at` as what `attach` says it belongs to. Insertions at one
    /// offset are ordered by `attach`, and those with the same one keep the order they
    /// were made in.
    pub fn insert_as(&mut self, at: usize, attach: Attach, text: impl Into<String>) {
        self.edits.push((at..at, attach, text.into()));
    }

    /// Inserts whole line `line` (without a line ending) after the line holding byte
    /// `offset` of `src`, using the file's own newline, as a line of its own
    /// ([`Attach::Line`]). A last line without a line ending stays without one.
    pub fn insert_line_after(&mut self, src: &str, offset: usize, line: &str) {
        self.line_after(src, offset, line, Attach::Line);
    }

    /// Like [`Edits::insert_line_after`], for a line that continues the logical line (or
    /// block) holding `offset`: a continuation line, the next element of a one-per-line
    /// list, an option of the stanza above ([`Attach::Before`]). At the same offset it
    /// comes before any new line, so a new parameter never lands between a list and its
    /// continuation.
    pub fn continue_line_after(&mut self, src: &str, offset: usize, line: &str) {
        self.line_after(src, offset, line, Attach::Before);
    }

    fn line_after(&mut self, src: &str, offset: usize, line: &str, attach: Attach) {
        let nl = newline_of(src);
        let end = line_end_full(src, offset);
        if end == src.len() && !src.ends_with('\n') {
            self.insert_as(end, attach, format!("{nl}{line}"));
        } else {
            self.insert_as(end, attach, format!("{line}{nl}"));
        }
    }

    /// Inserts whole line `line` (without a line ending) before the line holding byte
    /// `offset` of `src`, using the file's own newline.
    pub fn insert_line_before(&mut self, src: &str, offset: usize, line: &str) {
        let nl = newline_of(src);
        self.insert_as(line_start(src, offset), Attach::Line, format!("{line}{nl}"));
    }

    /// Appends whole line `line` at the end of `src`, adding the missing final newline
    /// of the last line first if needed.
    pub fn append_line(&mut self, src: &str, line: &str) {
        let nl = newline_of(src);
        if src.is_empty() || src.ends_with('\n') {
            self.insert_as(src.len(), Attach::Line, format!("{line}{nl}"));
        } else {
            self.insert_as(src.len(), Attach::Line, format!("{nl}{line}{nl}"));
        }
    }

    /// The first byte that is not UTF-8 (see [`crate::text::decode`]) that an edit would
    /// replace or insert, as its offset in `src` and its value: v6fix edits only UTF-8
    /// text, and copies such bytes only where nothing changes.
    pub fn foreign(&self, src: &str) -> Option<(usize, u8)> {
        let mut found: Vec<(usize, u8)> = Vec::new();
        for (span, _, text) in &self.edits {
            let replaced = src.get(span.clone()).unwrap_or("");
            if let Some((i, b)) = first_foreign(replaced) {
                found.push((span.start + i, b));
            } else if let Some((_, b)) = first_foreign(text) {
                found.push((span.start, b));
            }
        }
        found.into_iter().min()
    }

    /// Puts the edits in the order they apply in, and keeps one of edits that are the
    /// same (one place reached twice, as a file included twice is).
    fn settle(&mut self) {
        // Insertions (empty spans) at an offset come before a replacement starting there,
        // ordered by what they belong to; the sort is stable, so equal ones keep the
        // order they were made in.
        self.edits
            .sort_by_key(|(span, attach, _)| (span.start, span.end, *attach));
        self.edits.dedup();
    }

    /// The first edit that overlaps another or reaches past `len`: two different changes
    /// of one place, which cannot both be made.
    pub fn clash(&mut self, len: usize) -> Option<Span> {
        self.settle();
        let mut pos = 0;
        for (span, _, _) in &self.edits {
            if span.start < pos || span.end > len || span.start > span.end {
                return Some(span.clone());
            }
            pos = span.end;
        }
        None
    }

    /// Applies the edits to `src`.
    ///
    /// # Panics
    /// When two edits overlap or one reaches past the end of `src`: that is a bug in the
    /// code that made them, never a property of the input.
    pub fn apply(self, src: &str) -> String {
        self.apply_traced(src).0
    }

    /// [`Edits::apply`], also saying where the text changed: each [`Region`] is a run of
    /// the old text and what stands for it in the new one, in order, touching ones joined.
    /// The report's diff is built from them, at the cost of what changed.
    pub fn apply_traced(mut self, src: &str) -> (String, Vec<Region>) {
        self.settle();
        let mut out = String::with_capacity(src.len() + 64 * self.edits.len());
        let mut regions: Vec<Region> = Vec::new();
        let mut pos = 0;
        for (span, _, text) in self.edits {
            assert!(
                span.start >= pos && span.end <= src.len() && span.start <= span.end,
                "overlapping or out-of-range edit {span:?}"
            );
            out.push_str(&src[pos..span.start]);
            let at = out.len();
            out.push_str(&text);
            match regions.last_mut() {
                Some(r) if r.old.end == span.start => {
                    r.old.end = span.end;
                    r.new.end = out.len();
                }
                _ => regions.push(Region {
                    old: span.clone(),
                    new: at..out.len(),
                }),
            }
            pos = span.end;
        }
        out.push_str(&src[pos..]);
        (out, regions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_offset_order_and_keep_everything_else() {
        let src = "a = 1\nb = 2\n";
        let mut e = Edits::new();
        e.replace(10..11, "3");
        e.insert(0, "# top\n");
        e.insert(0, "# second\n");
        assert_eq!(e.apply(src), "# top\n# second\na = 1\nb = 3\n");
    }

    #[test]
    fn inserted_lines_follow_the_files_newline_and_missing_final_newline() {
        let crlf = "a\r\nb\r\n";
        let mut e = Edits::new();
        e.insert_line_after(crlf, 0, "x");
        assert_eq!(e.apply(crlf), "a\r\nx\r\nb\r\n");

        let open = "a\nb";
        let mut e = Edits::new();
        e.insert_line_after(open, 2, "x");
        assert_eq!(e.apply(open), "a\nb\nx");

        let mut e = Edits::new();
        e.insert_line_before(open, 3, "x");
        e.append_line(open, "z");
        assert_eq!(e.apply(open), "a\nx\nb\nz\n");
    }

    #[test]
    fn insertions_at_one_offset_are_ordered_by_what_they_belong_to() {
        // A list ending the file grows by a continuation line while a new parameter is
        // appended: whichever is made first, the continuation stays with its list.
        let src = "mynetworks = 127.0.0.0/8\n\t192.0.2.0/24\n";
        let want =
            "mynetworks = 127.0.0.0/8\n\t192.0.2.0/24\n\t[2001:db8::]/64\ninet_protocols = all\n";
        for new_first in [true, false] {
            let mut e = Edits::new();
            if new_first {
                e.append_line(src, "inet_protocols = all");
            }
            e.continue_line_after(src, src.len() - 1, "\t[2001:db8::]/64");
            if !new_first {
                e.append_line(src, "inet_protocols = all");
            }
            assert_eq!(e.apply(src), want, "new line made first: {new_first}");
        }

        // No final newline: an element appended on the last line stays on it.
        let src = "inet_interfaces = 127.0.0.1";
        for new_first in [true, false] {
            let mut e = Edits::new();
            if new_first {
                e.insert_line_after(src, 0, "inet_protocols = all");
            }
            e.insert(src.len(), ", [::1]");
            if !new_first {
                e.insert_line_after(src, 0, "inet_protocols = all");
            }
            assert_eq!(
                e.apply(src),
                "inet_interfaces = 127.0.0.1, [::1]\ninet_protocols = all"
            );
        }

        // A prefix of the next line comes after a new line inserted before it.
        let src = "a\nb\n";
        let mut e = Edits::new();
        e.insert_as(2, Attach::After, "# ");
        e.insert_line_before(src, 2, "x");
        e.insert(2, "");
        assert_eq!(e.apply(src), "a\nx\n# b\n");
    }

    #[test]
    fn overlapping_edits_are_a_bug() {
        let r = std::panic::catch_unwind(|| {
            let mut e = Edits::new();
            e.replace(0..3, "x");
            e.replace(2..4, "y");
            e.apply("abcdef")
        });
        let msg = r.expect_err("overlapping edits must panic");
        let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("overlapping"), "{msg}");
    }

    #[test]
    fn the_same_edit_twice_is_made_once_and_two_different_ones_clash() {
        let src = "listen = *\n";
        let mut e = Edits::new();
        e.replace(9..10, "*, ::");
        e.replace(9..10, "*, ::");
        assert_eq!(e.clash(src.len()), None);
        assert_eq!(e.apply(src), "listen = *, ::\n");
        let mut e = Edits::new();
        e.replace(9..10, "*, ::");
        e.replace(9..10, "::");
        assert_eq!(e.clash(src.len()), Some(9..10));
    }
}
