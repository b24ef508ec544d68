//! `v6fix varnish`: IPv6 listeners for varnishd, and the site's IPv6 network in VCL acls.
//!
//! On Debian the `-a`/`-T` options live in the systemd unit. v6fix finds the ExecStart
//! systemd would run (the unit, then the drop-ins in /etc/systemd/system/varnish.service.d/
//! in name order, an empty `ExecStart=` clearing the list) and edits it where it is: in a
//! drop-in or in a full copy under /etc. When the command comes from /lib (never written),
//! it is copied into a drop-in that starts with an empty `ExecStart=`. Only without any
//! systemd unit is /etc/default/varnish (SysV) edited.
//!
//! `-a :P` already listens on both families (adding `-a [::]:P` would be fatal:
//! "have same address"), so it is left alone. `-a 0.0.0.0:P` gets `-a [::]:P`,
//! `-a 127.0.0.1:P` gets `-a [::1]:P`, `-a 192.0.2.10:P` gets `-a [--address]:P`; a named
//! listener's twin gets its own name. In the VCL (`-f`, its includes through vcl_path),
//! acls gain `"::1";` beside `"127.0.0.1";` and the `--network` prefixes after their
//! last IPv4 entry; backends stay as they are.

mod acl;
mod audit;
mod cmdline;
mod conf;
mod listen;

use conf::{Cmd, Setup, SYSV};
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, Args, Error, Host, Plugin, Prefix, Result};

pub(crate) struct Varnish;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Varnish) }

static NEEDS: &[Need] = &[
    Need::new(
        Fact::Address,
        "This host's IPv6 address: the twin of -a on a specific IPv4 address",
    ),
    Need::new(
        Fact::Networks,
        "The site's IPv6 network, added to VCL acls that hold IPv4 networks",
    ),
];

impl Plugin for Varnish {
    fn name(&self) -> &'static str {
        "varnish"
    }

    fn about(&self) -> &'static str {
        "Varnish: IPv6 -a listeners in the systemd unit (a drop-in), site network in VCL acls"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        let Some(setup) = Setup::load(host)? else {
            return Ok(Vec::new());
        };
        let mut v: Vec<PathBuf> = setup.units.iter().map(|u| u.file.path.clone()).collect();
        if let Some(s) = &setup.sysv {
            v.push(s.path.clone());
        }
        v.extend(setup.vcls.iter().map(|f| f.0.path.clone()));
        Ok(v)
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let Some(setup) = Setup::load(host)? else {
            let mut a = Analysis::new();
            a.invalid = Some(Error::usage(format!(
                "no varnish.service unit and no {} found; is varnish installed?",
                host.display(Path::new(SYSV))
            )));
            return Ok(a);
        };
        setup.analyze(host, target.address(), &target.networks)
    }
}

impl Setup {
    fn analyze(
        &self,
        host: &Host,
        address: Option<Ipv6Addr>,
        networks: &[Prefix],
    ) -> Result<Analysis> {
        let mut plan = Analysis::new();
        for f in self.audit(host) {
            plan.finding(f);
        }
        let unit_changed = self.plan_listeners(host, address, &mut plan)?;
        let vcl_changed = self.plan_vcl(host, networks, &mut plan);
        if unit_changed {
            match self.cmd {
                Some(Cmd::Sysv) => plan.restart(
                    "varnish",
                    "restart",
                    "service varnish restart",
                    "varnishd reads its -a listeners only at start",
                ),
                _ => plan.restart(
                    "varnish",
                    "restart",
                    "systemctl daemon-reload && systemctl restart varnish",
                    "systemd must re-read the unit, and varnishd opens its -a listeners only at start (varnishreload reloads just the VCL)",
                ),
            }
        } else if vcl_changed {
            plan.restart(
                "varnish",
                "reload",
                "varnishreload",
                "loads the changed VCL without a restart (the cache is kept)",
            );
        }
        Ok(plan)
    }
}
