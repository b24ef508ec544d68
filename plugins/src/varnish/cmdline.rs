//! The varnishd command line: its words, wherever they come from (the SysV DAEMON_OPTS
//! included), the options they form, and inserting an option beside another.

use v6fix_core::text::{indent_of, line_end_full, line_start, Span};
use v6fix_core::Edits;

/// varnishd options that take no value.
const FLAGS: &[u8] = b"CdFV?";

/// A command-line word, wherever it came from, with its span in its file.
#[derive(Debug, Clone)]
pub(super) struct Word {
    pub(super) span: Span,
    pub(super) value: String,
}

/// An option of varnishd: `-a VALUE` or `-aVALUE`.
#[derive(Debug, Clone)]
pub(super) struct Opt {
    pub(super) letter: char,
    /// The word holding the flag (`-a`, or `-a:80` when attached).
    pub(super) flag: Span,
    /// The value's word span (same as `flag` when attached).
    pub(super) value_span: Span,
    pub(super) value: String,
}

pub(super) fn options(words: &[Word]) -> Vec<Opt> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < words.len() {
        let w = &words[i];
        let b = w.value.as_bytes();
        if b.len() >= 2 && b[0] == b'-' && b[1] != b'-' && b[1].is_ascii() {
            let letter = b[1];
            if FLAGS.contains(&letter) {
                i += 1;
                continue;
            }
            if b.len() > 2 {
                out.push(Opt {
                    letter: letter as char,
                    flag: w.span.clone(),
                    value_span: w.span.clone(),
                    value: w.value[2..].to_string(),
                });
                i += 1;
            } else if let Some(v) = words.get(i + 1) {
                out.push(Opt {
                    letter: letter as char,
                    flag: w.span.clone(),
                    value_span: v.span.clone(),
                    value: v.value.clone(),
                });
                i += 2;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

pub(super) fn sysv_words(text: &str) -> Option<(Span, Vec<Word>)> {
    // DAEMON_OPTS="..." (the first uncommented assignment), possibly over several lines.
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("DAEMON_OPTS=\"") {
            let start = pos + (line.len() - t.len()) + "DAEMON_OPTS=\"".len();
            let close = text[start..].find('"')? + start;
            let _ = rest;
            let mut words = Vec::new();
            let body = &text[start..close];
            let mut off = 0;
            for seg in body.split_inclusive('\n') {
                let content = seg.trim_end_matches(['\n', '\r']);
                let content = content.trim_end_matches([' ', '\t']);
                let content = content.strip_suffix('\\').unwrap_or(content);
                let mut i = 0;
                let b = content.as_bytes();
                while i < b.len() {
                    if b[i] == b' ' || b[i] == b'\t' {
                        i += 1;
                        continue;
                    }
                    let s = i;
                    while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                        i += 1;
                    }
                    words.push(Word {
                        span: start + off + s..start + off + i,
                        value: content[s..i].to_string(),
                    });
                }
                off += seg.len();
            }
            // options() skips the program name at index 0.
            words.insert(
                0,
                Word {
                    span: start..start,
                    value: "varnishd".into(),
                },
            );
            return Some((start..close, words));
        }
        pos += line.len();
    }
    None
}

/// Inserts option text `text` (`-a [::]:80`) after option `o`: on a continuation line of
/// its own when `o` starts its line and ends it before a backslash continuation,
/// otherwise right after its value on the same line.
pub(super) fn insert_option(src: &str, edits: &mut Edits, o: &Opt, text: &str) {
    let ls = line_start(src, o.flag.start);
    let flag_starts_line = src[ls..o.flag.start].trim().is_empty();
    let le = line_end_full(src, o.value_span.end);
    let rest = src[o.value_span.end..le]
        .trim_end_matches(['\n', '\r'])
        .trim();
    // A line that ends in `\` and a lone `\r` at the end of the file continues nothing: a
    // line put after it would follow the `\r`, and the `\` would no longer end its line.
    let bare_cr = src[o.value_span.end..le].ends_with('\r');
    if flag_starts_line && rest == "\\" && !bare_cr {
        let indent = indent_of(&src[ls..]);
        let tail = &src[o.value_span.end..le];
        let sep = tail.trim_end_matches(['\n', '\r']);
        let sep = &sep[..sep.len() - sep.trim_start().len()];
        edits.continue_line_after(src, o.value_span.end, &format!("{indent}{text}{sep}\\"));
    } else {
        edits.insert(o.value_span.end, format!(" {text}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_with_attached_and_separate_values() {
        let words: Vec<Word> = [
            "varnishd",
            "-F",
            "-a",
            ":80",
            "-a:81",
            "-T",
            "localhost:6082",
        ]
        .iter()
        .map(|w| Word {
            span: 0..0,
            value: w.to_string(),
        })
        .collect();
        let o = options(&words);
        let got: Vec<_> = o.iter().map(|o| (o.letter, o.value.as_str())).collect();
        assert_eq!(got, [('a', ":80"), ('a', ":81"), ('T', "localhost:6082")]);
    }

    #[test]
    fn sysv_daemon_opts_are_split_with_spans() {
        let t = "# x\nDAEMON_OPTS=\"-a 192.0.2.10:6081 \\\n             -T localhost:6082\"\n";
        let (_, w) = sysv_words(t).unwrap();
        let vals: Vec<_> = w.iter().map(|w| w.value.as_str()).collect();
        assert_eq!(
            vals,
            ["varnishd", "-a", "192.0.2.10:6081", "-T", "localhost:6082"]
        );
        assert_eq!(&t[w[2].span.clone()], "192.0.2.10:6081");
    }
}
