//! One reading of a service's config: the edits that convert it and everything found on the
//! way. A plugin's `analyze` fills an [`Analysis`]; the change plan and the audit are both
//! taken from it ([`Analysis::into_plan`], [`Analysis::findings`]), so the two cannot
//! disagree about what is wrong.
//!
//! Edits are kept per file, keyed by the file behind the path (its symlink target): a plugin
//! asks for a file's edit buffer with [`Analysis::edits`] and never keeps parallel vectors.
//! Each file's edits are applied once, when the plan is made.
//!
//! Everything a plugin says is one [`Diagnostic`]: how bad, where (`path:line` when it sits
//! on one), what, the fixing command, and who hears of it ([`Reach`]): the audit, a run as
//! a note or a warning, or both for a problem the run leaves. A problem is recorded once and
//! rendered by [`Diagnostic::said`] for a run and as a [`Finding`] for the audit.

use crate::audit::{Finding, Severity};
use crate::change::Plan;
use crate::edit::Edits;
use crate::error::{Error, Result};
use crate::host::File;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A restart or reload the change needs, in the order the plugin asked for them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RestartHint {
    service: String,
    action: &'static str,
    command: String,
    why: String,
}

/// Who hears of a [`Diagnostic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The audit only: a problem of the config as it is, which a run fixes.
    Audit,
    /// A run, as a note: what v6fix decided and why (left alone, already dual-stack…).
    Note,
    /// A run, as a warning: something wrong or risky about the change itself.
    Warning,
    /// Both: a problem the run leaves, so a run warns of it and the audit keeps reporting it.
    Lasting,
}

/// One thing a reading of a config has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub reach: Reach,
    /// How bad, as the audit grades it.
    pub severity: Severity,
    /// The file as messages show it, when the diagnostic is about one.
    pub path: Option<String>,
    /// 1-based line, when it sits on one.
    pub line: Option<usize>,
    pub message: String,
    /// The v6fix command that fixes it, where one exists.
    pub fix: Option<String>,
}

impl Diagnostic {
    /// The finding `f`, heard by `reach`.
    pub fn of(reach: Reach, f: Finding) -> Diagnostic {
        Diagnostic {
            reach,
            severity: f.severity,
            path: Some(f.path),
            line: f.line,
            message: f.message,
            fix: f.fix,
        }
    }

    /// What a run prints: `path:line: message (fix: command)`, each part when known.
    pub fn said(&self) -> String {
        let mut s = match (&self.path, self.line) {
            (Some(p), Some(l)) => format!("{p}:{l}: {}", self.message),
            (Some(p), None) => format!("{p}: {}", self.message),
            (None, _) => self.message.clone(),
        };
        if let Some(fix) = &self.fix {
            s.push_str(&format!(" (fix: {fix})"));
        }
        s
    }

    /// The audit's view of it, when the audit hears of it.
    pub fn finding(&self) -> Option<Finding> {
        matches!(self.reach, Reach::Audit | Reach::Lasting).then(|| Finding {
            severity: self.severity,
            path: self.path.clone().unwrap_or_default(),
            line: self.line,
            message: self.message.clone(),
            fix: self.fix.clone(),
        })
    }
}

/// What one reading of a config found, and the edits that convert it.
#[derive(Debug, Default)]
pub struct Analysis {
    files: Vec<(File, Edits)>,
    by_target: HashMap<PathBuf, usize>,
    creates: Vec<(PathBuf, String)>,
    /// Everything found and decided, in the order it was.
    diagnostics: Vec<Diagnostic>,
    /// Set when the config holds something v6fix must not edit around: the plan is refused.
    pub invalid: Option<Error>,
    restarts: Vec<RestartHint>,
}

impl Analysis {
    pub fn new() -> Analysis {
        Analysis::default()
    }

    /// The edit buffer of `file` (one per file behind the path, however it was reached).
    pub fn edits(&mut self, file: &File) -> &mut Edits {
        let i = match self.by_target.get(&file.target) {
            Some(&i) => i,
            None => {
                self.files.push((file.clone(), Edits::new()));
                self.by_target
                    .insert(file.target.clone(), self.files.len() - 1);
                self.files.len() - 1
            }
        };
        &mut self.files[i].1
    }

    /// Adds `edits` to `file`'s edit buffer.
    pub fn change(&mut self, file: &File, edits: Edits) {
        self.edits(file).extend(edits);
    }

    /// Replaces `file`'s whole text with `text` (for a file rebuilt rather than edited).
    pub fn rewrite(&mut self, file: &File, text: String) {
        self.edits(file).replace(0..file.text.len(), text);
    }

    /// Records `d`.
    pub fn say(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// Explains a decision that is about no one place (shown as a note by a run).
    pub fn note(&mut self, message: impl Into<String>) {
        self.say(unplaced(Reach::Note, Severity::Info, message.into()));
    }

    /// Explains a decision about byte `offset` of `file` (shown as a note by a run).
    pub fn note_at(&mut self, file: &File, offset: usize, message: impl Into<String>) {
        self.say(placed(
            file,
            offset,
            Reach::Note,
            Severity::Info,
            message.into(),
            "",
        ));
    }

    /// A risk of the change that is about no one place (shown as a warning by a run).
    pub fn warn(&mut self, message: impl Into<String>) {
        self.say(unplaced(Reach::Warning, Severity::Warning, message.into()));
    }

    /// A risk of the change at byte `offset` of `file` (shown as a warning by a run).
    pub fn warn_at(&mut self, file: &File, offset: usize, message: impl Into<String>) {
        self.say(placed(
            file,
            offset,
            Reach::Warning,
            Severity::Warning,
            message.into(),
            "",
        ));
    }

    /// A problem at byte `offset` of `file` that the run leaves: a run warns of it and the
    /// audit reports it with `severity`; an empty `fix` means none.
    pub fn lasting(
        &mut self,
        file: &File,
        offset: usize,
        severity: Severity,
        message: impl Into<String>,
        fix: &str,
    ) {
        self.say(placed(
            file,
            offset,
            Reach::Lasting,
            severity,
            message.into(),
            fix,
        ));
    }

    /// Records every diagnostic of `ds`, in order.
    pub fn say_all(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(ds);
    }

    /// Takes the diagnostics recorded so far (to move them into another analysis).
    pub fn take_diagnostics(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.diagnostics)
    }

    /// Every diagnostic, in the order recorded.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// What the audit reports: the problems of the config, with place and fix.
    pub fn findings(&self) -> Vec<Finding> {
        self.diagnostics
            .iter()
            .filter_map(Diagnostic::finding)
            .collect()
    }

    /// Records a finding built elsewhere (the audit hears of it, a run does not).
    pub fn finding(&mut self, f: Finding) {
        self.say(Diagnostic::of(Reach::Audit, f));
    }

    /// True when some file gets an edit or is created.
    pub fn changes(&self) -> bool {
        !self.creates.is_empty() || self.files.iter().any(|(_, e)| !e.is_empty())
    }

    /// True when `file` has edits.
    pub fn edited(&self, file: &File) -> bool {
        self.by_target
            .get(&file.target)
            .is_some_and(|&i| !self.files[i].1.is_empty())
    }

    /// The new text of every file the analysis changes or creates, by the file behind its
    /// path: what a later reading of the host should see (see [`Host::with_overlay`]).
    pub fn planned(&self) -> Vec<(PathBuf, String)> {
        let mut out: Vec<(PathBuf, String)> = self
            .files
            .iter()
            .filter(|(_, e)| !e.is_empty())
            .map(|(f, e)| {
                let new = e.clone().apply(&f.text);
                // The whole file, as a later reading must see it: its byte order mark too.
                let new = if f.bom {
                    format!("{}{new}", crate::text::BOM)
                } else {
                    new
                };
                (f.target.clone(), new)
            })
            .collect();
        out.extend(self.creates.iter().cloned());
        out
    }

    /// A file to create at machine path `path`.
    pub fn create(&mut self, path: &Path, text: String) {
        self.creates.push((path.to_path_buf(), text));
    }

    /// Records a finding at byte `offset` of `file` for the audit (a problem the run
    /// fixes); an empty `fix` means none.
    pub fn find(
        &mut self,
        file: &File,
        offset: usize,
        severity: Severity,
        message: impl Into<String>,
        fix: &str,
    ) {
        self.say(placed(
            file,
            offset,
            Reach::Audit,
            severity,
            message.into(),
            fix,
        ));
    }

    /// Records an error finding and refuses the plan with the same message: the config
    /// holds something the daemon rejects or v6fix must not guess about.
    pub fn refuse(&mut self, file: &File, offset: usize, message: impl Into<String>) {
        let message = message.into();
        self.find(file, offset, Severity::Error, message.clone(), "");
        if self.invalid.is_none() {
            self.invalid = Some(Error::invalid(
                file.shown.clone(),
                Some(file.line_col(offset)),
                message,
            ));
        }
    }

    /// The restart (or reload) the change needs, shown only when something changes.
    pub fn restart(&mut self, service: &str, action: &'static str, command: &str, why: &str) {
        self.restarts.push(RestartHint {
            service: service.into(),
            action,
            command: command.into(),
            why: why.into(),
        });
    }

    /// The change plan: every file's edits applied once, the notes and warnings, and the
    /// restarts when something changes. Refused when the analysis found the config invalid.
    pub fn into_plan(self) -> Result<Plan> {
        if let Some(e) = self.invalid {
            return Err(e);
        }
        let mut plan = Plan::new();
        for d in self.diagnostics.iter().filter(|d| d.reach != Reach::Note) {
            if d.reach != Reach::Audit {
                plan.warn(d.said());
            }
        }
        for d in self.diagnostics.iter().filter(|d| d.reach == Reach::Note) {
            plan.note(d.said());
        }
        for (file, mut edits) in self.files {
            if let Some(span) = edits.clash(file.text.len()) {
                return Err(Error::Refused {
                    path: format!("{}:{}", file.shown, file.line(span.start)),
                    reason: "two different changes of this place: the file is read in two places (included twice?) that need different things here; v6fix will not choose, so change it by hand".into(),
                });
            }
            if let Some((offset, byte)) = edits.foreign(&file.text) {
                return Err(Error::Parse {
                    path: file.shown.clone(),
                    at: file.line_col(offset),
                    found: format!(
                        "the byte 0x{byte:02x}, which is not UTF-8, in text v6fix must edit"
                    ),
                    expected: "UTF-8 text where v6fix edits (bytes that are not UTF-8 are kept only where nothing changes)".into(),
                });
            }
            if !edits.is_empty() {
                let (new, regions) = edits.apply_traced(&file.text);
                plan.change_traced(&file, new, Some(regions));
            }
        }
        for (path, text) in self.creates {
            plan.create(&path, text);
        }
        if plan.changed() {
            for r in self.restarts {
                plan.restart(&r.service, r.action, &r.command, &r.why);
            }
        }
        Ok(plan)
    }
}

/// A diagnostic about no one place.
fn unplaced(reach: Reach, severity: Severity, message: String) -> Diagnostic {
    Diagnostic {
        reach,
        severity,
        path: None,
        line: None,
        message: crate::text::quoted(&message).into_owned(),
        fix: None,
    }
}

/// A diagnostic at byte `offset` of `file`; an empty `fix` means none.
fn placed(
    file: &File,
    offset: usize,
    reach: Reach,
    severity: Severity,
    message: String,
    fix: &str,
) -> Diagnostic {
    Diagnostic {
        reach,
        severity,
        path: Some(file.shown.clone()),
        line: Some(file.line(offset)),
        message: crate::text::quoted(&message).into_owned(),
        fix: (!fix.is_empty()).then(|| fix.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_kept_per_file_behind_the_path_and_applied_once() {
        let via_link = File::new("/etc/a".into(), "/etc/real".into(), "x\n");
        let direct = File::new("/etc/real".into(), "/etc/real".into(), "x\n");
        let mut a = Analysis::new();
        a.edits(&via_link).append_line("x\n", "y");
        a.edits(&direct).append_line("x\n", "z");
        assert!(a.edited(&direct));
        a.restart("svc", "reload", "systemctl reload svc", "why");
        let plan = a.into_plan().unwrap();
        assert_eq!(plan.files.len(), 1);
        assert_eq!(plan.files[0].new, "x\ny\nz\n");
        assert_eq!(plan.restarts.len(), 1);
    }

    #[test]
    fn an_invalid_config_refuses_the_plan_and_no_change_means_no_restart() {
        let f = File::new("/etc/a".into(), "/etc/a".into(), "bad\n");
        let mut a = Analysis::new();
        a.restart("svc", "reload", "systemctl reload svc", "why");
        assert!(a.into_plan().unwrap().restarts.is_empty());
        let mut a = Analysis::new();
        a.refuse(&f, 0, "found `bad`");
        assert_eq!(a.findings().len(), 1);
        assert!(a
            .into_plan()
            .unwrap_err()
            .to_string()
            .contains("found `bad`"));
    }

    #[test]
    fn each_diagnostic_is_recorded_once_and_heard_by_its_reach() {
        let f = File::new("/etc/a".into(), "/etc/a".into(), "one\ntwo\n");
        let mut a = Analysis::new();
        a.find(&f, 4, Severity::Warning, "fixed by the run", "v6fix x");
        a.lasting(&f, 4, Severity::Error, "left by the run", "");
        a.warn_at(&f, 0, "a risk of the change");
        a.note_at(&f, 4, "a decision");
        a.note("no place");
        let audit: Vec<String> = a.findings().iter().map(|x| x.to_string()).collect();
        assert_eq!(
            audit,
            [
                "/etc/a:2: warning: fixed by the run (fix: v6fix x)",
                "/etc/a:2: error: left by the run"
            ]
        );
        let plan = a.into_plan().unwrap();
        assert_eq!(
            plan.warnings,
            [
                "/etc/a:2: left by the run",
                "/etc/a:1: a risk of the change"
            ]
        );
        assert_eq!(plan.notes, ["/etc/a:2: a decision", "no place"]);
        let mut a = Analysis::new();
        a.lasting(
            &f,
            0,
            Severity::Warning,
            "IPv4 only",
            "v6fix x --address ADDR",
        );
        assert_eq!(
            a.into_plan().unwrap().warnings,
            ["/etc/a:1: IPv4 only (fix: v6fix x --address ADDR)"]
        );
    }
}
