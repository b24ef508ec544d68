//! Positions and line structure of a config file's text.
//!
//! Dialects keep byte offsets into the original text; line and column are computed only
//! when an error or a finding is reported. Newline style is learned from the file itself so
//! that inserted lines match it (LF or CRLF, as found).

use std::ops::Range;

/// A half-open byte range into a source text.
pub type Span = Range<usize>;

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

impl std::fmt::Display for LineCol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Translates a byte offset in `text` to a line and column. Offsets past the end map to
/// the end of the text; offsets inside a UTF-8 sequence map to the character holding them.
pub fn line_col(text: &str, offset: usize) -> LineCol {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = text.as_bytes()[line_start..offset]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    LineCol { line, col }
}

/// Line starts of a text, for repeated offset-to-position lookups in O(log n) each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// The 1-based line holding byte `offset`, in O(log n): no scan of the line itself, so
    /// reporting many places on one very long line stays linear.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }

    /// The same answer as [`line_col`], for the text this index was built from.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = text.as_bytes()[start..offset]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count()
            + 1;
        LineCol { line, col }
    }
}

/// The newline sequence a file uses: the first one found, LF when the file has none.
pub fn newline_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// One physical line: its content span (without the line ending) and its full span
/// (with the line ending, if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub content: Span,
    pub full: Span,
}

impl Line {
    /// The line's text without its line ending.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.content.clone()]
    }

    /// The line ending as found: `"\n"`, `"\r\n"` or `""` for a last line without one.
    pub fn ending<'a>(&self, src: &'a str) -> &'a str {
        &src[self.content.end..self.full.end]
    }
}

/// Splits `text` into physical lines. Together the `full` spans tile the text exactly.
pub fn lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    while start < text.len() {
        let (end, next) = match memchr_newline(&bytes[start..]) {
            Some(i) => {
                let nl = start + i;
                let end = if nl > start && bytes[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                (end, nl + 1)
            }
            None => (text.len(), text.len()),
        };
        out.push(Line {
            content: start..end,
            full: start..next,
        });
        start = next;
    }
    out
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// The leading blanks (spaces and tabs) of a line.
pub fn indent_of(line: &str) -> &str {
    let n = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..n]
}

/// Byte offset of the start of the line holding `offset`.
pub fn line_start(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |p| p + 1)
}

/// Byte offset just past the line ending of the line holding `offset` (or the end of text).
pub fn line_end_full(text: &str, offset: usize) -> usize {
    text[offset.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |p| offset + p + 1)
}

/// Decodes file bytes as UTF-8, or says where the first invalid byte sits.
pub fn decode(bytes: Vec<u8>) -> Result<String, (LineCol, u8)> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        // The prefix up to `valid` is UTF-8, so positions can be computed on it.
        let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        (line_col(prefix, prefix.len()), bytes[valid])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_and_in_characters() {
        let t = "ab\ncé d\n";
        assert_eq!(line_col(t, 0), LineCol { line: 1, col: 1 });
        assert_eq!(line_col(t, 3), LineCol { line: 2, col: 1 });
        // 'é' is two bytes; the space after it is the third character.
        assert_eq!(line_col(t, 6), LineCol { line: 2, col: 3 });
        assert_eq!(line_col(t, 999), LineCol { line: 3, col: 1 });
    }

    #[test]
    fn the_line_index_agrees_with_line_col_everywhere() {
        let t = "ab\ncé d\n\nx";
        let idx = LineIndex::new(t);
        for off in 0..=t.len() + 2 {
            assert_eq!(idx.line_col(t, off), line_col(t, off), "offset {off}");
        }
    }

    #[test]
    fn lines_tile_the_text_and_keep_crlf_and_missing_final_newline() {
        let t = "a\r\n\tb\n\nlast";
        let ls = lines(t);
        assert_eq!(ls.len(), 4);
        let joined: String = ls.iter().map(|l| &t[l.full.clone()]).collect();
        assert_eq!(joined, t);
        assert_eq!(ls[0].text(t), "a");
        assert_eq!(ls[0].ending(t), "\r\n");
        assert_eq!(ls[1].text(t), "\tb");
        assert_eq!(ls[3].ending(t), "");
        assert!(lines("").is_empty());
    }

    #[test]
    fn newline_style_is_learned_from_the_file() {
        assert_eq!(newline_of("a\r\nb\n"), "\r\n");
        assert_eq!(newline_of("a\nb\r\n"), "\n");
        assert_eq!(newline_of("no newline"), "\n");
    }

    #[test]
    fn decode_reports_the_position_of_the_first_invalid_byte() {
        let (at, byte) = decode(b"ok\nab\xffcd".to_vec()).unwrap_err();
        assert_eq!((at.line, at.col, byte), (2, 3, 0xff));
        assert_eq!(decode(b"fine".to_vec()).unwrap(), "fine");
    }
}
