//! `disable_ipv6 = 1` in the files `sysctl --system` applies (and ufw's own sysctl file,
//! which ufw applies when it starts): each such line is set to 0 where it stands, in the
//! file's own spelling.

use std::path::{Path, PathBuf};
use v6fix_core::dialect::sysctl;
use v6fix_core::{Analysis, Host, Result, Severity};

/// The files, in the order they are applied: /etc/sysctl.d/*.conf by name, then
/// /etc/sysctl.conf, then ufw's.
pub(crate) fn files(host: &Host) -> Result<Vec<PathBuf>> {
    let mut out = host.glob("/etc/sysctl.d/*.conf")?;
    out.sort();
    for p in ["/etc/sysctl.conf", "/etc/ufw/sysctl.conf"] {
        if host.is_file(Path::new(p)) {
            out.push(PathBuf::from(p));
        }
    }
    Ok(out)
}

/// True for `net.ipv6.conf.X.disable_ipv6`.
fn disables(key: &str) -> bool {
    key.starts_with("net.ipv6.conf.") && key.ends_with(".disable_ipv6")
}

/// Records (and, when `fix`, plans) every `disable_ipv6 = 1`. True when one is found.
pub(crate) fn analyze(host: &Host, a: &mut Analysis, fix: bool) -> Result<bool> {
    let mut found = false;
    for p in files(host)? {
        let Some(f) = host.read(&p)? else { continue };
        let d = sysctl::parse(&f.text).map_err(|e| host.parse_error(&f, e))?;
        for (i, key, value, span) in d.settings() {
            if !disables(key) || value != "1" {
                continue;
            }
            found = true;
            let at = d.items[i].span.start;
            a.find(&f,
                at,
                Severity::Error,
                format!("{key} = 1 turns IPv6 off: dual-stack services fail to bind their IPv6 addresses"),
                "v6fix firewall --network PREFIX",
            );
            if fix {
                a.edits(&f).replace(span, "0");
                a.note_at(&f, at, format!("{key} = 1 -> 0"));
            }
        }
    }
    if found && fix {
        a.restart(
            "sysctl",
            "reload",
            "sysctl --system",
            "applies disable_ipv6 = 0 now; addresses configured while IPv6 was off come back with ifdown/ifup",
        );
    }
    Ok(found)
}
