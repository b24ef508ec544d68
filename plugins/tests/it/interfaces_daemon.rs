//! Every interfaces golden case, checked by the real ifupdown: `ifup --no-act` on a staged
//! copy of the case's etc/network (input and expected output), bind-mounted over
//! /etc/network in a private mount namespace so that the fixtures' absolute `source` and
//! `source-directory` lines resolve into the stage.
//!
//! For each case that succeeds:
//! - ifup accepts the expected tree (exit 0);
//! - every `ip -6 addr add` and `ip -6 route replace default` command v6fix printed as the
//!   way to apply the change appears, as is, among the commands ifup would run;
//! - the note on what the next ifup does beyond the hint (SLAAC and router advertisements
//!   off) names exactly the `sysctl`s and the flush ifup runs;
//! - the commands of the IPv4 stanza (everything before the first inet6 stanza's output)
//!   are the same before and after.

use crate::support;
use std::path::Path;

/// ifup's command lines with blanks collapsed and empty lines dropped.
fn commands(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

/// The commands before the first inet6 stanza's output (which starts by loading IPv6).
fn ipv4_part(cmds: &[String]) -> Vec<String> {
    cmds.iter()
        .take_while(|c| !c.starts_with("modprobe -q net-pf-10"))
        .cloned()
        .collect()
}

/// The interfaces that have an `inet6 static` stanza in the tree's etc/network.
fn inet6_ifaces(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for (rel, entry) in support::read_tree(root) {
        let support::Entry::File(bytes) = entry else {
            continue;
        };
        if !rel.starts_with("etc/network") {
            continue;
        }
        for line in String::from_utf8_lossy(&bytes).lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.len() >= 4 && w[0] == "iface" && w[2] == "inet6" && w[3] == "static" {
                let n = w[1].to_string();
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
    }
    names
}

/// Runs `ifup --no-act` for `iface` on the tree at `root` and returns its command lines.
fn ifup(root: &Path, iface: &str) -> (bool, Vec<String>, String) {
    let net = root.join("etc/network");
    std::fs::create_dir_all(net.join("interfaces.d")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let script = format!(
        "ifup --no-act --no-mappings --no-scripts --state-dir='{}' -i /etc/network/interfaces '{iface}'",
        state.path().display()
    );
    let o = support::in_namespace(&[(net.as_path(), "/etc/network")], &script);
    (o.status.success(), commands(&o.stderr), support::show(&o))
}

/// The `ip -6` commands v6fix printed in the case's restart hint.
fn announced(case: &Path) -> Vec<String> {
    let stdout = std::fs::read_to_string(case.join("stdout")).unwrap_or_default();
    let mut out = Vec::new();
    for line in stdout.lines() {
        let Some(cmds) = line.strip_prefix("reload networking: ") else {
            continue;
        };
        let cmds = cmds.split("  # ").next().unwrap_or("");
        for c in cmds.split(" && ") {
            if c.starts_with("ip -6 addr add") || c.starts_with("ip -6 route replace default") {
                out.push(c.to_string());
            }
        }
    }
    out
}

fn ifupdown_accepts_every_converted_interfaces_file() -> support::Skippable {
    support::daemon("ifup")?;
    support::can_unshare()?;
    let mut checked = 0;
    let mut problems = Vec::new();
    for case in support::cases("interfaces") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let code = std::fs::read_to_string(case.join("code")).unwrap_or_default();
        let args = std::fs::read_to_string(case.join("args")).unwrap();
        // Failing runs and --check runs write nothing: there is no output tree to check.
        if code.trim() == "2" || args.split_whitespace().any(|a| a == "--check") {
            continue;
        }
        let before = tempfile::tempdir().unwrap();
        support::copy_tree(&case.join("in"), before.path());
        let after = support::expected_tree(&case);
        let ifaces = inet6_ifaces(after.path());
        if ifaces.is_empty() {
            problems.push(format!(
                "{name}: the expected tree has no inet6 static stanza"
            ));
            continue;
        }
        for iface in &ifaces {
            let (ok_before, cmds_before, show_before) = ifup(before.path(), iface);
            let (ok_after, cmds_after, show_after) = ifup(after.path(), iface);
            if !ok_before {
                problems.push(format!("{name}: ifup rejects the input\n{show_before}"));
            }
            if !ok_after {
                problems.push(format!("{name}: ifup rejects the output\n{show_after}"));
                continue;
            }
            if !cmds_after.iter().any(|c| c.starts_with("ip -6 addr add")) {
                problems.push(format!(
                    "{name}: no `ip -6 addr add` for {iface}\n{show_after}"
                ));
            }
            for want in announced(&case) {
                if !cmds_after.contains(&want) {
                    problems.push(format!(
                        "{name}: ifup does not run `{want}` for {iface}\n{show_after}"
                    ));
                }
            }
            // The note on what the next ifup does beyond the hint names exactly the
            // sysctls and the flush ifup runs for the stanza.
            let stdout = std::fs::read_to_string(case.join("stdout")).unwrap_or_default();
            if stdout.contains(&format!("the next `ifup {iface}`")) {
                for key in ["accept_ra", "autoconf"] {
                    let setting = format!("net.ipv6.conf.{iface}.{key}=0");
                    let said = stdout.contains(&format!("`sysctl {setting}`"));
                    let runs = cmds_after.contains(&format!("sysctl -q -e -w {setting}"));
                    if said != runs {
                        problems.push(format!(
                            "{name}: the note says {setting}: {said}, ifup runs it: {runs}\n{show_after}"
                        ));
                    }
                }
                let flush = format!("ip addr flush dev {iface} mngtmpaddr");
                if stdout.contains(&format!("`{flush}`")) != cmds_after.contains(&flush) {
                    problems.push(format!(
                        "{name}: the note and ifup disagree on `{flush}`\n{show_after}"
                    ));
                }
            }
            let v4_before = ipv4_part(&cmds_before);
            let v4_after = ipv4_part(&cmds_after);
            if v4_before.is_empty() || !v4_before.iter().any(|c| c.starts_with("ip addr add")) {
                problems.push(format!(
                    "{name}: no IPv4 address command for {iface} in the input's run\n{show_before}"
                ));
            }
            if v4_before != v4_after {
                problems.push(format!(
                    "{name}: the IPv4 commands changed\n--- before\n{}\n--- after\n{}",
                    v4_before.join("\n"),
                    v4_after.join("\n")
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} cases checked");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    Ok(())
}

fn ifupdown_runs_the_garbage_a_trailing_comment_makes() -> support::Skippable {
    // The reason v6fix never writes a comment on an option line, shown by ifupdown itself.
    support::daemon("ifup")?;
    support::can_unshare()?;
    let root = tempfile::tempdir().unwrap();
    let net = root.path().join("etc/network");
    std::fs::create_dir_all(&net).unwrap();
    std::fs::write(
        net.join("interfaces"),
        "iface eth0 inet6 static\n    address 2001:db8::5/64 # primary\n",
    )
    .unwrap();
    let (ok, cmds, show) = ifup(root.path(), "eth0");
    assert!(ok, "{show}");
    assert!(
        cmds.contains(&"ip -6 addr add 2001:db8::5/64 # primary dev eth0".to_string()),
        "{show}"
    );
    Ok(())
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        ifupdown_accepts_every_converted_interfaces_file,
        ifupdown_runs_the_garbage_a_trailing_comment_makes,
    ]
}
