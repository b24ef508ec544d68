//! Pure-FTPd's option files as Debian's `pure-ftpd-wrapper` reads them: one file per
//! option in `/etc/pure-ftpd/conf/`, the file name being the directive.
//!
//! The wrapper's rules (pure-ftpd-common 1.0.50):
//! - Only names matching `^[A-Za-z][A-Za-z0-9]+$` are read; others (`Bind.bak`, `Bind~`,
//!   `.v6fix-XXXX.tmp`) are skipped. A readable name that is not a directive is fatal
//!   (`No corresponding directive`), case-sensitively (`IPV4Only`, not `IPv4Only`).
//! - Blank lines and lines starting with `#` (after trimming) are skipped; every other line
//!   is trimmed of leading and trailing whitespace (`\r` included).
//! - The first line that yields a flag wins. A boolean `no` yields none, so the lines
//!   after it still count (`no` then `yes` is on). An empty file is off.
//! - Booleans accept `yes`/`1`/`on` and `no`/`0`/`off`, case-insensitively; anything else
//!   (`true`, `y`, `yes # comment`) is fatal. Strings must not contain whitespace.

use crate::error::ParseError;
use crate::text::Text;
use crate::text::{lines, Span};

/// How the wrapper reads a directive's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// yes/no.
    Bool,
    /// One word without whitespace (Bind, AltLog, ForcePassiveIP, …).
    String,
    /// Anything else the wrapper checks itself (numbers, files, IPs, ignored charsets).
    Other,
}

/// The directives the wrapper knows, and how it reads each (its `%conf` and `%authconf`).
pub const DIRECTIVES: &[(&str, ValueKind)] = &[
    ("AllowAnonymousFXP", ValueKind::Bool),
    ("AllowDotFiles", ValueKind::Bool),
    ("AllowUserFXP", ValueKind::Bool),
    ("AltLog", ValueKind::String),
    ("AnonymousBandwidth", ValueKind::Other),
    ("AnonymousCanCreateDirs", ValueKind::Bool),
    ("AnonymousCantUpload", ValueKind::Bool),
    ("AnonymousOnly", ValueKind::Bool),
    ("AnonymousRatio", ValueKind::Other),
    ("AntiWarez", ValueKind::Bool),
    ("AutoRename", ValueKind::Bool),
    ("Bind", ValueKind::String),
    ("BrokenClientsCompatibility", ValueKind::Bool),
    ("CallUploadScript", ValueKind::Bool),
    ("ChrootEveryone", ValueKind::Bool),
    ("ClientCharset", ValueKind::Other),
    ("CreateHomeDir", ValueKind::Bool),
    ("CustomerProof", ValueKind::Bool),
    ("Daemonize", ValueKind::Bool),
    ("DisplayDotFiles", ValueKind::Bool),
    ("DontResolve", ValueKind::Bool),
    ("ExtAuth", ValueKind::Other),
    ("ForcePassiveIP", ValueKind::String),
    ("FortunesFile", ValueKind::Other),
    ("FSCharset", ValueKind::Other),
    ("IPV4Only", ValueKind::Bool),
    ("IPV6Only", ValueKind::Bool),
    ("KeepAllFiles", ValueKind::Bool),
    ("LDAPConfigFile", ValueKind::Other),
    ("LimitRecursion", ValueKind::Other),
    ("LogPID", ValueKind::Bool),
    ("MaxClientsNumber", ValueKind::Other),
    ("MaxClientsPerIP", ValueKind::Other),
    ("MaxDiskUsage", ValueKind::Other),
    ("MaxIdleTime", ValueKind::Other),
    ("MaxLoad", ValueKind::Other),
    ("MinUID", ValueKind::Other),
    ("MySQLConfigFile", ValueKind::Other),
    ("NATmode", ValueKind::Bool),
    ("NoAnonymous", ValueKind::Bool),
    ("NoChmod", ValueKind::Bool),
    ("NoRename", ValueKind::Bool),
    ("NoTruncate", ValueKind::Bool),
    ("PAMAuthentication", ValueKind::Bool),
    ("PassivePortRange", ValueKind::Other),
    ("PerUserLimits", ValueKind::Other),
    ("PGSQLConfigFile", ValueKind::Other),
    ("ProhibitDotFilesRead", ValueKind::Bool),
    ("ProhibitDotFilesWrite", ValueKind::Bool),
    ("PureDB", ValueKind::Other),
    ("Quota", ValueKind::Other),
    ("SyslogFacility", ValueKind::Other),
    ("TLS", ValueKind::Other),
    ("TLSCipherSuite", ValueKind::String),
    ("TrustedGID", ValueKind::Other),
    ("TrustedIP", ValueKind::Other),
    ("Umask", ValueKind::Other),
    ("UnixAuthentication", ValueKind::Bool),
    ("UserBandwidth", ValueKind::Other),
    ("UserRatio", ValueKind::Other),
    ("VerboseLog", ValueKind::Bool),
];

/// True when the wrapper reads a file of this name (`^[A-Za-z][A-Za-z0-9]+$`).
pub fn is_read(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1..].iter().all(u8::is_ascii_alphanumeric)
}

/// How the wrapper reads directive `name`; `None` when it is not a directive.
pub fn directive(name: &str) -> Option<ValueKind> {
    DIRECTIVES.iter().find(|(n, _)| *n == name).map(|&(_, k)| k)
}

/// One line of an option file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The whole line, line ending included.
    pub span: Span,
    /// The trimmed value; `None` for blank and `#` lines.
    pub value: Option<Span>,
}

/// A parsed option file.
pub type Doc = crate::doc::Doc<Line>;

impl crate::doc::Spanned for Line {
    fn span(&self) -> Span {
        self.span.clone()
    }
}

/// Parses an option file. Never fails: what a value means depends on the directive
/// (see [`Doc::boolean`] and [`Doc::string`]).
pub fn parse(text: impl Into<Text>) -> Doc {
    parse_shared(text.into())
}

fn parse_shared(shared: Text) -> Doc {
    let text = shared.as_str();
    let is_ws = |c: char| c.is_ascii_whitespace() || c == '\u{b}';
    let out = lines(text)
        .into_iter()
        .map(|l| {
            // The wrapper trims whitespace, `\r` included, from both ends.
            let t = &text[l.full.clone()];
            let lead = t.len() - t.trim_start_matches(is_ws).len();
            let body = t.trim_matches(is_ws);
            let value = if body.is_empty() || body.starts_with('#') {
                None
            } else {
                let s = l.full.start + lead;
                Some(s..s + body.len())
            };
            Line {
                span: l.full,
                value,
            }
        })
        .collect();
    Doc {
        src: shared.clone(),
        items: out,
    }
}

/// A boolean line's meaning.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "1" | "on" => Some(true),
        "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

impl Doc {
    pub fn lines(&self) -> &[Line] {
        &self.items
    }

    pub fn src(&self) -> &str {
        &self.src
    }

    /// The value lines, in order, as spans.
    pub fn values(&self) -> impl Iterator<Item = Span> + '_ {
        self.items.iter().filter_map(|l| l.value.clone())
    }

    /// The boolean as the wrapper reads it: on when some value line is on before any
    /// invalid one; off when none is. An invalid line before the first `on` is an error.
    pub fn boolean(&self) -> Result<bool, ParseError> {
        for v in self.values() {
            match parse_bool(&self.src[v.clone()]) {
                Some(true) => return Ok(true),
                Some(false) => {}
                None => {
                    return Err(ParseError::new(
                        v.start,
                        format!("`{}`", &self.src[v]),
                        "yes or no (the wrapper also takes 1/0 and on/off, nothing else, \
                         and no comment after the value; anything else stops pure-ftpd)",
                    ))
                }
            }
        }
        Ok(false)
    }

    /// The value lines that turn the option on (all of them, not only the first: once
    /// the first is off, the next one would count).
    pub fn on_lines(&self) -> Vec<Span> {
        self.values()
            .filter(|v| parse_bool(&self.src[v.clone()]) == Some(true))
            .collect()
    }

    /// The string value as the wrapper reads it: the first value line, which must not
    /// contain whitespace.
    pub fn string(&self) -> Result<Option<(&str, Span)>, ParseError> {
        let Some(v) = self.values().next() else {
            return Ok(None);
        };
        let s = &self.src[v.clone()];
        if let Some(p) = s.find(|c: char| c.is_whitespace()) {
            return Err(ParseError::new(
                v.start + p,
                format!("`{s}`"),
                "one word without blanks (a value with a space or a trailing comment stops pure-ftpd)",
            ));
        }
        Ok(Some((s, v)))
    }
}

/// A `Bind` value split the way pure-ftpd splits `-S`: at the first comma.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind<'a> {
    /// The address or host name; `None` when the value names only a port (`,21` or `21`).
    pub host: Option<&'a str>,
    pub port: Option<&'a str>,
}

/// Splits a Bind value: `host,port`, `,port`, or a lone `port` (no comma: only a port).
pub fn split_bind(v: &str) -> Bind<'_> {
    match v.split_once(',') {
        Some((h, p)) => Bind {
            host: (!h.is_empty()).then_some(h),
            port: (!p.is_empty()).then_some(p),
        },
        None => Bind {
            host: None,
            port: Some(v),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_the_wrapper() {
        assert!(parse("yes\n").boolean().unwrap());
        assert!(parse("  On \r\n").boolean().unwrap());
        assert!(!parse("").boolean().unwrap());
        assert!(!parse("# off\n\nno\n").boolean().unwrap());
        assert!(parse("no\nyes\n").boolean().unwrap(), "no yields no flag");
        for bad in ["true\n", "y\n", "yes # c\n", "TRUE"] {
            let e = parse(bad).boolean().unwrap_err();
            assert_eq!(e.offset, 0, "{bad}");
        }
        let e = parse("# c\n  true\n").boolean().unwrap_err();
        assert_eq!(e.offset, 6);
        assert_eq!(parse("yes\nno\nyes\n").on_lines(), vec![0..3, 7..10]);
    }

    #[test]
    fn strings_are_one_word() {
        let d = parse("# bind\n ,21 \r\n::1,21\n");
        assert_eq!(d.string().unwrap().unwrap().0, ",21");
        let e = parse("127.0.0.1, 21\n").string().unwrap_err();
        assert_eq!(e.offset, 10);
        assert!(parse("::,21 # v6\n").string().is_err());
        assert_eq!(parse("\n# only comments\n").string().unwrap(), None);
    }

    #[test]
    fn names_and_bind_values() {
        assert!(is_read("IPV4Only") && is_read("BindOld") && is_read("bind"));
        assert!(!is_read("Bind.bak") && !is_read("Bind~") && !is_read(".v6fix-ab12.tmp"));
        assert!(!is_read("B") && !is_read("1Bind"));
        assert_eq!(directive("IPV4Only"), Some(ValueKind::Bool));
        assert_eq!(directive("IPv4Only"), None);
        assert_eq!(directive("PureDB"), Some(ValueKind::Other));
        assert_eq!(
            split_bind("192.0.2.21,21"),
            Bind {
                host: Some("192.0.2.21"),
                port: Some("21")
            }
        );
        assert_eq!(
            split_bind(",21"),
            Bind {
                host: None,
                port: Some("21")
            }
        );
        assert_eq!(split_bind("2121").port, Some("2121"));
        assert_eq!(split_bind("::1,2121").host, Some("::1"));
    }
}
