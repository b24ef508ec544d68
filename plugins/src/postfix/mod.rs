//! `v6fix postfix --network PREFIX… [--address ADDR]`: makes Postfix dual-stack.
//!
//! - `inet_protocols` enables IPv6 (`ipv4` becomes `all`; an absent one is set to `all`,
//!   since the compiled-in default differs across versions). The last definition is the
//!   one edited; earlier ones are reported.
//! - When this run opens ::1 to clients (IPv6 turned on, `[::1]` added to inet_interfaces,
//!   or a `[::1]` sibling of a loopback master.cf service that uses the main list), an
//!   explicit `mynetworks` that trusts 127.0.0.0/8 also gets `[::1]/128` (local clients
//!   reach `localhost` over ::1 then), in the same place and
//!   style as the networks; so does the `-o mynetworks=` override of a loopback service's
//!   `[::1]` sibling in master.cf (or, where v6fix cannot read the override, no sibling is
//!   made and a warning says why).
//! - Each `--network` is added to `mynetworks` where the list keeps its networks: a
//!   `/file/name` list (preferred), else a `cidr:` table, else the value in main.cf; as
//!   `[2001:db8::]/64` in lists and bare `2001:db8::/64 RESULT` in cidr tables. A network
//!   already listed in any spelling, or covered by a wider entry, is not added again.
//! - Entries that break Postfix in any network list (a bare IPv6 token, read as a lookup
//!   table: 451 for every client; host bits after the length) are rewritten.
//! - With `--address`, `inet_interfaces` that names IPv4 addresses gains the IPv6 one
//!   (and `[::1]` next to `127.0.0.1`), and a set `smtp_bind_address` gets
//!   `smtp_bind_address6`. A master.cf service bound to an IPv4 address gets an IPv6
//!   sibling with the same settings (`[::1]` next to a loopback one).
//!
//! Decisions: when mynetworks is not set, Postfix derives it from mynetworks_style and v6fix
//! adds no explicit line (that would change what is trusted over IPv4 too); it says what
//! the style does for IPv6. A `/file/name` list that does not exist is an error: Postfix
//! cannot read it either, and v6fix does not guess which IPv4 networks belong in it.

mod audit;
mod conf;
mod elem;
mod interfaces;
mod lists;
mod master;
mod mynetworks;
mod protocols;
mod state;

use conf::{Conf, Tables};
use elem::Elem;
use state::State;
use std::path::{Path, PathBuf};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, Args, Error, Host, Plugin, Result};

pub(crate) struct Postfix;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Postfix) }

const MAIN_CF: &str = "/etc/postfix/main.cf";
const MASTER_CF: &str = "/etc/postfix/master.cf";

/// Parameters whose values are network-pattern lists (postconf(5): IPv6 inside `[]`).
const NETWORK_LISTS: &[&str] = &[
    "mynetworks",
    "permit_mx_backup_networks",
    "debug_peer_list",
    "smtpd_authorized_xclient_hosts",
    "smtpd_authorized_xforward_hosts",
    "smtpd_authorized_verp_clients",
    "smtpd_sasl_exceptions_networks",
    "smtpd_client_event_limit_exceptions",
    "smtpd_forbid_bare_newline_exclusions",
    "postscreen_allowlist_interfaces",
    "postscreen_whitelist_interfaces",
];

impl Plugin for Postfix {
    fn name(&self) -> &'static str {
        "postfix"
    }

    fn about(&self) -> &'static str {
        "Postfix: inet_protocols, mynetworks (inline, /file lists, cidr tables), inet_interfaces, master.cf"
    }

    fn needs(&self) -> &'static [Need] {
        const NEEDS: &[Need] = &[
            Need::new(
                Fact::Networks,
                "A site network to trust for relaying (mynetworks), e.g. 2001:db8::/64",
            )
            .required(),
            Need::new(
                Fact::Address,
                "This host's IPv6 address: added where inet_interfaces names IPv4 addresses, and as smtp_bind_address6",
            ),
        ];
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        let Some(conf) = Conf::load(host)? else {
            return Ok(Vec::new());
        };
        let mut out = vec![PathBuf::from(MAIN_CF)];
        if host.exists(Path::new(MASTER_CF)) {
            out.push(PathBuf::from(MASTER_CF));
        }
        let mut tables = Tables::default();
        for name in NETWORK_LISTS {
            for e in conf.walk(name, &mut tables)? {
                if let Elem::File(p) | Elem::Cidr(p) = &e.elem {
                    if host.exists(p) && !out.contains(p) {
                        out.push(p.clone());
                    }
                }
            }
        }
        Ok(out)
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let Some(conf) = Conf::load(host)? else {
            let mut a = Analysis::new();
            a.invalid = Some(Error::invalid(
                host.display(Path::new(MAIN_CF)),
                None,
                "not found: Postfix is not installed (or not configured) under this root",
            ));
            return Ok(a);
        };
        let findings = conf.audit()?;
        let networks = &target.networks;
        let mut a = if networks.is_empty() {
            let mut a = Analysis::new();
            a.invalid = Some(Error::usage("--network is required"));
            a
        } else {
            let address = target.address();
            let mut st = State::new(&conf);
            let opened = if conf.inet_protocols(&mut st) {
                Some("IPv6 is now on".to_string())
            } else {
                conf.opens_v6_loopback()?
            };
            conf.fix_lists(&mut st)?;
            conf.mynetworks(&mut st, networks, opened.as_deref())?;
            conf.interfaces(&mut st, address.map(std::net::IpAddr::V6));
            conf.master(&mut st, address)?;
            st.finish()
        };
        for f in findings {
            a.finding(f);
        }
        Ok(a)
    }
}
