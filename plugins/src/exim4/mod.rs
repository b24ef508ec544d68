//! `v6fix exim4 --network PREFIX… [--address ADDR]`: makes Exim dual-stack as Debian
//! configures it.
//!
//! Debian's `update-exim4.conf` builds Exim's configuration from
//! `/etc/exim4/update-exim4.conf.conf`: `dc_relay_nets` becomes `hostlist
//! relay_from_hosts` and `dc_local_interfaces` becomes `local_interfaces`, both Exim
//! lists. In a `:` list an IPv6 address must have its colons doubled; a value with a `;`
//! is made a `<;` list by the generator. What is changed:
//!
//! - `dc_relay_nets` that trusts IPv4 networks (other than loopback, which the generator
//!   adds itself) gets each `--network` not yet covered, so an MX handing mail to these
//!   machines over IPv6 is trusted as it is over IPv4. An empty one (local relaying only)
//!   is left alone.
//! - `dc_local_interfaces` that names addresses gets `::1` beside `127.0.0.1`, `::` beside
//!   `0.0.0.0` and `--address` beside a specific IPv4 address (the port form copied:
//!   `addr.port` or `[addr]:port`). An empty one listens on every address already.
//! - An IPv6 word with single colons in a `:` list (Exim reads it as several items) is
//!   rewritten with its colons doubled.
//!
//! `/etc/exim4/exim4.conf`, where the admin maintains Exim's configuration by hand, takes
//! the place of the generated one; v6fix refuses to guess around it.

mod debconf;
mod lists;

use std::path::{Path, PathBuf};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, Args, Error, Host, Plugin, Result};

pub(crate) struct Exim4;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Exim4) }

const DEBCONF: &str = "/etc/exim4/update-exim4.conf.conf";
const HAND: &str = "/etc/exim4/exim4.conf";

static NEEDS: &[Need] = &[
    Need::new(
        Fact::Networks,
        "A site network to trust for relaying (dc_relay_nets), e.g. 2001:db8::/64",
    )
    .required(),
    Need::new(
        Fact::Address,
        "This host's IPv6 address: added where dc_local_interfaces names a specific IPv4 address",
    ),
];

impl Plugin for Exim4 {
    fn name(&self) -> &'static str {
        "exim4"
    }

    fn about(&self) -> &'static str {
        "Exim (Debian's exim4-config): dc_relay_nets, dc_local_interfaces, IPv6 in Exim lists"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok([DEBCONF, HAND]
            .iter()
            .map(PathBuf::from)
            .filter(|p| host.is_file(p))
            .collect())
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let mut a = Analysis::new();
        if let Some(file) = host.read(Path::new(HAND))? {
            a.refuse(
                host,
                &file,
                0,
                format!(
                    "found {HAND}, a configuration maintained by hand that Exim reads instead of the one update-exim4.conf generates; expected Debian's generated configuration (v6fix does not edit a hand-maintained exim4.conf)"
                ),
            );
            return Ok(a);
        }
        let Some(file) = host.read(Path::new(DEBCONF))? else {
            a.invalid = Some(Error::invalid(
                host.display(Path::new(DEBCONF)),
                None,
                "not found: Exim (exim4-config) is not installed or not configured under this root",
            ));
            return Ok(a);
        };
        debconf::analyze(host, &file, target, &mut a)?;
        a.restart(
            "exim4",
            "restart",
            "update-exim4.conf && systemctl restart exim4",
            "update-exim4.conf writes the configuration Exim reads from update-exim4.conf.conf (and refuses one exim -bV rejects); the daemon binds its interfaces at start",
        );
        Ok(a)
    }
}
