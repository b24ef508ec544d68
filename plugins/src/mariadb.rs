//! `v6fix mariadb`: the MariaDB server's `bind-address`, in the my.cnf family Debian
//! installs (`/etc/my.cnf`, then `/etc/mysql/my.cnf` and what it `!include`s), read in
//! the server's groups (`[mysqld]`, `[server]`, `[mariadb]`, `[mariadbd]` and their
//! `-10.11` forms); the last value read wins.
//!
//! MariaDB 10.11 binds each entry of a comma-separated list on its own socket, and `::`
//! on an IPv6-only one (checked against the real mariadbd: with `bind-address = ::` it
//! refuses 127.0.0.1). So:
//!
//! - no `bind-address`, or `*`: every address of both families already;
//! - `0.0.0.0` becomes `0.0.0.0,::`; a specific IPv4 address gains the host's
//!   `--address` (`192.0.2.10,2001:db8::10`);
//! - `127.0.0.1` is local only and left alone, unless `--loopback` asks for `::1` beside it;
//! - accounts are per host (`'app'@'192.0.2.%'`): IPv6 clients need grants of their own,
//!   which v6fix says and never makes (it never edits the database).

use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};
use v6fix_core::addr::parse_ip;
use v6fix_core::config_set::{ConfigSet, Dirs, Include, Missing};
use v6fix_core::dialect::mycnf::{self, Doc, Kind, Opt};
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin};
use v6fix_core::plugin::ArgSpec;
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{
    Analysis, Args, Diagnostic, File, Host, MainFile, Plugin, Reach, Result, Severity,
};

pub(crate) struct Mariadb;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Mariadb) }

/// The option files the server reads first, in order.
const MAINS: &[&str] = &["/etc/my.cnf", "/etc/mysql/my.cnf"];
/// Debian's main option file, the one a host without the server lacks.
const MAIN: MainFile = MainFile::new(MAINS[1], "the MariaDB server");

/// The groups mariadbd 10.11 reads.
const GROUPS: &[&str] = &[
    "mysqld",
    "server",
    "mariadb",
    "mariadbd",
    "mysqld-10.11",
    "mariadb-10.11",
    "mariadbd-10.11",
    "client-server",
    "galera",
];

static NEEDS: &[Need] = &[Need::new(
    Fact::Address,
    "This host's IPv6 address, added beside a bind-address on a specific IPv4 address",
)];

static ARGS: &[ArgSpec] = &[ArgSpec::flag(
    "loopback",
    "Make a bind-address of 127.0.0.1 local on both families (127.0.0.1,::1)",
)];

const SPELLING: Spelling = Spelling {
    daemon: "mariadbd",
    ..Spelling::PLAIN
};

const FIX: &str = "v6fix mariadb";

fn cnf_entry(name: &str) -> bool {
    name.ends_with(".cnf")
}

/// Every option file the server reads, and its lines in reading order.
struct Conf {
    files: Vec<(File, Doc)>,
    order: Vec<(usize, usize)>,
    notes: Vec<String>,
}

impl Conf {
    fn load(host: &Host) -> Result<Option<Conf>> {
        let mut conf = Conf {
            files: Vec::new(),
            order: Vec::new(),
            notes: Vec::new(),
        };
        let mut any = false;
        for main in MAINS {
            let Some(set) = ConfigSet::load(
                host,
                "MariaDB",
                Path::new(main),
                mycnf::parse,
                |file, doc: &Doc| {
                    let dir = file.path.parent().unwrap_or(Path::new("/")).to_path_buf();
                    let mut out = Vec::new();
                    for (i, l) in doc.lines().iter().enumerate() {
                        if let Kind::Include { dir: is_dir, path } = &l.kind {
                            let inc = Include::new(
                                i,
                                l.span.start,
                                format!("!include{} {path}", if *is_dir { "dir" } else { "" }),
                                path.clone(),
                                dir.clone(),
                            )
                            .glob(false)
                            .missing(Missing::Note);
                            out.push(if *is_dir {
                                inc.dirs(Dirs::Entries(cnf_entry))
                            } else {
                                inc
                            });
                        }
                    }
                    out
                },
            )?
            else {
                continue;
            };
            any = true;
            fn expand(
                set: &ConfigSet<Doc>,
                fi: usize,
                base: usize,
                order: &mut Vec<(usize, usize)>,
            ) {
                for (i, l) in set.files[fi].doc.lines().iter().enumerate() {
                    match l.kind {
                        Kind::Option(_) => order.push((base + fi, i)),
                        Kind::Include { .. } => {
                            for j in set.included(fi, i) {
                                expand(set, j, base, order);
                            }
                        }
                        _ => {}
                    }
                }
            }
            let base = conf.files.len();
            expand(&set, 0, base, &mut conf.order);
            conf.notes.extend(set.notes);
            conf.files
                .extend(set.files.into_iter().map(|m| (m.file, m.doc)));
        }
        Ok(any.then_some(conf))
    }

    fn opt(&self, fi: usize, i: usize) -> (&File, &Opt, Option<&str>) {
        let (f, d) = &self.files[fi];
        let l = &d.lines()[i];
        let Kind::Option(o) = &l.kind else {
            unreachable!("order holds options only")
        };
        (f, o, l.group.as_deref())
    }

    /// The last value of `name` in the server's groups.
    fn last(&self, name: &str) -> Option<(&File, &Opt)> {
        self.order.iter().rev().find_map(|&(fi, i)| {
            let (f, o, g) = self.opt(fi, i);
            (o.is(name) && g.is_some_and(|g| GROUPS.contains(&g))).then_some((f, o))
        })
    }
}

impl Plugin for Mariadb {
    fn name(&self) -> &'static str {
        "mariadb"
    }

    fn about(&self) -> &'static str {
        "MariaDB server: bind-address on both families"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn args(&self) -> &'static [ArgSpec] {
        ARGS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok(match Conf::load(host)? {
            Some(c) => c.files.iter().map(|(f, _)| f.path.clone()).collect(),
            None => Vec::new(),
        })
    }

    fn analyze(&self, host: &Host, target: &Target, args: &Args) -> Result<Analysis> {
        let Some(conf) = Conf::load(host)? else {
            return Ok(MAIN.absent(host));
        };
        let mut a = Analysis::new();
        for n in &conf.notes {
            a.note(n.clone());
        }
        if let Some((f, o)) = conf.last("skip-networking") {
            if o.value
                .as_deref()
                .is_none_or(|v| !["0", "off", "false"].contains(&v.to_ascii_lowercase().as_str()))
            {
                a.note(format!(
                    "{}: skip-networking: the server takes no TCP connections; nothing to do",
                    host.locate(f, o.name_span.start)
                ));
                return Ok(a);
            }
        }
        // Said by every run and kept by the audit: the conversion cannot fix it.
        let accounts = Diagnostic {
            reach: Reach::Lasting,
            severity: Severity::Info,
            path: conf.files.first().map(|(f, _)| f.shown.clone()),
            line: None,
            message: "MariaDB accounts are per host ('app'@'192.0.2.%'): IPv6 clients match none of the IPv4 ones \
                      and need accounts and grants of their own (CREATE USER 'app'@'2001:db8::10' …); \
                      v6fix never edits the database"
                .into(),
            fix: None,
        };
        let Some((file, o)) = conf.last("bind-address") else {
            a.note("no bind-address: mariadbd listens on every address of both families");
            a.say(accounts.clone());
            return Ok(a);
        };
        let at = host.locate(file, o.name_span.start);
        let value = o.value.clone().unwrap_or_default();
        let entries: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        let ips: Vec<Option<IpAddr>> = entries.iter().map(|e| parse_ip(e)).collect();
        if entries.contains(&"*") {
            a.note(format!(
                "{at}: bind-address {value}: every address of both families already: left alone"
            ));
            a.say(accounts.clone());
            return Ok(a);
        }
        let mut add: Vec<IpAddr> = Vec::new();
        let mut need = false;
        let mut local_only = true;
        let loopback = args.flag("loopback");
        for ip in ips.iter().flatten() {
            if !ip.is_loopback() {
                local_only = false;
            }
            let ep = Endpoint::of_ip(*ip, None, &SPELLING);
            if ip.is_loopback() && ip.is_ipv4() && !loopback {
                continue;
            }
            match endpoint::twin(&ep, target.address(), &Bind::AnyV6) {
                Twin::Have(t) => {
                    let tip = t.ip().unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
                    if !ips.contains(&Some(tip)) && !add.contains(&tip) {
                        add.push(tip);
                    }
                }
                Twin::NeedAddress => {
                    if !ips
                        .iter()
                        .any(|i| matches!(i, Some(IpAddr::V6(v)) if !v.is_loopback()))
                    {
                        need = true;
                    }
                }
                Twin::None => {}
            }
        }
        if ips
            .iter()
            .any(|i| i.is_some_and(|i| i.is_ipv6() && i.is_unspecified()))
            && !ips.iter().any(|i| i.is_some_and(|i| i.is_ipv4()))
        {
            a.warn(format!(
                "{at}: bind-address {value}: mariadbd binds :: IPv6-only, so IPv4 clients are refused; `0.0.0.0,::` or `*` serves both"
            ));
        }
        for e in entries
            .iter()
            .zip(&ips)
            .filter(|(_, i)| i.is_none())
            .map(|(e, _)| e)
        {
            a.note(format!("{at}: bind-address {e} is a host name: mariadbd binds what it resolves to at start; left alone"));
        }
        if local_only && add.is_empty() {
            a.note(format!(
                "{at}: bind-address {value} is local only: left alone (--loopback adds ::1 beside it)"
            ));
            if !ips.iter().any(|i| i.is_some_and(|i| i.is_ipv6())) {
                a.find(
                    file,
                    o.name_span.start,
                    Severity::Info,
                    format!("bind-address {value}: local IPv4 clients only"),
                    "v6fix mariadb --loopback",
                );
            }
            return Ok(a);
        }
        let msg = format!("bind-address {value}: mariadbd accepts IPv4 connections only");
        if need {
            a.lasting(
                file,
                o.name_span.start,
                Severity::Warning,
                format!("{msg}: the specific IPv4 address needs --address ADDR for its IPv6 counterpart"),
                "v6fix mariadb --address ADDR",
            );
        }
        a.say(accounts.clone());
        if add.is_empty() {
            return Ok(a);
        }
        if !need {
            a.find(file, o.name_span.start, Severity::Warning, msg, FIX);
        }
        let Some(span) = o.value_span.clone() else {
            return Ok(a);
        };
        let added: Vec<String> = add.iter().map(IpAddr::to_string).collect();
        let raw = &file.text[span.clone()];
        let text = format!(",{}", added.join(","));
        // Inside the quotes when the value has them.
        let end = if raw.len() >= 2
            && (raw.ends_with('"') || raw.ends_with('\''))
            && raw[..1] == raw[raw.len() - 1..]
        {
            span.end - 1
        } else {
            span.end
        };
        a.edits(file).insert(end, text);
        a.note(format!(
            "{at}: bind-address {value} gains {}: mariadbd binds each entry of the list on its own socket, an IPv6 one IPv6-only",
            added.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
        ));
        a.restart(
            "mariadb",
            "restart",
            "systemctl restart mariadb",
            "bind-address is read only when mariadbd starts; a restart ends open connections",
        );
        Ok(a)
    }
}
