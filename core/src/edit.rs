//! Minimal edits of a text: byte-range replacements applied in one pass.
//!
//! A dialect parses a file into items that point back into the text; a plugin then asks
//! for a few replacements or insertions. Everything not covered by an edit is copied
//! unchanged, so an edit touches only the lines it must, and applying costs one pass over
//! the text however many edits there are.

use crate::text::{line_end_full, line_start, newline_of, Span};

/// A set of non-overlapping replacements to apply to one text.
#[derive(Debug, Clone, Default)]
pub struct Edits {
    edits: Vec<(Span, String)>,
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
        self.edits.push((span, text.into()));
    }

    /// Inserts `text` at byte `at`. Insertions at one offset keep the order they were made in.
    pub fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.edits.push((at..at, text.into()));
    }

    /// Inserts whole line `line` (without a line ending) after the line holding byte
    /// `offset` of `src`, using the file's own newline. A last line without a line ending
    /// stays without one.
    pub fn insert_line_after(&mut self, src: &str, offset: usize, line: &str) {
        let nl = newline_of(src);
        let end = line_end_full(src, offset);
        if end == src.len() && !src.ends_with('\n') {
            self.insert(end, format!("{nl}{line}"));
        } else {
            self.insert(end, format!("{line}{nl}"));
        }
    }

    /// Inserts whole line `line` (without a line ending) before the line holding byte
    /// `offset` of `src`, using the file's own newline.
    pub fn insert_line_before(&mut self, src: &str, offset: usize, line: &str) {
        let nl = newline_of(src);
        self.insert(line_start(src, offset), format!("{line}{nl}"));
    }

    /// Appends whole line `line` at the end of `src`, adding the missing final newline
    /// of the last line first if needed.
    pub fn append_line(&mut self, src: &str, line: &str) {
        let nl = newline_of(src);
        if src.is_empty() || src.ends_with('\n') {
            self.insert(src.len(), format!("{line}{nl}"));
        } else {
            self.insert(src.len(), format!("{nl}{line}{nl}"));
        }
    }

    /// Applies the edits to `src`.
    ///
    /// # Panics
    /// When two edits overlap or one reaches past the end of `src`: that is a bug in the
    /// code that made them, never a property of the input.
    pub fn apply(mut self, src: &str) -> String {
        // Stable sort: insertions at one offset stay in the order they were made.
        self.edits.sort_by_key(|(span, _)| (span.start, span.end));
        let mut out = String::with_capacity(src.len() + 64 * self.edits.len());
        let mut pos = 0;
        for (span, text) in self.edits {
            assert!(
                span.start >= pos && span.end <= src.len() && span.start <= span.end,
                "overlapping or out-of-range edit {span:?}"
            );
            out.push_str(&src[pos..span.start]);
            out.push_str(&text);
            pos = span.end;
        }
        out.push_str(&src[pos..]);
        out
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
    #[should_panic(expected = "overlapping")]
    fn overlapping_edits_are_a_bug() {
        let mut e = Edits::new();
        e.replace(0..3, "x");
        e.replace(2..4, "y");
        e.apply("abcdef");
    }
}
