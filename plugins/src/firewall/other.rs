//! Firewalls v6fix reports but does not convert: ferm with only `domain ip`, and
//! Shorewall without Shorewall6. Each filters IPv4 while IPv6 passes untouched.

use super::Gap;
use std::path::Path;
use v6fix_core::Host;
use v6fix_core::Result;

const FERM: &str = "/etc/ferm/ferm.conf";
const SHOREWALL: &str = "/etc/shorewall/shorewall.conf";
const SHOREWALL6: &str = "/etc/shorewall6/shorewall6.conf";

/// True when a ferm config names the ip6 domain anywhere (`domain ip6`, `domain (ip ip6)`).
fn ferm_has_ip6(text: &str) -> bool {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .any(|l| {
            l.contains("domain")
                && l.split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| w == "ip6")
        })
}

/// The ferm and Shorewall gaps.
pub(crate) fn gaps(host: &Host) -> Result<Vec<Gap>> {
    let mut out = Vec::new();
    if let Some(f) = host.read(Path::new(FERM))? {
        let filters = ["DROP", "REJECT"].iter().any(|w| f.text.contains(w));
        if filters && !ferm_has_ip6(&f.text) {
            out.push(Gap {
                firewall: "ferm",
                path: host.display(&f.path),
                line: 1,
                message: "the rules are in `domain ip` only: IPv6 reaches every port (write them as `domain (ip ip6)`, then `ferm -n -l /etc/ferm/ferm.conf` before `systemctl reload ferm`)".into(),
                allowed: Vec::new(),
            });
        }
    }
    if host.is_file(Path::new(SHOREWALL)) && !host.is_file(Path::new(SHOREWALL6)) {
        out.push(Gap {
            firewall: "shorewall",
            path: host.display(Path::new(SHOREWALL)),
            line: 1,
            message: "Shorewall filters IPv4 and there is no Shorewall6: IPv6 reaches every port (install and configure shorewall6)".into(),
            allowed: Vec::new(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ferm_domains() {
        assert!(ferm_has_ip6("domain (ip ip6) table filter {\n"));
        assert!(ferm_has_ip6("domain ip6 {\n"));
        assert!(!ferm_has_ip6("domain ip table filter {\n# domain ip6\n"));
    }
}
