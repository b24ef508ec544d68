//! `history`, `restore` and `recover`: the runs v6fix recorded under
//! `/var/lib/v6fix/runs/`, undoing one of them, and finishing one that was interrupted.

use crate::cli::{Global, OK};
use crate::report::{err_line, out, print_json};
use crate::schema::{
    HistoryReport, RecoverReport, RecoveredReport, RestoreReport, RunFileReport, RunReport,
};
use clap::{Arg, ArgAction, ArgMatches, Command};
use v6fix_core::journal::Record;
use v6fix_core::{apply, Host, Result};

pub(crate) fn history_command() -> Command {
    Command::new("history").about(
        "List the recorded runs that `restore` can undo (the last 10, and those made with --backup)",
    )
}

pub(crate) fn restore_command() -> Command {
    Command::new("restore")
        .about("Undo the last run, or run RUN, as one transaction")
        .arg(
            Arg::new("run").value_name("RUN").help(
                "The run's id, as `history` shows it (default: the last run not yet restored)",
            ),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Restore even files changed since that run"),
        )
}

pub(crate) fn recover_command() -> Command {
    Command::new("recover")
        .about("Only finish a run that was interrupted (every other command does this first)")
}

fn action(had_old: bool, has_new: bool) -> &'static str {
    match (had_old, has_new) {
        (true, true) => "modify",
        (false, _) => "create",
        (true, false) => "delete",
    }
}

fn files_json(host: &Host, r: &Record) -> Vec<RunFileReport> {
    r.files
        .iter()
        .map(|f| RunFileReport {
            action: action(f.had_old, f.has_new),
            path: host.relative(&f.path),
        })
        .collect()
}

pub(crate) fn history(global: &Global, _m: &ArgMatches) -> Result<u8> {
    let host = global.host()?;
    let runs = apply::history(&host)?;
    let restored_by = |id: &str| {
        runs.iter()
            .find(|r| r.restores.as_deref() == Some(id))
            .map(|r| r.id.clone())
    };
    if global.json {
        print_json(&HistoryReport {
            runs: runs
                .iter()
                .map(|r| RunReport {
                    command: r.command.clone(),
                    files: files_json(&host, r),
                    id: r.id.clone(),
                    kept: r.keep,
                    restored_by: restored_by(&r.id),
                    restores: r.restores.clone(),
                    time: r.time.clone(),
                })
                .collect(),
        });
        return Ok(OK);
    }
    if runs.is_empty() {
        out("no recorded runs\n");
        return Ok(OK);
    }
    let mut s = String::new();
    for r in &runs {
        let mut tags = Vec::new();
        if r.keep {
            tags.push("kept (--backup)".to_string());
        }
        if let Some(by) = restored_by(&r.id) {
            tags.push(format!("restored by {by}"));
        }
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", tags.join(", "))
        };
        s.push_str(&format!("{}  {}  {}{tags}\n", r.id, r.time, r.command));
        for f in &r.files {
            s.push_str(&format!(
                "  {} {}\n",
                action(f.had_old, f.has_new),
                host.relative(&f.path)
            ));
        }
    }
    out(&s);
    Ok(OK)
}

pub(crate) fn restore(global: &Global, m: &ArgMatches) -> Result<u8> {
    let host = global.host()?;
    let (_lock, recovered) = global.lock_and_recover(&host)?;
    let id = m.get_one::<String>("run").map(String::as_str);
    let (applied, rec) = apply::restore(&host, id, m.get_flag("force"), &global.apply_options())?;
    if let Some(sig) = applied.deferred_signal {
        err_line(&format!(
            "v6fix: {} arrived while the restore was written; it was finished first",
            apply::signal_name(sig)
        ));
    }
    let notes: Vec<String> = recovered.iter().map(|r| r.message()).collect();
    if global.json {
        print_json(&RestoreReport {
            changed: !rec.files.is_empty(),
            files: files_json(&host, &rec),
            notes,
            restored: rec.id.clone(),
            run: applied.run_id.clone(),
            warnings: [],
        });
    } else if !global.quiet {
        let mut s = String::new();
        for n in &notes {
            s.push_str(&format!("note: {n}\n"));
        }
        for f in &rec.files {
            let did = match action(f.had_old, f.has_new) {
                "create" => "removed",
                "delete" => "recreated",
                _ => "restored",
            };
            s.push_str(&format!("{did} {}\n", host.relative(&f.path)));
        }
        s.push_str(&format!(
            "restored run {} (`{}`): {} files\n",
            rec.id,
            rec.command,
            rec.files.len()
        ));
        out(&s);
    }
    Ok(OK)
}

pub(crate) fn recover(global: &Global, _m: &ArgMatches) -> Result<u8> {
    let host = global.host()?;
    let (_lock, recovered) = global.lock_and_recover(&host)?;
    if global.json {
        print_json(&RecoverReport {
            changed: recovered.is_some(),
            notes: recovered.iter().map(|r| r.message()).collect(),
            recovered: recovered.as_ref().map(|r| RecoveredReport {
                command: r.command.clone(),
                completed: r.completed,
                files: r.files.clone(),
                run: r.id.clone(),
            }),
        });
    } else if !global.quiet {
        match &recovered {
            // Already said on stderr.
            Some(r) => out(&format!(
                "recovered run {}: {}\n",
                r.id,
                if r.completed { "completed" } else { "undone" }
            )),
            None => out("nothing to recover\n"),
        }
    }
    Ok(OK)
}
