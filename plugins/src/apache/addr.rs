//! Address words of `Listen` and `<VirtualHost>`, read the way Apache reads them: the core
//! [`Endpoint`] with Apache's spellings, plus `_default_`, which only Apache has.

use v6fix_core::endpoint::{Endpoint, Spelling};

/// Reads `text` as Apache's `apr_parse_addr_port` does: brackets around IPv6, else the
/// last `:` separates the port; a port alone, `*` and `_default_` are every address.
pub(super) fn read_spot(text: &str) -> std::result::Result<Endpoint, String> {
    let text = match text.strip_prefix("_default_") {
        Some(rest) => format!("*{rest}"),
        None => text.to_string(),
    };
    Endpoint::parse(&text, &Spelling::APACHE).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;
    use v6fix_core::Bind;

    #[test]
    fn addresses_are_read_the_way_apache_reads_them() {
        let r = |t| read_spot(t).unwrap();
        assert_eq!(r("80").bind, Bind::AnyDual);
        assert_eq!(r("[::]:80").bind, Bind::AnyDual);
        assert_eq!(r("*:80").bind, Bind::AnyDual);
        assert_eq!(r("_default_:443").bind, Bind::AnyDual);
        assert_eq!(r("0.0.0.0:80").bind, Bind::AnyV4);
        assert_eq!(r("192.0.2.10:443").port.as_deref(), Some("443"));
        assert_eq!(r("192.0.2.10").port, None);
        let s = r("::1:18080");
        assert_eq!(s.bind, Bind::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(s.bracketed.as_deref(), Some("[::1]:18080"));
        let s = r("2001:db8::1:80");
        assert_eq!(s.bracketed.as_deref(), Some("[2001:db8::1]:80"));
        let s = r("2001:db8::10");
        assert_eq!(s.bracketed.as_deref(), Some("[2001:db8::10]"));
        assert_eq!(r("[2001:db8::1]").port, None);
        assert!(matches!(r("www.example.net:80").bind, Bind::Name(_)));
        assert!(matches!(r("${APACHE_PORT}").bind, Bind::Name(_)));
        assert!(read_spot("2001:db8:x::80").is_err());
        assert!(read_spot("[2001:db8::1]80").is_err());
    }
}
