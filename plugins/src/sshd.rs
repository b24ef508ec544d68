//! `v6fix sshd`: IPv6 listen addresses and `AddressFamily any` for OpenSSH.
//!
//! With no `ListenAddress` and `AddressFamily any` (the default) sshd listens on
//! `0.0.0.0` and `::` already; that is left alone. What is changed:
//!
//! - `AddressFamily inet` becomes `any` in every file of the include set. For most
//!   keywords the first value wins, and Debian includes `/etc/ssh/sshd_config.d/*.conf`
//!   at the top, so a drop-in's value overrides the main file; changing every one keeps a
//!   later edit from bringing IPv4-only back.
//! - `ListenAddress 0.0.0.0` gains `ListenAddress ::` (sshd sets IPV6_V6ONLY, so both
//!   are needed); `ListenAddress 192.0.2.10` gains `ListenAddress --address`;
//!   `ListenAddress 127.0.0.1` gains `::1`. A port or `rdomain` is copied, and an IPv6
//!   address with a port is written `[ADDR]:PORT`: unbracketed, sshd would read the port
//!   as part of the address.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use v6fix_core::config_set::{ConfigSet, Include, Missing};
use v6fix_core::dialect::sshd::{self, Doc};
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, Args, Error, File, Host, MainFile, Plugin, Result, Severity};

pub(crate) struct Sshd;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Sshd) }

const DIR: &str = "/etc/ssh";
const MAIN: MainFile = MainFile::new("/etc/ssh/sshd_config", "the OpenSSH server");

static NEEDS: &[Need] = &[Need::new(
    Fact::Address,
    "This host's IPv6 address: the twin of a ListenAddress on a specific IPv4 address",
)];

impl Plugin for Sshd {
    fn name(&self) -> &'static str {
        "sshd"
    }

    fn about(&self) -> &'static str {
        "OpenSSH server: AddressFamily any, IPv6 twins for IPv4 ListenAddress lines"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok(match Conf::load(host)? {
            Some(c) => c.files.iter().map(|(f, _)| f.path.clone()).collect(),
            None => Vec::new(),
        })
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let Some(conf) = Conf::load(host)? else {
            return Ok(MAIN.absent(host));
        };
        let mut a = analyze(host, &conf, target.address());
        a.restart(
            "ssh",
            "restart",
            "sshd -t && systemctl restart ssh",
            "listen addresses are bound at start; logged-in SSH connections run in their own processes \
             and survive the restart; sshd -t first, because a bad config stops new logins",
        );
        Ok(a)
    }
}

/// The files sshd reads, and its directives in the order it reads them.
struct Conf {
    files: Vec<(File, Doc)>,
    /// (file, item) of every directive, includes expanded where they stand.
    order: Vec<(usize, usize)>,
    /// Includes that matched nothing.
    notes: Vec<String>,
}

impl Conf {
    fn load(host: &Host) -> Result<Option<Conf>> {
        let Some(set) = ConfigSet::load(
            host,
            "sshd",
            Path::new(MAIN.path),
            sshd::parse,
            |_, doc: &Doc| {
                let mut out = Vec::new();
                for (i, it) in doc.items().iter().enumerate() {
                    if it.kind != sshd::Kind::Directive || !it.is("Include") {
                        continue;
                    }
                    // sshd expands each argument with glob(3), relative to /etc/ssh, and goes
                    // on when one matches nothing.
                    for a in &it.args {
                        let pat = a.unquoted();
                        out.push(
                            Include::new(
                                i,
                                it.span.start,
                                format!("{} {pat}", it.keyword),
                                pat,
                                DIR,
                            )
                            .missing(Missing::Note),
                        );
                    }
                }
                out
            },
        )?
        else {
            return Ok(None);
        };
        // sshd reads a byte order mark as part of the first keyword and rejects the file
        // (`Bad configuration option: \357\273\277Port`): say so rather than convert it.
        if let Some(m) = set.files.iter().find(|m| m.file.bom) {
            return Err(v6fix_core::Error::Parse {
                path: m.file.shown.clone(),
                at: v6fix_core::text::LineCol { line: 1, col: 1 },
                found: "a UTF-8 byte order mark".into(),
                expected: "a keyword or a comment at the start of the file (sshd reads the mark as part of the first keyword and rejects the file; remove the mark)".into(),
            });
        }
        // Directives in the order sshd reads them, each file where it is first included.
        fn expand(
            set: &ConfigSet<Doc>,
            fi: usize,
            done: &mut [bool],
            order: &mut Vec<(usize, usize)>,
        ) {
            done[fi] = true;
            for (i, it) in set.files[fi].doc.items().iter().enumerate() {
                if it.kind != sshd::Kind::Directive {
                    continue;
                }
                order.push((fi, i));
                for j in set.included(fi, i) {
                    if !done[j] {
                        expand(set, j, done, order);
                    }
                }
            }
        }
        let mut order = Vec::new();
        expand(&set, 0, &mut vec![false; set.files.len()], &mut order);
        let notes = set.notes;
        let files = set.files.into_iter().map(|m| (m.file, m.doc)).collect();
        Ok(Some(Conf {
            files,
            order,
            notes,
        }))
    }
}

/// A ListenAddress value, read the way sshd reads it: `[a]:p`, `[a]`, `a:p` (IPv4 or
/// name), or a bare address; an unbracketed IPv6 literal is an address without port. A
/// word that is no address is a name to sshd.
fn read_listen(text: &str) -> Endpoint {
    // sshd has no bare-port form: `ListenAddress 0` is a host getaddrinfo reads in IPv4's
    // short forms (0.0.0.0), so a word of digits alone is a name v6fix leaves alone.
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Endpoint {
            bind: Bind::Name(text.to_string()),
            port: None,
            bracketed: None,
        };
    }
    Endpoint::parse(text, &Spelling::PLAIN).unwrap_or_else(|_| Endpoint {
        bind: Bind::Name(text.to_string()),
        port: None,
        bracketed: None,
    })
}

/// An unbracketed IPv6 literal whose last group could be meant as a port: sshd reads
/// `2001:db8::1:2222` as one address, while `2001:db8::1` would be an address too.
fn ambiguous_port(text: &str) -> Option<(&str, &str)> {
    let (h, p) = text.rsplit_once(':')?;
    let digits = !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    (digits && text.parse::<Ipv6Addr>().is_ok() && h.parse::<Ipv6Addr>().is_ok()).then_some((h, p))
}

const FIX_PLAIN: &str = "v6fix sshd";
const FIX_ADDRESS: &str = "v6fix sshd --address ADDR";

fn analyze(host: &Host, conf: &Conf, address: Option<Ipv6Addr>) -> Analysis {
    let mut a = Analysis::new();
    for n in &conf.notes {
        a.note(n.clone());
    }
    // AddressFamily: the first value sshd reads wins.
    let mut first = true;
    let mut family_inet = false;
    for &(fi, i) in &conf.order {
        let (file, doc) = &conf.files[fi];
        let it = &doc.items()[i];
        if !it.is("AddressFamily") || it.in_match.is_some() {
            continue;
        }
        let Some(v) = it.args.first() else { continue };
        let value = v.unquoted().to_ascii_lowercase();
        if value == "inet" {
            a.edits(file).replace(v.span.clone(), "any");
            let (sev, why) = if first {
                family_inet = true;
                (
                    Severity::Warning,
                    "sshd accepts IPv4 connections only".to_string(),
                )
            } else {
                (
                    Severity::Info,
                    "an earlier AddressFamily wins, but this one would keep sshd IPv4-only without it"
                        .to_string(),
                )
            };
            a.note_at(
                file,
                it.span.start,
                format!(
                    "AddressFamily inet -> any{}",
                    if first {
                        " (this is the value sshd uses: the first one read wins)"
                    } else {
                        " (an earlier value wins now; changed so it cannot come back)"
                    }
                ),
            );
            a.find(
                file,
                it.span.start,
                sev,
                format!("AddressFamily inet: {why}"),
                FIX_PLAIN,
            );
        } else if value == "inet6" && first {
            a.warn_at(
                file,
                it.span.start,
                "AddressFamily inet6 makes sshd IPv6-only; left alone",
            );
        }
        first = false;
    }
    // ListenAddress lines (never inside Match: sshd refuses them there).
    let mut listens = Vec::new();
    for &(fi, i) in &conf.order {
        let (file, doc) = &conf.files[fi];
        let it = &doc.items()[i];
        if !it.is("ListenAddress") {
            continue;
        }
        let Some(w) = it.args.first() else { continue };
        if it.in_match.is_some() {
            let msg = "ListenAddress is not allowed inside a Match block (sshd -t refuses it)";
            a.find(file, it.span.start, Severity::Error, msg.to_string(), "");
            if a.invalid.is_none() {
                a.invalid = Some(Error::invalid(
                    host.display(&file.path),
                    Some(file.line_col(it.span.start)),
                    msg,
                ));
            }
            continue;
        }
        let t = w.unquoted();
        if let Some((h, p)) = ambiguous_port(t) {
            a.lasting(
                file,
                it.span.start,
                Severity::Info,
                format!("ListenAddress {t} is read by sshd as the address {t} on the Port; if :{p} is meant as the port, write [{h}]:{p}"),
                "",
            );
        }
        listens.push((fi, i, read_listen(t)));
    }
    // A ListenAddress without a port stands for every Port (22 when none is set).
    let mut ports: Vec<String> = Vec::new();
    for &(fi, i) in &conf.order {
        let it = &conf.files[fi].1.items()[i];
        if it.is("Port") && it.in_match.is_none() {
            ports.extend(it.args.first().map(|a| a.unquoted().to_string()));
        }
    }
    if ports.is_empty() {
        ports.push("22".to_string());
    }
    let expand = |port: &Option<String>| -> Vec<String> {
        match port {
            Some(p) => vec![p.clone()],
            None => ports.clone(),
        }
    };
    // Every (address, port) some ListenAddress binds, a portless one on every Port: looked
    // up once per line, so many ListenAddress lines stay linear.
    let mut bound: HashSet<(Option<IpAddr>, String)> = HashSet::new();
    for (_, _, l) in &listens {
        for p in expand(&l.port) {
            bound.insert((l.ip(), p));
        }
    }
    let has =
        |bound: &HashSet<(Option<IpAddr>, String)>, ip: Option<IpAddr>, port: &Option<String>| {
            expand(port).into_iter().all(|p| bound.contains(&(ip, p)))
        };
    // The ports (as written) some non-loopback IPv6 ListenAddress already has.
    let v6_ports: HashSet<&Option<String>> = listens
        .iter()
        .filter(|(_, _, l)| matches!(l.bind, Bind::V6(v) if !v.is_loopback()))
        .map(|(_, _, l)| &l.port)
        .collect();
    if listens.is_empty() {
        a.note(format!(
            "no ListenAddress: sshd listens on 0.0.0.0 and ::{}",
            if family_inet {
                " once AddressFamily is any"
            } else {
                " already"
            }
        ));
    }
    // Several IPv4-specific ListenAddress lines on one port would all get the one
    // --address twin: refused, naming them (a port with a specific IPv6 ListenAddress
    // already was mapped by hand).
    if let Some(address) = address {
        let mut specific = Vec::new();
        let mut place = Vec::new();
        for (fi, i, l) in &listens {
            let Bind::V4(ip) = l.bind else { continue };
            let (file, doc) = &conf.files[*fi];
            let it = &doc.items()[*i];
            for port in expand(&l.port) {
                if v6_ports.contains(&l.port) {
                    continue;
                }
                specific.push(endpoint::Specific {
                    ip,
                    port,
                    text: format!("ListenAddress {}", it.args[0].text),
                    at: host.locate(file, it.span.start),
                });
                place.push((*fi, it.span.start));
            }
        }
        for group in endpoint::collapsing(&specific) {
            let first = specific
                .iter()
                .position(|s| std::ptr::eq(s, group[0]))
                .unwrap_or(0);
            let (fi, offset) = place[first];
            let twin = format!("ListenAddress {address} (port {})", group[0].port);
            let msg = endpoint::collapse_message(&group, address, &twin);
            a.refuse(&conf.files[fi].0, offset, msg);
        }
    }
    for (fi, i, l) in &listens {
        let (file, doc) = &conf.files[*fi];
        let it = &doc.items()[*i];
        let w = &it.args[0];
        let Some(IpAddr::V4(v4)) = l.ip() else {
            if let Bind::Name(n) = &l.bind {
                a.lasting(
                    file,
                    it.span.start,
                    Severity::Info,
                    format!("ListenAddress {n}: sshd binds what the name resolves to (digits alone are an IPv4 short form: `0` is 0.0.0.0); v6fix does not guess its IPv6 counterpart"),
                    "",
                );
            }
            if family_inet && matches!(l.ip(), Some(IpAddr::V6(_))) {
                let msg = format!(
                    "ListenAddress {} with AddressFamily inet: sshd -t fails (bad addr or host)",
                    w.text
                );
                a.find(file, it.span.start, Severity::Error, msg, FIX_PLAIN);
            }
            continue;
        };
        let (fix, sev) = if v4 == Ipv4Addr::UNSPECIFIED {
            (FIX_PLAIN, Severity::Warning)
        } else if v4.is_loopback() {
            (FIX_PLAIN, Severity::Info)
        } else {
            (FIX_ADDRESS, Severity::Warning)
        };
        let msg = format!(
            "ListenAddress {}: sshd accepts IPv4 connections only here",
            w.text
        );
        match endpoint::twin(l, address, &Bind::AnyV6) {
            Twin::Have(t) => {
                let spelled = t.render(false);
                if has(&bound, t.ip(), &l.port) {
                    a.note_at(file, it.span.start, format!("ListenAddress {} has its IPv6 counterpart ({spelled}) already: left alone",
                        w.text,
                    ));
                    continue;
                }
                // A quoted value with blanks stays one quoted word, as it was.
                let word = if w.text.starts_with('"') && spelled.contains([' ', '\t']) {
                    format!("\"{spelled}\"")
                } else {
                    spelled.clone()
                };
                let line = doc.line_with_arg(*i, 0, &word);
                doc.insert_after(a.edits(file), *i, &line);
                a.find(file, it.span.start, sev, msg, fix);
                if v4.is_loopback() {
                    a.note_at(file, it.span.start, format!("ListenAddress {} is loopback only: it gets {spelled}, still local only",
                        w.text
                    ));
                }
                for p in expand(&t.port) {
                    bound.insert((t.ip(), p));
                }
            }
            Twin::None => {}
            Twin::NeedAddress => {
                if !v6_ports.contains(&l.port) {
                    a.lasting(file, it.span.start, sev, msg, fix);
                }
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_are_read_the_way_sshd_reads_them() {
        let ip = |t: &str| read_listen(t).ip().map(|i| i.to_string());
        assert_eq!(ip("0.0.0.0").as_deref(), Some("0.0.0.0"));
        assert_eq!(read_listen("0.0.0.0").port, None);
        assert_eq!(read_listen("192.0.2.10:2222").port.as_deref(), Some("2222"));
        assert_eq!(ip("[::]:22").as_deref(), Some("::"));
        assert_eq!(read_listen("[::]:22").port.as_deref(), Some("22"));
        assert_eq!(
            ip("2001:db8::1:2222").as_deref(),
            Some("2001:db8::1:2222"),
            "sshd reads it whole"
        );
        assert_eq!(read_listen("2001:db8::1:2222").port, None);
        assert_eq!(ip("host.example.net"), None);
        assert_eq!(
            ambiguous_port("2001:db8::1:2222"),
            Some(("2001:db8::1", "2222"))
        );
        assert_eq!(ambiguous_port("2001:db8::10"), None);
        assert_eq!(ambiguous_port("::1"), None);
        assert_eq!(ambiguous_port("192.0.2.10:22"), None);
        assert_eq!(ambiguous_port("[2001:db8::1]:2222"), None);
        assert_eq!(
            read_listen("[2001:db8::10]:2222").render(false),
            "[2001:db8::10]:2222"
        );
        assert_eq!(read_listen("::").render(false), "::");
    }
}
