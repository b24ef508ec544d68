//! The transaction as an operator meets it, through the real binary: killed at random
//! points and recovered, interrupted by SIGTERM, raced by a symlink swap, failing in the
//! middle of a commit and of its undo, keeping extended attributes and ACLs, refusing hard
//! links, keeping backups private, waiting for a lock, and restoring a run.

#![allow(clippy::print_stderr)]

use crate::support::{self, copy_tree, read_tree, show, v6fix, Entry, Skip, Skippable};
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const ALL: &[&str] = &[
    "all",
    "--network",
    "2001:db8::/64",
    "--role",
    "client",
    "--host",
    "1",
    "--nameserver",
    "2001:db8::53",
];

const MAIN_CF: &str = "# test host\n\
inet_protocols = ipv4\n\
mynetworks = 127.0.0.0/8 192.0.2.0/24\n";

fn host_with(main_cf: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("etc/postfix")).unwrap();
    std::fs::write(d.path().join("etc/postfix/main.cf"), main_cf).unwrap();
    d
}

/// A small xorshift generator: the kill points are random but the seed is printed.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            ^ u64::from(std::process::id()) << 32)
            | 1;
        eprintln!("kill points seeded with {seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The sample host with every file `all` changes grown by a long comment, so writing the
/// commit takes long enough to be hit.
fn inflated_seed() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_tree(&support::testdata().join("hosts/seed"), d.path());
    let pad: String = (0..400)
        .map(|i| {
            format!("# padding line {i:06} to widen the window in which v6fix writes the commit\n")
        })
        .collect();
    for f in [
        "etc/apache2/ports.conf",
        "etc/apache2/sites-available/000-default.conf",
        "etc/apache2/sites-available/shop-ssl.conf",
        "etc/dovecot/conf.d/10-master.conf",
        "etc/dovecot/dovecot.conf",
        "etc/network/interfaces",
        "etc/postfix/main.cf",
        "etc/postfix/mynetworks.txt",
        "etc/resolv.conf",
        "etc/ssh/sshd_config",
        "etc/ssh/sshd_config.d/ipv4-only.conf",
        "etc/systemd/system/varnish.service.d/override.conf",
        "etc/varnish/default.vcl",
    ] {
        let p = d.path().join(f);
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(&pad);
        std::fs::write(&p, text).unwrap();
    }
    d
}

/// Every file under `root` whose name marks it as one of v6fix's temp files.
fn temp_files(root: &Path) -> Vec<PathBuf> {
    read_tree(root)
        .keys()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".v6fix-"))
        })
        .cloned()
        .collect()
}

fn journal(root: &Path) -> PathBuf {
    root.join("var/lib/v6fix/journal")
}

/// "old" or "new" when the tree is entirely one of them, else a description of the mix.
fn whole(
    tree: &BTreeMap<PathBuf, Entry>,
    old: &BTreeMap<PathBuf, Entry>,
    new: &BTreeMap<PathBuf, Entry>,
) -> Result<&'static str, String> {
    if tree == old {
        return Ok("old");
    }
    if tree == new {
        return Ok("new");
    }
    let mut mixed = Vec::new();
    for p in old
        .keys()
        .chain(new.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (o, n, t) = (old.get(p), new.get(p), tree.get(p));
        let state = if t == o && t == n {
            continue;
        } else if t == o {
            "old"
        } else if t == n {
            "new"
        } else {
            "neither"
        };
        mixed.push(format!("{state}: {}", p.display()));
    }
    for p in tree
        .keys()
        .filter(|p| !old.contains_key(*p) && !new.contains_key(*p))
    {
        mixed.push(format!("extra: {}", p.display()));
    }
    Err(mixed.join("\n"))
}

fn spawn(root: &Path, args: &[&str]) -> std::process::Child {
    Command::new(support::bin())
        .arg("--root")
        .arg(root)
        .arg("--no-validate")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn timed(root: &Path, args: &[&str]) -> Duration {
    let t = Instant::now();
    let o = v6fix(root, args);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", show(&o));
    t.elapsed()
}

fn killed_at_any_point_a_run_is_all_old_or_all_new_after_the_next_run() {
    let seed = inflated_seed();
    let old = read_tree(seed.path());
    let done = tempfile::tempdir().unwrap();
    copy_tree(seed.path(), done.path());
    // How long planning and a whole run take here, to aim the kills between them: timed
    // four at a time, as the workers below run, so the window matches their pace.
    let mut check_args = vec!["--check"];
    check_args.extend(ALL);
    let four_at_once = |args: &[&str]| -> Duration {
        std::thread::scope(|s| {
            let runs: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let d = tempfile::tempdir().unwrap();
                        copy_tree(seed.path(), d.path());
                        timed(d.path(), args)
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).max().unwrap()
        })
    };
    let plan_time = four_at_once(&check_args);
    let run_time = four_at_once(ALL);
    assert!(v6fix(done.path(), ALL).status.success());
    let new = read_tree(done.path());
    assert_ne!(old, new);
    let lo = plan_time.as_micros() as u64 * 8 / 10;
    let hi = (run_time.as_micros() as u64 * 12 / 10).max(lo + 1);

    // Four workers (the commit is mostly fsync waits), 200 kill points in all.
    let workers: Vec<(u32, BTreeMap<String, u32>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|w| {
                let (seed, old, new) = (&seed, &old, &new);
                s.spawn(move || {
    let mut rng = Rng::new();
    let (mut reported, mut hits) = (0, BTreeMap::new());
    for trial in (w..200).step_by(4) {
        // Every other trial SIGKILL; the rest SIGTERM, and every fourth SIGINT.
        let term = (trial / 4) % 2 == 1;
        let sig = if (trial / 4) % 4 == 3 { "INT" } else { "TERM" };
        let root = tempfile::tempdir().unwrap();
        copy_tree(seed.path(), root.path());
        let delay = Duration::from_micros(lo + rng.below(hi - lo));
        let child = spawn(root.path(), ALL);
        std::thread::sleep(delay);
        if term {
            let _ = Command::new("kill")
                .args([&format!("-{sig}"), &child.id().to_string()])
                .status();
        } else {
            let mut c = child;
            let _ = c.kill();
            let o = c.wait_with_output().unwrap();
            let was = whole(&read_tree(root.path()), old, new);
            let had_journal = journal(root.path()).exists();
            assert!(
                temp_files(root.path()).is_empty() || had_journal,
                "trial {trial}: temp files without a journal: {:?}",
                temp_files(root.path())
            );
            assert!(
                was.is_ok() || had_journal,
                "trial {trial} (SIGKILL after {delay:?}): a mixed tree without a journal\n{}\n{}",
                was.unwrap_err(),
                show(&o)
            );
            let r = v6fix(root.path(), &["recover"]);
            assert_eq!(r.status.code(), Some(0), "trial {trial}: {}", show(&r));
            let out = String::from_utf8_lossy(&r.stdout);
            if had_journal {
                reported += 1;
                assert!(
                    out.starts_with("recovered run ")
                        && String::from_utf8_lossy(&r.stderr)
                            .contains("an interrupted v6fix run was found"),
                    "trial {trial}: recovery not reported\n{}",
                    show(&r)
                );
            } else {
                assert_eq!(out, "nothing to recover\n", "trial {trial}");
            }
            let state = whole(&read_tree(root.path()), old, new).unwrap_or_else(|m| {
                panic!("trial {trial} (SIGKILL after {delay:?}): mixed after recovery\n{m}")
            });
            *hits
                .entry(format!("SIGKILL {state} journal={had_journal}"))
                .or_insert(0) += 1;
            assert!(
                temp_files(root.path()).is_empty(),
                "trial {trial}: {:?}",
                temp_files(root.path())
            );
            assert!(!journal(root.path()).exists());
            continue;
        }
        let o = child.wait_with_output().unwrap();
        // SIGTERM or SIGINT: the run itself finished or undid its commit before it ended.
        let state = whole(&read_tree(root.path()), old, new).unwrap_or_else(|m| {
            panic!(
                "trial {trial} (SIGTERM after {delay:?}): mixed\n{m}\n{}",
                show(&o)
            )
        });
        assert!(
            !journal(root.path()).exists(),
            "trial {trial}: journal left\n{}",
            show(&o)
        );
        assert!(
            temp_files(root.path()).is_empty(),
            "trial {trial}: {:?}",
            temp_files(root.path())
        );
        let err = String::from_utf8_lossy(&o.stderr);
        match o.status.code() {
            Some(0) => assert_eq!(state, "new", "trial {trial}: {}", show(&o)),
            Some(2) => {
                assert_eq!(state, "old", "trial {trial}: {}", show(&o));
                assert!(
                    err.contains(&format!("interrupted by SIG{sig} before the commit began")),
                    "{}",
                    show(&o)
                );
            }
            None => {}
            c => panic!("trial {trial}: exit {c:?}\n{}", show(&o)),
        }
        if err.contains("arrived while the commit was written") {
            assert_eq!(state, "new");
        }
        *hits
            .entry(format!("SIG{sig} {state} exit={:?}", o.status.code()))
            .or_insert(0) += 1;
    }
    (reported, hits)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let reported: u32 = workers.iter().map(|w| w.0).sum();
    let hits: Vec<_> = workers.iter().map(|w| &w.1).collect();
    eprintln!("outcomes: {hits:?}");
    assert!(reported > 0, "no kill landed inside a commit: {hits:?}");
}

fn a_symlink_swapped_in_during_runs_never_leads_outside_the_root() {
    for round in 0..60 {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("root");
        let outside = outer.path().join("outside");
        std::fs::create_dir_all(root.join("etc/postfix")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let main_cf = format!("{MAIN_CF}mynetworks = 127.0.0.0/8 /etc/postfix/nets\n");
        for dir in [root.join("etc/postfix"), outside.clone()] {
            std::fs::write(dir.join("main.cf"), &main_cf).unwrap();
            std::fs::write(dir.join("nets"), "192.0.2.0/24\n").unwrap();
        }
        let before = read_tree(&outside);
        let link: PathBuf = if round % 2 == 0 {
            outside.clone()
        } else {
            PathBuf::from("../../../outside")
        };
        let child = spawn(&root, &["postfix", "--network", "2001:db8::/64"]);
        let etc = root.join("etc");
        let stop = Instant::now() + Duration::from_secs(5);
        let mut child = child;
        let status = loop {
            let _ = std::fs::rename(etc.join("postfix"), etc.join("postfix.real"));
            let _ = std::os::unix::fs::symlink(&link, etc.join("postfix"));
            std::thread::sleep(Duration::from_micros(300));
            let _ = std::fs::remove_file(etc.join("postfix"));
            let _ = std::fs::rename(etc.join("postfix.real"), etc.join("postfix"));
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < stop, "round {round}: v6fix did not finish");
        };
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            matches!(status.code(), Some(0) | Some(2)) && !err.contains("panicked"),
            "round {round}: {}",
            show(&o)
        );
        assert_eq!(
            read_tree(&outside),
            before,
            "round {round}: outside changed\n{}",
            show(&o)
        );
        assert!(temp_files(&root).is_empty(), "round {round}");
    }
}

fn getfattr(path: &Path) -> String {
    let o = Command::new("getfattr")
        .args(["-d", "-m", "-", "--absolute-names"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sets a user xattr and an ACL on `path`; a [`Skip`] (a failure on CI) when the tools are
/// missing or the filesystem refuses.
fn set_attrs(path: &Path) -> Skippable {
    support::daemon("setfattr")?;
    support::daemon("setfacl")?;
    let x = Command::new("setfattr")
        .args(["-n", "user.v6fix-test", "-v", "kept"])
        .arg(path)
        .output()
        .unwrap();
    let a = Command::new("setfacl")
        .args(["-m", "u:4242:r"])
        .arg(path)
        .output()
        .unwrap();
    if x.status.success() && a.status.success() {
        return Ok(());
    }
    if support::on_ci() {
        panic!(
            "this filesystem takes no user xattrs or ACLs\n{}\n{}",
            show(&x),
            show(&a)
        );
    }
    Err(Skip("this filesystem takes no user xattrs or ACLs".into()))
}

fn xattrs_and_acls_survive_a_run_and_a_restore_gives_back_the_tree() -> Skippable {
    let d = host_with(MAIN_CF);
    let f = d.path().join("etc/postfix/main.cf");
    std::os::unix::fs::chown(&f, Some(4321), Some(8765)).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    set_attrs(&f)?;
    let attrs = getfattr(&f);
    assert!(
        attrs.contains("user.v6fix-test") && attrs.contains("system.posix_acl_access"),
        "{attrs}"
    );
    std::fs::create_dir_all(d.path().join("etc/pure-ftpd/conf")).unwrap();
    std::fs::write(d.path().join("etc/pure-ftpd/conf/IPV4Only"), "yes\n").unwrap();
    let before = read_tree(d.path());
    let o = v6fix(d.path(), &["postfix", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_ne!(read_tree(d.path()), before);
    assert_eq!(getfattr(&f), attrs);
    let m = std::fs::metadata(&f).unwrap();
    assert_eq!((m.uid(), m.gid()), (4321, 8765));

    // A created file too: `pure-ftpd` creates DontResolve.
    let before_ftp = read_tree(d.path());
    let o = v6fix(d.path(), &["pure-ftpd"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        d.path().join("etc/pure-ftpd/conf/DontResolve").exists(),
        "{}",
        show(&o)
    );

    let o = v6fix(d.path(), &["history"]);
    let h = String::from_utf8_lossy(&o.stdout);
    assert!(
        h.contains("postfix --network") && h.contains("create etc/pure-ftpd/conf/DontResolve"),
        "{h}"
    );

    let o = v6fix(d.path(), &["restore"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(read_tree(d.path()), before_ftp, "{}", show(&o));
    let o = v6fix(d.path(), &["restore"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(read_tree(d.path()), before);
    assert_eq!(getfattr(&f), attrs);
    let m = std::fs::metadata(&f).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (4321, 8765, 0o640));
    let o = v6fix(d.path(), &["--json", "history"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 4, "{v}");
    assert!(v["runs"][0]["restored_by"].is_string(), "{v}");
    let o = v6fix(d.path(), &["restore"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "nothing left to restore\n{}",
        show(&o)
    );
    Ok(())
}

fn restore_refuses_a_file_changed_since_unless_forced() {
    let d = host_with(MAIN_CF);
    let o = v6fix(d.path(), &["postfix", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let f = d.path().join("etc/postfix/main.cf");
    std::fs::write(&f, "edited by hand\n").unwrap();
    let o = v6fix(d.path(), &["restore"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&f.display().to_string()) && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "edited by hand\n");
    let o = v6fix(d.path(), &["restore", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), MAIN_CF);
}

fn check_never_restores_or_recovers() {
    let d = host_with(MAIN_CF);
    let o = v6fix(d.path(), &["postfix", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let converted = read_tree(d.path());
    for cmd in ["restore", "recover"] {
        let o = v6fix(d.path(), &["--check", cmd]);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", show(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("has no --check"),
            "{}",
            show(&o)
        );
        assert_eq!(read_tree(d.path()), converted, "--check {cmd} wrote");
    }
}

fn a_hardlinked_file_is_refused_by_name_unless_allowed() {
    let d = host_with(MAIN_CF);
    let f = d.path().join("etc/postfix/main.cf");
    std::fs::hard_link(&f, d.path().join("main.cf.copy")).unwrap();
    let before = read_tree(d.path());
    let o = v6fix(d.path(), &["postfix", "--network", "2001:db8::/64"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{}: refused: it has 2 hard links", f.display()))
            && err.contains("--allow-hardlinks"),
        "{err}"
    );
    assert_eq!(read_tree(d.path()), before);
    let o = v6fix(
        d.path(),
        &["--allow-hardlinks", "postfix", "--network", "2001:db8::/64"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(
        std::fs::read_to_string(d.path().join("main.cf.copy")).unwrap(),
        MAIN_CF
    );
}

fn with_faults(root: &Path, faults: &str, args: &[&str]) -> Output {
    Command::new(support::bin())
        .arg("--root")
        .arg(root)
        .arg("--no-validate")
        .args(args)
        .env("V6FIX_FAULTS", faults)
        .output()
        .unwrap()
}

fn a_backup_of_a_private_file_is_private_from_its_first_byte_and_a_failed_run_leaves_none() {
    let d = host_with(MAIN_CF);
    let f = d.path().join("etc/postfix/main.cf");
    std::os::unix::fs::chown(&f, Some(4321), Some(8765)).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let args = ["--backup", "postfix", "--network", "2001:db8::/64"];
    // Stopped dead right after the backup file got its attributes, before its bytes.
    let o = with_faults(d.path(), "backup=abort", &args);
    assert_eq!(o.status.code(), None, "aborted\n{}", show(&o));
    let partial: Vec<PathBuf> = std::fs::read_dir(d.path().join("var/backups/v6fix"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(partial.len(), 1);
    let copy = partial[0].join("etc/postfix/main.cf");
    let m = std::fs::metadata(&copy).unwrap();
    assert_eq!(
        (m.uid(), m.gid(), m.mode() & 0o7777, m.len()),
        (4321, 8765, 0o600, 0)
    );
    // The temp file beside the target likewise, once the run got that far.
    let o = with_faults(d.path(), "temp-write=abort", &args);
    assert_eq!(o.status.code(), None, "{}", show(&o));
    let temps = temp_files(d.path());
    assert_eq!(temps.len(), 1, "{temps:?}");
    let m = std::fs::metadata(d.path().join(&temps[0])).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o7777), (4321, 0o600));

    let o = v6fix(d.path(), &["recover"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("undone"),
        "{}",
        show(&o)
    );
    // The second run undid the first one's journal before it started; recovery undid the
    // second: no temp file, no partial backup.
    assert!(temp_files(d.path()).is_empty());
    assert_eq!(
        std::fs::read_dir(d.path().join("var/backups/v6fix"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), MAIN_CF);

    // A failed run with --backup leaves no backup directory.
    let _ = std::fs::remove_dir_all(d.path().join("var/backups"));
    let o = with_faults(d.path(), "rename=EBUSY", &args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert_eq!(
        std::fs::read_dir(d.path().join("var/backups/v6fix"))
            .unwrap()
            .count(),
        0
    );
}

fn a_failed_commit_and_a_failed_undo_say_which_file_is_in_which_state() {
    let d = tempfile::tempdir().unwrap();
    copy_tree(&support::testdata().join("hosts/seed"), d.path());
    let before = read_tree(d.path());
    // The third rename fails as a bind-mounted file does (EBUSY), then the disk fills up
    // while the first two are put back.
    let o = with_faults(d.path(), "rename:2=EBUSY,undo-write=ENOSPC", ALL);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let root = d.path().display();
    for want in [
        "Device or resource busy".to_string(),
        "and undoing it failed".to_string(),
        format!("new: {root}/etc/apache2/ports.conf"),
        format!("new: {root}/etc/apache2/sites-available/000-default.conf"),
        format!("old: {root}/etc/apache2/sites-available/shop-ssl.conf"),
        format!("old: {root}/etc/varnish/default.vcl"),
        format!("v6fix --root {root} recover"),
    ] {
        assert!(err.contains(&want), "want {want}\n{err}");
    }
    assert!(journal(d.path()).exists());
    // `recover` finishes the undo, and says so.
    let o = v6fix(d.path(), &["--json", "recover"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["recovered"]["completed"], false, "{v}");
    assert!(v["notes"][0].as_str().unwrap().contains("undone"), "{v}");
    assert_eq!(read_tree(d.path()), before);
    assert!(temp_files(d.path()).is_empty());

    // A kill in the middle of the commit: the next applying run completes it first.
    let o = with_faults(d.path(), "rename:5=abort", ALL);
    assert_eq!(o.status.code(), None, "{}", show(&o));
    let o = v6fix(
        d.path(),
        &["--json", "resolv", "--nameserver", "2001:db8::53"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("it was completed")),
        "{v}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("an interrupted v6fix run was found"));
    assert_eq!(
        v["changed"], false,
        "the completed run had already added it: {v}"
    );
    assert!(temp_files(d.path()).is_empty());
}

fn a_run_waiting_for_the_lock_says_so_and_gives_up_after_the_timeout() {
    let d = host_with(MAIN_CF);
    let state = d.path().join("var/lib/v6fix");
    std::fs::create_dir_all(&state).unwrap();
    // Another process holds the lock and wrote its pid, as a running v6fix does.
    let lock = state.join("lock");
    let mut holder = Command::new("flock")
        .arg(&lock)
        .arg("-c")
        .arg(format!("echo $$ > '{}'; sleep 30", lock.display()))
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::fs::read_to_string(state.join("lock"))
        .unwrap_or_default()
        .trim()
        .is_empty()
    {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = std::fs::read_to_string(state.join("lock"))
        .unwrap()
        .trim()
        .to_string();
    let o = v6fix(
        d.path(),
        &[
            "--lock-timeout",
            "1",
            "postfix",
            "--network",
            "2001:db8::/64",
        ],
    );
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "waiting for another v6fix run (pid {pid}) to finish"
        )) && err.contains("still holds the lock after 1 s")
            && err.contains("--lock-timeout"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(d.path().join("etc/postfix/main.cf")).unwrap(),
        MAIN_CF
    );
}

fn a_signal_during_the_commit_waits_for_it_and_one_before_it_undoes_the_run() {
    let d = tempfile::tempdir().unwrap();
    copy_tree(&support::testdata().join("hosts/seed"), d.path());
    let before = read_tree(d.path());
    // Before the commit began: the run is undone and says why.
    let o = with_faults(d.path(), "temp-write:3=SIGTERM", ALL);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("interrupted by SIGTERM before the commit began; the run was undone, nothing was written"),
        "{}",
        show(&o)
    );
    assert_eq!(read_tree(d.path()), before);
    assert!(temp_files(d.path()).is_empty() && !journal(d.path()).exists());
    // During the commit: it is finished first, then said.
    let o = with_faults(d.path(), "rename:4=SIGINT", ALL);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("SIGINT arrived while the commit was written; the commit was finished first"),
        "{}",
        show(&o)
    );
    let o = v6fix(
        d.path(),
        &[
            "--check",
            "all",
            "--network",
            "2001:db8::/64",
            "--role",
            "client",
            "--host",
            "1",
            "--nameserver",
            "2001:db8::53",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "all of it was written\n{}",
        show(&o)
    );
    assert!(temp_files(d.path()).is_empty() && !journal(d.path()).exists());
}

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        killed_at_any_point_a_run_is_all_old_or_all_new_after_the_next_run,
        a_symlink_swapped_in_during_runs_never_leads_outside_the_root,
        xattrs_and_acls_survive_a_run_and_a_restore_gives_back_the_tree,
        check_never_restores_or_recovers,
        restore_refuses_a_file_changed_since_unless_forced,
        a_hardlinked_file_is_refused_by_name_unless_allowed,
        a_backup_of_a_private_file_is_private_from_its_first_byte_and_a_failed_run_leaves_none,
        a_failed_commit_and_a_failed_undo_say_which_file_is_in_which_state,
        a_run_waiting_for_the_lock_says_so_and_gives_up_after_the_timeout,
        a_signal_during_the_commit_waits_for_it_and_one_before_it_undoes_the_run,
    ]
}
