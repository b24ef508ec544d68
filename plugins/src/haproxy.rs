//! `v6fix haproxy`: HAProxy (`/etc/haproxy/haproxy.cfg`) listening on both families and
//! admitting the site's IPv6 network where it admits its IPv4 networks.
//!
//! - `bind :80`, `bind *:80` and `bind 0.0.0.0:80` listen on IPv4 only. Each becomes
//!   `bind :::80 v4v6` in place, its options (ssl, crt, alpn…) kept: one socket for both
//!   families, in the form HAProxy documents. An address forced to IPv4 (`ipv4@:80`) keeps
//!   its line and gets `bind :::80 v6only` with the same options beside it; a specific
//!   IPv4 address gets `bind [ADDR]:80` (`[::1]` for loopback, `--address` otherwise).
//!   A port some bind already serves over IPv6 never gets a second socket.
//! - `acl NAME src …` lists and `{ src … }` conditions that admit IPv4 networks get the
//!   `--network` prefixes (and `::1` beside loopback), unless a rule denies on them
//!   (`http-request deny if NAME`): a block list is left alone and said so.
//! - Host names, `${VARIABLES}`, UNIX sockets and lines inside `.if` blocks are left alone
//!   with a note; an edit inside an `.if` block is refused (v6fix does not evaluate them).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use v6fix_core::dialect::haproxy::{self, Doc, Kind, Word};
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin, Unbracketed};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{policy, Analysis, Args, File, Host, MainFile, Plugin, Prefix, Result, Severity};

const MAIN: MainFile = MainFile::new("/etc/haproxy/haproxy.cfg", "HAProxy");
const FIX: &str = "v6fix haproxy";
const FIX_ADDRESS: &str = "v6fix haproxy --address ADDR";
const FIX_NETWORK: &str = "v6fix haproxy --network PREFIX";

/// HAProxy's reading of a bind address: `:80` and `*:80` are IPv4 only; `:::80` is one
/// socket for both families unless the bind says `v6only`; the last `:` starts the port.
const SPELLING: Spelling = Spelling {
    daemon: "HAProxy",
    any: Bind::AnyV4,
    v6_any: Bind::AnyDual,
    unbracketed: Unbracketed::LastColonIsPort,
};

pub(crate) struct Haproxy;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Haproxy) }

static NEEDS: &[Need] = &[
    Need::new(
        Fact::Address,
        "This host's IPv6 address: the twin of a bind on a specific IPv4 address",
    ),
    Need::new(
        Fact::Networks,
        "The site's IPv6 network, added to `src` ACLs that admit IPv4 networks",
    ),
];

impl Plugin for Haproxy {
    fn name(&self) -> &'static str {
        "haproxy"
    }

    fn about(&self) -> &'static str {
        "HAProxy: dual-stack binds (`bind :::80 v4v6`), IPv6 networks in `src` ACLs"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        MAIN.files(host)
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let mut a = Analysis::new();
        let Some((file, doc)) = MAIN.read(host, haproxy::parse, &mut a)? else {
            return Ok(a);
        };
        let cx = Cx {
            file: &file,
            doc: &doc,
        };
        binds(&cx, target.address(), &mut a);
        acls(&cx, &target.networks, &mut a);
        a.restart(
            "haproxy",
            "reload",
            "haproxy -c -f /etc/haproxy/haproxy.cfg && systemctl reload haproxy",
            "a reload starts a new process that binds the changed listeners while the old one \
             finishes its connections; check first, since a config that fails keeps the old process",
        );
        Ok(a)
    }
}

/// What every step reads.
struct Cx<'a> {
    file: &'a File,
    doc: &'a Doc,
}

impl Cx<'_> {
    /// Where line `i` starts, for diagnostics about it.
    fn at(&self, i: usize) -> usize {
        self.doc.items[i].span.start
    }

    /// False (and the plan refused) when line `i` is inside an `.if` block.
    fn editable(&self, i: usize, a: &mut Analysis) -> bool {
        if !self.doc.items[i].cond {
            return true;
        }
        a.refuse(
            self.file,
            self.doc.items[i].span.start,
            format!(
                "`{}` needs a change but lies inside an `.if` block, which v6fix does not \
                 evaluate: change it by hand, or move it out of the block",
                self.doc.statement(i).trim()
            ),
        );
        false
    }
}

/// One address of a bind line's comma-separated list, as HAProxy reads it.
struct Addr {
    /// The address as written in the list (`ipv4@:80`, `*:443`).
    text: String,
    /// `ipv4@` or `tcp4@`: the admin asked for IPv4.
    forced_v4: bool,
    /// `None` when it is no TCP/IP address v6fix reasons about (a socket path, a name…).
    ep: Option<Endpoint>,
}

fn read_addr(text: &str, v6only: bool) -> Addr {
    let (prefix, rest) = match text.split_once('@') {
        Some((p, r)) => (Some(p.to_ascii_lowercase()), r),
        None => (None, text),
    };
    let forced_v4 = matches!(prefix.as_deref(), Some("ipv4" | "tcp4"));
    let tcp = matches!(
        prefix.as_deref(),
        None | Some("ipv4" | "tcp4" | "ipv6" | "tcp6" | "tcp")
    );
    let ep = (tcp && !rest.starts_with('/') && !rest.contains('$'))
        .then(|| {
            let (h, p) = rest.rsplit_once(':')?;
            let port_ok = !p.is_empty()
                && p.split('-').count() <= 2
                && p.split('-')
                    .all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()));
            if !port_ok {
                return None;
            }
            let h = h
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(h);
            let bind = if h.is_empty() || h == "*" {
                Bind::AnyV4
            } else {
                Endpoint::of_ip(h.parse::<IpAddr>().ok()?, None, &SPELLING).bind
            };
            let bind = match bind {
                Bind::AnyDual if v6only => Bind::AnyV6,
                b => b,
            };
            Some(Endpoint {
                bind,
                port: Some(p.to_string()),
                bracketed: None,
            })
        })
        .flatten();
    Addr {
        text: text.to_string(),
        forced_v4,
        ep,
    }
}

/// The bind lines of frontend and listen sections, with their addresses.
fn bind_lines(doc: &Doc) -> Vec<(usize, Vec<Addr>)> {
    doc.items
        .iter()
        .enumerate()
        .filter(|(i, it)| {
            it.kind == Kind::Statement
                && it.keyword() == "bind"
                && it.words.len() >= 2
                && matches!(doc.section_of(*i), Some(("frontend" | "listen", _)))
        })
        .map(|(i, it)| {
            let v6only = it.words[2..].iter().any(|w| w.value == "v6only");
            let addrs = it.words[1]
                .value
                .split(',')
                .map(|t| read_addr(t, v6only))
                .collect();
            (i, addrs)
        })
        .collect()
}

/// Writes a bind address word back in the quoting it had.
fn requote(raw: &str, value: &str) -> String {
    match raw.chars().next() {
        Some(q @ ('"' | '\'')) if raw.ends_with(q) && raw.len() >= 2 => format!("{q}{value}{q}"),
        _ => value.to_string(),
    }
}

fn binds(cx: &Cx, address: Option<Ipv6Addr>, a: &mut Analysis) {
    let lines = bind_lines(cx.doc);
    // What IPv6 already reaches: `None` for every address, by port.
    let mut served: HashSet<(Option<Ipv6Addr>, String)> = HashSet::new();
    for (_, addrs) in &lines {
        for ep in addrs.iter().filter_map(|x| x.ep.as_ref()) {
            let port = ep.port_or("").to_string();
            match ep.bind {
                Bind::AnyDual | Bind::AnyV6 => {
                    served.insert((None, port));
                }
                Bind::V6(v6) => {
                    served.insert((Some(v6), port));
                }
                _ => {}
            }
        }
    }
    let covered =
        |served: &HashSet<(Option<Ipv6Addr>, String)>, ip: Option<Ipv6Addr>, port: &str| {
            served.contains(&(None, port.to_string()))
                || ip.is_some_and(|ip| served.contains(&(Some(ip), port.to_string())))
        };
    for (i, addrs) in &lines {
        let i = *i;
        let it = &cx.doc.items[i];
        let at = cx.at(i);
        let word = &it.words[1];
        let mut rewritten: Vec<String> = Vec::new();
        let mut in_place = false;
        let mut twins: Vec<String> = Vec::new();
        let mut beside_any: Vec<String> = Vec::new();
        for x in addrs {
            let Some(ep) = &x.ep else {
                if !x.text.starts_with('/') && !x.text.contains('@') {
                    a.note_at(
                        cx.file,
                        at,
                        format!(
                            "bind {}: a name or variable, whatever it resolves to at start; left alone",
                            x.text
                        ),
                    );
                }
                rewritten.push(x.text.clone());
                continue;
            };
            let port = ep.port_or("").to_string();
            match &ep.bind {
                Bind::AnyV4 => {
                    if covered(&served, None, &port) {
                        a.note_at(cx.file, at, format!(
                            "bind {}: IPv6 clients reach port {port} through another bind already; no second socket",
                            x.text
                        ));
                        rewritten.push(x.text.clone());
                    } else if x.forced_v4 {
                        beside_any.push(format!(":::{port}"));
                        served.insert((None, port.clone()));
                        rewritten.push(x.text.clone());
                    } else {
                        rewritten.push(format!(":::{port}"));
                        served.insert((None, port.clone()));
                        in_place = true;
                    }
                }
                Bind::V4(_) => match endpoint::twin(ep, address, &SPELLING.v6_any) {
                    Twin::Have(t) => {
                        let ip = match t.bind {
                            Bind::V6(v6) => Some(v6),
                            _ => None,
                        };
                        if covered(&served, ip, &port) {
                            a.note_at(
                                cx.file,
                                at,
                                format!(
                                    "bind {}: its IPv6 twin {} is served already",
                                    x.text,
                                    t.render(true)
                                ),
                            );
                        } else {
                            twins.push(t.render(true));
                            if let Some(v6) = ip {
                                served.insert((Some(v6), port.clone()));
                            }
                        }
                        rewritten.push(x.text.clone());
                    }
                    Twin::NeedAddress
                        if served.iter().any(|(ip, p)| ip.is_some() && *p == port) =>
                    {
                        // Without --address (an audit): a specific IPv6 bind on the port
                        // is taken for the twin.
                        a.note_at(
                            cx.file,
                            at,
                            format!(
                                "bind {}: an IPv6 address is bound on port {port} already",
                                x.text
                            ),
                        );
                        rewritten.push(x.text.clone());
                    }
                    Twin::NeedAddress => {
                        a.lasting(
                            cx.file,
                            word.span.start,
                            Severity::Warning,
                            format!(
                                "bind {}: one IPv4 address, so IPv6 clients are not served",
                                x.text
                            ),
                            FIX_ADDRESS,
                        );
                        rewritten.push(x.text.clone());
                    }
                    Twin::None => rewritten.push(x.text.clone()),
                },
                _ => rewritten.push(x.text.clone()),
            }
        }
        if !in_place && twins.is_empty() && beside_any.is_empty() {
            continue;
        }
        let what = if in_place {
            "listens on IPv4 only"
        } else {
            "binds IPv4 addresses only"
        };
        a.find(
            cx.file,
            word.span.start,
            Severity::Warning,
            format!("bind {}: HAProxy {what}", word.value),
            FIX,
        );
        if !cx.editable(i, a) {
            continue;
        }
        // The options as written, without those a new line must not copy: the family ones,
        // and `id N`, which names one socket.
        let mut opts: Vec<&Word> = Vec::new();
        let mut skip = false;
        for w in &it.words[2..] {
            if std::mem::take(&mut skip) {
                continue;
            }
            match w.value.as_str() {
                "v4v6" | "v6only" => {}
                "id" => skip = true,
                _ => opts.push(w),
            }
        }
        let opts_text = match (opts.first(), it.words.last()) {
            (Some(f), Some(l)) if opts.len() == it.words.len() - 2 => {
                cx.doc.src[f.span.start..l.span.end].to_string()
            }
            _ => opts
                .iter()
                .map(|w| &cx.doc.src[w.span.clone()])
                .collect::<Vec<_>>()
                .join(" "),
        };
        let indent = cx.doc.indent(i).to_string();
        let kw = &cx.doc.src[it.words[0].span.clone()];
        let line = |addr: &str, extra: &str| {
            let mut l = format!("{indent}{kw} {addr}{extra}");
            if !opts_text.is_empty() {
                l.push(' ');
                l.push_str(&opts_text);
            }
            l
        };
        let e = a.edits(cx.file);
        if in_place {
            let raw = &cx.doc.src[word.span.clone()];
            e.replace(word.span.clone(), requote(raw, &rewritten.join(",")));
            if !it.words[2..].iter().any(|w| w.value == "v4v6") {
                e.insert(word.span.end, " v4v6");
            }
        }
        if !beside_any.is_empty() {
            e.insert_line_after(
                &cx.doc.src,
                it.span.start,
                &line(&beside_any.join(","), " v6only"),
            );
        }
        if !twins.is_empty() {
            e.insert_line_after(&cx.doc.src, it.span.start, &line(&twins.join(","), ""));
        }
        let mut done = Vec::new();
        if in_place {
            done.push(format!(
                "now `{} v4v6`: one socket for IPv4 and IPv6",
                rewritten.join(",")
            ));
        }
        if !beside_any.is_empty() {
            done.push(format!(
                "the IPv4 address was asked for explicitly, so `bind {} v6only` is added beside it",
                beside_any.join(",")
            ));
        }
        if !twins.is_empty() {
            done.push(format!("`bind {}` is added beside it", twins.join(",")));
        }
        a.note_at(
            cx.file,
            at,
            format!(
                "bind {} {what}: {}{}",
                word.value,
                done.join("; "),
                if opts_text.is_empty() {
                    ""
                } else {
                    ", with the same options"
                }
            ),
        );
    }
}

/// One `src` pattern list: a named ACL line or an anonymous `{ src … }` condition.
struct SrcList {
    item: usize,
    /// The values (index into the line's words).
    values: Vec<usize>,
    /// Where new values go: after the last value (`None`), or before this `}` offset.
    before: Option<usize>,
    /// The ACL's name; `None` for an anonymous one.
    name: Option<String>,
    /// It is an anonymous list whose match triggers a deny.
    denies: bool,
    /// `-f FILE` arguments: patterns v6fix does not read.
    files: Vec<String>,
}

/// Actions that refuse the client when their condition holds.
fn denying(words: &[Word]) -> bool {
    let kw = words.first().map_or("", |w| w.value.as_str());
    let action = match kw {
        "block" => return true,
        "http-request" | "http-response" => words.get(1),
        "tcp-request" => words.get(2),
        _ => return false,
    };
    action.is_some_and(|w| {
        matches!(
            w.value.as_str(),
            "deny" | "reject" | "tarpit" | "silent-drop" | "auth"
        )
    })
}

/// The words of a `src` pattern list starting at word `k` (the one after `src`): flags and
/// values, up to `end`.
fn src_values(words: &[Word], k: usize, end: usize) -> (Vec<usize>, Vec<String>) {
    let mut values = Vec::new();
    let mut files = Vec::new();
    let mut j = k;
    let mut flags = true;
    while j < end {
        let v = words[j].value.as_str();
        if flags && v == "--" {
            flags = false;
        } else if flags && matches!(v, "-f" | "-m" | "-M") {
            if v == "-f" {
                if let Some(f) = words.get(j + 1) {
                    files.push(f.value.clone());
                }
            }
            j += 1;
        } else if flags && v.starts_with('-') {
        } else {
            flags = false;
            values.push(j);
        }
        j += 1;
    }
    (values, files)
}

fn src_lists(doc: &Doc) -> Vec<SrcList> {
    let mut out = Vec::new();
    for (i, it) in doc.items.iter().enumerate() {
        if it.kind != Kind::Statement {
            continue;
        }
        let w = &it.words;
        if it.keyword() == "acl" && w.len() >= 3 && w[2].value == "src" {
            let (values, files) = src_values(w, 3, w.len());
            out.push(SrcList {
                item: i,
                values,
                before: None,
                name: Some(w[1].value.clone()),
                denies: false,
                files,
            });
            continue;
        }
        // Anonymous ACLs: `{ src … }`, after `if` or `unless`.
        let Some(c) = w
            .iter()
            .position(|x| x.value == "if" || x.value == "unless")
        else {
            continue;
        };
        let unless = w[c].value == "unless";
        let mut j = c + 1;
        while j < w.len() {
            let open = w[j].value.as_str();
            if (open == "{" || open == "!{") && w.get(j + 1).is_some_and(|x| x.value == "src") {
                let Some(close) = (j + 2..w.len()).find(|&k| w[k].value == "}") else {
                    break;
                };
                let negated = open == "!{" || (j > 0 && w[j - 1].value == "!");
                let (values, files) = src_values(w, j + 2, close);
                out.push(SrcList {
                    item: i,
                    values,
                    before: Some(w[close].span.start),
                    name: None,
                    denies: denying(w) && (unless == negated),
                    files,
                });
                j = close;
            }
            j += 1;
        }
    }
    out
}

/// True when a rule of section `section` denies when ACL `name` matches.
fn named_denies(doc: &Doc, section: Option<usize>, name: &str) -> bool {
    doc.items
        .iter()
        .filter(|it| it.section == section)
        .any(|it| {
            let w = &it.words;
            let Some(c) = w
                .iter()
                .position(|x| x.value == "if" || x.value == "unless")
            else {
                return false;
            };
            let unless = w[c].value == "unless";
            denying(w)
                && w[c + 1..].iter().enumerate().any(|(k, x)| {
                    let negated = x.value.starts_with('!') || (k > 0 && w[c + k].value == "!");
                    x.value.trim_start_matches('!') == name && unless == negated
                })
        })
}

/// What a list's values hold.
#[derive(Default)]
struct Holds {
    v4: bool,
    v4_loop: bool,
    v6: Vec<Prefix>,
}

fn holds(doc: &Doc, l: &SrcList) -> Holds {
    let mut h = Holds::default();
    let w = &doc.items[l.item].words;
    for &k in &l.values {
        let v = w[k].value.as_str();
        let (addr, mask) = v.split_once('/').unwrap_or((v, ""));
        match addr.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => {
                if let Ok(p) = Prefix::parse(v) {
                    h.v6.push(p);
                }
            }
            Ok(IpAddr::V4(v4)) if v4.is_loopback() => h.v4_loop = true,
            Ok(IpAddr::V4(_)) if !mask.is_empty() => h.v4 = true,
            _ => {}
        }
    }
    h
}

fn acls(cx: &Cx, networks: &[Prefix], a: &mut Analysis) {
    let lists = src_lists(cx.doc);
    let loopback = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
    let mut done_names: HashSet<(Option<usize>, String)> = HashSet::new();
    for (n, l) in lists.iter().enumerate() {
        let it = &cx.doc.items[l.item];
        let at = cx.at(l.item);
        let label = match &l.name {
            Some(name) => format!("acl {name}"),
            None => "{ src … }".to_string(),
        };
        for f in &l.files {
            a.warn_at(cx.file, at, format!(
                "{label} reads patterns from {f}, which v6fix does not edit: add the site's IPv6 network there"
            ));
        }
        // A named ACL is the union of its lines: judge it once, on all of them.
        let (group, denies): (Vec<&SrcList>, bool) = match &l.name {
            Some(name) => {
                if !done_names.insert((it.section, name.clone())) {
                    continue;
                }
                (
                    lists[n..]
                        .iter()
                        .filter(|o| {
                            o.name.as_ref() == Some(name)
                                && cx.doc.items[o.item].section == it.section
                        })
                        .collect(),
                    named_denies(cx.doc, it.section, name),
                )
            }
            None => (vec![l], l.denies),
        };
        if denies {
            a.note_at(
                cx.file,
                at,
                format!(
                    "{label}: a rule denies when it matches, so it is a block list: left alone \
                 (v6fix adds the site network only to lists that admit)"
                ),
            );
            continue;
        }
        let mut h = Holds::default();
        for g in &group {
            let x = holds(cx.doc, g);
            h.v4 |= x.v4;
            h.v4_loop |= x.v4_loop;
            h.v6.extend(x.v6);
        }
        for p in &h.v6 {
            if let Some(why) = policy::acl_entry(p) {
                a.find(
                    cx.file,
                    it.span.start,
                    Severity::Error,
                    format!("{label}: {p} admits too much: {why}"),
                    "",
                );
            }
        }
        let mut add: Vec<String> = Vec::new();
        if h.v4_loop && !h.v6.iter().any(|p| p.covers(&loopback)) {
            add.push("::1".into());
        }
        let v6_site = h.v6.iter().any(|p| !p.covers(&loopback));
        if h.v4 {
            if networks.is_empty() {
                if !v6_site {
                    a.lasting(
                        cx.file,
                        it.span.start,
                        Severity::Warning,
                        format!("{label} admits IPv4 networks only: IPv6 clients never match it"),
                        FIX_NETWORK,
                    );
                }
            } else {
                add.extend(
                    networks
                        .iter()
                        .filter(|p| !h.v6.contains(p))
                        .map(|p| p.to_string()),
                );
            }
        }
        if add.is_empty() {
            continue;
        }
        // New values go on the list's first line that holds IPv4 entries.
        let target = group
            .iter()
            .find(|g| {
                let x = holds(cx.doc, g);
                x.v4 || x.v4_loop
            })
            .copied()
            .unwrap_or(l);
        if !cx.editable(target.item, a) {
            continue;
        }
        let titem = &cx.doc.items[target.item];
        let joined = add.join(" ");
        let e = a.edits(cx.file);
        match target.before {
            Some(close) => e.insert(close, format!("{joined} ")),
            None => e.insert(
                titem.words_end().expect("an acl has words"),
                format!(" {joined}"),
            ),
        }
        a.note_at(
            cx.file,
            cx.at(target.item),
            format!("{label} admits IPv4 networks: {joined} added"),
        );
    }
}
