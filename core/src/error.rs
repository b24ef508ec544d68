//! The errors v6fix reports (exit code 2). Every one of them means "nothing was written",
//! except [`Error::Unfinished`], which lists what was.
//!
//! Dialects report [`ParseError`]s (a byte offset, what was found, what was expected);
//! [`crate::Host`] turns them into [`Error::Parse`] with the file's path, line and column.

use crate::text::{quoted, LineCol};
use std::fmt;

/// A dialect's parse failure, positioned by byte offset into the text it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub found: String,
    pub expected: String,
}

impl ParseError {
    pub fn new(offset: usize, found: impl Into<String>, expected: impl Into<String>) -> Self {
        ParseError {
            offset,
            found: found.into(),
            expected: expected.into(),
        }
    }

    /// Describes the text at `offset` for the `found` part of a message: the rest of the
    /// line, shortened, or "end of file".
    pub fn describe(text: &str, offset: usize) -> String {
        let rest = &text[offset.min(text.len())..];
        let line = rest.lines().next().unwrap_or("");
        if rest.is_empty() {
            "end of file".to_string()
        } else if line.trim().is_empty() {
            "end of line".to_string()
        } else {
            let mut s: String = line.trim_end().chars().take(40).collect();
            if s.len() < line.trim_end().len() {
                s.push('…');
            }
            format!("`{s}`")
        }
    }
}

/// Everything that stops a run. The CLI prints it on stderr and exits with code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A config file that does not parse in its dialect.
    Parse {
        path: String,
        at: LineCol,
        found: String,
        expected: String,
    },
    /// A config that parses but holds something v6fix must not guess about.
    Invalid {
        path: String,
        at: Option<LineCol>,
        message: String,
    },
    /// A bad command-line argument.
    Usage(String),
    /// A file that could not be read or written, with the system's error as its source.
    Io { path: String, source: IoError },
    /// A path that would leave `--root`, or another path v6fix refuses to touch.
    Refused { path: String, reason: String },
    /// A file that changed between planning and writing.
    Changed { path: String },
    /// Another v6fix run held the lock for longer than the caller would wait.
    Locked {
        path: String,
        pid: Option<u32>,
        secs: u64,
    },
    /// A transaction failed and was undone: nothing was written.
    Aborted { cause: String },
    /// A transaction failed and could not be undone: `files` holds each file's state
    /// (`new`, `old` or `unknown`); the journal stays for `v6fix recover`.
    Unfinished {
        cause: String,
        failures: Vec<String>,
        files: Vec<(String, &'static str)>,
        root: String,
    },
    /// A service's own checker rejected the changed configuration.
    Rejected { message: String },
    /// v6fix's check of its own plan failed: a bug in v6fix, and nothing was written.
    SelfCheck(String),
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    pub fn invalid(
        path: impl Into<String>,
        at: Option<LineCol>,
        message: impl Into<String>,
    ) -> Self {
        Error::Invalid {
            path: path.into(),
            at,
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<String>, err: &std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source: IoError::of(err),
        }
    }

    /// A file that is not there where it must be.
    pub fn missing(path: impl Into<String>, what: &str) -> Self {
        Error::Io {
            path: path.into(),
            source: IoError(std::sync::Arc::new(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                what.to_string(),
            ))),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse {
                path,
                at,
                found,
                expected,
            } => write!(
                f,
                "{path}:{at}: found {}, expected {expected}",
                quoted(found)
            ),
            Error::Invalid {
                path,
                at: Some(at),
                message,
            } => write!(f, "{path}:{at}: {}", quoted(message)),
            Error::Invalid {
                path,
                at: None,
                message,
            } => write!(f, "{path}: {}", quoted(message)),
            Error::Usage(message) => write!(f, "{message}"),
            Error::Io { path, source } => write!(f, "{path}: {}", source.0),
            Error::Refused { path, reason } => write!(f, "{path}: refused: {reason}"),
            Error::Changed { path } => write!(
                f,
                "{path}: changed by someone else since v6fix read it; nothing was written, run again"
            ),
            Error::Locked { path, pid, secs } => {
                let who = pid.map_or("another v6fix run".to_string(), |p| {
                    format!("another v6fix run (pid {p})")
                });
                write!(
                    f,
                    "{path}: {who} still holds the lock after {secs} s; nothing was written. Try again once it is done, or wait longer with --lock-timeout SECONDS"
                )
            }
            Error::Aborted { cause } => write!(f, "{cause}; the run was undone, nothing was written"),
            Error::Unfinished {
                cause,
                failures,
                files,
                root,
            } => {
                write!(f, "{cause}, and undoing it failed")?;
                for x in failures {
                    write!(f, "\n  failed: {x}")?;
                }
                for state in ["new", "old", "unknown"] {
                    for (p, s) in files.iter().filter(|(_, s)| *s == state) {
                        write!(f, "\n  {s}: {p}")?;
                    }
                }
                write!(
                    f,
                    "\nthe journal is kept; fix the cause, then finish with: v6fix --root {root} recover"
                )
            }
            Error::Rejected { message } => write!(f, "{message}"),
            Error::SelfCheck(message) => write!(
                f,
                "{message}; this is a bug in v6fix, not in the configuration: nothing was written (please report it with the files involved)"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source.0.as_ref()),
            _ => None,
        }
    }
}

/// The system's error behind an [`Error::Io`], kept whole (kind, OS code, message) and
/// shared, so errors stay cheap to clone. Two are equal when kind and message are.
#[derive(Debug, Clone)]
pub struct IoError(pub std::sync::Arc<std::io::Error>);

impl IoError {
    /// A copy of `err` that keeps its kind, OS error code and message.
    pub fn of(err: &std::io::Error) -> IoError {
        let copy = match err.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code),
            None => std::io::Error::new(err.kind(), err.to_string()),
        };
        IoError(std::sync::Arc::new(copy))
    }

    pub fn kind(&self) -> std::io::ErrorKind {
        self.0.kind()
    }
}

impl PartialEq for IoError {
    fn eq(&self, other: &IoError) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for IoError {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_file_line_column_found_and_expected() {
        let e = Error::Parse {
            path: "/etc/postfix/main.cf".into(),
            at: LineCol { line: 3, col: 7 },
            found: "`}`".into(),
            expected: "a parameter name".into(),
        };
        assert_eq!(
            e.to_string(),
            "/etc/postfix/main.cf:3:7: found `}`, expected a parameter name"
        );
    }

    #[test]
    fn quoted_text_names_a_byte_order_mark_and_escapes_bytes_that_are_not_utf8() {
        let e = Error::Parse {
            path: "/etc/ssh/sshd_config".into(),
            at: LineCol { line: 1, col: 1 },
            found: ParseError::describe("\u{feff}Port x\u{10ffe9}", 0),
            expected: "a keyword".into(),
        };
        assert_eq!(
            e.to_string(),
            "/etc/ssh/sshd_config:1:1: found `<a UTF-8 byte order mark>Port x\\xe9`, expected a keyword"
        );
    }

    #[test]
    fn describe_shows_the_rest_of_the_line_or_the_end() {
        assert_eq!(ParseError::describe("a = b\nc", 4), "`b`");
        assert_eq!(ParseError::describe("abc", 3), "end of file");
        assert_eq!(ParseError::describe("a  \nb", 1), "end of line");
    }
}
