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
//! Where the admin maintains Exim's configuration by hand (`/etc/exim4/exim4.conf`, or
//! lists written out in the template or `conf.d/main/` parts), those lists are edited the
//! same way where they stand (see [`conf`]).

mod checks;
mod conf;
mod debconf;
mod lists;

use std::path::{Path, PathBuf};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, Args, Error, Host, Plugin, Result};

pub(crate) struct Exim4;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Exim4) }

const DEBCONF: &str = "/etc/exim4/update-exim4.conf.conf";

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
        "Exim (Debian's exim4-config or exim4.conf): relay and interface lists, IPv6 in Exim lists"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        let dc = match host.read(Path::new(DEBCONF))? {
            Some(f) => Some((debconf::load(host, &f)?, f)),
            None => None,
        };
        if dc.is_none() && !host.is_file(Path::new(conf::HAND)) {
            return Ok(Vec::new());
        }
        let mut out: Vec<PathBuf> = dc.iter().map(|_| PathBuf::from(DEBCONF)).collect();
        out.extend(conf::files(
            host,
            dc.as_ref().is_some_and(|(d, _)| debconf::split(d)),
        )?);
        Ok(out)
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let mut a = Analysis::new();
        let dc = match host.read(Path::new(DEBCONF))? {
            Some(f) => Some((debconf::load(host, &f)?, f)),
            None => None,
        };
        let hand = host.is_file(Path::new(conf::HAND));
        if dc.is_none() && !hand {
            a.invalid = Some(Error::invalid(
                host.display(Path::new(DEBCONF)),
                None,
                "not found: Exim (exim4-config) is not installed or not configured under this root",
            ));
            return Ok(a);
        }
        let split = dc.as_ref().is_some_and(|(d, _)| debconf::split(d));
        match &dc {
            // Exim reads exim4.conf instead of what update-exim4.conf generates.
            Some((_, f)) if hand => a.note_at(
                f,
                0,
                format!(
                    "not used while {} exists (Exim reads that instead): left alone",
                    host.display(Path::new(conf::HAND))
                ),
            ),
            Some((doc, f)) => debconf::analyze(host, f, doc, target, &mut a),
            None => {}
        }
        conf::analyze(host, &conf::files(host, split)?, target, &mut a)?;
        let (command, why) = if hand {
            (
                "exim4 -bV && systemctl restart exim4",
                "Exim reads /etc/exim4/exim4.conf at start and binds its interfaces then; exim4 -bV first, because a bad configuration stops the daemon",
            )
        } else {
            (
                "update-exim4.conf && systemctl restart exim4",
                "update-exim4.conf writes the configuration Exim reads from update-exim4.conf.conf and its templates (and refuses one exim -bV rejects); the daemon binds its interfaces at start",
            )
        };
        a.restart("exim4", "restart", command, why);
        Ok(a)
    }
}
