//! A plan: what a run would change, and what the operator must know about it.
//!
//! Plugins produce plans and never write; [`crate::apply`] is the only code that writes.

use crate::edit::Region;
use crate::host::File;
use crate::text::Text;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One file's old and new text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The machine path the file was read by (may be a symlink); shown in diffs.
    pub path: PathBuf,
    /// The regular file behind `path`: what is written.
    pub target: PathBuf,
    /// The text as read; `None` when the file is created. Like `new`, the whole file: a
    /// byte order mark included, bytes that are not UTF-8 as [`crate::text::decode`] reads
    /// them ([`crate::text::encode`] gives the bytes).
    pub old: Option<Text>,
    pub new: Text,
    /// Where `new` differs from `old`, when the plan knows it from the edits that made it
    /// (`None`: compare the texts).
    pub regions: Option<Vec<Region>>,
}

impl FileChange {
    /// `"create"` or `"modify"`, as the JSON report says.
    pub fn action(&self) -> &'static str {
        if self.old.is_some() {
            "modify"
        } else {
            "create"
        }
    }
}

/// A service to restart or reload once the files are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restart {
    pub service: String,
    /// `"restart"` or `"reload"`.
    pub action: &'static str,
    /// The command that does it on Debian.
    pub command: String,
    /// Why this and not less (for example: a reload ignores `inet_protocols`).
    pub why: String,
}

/// Everything one run would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub files: Vec<FileChange>,
    /// Things that are wrong or risky and that v6fix did not (or could not) change.
    pub warnings: Vec<String>,
    /// What v6fix decided and why: left alone as already dual-stack, fixed a broken entry…
    pub notes: Vec<String>,
    pub restarts: Vec<Restart>,
    /// Every warning and note so far, so repeats are dropped in constant time.
    said: HashSet<String>,
    /// The path each planned target is listed by in `files` (kept sorted by path), so
    /// recording a change costs a hash and a binary search, not a scan and a sort.
    listed: HashMap<PathBuf, PathBuf>,
}

impl Plan {
    pub fn new() -> Self {
        Plan::default()
    }

    /// True when some file would change.
    pub fn changed(&self) -> bool {
        !self.files.is_empty()
    }

    /// Records `file`'s new text. No-op when it equals the current text; a later change of
    /// the same target replaces an earlier one (the original `old` is kept).
    ///
    /// A disabled file (a symlink to `/dev/null`) is never changed: a note says it was
    /// left alone instead.
    pub fn change(&mut self, file: &File, new: String) {
        self.change_traced(file, new, None);
    }

    /// [`Plan::change`], with the regions of the file that the edits changed (see
    /// [`crate::Edits::apply_traced`]).
    pub fn change_traced(&mut self, file: &File, new: String, regions: Option<Vec<Region>>) {
        if file.disabled {
            if file.text != new {
                self.note(format!(
                    "{}: a symlink to /dev/null, so the service does not read it (disabled): left as it is",
                    file.shown
                ));
            }
            return;
        }
        // The byte order mark, set apart when the file was read, is written back; the
        // daemons read it as part of the first line, so the operator hears of it.
        if file.bom && file.text != new {
            self.warn(format!(
                "{}:1: starts with a UTF-8 byte order mark, kept as it was; the daemons read it as part of the first line (Postfix ignores that parameter or rejects a comment there; sshd rejects the file): remove it",
                file.shown
            ));
        }
        let (old, new, regions) = if file.bom {
            // The mark was set apart: every region moves by its length.
            let by = crate::text::BOM.len_utf8();
            let moved = regions.map(|rs| {
                rs.into_iter()
                    .map(|r| Region {
                        old: r.old.start + by..r.old.end + by,
                        new: r.new.start + by..r.new.end + by,
                    })
                    .collect()
            });
            (
                Text::from(format!("{}{}", crate::text::BOM, file.text)),
                Text::from(format!("{}{new}", crate::text::BOM)),
                moved,
            )
        } else {
            (file.text.clone(), Text::from(new), regions)
        };
        self.set(
            file.path.clone(),
            file.target.clone(),
            Some(old),
            new,
            regions,
        );
    }

    /// Records a file to create at machine path `path` (which must not exist yet).
    pub fn create(&mut self, path: &Path, new: String) {
        self.set(
            path.to_path_buf(),
            path.to_path_buf(),
            None,
            new.into(),
            None,
        );
    }

    fn set(
        &mut self,
        path: PathBuf,
        target: PathBuf,
        old: Option<Text>,
        new: Text,
        regions: Option<Vec<Region>>,
    ) {
        if let Some(listed) = self.listed.get(&target) {
            let i = self.position(listed).expect("a listed target is in files");
            if self.files[i].old.as_ref() == Some(&new) {
                // Changed back to the original: no change after all.
                let gone = self.files.remove(i);
                self.listed.remove(&gone.target);
            } else {
                // Planned on top of the earlier text: its regions are not the file's.
                self.files[i].new = new;
                self.files[i].regions = None;
            }
            return;
        }
        if old.as_ref() == Some(&new) {
            return;
        }
        // Files are planned in path order as a rule, so this is mostly a push.
        let i = self.files.partition_point(|f| f.path <= path);
        self.listed.insert(target.clone(), path.clone());
        self.files.insert(
            i,
            FileChange {
                path,
                target,
                old,
                new,
                regions,
            },
        );
    }

    /// Where the change listed under `path` is in `files`.
    fn position(&self, path: &Path) -> Option<usize> {
        let i = self.files.partition_point(|f| f.path.as_path() < path);
        (self.files.get(i).map(|f| f.path.as_path()) == Some(path)).then_some(i)
    }

    /// Records a warning; quoted text of the file in it is shown as [`crate::text::quoted`]
    /// says.
    pub fn warn(&mut self, message: impl Into<String>) {
        let m = crate::text::quoted(&message.into()).into_owned();
        if self.said.insert(format!("w{m}")) {
            self.warnings.push(m);
        }
    }

    /// Records a note, shown like a warning.
    pub fn note(&mut self, message: impl Into<String>) {
        let m = crate::text::quoted(&message.into()).into_owned();
        if self.said.insert(format!("n{m}")) {
            self.notes.push(m);
        }
    }

    pub fn restart(&mut self, service: &str, action: &'static str, command: &str, why: &str) {
        let r = Restart {
            service: service.into(),
            action,
            command: command.into(),
            why: why.into(),
        };
        match self.restarts.iter_mut().find(|x| x.service == r.service) {
            // A restart covers a reload of the same service.
            Some(x) if x.action == "reload" && action == "restart" => *x = r,
            Some(_) => {}
            None => self.restarts.push(r),
        }
    }

    /// Adds `other`'s changes after this plan's: for a file both touch, `other`'s text
    /// (which was planned on top of this plan's) wins.
    pub fn merge(&mut self, other: Plan) {
        for f in other.files {
            // A file this plan changed too: its regions were found on this plan's text.
            let (old, regions) = match self.listed.get(&f.target).and_then(|p| self.position(p)) {
                Some(i) => (self.files[i].old.clone(), None),
                None => (f.old, f.regions),
            };
            self.set(f.path, f.target, old, f.new, regions);
        }
        for w in other.warnings {
            self.warn(w);
        }
        for n in other.notes {
            self.note(n);
        }
        for r in other.restarts {
            self.restart(&r.service, r.action, &r.command, &r.why);
        }
    }

    /// The planned texts by target, for [`crate::Host::with_overlay`].
    pub fn overlay(&self) -> impl Iterator<Item = (&Path, &Text)> {
        self.files.iter().map(|f| (f.target.as_path(), &f.new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(p: &str, text: &str) -> File {
        File::new(p.into(), p.into(), text)
    }

    #[test]
    fn unchanged_text_is_no_change_and_later_changes_replace_earlier() {
        let f = file("/etc/a", "x\n");
        let mut plan = Plan::new();
        plan.change(&f, "x\n".into());
        assert!(!plan.changed());
        plan.change(&f, "y\n".into());
        plan.change(&f, "z\n".into());
        assert_eq!(plan.files.len(), 1);
        assert_eq!(plan.files[0].old.as_deref(), Some("x\n"));
        assert_eq!(plan.files[0].new, "z\n");
        plan.change(&f, "x\n".into());
        assert!(
            !plan.changed(),
            "changing back to the original is no change"
        );
    }

    #[test]
    fn merge_keeps_the_first_old_text_and_the_last_new_one() {
        let mut a = Plan::new();
        a.change(&file("/etc/a", "1"), "2".into());
        a.restart("postfix", "reload", "systemctl reload postfix", "lists");
        let mut b = Plan::new();
        b.change(&file("/etc/a", "2"), "3".into());
        b.change(&file("/etc/b", "b"), "c".into());
        b.restart(
            "postfix",
            "restart",
            "systemctl restart postfix",
            "inet_protocols",
        );
        a.merge(b);
        assert_eq!(a.files.len(), 2);
        assert_eq!(a.files[0].old.as_deref(), Some("1"));
        assert_eq!(a.files[0].new, "3");
        assert_eq!(a.restarts.len(), 1);
        assert_eq!(a.restarts[0].action, "restart");
    }

    #[test]
    fn files_stay_sorted_by_path_whatever_order_they_are_planned_in() {
        let mut plan = Plan::new();
        let names: Vec<String> = (0..50)
            .map(|i| format!("/etc/f{:02}", (i * 37) % 50))
            .collect();
        for n in &names {
            plan.change(&file(n, "a"), "b".into());
        }
        plan.change(&file("/etc/f07", "a"), "a".into());
        plan.change(&file("/etc/f08", "a"), "c".into());
        let paths: Vec<String> = plan
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        let mut want: Vec<String> = (0..50)
            .filter(|i| *i != 7)
            .map(|i| format!("/etc/f{i:02}"))
            .collect();
        want.sort();
        assert_eq!(paths, want);
        assert_eq!(plan.files[7].new, "c");
        assert_eq!(plan.position(Path::new("/etc/f07")), None);
    }
}
