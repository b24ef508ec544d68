//! `v6fix vsftpd`: vsftpd (`/etc/vsftpd.conf`) listening on both families.
//!
//! vsftpd has two standalone modes that exclude each other: `listen=YES` opens one IPv4
//! socket, `listen_ipv6=YES` one IPv6 socket, which on Linux serves IPv4 clients too.
//! With both on, vsftpd exits at start without a word. So:
//!
//! - `listen=YES` (IPv4 only) becomes `listen=NO` plus `listen_ipv6=YES` (the value of an
//!   existing `listen_ipv6` line is changed, else the line is added after `listen`), and
//!   `listen=YES` together with `listen_ipv6=YES` gets the same fix;
//! - a specific `listen_address` (IPv4) or `listen_address6` is left alone: one vsftpd
//!   binds one family on a specific address, and `listen_ipv6=YES` ignores
//!   `listen_address`, so converting would open every address. Both families on specific
//!   addresses need a second instance, which v6fix says and does not guess;
//! - with neither mode on, inetd owns the socket: left alone, said so.
//!
//! vsftpd has no config checker: the booleans and addresses this plugin reads are checked
//! the way vsftpd checks them, and a value vsftpd stops on is refused at its place.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use v6fix_core::dialect::vsftpd::{self, parse_bool, spell_bool, Doc};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::text::Span;
use v6fix_core::{Analysis, Args, File, Host, MainFile, Plugin, Result, Severity};

const MAIN: MainFile = MainFile::new("/etc/vsftpd.conf", "vsftpd");

/// The command that fixes what this plugin finds.
const FIX: &str = "v6fix vsftpd";

pub(crate) struct Vsftpd;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Vsftpd) }

static NEEDS: &[Need] = &[Need::new(
    Fact::Address,
    "This host's IPv6 address, named in the advice for a listen_address on one IPv4 address",
)];

/// A setting's last line: its item, value span and value.
struct Set {
    item: usize,
    span: Span,
    value: String,
}

fn last(doc: &Doc, name: &str) -> Option<Set> {
    doc.last(name).map(|(item, span)| Set {
        item,
        value: doc.src[span.clone()].to_string(),
        span,
    })
}

/// The boolean `name` as vsftpd reads it (default off); refuses a value vsftpd stops on.
fn boolean(file: &File, doc: &Doc, name: &str, a: &mut Analysis) -> Option<Set> {
    let s = last(doc, name)?;
    if parse_bool(&s.value).is_none() {
        a.refuse(
            file,
            s.span.start,
            format!(
                "{name}=`{}`: vsftpd stops at start on a boolean that is not YES, NO, TRUE, FALSE, 1 or 0 \
                 (blanks and a `\\r` count: vsftpd trims nothing)",
                v6fix_core::text::shown(&s.value).replace('\r', "\\r")
            ),
        );
        return None;
    }
    Some(s)
}

fn on(s: &Option<Set>) -> bool {
    s.as_ref()
        .and_then(|s| parse_bool(&s.value))
        .unwrap_or(false)
}

/// A listen address: unset (or empty), the wildcard, or one address.
enum Addr {
    Any,
    One(IpAddr),
}

/// `listen_address` (IPv4) or `listen_address6` (IPv6) as vsftpd reads it when its mode is
/// on; refuses what vsftpd stops on (a name, the other family).
fn address(file: &File, doc: &Doc, name: &str, v6: bool, a: &mut Analysis) -> (Addr, Option<Set>) {
    let Some(s) = last(doc, name) else {
        return (Addr::Any, None);
    };
    if s.value.is_empty() {
        return (Addr::Any, Some(s));
    }
    let ip = if v6 {
        s.value.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        s.value.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    };
    match ip {
        Some(ip) if ip.is_unspecified() => (Addr::Any, Some(s)),
        Some(ip) => (Addr::One(ip), Some(s)),
        None => {
            a.refuse(
                file,
                s.span.start,
                format!(
                    "{name}=`{}`: vsftpd stops at start: it wants a numeric {} address, without brackets",
                    v6fix_core::text::shown(&s.value),
                    if v6 { "IPv6" } else { "IPv4" }
                ),
            );
            (Addr::Any, Some(s))
        }
    }
}

/// The advice for a listener on one address: what a second instance must say.
fn second_instance(ip: IpAddr, address: Option<Ipv6Addr>) -> String {
    let other = match (ip, address) {
        (IpAddr::V4(v4), _) if v4.is_loopback() => {
            "listen=NO, listen_ipv6=YES and listen_address6=::1".to_string()
        }
        (IpAddr::V4(_), Some(a)) => format!("listen=NO, listen_ipv6=YES and listen_address6={a}"),
        (IpAddr::V4(_), None) => {
            "listen=NO, listen_ipv6=YES and listen_address6=<this host's IPv6 address>".to_string()
        }
        (IpAddr::V6(v6), _) if v6.is_loopback() => {
            "listen=YES and listen_address=127.0.0.1".to_string()
        }
        (IpAddr::V6(_), _) => {
            "listen=YES and listen_address=<this host's IPv4 address>".to_string()
        }
    };
    format!(
        "one vsftpd binds one family on a specific address, so both families need a second \
         instance: a copy of vsftpd.conf with {other} (and its own pid and log files), \
         started beside this one; left alone"
    )
}

impl Plugin for Vsftpd {
    fn name(&self) -> &'static str {
        "vsftpd"
    }

    fn about(&self) -> &'static str {
        "vsftpd: listen_ipv6=YES (both families) instead of listen=YES (IPv4 only)"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        MAIN.files(host)
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let mut a = Analysis::new();
        let Some((file, doc)) = MAIN.read(host, vsftpd::parse, &mut a)? else {
            return Ok(a);
        };
        let listen = boolean(&file, &doc, "listen", &mut a);
        let listen6 = boolean(&file, &doc, "listen_ipv6", &mut a);
        if a.invalid.is_some() {
            return Ok(a);
        }
        let (v4, v6) = (on(&listen), on(&listen6));
        let at = |s: &Set| doc.items[s.item].span.start;

        if !v4 && !v6 {
            a.note_at(
                &file,
                0,
                "listen and listen_ipv6 are off (or unset): vsftpd runs from inetd, which owns \
                 the listening socket and must listen on IPv6 too; left alone",
            );
            return Ok(a);
        }
        if !v4 {
            // listen_ipv6=YES alone: one IPv6 socket that serves both families.
            let listen6 = listen6.expect("on");
            let (addr6, set6) = address(&file, &doc, "listen_address6", true, &mut a);
            let (_, set4) = address(&file, &doc, "listen_address", false, &mut a);
            let ignored = set4
                .as_ref()
                .filter(|s| !s.value.is_empty() && s.value != "0.0.0.0");
            if let (Some(s), Addr::Any) = (ignored, &addr6) {
                a.lasting(
                    &file,
                    doc.items[s.item].span.start,
                    Severity::Warning,
                    format!(
                        "listen_address={} is ignored with listen_ipv6=YES: vsftpd listens on every \
                         address of both families; set listen_address6 to limit it",
                        s.value
                    ),
                    "",
                );
            }
            match addr6 {
                Addr::One(ip) => {
                    let s = set6.expect("set");
                    a.lasting(
                        &file,
                        at(&s),
                        Severity::Warning,
                        format!(
                            "listen_address6={ip}: vsftpd listens on one IPv6 address, so IPv4 clients \
                             are not served; {}",
                            second_instance(ip, target.address())
                        ),
                        "",
                    );
                }
                Addr::Any => a.note_at(
                    &file,
                    at(&listen6),
                    "listen_ipv6=YES: vsftpd listens on IPv6 and IPv4 (one socket, both families); left alone",
                ),
            }
            return Ok(a);
        }

        // listen=YES: IPv4 only, or (with listen_ipv6=YES too) not started at all.
        let listen = listen.expect("on");
        let (addr4, set4) = address(&file, &doc, "listen_address", false, &mut a);
        let (addr6, set6) = address(&file, &doc, "listen_address6", true, &mut a);
        if a.invalid.is_some() {
            return Ok(a);
        }
        let both = v6;
        let start = doc.items[listen.item].span.start;
        let specific = match (&addr4, &addr6) {
            (Addr::One(ip), _) => Some((*ip, set4.as_ref().expect("set"))),
            (_, Addr::One(ip)) => Some((*ip, set6.as_ref().expect("set"))),
            _ => None,
        };
        if let Some((ip, s)) = specific {
            if both {
                a.refuse(
                    &file,
                    start,
                    format!(
                        "listen=YES and listen_ipv6=YES are both on, which vsftpd refuses to start with; \
                         with {}={ip} set, v6fix cannot tell which family was meant: turn one of them off",
                        if ip.is_ipv4() { "listen_address" } else { "listen_address6" }
                    ),
                );
                return Ok(a);
            }
            if ip.is_ipv6() {
                // listen=YES ignores listen_address6; turning IPv6 on would bind only it.
                a.lasting(
                    &file,
                    at(s),
                    Severity::Warning,
                    format!(
                        "listen_address6={ip} with listen=YES: vsftpd listens on IPv4 only, and \
                         listen_ipv6=YES would bind {ip} only and drop IPv4 clients, so it is left \
                         alone; remove listen_address6 for every address of both families, or run a \
                         second instance with listen=NO, listen_ipv6=YES and listen_address6={ip}"
                    ),
                    "",
                );
                return Ok(a);
            }
            a.lasting(
                &file,
                at(s),
                Severity::Warning,
                format!(
                    "listen_address={ip} with listen=YES: vsftpd listens on one IPv4 address, so IPv6 \
                     clients are not served; {}",
                    second_instance(ip, target.address())
                ),
                "",
            );
            return Ok(a);
        }

        let (sev, why) = if both {
            (
                Severity::Error,
                "listen=YES and listen_ipv6=YES are both on: vsftpd exits at start without a message",
            )
        } else {
            (
                Severity::Warning,
                "listen=YES: vsftpd listens on IPv4 only (listen_ipv6=YES serves both families)",
            )
        };
        a.find(&file, start, sev, why.to_string(), FIX);
        let e = a.edits(&file);
        e.replace(listen.span.clone(), spell_bool(false, &listen.value));
        match &listen6 {
            Some(_) if v6 => {}
            Some(s) => e.replace(s.span.clone(), spell_bool(true, &s.value)),
            None => doc.insert_after(
                e,
                listen.item,
                &format!("listen_ipv6={}", spell_bool(true, &listen.value)),
            ),
        }
        a.note_at(
            &file,
            start,
            if both {
                "listen=YES beside listen_ipv6=YES stopped vsftpd at start: listen is now NO, so \
                 the IPv6 socket serves both families"
            } else {
                "listen=YES (one IPv4 socket) is now listen=NO with listen_ipv6=YES: one IPv6 socket \
                 that serves IPv4 clients too (the two modes exclude each other)"
            },
        );
        if let Some(s) = set4.filter(|s| !s.value.is_empty()) {
            a.note_at(
                &file,
                at(&s),
                format!(
                    "listen_address={} (every IPv4 address) is ignored with listen_ipv6=YES, which \
                     binds every address of both families; left in place",
                    s.value
                ),
            );
        }
        a.restart(
            "vsftpd",
            "restart",
            "systemctl restart vsftpd",
            "vsftpd opens its listening socket only at start; logged-in sessions are processes of \
             their own and survive the restart",
        );
        Ok(a)
    }
}
