//! `listen-on-v6` beside `listen-on`, port by port.

use super::conf::{Conf, Ctx, Placed};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};
use v6fix_core::dialect::bind::{element, Elem, Entry, Stmt};
use v6fix_core::{Analysis, Severity};

/// What named should listen on over IPv6 for one port, from its IPv4 `listen-on`s.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Want {
    /// Every address (`listen-on { any; }`, or no listen-on at all).
    Any,
    /// These addresses (`::1` for loopback); `needs_address` when a specific IPv4
    /// address wants this host's IPv6 address, which was not given.
    Hosts {
        hosts: Vec<Ipv6Addr>,
        needs_address: bool,
    },
    /// Nothing (`none`).
    Nothing,
}

/// One listen statement of `options`: its port and its elements.
struct Listen<'a> {
    file: usize,
    stmt: &'a Stmt,
    /// Whether it names its port (`listen-on port 53 { … }`).
    explicit: bool,
}

const FIX: &str = "v6fix bind9 --address ADDR";

const ANY_BY_DEFAULT: &str =
    "named listens on every IPv6 address already (no listen-on-v6: named's default is { any; })";

/// Plans the listen-on-v6 edits; true when a file changes.
pub(super) fn plan(
    conf: &Conf,
    stmts: &[Placed<'_>],
    address: Option<Ipv6Addr>,
    a: &mut Analysis,
) -> bool {
    let options: Vec<&Placed<'_>> = stmts.iter().filter(|p| p.ctx == Ctx::Options).collect();
    let kw = |p: &Placed<'_>| p.stmt.keyword(&conf.file(p.file).1.src).unwrap_or_default();
    // The `port` option is the default port of listen statements without one.
    let default_port = options
        .iter()
        .find(|p| kw(p) == "port")
        .and_then(|p| p.stmt.head_values(&conf.file(p.file).1.src).get(1).cloned())
        .unwrap_or_else(|| "53".to_string());
    let mut v4: BTreeMap<String, Vec<Listen<'_>>> = BTreeMap::new();
    let mut v6: BTreeMap<String, Vec<Listen<'_>>> = BTreeMap::new();
    let mut any_v6 = false;
    for p in &options {
        let k = kw(p);
        let map = match k.as_str() {
            "listen-on" => &mut v4,
            "listen-on-v6" => {
                any_v6 = true;
                &mut v6
            }
            _ => continue,
        };
        let (file, doc) = conf.file(p.file);
        let head = p.stmt.head_values(&doc.src);
        let (port, explicit) = match head.as_slice() {
            [_] => (default_port.clone(), false),
            [_, w, port] if w.eq_ignore_ascii_case("port") => (port.clone(), true),
            _ => {
                a.note_at(
                    file,
                    p.stmt.span.start,
                    format!("{k} with options other than a port (tls, http, proxy): left alone"),
                );
                continue;
            }
        };
        map.entry(port).or_default().push(Listen {
            file: p.file,
            stmt: p.stmt,
            explicit,
        });
    }
    // Without any listen-on, named listens on every IPv4 address of the default port.
    let mut ports: Vec<String> = v4.keys().cloned().collect();
    if v4.is_empty() {
        ports.push(default_port.clone());
    }
    let mut changed = false;
    for port in ports {
        let want = match v4.get(&port) {
            None => Want::Any,
            Some(ls) => match want_of(conf, ls, address) {
                Ok(w) => w,
                Err((fi, at, what)) => {
                    let (file, _) = conf.file(fi);
                    a.warn_at(
                        file,
                        at,
                        format!(
                            "listen-on: {what}: v6fix does not map it to IPv6; listen-on-v6 for port {port} left alone"
                        ),
                    );
                    continue;
                }
            },
        };
        if want == Want::Nothing {
            continue;
        }
        let v6s = v6.get(&port).map(Vec::as_slice).unwrap_or(&[]);
        if v6s.is_empty() {
            changed |= missing(
                conf,
                v4.get(&port),
                &port,
                &default_port,
                any_v6,
                &want,
                address,
                a,
            );
        } else {
            changed |= present(conf, v6s, &port, &want, address, a);
        }
    }
    changed
}

/// What the IPv4 listen statements of one port want on IPv6; an element v6fix does not
/// map is an error: its file, offset and text.
fn want_of(
    conf: &Conf,
    ls: &[Listen<'_>],
    address: Option<Ipv6Addr>,
) -> Result<Want, (usize, usize, String)> {
    let mut hosts = Vec::new();
    let mut needs_address = false;
    let mut nothing = true;
    for l in ls {
        let (_, doc) = conf.file(l.file);
        let Some(b) = l.stmt.block() else { continue };
        for s in &b.stmts {
            let unmapped = || {
                (
                    l.file,
                    s.span.start,
                    format!(
                        "`{}`",
                        doc.src[s.span.clone()].trim_end_matches(';').trim_end()
                    ),
                )
            };
            match element(&doc.src, s).map_err(|_| unmapped())? {
                (false, Entry::Name(n)) if n == "any" => return Ok(Want::Any),
                (false, Entry::Name(n)) if n == "none" => {}
                (false, Entry::Prefix(p)) if !p.is_ipv6() && p.is_host() => {
                    nothing = false;
                    let IpAddr::V4(ip) = p.addr() else {
                        unreachable!("IPv4 checked")
                    };
                    if ip.is_unspecified() {
                        return Ok(Want::Any);
                    }
                    let twin = if ip.is_loopback() {
                        Some(Ipv6Addr::LOCALHOST)
                    } else {
                        needs_address |= address.is_none();
                        address
                    };
                    if let Some(t) = twin.filter(|t| !hosts.contains(t)) {
                        hosts.push(t);
                    }
                }
                _ => return Err(unmapped()),
            }
        }
    }
    Ok(if nothing {
        Want::Nothing
    } else {
        Want::Hosts {
            hosts,
            needs_address,
        }
    })
}

fn render(want: &Want) -> String {
    match want {
        Want::Any => "any".to_string(),
        Want::Hosts { hosts, .. } => hosts
            .iter()
            .map(Ipv6Addr::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        Want::Nothing => "none".to_string(),
    }
}

/// No listen-on-v6 for this port.
#[allow(clippy::too_many_arguments)]
fn missing(
    conf: &Conf,
    v4: Option<&Vec<Listen<'_>>>,
    port: &str,
    default_port: &str,
    any_v6: bool,
    want: &Want,
    address: Option<Ipv6Addr>,
    a: &mut Analysis,
) -> bool {
    // named's default is `listen-on-v6 { any; };` on the default port, when no
    // listen-on-v6 is written at all.
    let implicit_any = !any_v6 && port == default_port;
    let Some(last) = v4.and_then(|v| v.last()) else {
        if implicit_any {
            a.note(ANY_BY_DEFAULT);
        } else {
            // No listen-on at all (IPv4 on every address of this port), and listen-on-v6
            // only for other ports: there is no statement to put the twin beside.
            a.warn(format!(
                "named listens on every IPv4 address of port {port} but on IPv6 only on other \
                 ports; add `listen-on-v6 {{ any; }};` to options by hand"
            ));
        }
        return false;
    };
    let (file, doc) = conf.file(last.file);
    let at = last.stmt.span.start;
    if implicit_any && *want == Want::Any {
        a.note(ANY_BY_DEFAULT);
        return false;
    }
    let no_twin = format!(
        "listen-on port {port} has no listen-on-v6 twin: named does not answer on IPv6 there"
    );
    if let Want::Hosts {
        needs_address: true,
        ..
    } = want
    {
        if implicit_any {
            a.note_at(
                file,
                at,
                "listen-on names specific IPv4 addresses while named listens on every IPv6 address \
                 (its default); give --address ADDR to listen on this host's IPv6 address alone",
            );
        } else {
            a.lasting(file, at, Severity::Warning, no_twin, FIX);
        }
        return false;
    }
    if !implicit_any {
        a.find(file, at, Severity::Warning, no_twin, FIX);
    }
    let port_words = if last.explicit {
        format!(" port {port}")
    } else {
        String::new()
    };
    let text = format!("listen-on-v6{port_words} {{ {}; }};", render(want));
    doc.insert_stmt_after(a.edits(file), last.stmt, &text);
    let why = if address.is_some() && implicit_any {
        " (named listened on every IPv6 address; now on the IPv6 twins of listen-on's addresses)"
    } else {
        ""
    };
    a.note_at(file, at, format!("added `{text}` beside listen-on{why}"));
    true
}

/// listen-on-v6 statements exist for this port.
fn present(
    conf: &Conf,
    v6s: &[Listen<'_>],
    port: &str,
    want: &Want,
    address: Option<Ipv6Addr>,
    a: &mut Analysis,
) -> bool {
    let mut have: Vec<Ipv6Addr> = Vec::new();
    let mut none = None;
    let mut last = None;
    for l in v6s {
        let (file, doc) = conf.file(l.file);
        let Some(b) = l.stmt.block() else { continue };
        for s in &b.stmts {
            match element(&doc.src, s) {
                Ok((false, Entry::Name(n))) if n == "any" => return false,
                Ok((false, Entry::Name(n))) if n == "none" => none = Some((l, s)),
                Ok((false, Entry::Prefix(p))) if p.is_ipv6() && p.is_host() => {
                    if let IpAddr::V6(ip) = p.addr() {
                        have.push(ip);
                    }
                    last = Some((l, s));
                }
                _ => {
                    a.warn_at(
                        file,
                        s.span.start,
                        format!(
                            "listen-on-v6: `{}`: v6fix does not edit a list with networks, names or negations; left alone",
                            doc.src[s.span.clone()].trim_end_matches(';').trim_end()
                        ),
                    );
                    return false;
                }
            }
        }
    }
    match (last, none) {
        (None, Some((l, s))) => {
            let (file, _) = conf.file(l.file);
            let message =
                format!("listen-on-v6 port {port} is {{ none; }}: named does not answer on IPv6");
            if let Want::Hosts {
                needs_address: true,
                ..
            } = want
            {
                // listen-on names specific IPv4 addresses: v6fix does not guess their twin.
                a.lasting(file, s.span.start, Severity::Warning, message, FIX);
                return false;
            }
            a.find(file, s.span.start, Severity::Warning, message, FIX);
            let Some(Elem::Tok(t)) = s.elems.first() else {
                return false;
            };
            a.edits(file).replace(t.span.clone(), render(want));
            a.note_at(
                file,
                s.span.start,
                format!("listen-on-v6 {{ none; }} -> {{ {}; }}", render(want)),
            );
            true
        }
        (Some((l, s)), _) => {
            let (file, doc) = conf.file(l.file);
            let wanted: Vec<Ipv6Addr> = match want {
                Want::Hosts { hosts, .. } => hosts.clone(),
                _ => address.into_iter().collect(),
            };
            let add: Vec<String> = wanted
                .iter()
                .filter(|w| !have.contains(w))
                .map(Ipv6Addr::to_string)
                .collect();
            if add.is_empty() {
                return false;
            }
            for t in &add {
                doc.insert_element_after(a.edits(file), s, &format!("{t};"));
            }
            a.note_at(
                file,
                l.stmt.span.start,
                format!("listen-on-v6: added {}", add.join(", ")),
            );
            true
        }
        (None, None) => false,
    }
}
