//! The real Exim, from Debian's packages, checks what `v6fix exim4` writes. Exim conflicts
//! with Postfix as a package, so `.ci/install-daemons` unpacks exim4-daemon-light,
//! exim4-base and exim4-config under `$V6FIX_DAEMONS/exim4/` (default `/opt/v6fix-daemons`)
//! and the tests run the binaries from there:
//!
//! - Debian's `update-exim4.conf` (which reads only `/etc/exim4/`) runs in a private mount
//!   namespace where a stage, Debian's default files with the case's tree laid over them,
//!   is mounted on `/etc/exim4` (`/etc` is an overlay there, so the mount point can be made
//!   on a machine without Exim); it turns every golden input and output, split and unsplit,
//!   into the configuration Exim reads, which `exim -bV -C` accepts;
//! - `exim -bh ADDRESS -C` (Exim's SMTP session simulator, no network) shows a relay from
//!   the site network refused before the conversion and accepted after, while the IPv4
//!   network, 127.0.0.1 and ::1 still relay and an outside IPv6 client is still refused;
//! - the Exim daemon, started in a private network namespace that holds the host's
//!   addresses, listens on the IPv6 twin of every IPv4 interface after the conversion (and
//!   on IPv4 only before).

use crate::support::{self, Skip, Skippable};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where the unpacked packages are, or why the test cannot run.
fn unpacked() -> Result<PathBuf, Skip> {
    let base = std::env::var_os("V6FIX_DAEMONS")
        .map_or_else(|| PathBuf::from("/opt/v6fix-daemons"), PathBuf::from);
    let dir = base.join("exim4");
    if dir.join("usr/sbin/exim4").exists() && dir.join("usr/sbin/update-exim4.conf").exists() {
        return Ok(dir);
    }
    Err(Skip(format!(
        "Exim not unpacked under {}; .ci/install-daemons unpacks it",
        base.display()
    )))
}

/// Runs Debian's `update-exim4.conf` on the `etc/exim4` of `tree` (over Debian's default
/// files) and `exim -bV` on the result; the generated configuration's path, in `work`.
fn generate(exim: &Path, tree: &Path, work: &Path) -> Result<PathBuf, String> {
    let stage = work.join("stage");
    support::copy_tree(&exim.join("etc/exim4"), &stage);
    support::copy_tree(&tree.join("etc/exim4"), &stage);
    // A hand-maintained exim4.conf is what Exim reads; update-exim4.conf is not used then.
    let hand = stage.join("exim4.conf").exists();
    let config = if hand {
        stage.join("exim4.conf")
    } else {
        work.join("exim4.conf")
    };
    let generator = if hand {
        String::new()
    } else {
        format!(
            "sh '{}/usr/sbin/update-exim4.conf' -o '{}'\n",
            exim.display(),
            config.display()
        )
    };
    let script = format!(
        "set -e\n\
         mkdir -p '{w}/up' '{w}/wk'\n\
         mount -t overlay overlay -o lowerdir=/etc,upperdir='{w}/up',workdir='{w}/wk' /etc\n\
         mkdir -p /etc/exim4\n\
         mount --bind '{stage}' /etc/exim4\n\
         echo mx.example.org > /etc/mailname\n\
         {generator}\
         '{x}/usr/sbin/exim4' -C '{config}' -bV >/dev/null\n",
        w = work.display(),
        stage = stage.display(),
        x = exim.display(),
        config = config.display(),
    );
    let o = Command::new("unshare")
        .current_dir("/")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("run unshare");
    if o.status.success() {
        Ok(config)
    } else {
        Err(support::show(&o))
    }
}

/// Exim's answer to `RCPT TO` an outside domain from `client`, simulated with `-bh`.
fn relay(exim: &Path, config: &Path, client: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(exim.join("usr/sbin/exim4"))
        .args(["-C", &config.display().to_string(), "-bh", client])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run exim4 -bh");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"HELO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nQUIT\r\n")
        .unwrap();
    let o: Output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    // The fourth reply (greeting, HELO, MAIL, RCPT) is the verdict on the relay.
    out.lines()
        .filter(|l| {
            l.len() > 3 && l.as_bytes()[3] == b' ' && l[..3].bytes().all(|b| b.is_ascii_digit())
        })
        .nth(3)
        .map_or_else(|| format!("no RCPT reply in:\n{out}"), str::to_string)
}

/// The cases whose relaying is proven with `exim -bh` (which generates and checks them
/// with `exim -bV` too).
const RELAY_CASES: &[&str] = &[
    "internet-relay",
    "colon-lists",
    "split-semicolons",
    "single-colons",
    "ports",
    "real-satellite",
    "hand-exim4-conf",
    "split-rul",
    "template-localmacros",
];

fn update_exim4_conf_and_exim_accept_every_golden_input_and_output() -> Skippable {
    let exim = unpacked()?;
    support::can_unshare()?;
    let mut checked = 0;
    for case in support::cases("exim4") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let code = std::fs::read_to_string(case.join("code")).unwrap_or_default();
        if code.trim() == "2" || !case.join("in/etc/exim4").exists() {
            continue;
        }
        checked += 1;
        if RELAY_CASES.contains(&name.as_str()) {
            continue; // generated and checked by the relay test
        }
        let input = tempfile::tempdir().unwrap();
        support::copy_tree(&case.join("in"), input.path());
        let w = tempfile::tempdir().unwrap();
        generate(&exim, input.path(), w.path()).unwrap_or_else(|e| panic!("{name} (input): {e}"));
        if case.join("out").exists() {
            let tree = support::expected_tree(&case);
            let w = tempfile::tempdir().unwrap();
            generate(&exim, tree.path(), w.path())
                .unwrap_or_else(|e| panic!("{name} (output): {e}"));
        }
    }
    assert!(checked >= 15, "only {checked} cases checked");
    Ok(())
}

fn the_site_relays_over_ipv6_after_the_conversion_and_outsiders_still_do_not() -> Skippable {
    let exim = unpacked()?;
    support::can_unshare()?;
    for &name in RELAY_CASES {
        let case = support::testdata().join("cases/exim4").join(name);
        // A client of the site's IPv4 network.
        let v4 = if name == "real-satellite" {
            "172.16.0.5"
        } else {
            "192.0.2.5"
        };
        let before = tempfile::tempdir().unwrap();
        let config = generate(&exim, &case.join("in"), before.path()).unwrap();
        let v4_before = relay(&exim, &config, v4);
        assert!(v4_before.starts_with("250"), "{name}: {v4} got {v4_before}");
        let local_before = relay(&exim, &config, "127.0.0.1").starts_with("250");
        let v6 = relay(&exim, &config, "2001:db8::5");
        assert!(
            v6.starts_with("550"),
            "{name}: before the conversion 2001:db8::5 got {v6}"
        );

        let tree = support::expected_tree(&case);
        let after = tempfile::tempdir().unwrap();
        let config = generate(&exim, tree.path(), after.path()).unwrap();
        for client in ["2001:db8::5", v4] {
            let r = relay(&exim, &config, client);
            assert!(
                r.starts_with("250"),
                "{name}: after the conversion {client} got {r}"
            );
        }
        // Local clients that relayed still do, and over ::1 exactly as over 127.0.0.1.
        let local = relay(&exim, &config, "127.0.0.1");
        assert!(
            local.starts_with("250") || !local_before,
            "{name}: after the conversion 127.0.0.1 got {local}"
        );
        let r = relay(&exim, &config, "::1");
        assert_eq!(
            r.starts_with("250"),
            local.starts_with("250"),
            "{name}: after the conversion ::1 got {r}, 127.0.0.1 {local}"
        );
        let r = relay(&exim, &config, "2001:db8:ffff::5");
        assert!(
            r.starts_with("550"),
            "{name}: an outside IPv6 client got {r}"
        );
    }
    Ok(())
}

/// The TCP listeners (`addr:port`, IPv6 in brackets) of the Exim daemon started on
/// `config` in a private network namespace holding 192.0.2.10 and 2001:db8::10.
fn listeners(exim: &Path, config: &Path) -> Vec<String> {
    let w = tempfile::tempdir().unwrap();
    let w = w.path();
    for d in ["spool", "log"] {
        std::fs::create_dir(w.join(d)).unwrap();
    }
    std::fs::set_permissions(w, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // Exim logs and spools where the test says, not under /var.
    let text = std::fs::read_to_string(config).unwrap();
    let daemon = w.join("daemon.conf");
    std::fs::write(
        &daemon,
        format!("log_file_path = {}/log/%slog\n{text}", w.display()),
    )
    .unwrap();
    let script = format!(
        "ip addr add 192.0.2.10/32 dev lo\n\
         ip addr add 2001:db8::10/128 dev lo nodad\n\
         chown Debian-exim '{w}/spool' '{w}/log'\n\
         '{exim}' -C '{daemon}' -DSPOOLDIR='{w}/spool' -bd -oX 2525 -oP '{w}/pid'\n\
         i=0; while [ ! -s '{w}/pid' ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
         ss -Hltn\n\
         kill $(cat '{w}/pid')\n",
        w = w.display(),
        exim = exim.join("usr/sbin/exim4").display(),
        daemon = daemon.display(),
    );
    let o = support::in_namespace(&[], &script);
    assert!(o.status.success(), "{}", support::show(&o));
    let mut out: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
        .collect();
    out.sort();
    out
}

fn exim_listens_on_the_ipv6_twin_of_every_ipv4_interface_after_the_conversion() -> Skippable {
    let exim = unpacked()?;
    support::can_unshare()?;
    for name in [
        "split-semicolons",
        "ports",
        "colon-lists",
        "hand-exim4-conf",
    ] {
        let case = support::testdata().join("cases/exim4").join(name);
        let w = tempfile::tempdir().unwrap();
        let before = listeners(&exim, &generate(&exim, &case.join("in"), w.path()).unwrap());
        assert!(
            !before.is_empty() && before.iter().all(|l| !l.starts_with('[')),
            "{name}: before the conversion {before:?}"
        );
        let tree = support::expected_tree(&case);
        let w = tempfile::tempdir().unwrap();
        let after = listeners(&exim, &generate(&exim, tree.path(), w.path()).unwrap());
        for l in &before {
            let (addr, port) = l.rsplit_once(':').unwrap();
            let twin = match addr {
                "127.0.0.1" => format!("[::1]:{port}"),
                "192.0.2.10" => format!("[2001:db8::10]:{port}"),
                // Exim's IPv6 wildcard socket serves both families.
                "0.0.0.0" => format!("*:{port}"),
                other => panic!("{name}: unexpected listener {other}"),
            };
            assert!(
                after.contains(l) && after.contains(&twin),
                "{name}: {l} and {twin} wanted, after the conversion {after:?}"
            );
        }
    }
    Ok(())
}

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials!(
        update_exim4_conf_and_exim_accept_every_golden_input_and_output,
        the_site_relays_over_ipv6_after_the_conversion_and_outsiders_still_do_not,
        exim_listens_on_the_ipv6_twin_of_every_ipv4_interface_after_the_conversion,
    )
}
