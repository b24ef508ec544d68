//! The apply engine under injected faults: every step of the commit and of the undo.

use super::*;
use crate::host::File;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn setup() -> (tempfile::TempDir, Host) {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("etc/a")).unwrap();
    fs::write(d.path().join("etc/a/one.conf"), "one\n").unwrap();
    fs::write(d.path().join("etc/a/two.conf"), "two\n").unwrap();
    let h = Host::new(d.path()).unwrap();
    (d, h)
}

fn read(h: &Host, p: &str) -> File {
    h.read(Path::new(p)).unwrap().unwrap()
}

fn plan3(h: &Host) -> Plan {
    let mut plan = Plan::new();
    plan.change(&read(h, "/etc/a/one.conf"), "ONE\n".into());
    plan.change(&read(h, "/etc/a/two.conf"), "TWO\n".into());
    plan.create(Path::new("/etc/new.d/x.conf"), "x\n".into());
    plan
}

fn opts(faults: Faults) -> Options {
    Options {
        faults,
        command: "test".into(),
        ..Options::default()
    }
}

fn text(d: &Path, p: &str) -> Option<String> {
    fs::read_to_string(d.join(p)).ok()
}

/// Every file other than v6fix's state, with its content.
fn tree(d: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(base).unwrap().display().to_string();
            if rel == "var/lib/v6fix" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                walk(base, &e.path(), out);
            } else {
                out.push((rel, fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(d, d, &mut out);
    out.sort();
    out
}

fn assert_old(d: &Path) {
    assert_eq!(text(d, "etc/a/one.conf").as_deref(), Some("one\n"));
    assert_eq!(text(d, "etc/a/two.conf").as_deref(), Some("two\n"));
    assert!(!d.join("etc/new.d").exists(), "created directory left");
    let names: Vec<String> = tree(d).into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, ["etc/a/one.conf", "etc/a/two.conf"], "leftovers");
    assert!(!d.join("var/lib/v6fix/journal").exists(), "journal left");
    let runs = fs::read_dir(d.join("var/lib/v6fix/runs")).map_or(0, |r| r.count());
    assert_eq!(runs, 0, "a failed run keeps no record");
}

fn assert_new(d: &Path) {
    assert_eq!(text(d, "etc/a/one.conf").as_deref(), Some("ONE\n"));
    assert_eq!(text(d, "etc/a/two.conf").as_deref(), Some("TWO\n"));
    assert_eq!(text(d, "etc/new.d/x.conf").as_deref(), Some("x\n"));
    assert_eq!(tree(d).len(), 3, "leftovers: {:?}", tree(d));
    assert!(!d.join("var/lib/v6fix/journal").exists(), "journal left");
}

#[test]
fn owner_group_mode_and_xattrs_are_kept() {
    let (d, h) = setup();
    let real = d.path().join("etc/a/one.conf");
    std::os::unix::fs::chown(&real, Some(4321), Some(8765)).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let xattrs = {
        let f = fs::File::open(&real).unwrap();
        rustix::fs::fsetxattr(
            &f,
            "user.v6fix-test",
            b"kept",
            rustix::fs::XattrFlags::empty(),
        )
        .is_ok()
    };
    let mut plan = Plan::new();
    plan.change(&read(&h, "/etc/a/one.conf"), "ONE\n".into());
    apply(&h, &plan, &opts(Faults::none())).unwrap();
    let m = fs::metadata(&real).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (4321, 8765, 0o640));
    assert_eq!(fs::read_to_string(&real).unwrap(), "ONE\n");
    if xattrs {
        let f = fs::File::open(&real).unwrap();
        let a = fsroot::attrs_of(&f).unwrap();
        assert!(
            a.xattrs
                .contains(&("user.v6fix-test".into(), b"kept".to_vec())),
            "{a:?}"
        );
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the test filesystem does not take user xattrs");
    }
}

#[test]
fn a_symlink_stays_a_symlink_and_its_target_changes() {
    let (d, h) = setup();
    std::os::unix::fs::symlink("/etc/a/one.conf", d.path().join("etc/link.conf")).unwrap();
    let mut plan = Plan::new();
    plan.change(&read(&h, "/etc/link.conf"), "ONE\n".into());
    apply(&h, &plan, &opts(Faults::none())).unwrap();
    assert!(fs::symlink_metadata(d.path().join("etc/link.conf"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(text(d.path(), "etc/a/one.conf").as_deref(), Some("ONE\n"));
}

#[test]
fn a_hardlinked_file_is_refused_unless_allowed() {
    let (d, h) = setup();
    fs::hard_link(
        d.path().join("etc/a/one.conf"),
        d.path().join("etc/one-again"),
    )
    .unwrap();
    let mut plan = Plan::new();
    plan.change(&read(&h, "/etc/a/one.conf"), "ONE\n".into());
    let e = apply(&h, &plan, &opts(Faults::none())).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("etc/a/one.conf")
            && msg.contains("2 hard links")
            && msg.contains("--allow-hardlinks"),
        "{msg}"
    );
    assert_eq!(text(d.path(), "etc/a/one.conf").as_deref(), Some("one\n"));
    let o = Options {
        allow_hardlinks: true,
        ..opts(Faults::none())
    };
    apply(&h, &plan, &o).unwrap();
    assert_eq!(text(d.path(), "etc/a/one.conf").as_deref(), Some("ONE\n"));
    assert_eq!(text(d.path(), "etc/one-again").as_deref(), Some("one\n"));
}

#[test]
fn a_file_changed_since_planning_is_not_clobbered() {
    let (d, h) = setup();
    let plan = plan3(&h);
    fs::write(d.path().join("etc/a/two.conf"), "edited by hand\n").unwrap();
    let e = apply(&h, &plan, &opts(Faults::none())).unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "{e}");
    assert_eq!(text(d.path(), "etc/a/one.conf").as_deref(), Some("one\n"));
    assert_eq!(
        text(d.path(), "etc/a/two.conf").as_deref(),
        Some("edited by hand\n")
    );
}

/// Each step of the commit, failing: everything is undone and the message says why.
#[test]
fn a_failure_at_any_commit_step_is_undone() {
    for (step, nth, errno, want) in [
        ("journal", Some(0), 28, "No space left"),
        ("journal", Some(1), 5, "Input/output error"),
        ("record", Some(2), 28, "No space left"),
        ("temp-write", Some(1), 28, "No space left"),
        ("temp-fsync", Some(2), 5, "Input/output error"),
        ("rename", Some(0), 16, "busy"),
        ("rename", Some(1), 16, "busy"),
        ("rename", Some(2), 16, "busy"),
        ("dir-fsync", Some(1), 5, "Input/output error"),
    ] {
        let (d, h) = setup();
        let plan = plan3(&h);
        let f = Faults::none().inject(step, nth, FaultAction::Errno(errno));
        let e = apply(&h, &plan, &opts(f)).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(want) && msg.contains(&format!("injected at {step}")),
            "{step}: {msg}"
        );
        // Every message names the file it failed on.
        assert!(
            msg.contains(&format!("{}/", d.path().display())),
            "{step}: {msg}"
        );
        if step != "journal" || nth != Some(0) {
            assert!(msg.contains("nothing was written"), "{step}: {msg}");
        }
        assert_old(d.path());
    }
}

/// The undo failing too: exit with each file's state and the command that finishes.
#[test]
fn a_failed_undo_is_loud_and_recover_finishes_it() {
    // (the commit step that fails, the undo step that fails, the state of one.conf and
    // of x.conf in the message)
    for (fail, undo_step, undo_nth, one, x) in [
        ("rename", "undo-write", None, "new", "old"),
        ("rename", "undo-rename", None, "new", "old"),
        ("dir-fsync", "unlink", None, "old", "new"),
        ("rename", "journal", Some(2), "new", "old"),
    ] {
        let (d, h) = setup();
        let plan = plan3(&h);
        let f = Faults::none()
            .inject(fail, Some(2), FaultAction::Errno(16))
            .inject(undo_step, undo_nth, FaultAction::Errno(28));
        let e = apply(&h, &plan, &opts(f)).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Unfinished { .. }), "{undo_step}: {msg}");
        let root = d.path().display().to_string();
        assert!(
            msg.contains(&format!("v6fix --root {root} recover")),
            "{undo_step}: {msg}"
        );
        assert!(msg.contains("No space left on device"), "{msg}");
        assert!(
            msg.contains(&format!("{one}: {root}/etc/a/one.conf")),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("{x}: {root}/etc/new.d/x.conf")),
            "{msg}"
        );
        assert!(d.path().join("var/lib/v6fix/journal").exists());
        let r = recover(&h, &opts(Faults::none())).unwrap().unwrap();
        if undo_step == "journal" {
            // The undo could not be recorded, so nothing was undone: the commit had
            // begun, and recovery completes it.
            assert!(r.completed, "{r:?}");
            assert_new(d.path());
        } else {
            assert!(!r.completed, "{r:?}");
            assert_old(d.path());
        }
        assert!(r.message().contains(&format!("{root}/etc/a/one.conf")));
        assert_eq!(recover(&h, &opts(Faults::none())).unwrap(), None);
    }
}

/// A crash leaves the journal as these double faults do: recovery rolls a commit that had
/// begun forward, and one that had not back.
#[test]
fn recovery_completes_a_commit_that_had_begun_and_undoes_one_that_had_not() {
    for (step, nth, undo_journal, completed) in [
        ("rename", 1, 2, true),
        ("dir-fsync", 0, 2, true),
        ("temp-write", 1, 1, false),
        ("record", 0, 1, false),
        ("journal", 1, 2, false),
    ] {
        let (d, h) = setup();
        let plan = plan3(&h);
        let f = Faults::none()
            .inject(step, Some(nth), FaultAction::Errno(5))
            .inject("journal", Some(undo_journal), FaultAction::Errno(5));
        let e = apply(&h, &plan, &opts(f)).unwrap_err();
        assert!(matches!(e, Error::Unfinished { .. }), "{step}: {e}");
        let r = recover(&h, &opts(Faults::none())).unwrap().unwrap();
        assert_eq!(r.completed, completed, "{step}: {r:?}");
        if r.completed {
            assert_new(d.path());
        } else {
            assert_old(d.path());
        }
    }
}

#[test]
fn backups_keep_owner_mode_and_every_generation_and_a_failed_run_leaves_none() {
    let (d, h) = setup();
    let real = d.path().join("etc/a/one.conf");
    std::os::unix::fs::chown(&real, Some(4321), Some(8765)).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
    let backup = Options {
        backup: true,
        ..opts(Faults::none())
    };
    for t in ["v1\n", "v2\n"] {
        let mut plan = Plan::new();
        plan.change(&read(&h, "/etc/a/one.conf"), t.into());
        let a = apply(&h, &plan, &backup).unwrap();
        let dir = d
            .path()
            .join(a.backup_dir.unwrap().strip_prefix("/").unwrap());
        let m = fs::metadata(dir.join("etc/a/one.conf")).unwrap();
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (4321, 8765, 0o600));
    }
    assert_eq!(
        fs::read_dir(d.path().join("var/backups/v6fix"))
            .unwrap()
            .count(),
        2
    );
    let mut plan = Plan::new();
    plan.change(&read(&h, "/etc/a/one.conf"), "v3\n".into());
    let o = Options {
        backup: true,
        ..opts(Faults::none().inject("rename", None, FaultAction::Errno(16)))
    };
    apply(&h, &plan, &o).unwrap_err();
    assert_eq!(
        fs::read_dir(d.path().join("var/backups/v6fix"))
            .unwrap()
            .count(),
        2,
        "a failed run leaves no partial backup"
    );
    // The backup itself failing (a full disk): undone, named, nothing left.
    let o = Options {
        backup: true,
        ..opts(Faults::none().inject("backup", None, FaultAction::Errno(28)))
    };
    let e = apply(&h, &plan, &o).unwrap_err().to_string();
    assert!(
        e.contains("var/backups/v6fix/.v6fix-")
            && e.contains("etc/a/one.conf: No space left on device")
            && e.contains("(injected at backup)")
            && e.contains("nothing was written"),
        "{e}"
    );
    assert_eq!(
        fs::read_dir(d.path().join("var/backups/v6fix"))
            .unwrap()
            .count(),
        2
    );
    assert_eq!(text(d.path(), "etc/a/one.conf").as_deref(), Some("v2\n"));
}

/// Closing the journal failing: the files are all new, the error says so, and recovery
/// closes it.
#[test]
fn a_journal_that_cannot_be_closed_is_reported_and_recovered() {
    let (d, h) = setup();
    let f = Faults::none().inject("finish", Some(0), FaultAction::Errno(5));
    let e = apply(&h, &plan3(&h), &opts(f)).unwrap_err();
    let msg = e.to_string();
    let root = d.path().display().to_string();
    assert!(
        msg.contains("the commit is complete but its journal could not be closed")
            && msg.contains(&format!("new: {root}/etc/a/one.conf"))
            && msg.contains(&format!("new: {root}/etc/new.d/x.conf"))
            && msg.contains("recover"),
        "{msg}"
    );
    let r = recover(&h, &opts(Faults::none())).unwrap().unwrap();
    assert!(r.completed);
    assert_new(d.path());
}

#[test]
fn restore_undoes_a_run_and_refuses_a_file_changed_since() {
    let (d, h) = setup();
    let before = tree(d.path());
    apply(&h, &plan3(&h), &opts(Faults::none())).unwrap();
    assert_new(d.path());
    restore(&h, None, false, &opts(Faults::none())).unwrap();
    assert_eq!(tree(d.path()), before);
    assert!(!d.path().join("etc/new.d").exists());

    apply(&h, &plan3(&h), &opts(Faults::none())).unwrap();
    fs::write(d.path().join("etc/a/two.conf"), "edited\n").unwrap();
    let e = restore(&h, None, false, &opts(Faults::none())).unwrap_err();
    assert!(
        e.to_string().contains("etc/a/two.conf") && e.to_string().contains("--force"),
        "{e}"
    );
    assert_eq!(text(d.path(), "etc/a/one.conf").as_deref(), Some("ONE\n"));
    restore(&h, None, true, &opts(Faults::none())).unwrap();
    assert_eq!(tree(d.path()), before);
}

#[test]
fn retention_keeps_the_last_runs_and_those_kept_with_backup() {
    let (d, h) = setup();
    for i in 0..(RETENTION + 3) {
        let mut plan = Plan::new();
        plan.change(&read(&h, "/etc/a/one.conf"), format!("v{i}\n"));
        let o = Options {
            backup: i == 0,
            ..opts(Faults::none())
        };
        apply(&h, &plan, &o).unwrap();
    }
    let runs = history(&h).unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(runs.len(), RETENTION + 1, "{ids:?}");
    assert!(runs[0].keep);
    assert_eq!(
        d.path()
            .join("var/lib/v6fix/runs")
            .read_dir()
            .unwrap()
            .count(),
        RETENTION + 1
    );
}

#[test]
fn stale_temp_files_in_the_directories_written_are_removed() {
    let (d, h) = setup();
    fs::write(d.path().join("etc/a/.v6fix-Ab12Cd.tmp"), "half a file").unwrap();
    let mut plan = Plan::new();
    plan.change(&read(&h, "/etc/a/one.conf"), "ONE\n".into());
    let a = apply(&h, &plan, &opts(Faults::none())).unwrap();
    assert_eq!(
        a.swept,
        [format!("{}/etc/a/.v6fix-Ab12Cd.tmp", d.path().display())]
    );
    let names: Vec<String> = tree(d.path()).into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, ["etc/a/one.conf", "etc/a/two.conf"]);
}
