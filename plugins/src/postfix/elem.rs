//! What one element of a network list is, as Postfix reads it, and what is wrong with a broken one.

use std::path::PathBuf;
use v6fix_core::addr::Style;
use v6fix_core::Prefix;

/// Lookup table types Postfix knows (postconf -m, plus the dynamically loaded ones).
const TABLE_TYPES: &[&str] = &[
    "btree",
    "cdb",
    "cidr",
    "dbm",
    "environ",
    "fail",
    "hash",
    "inline",
    "internal",
    "ldap",
    "lmdb",
    "memcache",
    "mongodb",
    "mysql",
    "netinfo",
    "nis",
    "nisplus",
    "pcre",
    "pgsql",
    "pipemap",
    "proxy",
    "randmap",
    "regexp",
    "sdbm",
    "socketmap",
    "sqlite",
    "static",
    "tcp",
    "texthash",
    "unionmap",
    "unix",
];

/// What one element of a network list is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Elem {
    /// A network or address Postfix matches.
    Net {
        prefix: Prefix,
        negated: bool,
    },
    /// A spelling that breaks Postfix; `fixed` is the right one.
    Broken {
        prefix: Prefix,
        negated: bool,
        fixed: String,
        why: Why,
    },
    File(PathBuf),
    Cidr(PathBuf),
    /// Another lookup table (`hash:`, `cidr:{…}`, …).
    Table(String),
    /// A `type:name` whose type Postfix does not know (451 for every client).
    UnknownType(String),
    /// A host or domain name, or anything else Postfix matches by name.
    Name,
    /// An element built from `${name?…}` forms v6fix does not evaluate.
    Unexpanded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Why {
    BareV6,
    HostBits,
}

pub(super) fn classify(text: &str, in_cidr: bool) -> Elem {
    let (negated, t) = match text.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let bang = if negated { "!" } else { "" };
    if t.starts_with('/') && !in_cidr {
        return Elem::File(PathBuf::from(t));
    }
    if let Some(inner) = t.strip_prefix('[') {
        let Ok(p) = Prefix::parse_any(t) else {
            return Elem::Name;
        };
        if p.has_host_bits() {
            let net = p.network();
            let fixed = if inner.contains("]/") {
                net.render(Style::BracketedV6)
            } else {
                format!("[{net}]")
            };
            return Elem::Broken {
                prefix: net,
                negated,
                fixed: format!("{bang}{fixed}"),
                why: Why::HostBits,
            };
        }
        return Elem::Net { prefix: p, negated };
    }
    if let Ok(p) = Prefix::parse(t) {
        let net = p.network();
        let had_len = t.contains('/');
        let bare_v6 = p.is_ipv6() && !in_cidr;
        // Spelled only for an element that needs rewriting: most are fine as they are.
        let fixed = || match (p.is_ipv6() && !in_cidr, had_len) {
            (true, true) => net.render(Style::BracketedV6),
            (true, false) => format!("[{}]", p.addr()),
            (false, _) => net.render(Style::Bare),
        };
        if bare_v6 {
            return Elem::Broken {
                prefix: net,
                negated,
                fixed: format!("{bang}{}", fixed()),
                why: Why::BareV6,
            };
        }
        if p.has_host_bits() {
            return Elem::Broken {
                prefix: net,
                negated,
                fixed: format!("{bang}{}", fixed()),
                why: Why::HostBits,
            };
        }
        return Elem::Net { prefix: p, negated };
    }
    if let Some((ty, rest)) = t.split_once(':') {
        if TABLE_TYPES.contains(&ty.to_ascii_lowercase().as_str()) {
            if ty.eq_ignore_ascii_case("cidr") && rest.starts_with('/') {
                return Elem::Cidr(PathBuf::from(rest));
            }
            return Elem::Table(t.to_string());
        }
        return Elem::UnknownType(ty.to_string());
    }
    Elem::Name
}

/// `$name` or `${name}` alone: the name.
pub(super) fn whole_ref(t: &str) -> Option<&str> {
    let n = t.strip_prefix('$')?;
    let n = n
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(n);
    (!n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(n)
}

pub(super) fn broken_message(list: &str, text: &str, why: Why) -> String {
    match why {
        Why::BareV6 if text.trim_start_matches('!').starts_with(':') => format!(
            "`{text}` in {list} is a bare IPv6 literal: Postfix reads it as a lookup table and smtpd dies at startup"
        ),
        Why::BareV6 => format!(
            "`{text}` in {list} is a bare IPv6 literal: Postfix reads it as a lookup table and answers 451 4.3.0 to every client, IPv4 too"
        ),
        Why::HostBits => format!(
            "`{text}` in {list} has host bits set after the prefix length: Postfix cannot use it (451 4.3.0 for clients whose check reaches it)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_classified_as_postfix_reads_them() {
        let net = |s: &str| Prefix::parse_any(s).unwrap();
        assert_eq!(
            classify("[2001:DB8:0::]/64", false),
            Elem::Net {
                prefix: net("2001:db8::/64"),
                negated: false
            }
        );
        assert_eq!(
            classify("[2001:db8::/64]", false),
            Elem::Net {
                prefix: net("2001:db8::/64"),
                negated: false
            }
        );
        assert!(matches!(
            classify("2001:db8::/64", false),
            Elem::Broken { why: Why::BareV6, ref fixed, .. } if fixed == "[2001:db8::]/64"
        ));
        assert!(matches!(
            classify("!::1", false),
            Elem::Broken { why: Why::BareV6, ref fixed, negated: true, .. } if fixed == "![::1]"
        ));
        assert!(matches!(
            classify("[2001:db8::5]/64", false),
            Elem::Broken { why: Why::HostBits, ref fixed, .. } if fixed == "[2001:db8::]/64"
        ));
        assert!(matches!(
            classify("[2001:db8::5/64]", false),
            Elem::Broken { why: Why::HostBits, ref fixed, .. } if fixed == "[2001:db8::/64]"
        ));
        assert!(matches!(
            classify("192.0.2.7/24", false),
            Elem::Broken { why: Why::HostBits, ref fixed, .. } if fixed == "192.0.2.0/24"
        ));
        assert_eq!(
            classify("2001:db8::/64", true),
            Elem::Net {
                prefix: net("2001:db8::/64"),
                negated: false
            }
        );
        assert_eq!(
            classify("/etc/postfix/nets", false),
            Elem::File("/etc/postfix/nets".into())
        );
        assert_eq!(
            classify("cidr:/etc/postfix/c.cidr", false),
            Elem::Cidr("/etc/postfix/c.cidr".into())
        );
        assert_eq!(
            classify("hash:/etc/postfix/n", false),
            Elem::Table("hash:/etc/postfix/n".into())
        );
        assert_eq!(classify("fd00:x", false), Elem::UnknownType("fd00".into()));
        assert_eq!(classify("mail.example.com", false), Elem::Name);
        assert_eq!(whole_ref("${a_b}"), Some("a_b"));
        assert_eq!(whole_ref("$a/x"), None);
    }
}
