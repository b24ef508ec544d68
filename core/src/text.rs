//! Positions and line structure of a config file's text.
//!
//! Dialects keep byte offsets into the original text; line and column are computed only
//! when an error or a finding is reported. Newline style is learned from the file itself so
//! that inserted lines match it (LF or CRLF, as found).

use std::ops::Range;
use std::sync::Arc;

/// A half-open byte range into a source text.
pub type Span = Range<usize>;

/// A file's text, read once and shared: the [`crate::File`] that was read, the document
/// parsed from it and the plan hold the same bytes, never a copy. Cloning it is a
/// reference-count increment; it reads as a `str`.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Arc<String>);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// Takes the string over without copying its bytes.
impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Arc::new(s))
    }
}

/// Shares the text.
impl From<&Text> for Text {
    fn from(t: &Text) -> Text {
        t.clone()
    }
}

/// Copies the bytes: for text that was not read from a file (tests, generated files).
impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(Arc::new(s.to_string()))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text(Arc::new(s.clone()))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

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
    crate::logical::PhysicalLines::new(text).collect()
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

/// The code point a byte that is not UTF-8 is read as: `U+10FF00 + byte`. Only bytes
/// 0x80 to 0xFF can be invalid, so the mapped code points are U+10FF80 to U+10FFFF, at
/// the end of Supplementary Private Use Area-B: no config has a reason to hold them, and a
/// file that does is refused (it could not be written back unambiguously).
const FOREIGN_BASE: u32 = 0x10FF00;

/// The UTF-8 byte order mark as it is read: kept in the text, written back as found.
pub const BOM: char = '\u{feff}';

/// The original byte behind `c` when it stands for a byte that is not UTF-8.
pub fn foreign_byte(c: char) -> Option<u8> {
    let v = c as u32;
    (FOREIGN_BASE + 0x80..=FOREIGN_BASE + 0xFF)
        .contains(&v)
        .then(|| (v - FOREIGN_BASE) as u8)
}

/// Decodes file bytes: UTF-8 as itself, every byte that is not valid UTF-8 (a Latin-1
/// `ü` in a comment, say) as the code point `U+10FF00 + byte`, so that [`encode`] gives the
/// exact bytes back. Refused, with the place and the character, when the bytes already
/// hold one of those code points.
pub fn decode(bytes: Vec<u8>) -> Result<String, (LineCol, char)> {
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let bytes = e.into_bytes();
            let mut out = String::with_capacity(bytes.len() + 16);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for &b in chunk.invalid() {
                    out.push(char::from_u32(FOREIGN_BASE + u32::from(b)).unwrap_or('\u{fffd}'));
                }
            }
            // The mapped code points were just made; only a valid chunk can hold a
            // pre-existing one, so check those.
            if let Some((at, c)) = first_reserved(
                bytes.utf8_chunks().flat_map(|c| {
                    c.valid()
                        .chars()
                        .map(Some)
                        .chain(c.invalid().iter().map(|_| None))
                }),
                &out,
            ) {
                return Err((at, c));
            }
            return Ok(out);
        }
    };
    if may_hold_foreign(&text) {
        if let Some((at, c)) = first_reserved(text.chars().map(Some), &text) {
            return Err((at, c));
        }
    }
    Ok(text)
}

/// The place of the first reserved code point among `chars` (as read, `None` for a
/// mapped byte) in `text` (the decoded text, which has one char per item).
/// False when `text` certainly holds none of the code points that stand for foreign
/// bytes: each of them is encoded starting with the byte 0xF4, which a fast scan finds.
fn may_hold_foreign(text: &str) -> bool {
    text.as_bytes().contains(&0xF4)
}

fn first_reserved(
    chars: impl Iterator<Item = Option<char>>,
    text: &str,
) -> Option<(LineCol, char)> {
    for ((off, _), c) in text.char_indices().zip(chars) {
        if let Some(c) = c.filter(|c| foreign_byte(*c).is_some()) {
            return Some((line_col(text, off), c));
        }
    }
    None
}

/// The bytes `text` was decoded from: [`decode`] undone.
pub fn encode(text: &str) -> std::borrow::Cow<'_, [u8]> {
    if !may_hold_foreign(text) || !text.chars().any(|c| foreign_byte(c).is_some()) {
        return std::borrow::Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        match foreign_byte(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` for showing (diffs, messages): every byte that is not UTF-8 as `\xNN`, and a
/// byte order mark at the very start as `<BOM>`, so nothing invisible or undecodable
/// reaches a terminal or a JSON string.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.starts_with(BOM)
        && (!may_hold_foreign(text) || !text.chars().any(|c| foreign_byte(c).is_some()))
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        match foreign_byte(c) {
            Some(b) => out.push_str(&format!("\\x{b:02x}")),
            None if i == 0 && c == BOM => out.push_str("<BOM>"),
            None => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` for a message (an error, warning, note or finding that quotes the file): every
/// byte that is not UTF-8 as `\xNN`, and a byte order mark, wherever it is, named as
/// `<a UTF-8 byte order mark>` instead of shown as an invisible character.
pub fn quoted(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(BOM) && !text.chars().any(|c| foreign_byte(c).is_some()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match foreign_byte(c) {
            Some(b) => out.push_str(&format!("\\x{b:02x}")),
            None if c == BOM => out.push_str("<a UTF-8 byte order mark>"),
            None => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The first byte that is not UTF-8 in `text`, as its offset and original value.
pub fn first_foreign(text: &str) -> Option<(usize, u8)> {
    text.char_indices()
        .find_map(|(i, c)| foreign_byte(c).map(|b| (i, b)))
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
    fn bytes_that_are_not_utf8_decode_to_reserved_chars_and_encode_back() {
        let raw = b"# Verwaltet von M\xfcller\nok \xc3\xa9 \xe2\x82\nend\xff".to_vec();
        let t = decode(raw.clone()).unwrap();
        assert_eq!(first_foreign(&t), Some((17, 0xfc)));
        assert_eq!(line_col(&t, 17), LineCol { line: 1, col: 18 });
        assert_eq!(&*encode(&t), &raw[..]);
        assert_eq!(
            shown(&t),
            "# Verwaltet von M\\xfcller\nok é \\xe2\\x82\nend\\xff"
        );
        assert_eq!(decode(b"fine".to_vec()).unwrap(), "fine");
        assert_eq!(shown("\u{feff}a = b"), "<BOM>a = b");
        assert_eq!(
            quoted("found `\u{feff}x\u{10fffc}`"),
            "found `<a UTF-8 byte order mark>x\\xfc`"
        );
    }

    #[test]
    fn a_file_already_holding_a_reserved_char_is_refused() {
        let mut raw = "a\nb ".as_bytes().to_vec();
        raw.extend("\u{10ff80}".as_bytes());
        let (at, c) = decode(raw.clone()).unwrap_err();
        assert_eq!((at.line, at.col, c), (2, 3, '\u{10ff80}'));
        raw.push(0xff);
        assert_eq!(decode(raw).unwrap_err().0, LineCol { line: 2, col: 3 });
    }
}
