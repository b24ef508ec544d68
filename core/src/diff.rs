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

use crate::edit::Region;
use crate::text::{line_end_full, line_start, Span};
use similar::{capture_diff_slices, group_diff_ops, Algorithm, DiffOp};

/// How far ahead, in lines, the walk looks for the texts to agree again.
const WINDOW: usize = 64;
/// Lines of context around each change.
const CONTEXT: usize = 3;

/// A unified diff from `old` (or nothing, for a created file) to `new`, headed
/// `a/<path>` and `b/<path>` (`/dev/null` for a created file).
pub fn unified(path: &str, old: Option<&str>, new: &str) -> String {
    let old_lines: Vec<&str> = old.unwrap_or("").split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let mut out = header(path, old.is_some());
    let head = out.len();
    hunks(&mut out, &old_lines, &new_lines, (0, 0));
    headed(out, head)
}

/// The same diff as [`unified`], built from where the edits changed the text (`regions`,
/// in order, as [`crate::Edits::apply_traced`] gives them): only the lines around each
/// region are compared, so beyond counting lines the cost is that of what changed.
pub fn unified_regions(path: &str, old: &str, new: &str, regions: &[Region]) -> String {
    let mut out = header(path, true);
    let head = out.len();
    for x in excerpts(old, new, regions) {
        let old_lines: Vec<&str> = old[x.old.clone()].split_inclusive('\n').collect();
        let new_lines: Vec<&str> = new[x.new.clone()].split_inclusive('\n').collect();
        hunks(&mut out, &old_lines, &new_lines, x.first_lines);
    }
    headed(out, head)
}

/// The `---`/`+++` lines a diff starts with; the hunks are written after them, so a large
/// diff is never copied to be headed.
fn header(path: &str, had_old: bool) -> String {
    let from = if had_old {
        format!("a/{path}")
    } else {
        "/dev/null".to_string()
    };
    format!("--- {from}\n+++ b/{path}\n")
}

/// `out` (a header of `head` bytes and the hunks after it), or nothing when no hunk
/// followed the header.
fn headed(out: String, head: usize) -> String {
    if out.len() == head {
        String::new()
    } else {
        out
    }
}

/// The hunks of `old_lines` against `new_lines`, whose first lines are lines `base` (0-based,
/// old and new) of their files.
fn hunks(out: &mut String, old_lines: &[&str], new_lines: &[&str], base: (usize, usize)) {
    let ops = align(old_lines, new_lines);
    for group in group_diff_ops(ops, CONTEXT) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old_range = base.0 + first.old_range().start..base.0 + last.old_range().end;
        let new_range = base.1 + first.new_range().start..base.1 + last.new_range().end;
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            hunk_range(&old_range),
            hunk_range(&new_range)
        ));
        for op in &group {
            let (tag, o, n) = op.as_tag_tuple();
            use similar::DiffTag::*;
            match tag {
                Equal => push_lines(out, ' ', &old_lines[o]),
                Delete => push_lines(out, '-', &old_lines[o]),
                Insert => push_lines(out, '+', &new_lines[n]),
                Replace => {
                    push_lines(out, '-', &old_lines[o]);
                    push_lines(out, '+', &new_lines[n]);
                }
            }
        }
    }
}

/// A stretch of whole lines around one or more regions, with its context: bytes `old`
/// of the old text correspond to bytes `new` of the new one, starting at lines
/// `first_lines` (0-based, old and new).
struct Excerpt {
    old: Span,
    new: Span,
    first_lines: (usize, usize),
}

fn at_line_start(t: &str, i: usize) -> bool {
    i == 0 || t.as_bytes()[i - 1] == b'\n'
}

fn count_lines(t: &str) -> usize {
    t.bytes().filter(|&b| b == b'\n').count()
}

/// The start of the line `n` lines before the one starting at `at`, not before `floor`.
fn lines_back(t: &str, mut at: usize, n: usize, floor: usize) -> (usize, usize) {
    let mut k = 0;
    while k < n && at > floor {
        at = line_start(t, at - 1).max(floor);
        k += 1;
    }
    (at, k)
}

/// The end of the line `n` lines after `at` (a line start), not past the end.
fn lines_ahead(t: &str, mut at: usize, n: usize) -> usize {
    for _ in 0..n {
        if at >= t.len() {
            break;
        }
        at = line_end_full(t, at);
    }
    at
}

/// The regions grown to whole lines, joined where they share a line or lie closer than
/// two contexts apart, each with its context.
fn excerpts(old: &str, new: &str, regions: &[Region]) -> Vec<Excerpt> {
    // Whole-line chunks: (old span, new span), in order, disjoint.
    let mut chunks: Vec<(Span, Span)> = Vec::new();
    for r in regions {
        let ob = line_start(old, r.old.start);
        let nb = r.new.start - (r.old.start - ob);
        let mut oe = r.old.end;
        // The chunk ends at a line end of both texts: past the region's line in the old
        // text unless both texts start a line right there.
        if !(at_line_start(old, oe) && (r.new.end == nb || at_line_start(new, r.new.end))) {
            oe = line_end_full(old, oe);
        }
        // Past the region, the texts differ by the same offset.
        let moved = |o: usize| o + r.new.end - r.old.end;
        match chunks.last_mut() {
            Some((po, pn)) if ob <= po.end => {
                po.end = po.end.max(oe);
                pn.end = moved(po.end);
            }
            _ => chunks.push((ob..oe, nb..moved(oe))),
        }
    }
    // Join chunks with no more than two contexts of lines between them, add the context.
    let mut out: Vec<Excerpt> = Vec::new();
    let (mut line_at, mut line_no) = (0usize, 0usize);
    let mut shift = 0isize;
    let mut i = 0;
    while i < chunks.len() {
        let (mut o, mut n) = chunks[i].clone();
        i += 1;
        while i < chunks.len() {
            let gap = &old[o.end..chunks[i].0.start];
            if count_lines(gap) > 2 * CONTEXT {
                break;
            }
            o.end = chunks[i].0.end;
            n.end = chunks[i].1.end;
            i += 1;
        }
        // Line numbers, counted on from the previous excerpt.
        line_no += count_lines(&old[line_at..o.start]);
        line_at = o.start;
        let floor = out.last().map_or(0, |x| x.old.end);
        let (ob, back) = lines_back(old, o.start, CONTEXT, floor);
        let oe = lines_ahead(old, o.end, CONTEXT);
        let nb = n.start - (o.start - ob);
        let ne = n.end + (oe - o.end);
        let first_old = line_no - back;
        out.push(Excerpt {
            old: ob..oe,
            new: nb..ne,
            first_lines: (first_old, (first_old as isize + shift) as usize),
        });
        // The new text's line numbers: the old ones, moved by the lines the excerpts so
        // far added or took away.
        shift += count_lines(&new[nb..ne]) as isize - count_lines(&old[ob..oe]) as isize;
    }
    out
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

fn push_lines(out: &mut String, sign: char, lines: &[&str]) {
    for l in lines {
        out.push(sign);
        out.push_str(l);
        if !l.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

/// Aligns two line sequences; see the module documentation.
fn align(old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    let (n, m) = (old.len(), new.len());
    // Texts agree again at (x, y) when both ended, or two lines (one at the very end) match.
    let agree = |x: usize, y: usize| -> bool {
        if x == n || y == m {
            return x == n && y == m;
        }
        old[x] == new[y]
            && ((x + 1 == n && y + 1 == m) || (x + 1 < n && y + 1 < m && old[x + 1] == new[y + 1]))
    };
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        let (si, sj) = (i, j);
        while i < n && j < m && old[i] == new[j] {
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
        for op in capture_diff_slices(Algorithm::Myers, &old[i..i + a], &new[j..j + b]) {
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

    /// A deterministic pseudo-random source (xorshift): `next(n)` is below `n`.
    fn numbers(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }

    #[test]
    fn every_diff_applies_back_to_the_new_text() {
        // Deterministic pseudo-random edits, including far-apart and dense ones.
        let mut rnd = numbers(0x2545_f491);
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

    #[test]
    fn the_diff_from_the_edits_regions_applies_and_is_no_larger() {
        use crate::Edits;
        // Deterministic pseudo-random edits of every kind an analysis makes: whole lines
        // inserted, words changed inside a line, text appended to a line, a last line
        // without a newline, edits on one line and on neighbouring lines.
        let mut next = numbers(0x9e37_79b9);
        for round in 0..400 {
            let n = 1 + next(40);
            let mut old: String = (0..n).map(|i| format!("line {} x\n", i % 7)).collect();
            if next(4) == 0 {
                old.pop();
            }
            let mut edits = Edits::new();
            let mut at = 0;
            while at < old.len() {
                at += next(60);
                if at > old.len() {
                    break;
                }
                let start = crate::text::line_start(&old, at);
                match next(6) {
                    5 if at + 2 <= old.len() && !old[at..at + 2].contains('\n') => {
                        edits.replace(at..at + 2, "")
                    }
                    0 => edits.insert(start, "new line\n"),
                    1 => edits.insert_line_after(&old, at, "after"),
                    2 if at < old.len() && !old[at..].starts_with('\n') => {
                        edits.replace(at..at + 1, "Y")
                    }
                    3 => edits.insert(
                        crate::text::line_end_full(&old, at)
                            .saturating_sub(1)
                            .max(start),
                        " more",
                    ),
                    _ => edits.insert(at, "w"),
                }
                // Sometimes another edit on the same line.
                at = if next(3) == 0 {
                    at + 1 + next(4)
                } else {
                    crate::text::line_end_full(&old, at) + next(3)
                };
            }
            let (new, regions) = edits.apply_traced(&old);
            let whole = unified("f", Some(&old), &new);
            let traced = unified_regions("f", &old, &new, &regions);
            // It applies, and says no more than comparing the texts does (in text this
            // repetitive, less: it knows which lines were edited).
            assert_eq!(patch(&old, &traced), new, "round {round}:\n{traced}");
            let changed = |d: &str| {
                d.lines()
                    .skip(2)
                    .filter(|l| l.starts_with(['+', '-']))
                    .count()
            };
            assert!(
                changed(&traced) <= changed(&whole),
                "round {round}:\n{traced}\nbeside\n{whole}"
            );
        }
    }

    #[test]
    fn a_line_that_grows_and_shrinks_is_one_changed_line() {
        use crate::Edits;
        let old = "abcdef\nxyz\n";
        let mut e = Edits::new();
        e.insert(1, "WWW");
        e.replace(3..5, "");
        let (new, regions) = e.apply_traced(old);
        assert_eq!(new, "aWWWbcf\nxyz\n");
        assert_eq!(
            unified_regions("f", old, &new, &regions),
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-abcdef\n+aWWWbcf\n xyz\n"
        );
    }
}
