//! Every fixture of every dialect, cut short at each line end, with and without the final
//! newline, converted by the plugin that owns it: a file that ends inside a list, a stanza
//! or a block is where several insertions meet at one offset (the end of the file).
//!
//! For each prefix, the run either refuses (exit 2, nothing written) or converts; then the
//! files re-parse, the facts the conversion promises hold in them (checked with the core
//! dialects, not with the plugin's own reading), and a second run finds nothing to change.

use crate::support::{read_tree, show, testdata, v6fix};
use v6fix_core::dialect::{
    apache, dovecot, interfaces, nginx, postfix, pureftpd as ftpd, resolv, sshd, systemd,
    varnish as vcl,
};
use v6fix_core::Prefix;

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        postfix_main_cf,
        postfix_list_file,
        postfix_cidr_table,
        postfix_master_cf,
        pureftpd,
        varnish_vcl,
        varnish_unit,
        interfaces,
        resolv,
        dovecot,
        sshd,
        apache,
        nginx,
    ]
}

/// The network every Postfix shape adds.
const NET: &str = "2001:db8::/64";

/// Checks the converted text of the fixture's file: the facts that must hold in it.
type Facts = fn(&str) -> Result<(), String>;

/// How one dialect's fixtures are converted.
struct Shape {
    /// Fixtures: files directly under `testdata/<dir>/` whose name passes `pick`.
    dir: &'static str,
    pick: fn(&str) -> bool,
    /// Where the fixture goes under the root; `{name}` stands for the fixture's name up to
    /// its first `-` (Pure-FTPd's one-file-per-option directory).
    dest: &'static str,
    /// Other files of the root, as they are.
    others: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    facts: Facts,
}

/// Every prefix of `text` that ends at a line end, each also without its final newline,
/// plus the whole text both ways.
fn prefixes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices('\n') {
        let p = &text[..=i];
        out.push(p.to_string());
        out.push(p.trim_end_matches('\n').trim_end_matches('\r').to_string());
    }
    if !text.ends_with('\n') {
        out.push(text.to_string());
    }
    out.retain(|p| !p.trim().is_empty());
    out.dedup();
    out
}

fn run(shape: &Shape) {
    let dir = testdata().join(shape.dir);
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| (shape.pick)(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty(), "no fixtures under {}", dir.display());
    let mut failures = Vec::new();
    let mut converted = 0;
    for f in &fixtures {
        // As v6fix reads it: bytes that are not UTF-8 as reserved characters.
        let text = v6fix_core::text::decode(std::fs::read(f).unwrap()).unwrap();
        let name = f.file_name().unwrap().to_string_lossy();
        let dest = shape
            .dest
            .replace("{name}", name.split('-').next().unwrap_or(&name));
        for p in prefixes(&text) {
            match one(shape, &dest, &p) {
                Ok(true) => converted += 1,
                Ok(false) => {}
                Err(e) => failures.push(format!(
                    "{} cut to {} bytes:\n----\n{p}\n----\n{e}",
                    f.display(),
                    p.len()
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the cut fixtures went wrong:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(converted > 0, "no cut fixture of {} converted", shape.dir);
}

/// Converts one cut fixture; `Ok(true)` when the run converted, `Ok(false)` when it refused.
fn one(shape: &Shape, dest: &str, text: &str) -> Result<bool, String> {
    let root = tempfile::tempdir().unwrap();
    let write = |rel: &str, body: &str| {
        let p = root.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, v6fix_core::text::encode(body)).unwrap();
    };
    for (rel, body) in shape.others {
        write(rel, body);
    }
    write(dest, text);
    let before = read_tree(root.path());
    let o = v6fix(root.path(), shape.args);
    match o.status.code() {
        Some(2) => {
            return if read_tree(root.path()) == before {
                Ok(false)
            } else {
                Err(format!("a refusal wrote to the tree\n{}", show(&o)))
            };
        }
        Some(0) => {}
        _ => return Err(format!("unexpected exit\n{}", show(&o))),
    }
    let after = v6fix_core::text::decode(std::fs::read(root.path().join(dest)).unwrap()).unwrap();
    // The dialects parse the text after a byte order mark, as v6fix does.
    let after = after
        .strip_prefix(v6fix_core::text::BOM)
        .unwrap_or(&after)
        .to_string();
    (shape.facts)(&after).map_err(|e| format!("{e}\nafter:\n----\n{after}\n----\n{}", show(&o)))?;
    let converted = read_tree(root.path());
    let again = v6fix(root.path(), shape.args);
    if again.status.code() != Some(0) || read_tree(root.path()) != converted {
        return Err(format!(
            "a second run changed more\nafter:\n----\n{after}\n----\n{}",
            show(&again)
        ));
    }
    Ok(true)
}

fn is_net(token: &str, bracketed: bool) -> bool {
    let want = Prefix::parse_any(NET).unwrap();
    (!bracketed || token.starts_with('['))
        && Prefix::parse_any(token).is_ok_and(|p| p.is_ipv6() && p.covers(&want))
}

/// main.cf after a conversion: inet_protocols is a protocol list that enables IPv6, and an
/// inline mynetworks trusts the network (bracketed, as Postfix needs it).
fn main_cf_facts(text: &str) -> Result<(), String> {
    let doc = postfix::parse(text).map_err(|e| format!("main.cf no longer parses: {e:?}"))?;
    let protocols = doc.get("inet_protocols").ok_or("no inet_protocols")?;
    let words: Vec<&str> = protocols
        .split([',', ' ', '\t'])
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty()
        || !words
            .iter()
            .all(|w| matches!(w.to_ascii_lowercase().as_str(), "all" | "ipv4" | "ipv6"))
    {
        return Err(format!("inet_protocols = {protocols}: not a protocol list"));
    }
    if !words
        .iter()
        .any(|w| matches!(w.to_ascii_lowercase().as_str(), "all" | "ipv6"))
    {
        return Err(format!("inet_protocols = {protocols}: IPv6 not enabled"));
    }
    if let Some(m) = doc.get("mynetworks") {
        let words = || m.split([',', ' ', '\t']).filter(|w| !w.is_empty());
        // Only a list written inline: a /file list, a table or `$name` keeps it elsewhere.
        let inline = words().all(|w| !w.starts_with(['/', '$']) && !w.contains(":/"));
        if inline && !words().any(|w| is_net(w, true)) {
            return Err(format!("mynetworks = {m}: {NET} not trusted"));
        }
    }
    Ok(())
}

fn postfix_main_cf() {
    run(&Shape {
        dir: "postfix",
        pick: |n| n.ends_with(".main.cf"),
        dest: "etc/postfix/main.cf",
        others: &[],
        args: &["postfix", "--network", NET, "--address", "2001:db8::25"],
        facts: main_cf_facts,
    });
}

fn postfix_list_file() {
    run(&Shape {
        dir: "postfix",
        pick: |n| n.ends_with(".txt"),
        dest: "etc/postfix/mynetworks.txt",
        others: &[(
            "etc/postfix/main.cf",
            "inet_protocols = ipv4\nmynetworks = 127.0.0.0/8 /etc/postfix/mynetworks.txt\n",
        )],
        args: &["postfix", "--network", NET],
        facts: |text| {
            let doc = postfix::parse_list(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            if doc.entries().iter().any(|t| is_net(&t.text, true)) {
                Ok(())
            } else {
                Err(format!("{NET} not listed"))
            }
        },
    });
}

fn postfix_cidr_table() {
    run(&Shape {
        dir: "postfix",
        pick: |n| n.ends_with(".cidr"),
        dest: "etc/postfix/clients.cidr",
        others: &[(
            "etc/postfix/main.cf",
            "inet_protocols = ipv4\nmynetworks = cidr:/etc/postfix/clients.cidr\n",
        )],
        args: &["postfix", "--network", NET],
        facts: |text| {
            let doc = postfix::parse_cidr(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            if doc
                .rules()
                .any(|r| r.depth == 0 && is_net(doc.pattern(r), false))
            {
                Ok(())
            } else {
                Err(format!("no top-level rule for {NET}"))
            }
        },
    });
}

fn interfaces() {
    run(&Shape {
        dir: "interfaces",
        pick: |_| true,
        dest: "etc/network/interfaces",
        others: &[],
        args: &[
            "interfaces",
            "--address",
            "2001:db8::10/64",
            "--gateway",
            "2001:db8::1",
        ],
        facts: |text| {
            let doc = interfaces::parse(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            let has = doc.stanzas().iter().any(|s| {
                s.family == "inet6"
                    && doc.get(s, "address").is_some_and(|(_, v)| {
                        v.split('/')
                            .next()
                            .and_then(|a| a.parse::<std::net::Ipv6Addr>().ok())
                            == Some("2001:db8::10".parse().unwrap())
                    })
            });
            if has {
                Ok(())
            } else {
                Err("no inet6 stanza with address 2001:db8::10".into())
            }
        },
    });
}

fn resolv() {
    run(&Shape {
        dir: "resolv",
        pick: |_| true,
        dest: "etc/resolv.conf",
        others: &[],
        args: &["resolv", "--nameserver", "2001:db8::53"],
        facts: |text| {
            let doc = resolv::parse(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            let want: std::net::IpAddr = "2001:db8::53".parse().unwrap();
            if doc
                .nameservers()
                .iter()
                .any(|n| n.used() && n.addr().map(|a| a.0) == Some(want))
            {
                Ok(())
            } else {
                Err("2001:db8::53 is not a nameserver glibc uses".into())
            }
        },
    });
}

fn dovecot() {
    run(&Shape {
        dir: "dovecot",
        pick: |n| n.ends_with(".conf"),
        dest: "etc/dovecot/dovecot.conf",
        others: &[],
        args: &["dovecot"],
        facts: |text| {
            let doc = dovecot::parse(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            let listen = doc
                .top_level("listen")
                .last()
                .and_then(|&i| doc.setting(i))
                .map(|s| s.value.clone());
            match listen {
                // Without `listen`, Dovecot 2.x listens on `*, ::`.
                None => Ok(()),
                Some(v)
                    if dovecot::split_list(&v)
                        .iter()
                        .any(|a| matches!(*a, "::" | "[::]") || a.contains(':')) =>
                {
                    Ok(())
                }
                Some(v) => Err(format!("listen = {v}: no IPv6")),
            }
        },
    });
}

fn sshd() {
    run(&Shape {
        dir: "sshd",
        pick: |_| true,
        dest: "etc/ssh/sshd_config",
        others: &[],
        args: &["sshd", "--address", "2001:db8::10"],
        facts: |text| {
            sshd::parse(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            Ok(())
        },
    });
}

fn apache() {
    run(&Shape {
        dir: "apache",
        pick: |n| n.ends_with(".conf"),
        dest: "etc/apache2/apache2.conf",
        others: &[],
        args: &[
            "apache",
            "--address",
            "2001:db8::10",
            "--network",
            "2001:db8::/64",
        ],
        facts: |text| {
            apache::parse(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            Ok(())
        },
    });
}

fn nginx() {
    run(&Shape {
        dir: "nginx",
        pick: |n| n.ends_with(".conf") || n.starts_with("debian-"),
        dest: "etc/nginx/nginx.conf",
        others: &[],
        args: &[
            "nginx",
            "--address",
            "2001:db8::10",
            "--network",
            "2001:db8::/64",
        ],
        facts: |text| {
            nginx::parse(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            Ok(())
        },
    });
}

fn postfix_master_cf() {
    run(&Shape {
        dir: "postfix",
        pick: |n| n.starts_with("master"),
        dest: "etc/postfix/master.cf",
        others: &[(
            "etc/postfix/main.cf",
            "inet_protocols = ipv4\nmynetworks = 127.0.0.0/8 192.0.2.0/24\n",
        )],
        args: &["postfix", "--network", NET, "--address", "2001:db8::25"],
        facts: |text| {
            let doc =
                postfix::parse_master(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            let names: Vec<&str> = doc
                .services()
                .filter(|s| doc.field(s, 1) == "inet")
                .map(|s| doc.field(s, 0))
                .collect();
            // Every service bound to an IPv4 address has its IPv6 sibling on the same port.
            for name in &names {
                let Some((host, port)) = name.rsplit_once(':') else {
                    continue;
                };
                let Ok(ip) = host.parse::<std::net::Ipv4Addr>() else {
                    continue;
                };
                let twin = if ip.is_loopback() {
                    "::1"
                } else {
                    "2001:db8::25"
                };
                if !names.contains(&format!("[{twin}]:{port}").as_str()) {
                    return Err(format!("{name} has no sibling [{twin}]:{port}"));
                }
            }
            Ok(())
        },
    });
}

fn pureftpd() {
    run(&Shape {
        dir: "pureftpd",
        pick: |_| true,
        dest: "etc/pure-ftpd/conf/{name}",
        others: &[],
        args: &["pure-ftpd"],
        facts: |text| {
            ftpd::parse(text);
            Ok(())
        },
    });
}

/// The Debian unit and a secret, for the shapes that cut a VCL or a drop-in.
const VARNISH_UNIT: (&str, &str) = (
    "lib/systemd/system/varnish.service",
    include_str!("../../../testdata/systemd/varnish.service"),
);
const VARNISH_SECRET: (&str, &str) = ("etc/varnish/secret", "a secret\n");
const VARNISH_VCL: (&str, &str) = (
    "etc/varnish/default.vcl",
    include_str!("../../../testdata/varnish/debian-default.vcl"),
);

fn varnish_vcl() {
    run(&Shape {
        dir: "varnish",
        pick: |n| n.ends_with(".vcl"),
        dest: "etc/varnish/default.vcl",
        others: &[VARNISH_UNIT, VARNISH_SECRET],
        args: &["varnish", "--address", "2001:db8::10", "--network", NET],
        facts: |text| {
            let doc = vcl::parse(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            doc.acls()
                .map_err(|e| format!("its acls no longer read: {e:?}"))?;
            Ok(())
        },
    });
}

fn varnish_unit() {
    run(&Shape {
        dir: "systemd",
        pick: |n| n.starts_with("varnish") || n.starts_with("crlf"),
        dest: "etc/systemd/system/varnish.service.d/override.conf",
        others: &[VARNISH_UNIT, VARNISH_SECRET, VARNISH_VCL],
        args: &["varnish", "--address", "2001:db8::10", "--network", NET],
        facts: |text| {
            systemd::parse(text).map_err(|e| format!("no longer parses: {e:?}"))?;
            Ok(())
        },
    });
}
