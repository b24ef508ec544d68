//! `/etc/hosts` as glibc's `files` backend reads it (hosts(5)), losslessly: an address,
//! then names, separated by blanks; `#` starts a comment anywhere on a line.

use crate::addr::parse_ip;
use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};
use std::net::IpAddr;

/// One physical line: the address and names it holds, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub span: Span,
    /// The address, when the line has one glibc reads.
    pub addr: Option<IpAddr>,
    pub names: Vec<String>,
}

impl crate::doc::Spanned for Item {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// A parsed hosts file.
pub type Doc = crate::doc::Doc<Item>;

/// Parses a hosts file. Never fails: glibc skips a line it cannot read.
pub fn parse(text: impl Into<Text>) -> Result<Doc, ParseError> {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Result<Doc, ParseError> {
    let text = shared.as_str();
    let items = lines(text)
        .into_iter()
        .map(|l| {
            let t = l.text(text);
            let t = t.split('#').next().unwrap_or("");
            let mut words = t.split_whitespace();
            let addr = words.next().and_then(parse_ip);
            let names = if addr.is_some() {
                words.map(str::to_string).collect()
            } else {
                Vec::new()
            };
            Item {
                span: l.full,
                addr,
                names,
            }
        })
        .collect();
    Ok(Doc {
        src: shared.clone(),
        items,
    })
}

impl Doc {
    /// True when some line maps `name` to `addr`.
    pub fn maps(&self, addr: IpAddr, name: &str) -> bool {
        self.items
            .iter()
            .any(|it| it.addr == Some(addr) && it.names.iter().any(|n| n == name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_names_and_comments() {
        let t = "127.0.0.1\tlocalhost\n::1 localhost ip6-localhost # loop\n# ::1 x\nbad line\n";
        let d = parse(t).unwrap();
        assert_eq!(d.to_string(), t);
        let one: IpAddr = "::1".parse().unwrap();
        assert!(d.maps(one, "ip6-localhost"));
        assert!(!d.maps(one, "x"));
        assert!(d.items[3].addr.is_none());
    }
}
