//! The only code that writes: all files of a plan, or none, even across a crash.
//!
//! A run is one transaction, recorded under `<root>/var/lib/v6fix/` ([`crate::journal`]):
//!
//! 1. Every file is read once through a handle on its directory (no symlink followed, see
//!    [`crate::fsroot`]) and compared with the text it was planned from; a file with several
//!    hard links is refused unless allowed.
//! 2. The journal says `preparing`. The run's record is written: old and new contents,
//!    owners, modes and extended attributes (ACLs and SELinux labels are xattrs), created
//!    files and directories. The new contents are written to temp files
//!    (`.v6fix-RUN-N.tmp`) beside their targets, each created private (0600, `O_EXCL`),
//!    then given the target's owner, group, mode and xattrs, then written and fsynced.
//! 3. The journal says `committing`. Each file is read again through the same directory
//!    handle and compared, then its temp file is renamed over it (`renameat`) and the
//!    directory fsynced.
//! 4. The journal is removed; the record stays for `restore` (the last [`RETENTION`] runs,
//!    and every run made with `--backup`).
//!
//! A run that finds a journal first finishes the unfinished one ([`recover`]): one that was
//! `committing` is rolled forward, since every new content was durable before the first
//! rename and the commit may already be half visible; one that was `preparing` (nothing
//! replaced yet) or `undoing` is rolled back. A commit that fails in this process is undone
//! at once; when the undo fails too, the error lists every file as new, old or unknown and
//! the journal stays for `v6fix recover`.
//!
//! Runs are serialised with an exclusive `flock` on `var/lib/v6fix/lock`, which holds the
//! pid of the run that has it ([`lock`]).

use crate::change::Plan;
use crate::error::{Error, Result};
use crate::fsroot::{self, Attrs, Root};
use crate::host::Host;
use crate::journal::{utc_stamps, Journal, Phase, RecFile, Record, RUNS_DIR, STATE_DIR};
use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many runs `restore` can reach back, besides those made with `--backup`.
pub const RETENTION: usize = 10;

/// Where `--backup` keeps copies, as a machine path.
pub const BACKUP_DIR: &str = "/var/backups/v6fix";

/// What an injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// The step fails with this errno.
    Errno(i32),
    /// The process aborts on the spot (no cleanup, no unwinding), like a `SIGKILL`.
    Abort,
    /// The process is sent this signal (by `kill(1)`), then the step goes on.
    Signal(i32),
}

/// Failures to inject at named steps of a transaction, for tests. Steps: `journal` (each
/// journal write), `record` (the run's record and copies), `backup` (after a backup file is
/// created and given its attributes, before its bytes), `temp-write` (likewise for a temp
/// file), `temp-fsync`, `rename`, `dir-fsync`, `unlink`, `undo-write`, `undo-rename` and
/// `finish` (closing the journal). A rule fires on every occurrence of its step, or only on
/// the `n`th (counted from 0).
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<(String, Option<usize>, FaultAction)>,
    seen: RefCell<Vec<(String, usize)>>,
}

impl Faults {
    /// No faults.
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Parses `step[:n]=ERRNO|abort|SIGTERM|SIGINT,…` (`rename:1=EBUSY,undo-write=ENOSPC`).
    pub fn parse(spec: &str) -> std::result::Result<Faults, String> {
        let mut f = Faults::default();
        for rule in spec.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let (at, what) = rule
                .split_once('=')
                .ok_or(format!("fault `{rule}`: expected step[:n]=ERRNO"))?;
            let (step, nth) = match at.split_once(':') {
                Some((s, n)) => (
                    s,
                    Some(
                        n.parse()
                            .map_err(|_| format!("fault `{rule}`: bad count"))?,
                    ),
                ),
                None => (at, None),
            };
            let action = match what {
                "abort" => FaultAction::Abort,
                "SIGTERM" => FaultAction::Signal(15),
                "SIGINT" => FaultAction::Signal(2),
                "EBUSY" => FaultAction::Errno(16),
                "ENOSPC" => FaultAction::Errno(28),
                "EIO" => FaultAction::Errno(5),
                "EACCES" => FaultAction::Errno(13),
                "EROFS" => FaultAction::Errno(30),
                n => FaultAction::Errno(
                    n.parse()
                        .map_err(|_| format!("fault `{rule}`: bad errno"))?,
                ),
            };
            f.rules.push((step.to_string(), nth, action));
        }
        Ok(f)
    }

    /// Adds a rule.
    pub fn inject(mut self, step: &str, nth: Option<usize>, action: FaultAction) -> Faults {
        self.rules.push((step.to_string(), nth, action));
        self
    }

    fn hit(&self, step: &str) -> io::Result<()> {
        if self.rules.is_empty() {
            return Ok(());
        }
        let n = {
            let mut seen = self.seen.borrow_mut();
            match seen.iter_mut().find(|(s, _)| s == step) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    seen.push((step.to_string(), 1));
                    0
                }
            }
        };
        for (s, nth, action) in &self.rules {
            if s == step && nth.is_none_or(|k| k == n) {
                match action {
                    FaultAction::Abort => std::process::abort(),
                    FaultAction::Signal(sig) => {
                        let _ = std::process::Command::new("kill")
                            .arg(format!("-{sig}"))
                            .arg(std::process::id().to_string())
                            .status();
                    }
                    FaultAction::Errno(e) => {
                        let err = io::Error::from_raw_os_error(*e);
                        return Err(io::Error::new(
                            err.kind(),
                            format!("{err} (injected at {step})"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The signals a caller catches: which one arrived (0 = none), and whether a signal may
/// still take its default action (terminate). A transaction turns the latter off while
/// it writes, and finishes or undoes its work before a pending signal is acted on.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    pub pending: Arc<AtomicUsize>,
    pub deliver: Arc<AtomicBool>,
}

/// How to apply.
#[derive(Debug, Default)]
pub struct Options {
    /// Keep this run's record beyond [`RETENTION`], and copies of the replaced files under
    /// `/var/backups/v6fix/<UTC time>/` (inside the root).
    pub backup: bool,
    /// Rewrite a file that has several hard links (its other names keep the old text).
    pub allow_hardlinks: bool,
    /// The command line, for `history`.
    pub command: String,
    pub faults: Faults,
    pub signals: Option<Signals>,
}

/// What applying did besides writing the files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The machine path of this run's backup directory, when `--backup` was given.
    pub backup_dir: Option<PathBuf>,
    /// The run's id, for `history` and `restore`.
    pub run_id: Option<String>,
    /// A signal that arrived while the commit was written, which waited for it to finish.
    pub deferred_signal: Option<i32>,
    /// Stale temp files (`.v6fix-*.tmp`, from a run no journal knows of, such as one of an
    /// older v6fix killed mid-write) removed from the directories this run wrote in.
    pub swept: Vec<String>,
}

/// What [`recover`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub id: String,
    pub command: String,
    /// True when the run was completed (rolled forward), false when it was undone.
    pub completed: bool,
    /// The files of that run (machine paths as shown).
    pub files: Vec<String>,
}

impl Recovered {
    /// One sentence for stderr and the JSON notes.
    pub fn message(&self) -> String {
        let what = if self.completed {
            "its commit had begun, so it was completed: every file now holds its new text"
        } else {
            "it had not started its commit, so it was undone: every file holds its old text"
        };
        format!(
            "an interrupted v6fix run was found ({}, `{}`): {what} ({})",
            self.id,
            self.command,
            self.files.join(", ")
        )
    }
}

/// An exclusive lock on the root, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

fn io_err(path: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let path = path.into();
    move |e| Error::io(path, &e)
}

fn state_dir(host: &Host) -> Result<OwnedFd> {
    host.fs()
        .open_dir(Path::new(STATE_DIR), Some(&mut Vec::new()))
        .map_err(io_err(host.display(Path::new(STATE_DIR))))
}

/// Waits up to `timeout` for the run lock of `host`'s root and takes it. `waiting` is
/// called once, with the holder's pid when known, if another run holds it.
pub fn lock(host: &Host, timeout: Duration, waiting: &mut dyn FnMut(Option<u32>)) -> Result<Lock> {
    let shown = host.display(&Path::new(STATE_DIR).join("lock"));
    let state = state_dir(host)?;
    let fd = rustix::fs::openat(
        &state,
        "lock",
        rustix::fs::OFlags::RDWR
            | rustix::fs::OFlags::CREATE
            | rustix::fs::OFlags::NOFOLLOW
            | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::from_raw_mode(0o644),
    )
    .map_err(|e| {
        Error::io(
            shown.clone(),
            &io::Error::from_raw_os_error(e.raw_os_error()),
        )
    })?;
    let mut file = std::fs::File::from(fd);
    let start = Instant::now();
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = (&file).read_to_string(&mut text);
                let pid = text.trim().parse().ok();
                if !told {
                    waiting(pid);
                    told = true;
                }
                if start.elapsed() >= timeout {
                    return Err(Error::Locked {
                        path: shown,
                        pid,
                        secs: timeout.as_secs(),
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
                use std::io::Seek;
                let _ = file.rewind();
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(shown, &e)),
        }
    }
    let _ = file.set_len(0);
    use std::io::Seek;
    let _ = file.rewind();
    let _ = writeln!(file, "{}", std::process::id());
    Ok(Lock { _file: file })
}

/// One file of a transaction, in memory.
#[derive(Debug, Clone)]
struct Work {
    path: PathBuf,
    shown: PathBuf,
    old: Option<Bytes>,
    new: Option<Bytes>,
    old_attrs: Option<Attrs>,
    new_attrs: Option<Attrs>,
}

/// A file's bytes in a transaction: a planned text, shared with the plan (not copied) when
/// its bytes are its UTF-8, or bytes of their own.
#[derive(Debug, Clone)]
enum Bytes {
    Text(crate::text::Text),
    Owned(Vec<u8>),
}

impl Bytes {
    fn of(text: &crate::text::Text) -> Bytes {
        match crate::text::encode(text) {
            std::borrow::Cow::Borrowed(_) => Bytes::Text(text.clone()),
            std::borrow::Cow::Owned(v) => Bytes::Owned(v),
        }
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Text(t) => t.as_bytes(),
            Bytes::Owned(v) => v,
        }
    }
}

/// The owner of files v6fix creates: this process's.
fn own_attrs(mode: u32) -> Attrs {
    use std::os::unix::fs::MetadataExt;
    let (uid, gid) = std::fs::metadata("/proc/self").map_or((0, 0), |m| (m.uid(), m.gid()));
    Attrs {
        uid,
        gid,
        mode,
        xattrs: Vec::new(),
    }
}

/// Writes every file of `plan` or none of them.
pub fn apply(host: &Host, plan: &Plan, opts: &Options) -> Result<Applied> {
    let mut works = Vec::with_capacity(plan.files.len());
    for c in &plan.files {
        let shown = host.display(&c.path);
        let target = host.resolve(&c.path)?;
        if target != c.target {
            return Err(Error::Changed { path: shown });
        }
        let cur = host.fs().read(&target).map_err(io_err(shown.clone()))?;
        let same = match (&cur, &c.old) {
            (None, None) => true,
            (Some(r), Some(o)) => r.bytes[..] == *crate::text::encode(o),
            _ => false,
        };
        if !same {
            return Err(Error::Changed { path: shown });
        }
        if let Some(r) = &cur {
            if r.nlink > 1 && !opts.allow_hardlinks {
                return Err(Error::Refused {
                    path: host.display(&target),
                    reason: format!(
                        "it has {} hard links, and replacing it would split them (the other names would keep the old text); pass --allow-hardlinks to rewrite it anyway",
                        r.nlink
                    ),
                });
            }
        }
        let old_attrs = cur.map(|r| r.attrs);
        let new_attrs = Some(old_attrs.clone().unwrap_or_else(|| own_attrs(0o644)));
        works.push(Work {
            path: target,
            shown: c.path.clone(),
            old: c.old.as_ref().map(Bytes::of),
            new: Some(Bytes::of(&c.new)),
            old_attrs,
            new_attrs,
        });
    }
    transact(host, works, None, opts)
}

/// Which state a file is in, for the message of a failed undo.
fn file_state(root: &Root, w: &Work) -> &'static str {
    match root.read(&w.path) {
        Ok(r) => {
            let cur = r.map(|r| r.bytes);
            if cur.as_deref() == w.new.as_deref() {
                "new"
            } else if cur.as_deref() == w.old.as_deref() {
                "old"
            } else {
                "unknown"
            }
        }
        Err(_) => "unknown",
    }
}

struct Txn<'a> {
    host: &'a Host,
    state: OwnedFd,
    rec: Record,
    works: Vec<Work>,
    /// The directory handle of each file, opened once and used for every step.
    dirs: Vec<Option<OwnedFd>>,
    faults: &'a Faults,
}

impl Txn<'_> {
    fn root(&self) -> &Root {
        self.host.fs()
    }

    fn write_journal(&self, phase: Phase) -> io::Result<()> {
        self.faults.hit("journal")?;
        let j = Journal {
            id: self.rec.id.clone(),
            phase,
        };
        let tmp = OsStr::new("journal.tmp");
        fsroot::remove_at(&self.state, tmp)?;
        fsroot::create_at(
            &self.state,
            tmp,
            &j.to_bytes(),
            &own_attrs(0o600),
            &mut |_| Ok(()),
        )?;
        fsroot::rename_at(&self.state, tmp, OsStr::new("journal"))?;
        fsroot::sync_dir(&self.state)
    }

    fn close_journal(&self) -> io::Result<()> {
        self.faults.hit("finish")?;
        fsroot::remove_at(&self.state, OsStr::new("journal"))?;
        fsroot::sync_dir(&self.state)
    }

    fn run_dir(&self) -> io::Result<OwnedFd> {
        self.root().open_dir(&self.rec.dir(), None)
    }

    /// Writes the record, the copies, the backup, the directories and the temp files.
    fn prepare(&mut self) -> io::Result<()> {
        let faults = self.faults;
        let host = self.host;
        // Names the file an error happened on.
        let at = |p: &Path| {
            let shown = host.display(p);
            move |e: io::Error| io::Error::new(e.kind(), format!("{shown}: {e}"))
        };
        let rundir = self.rec.dir();
        let run = self.run_dir().map_err(at(&rundir))?;
        for sub in ["old", "new"] {
            rustix::fs::mkdirat(&run, sub, rustix::fs::Mode::from_raw_mode(0o700))
                .map_err(|e| io::Error::from_raw_os_error(e.raw_os_error()))
                .map_err(at(&rundir.join(sub)))?;
        }
        let old_dir = self
            .root()
            .open_dir(&rundir.join("old"), None)
            .map_err(at(&rundir.join("old")))?;
        let new_dir = self
            .root()
            .open_dir(&rundir.join("new"), None)
            .map_err(at(&rundir.join("new")))?;
        // The copies get the files' owner, group and mode; their xattrs are in the record
        // (a label or an ACL means nothing on a copy in a root-only directory, and
        // /var/lib may be a filesystem that does not take them).
        let bare = |a: &Attrs| Attrs {
            xattrs: Vec::new(),
            ..a.clone()
        };
        for (i, w) in self.works.iter().enumerate() {
            let name = OsString::from(i.to_string());
            let mut hook = |_: &OwnedFd| faults.hit("record");
            if let (Some(old), Some(a)) = (&w.old, &w.old_attrs) {
                fsroot::create_at(&old_dir, &name, old, &bare(a), &mut hook)
                    .map_err(at(&rundir.join("old").join(&name)))?;
            }
            if let (Some(new), Some(a)) = (&w.new, &w.new_attrs) {
                fsroot::create_at(&new_dir, &name, new, &bare(a), &mut hook)
                    .map_err(at(&rundir.join("new").join(&name)))?;
            }
        }
        fsroot::sync_dir(&old_dir).map_err(at(&rundir.join("old")))?;
        fsroot::sync_dir(&new_dir).map_err(at(&rundir.join("new")))?;
        let mut hook = |_: &OwnedFd| faults.hit("record");
        fsroot::create_at(
            &run,
            OsStr::new("record.json"),
            &self.rec.to_bytes(),
            &own_attrs(0o600),
            &mut hook,
        )
        .map_err(at(&rundir.join("record.json")))?;
        fsroot::sync_dir(&run).map_err(at(&rundir))?;

        if let Some(partial) = &self.rec.backup_partial {
            for w in &self.works {
                let (Some(old), Some(a)) = (&w.old, &w.old_attrs) else {
                    continue;
                };
                let rel = w.path.strip_prefix("/").unwrap_or(&w.path);
                let dest = partial.join(rel);
                let (d, name) = fsroot::split(&dest)?;
                let dir = self
                    .root()
                    .open_dir(&d, Some(&mut Vec::new()))
                    .map_err(at(&d))?;
                let mut hook = |_: &OwnedFd| faults.hit("backup");
                fsroot::create_at(&dir, &name, old, a, &mut hook).map_err(at(&dest))?;
            }
        }

        let mut made = Vec::new();
        for i in 0..self.works.len() {
            let (d, _) = fsroot::split(&self.works[i].path)?;
            self.dirs[i] = Some(self.root().open_dir(&d, Some(&mut made)).map_err(at(&d))?);
        }
        for (i, w) in self.works.iter().enumerate() {
            let (Some(new), Some(a), Some(dir)) = (&w.new, &w.new_attrs, &self.dirs[i]) else {
                continue;
            };
            let temp = OsStr::new(&self.rec.files[i].temp);
            let mut hook = |_: &OwnedFd| faults.hit("temp-write");
            let shown = w.path.with_file_name(temp);
            fsroot::create_at(dir, temp, new, a, &mut hook).map_err(at(&shown))?;
            faults.hit("temp-fsync").map_err(at(&shown))?;
        }
        for dir in self.dirs.iter().flatten() {
            fsroot::sync_dir(dir)?;
        }
        Ok(())
    }

    fn dir(&self, i: usize) -> io::Result<OwnedFd> {
        match &self.dirs[i] {
            Some(d) => d.try_clone(),
            None => {
                let (d, _) = fsroot::split(&self.works[i].path)?;
                self.root().open_dir(&d, None)
            }
        }
    }

    /// Checks that file `i` still holds what was read, through its directory handle;
    /// returns the handle and the file's name.
    fn check_unchanged(&self, i: usize) -> Result<(OwnedFd, OsString)> {
        let w = &self.works[i];
        let shown = self.host.display(&w.path);
        let (_, name) = fsroot::split(&w.path).map_err(io_err(shown.clone()))?;
        let dir = self.dir(i).map_err(io_err(shown.clone()))?;
        let cur = fsroot::read_at(&dir, &name)
            .map_err(io_err(shown.clone()))?
            .map(|r| r.bytes);
        if cur.as_deref() != w.old.as_deref() {
            return Err(Error::Changed { path: shown });
        }
        Ok((dir, name))
    }

    /// Removes `.v6fix-*.tmp` files left in this run's directories. The lock is held and
    /// any journal was finished first, so none of them belongs to a live run.
    fn sweep(&self) -> Vec<String> {
        let mut swept = Vec::new();
        let mut seen: Vec<&Path> = Vec::new();
        for (i, w) in self.works.iter().enumerate() {
            let Some(parent) = w.path.parent() else {
                continue;
            };
            if seen.contains(&parent) {
                continue;
            }
            seen.push(parent);
            let Ok(dir) = self.dir(i) else { continue };
            for name in fsroot::list_at(&dir).unwrap_or_default() {
                let n = name.to_string_lossy();
                if n.starts_with(".v6fix-")
                    && n.ends_with(".tmp")
                    && fsroot::remove_at(&dir, &name).is_ok()
                {
                    swept.push(self.host.display(&parent.join(&name)));
                }
            }
        }
        swept
    }

    /// Replaces file `i`, after checking it still holds what was read.
    fn commit_one(&self, i: usize) -> Result<()> {
        let w = &self.works[i];
        let shown = self.host.display(&w.path);
        let (dir, name) = self.check_unchanged(i)?;
        let step = || -> io::Result<()> {
            match &w.new {
                Some(_) => {
                    self.faults.hit("rename")?;
                    fsroot::rename_at(&dir, OsStr::new(&self.rec.files[i].temp), &name)?;
                }
                None => {
                    self.faults.hit("unlink")?;
                    fsroot::remove_at(&dir, &name)?;
                }
            }
            self.faults.hit("dir-fsync")?;
            fsroot::sync_dir(&dir)
        };
        step().map_err(io_err(shown))
    }

    /// Puts file `i` back as it was and removes its temp file.
    fn undo_one(&self, i: usize) -> io::Result<()> {
        let w = &self.works[i];
        let (_, name) = fsroot::split(&w.path)?;
        let dir = match self.dir(i) {
            Ok(d) => d,
            // Its directory is gone or was never made: nothing of this file is there.
            Err(e) if e.kind() == io::ErrorKind::NotFound && w.old.is_none() => return Ok(()),
            Err(e) => return Err(e),
        };
        let temp = OsStr::new(&self.rec.files[i].temp);
        fsroot::remove_at(&dir, temp)?;
        let cur = fsroot::read_at(&dir, &name)?.map(|r| r.bytes);
        match (&w.old, &w.old_attrs) {
            (Some(old), Some(attrs)) => {
                if cur.as_deref() == Some(&**old) {
                    return Ok(());
                }
                let undo = OsString::from(format!(".v6fix-{}-{i}.undo.tmp", self.rec.id));
                fsroot::remove_at(&dir, &undo)?;
                let mut hook = |_: &OwnedFd| self.faults.hit("undo-write");
                fsroot::create_at(&dir, &undo, old, attrs, &mut hook)?;
                let renamed = self
                    .faults
                    .hit("undo-rename")
                    .and_then(|()| fsroot::rename_at(&dir, &undo, &name));
                if let Err(e) = renamed {
                    let _ = fsroot::remove_at(&dir, &undo);
                    return Err(e);
                }
            }
            _ => {
                if cur.is_none() {
                    return Ok(());
                }
                self.faults.hit("unlink")?;
                fsroot::remove_at(&dir, &name)?;
            }
        }
        self.faults.hit("dir-fsync")?;
        fsroot::sync_dir(&dir)
    }

    /// Moves file `i` forward to its new text (recovery of a commit that had begun).
    fn forward_one(&self, i: usize) -> io::Result<()> {
        let w = &self.works[i];
        let (_, name) = fsroot::split(&w.path)?;
        let dir = self.dir(i)?;
        let temp = OsStr::new(&self.rec.files[i].temp);
        match &w.new {
            Some(new) => {
                if fsroot::exists_at(&dir, temp)? {
                    self.faults.hit("rename")?;
                    fsroot::rename_at(&dir, temp, &name)?;
                }
                let cur = fsroot::read_at(&dir, &name)?.map(|r| r.bytes);
                if cur.as_deref() != Some(&**new) {
                    return Err(io::Error::other(
                        "holds neither its temp file nor its new text",
                    ));
                }
            }
            None => {
                self.faults.hit("unlink")?;
                fsroot::remove_at(&dir, &name)?;
            }
        }
        self.faults.hit("dir-fsync")?;
        fsroot::sync_dir(&dir)
    }

    /// Removes what the run created besides its files: directories (when empty), the
    /// partial backup, the run's record.
    fn discard(&self) -> io::Result<()> {
        let root = self.root();
        for d in self.rec.made_dirs.iter().rev() {
            if let Ok((parent, name)) = fsroot::split(d) {
                if let Ok(Some(p)) = root.open_dir_if_exists(&parent) {
                    fsroot::remove_dir_at(&p, &name);
                }
            }
        }
        if let Some(partial) = &self.rec.backup_partial {
            let (parent, name) = fsroot::split(partial)?;
            if let Some(p) = root.open_dir_if_exists(&parent)? {
                fsroot::remove_tree_at(&p, &name)?;
            }
        }
        let runs = root.open_dir(Path::new(RUNS_DIR), None)?;
        fsroot::remove_tree_at(&runs, OsStr::new(&self.rec.id))?;
        fsroot::sync_dir(&runs)
    }

    /// Undoes every file, then forgets the run. On failure, the journal stays (`undoing`)
    /// and the error names each file's state.
    fn undo(&self, cause: String) -> Error {
        let mut failures = Vec::new();
        if let Err(e) = self.write_journal(Phase::Undoing) {
            // Without the journal saying so, an undo could be mistaken for a commit to
            // finish: leave everything as it is for `recover`.
            failures.push(format!("the journal: {e}"));
            return self.stuck(cause, failures);
        }
        for i in (0..self.works.len()).rev() {
            if let Err(e) = self.undo_one(i) {
                failures.push(format!("{}: {e}", self.host.display(&self.works[i].path)));
            }
        }
        if failures.is_empty() {
            if let Err(e) = self.discard().and_then(|()| self.close_journal()) {
                failures.push(format!("the journal: {e}"));
            }
        }
        if failures.is_empty() {
            return Error::Aborted { cause };
        }
        self.stuck(cause, failures)
    }

    fn stuck(&self, cause: String, failures: Vec<String>) -> Error {
        let files = self
            .works
            .iter()
            .map(|w| (self.host.display(&w.path), file_state(self.root(), w)))
            .collect();
        Error::Unfinished {
            cause,
            failures,
            files,
            root: self.host.root().display().to_string(),
        }
    }

    /// The commit is in place: rename the backup, close the journal, prune old runs.
    fn finish(&self) -> Result<Option<PathBuf>> {
        let mut backup = None;
        if let Some(partial) = &self.rec.backup_partial {
            let base = self
                .root()
                .open_dir(Path::new(BACKUP_DIR), None)
                .map_err(io_err(self.host.display(Path::new(BACKUP_DIR))))?;
            let stamp = self.rec.id.split('-').next().unwrap_or(&self.rec.id);
            let from = partial.file_name().unwrap_or_default();
            for n in 0.. {
                let name = if n == 0 {
                    stamp.to_string()
                } else {
                    format!("{stamp}-{n}")
                };
                match rustix::fs::renameat_with(
                    &base,
                    from,
                    &base,
                    name.as_str(),
                    rustix::fs::RenameFlags::NOREPLACE,
                ) {
                    Ok(()) => {
                        backup = Some(Path::new(BACKUP_DIR).join(name));
                        break;
                    }
                    Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => {
                        return Err(Error::io(
                            self.host.display(partial),
                            &io::Error::from_raw_os_error(e.raw_os_error()),
                        ))
                    }
                }
            }
            let _ = fsroot::sync_dir(&base);
        }
        if let Err(e) = self.close_journal() {
            return Err(Error::Unfinished {
                cause: format!("the commit is complete but its journal could not be closed: {e}"),
                failures: Vec::new(),
                files: self
                    .works
                    .iter()
                    .map(|w| (self.host.display(&w.path), file_state(self.root(), w)))
                    .collect(),
                root: self.host.root().display().to_string(),
            });
        }
        prune(self.host, &self.rec.id);
        Ok(backup)
    }
}

/// Turns off a signal's default action while alive.
struct Deferral<'a>(Option<&'a Signals>);

impl<'a> Deferral<'a> {
    fn new(s: Option<&'a Signals>) -> Self {
        if let Some(s) = s {
            s.deliver.store(false, Ordering::SeqCst);
        }
        Deferral(s)
    }

    fn pending(&self) -> Option<i32> {
        self.0
            .map(|s| s.pending.load(Ordering::SeqCst))
            .filter(|&n| n != 0)
            .map(|n| n as i32)
    }
}

impl Drop for Deferral<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.0 {
            s.deliver.store(true, Ordering::SeqCst);
        }
    }
}

fn new_run_dir(host: &Host) -> Result<(String, String)> {
    let runs_shown = host.display(Path::new(RUNS_DIR));
    let runs = host
        .fs()
        .open_dir(Path::new(RUNS_DIR), Some(&mut Vec::new()))
        .map_err(io_err(runs_shown.clone()))?;
    let (stamp, time) = utc_stamps(std::time::SystemTime::now());
    // After the last id of this second, even if earlier ones were pruned: ids sort in
    // the order the runs started.
    let last = fsroot::list_at(&runs)
        .map_err(io_err(runs_shown.clone()))?
        .iter()
        .filter_map(|n| {
            let n = n.to_str()?;
            n.strip_prefix(stamp.as_str())?
                .strip_prefix('-')?
                .parse::<u32>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    for n in last + 1..last + 1000 {
        let id = format!("{stamp}-{n:03}");
        match rustix::fs::mkdirat(&runs, id.as_str(), rustix::fs::Mode::from_raw_mode(0o700)) {
            Ok(()) => return Ok((id, time)),
            Err(rustix::io::Errno::EXIST) => {}
            Err(e) => {
                return Err(Error::io(
                    runs_shown,
                    &io::Error::from_raw_os_error(e.raw_os_error()),
                ))
            }
        }
    }
    Err(Error::Refused {
        path: runs_shown,
        reason: format!("a thousand runs were started within {stamp}; try again"),
    })
}

/// The directories above `works`' files that do not exist yet, outermost first.
fn missing_dirs(root: &Root, works: &[Work]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for w in works {
        let mut chain = Vec::new();
        let mut d = w.path.parent().map(Path::to_path_buf);
        while let Some(dir) = d {
            if matches!(root.open_dir_if_exists(&dir), Ok(Some(_))) {
                break;
            }
            chain.push(dir.clone());
            d = dir.parent().map(Path::to_path_buf);
        }
        for c in chain.into_iter().rev() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

fn transact(
    host: &Host,
    works: Vec<Work>,
    restores: Option<String>,
    opts: &Options,
) -> Result<Applied> {
    let deferral = Deferral::new(opts.signals.as_ref());
    let state = state_dir(host)?;
    let (id, time) = new_run_dir(host)?;
    let files = works
        .iter()
        .enumerate()
        .map(|(i, w)| RecFile {
            path: w.path.clone(),
            shown: w.shown.clone(),
            temp: format!(".v6fix-{id}-{i}.tmp"),
            had_old: w.old.is_some(),
            has_new: w.new.is_some(),
            old_attrs: w.old_attrs.clone(),
            new_attrs: w.new_attrs.clone(),
        })
        .collect();
    let rec = Record {
        id: id.clone(),
        time,
        command: opts.command.clone(),
        restores,
        keep: opts.backup,
        made_dirs: missing_dirs(host.fs(), &works),
        backup_partial: opts
            .backup
            .then(|| Path::new(BACKUP_DIR).join(format!(".v6fix-{id}.partial"))),
        backup: None,
        files,
    };
    let n = works.len();
    let mut txn = Txn {
        host,
        state,
        rec,
        works,
        dirs: (0..n).map(|_| None).collect(),
        faults: &opts.faults,
    };
    if let Err(e) = txn.write_journal(Phase::Preparing) {
        let _ = txn.discard();
        let _ = txn.close_journal();
        return Err(Error::io(
            host.display(&Path::new(STATE_DIR).join("journal")),
            &e,
        ));
    }
    if opts.backup {
        if let Err(e) = host
            .fs()
            .open_dir(Path::new(BACKUP_DIR), Some(&mut Vec::new()))
        {
            return Err(txn.undo(Error::io(host.display(Path::new(BACKUP_DIR)), &e).to_string()));
        }
    }
    if let Err(e) = txn.prepare() {
        return Err(txn.undo(e.to_string()));
    }
    if let Some(sig) = deferral.pending() {
        return Err(txn.undo(format!(
            "interrupted by {} before the commit began",
            signal_name(sig)
        )));
    }
    for i in 0..n {
        if let Err(e) = txn.check_unchanged(i) {
            return Err(txn.undo(e.to_string()));
        }
    }
    if let Err(e) = txn.write_journal(Phase::Committing) {
        return Err(txn
            .undo(Error::io(host.display(&Path::new(STATE_DIR).join("journal")), &e).to_string()));
    }
    for i in 0..n {
        if let Err(e) = txn.commit_one(i) {
            return Err(txn.undo(e.to_string()));
        }
    }
    let backup_dir = txn.finish()?;
    let swept = txn.sweep();
    Ok(Applied {
        backup_dir,
        run_id: Some(id),
        deferred_signal: deferral.pending(),
        swept,
    })
}

/// `SIGTERM` for 15.
pub fn signal_name(sig: i32) -> String {
    match sig {
        1 => "SIGHUP".into(),
        2 => "SIGINT".into(),
        3 => "SIGQUIT".into(),
        15 => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

fn read_content(root: &Root, path: &Path) -> io::Result<Option<Vec<u8>>> {
    Ok(root.read(path)?.map(|r| r.bytes))
}

/// Loads run `id`'s record and contents.
fn load_run(host: &Host, id: &str) -> Result<(Record, Vec<Work>)> {
    let dir = Path::new(RUNS_DIR).join(id);
    let shown = host.display(&dir.join("record.json"));
    let bytes = read_content(host.fs(), &dir.join("record.json"))
        .map_err(io_err(shown.clone()))?
        .ok_or_else(|| Error::io(shown.clone(), &io::Error::from(io::ErrorKind::NotFound)))?;
    let rec = Record::parse(&bytes).map_err(|e| Error::invalid(shown.clone(), None, e))?;
    let mut works = Vec::new();
    for (i, f) in rec.files.iter().enumerate() {
        let load = |sub: &str, want: bool| -> Result<Option<Vec<u8>>> {
            if !want {
                return Ok(None);
            }
            let p = dir.join(sub).join(i.to_string());
            read_content(host.fs(), &p)
                .map_err(io_err(host.display(&p)))?
                .map(Some)
                .ok_or_else(|| {
                    Error::io(host.display(&p), &io::Error::from(io::ErrorKind::NotFound))
                })
        };
        works.push(Work {
            path: f.path.clone(),
            shown: f.shown.clone(),
            old: load("old", f.had_old)?.map(Bytes::Owned),
            new: load("new", f.has_new)?.map(Bytes::Owned),
            old_attrs: f.old_attrs.clone(),
            new_attrs: f.new_attrs.clone(),
        });
    }
    Ok((rec, works))
}

/// The id of an interrupted run whose journal waits for [`recover`], if any.
pub fn pending(host: &Host) -> Option<String> {
    let state = host.fs().open_dir_if_exists(Path::new(STATE_DIR)).ok()??;
    let bytes = fsroot::read_at(&state, OsStr::new("journal")).ok()??.bytes;
    Journal::parse(&bytes).ok().map(|j| j.id)
}

/// Finishes a run that was interrupted (see the module docs for which way); `None` when
/// there was none. Call it with the lock held, before planning.
pub fn recover(host: &Host, opts: &Options) -> Result<Option<Recovered>> {
    let journal_path = Path::new(STATE_DIR).join("journal");
    let shown = host.display(&journal_path);
    let Some(state) = host
        .fs()
        .open_dir_if_exists(Path::new(STATE_DIR))
        .map_err(io_err(shown.clone()))?
    else {
        return Ok(None);
    };
    let Some(bytes) = fsroot::read_at(&state, OsStr::new("journal"))
        .map_err(io_err(shown.clone()))?
        .map(|r| r.bytes)
    else {
        return Ok(None);
    };
    let _deferral = Deferral::new(opts.signals.as_ref());
    let journal = Journal::parse(&bytes).map_err(|e| Error::invalid(shown.clone(), None, e))?;
    let (rec, works) = match load_run(host, &journal.id) {
        Ok(x) => x,
        Err(_) if journal.phase == Phase::Preparing => {
            // Killed before its record was complete: no temp file can exist yet.
            if let Ok(runs) = host.fs().open_dir(Path::new(RUNS_DIR), None) {
                let _ = fsroot::remove_tree_at(&runs, OsStr::new(&journal.id));
            }
            fsroot::remove_at(&state, OsStr::new("journal")).map_err(io_err(shown.clone()))?;
            let _ = fsroot::sync_dir(&state);
            return Ok(Some(Recovered {
                id: journal.id,
                command: String::from("?"),
                completed: false,
                files: Vec::new(),
            }));
        }
        Err(e) => return Err(e),
    };
    let n = works.len();
    let txn = Txn {
        host,
        state,
        rec,
        works,
        dirs: (0..n).map(|_| None).collect(),
        faults: &opts.faults,
    };
    let files = txn.works.iter().map(|w| host.display(&w.path)).collect();
    let recovered = |completed| Recovered {
        id: txn.rec.id.clone(),
        command: txn.rec.command.clone(),
        completed,
        files,
    };
    match journal.phase {
        Phase::Committing => {
            let mut failures = Vec::new();
            for i in 0..n {
                if let Err(e) = txn.forward_one(i) {
                    failures.push(format!("{}: {e}", host.display(&txn.works[i].path)));
                }
            }
            if !failures.is_empty() {
                return Err(txn.stuck(
                    format!("completing the interrupted run {} failed", txn.rec.id),
                    failures,
                ));
            }
            txn.finish()?;
            Ok(Some(recovered(true)))
        }
        Phase::Preparing | Phase::Undoing => {
            match txn.undo(format!("undoing the interrupted run {}", txn.rec.id)) {
                Error::Aborted { .. } => Ok(Some(recovered(false))),
                e => Err(e),
            }
        }
    }
}

/// Removes run records beyond [`RETENTION`] (never those kept with `--backup`, nor
/// `current`), and directories that never got a record.
fn prune(host: &Host, current: &str) {
    let Ok(runs) = host.fs().open_dir(Path::new(RUNS_DIR), None) else {
        return;
    };
    let Ok(names) = fsroot::list_at(&runs) else {
        return;
    };
    let mut kept = 0;
    for name in names.iter().rev() {
        let id = name.to_string_lossy();
        if id == current {
            kept += 1;
            continue;
        }
        let rec = host
            .fs()
            .read(&Path::new(RUNS_DIR).join(name).join("record.json"))
            .ok()
            .flatten()
            .and_then(|r| Record::parse(&r.bytes).ok());
        match rec {
            Some(r) if r.keep => {}
            Some(_) if kept < RETENTION => kept += 1,
            _ => {
                let _ = fsroot::remove_tree_at(&runs, name);
            }
        }
    }
    let _ = fsroot::sync_dir(&runs);
}

/// Every recorded run, oldest first.
pub fn history(host: &Host) -> Result<Vec<Record>> {
    let shown = host.display(Path::new(RUNS_DIR));
    let Some(runs) = host
        .fs()
        .open_dir_if_exists(Path::new(RUNS_DIR))
        .map_err(io_err(shown))?
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in fsroot::list_at(&runs).map_err(io_err(host.display(Path::new(RUNS_DIR))))? {
        let p = Path::new(RUNS_DIR).join(&name).join("record.json");
        if let Ok(Some(r)) = host.fs().read(&p) {
            if let Ok(rec) = Record::parse(&r.bytes) {
                out.push(rec);
            }
        }
    }
    Ok(out)
}

/// The run `restore` undoes by default: the newest that is not a restore and has not been
/// restored.
pub fn last_restorable(records: &[Record]) -> Option<&Record> {
    records.iter().rev().find(|r| {
        r.restores.is_none() && !records.iter().any(|x| x.restores.as_deref() == Some(&r.id))
    })
}

/// Undoes run `id` (or the last one) as one transaction: every file it replaced gets its
/// old text, owner, group, mode and xattrs back, every file it created is removed. A file
/// changed since that run is refused, naming it, unless `force`.
pub fn restore(
    host: &Host,
    id: Option<&str>,
    force: bool,
    opts: &Options,
) -> Result<(Applied, Record)> {
    let records = history(host)?;
    let rec = match id {
        Some(id) => records.iter().find(|r| r.id == id).ok_or_else(|| {
            Error::usage(format!(
                "no run {id} under {}; `v6fix history` lists the runs that can be restored",
                host.display(Path::new(RUNS_DIR))
            ))
        })?,
        None => last_restorable(&records).ok_or_else(|| {
            Error::usage(format!(
                "no run to restore under {}",
                host.display(Path::new(RUNS_DIR))
            ))
        })?,
    };
    let (rec, done) = load_run(host, &rec.id)?;
    let mut works = Vec::new();
    let mut changed = Vec::new();
    for w in done {
        let shown = host.display(&w.path);
        let cur = host.fs().read(&w.path).map_err(io_err(shown.clone()))?;
        let bytes = cur.as_ref().map(|r| r.bytes.clone());
        if bytes.as_deref() != w.new.as_deref() {
            changed.push(shown);
        }
        works.push(Work {
            path: w.path,
            shown: w.shown,
            old: bytes.map(Bytes::Owned),
            new: w.old,
            old_attrs: cur.map(|r| r.attrs),
            new_attrs: w.old_attrs,
        });
    }
    if !changed.is_empty() && !force {
        return Err(Error::Refused {
            path: changed.join(", "),
            reason: format!(
                "changed since run {} wrote it; restoring would lose that change. Pass --force to restore anyway",
                rec.id
            ),
        });
    }
    let applied = transact(host, works, Some(rec.id.clone()), opts)?;
    // Directories the run created, now empty again.
    for d in rec.made_dirs.iter().rev() {
        if let Ok((parent, name)) = fsroot::split(d) {
            if let Ok(Some(p)) = host.fs().open_dir_if_exists(&parent) {
                fsroot::remove_dir_at(&p, &name);
            }
        }
    }
    Ok((applied, rec))
}

pub mod stage;

#[cfg(test)]
mod tests;
