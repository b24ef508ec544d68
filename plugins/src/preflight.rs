//! `v6fix preflight`, and the first step of `all`: is the host ready to go dual-stack, and
//! does it stay closed when it does?
//!
//! - IPv6 turned off: `disable_ipv6 = 1` in the sysctl files (the firewall plugin's
//!   finding, with its fix), `ipv6.disable=1` on the kernel command line in
//!   /etc/default/grub (needs `update-grub` and a reboot: `all` refuses while it stands);
//! - firewall parity: every firewall whose IPv4 side filters while IPv6 passes (the
//!   firewall plugin's audit): `all` refuses unless `--no-firewall-check`;
//! - /etc/hosts: the `::1` names and the IPv6 multicast names Debian ships.
//!
//! Read-only: exit 1 when something is found, like `audit`.

use crate::cli::Global;
use crate::firewall::{self, Gap};
use clap::{ArgMatches, Command};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use v6fix_core::dialect::{hostsfile, shellvars};
use v6fix_core::{Error, Finding, Host, Plan, Plugin, Result, Severity};

const GRUB: &str = "/etc/default/grub";
const HOSTS: &str = "/etc/hosts";

/// The names Debian's /etc/hosts gives IPv6 addresses (netbase, base-files).
const HOST_NAMES: &[(&str, &str)] = &[
    ("::1", "localhost"),
    ("::1", "ip6-localhost"),
    ("::1", "ip6-loopback"),
    ("ff02::1", "ip6-allnodes"),
    ("ff02::2", "ip6-allrouters"),
];

pub(crate) fn command() -> Command {
    Command::new("preflight")
        .about("Check the host is ready for IPv6 and its firewall filters IPv6 as it filters IPv4 (read-only; exit 1 when something is found)")
}

/// `ipv6.disable=1` on the kernel command line: (file, line, variable).
fn grub_disabled(host: &Host) -> Result<Vec<(PathBuf, usize, String)>> {
    let mut files = vec![PathBuf::from(GRUB)];
    let mut more = host.glob("/etc/default/grub.d/*.cfg")?;
    more.sort();
    files.extend(more);
    let mut out = Vec::new();
    for p in files {
        let Some(f) = host.read(&p)? else { continue };
        let d = shellvars::parse(&f.text).map_err(|e| host.parse_error(&f, e))?;
        for var in ["GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"] {
            if let Some((i, v, _)) = d.get(var) {
                if v.split_whitespace().any(|w| w == "ipv6.disable=1") {
                    out.push((
                        f.path.clone(),
                        f.line(d.items[i].span.start),
                        var.to_string(),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// What the host itself lacks (the kernel command line, /etc/hosts): the findings no
/// plugin's audit makes.
pub(crate) fn host_findings(host: &Host) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for (p, line, var) in grub_disabled(host)? {
        out.push(Finding {
            severity: Severity::Error,
            path: host.display(&p),
            line: Some(line),
            message: format!("{var} holds ipv6.disable=1: the kernel starts without IPv6, so no service can bind an IPv6 address"),
            fix: Some(format!("remove ipv6.disable=1 from {var}, then update-grub and reboot")),
        });
    }
    if let Some(f) = host.read(Path::new(HOSTS))? {
        let d = hostsfile::parse(&f.text).map_err(|e| host.parse_error(&f, e))?;
        for (addr, name) in HOST_NAMES {
            let ip: IpAddr = addr.parse().expect("a literal address");
            if !d.maps(ip, name) {
                out.push(Finding {
                    severity: Severity::Warning,
                    path: host.display(&f.path),
                    line: None,
                    message: format!(
                        "no line maps {name} to {addr}: tools that resolve {name} over IPv6 fail"
                    ),
                    fix: Some(if *addr == "::1" {
                        "add the line `::1 localhost ip6-localhost ip6-loopback`".to_string()
                    } else {
                        format!("add the line `{addr} {name}`")
                    }),
                });
            }
        }
    }
    Ok(out)
}

/// Every preflight finding: the firewall plugin's audit, then the host's own.
pub(crate) fn findings(host: &Host) -> Result<Vec<Finding>> {
    let mut out = firewall::Firewall.audit(host)?;
    out.extend(host_findings(host)?);
    Ok(out)
}

/// What `all` checks before it plans: refuses while the kernel starts without IPv6, and
/// while a firewall leaves IPv6 open (unless `check_firewall` is false). `plan` is what
/// the run would do, for the services it names; with `check_firewall` false, each open
/// IPv6 side becomes a warning of the run.
pub(crate) fn gate(host: &Host, plan: &mut Plan, check_firewall: bool) -> Result<()> {
    if let Some((p, line, var)) = grub_disabled(host)?.into_iter().next() {
        return Err(Error::Rejected {
            message: format!(
                "{}:{line}: {var} holds ipv6.disable=1: the kernel starts without IPv6, so the converted services would fail to start; nothing was written. Remove it, run update-grub and reboot, then run v6fix again",
                host.display(&p)
            ),
        });
    }
    let gaps = firewall::gaps(host)?;
    if gaps.is_empty() {
        return Ok(());
    }
    if !check_firewall {
        for g in &gaps {
            plan.warn(format!(
                "{}:{}: {}: {} (--no-firewall-check: it stays open until `v6fix firewall` closes it)",
                g.path, g.line, g.firewall, g.message
            ));
        }
        return Ok(());
    }
    let mut services: Vec<&str> = plan.restarts.iter().map(|r| r.service.as_str()).collect();
    services.dedup();
    Err(Error::Rejected {
        message: refusal(&gaps, &services),
    })
}

fn refusal(gaps: &[Gap], services: &[&str]) -> String {
    let mut m = String::from(
        "the firewall filters IPv4 only: making services dual-stack would open them to the IPv6 Internet; nothing was written",
    );
    for g in gaps {
        m.push_str(&format!(
            "\n  {}:{}: {}: {}",
            g.path, g.line, g.firewall, g.message
        ));
        if !g.allowed.is_empty() {
            m.push_str(&format!(
                "\n    IPv4 lets in only ports {}; over IPv6 every port answers",
                g.allowed.join(", ")
            ));
        }
    }
    if !services.is_empty() {
        m.push_str(&format!(
            "\n  this run would make these reachable over IPv6 on every port they listen on: {}",
            services.join(", ")
        ));
    }
    m.push_str("\n  fix: v6fix firewall --network PREFIX [--ipv4-network PREFIX] first, or pass --no-firewall-check to go on with IPv6 open");
    m
}

pub(crate) fn run(global: &Global, _: &ArgMatches) -> Result<u8> {
    let host = global.host()?;
    let found = findings(&host)?;
    Ok(crate::audit::report(
        global,
        &found,
        "clean: IPv6 is on and the firewall filters it as it filters IPv4",
    ))
}
