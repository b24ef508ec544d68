//! `v6fix apache`: IPv6 listeners, virtual host addresses and access rules for Apache 2.4.
//!
//! Apache binds a port-only `Listen 80` (and `Listen [::]:80`) as one socket with
//! IPV6_V6ONLY off, so it already accepts both families; `*:80` virtual hosts match both.
//! Those are left alone, and no `Listen [::]:80` is ever added beside them: that passes
//! `apache2 -t` and then fails to start with "Address already in use". What is changed:
//!
//! - `Listen 0.0.0.0:P` gains `Listen [::]:P`; `Listen 192.0.2.10:P` gains
//!   `Listen [--address]:P`; `Listen 127.0.0.1:P` gains `Listen [::1]:P`. The twin goes
//!   right after its original, inside the same `<IfModule>` block, with the same
//!   indentation and protocol argument.
//! - `<VirtualHost 192.0.2.10:P>` gains `[--address]:P` (and `127.0.0.1:P` gains `[::1]:P`),
//!   so IPv6 clients reach the same site instead of the default one.
//! - `Require ip` and `Allow from` lines that admit IPv4 networks gain each `--network`
//!   prefix, bare; `127.0.0.1` gains `::1`. Brackets there are an error in Apache and are
//!   removed.
//! - Unbracketed IPv6 literals in `Listen` and `<VirtualHost>` are bracketed the way Apache
//!   reads them (the last `:` separates the port).
//!
//! Restart, not reload, after Listen changes: a graceful reload (SIGUSR1) does bind new
//! Listen lines, but when one cannot be bound (an address not up yet) Apache logs "no
//! listening sockets available, shutting down" and exits, while `systemctl reload` has
//! already reported success (verified with Apache 2.4 on Debian 12). A restart reports the
//! failure where the operator looks. Changes to virtual host addresses and access rules
//! alone only need a reload.
//!
//! v6fix computes the resulting listener set itself and skips a twin that would collide
//! with a listener already there. Listeners under different `<IfModule>`/`<IfDefine>`
//! conditions (Debian's ports.conf has `Listen 443` for both ssl_module and
//! mod_gnutls.c) are taken as alternatives that are never active together.
//!
//! IPv4 loopback listeners such as `Listen 127.0.0.1:8080` (a backend behind a local
//! Varnish) get a `[::1]` twin: nothing outside the host can reach either, the proxy keeps
//! connecting over 127.0.0.1, and local clients that resolve `localhost` to `::1` first
//! reach the backend too. This needs no `--address`.

mod acl;
mod addr;
mod analysis;
mod conf;
mod listen;
mod vhost;

use conf::{Conf, MAIN};
use std::net::Ipv6Addr;
use std::path::PathBuf;
use v6fix_core::dialect::apache::Kind;
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, Args, Host, Plugin, Prefix, Result};

pub(crate) struct Apache;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Apache) }

static NEEDS: &[Need] = &[
    Need::new(
        Fact::Address,
        "This host's IPv6 address: the twin of listeners and virtual hosts on a specific IPv4 address",
    ),
    Need::new(
        Fact::Networks,
        "The site's IPv6 network, added to `Require ip` and `Allow from` lines that admit IPv4 networks",
    ),
];

impl Plugin for Apache {
    fn name(&self) -> &'static str {
        "apache"
    }

    fn about(&self) -> &'static str {
        "Apache 2.4: IPv6 twins for IPv4-only Listen and VirtualHost addresses, IPv6 networks in Require ip/Allow from"
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
        let mut a = analyze(host, &conf, target.address(), &target.networks);
        a.restart(
            "apache2",
            "reload",
            "apache2ctl configtest && systemctl reload apache2",
            "only virtual host addresses and access rules changed: a graceful reload applies them",
        );
        Ok(a)
    }
}

/// Works out every change (with `address`/`networks` as given; `None`/empty for an audit)
/// and every finding.
fn analyze(host: &Host, conf: &Conf, address: Option<Ipv6Addr>, networks: &[Prefix]) -> Analysis {
    let mut a = Analysis::new();
    for w in &conf.warnings {
        a.warn(w.clone());
    }
    for n in &conf.notes {
        a.note(n.clone());
    }
    listen::listeners(host, conf, address, &mut a);
    // Virtual hosts.
    for (file, doc) in &conf.files {
        for (i, it) in doc.sections("VirtualHost") {
            vhost::vhost(file, doc, i, it, address, &mut a);
        }
    }
    // Access rules.
    for (file, doc) in &conf.files {
        for (i, it) in doc.items().iter().enumerate() {
            if it.kind != Kind::Directive {
                continue;
            }
            let first = doc.arg(it, 0).map(|w| w.text);
            let first_is = |w: &str| first.is_some_and(|f| f.eq_ignore_ascii_case(w));
            let label = if doc.is(it, "Require") && first_is("ip") {
                "Require ip"
            } else if doc.is(it, "Allow") && first_is("from") {
                "Allow from"
            } else {
                continue;
            };
            acl::acl(file, doc, i, label, networks, &mut a);
        }
    }
    a
}
