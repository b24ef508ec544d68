//! The findings and edits of the two lists, wherever they are written: a variable of
//! update-exim4.conf.conf or an option or macro of Exim's own configuration. Each
//! function reports what it finds at the list's place and returns the list's edits.

use super::lists::{self, Outcome, Reading};
use v6fix_core::dialect::exim::list;
use v6fix_core::endpoint::{self, Specific};
use v6fix_core::target::Target;
use v6fix_core::{Analysis, File, Host, Severity};

const FIX_NETWORK: &str = "v6fix exim4 --network PREFIX";
const FIX_ADDRESS: &str = "v6fix exim4 --network PREFIX --address ADDR";

/// Where a list is written: its file, the offset of its line, and its name as the admin
/// knows it (`dc_relay_nets`, `hostlist relay_from_hosts`, `MAIN_RELAY_NETS`).
pub(super) struct Place<'a> {
    pub(super) file: &'a File,
    pub(super) at: usize,
    pub(super) name: &'a str,
}

/// Reports each single-colon IPv6 word the edit repairs.
fn repaired(host: &Host, p: &Place, r: &[(String, String)], a: &mut Analysis) {
    for (bad, good) in r {
        a.find(
            host,
            p.file,
            p.at,
            Severity::Error,
            format!("{}: `{bad}` has single colons in a `:` list, so Exim reads it as several items (and misreads the items around it); write `{good}`", p.name),
            "v6fix exim4",
        );
        a.note(format!(
            "{}: {}: `{bad}` -> `{good}` (colons doubled: the list is `:`-separated)",
            host.locate(p.file, p.at),
            p.name
        ));
    }
}

/// The relay list: the site networks beside the IPv4 networks it trusts.
pub(super) fn relay(
    host: &Host,
    p: &Place,
    value: &str,
    reading: Reading,
    target: &Target,
    a: &mut Analysis,
) -> Outcome {
    let at = host.locate(p.file, p.at);
    if lists::relay_ipv4_only(&reading.read(value)) {
        a.find(
            host,
            p.file,
            p.at,
            Severity::Warning,
            format!("{} trusts IPv4 networks but no IPv6 network: the same clients are refused relaying (550 relay not permitted) once they use IPv6", p.name),
            FIX_NETWORK,
        );
    }
    let out = lists::relay(value, reading, &target.networks);
    repaired(host, p, &out.repaired, a);
    let l = reading.read(value);
    if lists::prefixes(&l).iter().all(|n| n.addr().is_loopback()) {
        a.note(format!(
            "{at}: {} trusts no network beyond this host: left alone",
            p.name
        ));
    }
    for n in &out.added {
        let why = if n == "::1" {
            "local clients reach Exim over ::1 as over 127.0.0.1"
        } else {
            "Exim relays for the site over IPv6 as it does over IPv4"
        };
        a.note(format!("{at}: {}: {n} added ({why})", p.name));
    }
    out
}

/// The interface list: `::1`, `::` or the host's address beside the IPv4 items. `None`
/// when the list is refused (several specific addresses would share one twin).
pub(super) fn interfaces(
    host: &Host,
    p: &Place,
    value: &str,
    reading: Reading,
    target: &Target,
    a: &mut Analysis,
) -> Option<Outcome> {
    let at = host.locate(p.file, p.at);
    if reading.read(value).items.is_empty() {
        a.note(format!(
            "{at}: {} is empty: Exim listens on every IPv4 and IPv6 address already",
            p.name
        ));
        return Some(Outcome::default());
    }
    let r = lists::interfaces(value, reading, target.address());
    repaired(host, p, &r.outcome.repaired, a);
    if let Some(address) = target.address() {
        let specific: Vec<Specific> = r
            .specific
            .iter()
            .map(|(ip, port, text)| Specific {
                ip: *ip,
                port: port.clone(),
                text: text.clone(),
                at: at.clone(),
            })
            .collect();
        if let Some(group) = endpoint::collapsing(&specific).first() {
            let msg = endpoint::collapse_message(group, address, &format!("`{address}`"));
            a.refuse(host, p.file, p.at, msg);
            return None;
        }
    }
    if !r.outcome.added.is_empty() || !r.need_address.is_empty() {
        let fix = if r.need_address.is_empty() {
            FIX_NETWORK
        } else {
            FIX_ADDRESS
        };
        a.find(
            host,
            p.file,
            p.at,
            Severity::Warning,
            format!("{} names IPv4 addresses without their IPv6 counterparts: Exim does not accept mail over IPv6 there", p.name),
            fix,
        );
    }
    for t in &r.need_address {
        a.warn(format!("{at}: {}: {t} is a specific IPv4 address; its IPv6 twin is this host's address: pass --address", p.name));
    }
    for n in &r.outcome.added {
        a.note(format!("{at}: {}: {n} added", p.name));
    }
    Some(r.outcome)
}

/// A host list Exim reads with `:` after the generator turned `;` into `:` (the
/// smarthost): an IPv6 literal with single colons is reported, not rewritten (v6fix does
/// not choose the mail route).
pub(super) fn hosts(host: &Host, p: &Place, value: &str, a: &mut Analysis) {
    for (span, good) in list::single_colon_ipv6(value) {
        let bad = &value[span];
        a.find(
            host,
            p.file,
            p.at,
            Severity::Error,
            format!(
                "{}: `{bad}` has single colons, so Exim reads it as several hosts; write `{good}`",
                p.name
            ),
            "",
        );
        a.warn(format!(
            "{}: {}: `{bad}` has single colons, so Exim reads it as several hosts; write `{good}` (left alone: v6fix does not change the mail route)",
            host.locate(p.file, p.at),
            p.name
        ));
    }
}
