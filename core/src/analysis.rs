//! One reading of a service's config: the edits that convert it and everything found on the
//! way. A plugin's `analyze` fills an [`Analysis`]; the change plan and the audit are both
//! taken from it ([`Analysis::into_plan`], [`Analysis::findings`]), so the two cannot
//! disagree about what is wrong.
//!
//! Edits are kept per file, keyed by the file behind the path (its symlink target): a plugin
//! asks for a file's edit buffer with [`Analysis::edits`] and never keeps parallel vectors.
//! Each file's edits are applied once, when the plan is made.

use crate::audit::{Finding, Severity};
use crate::change::Plan;
use crate::edit::Edits;
use crate::error::{Error, Result};
use crate::host::{File, Host};
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

/// What one reading of a config found, and the edits that convert it.
#[derive(Debug, Default)]
pub struct Analysis {
    files: Vec<(File, Edits)>,
    by_target: HashMap<PathBuf, usize>,
    creates: Vec<(PathBuf, String)>,
    /// What v6fix decided and why (left alone as dual-stack already, reused a comment…).
    pub notes: Vec<String>,
    /// What is wrong or risky and stays so after the change.
    pub warnings: Vec<String>,
    /// Every problem of the config as it is, with its place and the fixing command.
    pub findings: Vec<Finding>,
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

    /// Explains a decision (shown as a note by a run).
    pub fn note(&mut self, message: impl Into<String>) {
        self.notes.push(message.into());
    }

    /// Something wrong or risky that stays so (shown as a warning by a run).
    pub fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
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

    /// Records a finding at byte `offset` of `file`; an empty `fix` means none.
    pub fn find(
        &mut self,
        host: &Host,
        file: &File,
        offset: usize,
        severity: Severity,
        message: String,
        fix: &str,
    ) {
        self.findings.push(Finding {
            severity,
            path: host.display(&file.path),
            line: Some(file.line(offset)),
            message: crate::text::quoted(&message).into_owned(),
            fix: (!fix.is_empty()).then(|| fix.to_string()),
        });
    }

    /// Records a finding that a run shows as a warning too, as an audit prints it
    /// (`path:line: message (fix: …)`): one record of a problem the change leaves as it is.
    pub fn find_and_warn(
        &mut self,
        host: &Host,
        file: &File,
        offset: usize,
        severity: Severity,
        message: String,
        fix: &str,
    ) {
        let fixed_by = if fix.is_empty() {
            String::new()
        } else {
            format!(" (fix: {fix})")
        };
        self.warn(format!(
            "{}: {}{fixed_by}",
            host.locate(file, offset),
            crate::text::quoted(&message)
        ));
        self.find(host, file, offset, severity, message, fix);
    }

    /// Records an error finding and refuses the plan with the same message: the config
    /// holds something the daemon rejects or v6fix must not guess about.
    pub fn refuse(&mut self, host: &Host, file: &File, offset: usize, message: String) {
        self.find(host, file, offset, Severity::Error, message.clone(), "");
        if self.invalid.is_none() {
            self.invalid = Some(Error::invalid(
                host.display(&file.path),
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
        for w in self.warnings {
            plan.warn(w);
        }
        for n in self.notes {
            plan.note(n);
        }
        for (file, edits) in self.files {
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
                let new = edits.apply(&file.text);
                plan.change(&file, new);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_kept_per_file_behind_the_path_and_applied_once() {
        let via_link = File::new("/etc/a".into(), "/etc/real".into(), "x\n".into());
        let direct = File::new("/etc/real".into(), "/etc/real".into(), "x\n".into());
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
    fn a_finding_shown_as_a_warning_too_has_one_message() {
        let d = tempfile::tempdir().unwrap();
        let host = Host::new(d.path()).unwrap();
        let f = File::new("/etc/a".into(), "/etc/a".into(), "ok\nbad\n".into());
        let mut a = Analysis::new();
        a.find_and_warn(
            &host,
            &f,
            3,
            Severity::Error,
            "`bad` breaks".into(),
            "v6fix a",
        );
        assert_eq!(a.findings.len(), 1);
        assert_eq!(a.findings[0].line, Some(2));
        let plan = a.into_plan().unwrap();
        assert_eq!(plan.warnings.len(), 1);
        assert!(
            plan.warnings[0].ends_with("/etc/a:2: `bad` breaks (fix: v6fix a)"),
            "{:?}",
            plan.warnings
        );
    }

    #[test]
    fn an_invalid_config_refuses_the_plan_and_no_change_means_no_restart() {
        let d = tempfile::tempdir().unwrap();
        let host = Host::new(d.path()).unwrap();
        let f = File::new("/etc/a".into(), "/etc/a".into(), "bad\n".into());
        let mut a = Analysis::new();
        a.restart("svc", "reload", "systemctl reload svc", "why");
        assert!(a.into_plan().unwrap().restarts.is_empty());
        let mut a = Analysis::new();
        a.refuse(&host, &f, 0, "found `bad`".into());
        assert_eq!(a.findings.len(), 1);
        assert!(a
            .into_plan()
            .unwrap_err()
            .to_string()
            .contains("found `bad`"));
    }
}
