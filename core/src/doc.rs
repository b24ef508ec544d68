//! The lossless document every dialect shares: the source text and items that tile it.
//!
//! Each dialect defines its own item type (a directive, a comment, a continuation line…)
//! and makes its document `Doc<ItsItem>`. Every byte of the source belongs to exactly one
//! item, in order, so printing the items' text gives back the input byte for byte: LF or
//! CRLF as found, tabs, trailing blanks, a missing final newline. Edits never change a
//! document in place; they are computed as [`crate::Edits`] against `src`.

use crate::text::{Span, Text};
use std::fmt;

/// An item that knows which bytes of the source it covers.
pub trait Spanned {
    fn span(&self) -> Span;
}

/// An item that is its bytes and what they are: the item of the dialects that need nothing
/// more (each names it `Item` for its own `K`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<K> {
    pub span: Span,
    pub kind: K,
}

impl<K> Spanned for Item<K> {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// A parsed file: its text (shared with the file it was read from, not copied) and the
/// items that tile it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc<I> {
    pub src: Text,
    pub items: Vec<I>,
}

impl<I: Spanned> Doc<I> {
    /// True when the items cover the source exactly, in order, without gaps or overlaps:
    /// the invariant every dialect's parser keeps.
    pub fn tiles(&self) -> bool {
        let mut at = 0;
        for it in &self.items {
            let s = it.span();
            if s.start != at || s.end < s.start {
                return false;
            }
            at = s.end;
        }
        at == self.src.len()
    }
}

impl<I: Spanned> fmt::Display for Doc<I> {
    /// The items' text, in order: the input, when nothing was edited.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for it in &self.items {
            f.write_str(&self.src[it.span()])?;
        }
        Ok(())
    }
}

/// The whole-file fixtures of one dialect, `testdata/<dialect>/*`, as (file name, text)
/// sorted by name; at least `min` of them, so a moved directory cannot pass by testing nothing.
#[cfg(test)]
pub(crate) fn fixtures(dialect: &str, min: usize) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(dialect);
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let text = crate::text::decode(std::fs::read(&p).unwrap()).unwrap();
            let text = text
                .strip_prefix(crate::text::BOM)
                .unwrap_or(&text)
                .to_string();
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= min,
        "{} fixtures in {}, want {min}",
        v.len(),
        dir.display()
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Piece(Span);

    impl Spanned for Piece {
        fn span(&self) -> Span {
            self.0.clone()
        }
    }

    #[test]
    fn tiling_items_print_the_source_back() {
        let d = Doc {
            src: "a\r\nb".into(),
            items: vec![Piece(0..3), Piece(3..4)],
        };
        assert!(d.tiles());
        assert_eq!(d.to_string(), "a\r\nb");
    }

    #[test]
    fn gaps_overlaps_and_short_coverage_do_not_tile() {
        let src = "abcd".to_string();
        for items in [
            vec![Piece(0..1), Piece(2..4)],
            vec![Piece(0..2), Piece(1..4)],
            vec![Piece(0..3)],
        ] {
            assert!(!Doc {
                src: src.as_str().into(),
                items
            }
            .tiles());
        }
    }
}
