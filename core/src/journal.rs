//! What v6fix keeps under `<root>/var/lib/v6fix/`: the lock, the journal of the run in
//! progress, and the records of past runs that `restore` undoes.
//!
//! ```text
//! var/lib/v6fix/lock                 flock(2)ed by the running v6fix; holds its pid
//! var/lib/v6fix/journal              {"id": RUN, "phase": "preparing" | "committing" | "undoing"}
//! var/lib/v6fix/runs/RUN/record.json the run: time, command, files, owners, modes, xattrs
//! var/lib/v6fix/runs/RUN/old/N       file N as it was (absent for a file the run created)
//! var/lib/v6fix/runs/RUN/new/N       file N as the run wrote it (absent for a file it removed)
//! ```
//!
//! The journal exists only while a run writes; it is replaced atomically (write, fsync,
//! rename, fsync of the directory), so it always names one phase. A run id is the UTC time
//! and a counter (`20261130T023000Z-001`), so ids sort in the order runs started.

use crate::fsroot::Attrs;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The state directory, as a machine path.
pub const STATE_DIR: &str = "/var/lib/v6fix";
/// Where run records live, as a machine path.
pub const RUNS_DIR: &str = "/var/lib/v6fix/runs";

/// Where an unfinished run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// New contents are being written to temp files; no file has been replaced. Undone.
    Preparing,
    /// Every new content is durable; files are being renamed into place. Completed.
    Committing,
    /// A failed commit is being undone. Undone.
    Undoing,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Preparing => "preparing",
            Phase::Committing => "committing",
            Phase::Undoing => "undoing",
        }
    }

    fn from_name(s: &str) -> Option<Phase> {
        match s {
            "preparing" => Some(Phase::Preparing),
            "committing" => Some(Phase::Committing),
            "undoing" => Some(Phase::Undoing),
            _ => None,
        }
    }
}

/// The journal's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    pub id: String,
    pub phase: Phase,
}

impl Journal {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = json!({"id": self.id, "phase": self.phase.name()}).to_string();
        s.push('\n');
        s.into_bytes()
    }

    pub fn parse(bytes: &[u8]) -> Result<Journal, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let id = v["id"].as_str().ok_or("no run id")?.to_string();
        let phase = v["phase"]
            .as_str()
            .and_then(Phase::from_name)
            .ok_or("no known phase")?;
        Ok(Journal { id, phase })
    }
}

/// One file of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecFile {
    /// The machine path written (a regular file, symlinks already followed).
    pub path: PathBuf,
    /// The machine path shown in diffs (may be a symlink to `path`).
    pub shown: PathBuf,
    /// The temp file's name in `path`'s directory.
    pub temp: String,
    /// `old/N` exists: the file existed before the run.
    pub had_old: bool,
    /// `new/N` exists: the file exists after the run.
    pub has_new: bool,
    pub old_attrs: Option<Attrs>,
    pub new_attrs: Option<Attrs>,
}

/// A run as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    /// UTC, `2026-11-30T02:30:00Z`.
    pub time: String,
    /// The command line, without the program name.
    pub command: String,
    /// The run this one undid (`restore`).
    pub restores: Option<String>,
    /// Kept beyond the retention (`--backup`).
    pub keep: bool,
    /// Directories the run created, outermost first.
    pub made_dirs: Vec<PathBuf>,
    /// The `/var/backups/v6fix/…` directory being filled, renamed to `backup` once done.
    pub backup_partial: Option<PathBuf>,
    pub backup: Option<PathBuf>,
    pub files: Vec<RecFile>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn attrs_json(a: &Option<Attrs>) -> Value {
    match a {
        None => Value::Null,
        Some(a) => json!({
            "uid": a.uid,
            "gid": a.gid,
            "mode": format!("{:04o}", a.mode),
            "xattrs": a.xattrs.iter().map(|(n, v)| json!([n, hex(v)])).collect::<Vec<_>>(),
        }),
    }
}

fn attrs_from(v: &Value) -> Result<Option<Attrs>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let num = |k: &str| {
        v[k].as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(format!("bad {k}"))
    };
    let mode = v["mode"]
        .as_str()
        .and_then(|m| u32::from_str_radix(m, 8).ok())
        .ok_or("bad mode")?;
    let mut xattrs = Vec::new();
    for x in v["xattrs"].as_array().ok_or("bad xattrs")? {
        let name = x[0].as_str().ok_or("bad xattr name")?;
        let value = x[1].as_str().and_then(unhex).ok_or("bad xattr value")?;
        xattrs.push((name.to_string(), value));
    }
    Ok(Some(Attrs {
        uid: num("uid")?,
        gid: num("gid")?,
        mode,
        xattrs,
    }))
}

fn path_json(p: &Option<PathBuf>) -> Value {
    p.as_ref()
        .map_or(Value::Null, |p| Value::String(p.display().to_string()))
}

impl Record {
    pub fn to_bytes(&self) -> Vec<u8> {
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|f| {
                json!({
                    "path": f.path.display().to_string(),
                    "shown": f.shown.display().to_string(),
                    "temp": f.temp,
                    "old": f.had_old,
                    "new": f.has_new,
                    "old_attrs": attrs_json(&f.old_attrs),
                    "new_attrs": attrs_json(&f.new_attrs),
                })
            })
            .collect();
        let v = json!({
            "version": 1,
            "id": self.id,
            "time": self.time,
            "command": self.command,
            "restores": self.restores,
            "keep": self.keep,
            "made_dirs": self.made_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>(),
            "backup_partial": path_json(&self.backup_partial),
            "backup": path_json(&self.backup),
            "files": files,
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s.into_bytes()
    }

    pub fn parse(bytes: &[u8]) -> Result<Record, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let s = |k: &str| v[k].as_str().map(str::to_string).ok_or(format!("no {k}"));
        let opt_path = |k: &str| v[k].as_str().map(PathBuf::from);
        let mut files = Vec::new();
        for f in v["files"].as_array().ok_or("no files")? {
            let fs = |k: &str| f[k].as_str().map(str::to_string).ok_or(format!("no {k}"));
            files.push(RecFile {
                path: fs("path")?.into(),
                shown: fs("shown")?.into(),
                temp: fs("temp")?,
                had_old: f["old"].as_bool().ok_or("no old")?,
                has_new: f["new"].as_bool().ok_or("no new")?,
                old_attrs: attrs_from(&f["old_attrs"])?,
                new_attrs: attrs_from(&f["new_attrs"])?,
            });
        }
        Ok(Record {
            id: s("id")?,
            time: s("time")?,
            command: s("command")?,
            restores: v["restores"].as_str().map(str::to_string),
            keep: v["keep"].as_bool().unwrap_or(false),
            made_dirs: v["made_dirs"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_str())
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default(),
            backup_partial: opt_path("backup_partial"),
            backup: opt_path("backup"),
            files,
        })
    }

    /// The machine path of this run's directory.
    pub fn dir(&self) -> PathBuf {
        Path::new(RUNS_DIR).join(&self.id)
    }
}

/// `20261126T081525Z` and `2026-11-26T08:15:25Z` for a point in time (UTC, no dependency on a
/// date crate).
pub fn utc_stamps(t: std::time::SystemTime) -> (String, String) {
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
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    (
        format!("{y:04}{m:02}{d:02}T{h:02}{mi:02}{s:02}Z"),
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_journals_round_trip() {
        let r = Record {
            id: "20261130T023000Z-001".into(),
            time: "2026-11-30T02:30:00Z".into(),
            command: "postfix --network 2001:db8::/64".into(),
            restores: None,
            keep: true,
            made_dirs: vec!["/etc/new.d".into()],
            backup_partial: Some("/var/backups/v6fix/.x".into()),
            backup: None,
            files: vec![RecFile {
                path: "/etc/a".into(),
                shown: "/etc/link".into(),
                temp: ".v6fix-x-0.tmp".into(),
                had_old: true,
                has_new: true,
                old_attrs: Some(Attrs {
                    uid: 1,
                    gid: 2,
                    mode: 0o4640,
                    xattrs: vec![("user.x".into(), vec![0, 255, 7])],
                }),
                new_attrs: None,
            }],
        };
        assert_eq!(Record::parse(&r.to_bytes()).unwrap(), r);
        let j = Journal {
            id: r.id.clone(),
            phase: Phase::Committing,
        };
        assert_eq!(Journal::parse(&j.to_bytes()).unwrap(), j);
    }

    #[test]
    fn utc_stamps_are_calendar_correct() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_594_525);
        assert_eq!(
            utc_stamps(t),
            ("20261125T081525Z".into(), "2026-11-25T08:15:25Z".into())
        );
        assert_eq!(utc_stamps(std::time::UNIX_EPOCH).0, "19700101T000000Z");
    }
}
