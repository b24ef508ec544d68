//! The seeds: every fixture under `testdata/<dialect>/` laid at the machine path its plugin
//! reads, and every file of `testdata/hosts/seed` and of the golden cases' `in/` trees that
//! a plugin reads with a dialect, together with the rest of that plugin's files in the tree.

use crate::check::{dialect_of, relevant, Node, Tree};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// One fuzz target: a plugin, a tree, and the file of it to mutate.
pub(crate) struct Seed {
    /// Where it came from, for messages (`testdata/postfix/crlf.main.cf`).
    pub(crate) origin: String,
    pub(crate) plugin: &'static str,
    pub(crate) dialect: &'static str,
    pub(crate) tree: Tree,
    pub(crate) focus: usize,
}

/// Every file below `dir` (following symlinked directories) by path relative to it; a
/// symlink to a file is kept as a link.
fn files_below(dir: &Path) -> Vec<(PathBuf, Node)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, Node)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap_or(&p).to_path_buf();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_symlink() {
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push((rel, Node::Link(std::fs::read_link(&p).unwrap_or_default())));
                }
            } else if ft.is_dir() {
                walk(base, &p, out);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((rel, Node::File(bytes)));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn machine(rel: &Path) -> PathBuf {
    Path::new("/").join(rel)
}

/// A stock main.cf whose `mynetworks` reads `list` (a `cidr:` table or a file of entries).
fn main_cf_reading(list: &str) -> (PathBuf, Node) {
    (
        PathBuf::from("/etc/postfix/main.cf"),
        Node::File(
            format!("inet_protocols = ipv4\nmynetworks = 127.0.0.0/8 {list}\n").into_bytes(),
        ),
    )
}

/// The machine path of a dialect fixture, the plugin reading it there, and the other files
/// it needs.
fn place(root: &Path, dialect: &str, rel: &Path) -> Option<(&'static str, PathBuf, Tree)> {
    let name = rel.file_name()?.to_string_lossy().into_owned();
    // A README beside the fixtures says where they came from; it is no config.
    if name == "README.md" {
        return None;
    }
    let unit = || -> Tree {
        std::fs::read(root.join("systemd/varnish.service"))
            .map(|b| {
                vec![(
                    PathBuf::from("/lib/systemd/system/varnish.service"),
                    Node::File(b),
                )]
            })
            .unwrap_or_default()
    };
    let p = |s: &str| PathBuf::from(s);
    Some(match dialect {
        "apache" => ("apache", p("/etc/apache2/apache2.conf"), vec![]),
        "bind" => ("bind9", p("/etc/bind/named.conf"), vec![]),
        "dovecot" => match rel.strip_prefix("debian") {
            Ok(inner) => ("dovecot", Path::new("/etc/dovecot").join(inner), vec![]),
            Err(_) => ("dovecot", p("/etc/dovecot/dovecot.conf"), vec![]),
        },
        "exim4" if name.ends_with("update-exim4.conf.conf") => {
            ("exim4", p("/etc/exim4/update-exim4.conf.conf"), vec![])
        }
        "exim4" => ("exim4", p("/etc/exim4/exim4.conf"), vec![]),
        "interfaces" => ("interfaces", p("/etc/network/interfaces"), vec![]),
        "nginx" => ("nginx", p("/etc/nginx/nginx.conf"), vec![]),
        "postfix" if name.ends_with(".cidr") => (
            "postfix",
            p("/etc/postfix/clients.cidr"),
            vec![main_cf_reading("cidr:/etc/postfix/clients.cidr")],
        ),
        "postfix" if name.ends_with(".txt") => (
            "postfix",
            p("/etc/postfix/mynetworks.txt"),
            vec![main_cf_reading("$config_directory/mynetworks.txt")],
        ),
        "postfix" if name.starts_with("master") => (
            "postfix",
            p("/etc/postfix/master.cf"),
            vec![main_cf_reading("")],
        ),
        "postfix" => ("postfix", p("/etc/postfix/main.cf"), vec![]),
        "pureftpd" => {
            let option = name.split('-').next().unwrap_or(&name).to_string();
            (
                "pure-ftpd",
                Path::new("/etc/pure-ftpd/conf").join(option),
                vec![],
            )
        }
        "resolv" => ("resolv", p("/etc/resolv.conf"), vec![]),
        "hostsfile" => ("hosts", p("/etc/hosts"), vec![]),
        "mycnf" => ("mariadb", p("/etc/mysql/my.cnf"), vec![]),
        "postgresql" if name.contains("pg_hba") => (
            "postgresql",
            p("/etc/postgresql/15/main/pg_hba.conf"),
            vec![(
                p("/etc/postgresql/15/main/postgresql.conf"),
                Node::File(b"listen_addresses = '192.0.2.10'\n".to_vec()),
            )],
        ),
        "postgresql" => (
            "postgresql",
            p("/etc/postgresql/15/main/postgresql.conf"),
            vec![],
        ),
        "iptables" if name.starts_with("user6") => ("firewall", p("/etc/ufw/user6.rules"), vec![]),
        "iptables" if name.starts_with("user") => ("firewall", p("/etc/ufw/user.rules"), vec![]),
        "iptables" if name.starts_with("rules") => {
            ("firewall", p("/etc/iptables/rules.v4"), vec![])
        }
        "nftables" => ("firewall", p("/etc/nftables.conf"), vec![]),
        "sysctl" => ("firewall", p("/etc/sysctl.d/99-fuzz.conf"), vec![]),
        "shellvars" if name == "ufw" => ("firewall", p("/etc/default/ufw"), vec![]),
        "sshd" => ("sshd", p("/etc/ssh/sshd_config"), vec![]),
        "systemd" if name.ends_with(".service") => {
            ("varnish", p("/etc/systemd/system/varnish.service"), vec![])
        }
        "systemd" => (
            "varnish",
            Path::new("/etc/systemd/system/varnish.service.d").join(&name),
            unit(),
        ),
        "varnish" => ("varnish", p("/etc/varnish/default.vcl"), unit()),
        "vsftpd" => ("vsftpd", p("/etc/vsftpd.conf"), vec![]),
        "haproxy" => ("haproxy", p("/etc/haproxy/haproxy.cfg"), vec![]),
        "proftpd" => ("proftpd", p("/etc/proftpd/proftpd.conf"), vec![]),
        _ => return None,
    })
}

/// The plugins a golden-case group exercises: its own, or all of them for the groups that
/// span plugins.
fn group_plugins(group: &str, all: &[&'static str]) -> Vec<&'static str> {
    match all.iter().find(|p| **p == group) {
        Some(p) => vec![*p],
        None => all.to_vec(),
    }
}

/// Every seed from `testdata` for the plugins named `plugins` (the registry's names).
pub(crate) fn seeds(testdata: &Path, plugins: &[&'static str]) -> Vec<Seed> {
    let mut out = Vec::new();
    let mut seen: HashSet<(String, Tree, usize)> = HashSet::new();
    let mut push = |seed: Seed, out: &mut Vec<Seed>| {
        if seen.insert((seed.plugin.to_string(), seed.tree.clone(), seed.focus)) {
            out.push(seed);
        }
    };
    // The dialect fixtures.
    for dialect in crate::check::DIALECTS {
        let dir = testdata.join(dialect);
        for (rel, node) in files_below(&dir) {
            let Some((plugin, path, mut tree)) = place(testdata, dialect, &rel) else {
                continue;
            };
            let Some(plugin) = plugins.iter().copied().find(|p| *p == plugin) else {
                continue;
            };
            // The Debian tree of Dovecot comes whole: each file a seed, the others around it.
            if *dialect == "dovecot" && rel.starts_with("debian") {
                for (r, n) in files_below(&dir.join("debian")) {
                    let p = Path::new("/etc/dovecot").join(r);
                    if p != path {
                        tree.push((p, n));
                    }
                }
            }
            tree.insert(0, (path, node));
            let Some(d) = dialect_of(plugin, &tree[0].0) else {
                continue;
            };
            push(
                Seed {
                    origin: format!("testdata/{dialect}/{}", rel.display()),
                    plugin,
                    dialect: d,
                    tree,
                    focus: 0,
                },
                &mut out,
            );
        }
    }
    // The sample host and the golden cases' trees.
    let mut trees: Vec<(String, PathBuf, Vec<&'static str>)> = vec![(
        "testdata/hosts/seed".into(),
        testdata.join("hosts/seed"),
        plugins.to_vec(),
    )];
    let cases = testdata.join("cases");
    let mut groups: Vec<_> = std::fs::read_dir(&cases)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    groups.sort();
    for g in groups {
        let group = g
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut cs: Vec<_> = std::fs::read_dir(&g)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        cs.sort();
        for c in cs {
            let name = c
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            trees.push((
                format!("testdata/cases/{group}/{name}/in"),
                c.join("in"),
                group_plugins(&group, plugins),
            ));
        }
    }
    for (origin, dir, for_plugins) in trees {
        let files = files_below(&dir);
        for plugin in for_plugins {
            let tree: Tree = files
                .iter()
                .map(|(rel, n)| (machine(rel), n.clone()))
                .filter(|(p, _)| relevant(plugin, p))
                .collect();
            for (i, (path, node)) in tree.iter().enumerate() {
                let (Some(d), Node::File(_)) = (dialect_of(plugin, path), node) else {
                    continue;
                };
                push(
                    Seed {
                        origin: format!("{origin}{}", path.display()),
                        plugin,
                        dialect: d,
                        tree: tree.clone(),
                        focus: i,
                    },
                    &mut out,
                );
            }
        }
    }
    out
}
