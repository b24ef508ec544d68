//! The only code that writes: all files of a plan, or none.
//!
//! For each file: check it still holds the text it was planned from, write the new text to
//! a temp file in the same directory, fsync it, give it the original's owner, group and
//! mode, then (once every file is staged) rename each over its target and fsync the
//! directory. A symlinked file is written at its target, so the link stays a link. If any
//! rename fails, the files already replaced get their old text back.
//!
//! Runs are serialised with an exclusive `flock` on the root directory itself ([`lock`]):
//! no lock file is left behind, and a second run waits, then plans on the first one's
//! result. Not preserved: ACLs, extended attributes and SELinux labels of replaced files.

use crate::change::{FileChange, Plan};
use crate::error::{Error, Result};
use crate::host::Host;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep the replaced versions under `/var/backups/v6fix/<UTC time>/` (inside the root).
    pub backup: bool,
    /// Test hook: fail as if renaming the file with this index had failed.
    #[doc(hidden)]
    pub fail_at: Option<usize>,
}

/// What applying did besides writing the files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The machine path of this run's backup directory, when `--backup` was given.
    pub backup_dir: Option<PathBuf>,
}

/// An exclusive lock on the root, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _dir: fs::File,
}

/// Waits for and takes the run lock of `host`'s root.
pub fn lock(host: &Host) -> Result<Lock> {
    let dir =
        fs::File::open(host.root()).map_err(|e| Error::io(host.display(Path::new("/")), &e))?;
    dir.lock()
        .map_err(|e| Error::io(host.display(Path::new("/")), &e))?;
    Ok(Lock { _dir: dir })
}

struct Staged<'p> {
    change: &'p FileChange,
    real: PathBuf,
    temp: tempfile::NamedTempFile,
    meta: Option<fs::Metadata>,
}

/// Writes every file of `plan` or none of them.
pub fn apply(host: &Host, plan: &Plan, opts: &Options) -> Result<Applied> {
    let mut staged = Vec::with_capacity(plan.files.len());
    let mut made_dirs = Vec::new();
    for change in &plan.files {
        staged.push(stage(host, change, &mut made_dirs)?);
    }
    let mut applied = Applied::default();
    if opts.backup {
        applied.backup_dir = Some(backup(host, plan)?);
    }
    let mut done: Vec<&Staged> = Vec::new();
    for (i, s) in staged.iter().enumerate() {
        let result = if opts.fail_at == Some(i) {
            Err(std::io::Error::other("injected failure"))
        } else {
            fs::rename(s.temp.path(), &s.real).and_then(|()| sync_dir(&s.real))
        };
        if let Err(e) = result {
            let err = Error::io(host.display(&s.change.target), &e);
            rollback(&done);
            drop(done);
            drop(staged); // removes the temp files that were not renamed
            for d in made_dirs.iter().rev() {
                let _ = fs::remove_dir(d);
            }
            return Err(err);
        }
        done.push(s);
    }
    drop(done);
    // The temp files were renamed away; forget them without trying to delete.
    for s in staged {
        let _ = s.temp.into_temp_path().keep();
    }
    Ok(applied)
}

fn stage<'p>(
    host: &Host,
    change: &'p FileChange,
    made_dirs: &mut Vec<PathBuf>,
) -> Result<Staged<'p>> {
    let shown = host.display(&change.path);
    let target = host.resolve(&change.path)?;
    if target != change.target {
        return Err(Error::Changed { path: shown });
    }
    let real = host.on_disk(&target);
    let current = match fs::read(&real) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(shown, &e)),
    };
    if current.as_deref() != change.old.as_deref().map(str::as_bytes) {
        return Err(Error::Changed { path: shown });
    }
    let dir = real.parent().ok_or_else(|| Error::Refused {
        path: shown.clone(),
        reason: "no parent directory".into(),
    })?;
    if !dir.exists() {
        let mut missing = Vec::new();
        let mut d = dir.to_path_buf();
        while !d.exists() {
            missing.push(d.clone());
            if !d.pop() {
                break;
            }
        }
        fs::create_dir_all(dir).map_err(|e| Error::io(shown.clone(), &e))?;
        made_dirs.extend(missing.into_iter().rev());
    }
    let meta = match current {
        Some(_) => Some(fs::metadata(&real).map_err(|e| Error::io(shown.clone(), &e))?),
        None => None,
    };
    let temp =
        write_temp(dir, change.new.as_bytes(), meta.as_ref()).map_err(|e| Error::io(shown, &e))?;
    Ok(Staged {
        change,
        real,
        temp,
        meta,
    })
}

/// A synced temp file in `dir` holding `bytes`, with `meta`'s owner and mode (0644 for a
/// new file). Its name starts with a dot and holds a `.`, so no daemon's include glob or
/// Pure-FTPd's option directory picks it up.
fn write_temp(
    dir: &Path,
    bytes: &[u8],
    meta: Option<&fs::Metadata>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let mut temp = tempfile::Builder::new()
        .prefix(".v6fix-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    let f = temp.as_file();
    match meta {
        Some(m) => {
            std::os::unix::fs::fchown(f, Some(m.uid()), Some(m.gid()))?;
            f.set_permissions(fs::Permissions::from_mode(m.mode() & 0o7777))?;
        }
        None => f.set_permissions(fs::Permissions::from_mode(0o644))?,
    }
    f.sync_all()?;
    Ok(temp)
}

fn sync_dir(file: &Path) -> std::io::Result<()> {
    match file.parent() {
        Some(dir) => fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// Puts back what was replaced: old text with old owner and mode, created files removed.
fn rollback(done: &[&Staged]) {
    for s in done.iter().rev() {
        match (&s.change.old, &s.meta) {
            (Some(old), meta) => {
                let dir = s.real.parent().unwrap_or(Path::new("/"));
                if let Ok(t) = write_temp(dir, old.as_bytes(), meta.as_ref()) {
                    let _ = t.persist(&s.real);
                    let _ = sync_dir(&s.real);
                }
            }
            (None, _) => {
                let _ = fs::remove_file(&s.real);
            }
        }
    }
}

/// Copies the old text of every modified file under a new `/var/backups/v6fix/<time>/`.
fn backup(host: &Host, plan: &Plan) -> Result<PathBuf> {
    let base = PathBuf::from("/var/backups/v6fix");
    let real_base = host.on_disk(&base);
    fs::create_dir_all(&real_base).map_err(|e| Error::io(host.display(&base), &e))?;
    let stamp = utc_stamp(std::time::SystemTime::now());
    let mut n = 0;
    let dir = loop {
        let name = if n == 0 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let d = base.join(name);
        match fs::create_dir(host.on_disk(&d)) {
            Ok(()) => break d,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(Error::io(host.display(&d), &e)),
        }
    };
    for f in &plan.files {
        let Some(old) = &f.old else { continue };
        let dest = host.on_disk(&dir.join(host.relative(&f.target)));
        let parent = dest.parent().unwrap_or(Path::new("/"));
        fs::create_dir_all(parent)
            .and_then(|()| fs::write(&dest, old))
            .and_then(|()| fs::File::open(&dest)?.sync_all())
            .map_err(|e| Error::io(dest.display().to_string(), &e))?;
        if let Ok(m) = fs::metadata(host.on_disk(&f.target)) {
            let _ = fs::set_permissions(&dest, fs::Permissions::from_mode(m.mode() & 0o7777));
        }
    }
    Ok(dir)
}

/// `20261126T081525Z` for a point in time (UTC, no dependency on a date crate).
fn utc_stamp(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm), valid for the whole u64 range we use.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::File;
    use std::os::unix::fs::symlink;

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

    #[test]
    fn owner_group_and_mode_are_kept() {
        let (d, h) = setup();
        let real = d.path().join("etc/a/one.conf");
        std::os::unix::fs::chown(&real, Some(4321), Some(8765)).unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let mut plan = Plan::new();
        plan.change(&read(&h, "/etc/a/one.conf"), "ONE\n".into());
        apply(&h, &plan, &Options::default()).unwrap();
        let m = fs::metadata(&real).unwrap();
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (4321, 8765, 0o640));
        assert_eq!(fs::read_to_string(&real).unwrap(), "ONE\n");
    }

    #[test]
    fn a_symlink_stays_a_symlink_and_its_target_changes() {
        let (d, h) = setup();
        symlink("/etc/a/one.conf", d.path().join("etc/link.conf")).unwrap();
        let mut plan = Plan::new();
        plan.change(&read(&h, "/etc/link.conf"), "ONE\n".into());
        apply(&h, &plan, &Options::default()).unwrap();
        assert!(fs::symlink_metadata(d.path().join("etc/link.conf"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_to_string(d.path().join("etc/a/one.conf")).unwrap(),
            "ONE\n"
        );
    }

    #[test]
    fn a_failure_in_the_second_file_leaves_both_as_they_were() {
        let (d, h) = setup();
        let mut plan = Plan::new();
        plan.change(&read(&h, "/etc/a/one.conf"), "ONE\n".into());
        plan.change(&read(&h, "/etc/a/two.conf"), "TWO\n".into());
        plan.create(Path::new("/etc/new.d/x.conf"), "x\n".into());
        // Files are applied in path order: a/one, a/two, new.d/x. Fail at the second.
        let opts = Options {
            fail_at: Some(1),
            ..Options::default()
        };
        let e = apply(&h, &plan, &opts).unwrap_err();
        assert!(e.to_string().contains("injected failure"), "{e}");
        assert_eq!(
            fs::read_to_string(d.path().join("etc/a/one.conf")).unwrap(),
            "one\n"
        );
        assert_eq!(
            fs::read_to_string(d.path().join("etc/a/two.conf")).unwrap(),
            "two\n"
        );
        assert!(!d.path().join("etc/new.d").exists());
        let leftovers: Vec<_> = fs::read_dir(d.path().join("etc/a")).unwrap().collect();
        assert_eq!(leftovers.len(), 2, "no temp files left behind");
    }

    #[test]
    fn a_file_changed_since_planning_is_not_clobbered() {
        let (d, h) = setup();
        let mut plan = Plan::new();
        plan.change(&read(&h, "/etc/a/one.conf"), "ONE\n".into());
        plan.change(&read(&h, "/etc/a/two.conf"), "TWO\n".into());
        fs::write(d.path().join("etc/a/two.conf"), "edited by hand\n").unwrap();
        let e = apply(&h, &plan, &Options::default()).unwrap_err();
        assert!(matches!(e, Error::Changed { .. }), "{e}");
        assert_eq!(
            fs::read_to_string(d.path().join("etc/a/one.conf")).unwrap(),
            "one\n"
        );
        assert_eq!(
            fs::read_to_string(d.path().join("etc/a/two.conf")).unwrap(),
            "edited by hand\n"
        );
    }

    #[test]
    fn backups_keep_every_generation() {
        let (d, h) = setup();
        for text in ["v1\n", "v2\n"] {
            let mut plan = Plan::new();
            plan.change(&read(&h, "/etc/a/one.conf"), text.into());
            let opts = Options {
                backup: true,
                ..Options::default()
            };
            apply(&h, &plan, &opts).unwrap();
        }
        let dirs = fs::read_dir(d.path().join("var/backups/v6fix"))
            .unwrap()
            .count();
        assert_eq!(dirs, 2);
    }

    #[test]
    fn utc_stamps_are_calendar_correct() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_594_525);
        assert_eq!(utc_stamp(t), "20261125T081525Z");
        assert_eq!(utc_stamp(std::time::UNIX_EPOCH), "19700101T000000Z");
    }
}
