//! `v6fix nginx`: IPv6 twins for IPv4-only `listen` directives, and the site's IPv6
//! network in `allow` lists.
//!
//! In nginx a port-only `listen 80;` binds `0.0.0.0:80` only, and `listen [::]:80;` binds
//! IPv6 only (`ipv6only=on` is the default), so a dual-stack server needs both. Each
//! IPv4-only listen gets its twin right after it: `[::]:P` for the wildcard, `[::1]:P`
//! for `127.0.0.1`, `[--address]:P` for a specific address. The twin copies
//! `default_server` unless another server already is the default for that address,
//! copies `ssl`, `http2` and the other protocol flags, copies socket options only where no
//! server sets them for that address yet, and never says `ipv6only=off` (beside an IPv4
//! wildcard on the same port that fails to bind at start, while `nginx -t` passes).
//! Includes are followed the way nginx does (globs, relative to /etc/nginx, Debian's
//! absolute ones inside --root; sites-enabled without a suffix filter).

mod access;
mod audit;
mod conf;
mod listen;

use conf::{Conf, MAIN};
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, Args, Error, Host, Plugin, Prefix, Result};

pub(crate) struct Nginx;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Nginx) }

static NEEDS: &[Need] = &[
    Need::new(
        Fact::Address,
        "This host's IPv6 address: the twin of listens on a specific IPv4 address",
    ),
    Need::new(
        Fact::Networks,
        "The site's IPv6 network, added to allow lists that admit IPv4 networks",
    ),
];

impl Plugin for Nginx {
    fn name(&self) -> &'static str {
        "nginx"
    }

    fn about(&self) -> &'static str {
        "nginx: IPv6 twins for IPv4-only listen directives, site network in allow lists"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok(Conf::load(host)?.map_or_else(Vec::new, |c| {
            c.files.iter().map(|f| f.file.path.clone()).collect()
        }))
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let Some(conf) = Conf::load(host)? else {
            let mut a = Analysis::new();
            a.invalid = Some(Error::usage(format!(
                "{}: not found; is nginx installed?",
                host.display(Path::new(MAIN))
            )));
            return Ok(a);
        };
        conf.analyze(host, target.address(), &target.networks)
    }
}

impl Conf {
    fn analyze(
        &self,
        host: &Host,
        address: Option<Ipv6Addr>,
        networks: &[Prefix],
    ) -> Result<Analysis> {
        let mut plan = Analysis::new();
        for n in &self.notes {
            plan.note(n.clone());
        }
        for f in self.audit(host) {
            plan.finding(f);
        }
        let (placed, servers) = self.placed(host)?;

        self.plan_listens(host, &placed, &servers, address, &mut plan);

        self.plan_access(host, &placed, networks, &mut plan);

        for f in &self.files {
            let path = &f.file.path;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let backup = [
                ".bak",
                ".orig",
                ".old",
                ".save",
                ".dpkg-old",
                ".dpkg-dist",
                "~",
            ];
            if plan.edited(&f.file) && backup.iter().any(|b| name.ends_with(b)) {
                plan.note(format!(
                    "{}: changed because nginx includes it (its include pattern has no suffix filter), though its name looks like a backup copy",
                    host.display(path)
                ));
            }
        }
        plan.restart(
            "nginx",
            "reload",
            "nginx -t && systemctl reload nginx",
            "a reload re-reads the config and opens the new listen sockets",
        );
        Ok(plan)
    }
}
