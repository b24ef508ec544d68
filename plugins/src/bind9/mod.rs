//! `v6fix bind9`: named answers on IPv6, and its address match lists admit the site's
//! IPv6 networks.
//!
//! named.conf and everything it includes (Debian: named.conf.options, named.conf.local,
//! named.conf.default-zones) are read as one configuration, includes expanded where they
//! stand, inside blocks too. What is changed:
//!
//! - `listen-on-v6` (in `options`): named 9.18 listens on every IPv6 address when it is
//!   missing, which is left alone; `{ none; }` becomes `{ any; }`, or the host's addresses
//!   where `listen-on` names specific IPv4 addresses (`127.0.0.1` → `::1`, any other →
//!   `--address`), and a list of IPv6 addresses gains `--address`. A `listen-on` of
//!   specific IPv4 addresses gets a `listen-on-v6` of the host's addresses beside it.
//! - `allow-query`, `allow-recursion`, `allow-query-cache`, `allow-transfer`,
//!   `allow-notify` (in `options`, views and zones) and `acl` blocks that admit IPv4
//!   networks gain the `--network` prefixes, bare (`2001:db8::/64;`), after their last
//!   IPv4 network, and `::1` beside `127.0.0.1`; never twice in any spelling, never in a
//!   list that admits `any`.
//!
//! `-4` in OPTIONS of /etc/default/named (named ignores IPv6 then) is a warning the run
//! leaves and the audit keeps reporting: removing it needs a restart the admin plans.

mod acl;
mod conf;
mod listen;

use conf::{Conf, MAIN};
use std::path::{Path, PathBuf};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{Analysis, Args, Host, Plugin, Result, Severity};

pub(crate) struct Bind9;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Bind9) }

static NEEDS: &[Need] = &[
    Need::new(
        Fact::Address,
        "This host's IPv6 address: listen-on-v6 beside a listen-on of specific IPv4 addresses",
    ),
    Need::new(
        Fact::Networks,
        "The site's IPv6 network, added to address match lists that admit IPv4 networks",
    ),
];

impl Plugin for Bind9 {
    fn name(&self) -> &'static str {
        "bind9"
    }

    fn about(&self) -> &'static str {
        "BIND name server: listen-on-v6, site network in allow-* lists and acls"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok(match Conf::load(host)? {
            Some(c) => c.set.files.iter().map(|m| m.file.path.clone()).collect(),
            None => Vec::new(),
        })
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let Some(conf) = Conf::load(host)? else {
            return Ok(MAIN.absent(host));
        };
        let mut a = Analysis::new();
        for n in &conf.set.notes {
            a.note(n.clone());
        }
        for w in &conf.set.warnings {
            a.warn(w.clone());
        }
        ipv4_only(host, &mut a)?;
        let stmts = conf.statements();
        // Every statement of these contexts starts with its option's name, a word that
        // starts with a letter; named stops on anything else ("unknown option").
        for p in &stmts {
            let (file, doc) = conf.file(p.file);
            let named = p
                .stmt
                .keyword(&doc.src)
                .is_some_and(|k| k.starts_with(|c: char| c.is_ascii_alphabetic()));
            // A missing `;` joins two statements: named reads the first word as an
            // unknown option; v6fix would read the one it edits as something else.
            // Words are compared as written: a quoted name (`key "acl"`) is no keyword.
            let joined = p.stmt.head().skip(1).any(|t| {
                let w = doc.src[t.span.clone()].to_ascii_lowercase();
                w == "listen-on"
                    || w == "listen-on-v6"
                    || w == "acl"
                    || acl::LISTS.contains(&w.as_str())
            });
            let start = p.stmt.span.start;
            let word = || -> String {
                doc.src[start..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(40)
                    .collect()
            };
            if named && joined {
                let word = word();
                a.refuse(
                    file,
                    start,
                    format!("found `{word}` before another statement's name, expected `;` after the statement before (named stops: unknown option `{word}`)"),
                );
            } else if !named {
                a.refuse(
                    file,
                    start,
                    format!("found `{}`, expected the name of an option or statement (named stops: unknown option)", word()),
                );
            }
        }
        let listen = listen::plan(&conf, &stmts, target.address(), &mut a);
        let lists = acl::plan(&conf, &stmts, &target.networks, &mut a);
        if listen {
            a.restart(
                "named",
                "reload",
                "named-checkconf && rndc reconfig",
                "rndc reconfig re-reads named.conf and opens the new listen-on-v6 sockets \
                 (and applies changed access lists) without reloading zone files or dropping the cache",
            );
        } else if lists {
            a.restart(
                "named",
                "reload",
                "named-checkconf && rndc reload",
                "rndc reload re-reads named.conf, where the access lists live; named keeps \
                 answering meanwhile (rndc reconfig would do as well, zone files are unchanged)",
            );
        }
        Ok(a)
    }
}

/// Debian's unit runs `named -f $OPTIONS` with the options of this file.
const DEFAULT: &str = "/etc/default/named";

/// `-4` in OPTIONS: named then ignores IPv6 whatever named.conf says, which v6fix leaves
/// to the admin (a restart, not a reload, takes it away).
fn ipv4_only(host: &Host, a: &mut Analysis) -> Result<()> {
    let Some(f) = host.read(Path::new(DEFAULT))? else {
        return Ok(());
    };
    let mut at = 0;
    for line in f.text.split_inclusive('\n') {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("OPTIONS=") {
            if v.trim_matches(['"', '\''])
                .split_whitespace()
                .any(|w| w == "-4")
            {
                a.lasting(
                    &f,
                    at,
                    Severity::Warning,
                    "OPTIONS runs named with -4: it ignores IPv6 whatever named.conf says; \
                     remove -4 and restart named (systemctl restart named)",
                    "",
                );
            }
        }
        at += line.len();
    }
    Ok(())
}
