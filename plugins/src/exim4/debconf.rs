//! `update-exim4.conf.conf`: the relay list, the interface list and the smarthost, as
//! Debian's generator hands them to Exim.

use super::lists::{self, Reading};
use v6fix_core::dialect::exim::debconf::{self, Doc, Line};
use v6fix_core::dialect::exim::list;
use v6fix_core::endpoint::{self, Specific};
use v6fix_core::target::Target;
use v6fix_core::{Analysis, File, Host, Result, Severity};

const FIX_NETWORK: &str = "v6fix exim4 --network PREFIX";
const FIX_ADDRESS: &str = "v6fix exim4 --network PREFIX --address ADDR";

pub(super) fn analyze(host: &Host, file: &File, target: &Target, a: &mut Analysis) -> Result<()> {
    let doc = debconf::parse(&file.text).map_err(|e| host.parse_error(file, e))?;
    for name in ["dc_relay_nets", "dc_local_interfaces", "dc_smarthost"] {
        if let Some(line) = doc.get(name) {
            let v = line.value.as_ref().expect("assignments have values");
            if v.dynamic {
                a.refuse(
                    host,
                    file,
                    v.span.start,
                    format!("found {name}=\"{}\", which the shell expands; expected a literal value (single quotes)", doc.raw(v)),
                );
            }
        }
    }
    if a.invalid.is_some() {
        return Ok(());
    }
    relay(host, file, &doc, target, a);
    interfaces(host, file, &doc, target, a);
    smarthost(host, file, &doc, a);
    Ok(())
}

/// Reports each single-colon IPv6 word the edit repairs.
fn repaired(
    host: &Host,
    file: &File,
    line: &Line,
    name: &str,
    r: &[(String, String)],
    a: &mut Analysis,
) {
    for (bad, good) in r {
        a.find(
            host,
            file,
            line.span.start,
            Severity::Error,
            format!("{name}: `{bad}` has single colons in a `:` list, so Exim reads it as several items (and misreads the items around it); write `{good}`"),
            "v6fix exim4",
        );
        a.note(format!(
            "{}: {name}: `{bad}` -> `{good}` (colons doubled: the list is `:`-separated)",
            host.locate(file, line.span.start)
        ));
    }
}

fn set(file: &File, line: &Line, new: &str, a: &mut Analysis) {
    let v = line.value.as_ref().expect("assignments have values");
    let (span, text) = debconf::requote(v, new);
    a.edits(file).replace(span, text);
}

fn relay(host: &Host, file: &File, doc: &Doc, target: &Target, a: &mut Analysis) {
    let Some(line) = doc.get("dc_relay_nets") else {
        return;
    };
    let value = doc.raw(line.value.as_ref().expect("assignments have values"));
    let l = list::read_debian(value);
    let at = host.locate(file, line.span.start);
    if lists::relay_ipv4_only(&l) {
        a.find(
            host,
            file,
            line.span.start,
            Severity::Warning,
            "dc_relay_nets trusts IPv4 networks but no IPv6 network: the same clients are refused relaying (550 relay not permitted) once they use IPv6".into(),
            FIX_NETWORK,
        );
    }
    let out = lists::relay(value, Reading::Debian, &target.networks);
    repaired(host, file, line, "dc_relay_nets", &out.repaired, a);
    if lists::prefixes(&l).iter().all(|p| p.addr().is_loopback()) {
        a.note(format!("{at}: dc_relay_nets trusts no network (relaying for this host only, which update-exim4.conf adds as 127.0.0.1 and ::1): left alone"));
    }
    for n in &out.added {
        a.note(format!("{at}: dc_relay_nets: {n} added (Exim relays for the site over IPv6 as it does over IPv4)"));
    }
    if let Some(new) = out.new {
        set(file, line, &new, a);
    }
}

fn interfaces(host: &Host, file: &File, doc: &Doc, target: &Target, a: &mut Analysis) {
    let Some(line) = doc.get("dc_local_interfaces") else {
        return;
    };
    let value = doc.raw(line.value.as_ref().expect("assignments have values"));
    let at = host.locate(file, line.span.start);
    if list::read_debian(value).items.is_empty() {
        a.note(format!("{at}: dc_local_interfaces is empty: Exim listens on every IPv4 and IPv6 address already"));
        return;
    }
    let r = lists::interfaces(value, Reading::Debian, target.address());
    repaired(
        host,
        file,
        line,
        "dc_local_interfaces",
        &r.outcome.repaired,
        a,
    );
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
            a.refuse(host, file, line.span.start, msg);
            return;
        }
    }
    let ipv4_only = !r.outcome.added.is_empty() || !r.need_address.is_empty();
    if ipv4_only {
        let fix = if r.need_address.is_empty() {
            FIX_NETWORK
        } else {
            FIX_ADDRESS
        };
        a.find(
            host,
            file,
            line.span.start,
            Severity::Warning,
            "dc_local_interfaces names IPv4 addresses without their IPv6 counterparts: Exim does not accept mail over IPv6 there".into(),
            fix,
        );
    }
    for t in &r.need_address {
        a.warn(format!("{at}: dc_local_interfaces: {t} is a specific IPv4 address; its IPv6 twin is this host's address: pass --address"));
    }
    for n in &r.outcome.added {
        a.note(format!("{at}: dc_local_interfaces: {n} added"));
    }
    if let Some(new) = r.outcome.new {
        set(file, line, &new, a);
    }
}

/// The smarthost list: the generator turns `;` into `:`, so an IPv6 literal needs its
/// colons doubled. Reported, not rewritten (v6fix does not choose the mail route).
fn smarthost(host: &Host, file: &File, doc: &Doc, a: &mut Analysis) {
    let Some(line) = doc.get("dc_smarthost") else {
        return;
    };
    let value = doc
        .raw(line.value.as_ref().expect("assignments have values"))
        .replace(';', ":");
    for (span, good) in list::single_colon_ipv6(&value) {
        let bad = &value[span];
        a.find(
            host,
            file,
            line.span.start,
            Severity::Error,
            format!("dc_smarthost: `{bad}` has single colons, so Exim reads it as several hosts; write `{good}`"),
            "",
        );
        a.warn(format!("{}: dc_smarthost: `{bad}` has single colons, so Exim reads it as several hosts; write `{good}` (left alone: v6fix does not change the mail route)", host.locate(file, line.span.start)));
    }
}
