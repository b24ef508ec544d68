//! `v6fix all`: one command per host. Derives the host's address and gateway from the
//! address plan, then runs every plugin whose service is installed under --root as ONE
//! transaction: one plan, one diff, one JSON report, all files or none.
//!
//! Order: the network first (interfaces, then resolv), then the services by name; each
//! plugin plans on top of what the earlier ones planned. Restart hints come out in that
//! order too, so the address exists before any daemon is asked to bind it.

use crate::cli::{run_plan, Global};
use crate::options;
use clap::{Arg, ArgAction, ArgMatches, Command};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{registry, Args, Error, Host, Plan, Plugin, Result};

/// Plugins that must run before the services, in this order.
const FIRST: &[&str] = &["interfaces", "resolv"];

/// Plugins `all` leaves to their own command: what the host lets in is changed only when
/// asked for (`all` checks the firewall first, see `preflight`).
const OWN_COMMAND: &[&str] = &["firewall"];

/// The facts `all` takes: what the address plan needs, and what some plugins use.
const NEEDS: &[Need] = &[
    Need::new(
        Fact::Networks,
        "The site network, a /64 (e.g. 2001:db8::/64)",
    )
    .required(),
    Need::new(
        Fact::Address,
        "The host's IPv6 address, instead of --role and --host",
    )
    .from_plan()
    .required(),
    Need::new(
        Fact::Gateway,
        "The IPv6 default gateway (default: ::1 in the site network)",
    ),
    Need::new(
        Fact::Iface,
        "The interface to configure (default: the one with an inet static stanza)",
    ),
    Need::new(
        Fact::Nameservers,
        "IPv6 nameservers for resolv.conf (resolv is skipped without one)",
    ),
];

pub(crate) fn command() -> Command {
    Command::new("all")
        .about("Convert every installed service of the host in one transaction")
        .args(options::fact_args(NEEDS))
        .arg(
            Arg::new("skip")
                .long("skip")
                .value_name("PLUGIN")
                .action(ArgAction::Append)
                .help("Leave this plugin out (may be repeated)"),
        )
        .arg(
            Arg::new("no-firewall-check")
                .long("no-firewall-check")
                .action(ArgAction::SetTrue)
                .help("Go on when the firewall filters IPv4 but leaves IPv6 open (audit keeps reporting it)"),
        )
}

/// The target every plugin draws on: the site network, the host's address (given, or from
/// the address plan) and the site's gateway, plus the optional interface and nameservers.
fn site_target(m: &ArgMatches) -> Result<Target> {
    let site = options::site(m)?;
    let mut t = options::target(NEEDS, m)?;
    for a in &mut t.addresses {
        if !site.network.contains(std::net::IpAddr::V6(a.ip)) {
            return Err(Error::usage(format!(
                "--address {} is not inside the site network {}",
                a.ip, site.network
            )));
        }
        a.len.get_or_insert(site.network.len());
    }
    t.gateway = Some(site.gateway);
    // Only a typed --gateway replaces the gateway of a working inet6 stanza.
    t.gateway_by_default = options::one(m, "gateway").is_none();
    Ok(t)
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

/// Plans every installed service on `host`, each on top of the ones before it.
pub(crate) fn plan_all(host: &Host, target: &Target, skip: &[String]) -> Result<Plan> {
    let mut plan = Plan::new();
    let mut ran: Vec<&dyn Plugin> = Vec::new();
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
        if OWN_COMMAND.contains(&name) {
            plan.note(format!(
                "{name}: not run by all; run `v6fix {name}` on its own"
            ));
            continue;
        }
        if let Some(n) = p.needs().iter().find(|n| n.required && !target.has(n.fact)) {
            plan.note(format!("{name}: skipped, needs --{}", n.fact.option()));
            continue;
        }
        let view = host.with_overlay(plan.overlay());
        let step = p.plan(&view, target, &Args::new())?;
        plan.merge(step);
        ran.push(p);
    }
    crate::verify::own_work(host, &ran, target, &Args::new(), &plan)?;
    Ok(plan)
}

pub(crate) fn run(global: &Global, m: &ArgMatches) -> Result<u8> {
    let target = site_target(m)?;
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
        let mut plan = plan_all(host, &target, &skip)?;
        crate::preflight::gate(host, &mut plan, !m.get_flag("no-firewall-check"))?;
        plan.notes.insert(
            0,
            format!(
                "address plan: host {}, gateway {}",
                target.address().map(|a| a.to_string()).unwrap_or_default(),
                target.gateway.map(|g| g.to_string()).unwrap_or_default()
            ),
        );
        Ok(plan)
    })
}
