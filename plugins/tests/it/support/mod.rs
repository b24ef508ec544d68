//! Helpers shared by the integration tests: running the binary, copying and comparing
//! trees, finding the real daemons, and running them in private namespaces.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The v6fix binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_v6fix"))
}

/// The repository's testdata directory.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// Runs `v6fix --root ROOT --no-validate ARGS…`: what these tests check must not depend on
/// which daemons are installed here. Validation has its own tests (`validation_daemon.rs`), which
/// use [`v6fix_validating`].
pub fn v6fix(root: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--root")
        .arg(root)
        .arg("--no-validate")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run v6fix")
}

/// Runs `v6fix --root ROOT ARGS…`, validation on.
pub fn v6fix_validating(root: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run v6fix")
}

/// v6fix's own state under a root (lock, journal, run records): not part of the machine's
/// configuration, so tree comparisons leave it out.
pub const STATE_DIR: &str = "var/lib/v6fix";

/// Copies a tree, keeping symlinks as symlinks.
pub fn copy_tree(src: &Path, dst: &Path) {
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
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// A file's content or a symlink's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File(Vec<u8>),
    Link(PathBuf),
}

/// Every file and symlink below `dir`, by relative path, without v6fix's state directory.
pub fn read_tree(dir: &Path) -> BTreeMap<PathBuf, Entry> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_path_buf();
            if rel == Path::new(STATE_DIR) {
                continue;
            }
            let ft = e.file_type().unwrap();
            if ft.is_symlink() {
                out.insert(rel, Entry::Link(std::fs::read_link(&p).unwrap()));
            } else if ft.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(rel, Entry::File(std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The tree a case expects after its run: `in/` with `out/` laid over it.
pub fn expected_tree(case: &Path) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_tree(&case.join("in"), t.path());
    copy_tree(&case.join("out"), t.path());
    t
}

/// The case directories of a group under testdata/cases, sorted.
pub fn cases(group: &str) -> Vec<PathBuf> {
    let dir = testdata().join("cases").join(group);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("args").exists())
        .collect();
    v.sort();
    v
}

/// Why a test cannot run on this machine: a daemon or a capability it needs is missing.
/// The harness reports the test as ignored with this reason, and on CI (`CI=true`) as
/// failed: nothing is skipped there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

/// What a test that needs a daemon returns; `?` on [`daemon`] and [`can_unshare`] ends it
/// with a [`Skip`] when the machine lacks what it needs.
pub type Skippable = Result<(), Skip>;

/// True on CI, where a missing daemon or capability fails the test instead of skipping it.
pub fn on_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The path of a daemon's binary, or a [`Skip`] when it is not installed. On CI
/// (`CI=true`) a missing daemon fails the test instead: nothing is skipped there.
pub fn daemon(name: &str) -> Result<PathBuf, Skip> {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Ok(p);
        }
    }
    if on_ci() {
        panic!("{name} is not installed; .ci/install-daemons installs it");
    }
    Err(Skip(format!(
        "{name} not installed; .ci/install-daemons installs it"
    )))
}

/// Ok when this process may create namespaces (root), else a [`Skip`]. On CI it must.
pub fn can_unshare() -> Skippable {
    let ok = Command::new("unshare")
        .args(["--mount", "--net", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Ok(());
    }
    if on_ci() {
        panic!("cannot create namespaces: CI runs the tests as root");
    }
    Err(Skip("cannot create namespaces (not root)".into()))
}

/// Runs `script` with `sh -e` in new private mount and network namespaces, after
/// bind-mounting each `(source, mountpoint)` pair and bringing up `lo`. Servers started
/// there can bind only loopback, and die with the namespace's last process.
pub fn in_namespace(binds: &[(&Path, &str)], script: &str) -> Output {
    let mut pre = String::from("set -e\nip link set lo up\n");
    for (src, dst) in binds {
        pre.push_str(&format!("mount --bind '{}' '{}'\n", src.display(), dst));
    }
    // From `/`: a bind over the directory the tests run in (`/tmp`) must not leave the
    // daemon in a working directory it cannot get back to.
    Command::new("unshare")
        .current_dir("/")
        .args(["--mount", "--net", "--propagation", "private", "sh", "-c"])
        .arg(format!("{pre}{script}"))
        .output()
        .expect("run unshare")
}

/// Formats a process's output for an assertion message.
pub fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A file of a package that `.ci/install-daemons` unpacks rather than installs (it
/// conflicts with an installed one): `$V6FIX_DAEMONS/<package>/<path>`, under
/// `/opt/v6fix-daemons` by default. A [`Skip`] when it is missing; on CI a failure.
pub fn unpacked(package: &str, path: &str) -> Result<PathBuf, Skip> {
    let base = std::env::var_os("V6FIX_DAEMONS").unwrap_or_else(|| "/opt/v6fix-daemons".into());
    let p = Path::new(&base).join(package).join(path);
    if p.exists() {
        return Ok(p);
    }
    if on_ci() {
        panic!("{} is missing; .ci/install-daemons unpacks it", p.display());
    }
    Err(Skip(format!(
        "{} missing; .ci/install-daemons unpacks it",
        p.display()
    )))
}

/// Starts the server `command` (a shell command line, run in the background) in new private
/// mount and network namespaces whose loopback also holds the addresses `extra`, waits
/// until something listens on `port` (or the server exits), and returns those of `addrs`
/// where an FTP server greets on `port` (its first line is a `220`), and the server's
/// output. The server is killed before the namespace ends.
pub fn ftp_greeters<'a>(
    command: &str,
    extra: &[&str],
    addrs: &[&'a str],
    port: u16,
) -> (Vec<&'a str>, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let mut script = String::new();
    for a in extra {
        let (len, opts) = if a.contains(':') {
            (128, " nodad")
        } else {
            (32, "")
        };
        script.push_str(&format!("ip addr add {a}/{len} dev lo{opts}\n"));
    }
    script.push_str(&format!(
        "{command} </dev/null >'{log}' 2>&1 &\npid=$!\n\
         for i in $(seq 1 100); do\n\
           if [ -n \"$(ss -ltnH 'sport = :{port}')\" ]; then break; fi\n\
           kill -0 $pid 2>/dev/null || break\n\
           sleep 0.05\n\
         done\n",
        log = log.display()
    ));
    for a in addrs {
        script.push_str(&format!(
            "g=$(timeout 5 bash -c 'exec 3<>/dev/tcp/{a}/{port}; head -n1 <&3' 2>/dev/null | tr -d '\\r') || true\n\
             echo \"{a}=$g\"\n"
        ));
    }
    script.push_str(&format!(
        "kill $pid 2>/dev/null || true\nwait $pid 2>/dev/null || true\ncat '{}' >&2\n",
        log.display()
    ));
    let o = in_namespace(&[], &script);
    assert!(o.status.success(), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let greeted = addrs
        .iter()
        .copied()
        .filter(|a| {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("{a}=")))
                .is_some_and(|g| g.starts_with("220"))
        })
        .collect();
    (greeted, String::from_utf8_lossy(&o.stderr).into_owned())
}

/// `v6fix audit --json` findings of severity warning or error in files under `dir` (relative
/// to `root`, like `etc/ssh/`), each as its JSON text.
pub fn serious_findings(root: &Path, dir: &str) -> Vec<String> {
    let o = v6fix(root, &["--json", "audit"]);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", show(&o)));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap_or("").starts_with(dir))
        .filter(|f| f["severity"] != "info")
        .map(|f| f.to_string())
        .collect()
}

/// For each golden case of `group` named in `names`: its converted tree audits clean under
/// `dir`, and its input does not. Returns the serious findings of the first case's input.
pub fn audits_clean_after(group: &str, names: &[&str], dir: &str) -> String {
    let mut first = None;
    for name in names {
        let case = testdata().join("cases").join(group).join(name);
        let after = expected_tree(&case);
        let found = serious_findings(after.path(), dir);
        assert!(found.is_empty(), "{name}: converted tree: {found:#?}");
        let before = tempfile::tempdir().unwrap();
        copy_tree(&case.join("in"), before.path());
        let found = serious_findings(before.path(), dir);
        assert!(!found.is_empty(), "{name}: the input has findings");
        first.get_or_insert(found.join("\n"));
    }
    first.unwrap_or_default()
}
