//! Logical lines: physical lines a daemon reads as one, found by one iterator for every
//! dialect that continues lines.
//!
//! The daemons differ in how a line goes on: Apache and Dovecot end a line with `\`
//! (Dovecot after removing a comment, and a blank or comment line ends it), ifupdown ends
//! the raw line with `\` and appends the next one verbatim, Postfix starts the next line
//! with a blank and passes over comment and blank lines between. Each dialect states its
//! daemon's rule as a [`Rule`]; [`LogicalLines`] walks the text once, without copying it,
//! and hands out each logical line's physical lines as spans.

use crate::text::{Line, Span};

/// What a physical line is to the logical line before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// It carries text of that logical line.
    Joins,
    /// It starts something new: the logical line ended before it.
    Ends,
    /// It is passed over (Postfix's comment and blank lines): part of the logical line
    /// only when a later line joins it, else the start of what follows.
    Passes,
}

/// A daemon's rule for continuing a line.
pub trait Rule {
    /// What physical line `next` is to the logical line that starts with `first` and
    /// whose last line so far is `last` (which may be `first`).
    fn join(&self, text: &str, first: &Line, last: &Line, next: &Line) -> Join;
}

impl<F: Fn(&str, &Line, &Line, &Line) -> Join> Rule for F {
    fn join(&self, text: &str, first: &Line, last: &Line, next: &Line) -> Join {
        self(text, first, last, next)
    }
}

/// One logical line: the physical lines that carry its text, in order (the first one,
/// then its continuations), and its span, from the start of the first line to the end of
/// the last one with its line ending (lines passed over in between included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logical {
    pub lines: Lines,
    pub span: Span,
}

/// The physical lines of one logical line: most logical lines are one physical line,
/// held without an allocation. Reads as a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lines {
    One(Line),
    Many(Vec<Line>),
}

impl Lines {
    fn push(&mut self, next: Line) {
        match self {
            Lines::One(first) => *self = Lines::Many(vec![first.clone(), next]),
            Lines::Many(v) => v.push(next),
        }
    }
}

impl std::ops::Deref for Lines {
    type Target = [Line];
    fn deref(&self) -> &[Line] {
        match self {
            Lines::One(l) => std::slice::from_ref(l),
            Lines::Many(v) => v,
        }
    }
}

/// The physical lines of `text` from byte `at` on, without building a list of them.
#[derive(Debug, Clone)]
pub struct PhysicalLines<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> PhysicalLines<'a> {
    pub fn new(text: &'a str) -> Self {
        PhysicalLines { text, at: 0 }
    }
}

impl Iterator for PhysicalLines<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        let start = self.at;
        if start >= self.text.len() {
            return None;
        }
        let bytes = self.text.as_bytes();
        let line = match bytes[start..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let nl = start + i;
                let end = if nl > start && bytes[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                Line {
                    content: start..end,
                    full: start..nl + 1,
                }
            }
            None => Line {
                content: start..self.text.len(),
                full: start..self.text.len(),
            },
        };
        self.at = line.full.end;
        Some(line)
    }
}

/// The logical lines of a text under a [`Rule`]. Together their spans tile the text:
/// every physical line belongs to exactly one logical line, a comment or blank line that
/// does not continue anything being a logical line of its own.
#[derive(Debug, Clone)]
pub struct LogicalLines<'a, R> {
    text: &'a str,
    lines: PhysicalLines<'a>,
    /// The line that ended the previous logical line, already split off `lines`: each
    /// physical line is found once.
    peeked: Option<Line>,
    rule: R,
}

impl<'a, R: Rule> LogicalLines<'a, R> {
    pub fn new(text: &'a str, rule: R) -> Self {
        LogicalLines {
            text,
            lines: PhysicalLines::new(text),
            peeked: None,
            rule,
        }
    }
}

impl<R: Rule> Iterator for LogicalLines<'_, R> {
    type Item = Logical;

    fn next(&mut self) -> Option<Logical> {
        let first = match self.peeked.take() {
            Some(l) => l,
            None => self.lines.next()?,
        };
        let mut lines = Lines::One(first.clone());
        // Where to go on after this logical line: past its last joined line.
        let mut resume = self.lines.clone();
        let mut ahead = self.lines.clone();
        let mut passed = false;
        while let Some(next) = ahead.next() {
            let last = lines.last().expect("a logical line has a line");
            match self.rule.join(self.text, &first, last, &next) {
                Join::Joins => {
                    lines.push(next);
                    resume = ahead.clone();
                    passed = false;
                }
                Join::Passes => passed = true,
                Join::Ends => {
                    // The next logical line starts here, unless lines were passed
                    // over on the way (they come first, as lines of their own).
                    if !passed {
                        self.peeked = Some(next);
                        resume = ahead;
                    }
                    break;
                }
            }
        }
        self.lines = resume;
        let end = lines.last().expect("a logical line has a line").full.end;
        Some(Logical {
            span: first.full.start..end,
            lines,
        })
    }
}

/// True when `s` holds nothing but spaces and tabs.
pub fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| b == b' ' || b == b'\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backslash(text: &str, _: &Line, last: &Line, _: &Line) -> Join {
        if text[last.content.clone()].ends_with('\\') {
            Join::Joins
        } else {
            Join::Ends
        }
    }

    fn indented(text: &str, _: &Line, _: &Line, next: &Line) -> Join {
        let t = &text[next.content.clone()];
        if is_blank(t) || t.trim_start().starts_with('#') {
            Join::Passes
        } else if t.starts_with([' ', '\t']) {
            Join::Joins
        } else {
            Join::Ends
        }
    }

    fn shown(text: &str, ls: &[Logical]) -> Vec<Vec<String>> {
        ls.iter()
            .map(|l| {
                l.lines
                    .iter()
                    .map(|x| text[x.content.clone()].to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn physical_lines_tile_the_text_and_keep_their_endings_apart() {
        for t in ["a\r\n\tb\n\nlast", "", "x\n", "\r\n\r\n"] {
            let got: Vec<Line> = PhysicalLines::new(t).collect();
            let tiled: String = got.iter().map(|l| &t[l.full.clone()]).collect();
            assert_eq!(tiled, t);
            for l in &got {
                assert!(!t[l.content.clone()].contains(['\r', '\n']), "{t:?} {l:?}");
            }
        }
        let t = "a\r\nb";
        let got: Vec<Line> = PhysicalLines::new(t).collect();
        assert_eq!(
            got,
            [
                Line {
                    content: 0..1,
                    full: 0..3
                },
                Line {
                    content: 3..4,
                    full: 3..4
                }
            ]
        );
    }

    #[test]
    fn a_trailing_backslash_joins_the_next_line() {
        let t = "a \\\r\n  b\nc\\";
        let ls: Vec<Logical> = LogicalLines::new(t, backslash).collect();
        assert_eq!(shown(t, &ls), [vec!["a \\", "  b"], vec!["c\\"]]);
        assert_eq!(ls[0].span, 0..9);
        assert_eq!(ls[1].span, 9..t.len());
    }

    #[test]
    fn passed_lines_belong_to_the_logical_line_only_when_a_later_line_joins() {
        let t = "a = 1\n# note\n\n  2\n# after\nb = 3\n  # in\n";
        let ls: Vec<Logical> = LogicalLines::new(t, indented).collect();
        assert_eq!(
            shown(t, &ls),
            [
                vec!["a = 1", "  2"],
                vec!["# after"],
                vec!["b = 3"],
                vec!["  # in"]
            ]
        );
        assert_eq!(&t[ls[0].span.clone()], "a = 1\n# note\n\n  2\n");
        let tiled: String = ls.iter().map(|l| &t[l.span.clone()]).collect();
        assert_eq!(tiled, t);
    }

    #[test]
    fn each_line_is_judged_at_most_twice_however_long_the_text() {
        // Work counted, not timed: lines passed over are looked at again only once, as
        // the start of what follows, so the walk stays linear.
        for n in [12usize, 1_000, 10_000] {
            let t: String = (0..n)
                .map(|i| match i % 4 {
                    0 => "p = a\n",
                    1 => "# note\n",
                    2 => "\n",
                    _ => "  b\n",
                })
                .collect();
            let calls = std::cell::Cell::new(0usize);
            let rule = |text: &str, f: &Line, l: &Line, x: &Line| {
                calls.set(calls.get() + 1);
                indented(text, f, l, x)
            };
            let got = LogicalLines::new(&t, rule).count();
            assert_eq!(got, n / 4, "one logical line per four physical ones");
            assert!(
                calls.get() <= 2 * n,
                "{} rule calls for {n} lines",
                calls.get()
            );
        }
    }
}
