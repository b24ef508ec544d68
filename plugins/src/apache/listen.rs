//! `Listen` lines: the resulting listener set, collisions in it, IPv6 twins and bracket fixes.

use super::addr::read_spot;
use super::analysis::{has_hash, hash_at, hash_message, listen_changed, FIX_ADDRESS, FIX_PLAIN};
use super::conf::Conf;
use std::net::Ipv6Addr;
use v6fix_core::dialect::apache::Doc;
use v6fix_core::endpoint::{self, Bind, Endpoint, Twin};
use v6fix_core::Analysis;
use v6fix_core::{Host, Severity};

/// The `<IfModule>`/`<IfDefine>`/… conditions around an item.
fn conditions(doc: &Doc, i: usize) -> Vec<String> {
    let mut c: Vec<String> = doc
        .ancestors(i)
        .into_iter()
        .filter(|s| {
            let name = doc.name(s);
            name.len() > 2 && name[..2].eq_ignore_ascii_case("if")
        })
        .map(|s| {
            let args: Vec<_> = doc.words(s).map(|a| a.unquoted().to_string()).collect();
            format!("{} {}", doc.name(s).to_ascii_lowercase(), args.join(" "))
        })
        .collect();
    c.sort();
    c
}

/// True when two condition sets can hold at once as far as v6fix can tell: one is part
/// of the other. Different conditions are taken as alternatives.
fn together(a: &[String], b: &[String]) -> bool {
    a.iter().all(|x| b.contains(x)) || b.iter().all(|x| a.contains(x))
}

/// One listener in the resulting set.
struct Sock {
    addr: Bind,
    port: String,
    cond: Vec<String>,
    text: String,
    at: String,
}

/// True when binding `new` next to `old` fails (or repeats it).
fn clashes(new: &Bind, old: &Bind) -> bool {
    match (new, old) {
        (Bind::AnyDual, Bind::AnyDual | Bind::V6(_)) => true,
        (Bind::V6(_), Bind::AnyDual) => true,
        (Bind::V6(a), Bind::V6(b)) => a == b,
        _ => false,
    }
}

/// Checks every listener against the others and adds the IPv6 twins that are missing.
pub(super) fn listeners(host: &Host, conf: &Conf, address: Option<Ipv6Addr>, a: &mut Analysis) {
    // Pass 1: the listeners as they are.
    let mut socks: Vec<Sock> = Vec::new();
    // The socks that bind IPv6 (an address or the dual-stack wildcard): the only ones a new
    // listener can clash with or count as a twin. Kept apart so that many IPv4 Listen lines
    // are checked in linear time.
    let mut v6: Vec<usize> = Vec::new();
    let mut listens = Vec::new();
    for (fi, (file, doc)) in conf.files.iter().enumerate() {
        for (i, it) in doc.directives("Listen") {
            let at = host.locate(file, it.span().start);
            if has_hash(doc, it) {
                a.refuse(file, hash_at(doc, it), hash_message(doc, it));
                continue;
            }
            let Some(word) = doc.arg(it, 0) else {
                continue;
            };
            if word.text.contains("${") {
                a.warn_at(
                    file,
                    it.span().start,
                    format!(
                        "Listen {} uses a variable v6fix cannot resolve: left alone, check it by hand",
                        word.text
                    ),
                );
                continue;
            }
            let spot = match read_spot(word.unquoted()) {
                Ok(s) => s,
                Err(m) => {
                    a.refuse(file, word.span.start, m);
                    continue;
                }
            };
            let Some(port) = spot.port.clone().filter(|p| p != "*") else {
                if spot.bracketed.is_some() {
                    let t = word.text;
                    let (h, p) = t.rsplit_once(':').unwrap_or((t, ""));
                    a.refuse(file,
                        word.span.start,
                        format!(
                            "Apache reads Listen {t} as host `{h}` and port {p}, and fails (AH00077); write [ADDRESS]:PORT"
                        ),
                    );
                } else if !matches!(spot.bind, Bind::Name(_)) {
                    a.refuse(
                        file,
                        word.span.start,
                        format!("Listen {} has no port: Apache needs one", word.text),
                    );
                }
                continue;
            };
            let cond = conditions(doc, i);
            // Against the first listener it clashes with only: a file with many copies of
            // one Listen gets one warning per copy, not one per pair.
            if let Some(old) = dual_or_v6(&socks, &v6).find(|s| {
                s.port == port && together(&s.cond, &cond) && clashes(&spot.bind, &s.addr)
            }) {
                let msg = format!(
                    "Listen {} and Listen {} ({}) cannot both bind port {port}: Apache passes -t and then fails to start with \"Address already in use\"; remove one",
                    word.text, old.text, old.at
                );
                a.lasting(file, it.span().start, Severity::Error, msg, "");
            }
            push_sock(
                &mut socks,
                &mut v6,
                Sock {
                    addr: spot.bind.clone(),
                    port: port.clone(),
                    cond: cond.clone(),
                    text: word.text.to_string(),
                    at: at.clone(),
                },
            );
            listens.push((fi, i, spot, port, cond));
        }
    }
    refuse_collapsing(host, conf, address, &socks, &listens, a);
    // Pass 2: twins and bracket fixes for listeners.
    for (fi, i, spot, port, cond) in listens {
        let (file, doc) = &conf.files[fi];
        let it = &doc.items()[i];
        let word = &doc.arg(it, 0).expect("a Listen has its address");
        let at = host.locate(file, it.span().start);
        if let Some(fixed) = &spot.bracketed {
            a.edits(file).replace(word.span.clone(), fixed.clone());
            a.note_at(file, it.span().start, format!("Listen {} is an unbracketed IPv6 literal; Apache reads the last `:` as the port, so it is written {fixed}",
                word.text
            ));
            a.find(
                file,
                word.span.start,
                Severity::Warning,
                format!(
                    "Listen {}: IPv6 literals need brackets ({fixed})",
                    word.text
                ),
                FIX_PLAIN,
            );
            listen_changed(a);
        }
        let (fix, sev) = match &spot.bind {
            Bind::AnyDual => {
                a.note_at(file, it.span().start, format!("Listen {} is already dual-stack (Apache binds one socket for IPv4 and IPv6): left alone",
                    word.text
                ));
                continue;
            }
            Bind::V4(ip) if ip.is_loopback() => (FIX_PLAIN, Severity::Info),
            Bind::V4(_) => (FIX_ADDRESS, Severity::Warning),
            _ => (FIX_PLAIN, Severity::Warning),
        };
        let live = || -> Vec<&Sock> {
            dual_or_v6(&socks, &v6)
                .filter(|s| s.port == port && together(&s.cond, &cond))
                .collect()
        };
        let twin = match endpoint::twin(&spot, address, &Bind::AnyDual) {
            Twin::Have(t) => t,
            Twin::None => continue,
            Twin::NeedAddress => {
                // A specific IPv4 address and no --address given.
                if live().is_empty() {
                    a.lasting(
                        file,
                        it.span().start,
                        sev,
                        format!("Listen {} accepts IPv4 clients only", word.text),
                        fix,
                    );
                }
                continue;
            }
        };
        let new = twin.bind.clone();
        let spelled = Endpoint {
            port: Some(port.clone()),
            ..twin
        }
        .render(true);
        if let Some(old) = live().into_iter().find(|s| clashes(&new, &s.addr)) {
            if old.text == spelled {
                a.note_at(
                    file,
                    it.span().start,
                    format!(
                        "Listen {} has its IPv6 twin Listen {} ({}) already: left alone",
                        word.text, old.text, old.at
                    ),
                );
            } else if old.addr == Bind::AnyDual {
                a.note_at(file, it.span().start, format!("Listen {}: port {port} already has the dual-stack Listen {} ({}); a Listen {spelled} beside it would fail to bind, so none is added",
                    word.text,
                    old.text,
                    old.at,
                ));
            }
            continue;
        }
        let line = doc.line_with_arg(i, 0, &spelled);
        doc.insert_after(a.edits(file), i, &line);
        listen_changed(a);
        a.find(
            file,
            it.span().start,
            sev,
            format!("Listen {} accepts IPv4 clients only", word.text),
            fix,
        );
        if matches!(spot.bind, Bind::V4(ip4) if ip4.is_loopback()) {
            a.note_at(file, it.span().start, format!("Listen {} is loopback only (a backend behind a local proxy): it gets {spelled} so local clients that resolve localhost to ::1 reach it too; the proxy keeps using {}",
                word.text, word.text
            ));
        }
        push_sock(
            &mut socks,
            &mut v6,
            Sock {
                addr: new,
                port: port.clone(),
                cond: cond.clone(),
                text: spelled,
                at: at.clone(),
            },
        );
    }
}

/// Adds `s` to `socks`, and its index to `v6` when it binds IPv6.
fn push_sock(socks: &mut Vec<Sock>, v6: &mut Vec<usize>, s: Sock) {
    if matches!(s.addr, Bind::V6(_) | Bind::AnyDual) {
        v6.push(socks.len());
    }
    socks.push(s);
}

/// The socks `v6` names, in order.
fn dual_or_v6<'a>(socks: &'a [Sock], v6: &'a [usize]) -> impl Iterator<Item = &'a Sock> + 'a {
    v6.iter().map(move |&k| &socks[k])
}

/// Several IPv4-specific Listens on one port would all get the one `--address` twin:
/// refused, naming all of them (see [`endpoint::collapsing`]). A port that has an IPv6 or
/// dual-stack Listen already was mapped by hand and is left to the twin rule.
fn refuse_collapsing(
    host: &Host,
    conf: &Conf,
    address: Option<Ipv6Addr>,
    socks: &[Sock],
    listens: &[(usize, usize, Endpoint, String, Vec<String>)],
    a: &mut Analysis,
) {
    let Some(address) = address else {
        return;
    };
    let mut specific = Vec::new();
    let mut place = Vec::new();
    for (fi, i, spot, port, _) in listens {
        let Bind::V4(ip) = spot.bind else {
            continue;
        };
        if socks
            .iter()
            .any(|s| &s.port == port && matches!(s.addr, Bind::V6(_) | Bind::AnyDual))
        {
            continue;
        }
        let (file, doc) = &conf.files[*fi];
        let it = &doc.items()[*i];
        specific.push(endpoint::Specific {
            ip,
            port: port.clone(),
            text: format!("Listen {}", doc.words(it).next().map_or("", |w| w.text)),
            at: host.locate(file, it.span().start),
        });
        place.push((*fi, it.span().start));
    }
    for group in endpoint::collapsing(&specific) {
        let twin = format!("[{address}]:{}", group[0].port);
        let first = specific.iter().position(|s| s == group[0]).unwrap_or(0);
        let (fi, offset) = place[first];
        let msg = endpoint::collapse_message(&group, address, &format!("Listen {twin}"));
        a.refuse(&conf.files[fi].0, offset, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collisions_follow_apaches_socket_rules() {
        let any = &Bind::AnyDual;
        let v6 = &Bind::V6("2001:db8::10".parse().unwrap());
        assert!(clashes(any, any), "80 + [::]:80 fails to start");
        assert!(clashes(v6, any));
        assert!(clashes(any, v6));
        assert!(clashes(v6, v6));
        assert!(
            !clashes(any, &Bind::AnyV4),
            "80 + 0.0.0.0:80 is deduplicated"
        );
        assert!(!clashes(v6, &Bind::V4("192.0.2.10".parse().unwrap())));
    }

    #[test]
    fn different_conditions_are_alternatives() {
        let ssl = vec!["ifmodule ssl_module".to_string()];
        let tls = vec!["ifmodule mod_gnutls.c".to_string()];
        assert!(!together(&ssl, &tls));
        assert!(together(&ssl, &[]));
        assert!(together(&ssl, &ssl));
    }
}
