//! What stands where a config file is expected: only regular files are read or written.
//!
//! A FIFO, a socket or a directory in place of Postfix's main.cf stops the run (exit 2) with
//! an error naming the file and what it is, before anything is opened for reading (a FIFO
//! opened for reading would block the run forever, holding the run lock), and nothing is
//! written. A main.cf linked to /dev/null (in any spelling, through any chain of links) is
//! a disabled file: read as empty, never written, and a note says so. Every run here has a
//! deadline, so a hang fails the test.

use crate::support::{bin, copy_tree, read_tree, testdata};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        a_fifo_is_refused_without_hanging,
        a_socket_is_refused,
        a_directory_is_refused,
        a_symlink_to_dev_null_is_disabled_and_never_written,
    ]
}

/// Runs `v6fix --root ROOT --no-validate postfix --network 2001:db8::/64`, killed after 60
/// seconds: `None` when it had not finished by then.
fn run(root: &Path) -> Option<Output> {
    let mut child = Command::new(bin())
        .arg("--root")
        .arg(root)
        .args(["--no-validate", "postfix", "--network", "2001:db8::/64"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run v6fix");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if child.try_wait().expect("wait for v6fix").is_some() {
            return Some(child.wait_with_output().expect("v6fix output"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A Postfix tree whose main.cf is replaced by what `make` puts at the path it is given.
fn tree_with(make: impl FnOnce(&Path)) -> tempfile::TempDir {
    tree_and_snapshot(make).0
}

/// [`tree_with`], and the tree as it was without main.cf (reading a FIFO to compare trees
/// would block the test itself).
fn tree_and_snapshot(
    make: impl FnOnce(&Path),
) -> (
    tempfile::TempDir,
    std::collections::BTreeMap<std::path::PathBuf, crate::support::Entry>,
) {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&testdata().join("cases/postfix/crlf/in"), root.path());
    let main = root.path().join("etc/postfix/main.cf");
    std::fs::remove_file(&main).unwrap();
    let before = read_tree(root.path());
    make(&main);
    (root, before)
}

/// The run exits 2, naming main.cf and `what`, and writes nothing.
fn refused(make: impl FnOnce(&Path), what: &str) {
    let (root, before) = tree_and_snapshot(make);
    let o = run(root.path()).expect("v6fix did not finish within 60 seconds");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("etc/postfix/main.cf: found ")
            && err.contains(what)
            && err.contains("expected a regular file"),
        "{err}"
    );
    let main = root.path().join("etc/postfix/main.cf");
    let left = std::fs::symlink_metadata(&main).unwrap().file_type();
    assert!(
        !left.is_file() && !left.is_symlink(),
        "main.cf was replaced"
    );
    if left.is_dir() {
        std::fs::remove_dir(&main).unwrap();
    } else {
        std::fs::remove_file(&main).unwrap();
    }
    assert_eq!(read_tree(root.path()), before, "the tree changed");
    let state = root.path().join("var/lib/v6fix");
    assert!(!state.join("journal").exists(), "a journal was left behind");
}

fn a_fifo_is_refused_without_hanging() {
    refused(
        |p| {
            let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
            assert!(ok, "mkfifo failed");
        },
        "a FIFO (named pipe)",
    );
}

fn a_socket_is_refused() {
    // The listener is kept open for the run, as a daemon's would be.
    let mut keep = None;
    refused(
        |p| keep = Some(std::os::unix::net::UnixListener::bind(p).unwrap()),
        "a socket",
    );
    drop(keep);
}

fn a_directory_is_refused() {
    refused(|p| std::fs::create_dir(p).unwrap(), "a directory");
}

fn a_symlink_to_dev_null_is_disabled_and_never_written() {
    // The link as written, then a chain ending in /dev/null: every spelling the kernel
    // resolves to /dev/null, `..` past the root included.
    let spellings: &[&[&str]] = &[
        &["/dev/null"],
        &["//dev/null"],
        &["/dev/./null"],
        &["../../dev/null"],
        &["../../../../../../dev/null"],
        &["/etc/../dev/null"],
        &["main.cf.off", "/dev/null"],
        &["disabled/main.cf", "../../../dev//null"],
    ];
    for chain in spellings {
        let root = tree_with(|p| {
            let dir = p.parent().unwrap();
            let mut at = p.to_path_buf();
            for target in *chain {
                std::os::unix::fs::symlink(target, &at).unwrap();
                at = dir.join(target);
                if let Some(d) = at.parent() {
                    if !target.starts_with('/') && !target.starts_with("..") {
                        std::fs::create_dir_all(d).unwrap();
                    }
                }
            }
        });
        let before = read_tree(root.path());
        let o = run(root.path()).expect("v6fix did not finish within 60 seconds");
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{chain:?}: {out}{err}");
        assert!(
            out.contains("etc/postfix/main.cf: a symlink to /dev/null")
                && out.contains("(disabled): left as it is"),
            "{chain:?}: {out}"
        );
        let main = root.path().join("etc/postfix/main.cf");
        assert_eq!(
            std::fs::read_link(&main).unwrap(),
            Path::new(chain[0]),
            "{chain:?}: main.cf is no longer the symlink"
        );
        assert_eq!(before, read_tree(root.path()), "{chain:?}: v6fix wrote");
        assert!(
            !root.path().join("dev").exists(),
            "{chain:?}: something was created under the root's /dev"
        );
    }
}
