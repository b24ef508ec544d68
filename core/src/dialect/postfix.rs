//! Postfix: `main.cf`, `/file/name` network lists and `cidr:` tables.
//!
//! All three share Postfix's line rules (postconf(5), cidr_table(5)): a line whose first
//! non-blank character is `#` is a comment; blank lines are ignored; a line starting with
//! a space or a tab continues the logical line before it, and comment or blank lines in
//! between do not end that logical line. A `#` after a value is *not* a comment: it stays
//! in the value, and list parameters stop reading at it.
//!
//! - [`parse`] reads `main.cf`: `name = value` definitions (duplicates allowed; the last
//!   one wins), with `$name` references and list values split on commas and/or blanks.
//! - [`parse_list`] reads a `/file/name` list: entries separated by blanks or commas.
//! - [`parse_cidr`] reads a `cidr:` table: `pattern result` rules, `if`/`endif` blocks.
//!
//! Every document prints back its input byte for byte, and its items tile the input.

use crate::edit::Edits;
use crate::error::ParseError;
use crate::text::{indent_of, lines, newline_of, Line, Span};
use std::fmt;

/// One logical line: its first physical line and its continuation lines (with any
/// comment or blank lines between them), as Postfix's `readllines` groups them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logical {
    /// The physical lines that carry text of this logical line (first, then continuations).
    pub lines: Vec<Line>,
    /// From the start of the first line to the end of the last one, line ending included.
    pub span: Span,
}

enum Raw {
    Comment(Line),
    Blank(Line),
    Logical(Logical),
}

/// Groups `text` into comments, blanks and logical lines. An indented line with no
/// logical line before it is returned as `Err(offset)` when `strict`, else it starts one.
fn group(text: &str, strict: bool) -> Result<Vec<Raw>, usize> {
    let mut out: Vec<Raw> = Vec::new();
    let mut pending: Vec<Raw> = Vec::new();
    let mut current: Option<Logical> = None;
    for line in lines(text) {
        let t = line.text(text);
        let trimmed = t.trim_matches([' ', '\t']);
        if trimmed.is_empty() {
            pending.push(Raw::Blank(line));
        } else if trimmed.starts_with('#') {
            pending.push(Raw::Comment(line));
        } else if let (true, Some(cur)) = (t.starts_with([' ', '\t']), current.as_mut()) {
            pending.clear();
            cur.span.end = line.full.end;
            cur.lines.push(line);
        } else {
            if t.starts_with([' ', '\t']) && strict {
                return Err(line.content.start + indent_of(t).len());
            }
            if let Some(c) = current.take() {
                out.push(Raw::Logical(c));
            }
            out.append(&mut pending);
            current = Some(Logical {
                span: line.full.clone(),
                lines: vec![line],
            });
        }
    }
    if let Some(c) = current.take() {
        out.push(Raw::Logical(c));
    }
    out.append(&mut pending);
    Ok(out)
}

/// The blank-trimmed part of a physical line from `from` on, as a span.
fn trimmed_span(src: &str, from: usize, to: usize) -> Span {
    let s = &src[from..to];
    let lead = s.len() - s.trim_start_matches([' ', '\t', '\r']).len();
    let body = s.trim_matches([' ', '\t', '\r']);
    from + lead..from + lead + body.len()
}

// ---------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------

/// One element of a Postfix list value, with its span in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub span: Span,
    /// The byte offset of a comma that directly follows the token (blanks allowed between).
    pub comma: Option<usize>,
}

impl Token {
    /// True for a `# note`: Postfix stops reading the list here.
    pub fn is_comment(&self) -> bool {
        self.text.starts_with('#')
    }
}

/// Splits the value pieces `segments` of `src` into list elements the way Postfix does:
/// commas and blanks separate, `{...}` groups stay one element.
pub fn list_tokens(src: &str, segments: &[Span]) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut depth = 0usize;
    let mut start: Option<usize> = None;
    let mut text = String::new();
    let mut last_end = 0;
    for seg in segments {
        for (i, c) in src[seg.clone()].char_indices() {
            let at = seg.start + i;
            let sep = depth == 0 && matches!(c, ' ' | '\t' | ',' | '\r');
            if sep {
                if let Some(s) = start.take() {
                    out.push(Token {
                        text: std::mem::take(&mut text),
                        span: s..last_end,
                        comma: None,
                    });
                }
                if c == ',' {
                    if let Some(t) = out.last_mut() {
                        if t.comma.is_none() && src[t.span.end..at].trim().is_empty() {
                            t.comma = Some(at);
                        }
                    }
                }
                continue;
            }
            if c == '{' {
                depth += 1;
            } else if c == '}' {
                depth = depth.saturating_sub(1);
            }
            if start.is_none() {
                start = Some(at);
            }
            text.push(c);
            last_end = at + c.len_utf8();
        }
        if depth == 0 {
            if let Some(s) = start.take() {
                out.push(Token {
                    text: std::mem::take(&mut text),
                    span: s..last_end,
                    comma: None,
                });
            }
        } else {
            text.push(' ');
        }
    }
    if let Some(s) = start {
        out.push(Token {
            text,
            span: s..last_end,
            comma: None,
        });
    }
    out
}

/// How a list separates its elements, learned from the elements themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Separators {
    comma: bool,
    space_after_comma: bool,
}

fn separators(src: &str, tokens: &[Token]) -> Separators {
    let mut s = Separators {
        comma: false,
        space_after_comma: true,
    };
    let mut saw_tight = false;
    let mut saw_loose = false;
    for t in tokens {
        if let Some(c) = t.comma {
            s.comma = true;
            match src[c + 1..].chars().next() {
                Some(' ' | '\t') => saw_loose = true,
                Some('\r' | '\n') | None => {}
                Some(_) => saw_tight = true,
            }
        }
    }
    s.space_after_comma = saw_loose || !saw_tight;
    s
}

/// Inserts `entries` into the list `tokens` of `src` right after token `after` (or at
/// `at_start` when the list is empty), in the list's own separator style, on the same line.
fn insert_inline(
    src: &str,
    tokens: &[Token],
    after: Option<usize>,
    at_start: usize,
    entries: &[String],
    edits: &mut Edits,
) {
    if entries.is_empty() {
        return;
    }
    let sep = separators(src, tokens);
    let join = match (sep.comma, sep.space_after_comma) {
        (true, true) => ", ",
        (true, false) => ",",
        (false, _) => " ",
    };
    let Some(i) = after else {
        let mut s = entries.join(join);
        let next_is_text = src[at_start..]
            .chars()
            .next()
            .is_some_and(|c| !matches!(c, '\r' | '\n'));
        if next_is_text {
            s.push(' ');
        } else if !src[..at_start].ends_with([' ', '\t']) {
            s.insert(0, ' ');
        }
        edits.insert(at_start, s);
        return;
    };
    let t = &tokens[i];
    match t.comma {
        // `a, b,` + x → `a, b, x,`: keep the trailing comma last.
        Some(c) if i + 1 == tokens.len() || tokens[i + 1].is_comment() => {
            let space = if sep.space_after_comma { " " } else { "" };
            let s: Vec<String> = entries.iter().map(|e| format!("{space}{e},")).collect();
            edits.insert(c + 1, s.concat());
        }
        _ => {
            let s: Vec<String> = entries.iter().map(|e| format!("{join}{e}")).collect();
            edits.insert(t.span.end, s.concat());
        }
    }
}

// ---------------------------------------------------------------------------------------
// main.cf
// ---------------------------------------------------------------------------------------

/// One `name = value` definition, possibly spread over continuation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub name_span: Span,
    /// The value's text on each physical line that holds some of it, blank-trimmed
    /// (the first may be empty, as in `name =`).
    pub segments: Vec<Span>,
    /// Where the value starts: just after `=` and the blanks following it.
    pub value_start: usize,
    /// The logical line, continuation and interleaved comment lines included.
    pub logical: Logical,
}

/// What one item of a main.cf is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Comment,
    Blank,
    Param(Param),
}

/// A piece of a main.cf: its raw text is `src[span]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub span: Span,
    pub kind: Kind,
}

/// A parsed main.cf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    src: String,
    pub items: Vec<Item>,
}

/// Parses a main.cf. Errors: an indented line before any parameter, a line without `=`,
/// an empty parameter name.
pub fn parse(text: &str) -> Result<Doc, ParseError> {
    let groups = group(text, true).map_err(|at| {
        ParseError::new(
            at,
            ParseError::describe(text, at),
            "a parameter name at the start of the line (an indented line continues the parameter above it, and there is none)",
        )
    })?;
    let mut items = Vec::new();
    for g in groups {
        items.push(match g {
            Raw::Comment(l) => Item {
                span: l.full,
                kind: Kind::Comment,
            },
            Raw::Blank(l) => Item {
                span: l.full,
                kind: Kind::Blank,
            },
            Raw::Logical(lg) => {
                let first = &lg.lines[0];
                let t = first.text(text);
                let base = first.content.start;
                let Some(eq) = t.find('=') else {
                    return Err(ParseError::new(
                        base,
                        ParseError::describe(text, base),
                        "`name = value`",
                    ));
                };
                let name = t[..eq].trim_end_matches([' ', '\t']);
                if name.is_empty() || name.contains([' ', '\t']) {
                    return Err(ParseError::new(
                        base,
                        ParseError::describe(text, base),
                        "a parameter name before `=`",
                    ));
                }
                let after = base + eq + 1;
                let first_seg = trimmed_span(text, after, first.content.end);
                let value_start = if first_seg.is_empty() {
                    // `name =` or `name =   `: the value would start after the blanks.
                    after
                        + (text[after..first.content.end].len()
                            - text[after..first.content.end]
                                .trim_start_matches([' ', '\t'])
                                .len())
                } else {
                    first_seg.start
                };
                let mut segments = vec![first_seg];
                for l in &lg.lines[1..] {
                    segments.push(trimmed_span(text, l.content.start, l.content.end));
                }
                Item {
                    span: lg.span.clone(),
                    kind: Kind::Param(Param {
                        name: name.to_string(),
                        name_span: base..base + name.len(),
                        segments,
                        value_start,
                        logical: lg,
                    }),
                }
            }
        });
    }
    Ok(Doc {
        src: text.to_string(),
        items,
    })
}

impl fmt::Display for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.items {
            f.write_str(&self.src[i.span.clone()])?;
        }
        Ok(())
    }
}

impl Doc {
    pub fn src(&self) -> &str {
        &self.src
    }

    /// Every definition, in file order.
    pub fn params(&self) -> impl Iterator<Item = &Param> {
        self.items.iter().filter_map(|i| match &i.kind {
            Kind::Param(p) => Some(p),
            _ => None,
        })
    }

    /// Every definition of `name`, in file order (the last one is in effect).
    pub fn defs(&self, name: &str) -> Vec<&Param> {
        self.params().filter(|p| p.name == name).collect()
    }

    /// The definition of `name` Postfix uses: the last one.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params().filter(|p| p.name == name).last()
    }

    /// A definition's value as Postfix reads it (continuations joined by a blank).
    pub fn value(&self, p: &Param) -> String {
        p.segments
            .iter()
            .map(|s| &self.src[s.clone()])
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The value of the last definition of `name`, if any.
    pub fn get(&self, name: &str) -> Option<String> {
        self.param(name).map(|p| self.value(p))
    }

    /// A definition's value split as a list, with spans.
    pub fn tokens(&self, p: &Param) -> Vec<Token> {
        list_tokens(&self.src, &p.segments)
    }

    /// Adds `entries` at the end of list parameter `p`: before a trailing `# note`, in the
    /// value's separator style; on new continuation lines when the value already puts one
    /// element on each continuation line, else on its last line.
    pub fn append_to_list(&self, p: &Param, entries: &[String], edits: &mut Edits) {
        if entries.is_empty() {
            return;
        }
        let tokens = self.tokens(p);
        let live = tokens
            .iter()
            .position(Token::is_comment)
            .unwrap_or(tokens.len());
        let live_tokens = &tokens[..live];
        let one_per_line = {
            let conts: Vec<usize> = p.segments[1..]
                .iter()
                .map(|s| {
                    live_tokens
                        .iter()
                        .filter(|t| s.contains(&t.span.start))
                        .count()
                })
                .filter(|&n| n > 0)
                .collect();
            !conts.is_empty() && conts.iter().all(|&n| n == 1) && live == tokens.len()
        };
        if one_per_line {
            let last = &live_tokens[live - 1];
            let line = p
                .logical
                .lines
                .iter()
                .find(|l| l.content.contains(&last.span.start))
                .expect("a token lies on a line");
            let indent = indent_of(line.text(&self.src));
            let sep = separators(&self.src, live_tokens);
            let trailing = last.comma.is_some();
            if sep.comma && !trailing {
                edits.insert(last.span.end, ",");
            }
            let n = entries.len();
            for (k, e) in entries.iter().enumerate() {
                let comma = if trailing || (sep.comma && k + 1 < n) {
                    ","
                } else {
                    ""
                };
                edits.insert_line_after(
                    &self.src,
                    line.content.start,
                    &format!("{indent}{e}{comma}"),
                );
            }
            return;
        }
        let after = live.checked_sub(1);
        let at_start = if live < tokens.len() {
            tokens[live].span.start
        } else {
            p.value_start
        };
        if after.is_none() && live < tokens.len() {
            // Only a `# note`: the entries go before it.
            let s = format!("{} ", entries.join(" "));
            edits.insert(at_start, s);
            return;
        }
        insert_inline(&self.src, &tokens, after, at_start, entries, edits);
    }

    /// Inserts `entries` right after list element `index` of `p`, on the same line.
    pub fn insert_after_token(
        &self,
        p: &Param,
        index: usize,
        entries: &[String],
        edits: &mut Edits,
    ) {
        let tokens = self.tokens(p);
        insert_inline(
            &self.src,
            &tokens,
            Some(index),
            p.value_start,
            entries,
            edits,
        );
    }

    /// Replaces the whole value of `p` (from its first to its last element) with `value`.
    pub fn set_value(&self, p: &Param, value: &str, edits: &mut Edits) {
        let tokens = self.tokens(p);
        match (tokens.first(), tokens.last()) {
            (Some(a), Some(b)) => edits.replace(a.span.start..b.span.end, value),
            _ => {
                let pre = if self.src[..p.value_start].ends_with([' ', '\t']) {
                    ""
                } else {
                    " "
                };
                edits.insert(p.value_start, format!("{pre}{value}"));
            }
        }
    }

    /// Inserts the line `name = value` after the whole of definition `p`.
    pub fn insert_param_after(&self, p: &Param, name: &str, value: &str, edits: &mut Edits) {
        let last = p.logical.lines.last().expect("a logical line has a line");
        edits.insert_line_after(&self.src, last.content.start, &format!("{name} = {value}"));
    }

    /// Appends the line `name = value` at the end of the file.
    pub fn append_param(&self, name: &str, value: &str, edits: &mut Edits) {
        edits.append_line(&self.src, &format!("{name} = {value}"));
    }

    pub fn newline(&self) -> &'static str {
        newline_of(&self.src)
    }
}

/// Expands `$name`, `${name}` and `$$` in `value` with `lookup`. Returns `None` for the
/// conditional forms (`${name?x}`, `${name:x}`), which v6fix does not evaluate.
pub fn expand(value: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    fn go(value: &str, lookup: &dyn Fn(&str) -> Option<String>, depth: usize) -> Option<String> {
        if depth > 20 {
            return None;
        }
        let mut out = String::new();
        let mut rest = value;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('$') {
                out.push('$');
                rest = r;
                continue;
            }
            let (name, r) = if let Some(b) = after.strip_prefix('{') {
                let close = b.find('}')?;
                let name = &b[..close];
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return None;
                }
                (name, &b[close + 1..])
            } else if let Some(b) = after.strip_prefix('(') {
                let close = b.find(')')?;
                (&b[..close], &b[close + 1..])
            } else {
                let n = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..n], &after[n..])
            };
            if name.is_empty() {
                return None;
            }
            if let Some(v) = lookup(name) {
                out.push_str(&go(&v, lookup, depth + 1)?);
            }
            rest = r;
        }
        out.push_str(rest);
        Some(out)
    }
    go(value, lookup, 0)
}

// ---------------------------------------------------------------------------------------
// /file/name lists
// ---------------------------------------------------------------------------------------

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListDoc {
    src: String,
    pub items: Vec<ListItem>,
}

/// Parses a `/file/name` list. Every text is a list, so this never fails; it returns a
/// `Result` like every dialect's `parse`.
pub fn parse_list(text: &str) -> Result<ListDoc, ParseError> {
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
        src: text.to_string(),
        items,
    })
}

impl fmt::Display for ListDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.items {
            f.write_str(&self.src[i.span()])?;
        }
        Ok(())
    }
}

impl ListDoc {
    pub fn src(&self) -> &str {
        &self.src
    }

    /// The elements of each logical line, in order. Postfix reads each logical line as a
    /// list of its own, so a `# note` ends only its own line.
    pub fn lines(&self) -> Vec<Vec<Token>> {
        self.items
            .iter()
            .filter_map(|i| match i {
                ListItem::Entries(l) => {
                    let segs: Vec<Span> = l
                        .lines
                        .iter()
                        .map(|x| trimmed_span(&self.src, x.content.start, x.content.end))
                        .collect();
                    Some(list_tokens(&self.src, &segs))
                }
                _ => None,
            })
            .collect()
    }

    /// Every element Postfix reads (`# notes` and what follows them on their line left out).
    pub fn entries(&self) -> Vec<Token> {
        self.lines()
            .into_iter()
            .flat_map(|l| l.into_iter().take_while(|t| !t.is_comment()))
            .collect()
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
            .lines()
            .last()
            .and_then(|l| l.last().cloned())
            .is_some_and(|t| t.comma.is_some());
        let line = last.lines.last().expect("a logical line has a line");
        for e in entries {
            let c = if comma { "," } else { "" };
            edits.insert_line_after(&self.src, line.content.start, &format!("{e}{c}"));
        }
    }
}

// ---------------------------------------------------------------------------------------
// cidr: tables
// ---------------------------------------------------------------------------------------

/// One rule of a cidr table: `pattern result`, or an `if`/`endif` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub logical: Logical,
    pub pattern: Span,
    /// The blanks between pattern and result, as written.
    pub gap: Span,
    /// The result (to the end of the logical line); empty for `endif`.
    pub result: Span,
    /// `if`/`endif` nesting depth of the rule (0 at top level).
    pub depth: usize,
}

/// A piece of a cidr table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrItem {
    Comment(Span),
    Blank(Span),
    Rule(Rule),
    If(Rule),
    Endif(Rule),
}

impl CidrItem {
    pub fn span(&self) -> Span {
        match self {
            CidrItem::Comment(s) | CidrItem::Blank(s) => s.clone(),
            CidrItem::Rule(r) | CidrItem::If(r) | CidrItem::Endif(r) => r.logical.span.clone(),
        }
    }
}

/// A parsed cidr table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrDoc {
    src: String,
    pub items: Vec<CidrItem>,
}

/// Parses a cidr table. Errors: an indented first line, a rule without a result, an
/// `endif` without `if`, an `if` without `endif`.
pub fn parse_cidr(text: &str) -> Result<CidrDoc, ParseError> {
    let groups = group(text, true).map_err(|at| {
        ParseError::new(
            at,
            ParseError::describe(text, at),
            "a pattern at the start of the line (an indented line continues the rule above it, and there is none)",
        )
    })?;
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut open_if = Vec::new();
    for g in groups {
        items.push(match g {
            Raw::Comment(l) => CidrItem::Comment(l.full),
            Raw::Blank(l) => CidrItem::Blank(l.full),
            Raw::Logical(lg) => {
                let first = &lg.lines[0];
                let t = first.text(text);
                let base = first.content.start;
                let plen = t.find([' ', '\t']).unwrap_or(t.len());
                let pattern = base..base + plen;
                let rest_start = pattern.end;
                let last = lg.lines.last().expect("a logical line has a line");
                let mut whole = trimmed_span(text, rest_start, last.content.end);
                // A result on a continuation line: skip the line breaks and indentation.
                let lead = text[whole.clone()].len()
                    - text[whole.clone()]
                        .trim_start_matches([' ', '\t', '\r', '\n'])
                        .len();
                whole.start += lead;
                let gap = rest_start..whole.start.min(first.content.end).max(rest_start);
                let word = &text[pattern.clone()];
                let kw = word.to_ascii_lowercase();
                let rule = |depth| Rule {
                    logical: lg.clone(),
                    pattern: pattern.clone(),
                    gap: gap.clone(),
                    result: whole.clone(),
                    depth,
                };
                if kw == "endif" {
                    if depth == 0 {
                        return Err(ParseError::new(
                            base,
                            "`endif`",
                            "a rule (this `endif` has no `if`)",
                        ));
                    }
                    depth -= 1;
                    open_if.pop();
                    CidrItem::Endif(rule(depth))
                } else if kw == "if" {
                    if whole.is_empty() {
                        return Err(ParseError::new(
                            pattern.end,
                            ParseError::describe(text, pattern.end),
                            "a pattern after `if`",
                        ));
                    }
                    let r = rule(depth);
                    depth += 1;
                    open_if.push(base);
                    CidrItem::If(r)
                } else {
                    if whole.is_empty() {
                        return Err(ParseError::new(
                            pattern.end,
                            ParseError::describe(text, pattern.end),
                            "a lookup result after the pattern",
                        ));
                    }
                    CidrItem::Rule(rule(depth))
                }
            }
        });
    }
    if let Some(&at) = open_if.last() {
        return Err(ParseError::new(
            at,
            ParseError::describe(text, at),
            "an `endif` for this `if`",
        ));
    }
    Ok(CidrDoc {
        src: text.to_string(),
        items,
    })
}

impl fmt::Display for CidrDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.items {
            f.write_str(&self.src[i.span()])?;
        }
        Ok(())
    }
}

impl CidrDoc {
    pub fn src(&self) -> &str {
        &self.src
    }

    /// The lookup rules (not `if`/`endif`), in order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.items.iter().filter_map(|i| match i {
            CidrItem::Rule(r) => Some(r),
            _ => None,
        })
    }

    pub fn pattern<'a>(&'a self, r: &Rule) -> &'a str {
        &self.src[r.pattern.clone()]
    }

    /// The result as Postfix reads it: continuation lines joined by a blank.
    pub fn result(&self, r: &Rule) -> String {
        self.src[r.result.clone()]
            .split([' ', '\t', '\r', '\n'])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Adds `pattern result` rules after the last top-level rule (at the end when there
    /// is none), aligning the result the way that rule does.
    pub fn append_rules(&self, rules: &[(String, String)], edits: &mut Edits) {
        let last = self.items.iter().rev().find_map(|i| match i {
            CidrItem::Rule(r) | CidrItem::Endif(r) if r.depth == 0 => Some(r),
            _ => None,
        });
        let one_line = |r: &&Rule| r.depth == 0 && r.gap.end == r.result.start;
        let (gap_text, width) = match self.rules().filter(one_line).last() {
            Some(r) => {
                let g = &self.src[r.gap.clone()];
                (g.to_string(), r.pattern.len() + g.len())
            }
            None => (" ".to_string(), 0),
        };
        let render = |p: &str, res: &str| {
            let gap = if gap_text.contains('\t') || gap_text.len() <= 1 {
                gap_text.clone()
            } else {
                " ".repeat(width.saturating_sub(p.len()).max(1))
            };
            format!("{p}{gap}{res}")
        };
        match last {
            Some(r) => {
                let line = r.logical.lines.last().expect("a logical line has a line");
                for (p, res) in rules {
                    edits.insert_line_after(&self.src, line.content.start, &render(p, res));
                }
            }
            None => {
                for (p, res) in rules {
                    edits.append_line(&self.src, &render(p, res));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// master.cf
// ---------------------------------------------------------------------------------------

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterDoc {
    src: String,
    pub items: Vec<MasterItem>,
}

/// Parses a master.cf. Errors: an indented first line, a service line with fewer than
/// eight fields.
pub fn parse_master(text: &str) -> Result<MasterDoc, ParseError> {
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
                MasterItem::Service(Service {
                    fields: words.into_iter().map(|w| w.span).collect(),
                    logical: lg,
                })
            }
        });
    }
    Ok(MasterDoc {
        src: text.to_string(),
        items,
    })
}

impl fmt::Display for MasterDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.items {
            f.write_str(&self.src[i.span()])?;
        }
        Ok(())
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
        let last = s.logical.lines.last().expect("a logical line has a line");
        edits.insert_line_after(&self.src, last.content.start, &copy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/postfix");
        let mut v: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        assert!(v.len() >= 8, "fixtures missing in {}", dir.display());
        v
    }

    #[test]
    fn every_fixture_round_trips_and_its_items_tile_the_input() {
        for (name, text) in fixtures() {
            let spans: Vec<Span> = if name.starts_with("master") {
                let d = parse_master(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert_eq!(d.to_string(), text, "{name}");
                d.items.iter().map(MasterItem::span).collect()
            } else if name.ends_with(".cidr") {
                let d = parse_cidr(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert_eq!(d.to_string(), text, "{name}");
                d.items.iter().map(CidrItem::span).collect()
            } else if name.ends_with(".cf") {
                let d = parse(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert_eq!(d.to_string(), text, "{name}");
                d.items.iter().map(|i| i.span.clone()).collect()
            } else {
                let d = parse_list(&text).unwrap();
                assert_eq!(d.to_string(), text, "{name}");
                d.items.iter().map(ListItem::span).collect()
            };
            let mut pos = 0;
            for s in spans {
                assert_eq!(s.start, pos, "{name}: items must tile the input");
                pos = s.end;
            }
            assert_eq!(pos, text.len(), "{name}");
        }
    }

    #[test]
    fn continuation_lines_keep_comments_and_blanks_inside_the_value() {
        let t = "mynetworks = 127.0.0.0/8,\n# office\n\n    192.0.2.0/24 # lan\nrelayhost =\n";
        let d = parse(t).unwrap();
        let p = d.param("mynetworks").unwrap();
        assert_eq!(d.value(p), "127.0.0.0/8, 192.0.2.0/24 # lan");
        let tokens: Vec<_> = d.tokens(p).into_iter().map(|t| t.text).collect();
        assert_eq!(tokens, ["127.0.0.0/8", "192.0.2.0/24", "#", "lan"]);
        assert_eq!(d.get("relayhost").as_deref(), Some(""));
        assert_eq!(d.items.len(), 2);
    }

    #[test]
    fn duplicates_the_last_wins_and_crlf_is_not_part_of_the_value() {
        let d = parse("inet_protocols = all\r\nx=1\r\ninet_protocols = ipv4\r\n").unwrap();
        assert_eq!(d.defs("inet_protocols").len(), 2);
        assert_eq!(d.get("inet_protocols").as_deref(), Some("ipv4"));
        assert_eq!(d.get("x").as_deref(), Some("1"));
    }

    #[test]
    fn parse_errors_point_at_the_line() {
        let e = parse("a = 1\njust words\n").unwrap_err();
        assert_eq!((e.offset, e.expected.as_str()), (6, "`name = value`"));
        let e = parse("  indented = 1\n").unwrap_err();
        assert_eq!(e.offset, 2);
        let e = parse_cidr("192.0.2.0/24 OK\n2001:db8::/64\n").unwrap_err();
        assert_eq!(e.expected, "a lookup result after the pattern");
        assert!(parse_cidr("if 192.0.2.0/24\n").is_err());
        assert!(parse_cidr("endif\n").is_err());
    }

    #[test]
    fn list_tokens_split_on_commas_and_blanks_and_keep_brace_groups() {
        let t = "a,b , c\t{x, y} cidr:{ {1 OK}, {2 OK} },";
        let toks = list_tokens(t, std::slice::from_ref(&(0..t.len())));
        let texts: Vec<_> = toks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["a", "b", "c", "{x, y}", "cidr:{ {1 OK}, {2 OK} }"]);
        assert_eq!(toks[0].comma, Some(1));
        assert_eq!(toks[1].comma, Some(4));
        assert_eq!(toks[2].comma, None);
        assert!(toks[4].comma.is_some());
    }

    fn appended(t: &str, name: &str, entries: &[&str]) -> String {
        let d = parse(t).unwrap();
        let mut e = Edits::new();
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        d.append_to_list(d.param(name).unwrap(), &entries, &mut e);
        e.apply(t)
    }

    #[test]
    fn list_entries_are_added_in_the_values_own_layout() {
        assert_eq!(
            appended(
                "mynetworks = 127.0.0.0/8 [::1]/128\n",
                "mynetworks",
                &["[2001:db8::]/64"]
            ),
            "mynetworks = 127.0.0.0/8 [::1]/128 [2001:db8::]/64\n"
        );
        assert_eq!(
            appended(
                "mynetworks = 127.0.0.0/8  # office LAN\n",
                "mynetworks",
                &["[2001:db8::]/64"]
            ),
            "mynetworks = 127.0.0.0/8 [2001:db8::]/64  # office LAN\n"
        );
        assert_eq!(
            appended("mynetworks = a,b\n", "mynetworks", &["x", "y"]),
            "mynetworks = a,b,x,y\n"
        );
        assert_eq!(
            appended(
                "mynetworks = 127.0.0.0/8,\n# lan\n    192.0.2.0/24\n\n",
                "mynetworks",
                &["[2001:db8::]/64"]
            ),
            "mynetworks = 127.0.0.0/8,\n# lan\n    192.0.2.0/24,\n    [2001:db8::]/64\n\n"
        );
        assert_eq!(
            appended("mynetworks =\n\ta,\n\tb,\n", "mynetworks", &["x"]),
            "mynetworks =\n\ta,\n\tb,\n\tx,\n"
        );
        assert_eq!(
            appended("mynetworks = a b\n  c d\n", "mynetworks", &["x"]),
            "mynetworks = a b\n  c d x\n"
        );
        assert_eq!(
            appended("mynetworks =\n", "mynetworks", &["x"]),
            "mynetworks = x\n"
        );
        assert_eq!(
            appended("mynetworks = # none", "mynetworks", &["x"]),
            "mynetworks = x # none"
        );
    }

    #[test]
    fn expansion_follows_references_and_refuses_conditionals() {
        let look = |n: &str| match n {
            "config_directory" => Some("/etc/postfix".to_string()),
            "a" => Some("$b x".to_string()),
            "b" => Some("y".to_string()),
            _ => None,
        };
        assert_eq!(
            expand("${config_directory}/nets $a $$ $none.", &look).as_deref(),
            Some("/etc/postfix/nets y x $ .")
        );
        assert_eq!(expand("${a?yes}", &look), None);
    }

    #[test]
    fn master_services_get_siblings_with_their_options() {
        let t = "# services\n192.0.2.25:smtp inet  n - y - - smtpd\n  -o syslog_name=postfix/a\n# x\n  -o smtpd_tls_security_level=may\npickup unix n - y 60 1 pickup\n";
        let d = parse_master(t).unwrap();
        let s = d.services().next().unwrap();
        assert_eq!(d.field(s, 0), "192.0.2.25:smtp");
        assert_eq!(d.field(s, 1), "inet");
        let mut e = Edits::new();
        d.insert_sibling(s, "[2001:db8::25]:smtp", &mut e);
        assert_eq!(
            e.apply(t),
            "# services\n192.0.2.25:smtp inet  n - y - - smtpd\n  -o syslog_name=postfix/a\n# x\n  -o smtpd_tls_security_level=may\n[2001:db8::25]:smtp inet  n - y - - smtpd\n  -o syslog_name=postfix/a\n  -o smtpd_tls_security_level=may\npickup unix n - y 60 1 pickup\n"
        );
        assert!(parse_master("smtp inet n\n").is_err());
    }

    #[test]
    fn list_files_and_cidr_tables_append_in_their_style() {
        let t = "# trusted\n192.0.2.0/24\n198.51.100.0/24 # branch\n\n# end\n";
        let d = parse_list(t).unwrap();
        let e: Vec<_> = d.entries().into_iter().map(|t| t.text).collect();
        assert_eq!(e, ["192.0.2.0/24", "198.51.100.0/24"]);
        let mut ed = Edits::new();
        d.append_entries(&["[2001:db8::]/64".into()], &mut ed);
        assert_eq!(
            ed.apply(t),
            "# trusted\n192.0.2.0/24\n198.51.100.0/24 # branch\n[2001:db8::]/64\n\n# end\n"
        );

        let c = "# t\n192.0.2.0/24      OK\nif 198.51.100.0/24\n198.51.100.7 REJECT\nendif\n";
        let d = parse_cidr(c).unwrap();
        assert_eq!(d.rules().count(), 2);
        let mut ed = Edits::new();
        d.append_rules(&[("2001:db8::/64".into(), "OK".into())], &mut ed);
        assert_eq!(ed.apply(c), format!("{c}2001:db8::/64     OK\n"));
    }
}
