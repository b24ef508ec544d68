//! `listen` directives: how nginx reads them, and their IPv6 twins.

use super::conf::{Conf, Placed, Server};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use v6fix_core::addr::host_port;
use v6fix_core::{Edits, Host, Plan};

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LHost {
    /// Port only, `*` or `0.0.0.0`: the IPv4 wildcard.
    Wild4,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    /// An IPv6 literal without brackets: nginx rejects it.
    Unbracketed(String),
    Name(String),
    Unix,
}

#[derive(Debug, Clone)]
pub(super) struct Listen {
    pub(super) host: LHost,
    port: Option<String>,
    pub(super) params: Vec<String>,
}

fn parse_listen(args: &[String]) -> Option<Listen> {
    let a = args.first()?;
    let params = args[1..].to_vec();
    let (host, port) = if a.starts_with("unix:") {
        (LHost::Unix, None)
    } else if let Some(rest) = a.strip_prefix('[') {
        let close = rest.find(']')?;
        let ip: Ipv6Addr = rest[..close].parse().ok()?;
        let port = rest[close + 1..].strip_prefix(':').map(str::to_string);
        (LHost::V6(ip), port)
    } else if a.bytes().all(|b| b.is_ascii_digit()) {
        (LHost::Wild4, Some(a.clone()))
    } else if a == "*" {
        (LHost::Wild4, None)
    } else if let Some((h, p)) = a.rsplit_once(':') {
        let port = Some(p.to_string());
        if h == "*" || h == "0.0.0.0" {
            (LHost::Wild4, port)
        } else if h.contains(':') {
            (LHost::Unbracketed(a.clone()), None)
        } else if let Ok(v4) = h.parse::<Ipv4Addr>() {
            (LHost::V4(v4), port)
        } else {
            (LHost::Name(h.to_string()), port)
        }
    } else if a == "0.0.0.0" {
        (LHost::Wild4, None)
    } else if let Ok(v4) = a.parse::<Ipv4Addr>() {
        (LHost::V4(v4), None)
    } else {
        (LHost::Name(a.clone()), None)
    };
    Some(Listen { host, port, params })
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
    fn port(&self) -> &str {
        self.port.as_deref().unwrap_or("80")
    }

    /// The address as nginx compares them: `0.0.0.0`, `192.0.2.1`, `::`; `None` for names,
    /// sockets and broken literals.
    fn addr(&self) -> Option<IpAddr> {
        match &self.host {
            LHost::Wild4 => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            LHost::V4(a) => Some(IpAddr::V4(*a)),
            LHost::V6(a) => Some(IpAddr::V6(*a)),
            _ => None,
        }
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

/// The IPv6 twin of an IPv4 listen address: `Ok(None)` when it needs `--address`.
pub(super) fn twin_addr(l: &Listen, address: Option<IpAddr>) -> Option<Option<IpAddr>> {
    match l.host {
        LHost::Wild4 => Some(Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))),
        LHost::V4(a) if a == Ipv4Addr::LOCALHOST => Some(Some(IpAddr::V6(Ipv6Addr::LOCALHOST))),
        LHost::V4(a) if a.is_loopback() => None,
        LHost::V4(_) => Some(address),
        _ => None,
    }
}

fn twin_text(ip: IpAddr, l: &Listen) -> String {
    match &l.port {
        Some(p) => host_port(ip, p),
        None => format!("[{ip}]"),
    }
}

impl Conf {
    pub(super) fn listens<'a>(
        &self,
        placed: &'a [Placed<'a>],
        servers: &[Server<'_>],
    ) -> Vec<(&'a Placed<'a>, Listen, Option<Key>)> {
        placed
            .iter()
            .filter(|p| p.d.name() == "listen" && p.server.is_some())
            .filter_map(|p| {
                let l = parse_listen(&p.d.args())?;
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
        address: Option<IpAddr>,
        edits: &mut [Edits],
        plan: &mut Plan,
    ) {
        let listens = self.listens(placed, servers);
        let mut done: HashSet<(usize, usize)> = HashSet::new();

        let mut defaults: HashSet<Key> = HashSet::new();
        let mut sockopts: HashSet<Key> = HashSet::new();
        let mut v6off: HashSet<(String, String)> = HashSet::new();
        for (_, l, key) in &listens {
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
                    v6off.insert((k.0.clone(), k.2.clone()));
                }
            }
        }
        // Which server already listens on which address, for the twin check.
        let in_server: HashSet<(Option<usize>, &Key)> = listens
            .iter()
            .filter_map(|(q, _, k)| k.as_ref().map(|k| (q.server, k)))
            .collect();
        let mut need_address = Vec::new();
        for (p, l, key) in &listens {
            let at = self.at(host, p);
            let text = self.text_of(p);
            match &l.host {
                LHost::Unbracketed(a) => {
                    plan.warn(format!(
                        "{at}: `{text}`: nginx rejects an IPv6 address without brackets; write `[{a}]` with the port after it (`[2001:db8::1]:80`); left alone"
                    ));
                    continue;
                }
                LHost::Name(n) => {
                    plan.note(format!("{at}: `{text}` names the host `{n}`: nginx binds what it resolves to; left alone"));
                    continue;
                }
                LHost::Unix | LHost::V6(_) => continue,
                LHost::Wild4 | LHost::V4(_) => {}
            }
            let Some(key) = key else { continue };
            if !done.insert((p.file, p.d.span.start)) {
                continue;
            }
            let twin = match twin_addr(l, address) {
                Some(Some(t)) => t,
                Some(None) => {
                    need_address.push(format!("{at}: `{text}`"));
                    continue;
                }
                None => {
                    plan.warn(format!("{at}: `{text}`: no IPv6 counterpart of this loopback address is known; left alone"));
                    continue;
                }
            };
            let tkey: Key = (key.0.clone(), twin, key.2.clone());
            let has_twin = in_server.contains(&(p.server, &tkey));
            let twin_str = twin_text(twin, l);
            if twin.is_unspecified() && v6off.contains(&(key.0.clone(), key.2.clone())) {
                plan.warn(format!(
                    "{at}: `{text}`: a server listens on [::]:{} with ipv6only=off, which takes IPv4 too; nginx cannot bind both and fails at start (`nginx -t` does not notice): left alone, remove one of them",
                    key.2
                ));
                continue;
            }
            if has_twin {
                plan.note(format!("{at}: `{text}` already has its twin `listen {twin_str}` in this server: left alone"));
                continue;
            }
            let mut params = Vec::new();
            let copy_opts = !sockopts.contains(&tkey);
            let mut dropped_default = Vec::new();
            let mut dropped_opts = Vec::new();
            for prm in &l.params {
                if is_default(prm) {
                    if defaults.contains(&tkey) {
                        dropped_default.push(prm.clone());
                    } else {
                        params.push(prm.clone());
                    }
                } else if param_name(prm) == "ipv6only" {
                    continue;
                } else if is_socket_opt(prm) {
                    if copy_opts {
                        params.push(prm.clone());
                    } else {
                        dropped_opts.push(prm.clone());
                    }
                } else {
                    params.push(prm.clone());
                }
            }
            if params.iter().any(|p| is_default(p)) {
                defaults.insert(tkey.clone());
            }
            if params.iter().any(|p| is_socket_opt(p)) {
                sockopts.insert(tkey.clone());
            }
            let mut line = format!("listen {twin_str}");
            for prm in &params {
                line.push(' ');
                line.push_str(prm);
            }
            line.push(';');
            self.files[p.file]
                .doc
                .insert_after(&mut edits[p.file], p.d, &line);
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
        parse_listen(&s.split(' ').map(str::to_string).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn listen_addresses_are_read_as_nginx_reads_them() {
        assert_eq!(l("80").host, LHost::Wild4);
        assert_eq!(l("*:8080").host, LHost::Wild4);
        assert_eq!(l("0.0.0.0:80").host, LHost::Wild4);
        assert_eq!(
            l("192.0.2.10:80").host,
            LHost::V4("192.0.2.10".parse().unwrap())
        );
        assert_eq!(l("192.0.2.10").port(), "80");
        assert_eq!(l("[::]:443 ssl").host, LHost::V6(Ipv6Addr::UNSPECIFIED));
        assert!(matches!(l("2001:db8::1:80").host, LHost::Unbracketed(_)));
        assert!(matches!(l("::1").host, LHost::Unbracketed(_)));
        assert!(matches!(l("localhost:80").host, LHost::Name(_)));
        assert!(matches!(l("unix:/run/x.sock").host, LHost::Unix));
        assert!(l("80 backlog=10 default").has_socket_opts());
        assert!(l("80 backlog=10 default").is_default());
    }

    #[test]
    fn twins() {
        let a: IpAddr = "2001:db8::10".parse().unwrap();
        assert_eq!(
            twin_text(twin_addr(&l("80"), None).unwrap().unwrap(), &l("80")),
            "[::]:80"
        );
        assert_eq!(
            twin_text(
                twin_addr(&l("127.0.0.1:8080"), None).unwrap().unwrap(),
                &l("127.0.0.1:8080")
            ),
            "[::1]:8080"
        );
        assert_eq!(twin_addr(&l("192.0.2.10:80"), None), Some(None));
        assert_eq!(twin_text(a, &l("192.0.2.10")), "[2001:db8::10]");
        assert_eq!(twin_text(a, &l("192.0.2.10:80")), "[2001:db8::10]:80");
    }
}
