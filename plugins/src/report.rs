//! What a run prints: unified diffs, notes, warnings and restart hints as text, or one
//! JSON object with `--json`. Colour only when stdout is a terminal and `NO_COLOR` is unset.

use crate::cli::Global;
use crate::schema::{ChangeReport, CheckerReport, ErrorReport, FileReport, RestartReport};
use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use v6fix_core::apply::Applied;
use v6fix_core::{diff, Error, Host, Plan};

/// What a run says besides its plan: notes on recovery, validation and signals, and the
/// checkers that ran (`None` when validation was not asked for or nothing changed).
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    pub(crate) notes: Vec<String>,
    pub(crate) validated: Option<Vec<crate::validate::Validated>>,
}

/// Writes `s` to stdout; a closed pipe is not an error worth reporting.
pub(crate) fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

/// Writes one line to stderr.
pub(crate) fn err_line(s: &str) {
    let _ = writeln!(std::io::stderr(), "{s}");
}

/// Prints one JSON object (a report of [`crate::schema`]) on stdout.
pub(crate) fn print_json(v: &impl serde::Serialize) {
    out(&format!(
        "{}\n",
        serde_json::to_string_pretty(v).unwrap_or_default()
    ));
}

/// The JSON object of a failed run: nothing changed, the error, and empty lists.
pub(crate) fn error_json(e: &Error, check: bool) -> ErrorReport {
    ErrorReport {
        changed: false,
        check,
        error: e.to_string(),
        files: [],
        notes: [],
        restart: [],
        warnings: [],
    }
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn paint(diff: &str) -> String {
    let mut s = String::with_capacity(diff.len() + 64);
    for line in diff.split_inclusive('\n') {
        let code = if line.starts_with("+++") || line.starts_with("---") {
            "1"
        } else if line.starts_with('+') {
            "32"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with("@@") {
            "36"
        } else {
            ""
        };
        if code.is_empty() {
            s.push_str(line);
        } else {
            let body = line.strip_suffix('\n').unwrap_or(line);
            s.push_str(&format!("\x1b[{code}m{body}\x1b[0m"));
            if line.ends_with('\n') {
                s.push('\n');
            }
        }
    }
    s
}

/// The diff of one planned file.
/// The diff of one file, under the name of the file that is written: a config reached
/// through a symlink (`sites-enabled/default`) is shown as its target.
pub(crate) fn file_diff(host: &Host, f: &v6fix_core::FileChange) -> String {
    // Bytes that are not UTF-8 show as `\xNN`, a byte order mark as `<BOM>`.
    let old = f.old.as_deref().map(v6fix_core::text::shown);
    let new = v6fix_core::text::shown(&f.new);
    let path = host.relative(&f.target);
    // Built from the edits' regions when the texts are shown as they are (the regions
    // are offsets into them).
    match (&old, &new, &f.regions) {
        (Some(Cow::Borrowed(o)), Cow::Borrowed(n), Some(regions)) => {
            diff::unified_regions(&path, o, n, regions)
        }
        _ => diff::unified(&path, old.as_deref(), &new),
    }
}

/// The JSON report of a plan: `changed`, `files`, `warnings`, `notes`, `restart`.
pub(crate) fn plan_json(
    global: &Global,
    host: &Host,
    plan: &Plan,
    applied: Option<&Applied>,
    extra: &Extra,
) -> ChangeReport {
    ChangeReport {
        backup: applied
            .and_then(|a| a.backup_dir.as_ref())
            .map(|d| host.relative(d)),
        changed: plan.changed(),
        check: global.check,
        files: plan
            .files
            .iter()
            .map(|f| FileReport {
                action: f.action(),
                diff: file_diff(host, f),
                path: host.relative(&f.target),
                via: (f.path != f.target).then(|| host.relative(&f.path)),
            })
            .collect(),
        notes: plan.notes.iter().chain(&extra.notes).cloned().collect(),
        restart: plan
            .restarts
            .iter()
            .map(|r| RestartReport {
                action: r.action,
                command: r.command.clone(),
                service: r.service.clone(),
                why: r.why.clone(),
            })
            .collect(),
        run: applied.and_then(|a| a.run_id.clone()),
        validated: extra.validated.as_ref().map(|ran| {
            ran.iter()
                .map(|c| CheckerReport {
                    command: c.command,
                    ok: c.ok,
                    service: c.service,
                })
                .collect()
        }),
        warnings: plan.warnings.clone(),
    }
}

/// Prints a plan's report in the requested form.
pub(crate) fn plan(
    global: &Global,
    host: &Host,
    plan: &Plan,
    applied: Option<&Applied>,
    extra: &Extra,
) {
    for w in &plan.warnings {
        err_line(&format!("warning: {w}"));
    }
    if global.json {
        print_json(&plan_json(global, host, plan, applied, extra));
        return;
    }
    if global.quiet {
        return;
    }
    // Each file's diff goes out as it is made: never a second copy of them all.
    for f in &plan.files {
        let d = file_diff(host, f);
        out(&if color() { paint(&d) } else { d });
    }
    let mut s = String::new();
    if !global.brief {
        for n in plan.notes.iter().chain(&extra.notes) {
            s.push_str(&format!("note: {n}\n"));
        }
    }
    for c in extra.validated.iter().flatten() {
        s.push_str(&format!("validated {}: {}\n", c.service, c.command));
    }
    let n = plan.files.len();
    let files = if n == 1 { "file" } else { "files" };
    if !plan.changed() {
        s.push_str("nothing to change\n");
    } else if global.check {
        s.push_str(&format!(
            "would change {n} {files} (--check: nothing written)\n"
        ));
    } else {
        s.push_str(&format!("changed {n} {files}\n"));
        if let Some(dir) = applied.and_then(|a| a.backup_dir.as_ref()) {
            s.push_str(&format!("backup: {}\n", host.display(dir)));
        }
    }
    if plan.changed() {
        for r in &plan.restarts {
            s.push_str(&format!(
                "{} {}: {}  # {}\n",
                r.action, r.service, r.command, r.why
            ));
        }
    }
    out(&s);
}
