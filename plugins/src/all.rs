//! `v6fix all`: one command per host. Derives the host's address and gateway from the
//! address plan, then runs every plugin whose service is installed under --root as ONE
//! transaction: one plan, one diff, one JSON report, all files or none.
//!
//! Order: the network first (interfaces, then resolv), then the services by name; each
//! plugin plans on top of what the earlier ones planned. Restart hints come out in that
//! order too, so the address exists before any daemon is asked to bind it.

use crate::cli::{run_plan, Global};
use clap::{Arg, ArgAction, ArgMatches, Command};
use v6fix_core::site::{self, HostPlan};
use v6fix_core::{registry, Args, Error, Host, Plan, Plugin, Result};

/// Plugins that must run before the services, in this order.
const FIRST: &[&str] = &["interfaces", "resolv"];

pub(crate) fn command() -> Command {
    Command::new("all")
        .about("Convert every installed service of the host in one transaction")
        .arg(
            Arg::new("network")
                .long("network")
                .value_name("PREFIX")
                .required(true)
                .help("The site network, a /64 (e.g. 2001:db8::/64)"),
        )
        .arg(
            Arg::new("role")
                .long("role")
                .value_name("ROLE")
                .help("The host's role tag: admin (ad), client (c), or a hex tag"),
        )
        .arg(
            Arg::new("host")
                .long("host")
                .value_name("ID")
                .help("The host id, the last 16-bit group, in hex"),
        )
        .arg(
            Arg::new("address")
                .long("address")
                .value_name("ADDR")
                .conflicts_with_all(["role", "host"])
                .help("The host's IPv6 address, instead of --role and --host"),
        )
        .arg(
            Arg::new("gateway")
                .long("gateway")
                .value_name("ADDR")
                .help("The IPv6 default gateway (default: ::1 in the site network)"),
        )
        .arg(
            Arg::new("iface")
                .long("iface")
                .value_name("IF")
                .help("The interface to configure (default: the one with an inet static stanza)"),
        )
        .arg(
            Arg::new("nameserver")
                .long("nameserver")
                .value_name("ADDR")
                .action(ArgAction::Append)
                .help("IPv6 nameservers for resolv.conf (resolv is skipped without one)"),
        )
        .arg(
            Arg::new("skip")
                .long("skip")
                .value_name("PLUGIN")
                .action(ArgAction::Append)
                .help("Leave this plugin out (may be repeated)"),
        )
}

/// The values every plugin may draw its arguments from: the site network, the host's
/// address and gateway from the address plan, and the optional interface and nameservers.
fn site_args(m: &ArgMatches) -> Result<Args> {
    let mut given = Args::new();
    for name in ["network", "role", "host", "address", "gateway"] {
        if let Some(v) = m.get_one::<String>(name) {
            given.push(name, v.clone());
        }
    }
    let site = site::site_from_args(&given)?;
    let address = match given.ipv6("address")? {
        Some(a) if site.network.contains(a) => a.to_string(),
        Some(a) => {
            return Err(Error::usage(format!(
                "--address {a} is not inside the site network {}",
                site.network
            )))
        }
        None => match HostPlan::from_args(&given)? {
            Some(plan) => plan.address.to_string(),
            None => return Err(Error::usage("all: give --role and --host, or --address")),
        },
    };
    let mut a = Args::new();
    a.push("network", site.network.to_string());
    a.push("address", address);
    a.push("gateway", site.gateway.to_string());
    if let Some(i) = m.get_one::<String>("iface") {
        a.push("iface", i.clone());
    }
    for n in m.get_many::<String>("nameserver").into_iter().flatten() {
        a.push("nameserver", n.clone());
    }
    Ok(a)
}

/// The plugins in the order `all` runs them.
fn ordered() -> Vec<&'static dyn Plugin> {
    let mut v = registry();
    v.sort_by_key(|p| {
        let rank = FIRST
            .iter()
            .position(|f| *f == p.name())
            .unwrap_or(FIRST.len());
        (rank, p.name())
    });
    v
}

/// The arguments `plugin` declares, taken from `site`; `Err(name)` names a required one
/// that is missing.
fn args_for(plugin: &dyn Plugin, site: &Args) -> std::result::Result<Args, &'static str> {
    let mut a = Args::new();
    for spec in plugin.args() {
        let vals = site.all(spec.name);
        if vals.is_empty() && spec.required {
            return Err(spec.name);
        }
        for v in vals {
            a.push(spec.name, v.clone());
        }
    }
    Ok(a)
}

/// Plans every installed service on `host`, each on top of the ones before it.
pub(crate) fn plan_all(host: &Host, site: &Args, skip: &[String]) -> Result<Plan> {
    let mut plan = Plan::new();
    for p in ordered() {
        let name = p.name();
        if skip.iter().any(|s| s == name) {
            plan.note(format!("{name}: skipped (--skip)"));
            continue;
        }
        if p.files(host)?.is_empty() {
            plan.note(format!("{name}: skipped, not installed"));
            continue;
        }
        let args = match args_for(p, site) {
            Ok(a) => a,
            Err(missing) => {
                plan.note(format!("{name}: skipped, needs --{missing}"));
                continue;
            }
        };
        let view = host.with_overlay(plan.overlay());
        let step = p.plan(&view, &args)?;
        plan.merge(step);
    }
    Ok(plan)
}

pub(crate) fn run(global: &Global, m: &ArgMatches) -> Result<u8> {
    let site = site_args(m)?;
    let skip: Vec<String> = m
        .get_many::<String>("skip")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    for s in &skip {
        if v6fix_core::plugin::find(s).is_none() {
            return Err(Error::usage(format!("--skip {s}: no such plugin")));
        }
    }
    run_plan(global, |host| {
        let mut plan = plan_all(host, &site, &skip)?;
        plan.notes.insert(
            0,
            format!(
                "address plan: host {}, gateway {}",
                site.one("address").unwrap_or_default(),
                site.one("gateway").unwrap_or_default()
            ),
        );
        Ok(plan)
    })
}
