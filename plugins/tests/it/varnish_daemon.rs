//! Varnish and systemd check what `v6fix varnish` writes.
//!
//! For every golden output tree:
//! - `systemd-analyze verify varnish.service` with SYSTEMD_UNIT_PATH pointing at the staged
//!   unit and drop-ins (it refuses a second ExecStart= and bad `%` specifiers);
//! - the ExecStart systemd would run (unit, then drop-ins in name order, `ExecStart=`
//!   clearing the list) is merged here and must be exactly one command; for SysV setups
//!   DAEMON_OPTS is read by `sh` itself;
//! - `varnishd -C` with that command's options, inside private mount and network
//!   namespaces: the staged /etc/varnish is bind-mounted in place (so `-f` and vcl_path
//!   read the stage), the listen addresses exist on `lo`, and -C compiles the VCL and
//!   binds the `-a` sockets.
//!
//! A runtime test starts varnishd on high ports, before and after conversion, and
//! connects over 127.0.0.1 and ::1; it also shows that `-a :P -a [::]:P` is fatal.

use crate::support;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use v6fix_core::dialect::systemd;

/// The varnishd command (program and arguments) systemd would run from the staged tree.
fn merged_exec_start(tree: &Path) -> Vec<String> {
    let etc = tree.join("etc/systemd/system/varnish.service");
    let mut files = Vec::new();
    if etc.exists() {
        files.push(etc);
    } else {
        files.push(tree.join("lib/systemd/system/varnish.service"));
    }
    let dir = tree.join("etc/systemd/system/varnish.service.d");
    let mut dropins: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                .collect()
        })
        .unwrap_or_default();
    dropins.sort();
    files.extend(dropins);
    let mut cmds: Vec<Vec<String>> = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let doc = systemd::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
        for e in doc.entries() {
            if e.section == "Service" && e.key == "ExecStart" {
                if doc.value(e).is_empty() {
                    cmds.clear();
                } else {
                    let words = systemd::exec_words(&text, e).unwrap();
                    cmds.push(words.into_iter().map(|w| w.value).collect());
                }
            }
        }
    }
    assert_eq!(
        cmds.len(),
        1,
        "{}: ExecStart in effect: {cmds:?}",
        tree.display()
    );
    cmds.pop().unwrap()
}

/// DAEMON_OPTS of a SysV setup, as the shell reads it.
fn sysv_opts(tree: &Path) -> Vec<String> {
    let f = tree.join("etc/default/varnish");
    let o = Command::new("sh").arg("-n").arg(&f).output().unwrap();
    assert!(
        o.status.success(),
        "sh -n {}\n{}",
        f.display(),
        support::show(&o)
    );
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(". '{}'; printf '%s' \"$DAEMON_OPTS\"", f.display()))
        .output()
        .unwrap();
    let mut v = vec!["/usr/sbin/varnishd".to_string()];
    v.extend(
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(str::to_string),
    );
    v
}

/// The addresses named by `-a` options (for `lo` in the namespace).
fn listen_addrs(args: &[String]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = if a == "-a" {
            it.next().cloned().unwrap_or_default()
        } else if let Some(v) = a.strip_prefix("-a") {
            v.to_string()
        } else {
            continue;
        };
        let ep = v.split(',').next().unwrap_or("");
        let ep = ep.split_once('=').map_or(ep, |(_, e)| e);
        let host = if let Some(r) = ep.strip_prefix('[') {
            r.split(']').next().unwrap_or("")
        } else {
            ep.rsplit_once(':').map_or(ep, |(h, _)| h)
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            if !ip.is_unspecified() && !ip.is_loopback() {
                out.push(ip);
            }
        }
    }
    out
}

/// A working directory the varnish users can traverse.
fn workdir() -> tempfile::TempDir {
    let w = tempfile::Builder::new()
        .prefix("v6fix-varnish-")
        .tempdir_in("/var/tmp")
        .unwrap();
    std::fs::set_permissions(w.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    w
}

/// Shell-quotes one word.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs `script` in private namespaces with the tree's etc/varnish in place of
/// /etc/varnish and the given addresses on lo.
fn staged(tree: &Path, addrs: &[IpAddr], script: &str) -> Output {
    let mut pre = String::from("mount -t tmpfs none /run\n");
    for a in addrs {
        match a {
            IpAddr::V6(v6) => pre.push_str(&format!("ip -6 addr add {v6}/128 dev lo nodad\n")),
            IpAddr::V4(v4) => pre.push_str(&format!("ip addr add {v4}/32 dev lo\n")),
        }
    }
    let stage = tree.join("etc/varnish");
    support::in_namespace(&[(&stage, "/etc/varnish")], &format!("{pre}{script}"))
}

/// The varnishd options of `cmd` for a check or a foreground run (without -F and -n).
fn varnishd_args(cmd: &[String]) -> Vec<String> {
    cmd[1..].iter().filter(|a| *a != "-F").cloned().collect()
}

fn varnishd_c(tree: &Path, cmd: &[String]) -> Output {
    let w = workdir();
    let args: Vec<String> = varnishd_args(cmd).iter().map(|a| q(a)).collect();
    staged(
        tree,
        &listen_addrs(cmd),
        &format!(
            "if varnishd -C -n {w} {args} >/dev/null 2>{w}/err; then rc=0; else rc=$?; fi\n\
             grep -v '^[[:space:]]' {w}/err | grep -v '^[#/*{{}}]' | tail -n 20 || true\nexit $rc",
            w = w.path().display(),
            args = args.join(" ")
        ),
    )
}

fn analyze_verify(tree: &Path) -> Output {
    Command::new("systemd-analyze")
        .args(["verify", "varnish.service"])
        .env(
            "SYSTEMD_UNIT_PATH",
            format!(
                "{}:{}:",
                tree.join("etc/systemd/system").display(),
                tree.join("lib/systemd/system").display()
            ),
        )
        .output()
        .unwrap()
}

fn ok_cases() -> Vec<PathBuf> {
    support::cases("varnish")
        .into_iter()
        .filter(|c| !c.join("code").exists())
        .collect()
}

fn is_sysv(tree: &Path) -> bool {
    !tree.join("lib/systemd/system/varnish.service").exists()
        && !tree.join("etc/systemd/system/varnish.service").exists()
}

fn systemd_and_varnishd_accept_every_golden_output_tree() -> support::Skippable {
    support::daemon("varnishd")?;
    support::daemon("systemd-analyze")?;
    support::can_unshare()?;
    let cases = ok_cases();
    assert!(cases.len() >= 6, "golden varnish cases: {cases:?}");
    for case in cases {
        let tree = support::expected_tree(&case);
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let cmd = if is_sysv(tree.path()) {
            sysv_opts(tree.path())
        } else {
            let o = analyze_verify(tree.path());
            assert!(
                o.status.success(),
                "{name}: systemd-analyze verify\n{}",
                support::show(&o)
            );
            assert!(
                o.stderr.is_empty(),
                "{name}: systemd-analyze verify\n{}",
                support::show(&o)
            );
            merged_exec_start(tree.path())
        };
        assert!(cmd[0].ends_with("varnishd"), "{name}: {cmd:?}");
        let o = varnishd_c(tree.path(), &cmd);
        assert!(
            o.status.success(),
            "{name}: varnishd -C {cmd:?}\n{}",
            support::show(&o)
        );
        let o = vcl_only(tree.path(), &cmd);
        assert!(
            o.status.success(),
            "{name}: varnishd -C -p vcl_path=STAGE\n{}",
            support::show(&o)
        );
    }
    Ok(())
}

/// `varnishd -C -n WORKDIR -p vcl_path=STAGE… -f FILE`, no mounts: the VCL alone, read
/// from the stage (in a network namespace, since -C binds the default listener).
fn vcl_only(tree: &Path, cmd: &[String]) -> Output {
    let stage = |p: &str| {
        if p.starts_with('/') {
            format!("{}{p}", tree.display())
        } else {
            p.to_string()
        }
    };
    let mut vcl_path = "/etc/varnish:/usr/share/varnish/vcl".to_string();
    let mut file = "/etc/varnish/default.vcl".to_string();
    let mut it = cmd.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-p" => {
                if let Some(v) = it.next().and_then(|v| v.strip_prefix("vcl_path=")) {
                    vcl_path = v.to_string();
                }
            }
            "-f" => file = it.next().cloned().unwrap_or_default(),
            _ => {}
        }
    }
    let vcl_path: Vec<String> = vcl_path
        .split(':')
        .map(|d| {
            if d.starts_with("/etc/") {
                stage(d)
            } else {
                d.to_string()
            }
        })
        .collect();
    let w = workdir();
    let run = format!(
        "varnishd -C -n {} -p vcl_path={} -f {}",
        w.path().display(),
        q(&vcl_path.join(":")),
        q(&stage(&file))
    );
    Command::new("unshare")
        .args(["--net", "sh", "-c"])
        .arg(format!(
            "ip link set lo up\nif {run} >/dev/null 2>{w}/err; then rc=0; else rc=$?; fi\n\
             grep -E '^(Message|Error|Could|Running|VCL)' {w}/err || true\nexit $rc",
            w = w.path().display()
        ))
        .output()
        .unwrap()
}

fn the_checks_catch_what_v6fix_avoids() -> support::Skippable {
    // A drop-in without the empty ExecStart=, a lone `%`, and -a :P beside -a [::]:P: all
    // must fail, which also shows the checks above can fail.
    support::daemon("varnishd")?;
    support::daemon("systemd-analyze")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/varnish/dropin-no-reset");
    let before = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), before.path());
    let o = analyze_verify(before.path());
    assert!(!o.status.success(), "{}", support::show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("more than one ExecStart="),
        "{}",
        support::show(&o)
    );

    // A bracketed acl entry does not compile (v6fix writes them bare).
    let case = support::testdata().join("cases/varnish/seed");
    let tree = support::expected_tree(&case);
    let f = tree.path().join("etc/varnish/default.vcl");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("    \"::1\";\n"), "{text}");
    std::fs::write(&f, text.replace("    \"::1\";\n", "    \"[::1]\";\n")).unwrap();
    let o = vcl_only(tree.path(), &merged_exec_start(tree.path()));
    assert!(!o.status.success(), "{}", support::show(&o));

    // A single `%` starts a specifier: v6fix writes `%%` (named-proxy's `-i shop%%1`).
    let case = support::testdata().join("cases/varnish/named-proxy");
    let tree = support::expected_tree(&case);
    let f = tree
        .path()
        .join("etc/systemd/system/varnish.service.d/10-listen.conf");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("-i shop%%1"), "{text}");
    assert_eq!(
        merged_exec_start(tree.path())
            .iter()
            .filter(|w| *w == "shop%1")
            .count(),
        1
    );
    std::fs::write(&f, text.replace("-i shop%%1", "-i shop%1")).unwrap();
    let o = analyze_verify(tree.path());
    assert!(!o.status.success(), "{}", support::show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Failed to resolve unit specifiers"),
        "{}",
        support::show(&o)
    );

    let case = support::testdata().join("cases/varnish/runtime-high-ports");
    let tree = support::expected_tree(&case);
    let mut cmd = merged_exec_start(tree.path());
    cmd.extend(["-a".to_string(), "[::]:16081".to_string()]);
    let o = varnishd_c(tree.path(), &cmd);
    assert!(!o.status.success(), "{}", support::show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("-a arguments :16081 and [::]:16081 have same address"),
        "{}",
        support::show(&o)
    );
    Ok(())
}

/// Starts varnishd in the foreground from `cmd`, probes each URL, stops it; returns
/// `url code` lines (000: refused) and varnishd's own output.
fn serve_and_probe(tree: &Path, cmd: &[String], urls: &[&str]) -> String {
    let w = workdir();
    let args: Vec<String> = varnishd_args(cmd).iter().map(|a| q(a)).collect();
    let mut script = format!(
        "varnishd -F -n {} {} > {}/log 2>&1 &\npid=$!\n\
         i=0; while [ $i -lt 100 ] && ! curl -s -o /dev/null http://127.0.0.1:16082/; do sleep 0.1; i=$((i+1)); done\n",
        w.path().display(),
        args.join(" "),
        w.path().display()
    );
    for u in urls {
        script.push_str(&format!(
            "echo \"{u} $(curl -s -o /dev/null -m 3 -g -w '%{{http_code}}' '{u}' || true)\"\n"
        ));
    }
    script.push_str(&format!(
        "kill $pid\nwait $pid || true\ncat {}/log\n",
        w.path().display()
    ));
    let o = staged(tree, &listen_addrs(cmd), &script);
    assert!(o.status.success(), "{}", support::show(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn converted_varnish_accepts_connections_on_both_loopbacks() -> support::Skippable {
    support::daemon("varnishd")?;
    support::daemon("curl")?;
    support::can_unshare()?;
    let case = support::testdata().join("cases/varnish/runtime-high-ports");
    let urls: Vec<String> = [16081, 16082, 16083]
        .iter()
        .flat_map(|p| {
            [
                format!("http://{}:{p}/", Ipv4Addr::LOCALHOST),
                format!("http://[{}]:{p}/", Ipv6Addr::LOCALHOST),
            ]
        })
        .collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();

    // Before: -a :16081 is already dual-stack; 0.0.0.0:16082 and 127.0.0.1:16083 are not.
    let before = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), before.path());
    let got = serve_and_probe(before.path(), &merged_exec_start(before.path()), &urls);
    assert!(got.contains("http://127.0.0.1:16081/ 200"), "{got}");
    assert!(got.contains("http://[::1]:16081/ 200"), "{got}");
    assert!(got.contains("http://127.0.0.1:16082/ 200"), "{got}");
    assert!(got.contains("http://[::1]:16082/ 000"), "{got}");
    assert!(got.contains("http://[::1]:16083/ 000"), "{got}");

    // Convert with the binary: -a :16081 is left alone, the others get twins.
    let root = tempfile::tempdir().unwrap();
    support::copy_tree(&case.join("in"), root.path());
    let o = support::v6fix(root.path(), &["varnish"]);
    assert!(o.status.success(), "{}", support::show(&o));
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("`-a :16081` already listens on IPv4 and IPv6: left alone"));
    let cmd = merged_exec_start(root.path());
    assert_eq!(
        cmd.iter().filter(|a| a.contains("16081")).count(),
        1,
        "{cmd:?}"
    );
    let got = serve_and_probe(root.path(), &cmd, &urls);
    for u in &urls {
        assert!(got.contains(&format!("{u} 200")), "{u}\n{got}");
    }
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        systemd_and_varnishd_accept_every_golden_output_tree,
        the_checks_catch_what_v6fix_avoids,
        converted_varnish_accepts_connections_on_both_loopbacks,
    ]
}
