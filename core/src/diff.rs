//! Unified diffs of planned changes, git-style, with paths relative to the root.
//!
//! The alignment is linear in the size of the files, whatever the number of changes: v6fix
//! edits are scattered insertions and in-place replacements, so the two texts are walked in
//! step and, at each difference, the nearest point where two consecutive lines agree again
//! is searched within a bounded window; each differing region found that way (at most a
//! window long) is then diffed exactly with `similar`'s Myers. A Myers diff of the whole
//! file would cost its size times the number of changes, which is quadratic when, say,
//! every server block of a large nginx config gains a line. The result is always a correct
//! diff (applying it gives the new text), and minimal within each region. Hunks are
//! grouped with `similar`.

use similar::{capture_diff_slices, group_diff_ops, Algorithm, DiffOp};

/// How far ahead, in lines, the walk looks for the texts to agree again.
const WINDOW: usize = 64;
/// Lines of context around each change.
const CONTEXT: usize = 3;

/// A unified diff from `old` (or nothing, for a created file) to `new`, headed
/// `a/<path>` and `b/<path>` (`/dev/null` for a created file).
pub fn unified(path: &str, old: Option<&str>, new: &str) -> String {
    let mut out = Vec::new();
    unified_to(&mut out, path, old, new).expect("writing to memory");
    String::from_utf8(out).expect("lines of two texts")
}

/// [`unified`], written to `out` hunk by hunk instead of kept: a large diff is never
/// held whole.
pub fn unified_to(
    out: &mut impl std::io::Write,
    path: &str,
    old: Option<&str>,
    new: &str,
) -> std::io::Result<()> {
    let from = match old {
        Some(_) => format!("a/{path}"),
        None => "/dev/null".to_string(),
    };
    let old_lines = Lines::new(old.unwrap_or(""));
    let new_lines = Lines::new(new);
    let ops = align(&old_lines, &new_lines);
    let groups = group_diff_ops(ops, CONTEXT);
    if groups.is_empty() {
        return Ok(());
    }
    write!(out, "--- {from}\n+++ b/{path}\n")?;
    let mut hunk = String::new();
    for group in groups {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        hunk.clear();
        hunk.push_str(&format!(
            "@@ -{} +{} @@\n",
            hunk_range(&old_range),
            hunk_range(&new_range)
        ));
        for op in &group {
            let (tag, o, n) = op.as_tag_tuple();
            use similar::DiffTag::*;
            match tag {
                Equal => push_lines(&mut hunk, ' ', &old_lines, o),
                Delete => push_lines(&mut hunk, '-', &old_lines, o),
                Insert => push_lines(&mut hunk, '+', &new_lines, n),
                Replace => {
                    push_lines(&mut hunk, '-', &old_lines, o);
                    push_lines(&mut hunk, '+', &new_lines, n);
                }
            }
        }
        out.write_all(hunk.as_bytes())?;
    }
    Ok(())
}

/// The lines of a text, each with its line feed (the last one may have none), found once
/// and kept as offsets: 4 bytes a line, not a slice's 16.
struct Lines<'a> {
    text: &'a str,
    /// Where each line starts, and the end of the text last.
    starts: Vec<u32>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let bytes = text.as_bytes();
        let mut starts = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 2);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|nl| nl as u32 + 1));
        if *starts.last().unwrap_or(&0) as usize != text.len() {
            starts.push(text.len() as u32);
        }
        Lines { text, starts }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn get(&self, i: usize) -> &'a str {
        &self.text[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    /// Lines `range`, as a list of their own (a window to diff exactly).
    fn window(&self, range: std::ops::Range<usize>) -> Vec<&'a str> {
        range.map(|i| self.get(i)).collect()
    }
}

/// `start,len` as unified diffs write it: 1-based, the length left out when it is 1, and
/// the line before the range when the range is empty.
fn hunk_range(r: &std::ops::Range<usize>) -> String {
    match r.len() {
        0 => format!("{},0", r.start),
        1 => format!("{}", r.start + 1),
        n => format!("{},{n}", r.start + 1),
    }
}

fn push_lines(out: &mut String, sign: char, lines: &Lines<'_>, range: std::ops::Range<usize>) {
    for l in range.map(|i| lines.get(i)) {
        out.push(sign);
        out.push_str(l);
        if !l.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

/// Aligns two line sequences; see the module documentation.
fn align(old: &Lines<'_>, new: &Lines<'_>) -> Vec<DiffOp> {
    let (n, m) = (old.len(), new.len());
    // Texts agree again at (x, y) when both ended, or two lines (one at the very end) match.
    let agree = |x: usize, y: usize| -> bool {
        if x == n || y == m {
            return x == n && y == m;
        }
        old.get(x) == new.get(y)
            && ((x + 1 == n && y + 1 == m)
                || (x + 1 < n && y + 1 < m && old.get(x + 1) == new.get(y + 1)))
    };
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        let (si, sj) = (i, j);
        while i < n && j < m && old.get(i) == new.get(j) {
            i += 1;
            j += 1;
        }
        if i > si {
            ops.push(DiffOp::Equal {
                old_index: si,
                new_index: sj,
                len: i - si,
            });
        }
        if i == n && j == m {
            return ops;
        }
        // The nearest (fewest skipped lines) point where the texts agree again.
        let mut skip = None;
        'search: for d in 1..=2 * WINDOW {
            for a in d.saturating_sub(WINDOW)..=d.min(WINDOW) {
                let b = d - a;
                if i + a <= n && j + b <= m && agree(i + a, j + b) {
                    skip = Some((a, b));
                    break 'search;
                }
            }
        }
        // None within the window: replace a window's worth and look again from there.
        let (a, b) = skip.unwrap_or(((n - i).min(WINDOW), (m - j).min(WINDOW)));
        // The region is small: diff it exactly and shift the result into place.
        let (o, w) = (old.window(i..i + a), new.window(j..j + b));
        for op in capture_diff_slices(Algorithm::Myers, &o, &w) {
            ops.push(shift(op, i, j));
        }
        i += a;
        j += b;
    }
}

/// `op` with its old indices moved by `di` and its new ones by `dj`.
fn shift(op: DiffOp, di: usize, dj: usize) -> DiffOp {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => DiffOp::Equal {
            old_index: old_index + di,
            new_index: new_index + dj,
            len,
        },
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => DiffOp::Delete {
            old_index: old_index + di,
            old_len,
            new_index: new_index + dj,
        },
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => DiffOp::Insert {
            old_index: old_index + di,
            new_index: new_index + dj,
            new_len,
        },
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => DiffOp::Replace {
            old_index: old_index + di,
            old_len,
            new_index: new_index + dj,
            new_len,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a unified diff as `patch` would, to check that a diff is correct.
    fn patch(old: &str, diff: &str) -> String {
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut at = 0;
        let mut lines = diff.split_inclusive('\n').skip(2).peekable();
        while let Some(header) = lines.next() {
            let minus = header.trim_start_matches("@@ -").split(' ').next().unwrap();
            let (start, len) = match minus.split_once(',') {
                Some((s, l)) => (s.parse::<usize>().unwrap(), l.parse::<usize>().unwrap()),
                None => (minus.parse::<usize>().unwrap(), 1),
            };
            let start = if len == 0 { start } else { start - 1 };
            for l in &old_lines[at..start] {
                out.push_str(l);
            }
            at = start;
            while let Some(l) = lines.peek() {
                if l.starts_with("@@") {
                    break;
                }
                let l = lines.next().unwrap();
                let body = &l[1..];
                let no_newline = lines.peek().is_some_and(|n| n.starts_with('\\'));
                let text = if no_newline {
                    lines.next();
                    body.strip_suffix('\n').unwrap()
                } else {
                    body
                };
                match &l[..1] {
                    " " => {
                        out.push_str(text);
                        at += 1;
                    }
                    "-" => at += 1,
                    "+" => out.push_str(text),
                    _ => panic!("bad line {l:?}"),
                }
            }
        }
        for l in &old_lines[at..] {
            out.push_str(l);
        }
        out
    }

    #[test]
    fn diff_has_git_style_headers_and_only_the_changed_hunk() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\ne\nf\ng\nH\n";
        let d = unified("etc/x.conf", Some(old), new);
        assert_eq!(
            d,
            "--- a/etc/x.conf\n+++ b/etc/x.conf\n@@ -5,4 +5,4 @@\n e\n f\n g\n-h\n+H\n"
        );
        assert_eq!(patch(old, &d), new);
    }

    #[test]
    fn created_files_diff_from_dev_null_and_missing_newlines_are_marked() {
        let d = unified("etc/new.conf", None, "x\n");
        assert_eq!(d, "--- /dev/null\n+++ b/etc/new.conf\n@@ -0,0 +1 @@\n+x\n");
        let d = unified("f", Some("a\nb"), "a\nb\nc");
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n\\ No newline at end of file\n"
        );
        assert_eq!(unified("f", Some("same\n"), "same\n"), "");
    }

    #[test]
    fn an_insertion_among_repeated_lines_is_one_line() {
        let old = "server {\n  listen 80;\n}\nserver {\n  listen 81;\n}\n";
        let new = "server {\n  listen 80;\n  listen [::]:80;\n}\nserver {\n  listen 81;\n  listen [::]:81;\n}\n";
        let d = unified("n", Some(old), new);
        assert_eq!(
            d.lines()
                .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
                .count(),
            2,
            "{d}"
        );
        assert_eq!(
            d.lines()
                .filter(|l| l.starts_with('-') && !l.starts_with("---"))
                .count(),
            0,
            "{d}"
        );
        assert_eq!(patch(old, &d), new);
    }

    #[test]
    fn dense_edits_stay_minimal() {
        let old = "a\nb\nc\nd\n";
        let new = "A\nb\nB\nc\nC\nd\nD\n";
        let d = unified("f", Some(old), new);
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,4 +1,7 @@\n-a\n+A\n b\n+B\n c\n+C\n d\n+D\n"
        );
    }

    #[test]
    fn every_diff_applies_back_to_the_new_text() {
        // Deterministic pseudo-random edits, including far-apart and dense ones.
        let mut seed = 0x2545_f491_u64;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..200 {
            let lines = 1 + rnd(300);
            let old: Vec<String> = (0..lines)
                .map(|k| format!("l{}\n", k % (1 + rnd(50))))
                .collect();
            let mut new = old.clone();
            for _ in 0..rnd(40) {
                let at = rnd(new.len() + 1);
                match rnd(3) {
                    0 => new.insert(at, format!("new{}\n", rnd(5))),
                    1 if at < new.len() => {
                        new.remove(at);
                    }
                    _ if at < new.len() => new[at] = format!("changed{}\n", rnd(5)),
                    _ => {}
                }
            }
            let (old, mut new) = (old.concat(), new.concat());
            if round % 7 == 0 {
                new.pop();
            }
            let d = unified("f", Some(&old), &new);
            assert_eq!(patch(&old, &d), new, "round {round}\n{d}");
        }
    }
}
