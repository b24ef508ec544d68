//! `v6fix postgresql`: PostgreSQL clusters as Debian lays them out
//! (`/etc/postgresql/<version>/<cluster>/`), each read the way its server reads it.
//!
//! - `listen_addresses` ([`listen`]): `*` and `localhost` serve both families already; a
//!   list with `0.0.0.0` gains `::`, one with `127.0.0.1` gains `::1`, one with a specific
//!   IPv4 address gains the host's `--address` (once, however many IPv4 addresses it holds:
//!   one server listens on all of them). The value the server uses is the last one read, in
//!   `postgresql.conf`, its includes, or `postgresql.auto.conf` (`ALTER SYSTEM`), which wins.
//! - `pg_hba.conf` ([`hba`]): every `host*` row for the site's IPv4 network gets a row for
//!   each `--network` right after it, with the same type, database, user, method and
//!   options, so the rules keep the order they are matched in.

mod cluster;
mod hba;
mod listen;

use cluster::Cluster;
use std::path::PathBuf;
use v6fix_core::plugin::ArgSpec;
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, Args, Host, Plugin, Prefix, Result};

pub(crate) struct Postgresql;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Postgresql) }

static NEEDS: &[Need] = &[
    Need::new(
        Fact::Networks,
        "The site's IPv6 network: pg_hba.conf gets a row for it beside each row of the site's IPv4 network",
    )
    .required(),
    Need::new(
        Fact::Address,
        "This host's IPv6 address, added to a listen_addresses list of specific IPv4 addresses",
    ),
];

static ARGS: &[ArgSpec] = &[ArgSpec::value(
    "mirror",
    "PREFIX",
    "The IPv4 network whose pg_hba.conf rows the IPv6 network mirrors, when rows name several",
)];

impl Plugin for Postgresql {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn about(&self) -> &'static str {
        "PostgreSQL: listen_addresses on IPv6 too, pg_hba.conf rows for the site's IPv6 network"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn args(&self) -> &'static [ArgSpec] {
        ARGS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for c in Cluster::all(host)? {
            out.extend(c.paths());
        }
        Ok(out)
    }

    fn analyze(&self, host: &Host, target: &Target, args: &Args) -> Result<Analysis> {
        let mirror = match args.one("mirror") {
            Some(m) => Some(Prefix::parse_network(m).map_err(|e| {
                v6fix_core::Error::usage(format!(
                    "--mirror {m}: {e} (an IPv4 network of pg_hba.conf)"
                ))
            })?),
            None => None,
        };
        let mut a = Analysis::new();
        let clusters = Cluster::all(host)?;
        if clusters.is_empty() {
            a.note(format!(
                "{}: no cluster: PostgreSQL is not installed here",
                host.display(std::path::Path::new(cluster::ETC))
            ));
        }
        for c in &clusters {
            for n in &c.notes {
                a.note(n.clone());
            }
            for w in &c.warnings {
                a.warn(w.clone());
            }
            let restart = listen::analyze(host, c, target.address(), &mut a);
            let reload = hba::analyze(host, c, &target.networks, mirror, &mut a);
            let unit = format!("postgresql@{}-{}", c.version, c.name);
            if restart {
                a.restart(
                    &unit,
                    "restart",
                    &format!("systemctl restart {unit}"),
                    "listen_addresses is read only when the server starts; a restart ends open sessions",
                );
            } else if reload {
                a.restart(
                    &unit,
                    "reload",
                    &format!("systemctl reload {unit}"),
                    "pg_hba.conf is read again on reload (SIGHUP); open sessions stay",
                );
            }
        }
        Ok(a)
    }
}
