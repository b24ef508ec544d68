//! `v6fix nginx`: IPv6 twins for IPv4-only `listen` directives, and the site's IPv6
//! network in `allow` lists.
//!
//! In nginx a port-only `listen 80;` binds `0.0.0.0:80` only, and `listen [::]:80;` binds
//! IPv6 only (`ipv6only=on` is the default), so a dual-stack server needs both. Each
//! IPv4-only listen gets its twin right after it: `[::]:P` for the wildcard, `[::1]:P`
//! for `127.0.0.1`, `[--address]:P` for a specific address. The twin copies
//! `default_server` unless another server already is the default for that address,
//! copies `ssl`, `http2` and the other protocol flags, copies socket options only where no
//! server sets them for that address yet, and never says `ipv6only=off` (beside an IPv4
//! wildcard on the same port that fails to bind at start, while `nginx -t` passes).
//! Includes are followed the way nginx does (globs, relative to /etc/nginx, Debian's
//! absolute ones inside --root; sites-enabled without a suffix filter).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use v6fix_core::addr::host_port;
use v6fix_core::dialect::nginx::{self, Directive, Doc};
use v6fix_core::{
    ArgSpec, Args, Edits, Error, File, Finding, Host, Plan, Plugin, Prefix, Result, Severity,
};

pub(crate) struct Nginx;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Nginx) }

const MAIN: &str = "/etc/nginx/nginx.conf";
const PREFIX_DIR: &str = "/etc/nginx";

static ARGS: &[ArgSpec] = &[
    ArgSpec::value(
        "address",
        "ADDR",
        "This host's IPv6 address: the twin of listens on a specific IPv4 address",
    ),
    ArgSpec::value(
        "network",
        "PREFIX",
        "The site's IPv6 network, added to allow lists that admit IPv4 networks",
    )
    .multiple(),
];

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

impl Plugin for Nginx {
    fn name(&self) -> &'static str {
        "nginx"
    }

    fn about(&self) -> &'static str {
        "nginx: IPv6 twins for IPv4-only listen directives, site network in allow lists"
    }

    fn args(&self) -> &'static [ArgSpec] {
        ARGS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok(Conf::load(host)?.map_or_else(Vec::new, |c| {
            c.files.iter().map(|f| f.file.path.clone()).collect()
        }))
    }

    fn audit(&self, host: &Host) -> Result<Vec<Finding>> {
        let Some(conf) = Conf::load(host)? else {
            return Ok(Vec::new());
        };
        Ok(conf.audit(host))
    }

    fn plan(&self, host: &Host, args: &Args) -> Result<Plan> {
        let address = args.ipv6("address")?;
        let networks = args.networks("network")?;
        if let Some(n) = networks.iter().find(|n| !n.is_ipv6()) {
            return Err(Error::usage(format!("--network {n}: not an IPv6 network")));
        }
        let Some(conf) = Conf::load(host)? else {
            return Err(Error::usage(format!(
                "{}: not found; is nginx installed?",
                host.display(Path::new(MAIN))
            )));
        };
        conf.plan(host, address, &networks)
    }
}

struct Loaded {
    file: File,
    doc: Doc,
}

/// A directive where nginx sees it: its file, its block context, its server.
struct Placed<'a> {
    file: usize,
    d: &'a Directive,
    /// Index into `Conf::servers` of the enclosing `server` block.
    server: Option<usize>,
    /// The innermost enclosing block instance (allow lists are per block).
    block: usize,
}

struct Server<'a> {
    /// `http`, `stream` or `mail`: each has its own listening sockets.
    proto: String,
    _d: &'a Directive,
}

struct Conf {
    files: Vec<Loaded>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LHost {
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
struct Listen {
    host: LHost,
    port: Option<String>,
    params: Vec<String>,
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
fn twin_addr(l: &Listen, address: Option<IpAddr>) -> Option<Option<IpAddr>> {
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
    fn load(host: &Host) -> Result<Option<Conf>> {
        let mut conf = Conf { files: Vec::new() };
        if host.read(Path::new(MAIN))?.is_none() {
            return Ok(None);
        }
        let mut todo = vec![PathBuf::from(MAIN)];
        let mut seen = HashSet::new();
        while let Some(path) = todo.pop() {
            let Some(file) = host.read(&path)? else {
                continue;
            };
            if !seen.insert(file.target.clone()) {
                continue;
            }
            let doc = nginx::parse(&file.text).map_err(|e| host.parse_error(&file, e))?;
            let mut found = Vec::new();
            for (_, d) in doc.directives() {
                if d.name() == "include" {
                    if let Some(p) = d.args().first() {
                        found.extend(host.glob(&include_pattern(p))?);
                    }
                }
            }
            conf.files.push(Loaded { file, doc });
            // Depth first, in include order.
            for f in found.into_iter().rev() {
                todo.push(f);
            }
        }
        Ok(Some(conf))
    }

    fn index_of(&self, host: &Host, path: &Path) -> Option<usize> {
        let target = host.resolve(path).ok()?;
        self.files.iter().position(|f| f.file.target == target)
    }

    /// Every directive where nginx sees it, includes expanded in place.
    fn placed<'a>(&'a self, host: &Host) -> Result<(Vec<Placed<'a>>, Vec<Server<'a>>)> {
        struct St<'a> {
            out: Vec<Placed<'a>>,
            servers: Vec<Server<'a>>,
            blocks: usize,
        }
        #[allow(clippy::too_many_arguments)]
        fn go<'a>(
            conf: &'a Conf,
            host: &Host,
            file: usize,
            items: &'a [nginx::Item],
            ctx: &mut Vec<String>,
            server: Option<usize>,
            block: usize,
            depth: usize,
            st: &mut St<'a>,
        ) -> Result<()> {
            for it in items {
                let nginx::ItemKind::Directive(d) = &it.kind else {
                    continue;
                };
                if d.name() == "include" && depth < 16 {
                    if let Some(p) = d.args().first() {
                        for m in host.glob(&include_pattern(p))? {
                            if let Some(i) = conf.index_of(host, &m) {
                                go(
                                    conf,
                                    host,
                                    i,
                                    &conf.files[i].doc.items,
                                    ctx,
                                    server,
                                    block,
                                    depth + 1,
                                    st,
                                )?;
                            }
                        }
                    }
                    continue;
                }
                st.out.push(Placed {
                    file,
                    d,
                    server,
                    block,
                });
                if let Some(b) = &d.block {
                    let mut inner_server = server;
                    if d.name() == "server"
                        && matches!(
                            ctx.last().map(String::as_str),
                            Some("http" | "stream" | "mail")
                        )
                    {
                        st.servers.push(Server {
                            proto: ctx.last().cloned().unwrap_or_default(),
                            _d: d,
                        });
                        inner_server = Some(st.servers.len() - 1);
                    }
                    st.blocks += 1;
                    let id = st.blocks;
                    ctx.push(d.name().to_string());
                    go(conf, host, file, &b.items, ctx, inner_server, id, depth, st)?;
                    ctx.pop();
                }
            }
            Ok(())
        }
        let mut st = St {
            out: Vec::new(),
            servers: Vec::new(),
            blocks: 0,
        };
        go(
            self,
            host,
            0,
            &self.files[0].doc.items,
            &mut Vec::new(),
            None,
            0,
            0,
            &mut st,
        )?;
        Ok((st.out, st.servers))
    }

    fn listens<'a>(
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

    fn at(&self, host: &Host, p: &Placed<'_>) -> String {
        host.locate(&self.files[p.file].file, p.d.span.start)
    }

    fn text_of(&self, p: &Placed<'_>) -> String {
        let src = &self.files[p.file].doc.src;
        let words: Vec<&str> = p.d.words.iter().map(|w| &src[w.span.clone()]).collect();
        words.join(" ")
    }

    fn plan(&self, host: &Host, address: Option<IpAddr>, networks: &[Prefix]) -> Result<Plan> {
        let mut plan = Plan::new();
        let (placed, servers) = self.placed(host)?;
        let listens = self.listens(&placed, &servers);
        let mut edits: Vec<Edits> = self.files.iter().map(|_| Edits::new()).collect();
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

        self.plan_access(host, &placed, networks, &mut edits, &mut plan);

        for (i, e) in edits.iter().enumerate() {
            let path = &self.files[i].file.path;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let backup = [
                ".bak",
                ".orig",
                ".old",
                ".save",
                ".dpkg-old",
                ".dpkg-dist",
                "~",
            ];
            if !e.is_empty() && backup.iter().any(|b| name.ends_with(b)) {
                plan.note(format!(
                    "{}: changed because nginx includes it (its include pattern has no suffix filter), though its name looks like a backup copy",
                    host.display(path)
                ));
            }
        }

        for (i, e) in edits.into_iter().enumerate() {
            if !e.is_empty() {
                let f = &self.files[i];
                plan.change(&f.file, e.apply(&f.doc.src));
            }
        }
        if plan.changed() {
            plan.restart(
                "nginx",
                "reload",
                "nginx -t && systemctl reload nginx",
                "a reload re-reads the config and opens the new listen sockets",
            );
        }
        Ok(plan)
    }

    /// allow/deny lists, block by block.
    fn plan_access(
        &self,
        host: &Host,
        placed: &[Placed<'_>],
        networks: &[Prefix],
        edits: &mut [Edits],
        plan: &mut Plan,
    ) {
        // allow/deny by block, blocks in the order first seen.
        let mut by_block: Vec<(usize, Vec<&Placed<'_>>)> = Vec::new();
        let mut slot: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        for p in placed {
            if p.d.name() != "allow" && p.d.name() != "deny" {
                continue;
            }
            let i = *slot.entry(p.block).or_insert_with(|| {
                by_block.push((p.block, Vec::new()));
                by_block.len() - 1
            });
            by_block[i].1.push(p);
        }
        let mut need_network = Vec::new();
        let mut done: HashSet<(usize, usize)> = HashSet::new();
        for (_, list) in by_block {
            if !done.insert((list[0].file, list[0].d.span.start)) {
                continue;
            }
            let mut allows: Vec<(&Placed<'_>, Prefix)> = Vec::new();
            for p in &list {
                let args = p.d.args();
                let Some(a) = args.first() else { continue };
                if a == "all" || a.starts_with("unix:") {
                    continue;
                }
                let Ok(prefix) = Prefix::parse_any(a) else {
                    continue;
                };
                if a.contains('[') {
                    let w = &p.d.words[1];
                    edits[p.file].replace(w.span.clone(), prefix_text(&prefix));
                    plan.note(format!(
                        "{}: `{}`: nginx rejects brackets here; written `{}`",
                        self.at(host, p),
                        self.text_of(p),
                        prefix_text(&prefix)
                    ));
                }
                if p.d.name() == "deny" {
                    if !prefix.is_ipv6() {
                        plan.warn(format!(
                            "{}: `{}` blocks IPv4 clients only; v6fix cannot know which IPv6 networks to block as well",
                            self.at(host, p),
                            self.text_of(p)
                        ));
                    }
                    continue;
                }
                allows.push((p, prefix));
            }
            let covered = |n: &Prefix| allows.iter().any(|(_, a)| a.is_ipv6() && a.covers(n));
            let v4: Vec<&(&Placed<'_>, Prefix)> =
                allows.iter().filter(|(_, a)| !a.is_ipv6()).collect();
            let Some(last) = v4.last() else { continue };
            let lo6 = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
            let lo4 = Prefix::parse("127.0.0.0/8").expect("constant");
            if let Some((lp, _)) = v4
                .iter()
                .find(|(_, a)| lo4.covers(a) && a.contains(IpAddr::V4(Ipv4Addr::LOCALHOST)))
            {
                if !covered(&lo6) {
                    self.files[lp.file]
                        .doc
                        .insert_after(&mut edits[lp.file], lp.d, "allow ::1;");
                }
            }
            let site = v4.iter().any(|(_, a)| !lo4.covers(a));
            if !site {
                continue;
            }
            if networks.is_empty() {
                need_network.push(format!(
                    "{}: `{}`",
                    self.at(host, last.0),
                    self.text_of(last.0)
                ));
            }
            for n in networks {
                if !covered(n) {
                    let lp = last.0;
                    self.files[lp.file].doc.insert_after(
                        &mut edits[lp.file],
                        lp.d,
                        &format!("allow {};", prefix_text(n)),
                    );
                }
            }
        }
        if !need_network.is_empty() {
            plan.warn(format!(
                "allow lists admit IPv4 networks only; give --network PREFIX to admit the site's IPv6 network: {}",
                need_network.join(", ")
            ));
        }
    }

    fn audit(&self, host: &Host) -> Vec<Finding> {
        let mut out = Vec::new();
        let Ok((placed, servers)) = self.placed(host) else {
            return out;
        };
        let listens = self.listens(&placed, &servers);
        let finding = |p: &Placed<'_>, severity: Severity, message: String, fix: Option<&str>| {
            let f = &self.files[p.file];
            Finding {
                severity,
                path: host.display(&f.file.path),
                line: Some(f.file.line_col(p.d.span.start).line),
                message,
                fix: fix.map(str::to_string),
            }
        };
        let mut v4wild: HashMap<(String, String), bool> = HashMap::new();
        for (_, l, key) in &listens {
            if let (Some(k), LHost::Wild4) = (key, &l.host) {
                v4wild.insert((k.0.clone(), k.2.clone()), true);
            }
        }
        for (p, l, key) in &listens {
            let text = self.text_of(p);
            match &l.host {
                LHost::Unbracketed(_) => out.push(finding(
                    p,
                    Severity::Error,
                    format!("`{text}`: nginx rejects an IPv6 address without brackets"),
                    None,
                )),
                LHost::V6(a)
                    if a.is_unspecified()
                        && l.params.iter().any(|x| x == "ipv6only=off")
                        && key.as_ref().is_some_and(|k| v4wild.contains_key(&(k.0.clone(), k.2.clone()))) =>
                {
                    out.push(finding(
                        p,
                        Severity::Error,
                        format!("`{text}` takes IPv4 too, so the IPv4 wildcard listen on the same port fails to bind at start"),
                        None,
                    ))
                }
                LHost::Wild4 | LHost::V4(_) => {
                    let Some(k) = key else { continue };
                    let twin = twin_addr(l, None);
                    let has_v6 = listens.iter().any(|(q, ql, qk)| {
                        q.server == p.server
                            && matches!(ql.host, LHost::V6(_))
                            && qk.as_ref().is_some_and(|qk| qk.2 == k.2)
                            && match twin {
                                Some(Some(t)) => qk.as_ref().is_some_and(|qk| qk.1 == t),
                                _ => true,
                            }
                    });
                    if !has_v6 {
                        let fix = match twin {
                            Some(Some(_)) => "v6fix nginx",
                            _ => "v6fix nginx --address ADDR",
                        };
                        out.push(finding(
                            p,
                            Severity::Warning,
                            format!("`{text}` accepts IPv4 only and this server has no IPv6 listen on port {}", k.2),
                            Some(fix),
                        ));
                    }
                }
                _ => {}
            }
        }
        // Addresses in the wrong spelling elsewhere.
        for p in &placed {
            let args = p.d.args();
            let name = p.d.name();
            let Some(a) = args.first() else { continue };
            let bad = match name {
                "set_real_ip_from" => a
                    .starts_with('[')
                    .then_some("nginx rejects a bracketed address here"),
                "proxy_pass" | "fastcgi_pass" | "uwsgi_pass" | "scgi_pass" | "grpc_pass" => {
                    let host = a.split_once("://").map_or(a.as_str(), |(_, r)| r);
                    let host = host.split('/').next().unwrap_or("");
                    (host.matches(':').count() >= 2 && !host.starts_with('[')).then_some(
                        "an IPv6 address in a URL needs brackets: `http://[2001:db8::1]:8080`",
                    )
                }
                "server" if p.server.is_none() && !a.starts_with("unix:") => {
                    (a.matches(':').count() >= 2 && !a.starts_with('['))
                        .then_some("an upstream IPv6 address needs brackets: `[2001:db8::1]:8080`")
                }
                _ => None,
            };
            if let Some(why) = bad {
                out.push(finding(
                    p,
                    Severity::Error,
                    format!("`{}`: {why}", self.text_of(p)),
                    None,
                ));
            }
        }
        // allow lists
        let mut by_block: HashMap<usize, Vec<&Placed<'_>>> = HashMap::new();
        let mut order = Vec::new();
        for p in &placed {
            if p.d.name() == "allow" || p.d.name() == "deny" {
                if !by_block.contains_key(&p.block) {
                    order.push(p.block);
                }
                by_block.entry(p.block).or_default().push(p);
            }
        }
        for b in order {
            let list = &by_block[&b];
            let mut v4 = None;
            let mut v6 = false;
            for p in list {
                let args = p.d.args();
                let Some(a) = args.first() else { continue };
                let Ok(prefix) = Prefix::parse_any(a) else {
                    continue;
                };
                if a.contains('[') {
                    out.push(finding(
                        p,
                        Severity::Error,
                        format!(
                            "`{}`: nginx rejects a bracketed address here",
                            self.text_of(p)
                        ),
                        Some("v6fix nginx"),
                    ));
                }
                if p.d.name() == "allow" {
                    if prefix.is_ipv6() {
                        v6 = true;
                    } else {
                        v4.get_or_insert(*p);
                    }
                }
            }
            if let (Some(p), false) = (v4, v6) {
                out.push(finding(
                    p,
                    Severity::Warning,
                    "this allow list admits no IPv6 client".to_string(),
                    Some("v6fix nginx --network PREFIX"),
                ));
            }
        }
        out
    }
}

fn prefix_text(p: &Prefix) -> String {
    if p.is_host() {
        p.addr().to_string()
    } else {
        p.to_string()
    }
}

/// An include pattern as a machine path: relative ones are relative to /etc/nginx.
fn include_pattern(p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{PREFIX_DIR}/{p}")
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

#[cfg(test)]
mod audit_tests {
    use super::*;
    use std::path::Path;

    fn copy(src: &Path, dst: &Path) {
        std::fs::create_dir_all(dst).unwrap();
        let Ok(entries) = std::fs::read_dir(src) else {
            return;
        };
        for e in entries {
            let e = e.unwrap();
            let to = dst.join(e.file_name());
            let ft = e.file_type().unwrap();
            if ft.is_symlink() {
                let _ = std::fs::remove_file(&to);
                std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &to).unwrap();
            } else if ft.is_dir() {
                copy(&e.path(), &to);
            } else {
                std::fs::copy(e.path(), &to).unwrap();
            }
        }
    }

    /// Audit findings of warning level or worse for a case's input (`out` false) or its
    /// converted tree (`out` true).
    fn serious(case: &str, out: bool) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/cases/nginx")
            .join(case);
        let t = tempfile::tempdir().unwrap();
        copy(&dir.join("in"), t.path());
        if out {
            copy(&dir.join("out"), t.path());
        }
        let host = Host::new(t.path()).unwrap();
        Nginx
            .audit(&host)
            .unwrap()
            .into_iter()
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| f.to_string().replace(&t.path().display().to_string(), ""))
            .collect()
    }

    #[test]
    fn converted_trees_audit_clean_and_inputs_do_not() {
        for case in [
            "shop",
            "multiline-crlf",
            "runtime-high-ports",
            "debian-default",
        ] {
            assert_eq!(serious(case, true), Vec::<String>::new(), "{case}");
        }
        let shop = serious("shop", false);
        assert!(shop.iter().any(|f| f.contains("/etc/nginx/sites-enabled/shop:3: warning: `listen 80 default_server` accepts IPv4 only")), "{shop:#?}");
        assert!(
            shop.iter()
                .any(|f| f.contains("intranet:5: error: `allow [2001:db8:ffff::]/48`")),
            "{shop:#?}"
        );
        assert!(
            shop.iter().any(
                |f| f.contains("office.conf:1: warning: this allow list admits no IPv6 client")
            ),
            "{shop:#?}"
        );
        assert!(
            shop.iter()
                .any(|f| f.contains("`listen 192.0.2.10:8080` accepts IPv4 only")
                    && f.contains("--address ADDR")),
            "{shop:#?}"
        );
        let trap = serious("ipv6only-off", true);
        assert!(
            trap.iter()
                .any(|f| f.contains("error: `listen [::]:80 ipv6only=off` takes IPv4 too")),
            "{trap:#?}"
        );
        assert!(serious("debian-default", false).is_empty());
    }

    #[test]
    fn misspelt_ipv6_literals_are_errors() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("etc/nginx")).unwrap();
        std::fs::write(
            t.path().join("etc/nginx/nginx.conf"),
            "events {}\nhttp {\n upstream be { server ::1:8080; server [::1]:8081; }\n server {\n  listen [::]:80;\n  listen 2001:db8::1:80;\n  set_real_ip_from [2001:db8::]/32;\n  location / { proxy_pass http://::1:8080; }\n  location /b { proxy_pass http://[::1]:8080/b; }\n }\n}\n",
        )
        .unwrap();
        let host = Host::new(t.path()).unwrap();
        let got: Vec<(Option<usize>, Severity)> = Nginx
            .audit(&host)
            .unwrap()
            .iter()
            .map(|f| (f.line, f.severity))
            .collect();
        assert_eq!(
            got,
            [
                (Some(6), Severity::Error),
                (Some(3), Severity::Error),
                (Some(7), Severity::Error),
                (Some(8), Severity::Error)
            ]
        );
    }
}
