//! The Ansible collection in `ansible/`, with ansible-core 2.19 from PyPI in a virtualenv
//! this test makes (`target/ansible-venv`, kept between runs):
//!
//! - the sample playbook of the collection's README against localhost, on a copy of
//!   `testdata/hosts/seed`: check mode shows the diff and writes nothing; applying converts
//!   the copy exactly as `v6fix all` does and runs v6fix's restart commands once, in its
//!   order; a second run changes nothing; a bad network fails with v6fix's message;
//! - the module's own contract (`plugins/tests/it/playbooks/module.yml`);
//! - the same playbook over SSH against a second host: an sshd on a throwaway key in a
//!   network namespace, with v6fix installed there from the .deb (`V6FIX_DEB`);
//! - `ansible-test sanity` on the collection.
//!
//! Without python3-venv, sshd, namespaces or the .deb these tests say `SKIPPED` locally;
//! on CI (`CI=true`) they fail.

use crate::support::{self, copy_tree, read_tree, show, testdata, Entry, Skip, Skippable};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The ansible-core series the collection is tested with.
const ANSIBLE_CORE: &str = "ansible-core>=2.19,<2.20";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Why a test cannot run here: a [`Skip`] locally, a failure on CI.
fn skip(why: &str) -> Skip {
    if support::on_ci() {
        panic!("{why}");
    }
    Skip(why.to_string())
}

/// The virtualenv's `bin/` with ansible-core, made on first use.
fn venv() -> Result<PathBuf, Skip> {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let r = VENV.get_or_init(|| {
        let dir = workspace().join("target/ansible-venv");
        let bin = dir.join("bin");
        let ready = Command::new(bin.join("ansible"))
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("core 2.19."));
        if ready {
            return Ok(bin);
        }
        // Debian's python3 (with python3-venv), not whatever python3 comes first on PATH.
        let python = support::daemon("python3").map_err(|s| s.0)?;
        let o = Command::new(&python)
            .args(["-m", "venv", "--clear"])
            .arg(&dir)
            .output()
            .unwrap();
        if !o.status.success() {
            return Err(format!(
                "python3 -m venv failed (python3-venv): {}",
                show(&o)
            ));
        }
        let o = Command::new(bin.join("pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                ANSIBLE_CORE,
            ])
            .output()
            .unwrap();
        if !o.status.success() {
            return Err(format!("pip install {ANSIBLE_CORE} failed: {}", show(&o)));
        }
        Ok(bin)
    });
    match r {
        Ok(bin) => Ok(bin.clone()),
        Err(e) => Err(skip(e)),
    }
}

/// A scratch directory with the collection installed by `ansible-galaxy`, a HOME, and
/// `bin/v6fix`.
struct Lab {
    dir: tempfile::TempDir,
    venv: PathBuf,
}

impl Lab {
    fn new() -> Result<Lab, Skip> {
        let venv = venv()?;
        let lab = Lab {
            dir: tempfile::tempdir().unwrap(),
            venv,
        };
        std::fs::create_dir_all(lab.path("home")).unwrap();
        std::fs::create_dir_all(lab.path("bin")).unwrap();
        std::fs::write(lab.path("ansible.cfg"), "[defaults]\n").unwrap();
        std::fs::copy(support::bin(), lab.path("bin/v6fix")).unwrap();
        let o = lab
            .ansible("ansible-galaxy")
            .args(["collection", "install", "--force", "-p"])
            .arg(lab.path("collections"))
            .arg(workspace().join("ansible"))
            .output()
            .unwrap();
        assert!(o.status.success(), "ansible-galaxy: {}", show(&o));
        Ok(lab)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Environment for an Ansible command: nothing from the user's ~/.ansible or an
    /// ansible.cfg, the collection installed here, `bin/v6fix` on PATH.
    fn env(&self) -> Vec<(String, String)> {
        let path = format!(
            "{}:{}:{}",
            self.path("bin").display(),
            self.venv.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        [
            ("HOME", self.path("home").display().to_string()),
            ("PATH", path),
            (
                "ANSIBLE_COLLECTIONS_PATH",
                self.path("collections").display().to_string(),
            ),
            (
                "ANSIBLE_CONFIG",
                self.path("ansible.cfg").display().to_string(),
            ),
            ("ANSIBLE_NOCOLOR", "1".to_string()),
            ("ANSIBLE_HOST_KEY_CHECKING", "False".to_string()),
            ("ANSIBLE_RETRY_FILES_ENABLED", "False".to_string()),
            ("LC_ALL", "C.UTF-8".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn ansible(&self, program: &str) -> Command {
        let mut c = Command::new(self.venv.join(program));
        c.current_dir(self.dir.path()).envs(self.env());
        c
    }

    /// Runs the collection's sample playbook with its sample inventory and `extra` args.
    fn playbook(&self, inventory: &Path, extra: &[&str]) -> Output {
        self.ansible("ansible-playbook")
            .arg("-i")
            .arg(inventory)
            .arg(workspace().join("ansible/docs/playbook.yml"))
            .args(extra)
            .output()
            .unwrap()
    }
}

/// `(changed, failed)` of `host` in the PLAY RECAP of a playbook run.
fn recap(o: &Output, host: &str) -> (u32, u32) {
    recap_of(&String::from_utf8_lossy(&o.stdout), host)
}

/// `(changed, failed)` of `host` in the PLAY RECAP in `out`.
fn recap_of(out: &str, host: &str) -> (u32, u32) {
    let line = out
        .lines()
        .rev()
        .find(|l| l.split_whitespace().next() == Some(host) && l.contains(" ok="))
        .unwrap_or_else(|| panic!("no recap for {host} in:\n{out}"));
    let count = |key: &str| -> u32 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {line}"))
    };
    (count("changed="), count("failed="))
}

/// A copy of the sample host, the tree `v6fix all` makes of it, and the restart commands
/// v6fix reports for it, in order.
fn sample(dir: &Path) -> (PathBuf, BTreeMap<PathBuf, Entry>, Vec<String>) {
    let seed = dir.join("seed");
    copy_tree(&testdata().join("hosts/seed"), &seed);
    let done = dir.join("converted");
    copy_tree(&testdata().join("hosts/seed"), &done);
    let args = [
        "--json",
        "all",
        "--network",
        "2001:db8::/64",
        "--role",
        "client",
        "--host",
        "1",
    ];
    let o = support::v6fix(&done, &args);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let restart: Vec<String> = report["restart"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["command"].as_str().unwrap().to_string())
        .collect();
    assert!(restart.len() > 2, "{report}");
    (seed, read_tree(&done), restart)
}

fn sample_playbook_checks_applies_is_idempotent_and_fails_with_v6fix_message() -> Skippable {
    let lab = Lab::new()?;
    let (seed, converted, restart) = sample(lab.dir.path());
    let inventory = workspace().join("ansible/docs/sample-inventory.ini");
    let root = format!("v6fix_root={}", seed.display());
    let before = read_tree(&seed);

    // Check mode: changed, the diff shown, nothing written.
    let o = lab.playbook(&inventory, &["--check", "--diff", "-e", &root]);
    assert!(o.status.success(), "check: {}", show(&o));
    assert_eq!(recap(&o, "localhost"), (1, 0), "check: {}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("+++ b/etc/postfix/main.cf") && out.contains("+inet_protocols = all"),
        "check shows no diff: {}",
        show(&o)
    );
    assert!(read_tree(&seed) == before, "check mode wrote files");

    // Apply, with the restart handler on and a shell that only logs what it is given.
    let log = lab.path("restarts.log");
    let shell = lab.path("bin/log-shell");
    std::fs::write(
        &shell,
        format!(
            "#!/bin/sh\n# Called as: log-shell -c COMMAND\nprintf '%s\\n' \"$2\" >> '{}'\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shell, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let handler = [
        "-e",
        &root,
        "-e",
        "v6fix_restart=true",
        "-e",
        &format!("v6fix_restart_shell={}", shell.display()),
    ];
    let o = lab.playbook(&inventory, &handler);
    assert!(o.status.success(), "apply: {}", show(&o));
    let (changed, failed) = recap(&o, "localhost");
    assert!(changed >= 1 && failed == 0, "apply: {}", show(&o));
    assert!(
        read_tree(&seed) == converted,
        "the playbook did not convert as v6fix all does"
    );
    let ran = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        ran.lines().collect::<Vec<_>>(),
        restart,
        "restart commands: {}",
        show(&o)
    );

    // Second run: nothing to change, no restart.
    let o = lab.playbook(&inventory, &handler);
    assert!(o.status.success(), "second apply: {}", show(&o));
    assert_eq!(recap(&o, "localhost"), (0, 0), "second apply: {}", show(&o));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        ran,
        "restarted twice"
    );

    // A bad network fails the task with v6fix's own message, and writes nothing.
    let o = lab.playbook(
        &inventory,
        &["-e", &root, "-e", "v6fix_network=2001:db8::/63"],
    );
    assert!(!o.status.success(), "bad network: {}", show(&o));
    assert_eq!(recap(&o, "localhost").1, 1, "bad network: {}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("the site network must be a /64"),
        "bad network: {}",
        show(&o)
    );
    assert!(read_tree(&seed) == converted, "a failed run wrote files");
    Ok(())
}

fn module_contract() -> Skippable {
    let lab = Lab::new()?;
    let seed = lab.path("seed");
    copy_tree(&testdata().join("hosts/seed"), &seed);
    let before = read_tree(&seed);
    let o = lab
        .ansible("ansible-playbook")
        .args(["-i", "localhost,", "-c", "local"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/playbooks/module.yml"))
        .arg("-e")
        .arg(format!("root={}", seed.display()))
        .arg("-e")
        .arg(format!("binary={}", lab.path("bin/v6fix").display()))
        .arg("-e")
        .arg("ansible_python_interpreter={{ ansible_playbook_python }}")
        .output()
        .unwrap();
    assert!(o.status.success(), "module.yml: {}", show(&o));
    assert_eq!(recap(&o, "localhost").1, 0, "{}", show(&o));
    // v6fix's warning comes out as Ansible's.
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        all.contains("[WARNING]") && all.contains("listens on IPv4 address 192.0.2.10 only"),
        "no warning: {}",
        show(&o)
    );
    assert!(
        read_tree(&seed) == before,
        "check mode or audit wrote files"
    );
    Ok(())
}

/// Installs the .deb into `root` (the second host's `/usr`), or, locally without one,
/// copies the binary there.
fn install_v6fix(root: &Path) -> Result<PathBuf, Skip> {
    let bin = root.join("usr/bin/v6fix");
    let Some(deb) = std::env::var_os("V6FIX_DEB") else {
        return Err(skip(
            "V6FIX_DEB is not set (run `cargo xtask ci`, or `cargo xtask deb` and set it)",
        ));
    };
    let admin = root.join("var/lib/dpkg");
    for d in ["info", "updates"] {
        std::fs::create_dir_all(admin.join(d)).unwrap();
    }
    std::fs::write(admin.join("status"), "").unwrap();
    support::daemon("dpkg")?;
    let o = Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .args(["--log=/dev/null", "--force-depends", "-i"])
        .arg(deb)
        .output()
        .unwrap();
    assert!(o.status.success(), "dpkg -i: {}", show(&o));
    Ok(bin)
}

fn sample_playbook_over_ssh_on_a_second_host() -> Skippable {
    support::can_unshare()?;
    let sshd = support::daemon("sshd")?;
    let keygen = support::daemon("ssh-keygen")?;
    support::daemon("ssh")?;
    let lab = Lab::new()?;
    let (seed, converted, _) = sample(lab.dir.path());
    let remote_v6fix = install_v6fix(&lab.path("remote"))?;
    let before = read_tree(&seed);

    for key in ["host_key", "client_key"] {
        let o = Command::new(&keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "v6fix-test", "-f"])
            .arg(lab.path(key))
            .output()
            .unwrap();
        assert!(o.status.success(), "ssh-keygen: {}", show(&o));
    }
    std::fs::copy(lab.path("client_key.pub"), lab.path("authorized_keys")).unwrap();
    let port = 2222;
    std::fs::write(
        lab.path("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\n\
             AuthorizedKeysFile {}\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nSubsystem sftp internal-sftp\n",
            lab.path("host_key").display(),
            lab.path("sshd.pid").display(),
            lab.path("authorized_keys").display(),
        ),
    )
    .unwrap();
    let inventory = lab.path("remote.ini");
    std::fs::write(
        &inventory,
        format!(
            "[remote]\nsecond ansible_host=127.0.0.1 ansible_port={port} ansible_user=root \
             ansible_ssh_private_key_file={key} \
             ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' \
             ansible_python_interpreter=/usr/bin/python3 ansible_become=false \
             ansible_remote_tmp={tmp}\n\n[remote:vars]\nv6fix_root={root}\n\
             v6fix_binary={bin}\nv6fix_network=2001:db8::/64\nv6fix_role=client\n\
             v6fix_host_id=1\nv6fix_backup=false\n",
            key = lab.path("client_key").display(),
            tmp = lab.path("remote-tmp").display(),
            root = seed.display(),
            bin = remote_v6fix.display(),
        ),
    )
    .unwrap();

    let playbook = workspace().join("ansible/docs/playbook.yml");
    let run = |n: u32| {
        format!(
            "'{ap}' -i '{inv}' '{pb}' > '{dir}/out{n}' 2>&1 && echo 0 > '{dir}/rc{n}' \
             || echo $? > '{dir}/rc{n}'\n",
            ap = lab.venv.join("ansible-playbook").display(),
            inv = inventory.display(),
            pb = playbook.display(),
            dir = lab.dir.path().display(),
        )
    };
    let mut script = String::new();
    for (k, v) in lab.env() {
        script.push_str(&format!("export {k}='{v}'\n"));
    }
    script.push_str(&format!(
        "mkdir -p /run/sshd\n'{sshd}' -f '{cfg}' -E '{dir}/sshd.log'\n\
         trap 'kill $(cat {dir}/sshd.pid)' EXIT\n\
         for i in $(seq 50); do ssh -q -i '{dir}/client_key' -p {port} -o BatchMode=yes \
         -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1 true \
         && break; sleep 0.2; done\n",
        sshd = sshd.display(),
        cfg = lab.path("sshd_config").display(),
        dir = lab.dir.path().display(),
    ));
    script.push_str(&run(1));
    script.push_str(&run(2));
    let o = support::in_namespace(&[], &script);
    let read = |f: &str| std::fs::read_to_string(lab.path(f)).unwrap_or_default();
    let context = || {
        format!(
            "{}\n--- out1\n{}\n--- out2\n{}\n--- sshd.log\n{}",
            show(&o),
            read("out1"),
            read("out2"),
            read("sshd.log")
        )
    };
    assert!(o.status.success(), "namespace: {}", context());
    assert_eq!(read("rc1").trim(), "0", "first run: {}", context());
    assert_eq!(recap_of(&read("out1"), "second"), (1, 0), "{}", context());
    assert!(
        read_tree(&seed) != before,
        "nothing converted: {}",
        context()
    );
    assert!(
        read_tree(&seed) == converted,
        "converted differently: {}",
        context()
    );
    assert_eq!(read("rc2").trim(), "0", "second run: {}", context());
    assert_eq!(recap_of(&read("out2"), "second"), (0, 0), "{}", context());
    Ok(())
}

/// Stands in for pip's get-pip.py, which ansible-test fetches from a host that is not a
/// package registry: it bootstraps pip from the interpreter's ensurepip, then installs the
/// pinned packages it is asked for from PyPI, as get-pip.py would.
const GET_PIP: &str = r#""""Bootstraps pip with ensurepip, then pip-installs the arguments, as get-pip.py does."""
import ensurepip
import runpy
import sys

ensurepip.bootstrap()
sys.argv = ["pip", "install"] + [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
"#;

fn ansible_test_sanity_passes() -> Skippable {
    let venv = venv()?;
    let tmp = tempfile::tempdir().unwrap();
    let collection = tmp.path().join("ansible_collections/v6fix/dualstack");
    copy_tree(&workspace().join("ansible"), &collection);

    // ansible-test keeps one virtualenv per sanity test under ~/.ansible/test: a HOME under
    // target/ keeps them between runs.
    let home = workspace().join("target/ansible-test-home");
    let site = std::fs::read_dir(venv.join("../lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages/ansible_test/_internal/python_requirements.py");
    let source = std::fs::read_to_string(&site).unwrap();
    let pip = source
        .split("pip='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap_or_else(|| panic!("no pip version in {}", site.display()));
    let cache = home.join(".ansible/test/cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(
        cache.join(format!("get_pip_{}.py", pip.replace('.', "_"))),
        GET_PIP,
    )
    .unwrap();

    let python = Command::new(venv.join("python"))
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .unwrap();
    let python = String::from_utf8_lossy(&python.stdout).trim().to_string();
    let o = Command::new(venv.join("ansible-test"))
        .args(["sanity", "--color", "no", "--python", &python])
        .current_dir(&collection)
        .env("HOME", &home)
        .env(
            "PATH",
            format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", venv.display()),
        )
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "ansible-test sanity: {}", show(&o));
    // Each test that ran says so; none may be left out for lack of something.
    let ran = out
        .lines()
        .filter(|l| l.starts_with("Running sanity test"))
        .count();
    assert!(ran >= 20, "only {ran} sanity tests ran: {}", show(&o));
    assert!(!out.contains("Skipping sanity test"), "{}", show(&o));
    Ok(())
}

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        sample_playbook_checks_applies_is_idempotent_and_fails_with_v6fix_message,
        module_contract,
        sample_playbook_over_ssh_on_a_second_host,
        ansible_test_sanity_passes,
    ]
}
