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
fn repaired(p: &Place, r: &[(String, String)], a: &mut Analysis) {
    for (bad, good) in r {
        a.find(
            p.file,
            p.at,
            Severity::Error,
            format!("{}: `{bad}` has single colons in a `:` list, so Exim reads it as several items (and misreads the items around it); write `{good}`", p.name),
            "v6fix exim4",
        );
        a.note_at(
            p.file,
            p.at,
            format!(
                "{}: `{bad}` -> `{good}` (colons doubled: the list is `:`-separated)",
                p.name
            ),
        );
    }
}

/// The relay list: the site networks beside the IPv4 networks it trusts.
pub(super) fn relay(
    p: &Place,
    value: &str,
    reading: Reading,
    target: &Target,
    a: &mut Analysis,
) -> Outcome {
    let l = reading.read(value);
    if lists::relay_ipv4_only(&l) {
        a.find(
            p.file,
            p.at,
            Severity::Warning,
            format!("{} trusts IPv4 networks but no IPv6 network: the same clients are refused relaying (550 relay not permitted) once they use IPv6", p.name),
            FIX_NETWORK,
        );
    }
    let out = lists::relay(value, reading, &target.networks);
    repaired(p, &out.repaired, a);
    if lists::prefixes(&l).iter().all(|n| n.addr().is_loopback()) {
        a.note_at(
            p.file,
            p.at,
            format!(
                "{} trusts no network beyond this host: no site network added",
                p.name
            ),
        );
    }
    for n in &out.added {
        let why = if n == "::1" {
            "local clients reach Exim over ::1 as over 127.0.0.1"
        } else {
            "Exim relays for the site over IPv6 as it does over IPv4"
        };
        a.note_at(p.file, p.at, format!("{}: {n} added ({why})", p.name));
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
    if reading.read(value).items.is_empty() {
        a.note_at(
            p.file,
            p.at,
            format!(
                "{} is empty: Exim listens on every IPv4 and IPv6 address already",
                p.name
            ),
        );
        return Some(Outcome::default());
    }
    let r = lists::interfaces(value, reading, target.address());
    repaired(p, &r.outcome.repaired, a);
    if let Some(address) = target.address() {
        let at = host.locate(p.file, p.at);
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
            a.refuse(p.file, p.at, msg);
            return None;
        }
    }
    let unpaired = format!(
        "{} names IPv4 addresses without their IPv6 counterparts: Exim does not accept mail over IPv6 there",
        p.name
    );
    if !r.need_address.is_empty() {
        // The run cannot pair these without the host's address: the problem stays.
        a.lasting(p.file, p.at, Severity::Warning, unpaired, FIX_ADDRESS);
    } else if !r.outcome.added.is_empty() {
        a.find(p.file, p.at, Severity::Warning, unpaired, FIX_NETWORK);
    }
    for n in &r.outcome.added {
        a.note_at(p.file, p.at, format!("{}: {n} added", p.name));
    }
    Some(r.outcome)
}

/// A host list Exim reads with `:` after the generator turned `;` into `:` (the
/// smarthost): an IPv6 literal with single colons is reported, not rewritten (v6fix does
/// not choose the mail route).
pub(super) fn hosts(p: &Place, value: &str, a: &mut Analysis) {
    for (span, good) in list::single_colon_ipv6(value) {
        let bad = &value[span];
        a.lasting(
            p.file,
            p.at,
            Severity::Error,
            format!("{}: `{bad}` has single colons, so Exim reads it as several hosts; write `{good}` (v6fix does not change the mail route)", p.name),
            "",
        );
    }
}
