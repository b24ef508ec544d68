//! The nftables ruleset language as `nft -f` reads it (nftables 1.0, nft(8)), losslessly:
//! `/etc/nftables.conf` and the files it includes.
//!
//! - A statement ends at a newline or a `;`; a backslash before the newline continues it.
//!   `#` starts a comment that runs to the end of the line.
//! - `table FAMILY NAME {` opens a block at the top level; inside a table, `chain`, `set`,
//!   `map`, `flowtable` and the stateful objects (`counter`, `quota`, `limit`, `ct`,
//!   `secmark`, `synproxy`) open blocks. Every other `{ … }` is an anonymous set (or map)
//!   and belongs to the statement's words, newlines inside it included.
//! - `"…"` is one word.
//!
//! Items tile the text at every depth: a block's items tile the bytes between its braces.

use crate::error::ParseError;
use crate::text::Span;
use crate::text::Text;

/// One word of a statement: a keyword, a value, a quoted string or a whole `{ … }` set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub span: Span,
    pub text: String,
}

impl Word {
    /// A quoted string's content; other words as written.
    pub fn unquoted(&self) -> &str {
        self.text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(&self.text)
    }

    /// The elements of a `{ a, b }` set, or the word itself.
    pub fn elements(&self) -> Vec<&str> {
        match self
            .text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
        {
            Some(inner) => inner
                .split([',', '\n', ' ', '\t', '\r'])
                .filter(|e| !e.is_empty())
                .collect(),
            None => vec![self.text.as_str()],
        }
    }
}

/// A block: its head (`table ip filter`), the brace positions, and the items between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub head: Vec<Word>,
    /// Offset of `{`.
    pub open: usize,
    /// Offset of the matching `}`.
    pub close: usize,
    pub items: Vec<Item>,
}

/// What an item is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// Blank lines, comment lines, a stray `;`.
    Trivia,
    /// A statement, with its words (its comment and terminator are in the span only).
    Statement(Vec<Word>),
    Block(Block),
}

/// One item: its bytes (leading blanks through the end of its line) and what it is.
pub type Item = crate::doc::Item<ItemKind>;

impl Item {
    /// The statement's words, or the block's head.
    pub fn words(&self) -> &[Word] {
        match &self.kind {
            ItemKind::Statement(w) => w,
            ItemKind::Block(b) => &b.head,
            ItemKind::Trivia => &[],
        }
    }

    /// True when the first word is `kw`.
    pub fn is(&self, kw: &str) -> bool {
        self.words().first().is_some_and(|w| w.text == kw)
    }
}

/// A parsed ruleset file.
pub type Doc = crate::doc::Doc<Item>;

/// Parses a ruleset file.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let mut p = Parser {
        s: text.as_bytes(),
        src: text,
        pos: 0,
    };
    let items = p.items(0, None)?;
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

/// Words that open a block inside a table.
const TABLE_BLOCKS: &[&str] = &[
    "chain",
    "set",
    "map",
    "flowtable",
    "counter",
    "quota",
    "limit",
    "ct",
    "secmark",
    "synproxy",
];

/// Blocks nested deeper than this are refused.
const MAX_DEPTH: usize = 8;

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Past the end of the line (its newline included).
    fn skip_line(&mut self) {
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == b'\n' {
                break;
            }
        }
    }

    /// Items until the closing `}` of a block opened at `open` (left at it), or the end.
    fn items(&mut self, depth: usize, open: Option<usize>) -> Result<Vec<Item>, ParseError> {
        let mut out = Vec::new();
        loop {
            let start = self.pos;
            self.blanks();
            match self.peek() {
                None => {
                    if let Some(o) = open {
                        return Err(ParseError::new(
                            self.src.len(),
                            "the end of the file",
                            format!("a `}}` closing the block opened at byte {o}"),
                        ));
                    }
                    if self.pos > start {
                        out.push(Item {
                            span: start..self.pos,
                            kind: ItemKind::Trivia,
                        });
                    }
                    return Ok(out);
                }
                Some(b'\n' | b'#' | b';') => {
                    if self.peek() == Some(b';') {
                        self.pos += 1;
                    } else {
                        self.skip_line();
                    }
                    out.push(Item {
                        span: start..self.pos,
                        kind: ItemKind::Trivia,
                    });
                }
                Some(b'}') => {
                    if open.is_none() {
                        return Err(ParseError::new(
                            self.pos,
                            "`}` with no block open",
                            "a statement or the end of the file",
                        ));
                    }
                    if self.pos > start {
                        out.push(Item {
                            span: start..self.pos,
                            kind: ItemKind::Trivia,
                        });
                    }
                    return Ok(out);
                }
                Some(_) => out.push(self.statement(start, depth)?),
            }
        }
    }

    /// One statement or block starting at `start` (blanks skipped up to `self.pos`).
    fn statement(&mut self, start: usize, depth: usize) -> Result<Item, ParseError> {
        let mut words: Vec<Word> = Vec::new();
        loop {
            self.blanks();
            match self.peek() {
                None => break,
                Some(b'\\') if self.s.get(self.pos + 1) == Some(&b'\n') => self.pos += 2,
                Some(b'\\') if self.s.get(self.pos + 1) == Some(&b'\r') => self.pos += 3,
                Some(b'\n') => {
                    self.pos += 1;
                    break;
                }
                Some(b'#') => {
                    self.skip_line();
                    break;
                }
                Some(b';') => {
                    self.pos += 1;
                    self.end_of_line();
                    break;
                }
                Some(b'}') => break,
                Some(b'{') => {
                    let opens = match words.first().map(|w| w.text.as_str()) {
                        Some("table") => depth == 0,
                        Some(w) => depth == 1 && TABLE_BLOCKS.contains(&w),
                        None => false,
                    };
                    if opens {
                        if depth >= MAX_DEPTH {
                            return Err(ParseError::new(
                                self.pos,
                                "a block nested too deep",
                                "at most 8 levels of blocks",
                            ));
                        }
                        let open = self.pos;
                        self.pos += 1;
                        let items = self.items(depth + 1, Some(open))?;
                        let close = self.pos;
                        self.pos += 1;
                        self.blanks();
                        if self.peek() == Some(b';') {
                            self.pos += 1;
                        }
                        self.end_of_line();
                        return Ok(Item {
                            span: start..self.pos,
                            kind: ItemKind::Block(Block {
                                head: words,
                                open,
                                close,
                                items,
                            }),
                        });
                    }
                    let w0 = self.pos;
                    self.set()?;
                    words.push(Word {
                        span: w0..self.pos,
                        text: self.src[w0..self.pos].to_string(),
                    });
                }
                Some(b'"') => {
                    let w0 = self.pos;
                    self.pos += 1;
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                        if c == b'"' {
                            break;
                        }
                    }
                    if self.s[self.pos - 1] != b'"' || self.pos - w0 < 2 {
                        return Err(ParseError::new(
                            w0,
                            "a `\"` that is never closed",
                            "a closing `\"` on the same line",
                        ));
                    }
                    words.push(Word {
                        span: w0..self.pos,
                        text: self.src[w0..self.pos].to_string(),
                    });
                }
                Some(_) => {
                    let w0 = self.pos;
                    while let Some(c) = self.peek() {
                        if matches!(
                            c,
                            b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' | b'}' | b'#' | b'"'
                        ) {
                            break;
                        }
                        self.pos += 1;
                    }
                    // Stop at a character boundary the byte loop may split.
                    while !self.src.is_char_boundary(self.pos) {
                        self.pos += 1;
                    }
                    words.push(Word {
                        span: w0..self.pos,
                        text: self.src[w0..self.pos].to_string(),
                    });
                }
            }
        }
        Ok(Item {
            span: start..self.pos,
            kind: ItemKind::Statement(words),
        })
    }

    /// After a `;` or a `}`: the rest of the line when only blanks or a comment follow.
    fn end_of_line(&mut self) {
        let save = self.pos;
        self.blanks();
        match self.peek() {
            Some(b'\n') => self.pos += 1,
            Some(b'#') => self.skip_line(),
            None => {}
            _ => self.pos = save,
        }
    }

    /// A balanced `{ … }` set, newlines and comments inside included.
    fn set(&mut self) -> Result<(), ParseError> {
        let open = self.pos;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(ParseError::new(
                            self.pos - 1,
                            "a set nested too deep",
                            "at most 8 levels of braces",
                        ));
                    }
                }
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                b'#' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => {}
            }
        }
        Err(ParseError::new(
            open,
            "a `{` that is never closed",
            "a `}` closing the set",
        ))
    }
}

/// A table block: its family and name.
pub fn table_of(b: &Block) -> Option<(&str, &str)> {
    match b.head.as_slice() {
        [t, family, name] if t.text == "table" => Some((family.text.as_str(), name.text.as_str())),
        // `table NAME` is family ip.
        [t, name] if t.text == "table" => Some(("ip", name.text.as_str())),
        _ => None,
    }
}

/// A base chain's hook and policy, from its `type filter hook input priority 0; policy drop;`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainInfo {
    pub kind: Option<String>,
    pub hook: Option<String>,
    pub policy: Option<String>,
}

/// What a chain block declares about itself.
pub fn chain_info(b: &Block) -> ChainInfo {
    let mut info = ChainInfo::default();
    for it in &b.items {
        let w = it.words();
        for (i, x) in w.iter().enumerate() {
            let next = w
                .get(i + 1)
                .map(|n| n.text.trim_end_matches(';').to_string());
            match x.text.as_str() {
                "type" if i == 0 => info.kind = next,
                "hook" => info.hook = next,
                "policy" if i == 0 => info.policy = next,
                _ => {}
            }
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable ip filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n\t\tct state established,related accept\n\t\ttcp dport { 22,\n\t\t\t80 } accept # web\n\t\tip saddr 192.0.2.0/24 \\\n\t\t\ttcp dport 5432 accept\n\t}\n}\ninclude \"/etc/nftables.d/*.nft\"\n";

    fn blocks_tile(items: &[Item]) -> bool {
        items.iter().all(|it| match &it.kind {
            ItemKind::Block(b) => {
                let mut pos = b.open + 1;
                for i in &b.items {
                    if i.span.start != pos {
                        return false;
                    }
                    pos = i.span.end;
                }
                pos == b.close && blocks_tile(&b.items)
            }
            _ => true,
        })
    }

    #[test]
    fn tables_chains_sets_and_continuations() {
        let d = parse(CONF).unwrap();
        assert_eq!(d.to_string(), CONF);
        assert!(d.tiles() && blocks_tile(&d.items));
        let ItemKind::Block(t) = &d.items.iter().find(|i| i.is("table")).unwrap().kind else {
            panic!()
        };
        assert_eq!(table_of(t), Some(("ip", "filter")));
        let ItemKind::Block(c) = &t.items.iter().find(|i| i.is("chain")).unwrap().kind else {
            panic!()
        };
        let info = chain_info(c);
        assert_eq!(info.hook.as_deref(), Some("input"));
        assert_eq!(info.policy.as_deref(), Some("drop"));
        let rules: Vec<&Item> = c
            .items
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::Statement(_)))
            .collect();
        assert_eq!(rules.len(), 5);
        assert_eq!(rules[3].words()[2].elements(), ["22", "80"]);
        assert_eq!(rules[4].words().len(), 7);
        assert!(d.items.last().unwrap().is("include"));
    }

    #[test]
    fn an_unclosed_block_or_a_stray_brace_is_an_error() {
        assert!(parse("table inet f {\n chain c {\n").is_err());
        assert_eq!(parse("}\n").unwrap_err().offset, 0);
        assert!(parse("add rule ip f c tcp dport { 22 accept\n").is_err());
    }
}
