//! `sysctl.conf` and `/etc/sysctl.d/*.conf` as procps `sysctl --system` reads them
//! (sysctl.conf(5)), losslessly.
//!
//! - A line whose first non-blank is `#` or `;` is a comment.
//! - `token = value`: blanks around the token, the `=` and the value are ignored; a
//!   leading `-` on the token means a failure to set it is not an error.
//! - The token's separators may be `.` or `/` (`net/ipv6/conf/all/disable_ipv6`).
//!
//! Every line is one item; a line without `=` is kept as [`Kind::Other`] (sysctl reports it
//! and goes on).

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Blank,
    Comment,
    /// `key = value`: the key with `/` read as `.` and without a leading `-`, and the spans
    /// of the key and the value as written.
    Setting {
        key: String,
        key_span: Span,
        value: String,
        value_span: Span,
    },
    Other,
}

/// One physical line.
pub type Item = crate::doc::Item<Kind>;

/// A parsed sysctl file.
pub type Doc = crate::doc::Doc<Item>;

/// Parses a sysctl file. Never fails: sysctl reports a bad line and goes on.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let items = lines(text)
        .into_iter()
        .map(|l| {
            let t = l.text(text);
            let body = t.trim_start();
            let kind = if body.is_empty() {
                Kind::Blank
            } else if body.starts_with(['#', ';']) {
                Kind::Comment
            } else if let Some(eq) = t.find('=') {
                let (k, v) = (&t[..eq], &t[eq + 1..]);
                let k0 = k.len() - k.trim_start().len();
                let v0 = v.len() - v.trim_start().len();
                let base = l.content.start;
                let key = k.trim();
                Kind::Setting {
                    key: key.trim_start_matches('-').replace('/', "."),
                    key_span: base + k0..base + k0 + key.len(),
                    value: v.trim().to_string(),
                    value_span: base + eq + 1 + v0..base + eq + 1 + v0 + v.trim().len(),
                }
            } else {
                Kind::Other
            };
            Item { span: l.full, kind }
        })
        .collect();
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

impl Doc {
    /// Every setting: (item, key, value, value span).
    pub fn settings(&self) -> impl Iterator<Item = (usize, &str, &str, Span)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| match &it.kind {
                Kind::Setting {
                    key,
                    value,
                    value_span,
                    ..
                } => Some((i, key.as_str(), value.as_str(), value_span.clone())),
                _ => None,
            })
    }
}

/// The order `sysctl --system` reads files in: by file name across its directories (a
/// name in an earlier directory hides the same name in later ones), then
/// `/etc/sysctl.conf` last. Each entry is a (directory, file name) pair.
pub const SYSTEM_DIRS: &[&str] = &[
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_with_slashes_dashes_and_blanks() {
        let t = "# c\n; c\n net/ipv6/conf/all/disable_ipv6=1\n-net.ipv6.conf.default.disable_ipv6 = 1 \r\nbogus\n";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        let s: Vec<_> = d.settings().collect();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].1, "net.ipv6.conf.all.disable_ipv6");
        assert_eq!(&t[s[0].3.clone()], "1");
        assert_eq!(s[1].1, "net.ipv6.conf.default.disable_ipv6");
        assert_eq!(&t[s[1].3.clone()], "1");
        assert_eq!(d.items[4].kind, Kind::Other);
    }
}
