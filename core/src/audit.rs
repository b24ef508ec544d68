//! Findings: what keeps a host IPv4-only or breaks under IPv6.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; does not keep the host IPv4-only.
    Info,
    /// Keeps the service IPv4-only, or silently ignores part of the config.
    Warning,
    /// Breaks the service (a lookup failure, a daemon that will not start).
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// The file as shown in messages (see [`crate::Host::display`]).
    pub path: String,
    /// 1-based line, when the problem sits on one.
    pub line: Option<usize>,
    /// What breaks, in one sentence.
    pub message: String,
    /// The v6fix command that fixes it, where one exists.
    pub fix: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        write!(f, ": {}: {}", self.severity.as_str(), self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " (fix: {fix})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_print_path_line_severity_message_and_fix() {
        let f = Finding {
            severity: Severity::Warning,
            path: "/etc/postfix/main.cf".into(),
            line: Some(12),
            message: "inet_protocols = ipv4 keeps Postfix IPv4-only".into(),
            fix: Some("v6fix postfix --network PREFIX".into()),
        };
        assert_eq!(
            f.to_string(),
            "/etc/postfix/main.cf:12: warning: inet_protocols = ipv4 keeps Postfix IPv4-only (fix: v6fix postfix --network PREFIX)"
        );
        assert!(Severity::Error > Severity::Warning);
    }
}
