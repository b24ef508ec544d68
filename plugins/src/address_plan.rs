//! `v6fix plan`: the address plan of one machine, computed from the site's rules (see
//! `v6fix_core::site`): its address and gateway, its routed client network and the
//! /80s of its virtual clients, the route the edge routers need, and the DNS records to
//! publish. Reads and writes nothing.

use crate::cli::{Global, OK};
use crate::options;
use crate::report::{out, print_json};
use crate::schema::{AddressPlanReport, ClientReport, DnsReport, RoleReport};
use clap::{Arg, ArgAction, ArgMatches, Command};
use v6fix_core::site::{AddressPlan, ClientNet};
use v6fix_core::{Error, Result};

const OPTIONS: &[(&str, &str, &str)] = &[
    (
        "network",
        "PREFIX",
        "The site network, a /64 (e.g. 2001:db8::/64)",
    ),
    (
        "role",
        "ROLE",
        "admin (tag ad), client (tag c), or a tag in hex",
    ),
    (
        "host",
        "ID",
        "The host id, 1 to 4 hex digits (the last 16-bit group)",
    ),
    (
        "gateway",
        "ADDR",
        "The site's VRRP gateway (default: ::1 in the network)",
    ),
    (
        "client-pool",
        "PREFIX",
        "Pool of routed client networks (e.g. 2001:db8:100::/48): one /64 per machine",
    ),
    (
        "index",
        "N",
        "This machine's /64 in the client pool, counted from 0",
    ),
    ("name", "FQDN", "Host name for the AAAA and PTR records"),
];

pub(crate) fn command() -> Command {
    let mut c = Command::new("plan")
        .about("Show a machine's addresses, client networks, routes and DNS records");
    for (name, value, help) in OPTIONS {
        let mut a = Arg::new(*name)
            .long(*name)
            .value_name(*value)
            .help(*help)
            .action(ArgAction::Set);
        if matches!(*name, "network" | "role" | "host") {
            a = a.required(true);
        }
        c = c.arg(a);
    }
    c
}

pub(crate) fn run(global: &Global, m: &ArgMatches) -> Result<u8> {
    let h = options::host_plan(m)?.ok_or_else(|| Error::usage("--role and --host are required"))?;
    let client = options::client_net(m, &h.site)?;
    if let Some(c) = &client {
        if c.network.contains(std::net::IpAddr::V6(h.address)) {
            return Err(Error::usage(
                "the client network overlaps the machine's address",
            ));
        }
    }
    let dns = options::one(m, "name").map(|n| h.dns(n)).transpose()?;

    if global.json {
        print_json(&AddressPlanReport {
            address: h.address.to_string(),
            address_prefix: h.address_prefix().to_string(),
            client: client.as_ref().map(|c| client_report(c, &h)),
            dns: dns.as_ref().map(|d| DnsReport {
                aaaa: d.aaaa.clone(),
                name: d.name.clone(),
                ptr: d.ptr.clone(),
                reverse_zone: d.reverse_zone.clone(),
            }),
            gateway: h.site.gateway.to_string(),
            host: format!("{:x}", h.host),
            network: h.site.network.to_string(),
            role: RoleReport {
                name: h.role.name,
                tag: format!("{:x}", h.role.tag),
            },
        });
        return Ok(OK);
    }

    let mut s = String::new();
    let mut row = |k: &str, v: &str| s.push_str(&format!("{k:<15} {v}\n"));
    row("site network", &h.site.network.to_string());
    row("gateway", &h.site.gateway.to_string());
    row("role", &h.role.to_string());
    row("host id", &format!("{:x}", h.host));
    row("address", &h.address_prefix().to_string());
    if let Some(c) = &client {
        row(
            "client network",
            &format!("{} (number {} of {})", c.network, c.index, c.pool),
        );
        if let (Some(first), Some(last)) = (c.client(1), c.client(u16::MAX)) {
            row(
                "virtual clients",
                &format!("one /80 each: {first} (1) to {last} (ffff); /80 number 0 stays with the machine"),
            );
        }
        row("edge routers", &c.route(h.address));
    }
    if let Some(d) = &dns {
        row("AAAA", &d.aaaa);
        row("PTR", &d.ptr);
        row("reverse zone", &d.reverse_zone);
    }
    out(&s);
    Ok(OK)
}

fn client_report(c: &ClientNet, h: &AddressPlan) -> ClientReport {
    ClientReport {
        first_virtual_client: c.client(1).map(|p| p.to_string()),
        index: c.index,
        last_virtual_client: c.client(u16::MAX).map(|p| p.to_string()),
        network: c.network.to_string(),
        pool: c.pool.to_string(),
        route: c.route(h.address),
        virtual_client_length: 80,
    }
}
