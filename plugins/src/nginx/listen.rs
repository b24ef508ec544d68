//! `listen` directives: how nginx reads them, and their IPv6 twins.

use super::conf::{Conf, Placed, Server};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin};
use v6fix_core::{Analysis, Host, Severity};

/// Listen parameters that set socket options: one server per address may set them.
const SOCKET_OPTS: &[&str] = &[
    "setfib",
    "fastopen",
    "backlog",
    "rcvbuf",
    "sndbuf",
    "accept_filter",
    "deferred",
    "bind",
    "ipv6only",
    "reuseport",
    "so_keepalive",
];

/// What a `listen` names: an endpoint, a Unix socket, or an IPv6 literal nginx refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum At {
    Ep(Endpoint),
    Unix,
    /// Why nginx rejects the address (an IPv6 literal without brackets, say).
    Refused(String),
}

#[derive(Debug, Clone)]
pub(super) struct Listen {
    pub(super) at: At,
    /// The parameters after the address, quotes removed: what nginx reads.
    pub(super) params: Vec<String>,
    /// The same parameters as written (quoted ones keep their quotes): what a twin copies.
    pub(super) raw: Vec<String>,
}

fn parse_listen(args: &[std::borrow::Cow<'_, str>], raw: &[String]) -> Option<Listen> {
    let a = args.first()?;
    let at = if a.starts_with("unix:") {
        At::Unix
    } else {
        match Endpoint::parse(a, &Spelling::NGINX) {
            Ok(ep) => At::Ep(ep),
            Err(e) => At::Refused(e.to_string()),
        }
    };
    Some(Listen {
        at,
        params: args[1..].iter().map(|a| a.to_string()).collect(),
        raw: raw.get(1..).unwrap_or_default().to_vec(),
    })
}

/// The `listen` parameters nginx knows beside the socket options (http, stream and mail
/// together); a word that is neither is `invalid parameter` to `nginx -t`. `=` parameters
/// are listed by name.
const OTHER_PARAMS: &[&str] = &[
    "default_server",
    "default",
    "ssl",
    "http2",
    "http3",
    "quic",
    "spdy",
    "proxy_protocol",
    "udp",
    "multipath",
];

/// True for a parameter nginx accepts on `listen`.
fn known_param(p: &str) -> bool {
    let name = param_name(p);
    OTHER_PARAMS.contains(&name) || SOCKET_OPTS.contains(&name)
}

fn param_name(p: &str) -> &str {
    p.split_once('=').map_or(p, |(n, _)| n)
}

fn is_default(p: &str) -> bool {
    p == "default_server" || p == "default"
}

fn is_socket_opt(p: &str) -> bool {
    SOCKET_OPTS.contains(&param_name(p))
}

impl Listen {
    pub(super) fn endpoint(&self) -> Option<&Endpoint> {
        match &self.at {
            At::Ep(e) => Some(e),
            _ => None,
        }
    }

    /// The port nginx binds: 80 when the word has none.
    pub(super) fn port(&self) -> &str {
        self.endpoint().map_or("80", |e| e.port_or("80"))
    }

    /// The address as nginx compares them: `0.0.0.0`, `192.0.2.1`, `::`; `None` for names,
    /// sockets and broken literals.
    fn addr(&self) -> Option<IpAddr> {
        self.endpoint().and_then(Endpoint::ip)
    }

    fn has_socket_opts(&self) -> bool {
        self.params.iter().any(|p| is_socket_opt(p))
    }

    fn is_default(&self) -> bool {
        self.params.iter().any(|p| is_default(p))
    }
}

/// The key of a listening socket: protocol block, address, port.
type Key = (String, IpAddr, String);

/// The IPv6 twin of an IPv4-only listen, by the one twin rule.
pub(super) fn twin_of(l: &Listen, address: Option<Ipv6Addr>) -> Twin {
    match l.endpoint() {
        Some(ep) => endpoint::twin(ep, address, &Bind::AnyV6),
        None => Twin::None,
    }
}

impl Conf {
    /// A `listen` parameter nginx does not know fails `nginx -t` ("invalid parameter"):
    /// most often a `;` missing at the end of the line, so the next line's directive reads
    /// as parameters. Refused at the word, as nginx refuses it.
    fn refuse_unknown_params(
        &self,
        listens: &[(&Placed<'_>, Listen, Option<Key>)],
        plan: &mut Analysis,
    ) {
        for (p, _, _) in listens {
            let Some(bad) = p.d.words[1..]
                .iter()
                .skip(1)
                .find(|w| !known_param(&w.text))
            else {
                continue;
            };
            let file = &self.files[p.file].file;
            let first = &p.d.words[1];
            let hint = if file.line_col(bad.span.start).line > file.line_col(first.span.start).line
            {
                ": the `;` ending the listen line is probably missing, so the next line reads as its parameters"
            } else {
                ""
            };
            plan.refuse(file,
                bad.span.start,
                format!(
                    "found `{}` among the parameters of `listen {}`, expected a listen parameter (ssl, http2, default_server, proxy_protocol, reuseport, backlog=…); nginx -t fails with invalid parameter \"{}\"{hint}",
                    bad.text,
                    first.text,
                    param_name(&bad.text),
                ),
            );
        }
    }

    /// Servers told apart by IPv4 address (`listen 192.0.2.10:80` in one, `listen
    /// 192.0.2.11:80` in another) would all get the one `--address` twin: refused, naming
    /// every listen (see [`endpoint::collapsing`]). A port with a specific IPv6 listen in
    /// that block already was mapped by hand and is left to the twin rule; one server on
    /// several IPv4 addresses is one site and keeps one twin.
    fn refuse_collapsing(
        &self,
        host: &Host,
        listens: &[(&Placed<'_>, Listen, Option<Key>)],
        address: Option<Ipv6Addr>,
        plan: &mut Analysis,
    ) {
        let Some(address) = address else { return };
        let mapped: HashSet<(&str, &str)> = listens
            .iter()
            .filter_map(|(_, _, k)| k.as_ref())
            .filter(|k| matches!(k.1, IpAddr::V6(v6) if !v6.is_unspecified() && !v6.is_loopback()))
            .map(|k| (k.0.as_str(), k.2.as_str()))
            .collect();
        let mut protos: Vec<&str> = Vec::new();
        for (_, _, k) in listens {
            if let Some(k) = k {
                if !protos.contains(&k.0.as_str()) {
                    protos.push(&k.0);
                }
            }
        }
        for proto in protos {
            let mut specific = Vec::new();
            let mut place = Vec::new();
            for (p, l, key) in listens {
                let Some((pr, IpAddr::V4(ip), port)) = key else {
                    continue;
                };
                if pr != proto || mapped.contains(&(pr.as_str(), port.as_str())) {
                    continue;
                }
                if !matches!(l.endpoint().map(|e| &e.bind), Some(Bind::V4(_))) {
                    continue;
                }
                specific.push(endpoint::Specific {
                    ip: *ip,
                    port: port.clone(),
                    text: format!("`{}`", self.text_of(p)),
                    at: self.at(host, p),
                });
                place.push(*p);
            }
            for group in endpoint::collapsing(&specific) {
                let idx: Vec<usize> = group
                    .iter()
                    .filter_map(|g| specific.iter().position(|s| std::ptr::eq(s, *g)))
                    .collect();
                let servers: HashSet<Option<usize>> =
                    idx.iter().map(|&i| place[i].server).collect();
                if servers.len() < 2 {
                    continue;
                }
                let first = place[idx[0]];
                let twin = format!("`listen [{address}]:{}`", group[0].port);
                let msg = endpoint::collapse_message(&group, address, &twin);
                plan.refuse(&self.files[first.file].file, first.d.span.start, msg);
            }
        }
    }

    pub(super) fn listens<'a>(
        &self,
        placed: &'a [Placed<'a>],
        servers: &[Server<'_>],
    ) -> Vec<(&'a Placed<'a>, Listen, Option<Key>)> {
        placed
            .iter()
            .filter(|p| p.d.name() == "listen" && p.server.is_some())
            .filter_map(|p| {
                let raw: Vec<String> = p.d.words[1..].iter().map(|w| w.text.to_string()).collect();
                let l = parse_listen(&p.d.args(), &raw)?;
                let proto = servers[p.server?].proto.clone();
                let key = l.addr().map(|a| (proto, a, l.port().to_string()));
                Some((p, l, key))
            })
            .collect()
    }

    /// An IPv6 twin after each IPv4-only listen.
    pub(super) fn plan_listens(
        &self,
        host: &Host,
        placed: &[Placed<'_>],
        servers: &[Server<'_>],
        address: Option<Ipv6Addr>,
        plan: &mut Analysis,
    ) {
        let listens = self.listens(placed, servers);
        let mut done: HashSet<(usize, usize)> = HashSet::new();

        let mut defaults: HashSet<Key> = HashSet::new();
        let mut sockopts: HashSet<Key> = HashSet::new();
        // The `[::]` listens with ipv6only=off, by protocol block and port: each takes IPv4
        // too, so an IPv4 wildcard listen on its port cannot bind.
        let mut v6off: HashMap<(String, String), Vec<&Placed<'_>>> = HashMap::new();
        for (p, l, key) in &listens {
            if let Some(k) = key {
                if l.is_default() {
                    defaults.insert(k.clone());
                }
                if l.has_socket_opts() {
                    sockopts.insert(k.clone());
                }
                if k.1 == IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                    && l.params.iter().any(|p| p == "ipv6only=off")
                {
                    v6off
                        .entry((k.0.clone(), k.2.clone()))
                        .or_default()
                        .push(*p);
                }
            }
        }
        // Which server already listens on which address, for the twin check; and which
        // listens on IPv6 at all on a port (without --address, any of them is the twin of a
        // specific IPv4 listen there).
        let in_server: HashSet<(Option<usize>, &Key)> = listens
            .iter()
            .filter_map(|(q, _, k)| k.as_ref().map(|k| (q.server, k)))
            .collect();
        let v6_in_server: HashSet<(Option<usize>, &str, &str)> = listens
            .iter()
            .filter_map(|(q, _, k)| k.as_ref().map(|k| (q.server, k)))
            .filter(|(_, k)| k.1.is_ipv6())
            .map(|(s, k)| (s, k.0.as_str(), k.2.as_str()))
            .collect();
        self.refuse_unknown_params(&listens, plan);
        self.refuse_collapsing(host, &listens, address, plan);
        let mut need_address = Vec::new();
        let mut conflicts: HashSet<(usize, usize)> = HashSet::new();
        for (p, l, key) in &listens {
            let at = self.at(host, p);
            let text = self.text_of(p);
            let file = &self.files[p.file].file;
            match &l.at {
                At::Refused(why) => {
                    plan.refuse(
                        file,
                        p.d.span.start,
                        format!("`{text}`: nginx refuses it: {why}"),
                    );
                    continue;
                }
                At::Ep(Endpoint {
                    bind: Bind::Name(n),
                    ..
                }) => {
                    plan.note(format!("{at}: `{text}` names the host `{n}`: nginx binds what it resolves to; left alone"));
                    continue;
                }
                _ => {}
            }
            let Some(key) = key else { continue };
            if !done.insert((p.file, p.d.span.start)) {
                continue;
            }
            let twin_ep = match twin_of(l, address) {
                Twin::Have(t) => Some(t),
                Twin::NeedAddress => None,
                Twin::None => continue,
            };
            let twin = twin_ep
                .as_ref()
                .map(|t| t.ip().expect("a twin is an address"));
            if let (Some(ip), Some(wide)) = (twin, v6off.get(&(key.0.clone(), key.2.clone()))) {
                if ip.is_unspecified() {
                    plan.warn(format!(
                        "{at}: `{text}`: a server listens on [::]:{} with ipv6only=off, which takes IPv4 too; nginx cannot bind both and fails at start (`nginx -t` does not notice): left alone, remove one of them",
                        key.2
                    ));
                    for w in wide {
                        if conflicts.insert((w.file, w.d.span.start)) {
                            plan.find(
                                &self.files[w.file].file,
                                w.d.span.start,
                                Severity::Error,
                                format!("`{}` takes IPv4 too, so the IPv4 wildcard listen on the same port fails to bind at start", self.text_of(w)),
                                "",
                            );
                        }
                    }
                    continue;
                }
            }
            let tkey: Option<Key> = twin.map(|ip| (key.0.clone(), ip, key.2.clone()));
            let twin_str = twin_ep.as_ref().map(|t| t.render(true));
            match (&tkey, &twin_str) {
                (Some(tkey), Some(twin_str)) if in_server.contains(&(p.server, tkey)) => {
                    plan.note(format!("{at}: `{text}` already has its twin `listen {twin_str}` in this server: left alone"));
                    continue;
                }
                (None, _) if v6_in_server.contains(&(p.server, &key.0, &key.2)) => {
                    plan.note_at(
                        file,
                        p.d.span.start,
                        format!(
                            "`{text}`: this server already listens on IPv6 on port {}: left alone",
                            key.2
                        ),
                    );
                    continue;
                }
                _ => {}
            }
            let needs_address = matches!(twin_of(l, None), Twin::NeedAddress);
            plan.find(
                file,
                p.d.span.start,
                Severity::Warning,
                format!(
                    "`{text}` accepts IPv4 only and this server has no IPv6 listen on port {}",
                    key.2
                ),
                if needs_address {
                    "v6fix nginx --address ADDR"
                } else {
                    "v6fix nginx"
                },
            );
            let (Some(tkey), Some(twin_str)) = (tkey, twin_str) else {
                need_address.push(format!("{at}: `{text}`"));
                continue;
            };
            let mut params = Vec::new();
            let copy_opts = !sockopts.contains(&tkey);
            let mut dropped_default = Vec::new();
            let mut dropped_opts = Vec::new();
            // Judged by value, copied as written: a quoted parameter keeps its quotes.
            let mut words = Vec::new();
            for (prm, raw) in l.params.iter().zip(&l.raw) {
                if is_default(prm) {
                    if defaults.contains(&tkey) {
                        dropped_default.push(prm.clone());
                    } else {
                        params.push(prm.clone());
                        words.push(raw.clone());
                    }
                } else if param_name(prm) == "ipv6only" {
                    continue;
                } else if is_socket_opt(prm) {
                    if copy_opts {
                        params.push(prm.clone());
                        words.push(raw.clone());
                    } else {
                        dropped_opts.push(prm.clone());
                    }
                } else {
                    params.push(prm.clone());
                    words.push(raw.clone());
                }
            }
            if params.iter().any(|p| is_default(p)) {
                defaults.insert(tkey.clone());
            }
            if params.iter().any(|p| is_socket_opt(p)) {
                sockopts.insert(tkey.clone());
            }
            let mut line = format!("listen {twin_str}");
            for w in &words {
                line.push(' ');
                line.push_str(w);
            }
            line.push(';');
            self.files[p.file]
                .doc
                .insert_after(plan.edits(&self.files[p.file].file), p.d, &line);
            if !dropped_default.is_empty() {
                plan.note(format!(
                    "{at}: the twin of `{text}` leaves out `{}`: another server is already the default for {twin_str}",
                    dropped_default.join(" ")
                ));
            }
            if !dropped_opts.is_empty() {
                plan.note(format!(
                    "{at}: the twin of `{text}` leaves out `{}`: another server already sets socket options for {twin_str}",
                    dropped_opts.join(" ")
                ));
            }
        }
        if !need_address.is_empty() {
            plan.warn(format!(
                "listening on a specific IPv4 address needs --address ADDR (this host's IPv6 address) for its twin: {}",
                need_address.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(s: &str) -> Listen {
        let words = s.split(' ').map(str::to_string).collect::<Vec<_>>();
        let args: Vec<_> = s.split(' ').map(std::borrow::Cow::Borrowed).collect();
        parse_listen(&args, &words).unwrap()
    }

    #[test]
    fn listen_addresses_are_read_as_nginx_reads_them() {
        let bind = |t: &str| l(t).endpoint().map(|e| e.bind.clone());
        assert_eq!(bind("80"), Some(Bind::AnyV4));
        assert_eq!(bind("*:8080"), Some(Bind::AnyV4));
        assert_eq!(bind("0.0.0.0:80"), Some(Bind::AnyV4));
        assert_eq!(
            bind("192.0.2.10:80"),
            Some(Bind::V4("192.0.2.10".parse().unwrap()))
        );
        assert_eq!(l("192.0.2.10").port(), "80");
        assert_eq!(bind("[::]:443 ssl"), Some(Bind::AnyV6));
        assert!(matches!(l("2001:db8::1:80").at, At::Refused(_)));
        assert!(matches!(l("::1").at, At::Refused(_)));
        assert_eq!(bind("localhost:80"), Some(Bind::Name("localhost".into())));
        assert!(matches!(l("unix:/run/x.sock").at, At::Unix));
        assert!(l("80 backlog=10 default").has_socket_opts());
        assert!(l("80 backlog=10 default").is_default());
    }

    #[test]
    fn twins() {
        let a: Ipv6Addr = "2001:db8::10".parse().unwrap();
        let t = |w: &str, a| match twin_of(&l(w), a) {
            Twin::Have(e) => e.render(true),
            other => format!("{other:?}"),
        };
        assert_eq!(t("80", None), "[::]:80");
        assert_eq!(t("127.0.0.1:8080", None), "[::1]:8080");
        assert_eq!(t("127.0.0.2:8080", None), "[::1]:8080");
        assert_eq!(t("192.0.2.10:80", None), "NeedAddress");
        assert_eq!(t("192.0.2.10", Some(a)), "[2001:db8::10]");
        assert_eq!(t("192.0.2.10:80", Some(a)), "[2001:db8::10]:80");
    }
}
