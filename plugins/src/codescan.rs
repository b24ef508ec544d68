//! Finds what still assumes IPv4 in application code and schemas: IP address columns
//! too narrow for IPv6 text, and IPv4-only storage helpers.
//!
//! IPv6 text needs up to 45 characters (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`),
//! more with a `%zone`. A column whose name says it holds an address (`ip`, `ip_addr`,
//! `remote_addr`, `client_ip`, …) declared with a smaller length is reported, in SQL DDL
//! and in the common ORM spellings: `char(15)`, `varchar(15)`, `VARCHAR2(15)`,
//! `String(15)` (SQLAlchemy), `max_length=15` (Django), `limit: 15` (Rails),
//! `length = 15` (JPA), `@Size(max = 15)`, `string('ip', 15)` (Laravel).

use std::path::{Path, PathBuf};
use v6fix_core::{Error, Finding, Host, Result, Severity};

/// The longest text form of an IPv6 address, without a zone.
pub(crate) const IPV6_TEXT_MAX: u32 = 45;

const EXTENSIONS: &[&str] = &[
    "sql", "py", "rb", "php", "java", "kt", "scala", "go", "js", "ts", "cs", "prisma", "rs", "pl",
    "pm", "ex", "exs", "xml", "yml", "yaml",
];
const SKIP_DIRS: &[&str] = &[".git", "node_modules", "vendor", "target", "__pycache__"];

/// Scans every source and schema file below each machine path in `paths`.
pub(crate) fn scan(host: &Host, paths: &[PathBuf]) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for p in paths {
        host.resolve(p)?;
        if !host.exists(p) {
            return Err(Error::missing(host.display(p), "no such file or directory"));
        }
        walk(host, p, &mut findings)?;
    }
    Ok(findings)
}

fn walk(host: &Host, path: &Path, out: &mut Vec<Finding>) -> Result<()> {
    host.resolve(path)?;
    if host.is_dir(path) {
        for name in host.list_dir(path)? {
            if SKIP_DIRS.contains(&name.as_str()) {
                continue;
            }
            walk(host, &path.join(name), out)?;
        }
        return Ok(());
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
        return Ok(());
    }
    // Binary or non-UTF-8 files are not code we can read: pass over them.
    let Ok(Some(file)) = host.read(path) else {
        return Ok(());
    };
    for (i, line) in file.text.lines().enumerate() {
        if let Some(message) = check_line(line) {
            out.push(Finding {
                severity: Severity::Warning,
                path: host.display(path),
                line: Some(i + 1),
                message,
                fix: None,
            });
        }
    }
    Ok(())
}

/// What is wrong with one line of code or DDL, if anything.
pub(crate) fn check_line(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let code = lower.trim_start();
    if code.starts_with("--") || code.starts_with("//") || code.starts_with('#') {
        return None;
    }
    if lower.contains("inet_aton(") || lower.contains("ip2long(") {
        return Some(
            "stores an address as a 32-bit IPv4 integer (inet_aton/ip2long): IPv6 addresses do not fit; \
             store text (45 characters) or a native inet type"
                .into(),
        );
    }
    let name = ip_identifier(&lower)?;
    let len = declared_length(&lower)?;
    (len < IPV6_TEXT_MAX).then(|| {
        format!(
            "column `{name}` holds {len} characters: IPv6 addresses need up to {IPV6_TEXT_MAX} \
             (widen it, e.g. varchar({IPV6_TEXT_MAX}), or use a native inet type)"
        )
    })
}

/// The first identifier on the line that names an IP address column.
fn ip_identifier(lower: &str) -> Option<&str> {
    lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| {
            matches!(
                *w,
                "ip" | "ipaddr"
                    | "ipaddress"
                    | "ip_addr"
                    | "ip_address"
                    | "ipv4"
                    | "remote_addr"
                    | "remote_ip"
                    | "client_ip"
                    | "client_addr"
                    | "source_ip"
                    | "src_ip"
                    | "host_ip"
                    | "peer_ip"
                    | "last_ip"
                    | "login_ip"
                    | "user_ip"
            ) || (w.len() > 3 && (w.ends_with("_ip") || w.starts_with("ip_")))
        })
}

/// The length declared on the line, in any of the spellings this scanner knows.
fn declared_length(lower: &str) -> Option<u32> {
    const CALLS: &[&str] = &[
        "varchar2(",
        "nvarchar(",
        "varchar(",
        "nchar(",
        "char(",
        "string(",
        "character varying(",
        "character(",
        "@size(max",
        "@size(max =",
    ];
    const KEYS: &[&str] = &["max_length", "maxlength", "length", "limit", "size"];
    for call in CALLS {
        if let Some(i) = lower.find(call) {
            if let Some(n) = first_number(&lower[i + call.len()..]) {
                return Some(n);
            }
        }
    }
    for key in KEYS {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key) {
            let after = lower[from + i + key.len()..].trim_start();
            if let Some(rest) = after.strip_prefix(['=', ':']) {
                if let Some(n) = leading_number(rest.trim_start()) {
                    return Some(n);
                }
            }
            from += i + key.len();
        }
    }
    // Laravel: $table->string('ip', 15)
    if let Some(i) = lower.find("string(") {
        let args = &lower[i..];
        if let Some(comma) = args.find(',') {
            return leading_number(args[comma + 1..].trim_start());
        }
    }
    None
}

fn first_number(s: &str) -> Option<u32> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let prefix = &s[..start];
    // Only blanks, `=` and `:` may stand before the number inside the call.
    if !prefix.chars().all(|c| c == ' ' || c == '=' || c == ':') {
        return None;
    }
    leading_number(&s[start..])
}

fn leading_number(s: &str) -> Option<u32> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_ip_columns_are_found_in_sql_and_orms() {
        for line in [
            "  ip char(15) NOT NULL,",
            "  `client_ip` VARCHAR(15) DEFAULT NULL,",
            "remote_addr varchar2(16),",
            "    ip_address = Column(String(15))",
            "    ip = models.CharField(max_length=15)",
            "t.string :last_ip, limit: 15",
            "@Column(name = \"login_ip\", length = 15)",
            "$table->string('user_ip', 15);",
            "ip character varying(39)",
        ] {
            assert!(check_line(line).is_some(), "{line}");
        }
    }

    #[test]
    fn wide_or_unrelated_columns_and_comments_pass() {
        for line in [
            "  ip varchar(45) NOT NULL,",
            "  ip inet,",
            "  name char(15),",
            "  zip char(5),",
            "-- ip char(15) was the old layout",
            "    ip = models.GenericIPAddressField()",
            "  description varchar(15), -- shipping",
        ] {
            assert_eq!(check_line(line), None, "{line}");
        }
    }

    #[test]
    fn ipv4_integer_storage_is_found() {
        assert!(check_line("INSERT INTO log VALUES (INET_ATON(?))").is_some());
        assert!(check_line("$n = ip2long($_SERVER['REMOTE_ADDR']);").is_some());
    }

    #[test]
    fn the_message_says_what_breaks_and_how_wide_is_enough() {
        assert_eq!(
            check_line("ip char(15)").unwrap(),
            "column `ip` holds 15 characters: IPv6 addresses need up to 45 (widen it, e.g. varchar(45), or use a native inet type)"
        );
    }
}
