//! Shared token-level parsers (nom 8, complete input) for the line-oriented dialects, and
//! the one word type they share.
//!
//! Dialects build their documents around these: a line is split into words that keep
//! their byte spans, so an edit can replace one word and leave the line's spacing alone.
//! [`Word`] borrows from the text; [`Token`] owns its text and is what documents keep
//! (Apache, sshd and nginx arguments). Two other units are not words and have their own
//! types: a Postfix list [`crate::dialect::postfix::Element`] (with the comma after it) and
//! a VCL [`crate::dialect::varnish::Lexeme`] (with its kind).
//!
//! nom is the token layer where a token has a grammar of its own: quoted strings with
//! their escapes, and Dovecot's value pieces. Line structure (continuations, blocks,
//! sections) is hand-written in each dialect, because it is where every byte must stay
//! accounted for (items tile the text) and each daemon's rule differs.

use crate::text::Span;
use nom::branch::alt;
use nom::bytes::complete::{is_not, take_while1};
use nom::character::complete::char;
use nom::combinator::{opt, recognize};
use nom::sequence::{delimited, pair};
use nom::{IResult, Parser};

/// A word of a line and its byte span within the text it was taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: &'a str,
    pub span: Span,
}

impl Word<'_> {
    /// The word without surrounding double quotes, if it has them.
    pub fn unquoted(&self) -> &str {
        unquote(self.text)
    }
}

/// A word that owns its text: what a dialect keeps of a line after parsing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub span: Span,
}

impl Token {
    /// The word without surrounding double quotes, if it has them.
    pub fn unquoted(&self) -> &str {
        unquote(&self.text)
    }
}

impl Word<'_> {
    /// The word with its own copy of the text.
    pub fn to_token(&self) -> Token {
        Token {
            text: self.text.to_string(),
            span: self.span.clone(),
        }
    }
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

/// The inside of a quoted string with its backslash escapes undone the way Dovecot and
/// named read them: a backslash goes and the character after it stays (`\"` is `"`,
/// `\\` is `\`), a lone backslash at the end goes.
pub fn unbackslash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A double-quoted string with backslash escapes, quotes included.
pub fn quoted(input: &str) -> IResult<&str, &str> {
    recognize(delimited(
        char('"'),
        opt(recognize(nom::multi::many1(alt((
            is_not("\\\""),
            recognize(pair(char('\\'), nom::character::complete::anychar)),
        ))))),
        char('"'),
    ))
    .parse(input)
}

/// A run of characters that are not blanks.
pub fn bare(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c != ' ' && c != '\t').parse(input)
}

/// Splits `line` (starting at byte `base` of its file) into blank-separated words; a
/// double-quoted string is one word even when it holds blanks. A quote that is not
/// closed before a blank is an ordinary character.
pub fn words(line: &str, base: usize) -> Vec<Word<'_>> {
    each_word(line, base).collect()
}

/// The words of [`words`], one at a time, without building a list.
pub fn each_word(line: &str, base: usize) -> impl Iterator<Item = Word<'_>> {
    let bytes = line.as_bytes();
    let blank = |b: u8| b == b' ' || b == b'\t';
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() && blank(bytes[at]) {
            at += 1;
        }
        if at == bytes.len() {
            return None;
        }
        let start = at;
        let closed = match bytes[at] {
            b'"' => match quoted(&line[at..]) {
                Ok((after, q)) if after.is_empty() || after.starts_with([' ', '\t']) => {
                    Some(at + q.len())
                }
                _ => None,
            },
            _ => None,
        };
        at = closed.unwrap_or_else(|| {
            let mut end = at;
            while end < bytes.len() && !blank(bytes[end]) {
                end += 1;
            }
            end
        });
        Some(Word {
            text: &line[start..at],
            span: base + start..base + at,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backslash_goes_and_what_follows_it_stays() {
        assert_eq!(unbackslash(r#"a\"b\\c\d\"#), r#"a"b\cd"#);
        assert_eq!(unbackslash("plain"), "plain");
    }

    #[test]
    fn words_keep_spans_and_quoted_blanks() {
        let line = "  Listen\t\"a b\" [::]:80 ";
        let w = words(line, 100);
        let texts: Vec<_> = w.iter().map(|w| w.text).collect();
        assert_eq!(texts, ["Listen", "\"a b\"", "[::]:80"]);
        assert_eq!(w[0].span, 102..108);
        assert_eq!(w[1].unquoted(), "a b");
        let owned = w[1].to_token();
        assert_eq!(
            (owned.unquoted(), owned.span.clone()),
            ("a b", w[1].span.clone())
        );
        assert_eq!(&line[w[2].span.start - 100..w[2].span.end - 100], "[::]:80");
    }

    #[test]
    fn escaped_quotes_and_unterminated_quotes() {
        let w = words(r#"a "x \" y" "open end"#, 0);
        let texts: Vec<_> = w.iter().map(|w| w.text).collect();
        assert_eq!(texts, ["a", r#""x \" y""#, "\"open", "end"]);
        assert!(words(" \t ", 0).is_empty());
    }
}
