//! The command line: global options, one subcommand per registered plugin, and the
//! commands that span plugins. Turns every outcome into an exit code.

use crate::report::{self, Extra};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;
use v6fix_core::apply::{self, Signals};
use v6fix_core::{registry, Args, Error, Host, Plan, Plugin, Result};

/// Exit code: success; with `--check`, nothing to change.
pub(crate) const OK: u8 = 0;
/// Exit code: `--check` found changes to make; `audit` found problems.
pub(crate) const PENDING: u8 = 1;
/// Exit code: an error; nothing was written.
pub(crate) const FAILED: u8 = 2;

/// The options every command takes, before or after the command name.
#[derive(Debug, Clone)]
pub(crate) struct Global {
    pub(crate) root: PathBuf,
    pub(crate) check: bool,
    pub(crate) json: bool,
    pub(crate) backup: bool,
    pub(crate) quiet: bool,
    /// The diff, warnings and restart hints, without the notes.
    pub(crate) brief: bool,
    /// How long to wait for another run's lock.
    pub(crate) lock_timeout: Duration,
    /// Run the services' own checkers before writing.
    pub(crate) validate: bool,
    pub(crate) allow_hardlinks: bool,
    /// The command line, without the program name, as `history` shows it.
    pub(crate) command: String,
    pub(crate) signals: Signals,
}

/// Seconds `--lock-timeout` waits when not given.
pub(crate) const LOCK_TIMEOUT: u64 = 60;

impl Global {
    fn from(m: &ArgMatches, command: String, signals: Signals) -> Result<Global> {
        let lock_timeout = match m.get_one::<String>("lock-timeout") {
            None => LOCK_TIMEOUT,
            Some(s) => s.parse().map_err(|_| {
                Error::usage(format!(
                    "--lock-timeout {s}: expected a whole number of seconds"
                ))
            })?,
        };
        Ok(Global {
            root: m
                .get_one::<String>("root")
                .map_or_else(|| "/".into(), PathBuf::from),
            check: m.get_flag("check"),
            json: m.get_flag("json"),
            backup: m.get_flag("backup"),
            quiet: m.get_flag("quiet"),
            brief: m.get_flag("brief"),
            lock_timeout: Duration::from_secs(lock_timeout),
            validate: !m.get_flag("no-validate"),
            allow_hardlinks: m.get_flag("allow-hardlinks"),
            command,
            signals,
        })
    }

    /// How the engine applies for this command line.
    pub(crate) fn apply_options(&self) -> apply::Options {
        apply::Options {
            backup: self.backup,
            allow_hardlinks: self.allow_hardlinks,
            command: self.command.clone(),
            faults: faults(),
            signals: Some(self.signals.clone()),
        }
    }

    /// Takes the run lock, saying on stderr when another run holds it, then finishes an
    /// interrupted run if the journal holds one (said on stderr, and returned as a note).
    pub(crate) fn lock_and_recover(
        &self,
        host: &Host,
    ) -> Result<(apply::Lock, Option<apply::Recovered>)> {
        let secs = self.lock_timeout.as_secs();
        let lock = apply::lock(host, self.lock_timeout, &mut |pid| {
            let who = pid.map_or("another v6fix run".to_string(), |p| {
                format!("another v6fix run (pid {p})")
            });
            report::err_line(&format!(
                "v6fix: waiting for {who} to finish (up to {secs} s, --lock-timeout)"
            ));
        })?;
        let recovered = apply::recover(host, &self.apply_options())?;
        if let Some(r) = &recovered {
            report::err_line(&format!("v6fix: {}", r.message()));
        }
        Ok((lock, recovered))
    }

    /// The machine under `--root`. With `--json`, messages name files relative to the
    /// root, like the report's `files[].path`; text output names them by their path on
    /// this computer, as errors always have.
    pub(crate) fn host(&self) -> Result<Host> {
        let host = Host::new(&self.root)?;
        Ok(if self.json {
            host.relative_messages()
        } else {
            host
        })
    }
}

/// Faults to inject, from `V6FIX_FAULTS` (debug builds only: release builds never read it).
fn faults() -> apply::Faults {
    #[cfg(debug_assertions)]
    if let Ok(spec) = std::env::var("V6FIX_FAULTS") {
        return apply::Faults::parse(&spec).unwrap_or_default();
    }
    apply::Faults::none()
}

/// Catches SIGTERM and SIGINT: they act as usual, except while a commit is written, which
/// is finished or undone first.
fn catch_signals() -> Signals {
    let s = Signals {
        pending: Arc::new(AtomicUsize::new(0)),
        deliver: Arc::new(AtomicBool::new(true)),
    };
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register_usize(sig, s.pending.clone(), sig as usize);
        let _ = signal_hook::flag::register_conditional_default(sig, s.deliver.clone());
    }
    s
}

/// Where the options every command shares appear in `--help`: after the command's own.
const GLOBAL_HEADING: &str = "Global options";

fn global_args() -> [Arg; 10] {
    [
        Arg::new("root")
            .long("root")
            .value_name("DIR")
            .global(true)
            .help("Treat DIR as the machine's / (default: /)"),
        Arg::new("check")
            .long("check")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Write nothing; show the diff; exit 1 when something would change"),
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Print one JSON object on stdout instead of text"),
        Arg::new("backup")
            .long("backup")
            .action(ArgAction::SetTrue)
            .global(true)
            .help(
                "Keep this run restorable beyond the last 10, and copies of the replaced files \
                 under /var/backups/v6fix/<time>/",
            ),
        Arg::new("quiet")
            .short('q')
            .long("quiet")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Print only warnings and errors"),
        Arg::new("brief")
            .long("brief")
            .action(ArgAction::SetTrue)
            .global(true)
            .conflicts_with("quiet")
            .help("Print the diff, warnings and restart commands, without the notes"),
        Arg::new("lock-timeout")
            .long("lock-timeout")
            .value_name("SECONDS")
            .global(true)
            .help("Wait at most SECONDS for another v6fix run to finish (default: 60)"),
        Arg::new("no-validate")
            .long("no-validate")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Do not run the services' own checkers on the changed configs first"),
        Arg::new("allow-hardlinks")
            .long("allow-hardlinks")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Rewrite files with several hard links (their other names keep the old text)"),
        Arg::new(crate::options::ALLOW_WIDE)
            .long(crate::options::ALLOW_WIDE)
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Accept a --network shorter than /32 (never one in a special-purpose range)"),
    ]
    .map(|a| a.help_heading(GLOBAL_HEADING))
}

/// The subcommand for one plugin, built from its argument specs.
pub(crate) fn plugin_command(p: &dyn Plugin) -> Command {
    let mut c = Command::new(p.name())
        .about(p.about())
        .args(crate::options::fact_args(p.needs()));
    for spec in p.args() {
        let mut a = Arg::new(spec.name).long(spec.name).help(spec.help);
        if let Some(alias) = spec.alias {
            a = a.alias(alias);
        }
        a = match spec.value {
            Some(v) => a
                .value_name(v)
                .action(if spec.multiple {
                    ArgAction::Append
                } else {
                    ArgAction::Set
                })
                .required(spec.required),
            None => a.action(ArgAction::SetTrue),
        };
        c = c.arg(a);
    }
    c
}

/// The values given for a plugin's options.
pub(crate) fn plugin_args(p: &dyn Plugin, m: &ArgMatches) -> Args {
    let mut args = Args::new();
    for spec in p.args() {
        if spec.value.is_none() {
            if m.get_flag(spec.name) {
                args.push(spec.name, "true");
            }
        } else if let Some(vals) = m.get_many::<String>(spec.name) {
            for v in vals {
                args.push(spec.name, v.clone());
            }
        }
    }
    args
}

/// The whole command-line definition: what `run` parses, and what the man pages and shell
/// completions are generated from.
pub fn command() -> Command {
    let mut c = Command::new("v6fix")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Convert a Debian server's service configs to dual-stack IPv4/IPv6, in place")
        .after_help(
            "Exit codes: 0 ok (with --check: nothing to change), 1 --check: changes pending \
             (audit: findings), 2 error (nothing written, unless the message lists files as new/old and \
             ends with `v6fix recover`).",
        )
        .subcommand_required(true)
        .args(global_args());
    for p in registry() {
        c = c.subcommand(plugin_command(p));
    }
    c.subcommand(crate::all::command())
        .subcommand(crate::audit::command())
        .subcommand(crate::list::command())
        .subcommand(crate::preflight::command())
        .subcommand(crate::address_plan::command())
        .subcommand(crate::undo::history_command())
        .subcommand(crate::undo::restore_command())
        .subcommand(crate::undo::recover_command())
}

/// Runs v6fix with the given arguments (the first is the program name) and returns the
/// exit code. Never prompts; prints to stdout and stderr.
pub fn run<I, T>(argv: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let line = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let signals = catch_signals();
    let matches = match command().try_get_matches_from(&argv) {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
            let code = match e.kind() {
                DisplayHelp | DisplayVersion => OK,
                _ => FAILED,
            };
            let _ = e.print();
            // Under --json the one JSON object comes out on every exit path, argument
            // errors included; clap stopped before any flag was read, so look for them.
            if code == FAILED && given(&argv, "--json") {
                let message = usage_message(&e.render().to_string());
                report::print_json(&report::error_json(
                    &Error::usage(message),
                    given(&argv, "--check"),
                ));
            }
            return code;
        }
    };
    let global = match Global::from(&matches, line, signals) {
        Ok(g) => g,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "v6fix: error: {e}");
            if given(&argv, "--json") {
                report::print_json(&report::error_json(&e, given(&argv, "--check")));
            }
            return FAILED;
        }
    };
    let Some((name, sub)) = matches.subcommand() else {
        return FAILED;
    };
    let result = match name {
        "all" => crate::all::run(&global, sub),
        "audit" => crate::audit::run(&global, sub),
        "list" => crate::list::run(&global, sub),
        "preflight" => crate::preflight::run(&global, sub),
        "plan" => crate::address_plan::run(&global, sub),
        "history" => crate::undo::history(&global, sub),
        // Both write as soon as they run: with --check they refuse rather than write.
        "restore" | "recover" if global.check => Err(Error::usage(format!(
            "{name} writes as it runs and has no --check; `v6fix history` shows what each run changed"
        ))),
        "restore" => crate::undo::restore(&global, sub),
        "recover" => crate::undo::recover(&global, sub),
        _ => match v6fix_core::plugin::find(name) {
            Some(p) => {
                let args = plugin_args(p, sub);
                crate::options::target(p.needs(), sub).and_then(|target| {
                    run_plan(&global, |host| {
                        let plan = p.plan(host, &target, &args)?;
                        crate::verify::own_work(host, &[p], &target, &args, &plan)?;
                        Ok(plan)
                    })
                })
            }
            None => Err(Error::usage(format!("unknown command `{name}`"))),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            fail(&global, &e);
            FAILED
        }
    }
}

/// True when flag `name` appears in `argv` (after the program name, before any `--`).
fn given(argv: &[OsString], name: &str) -> bool {
    argv.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == name)
}

/// Clap's rendered error as one line: without the `error: ` label, the usage and the
/// `--help` hint.
fn usage_message(rendered: &str) -> String {
    let text = rendered.split("\n\nUsage:").next().unwrap_or(rendered);
    let text = text
        .split("\n\nFor more information")
        .next()
        .unwrap_or(text);
    let text = text.trim().strip_prefix("error: ").unwrap_or(text.trim());
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reports an error: on stderr always, and as the JSON object under `--json`.
pub(crate) fn fail(global: &Global, e: &Error) {
    let _ = writeln!(std::io::stderr(), "v6fix: error: {e}");
    if global.json {
        report::print_json(&report::error_json(e, global.check));
    }
}

/// The flow of every command that changes files: lock and recover (unless checking), plan,
/// validate, apply unless `--check`, show.
pub(crate) fn run_plan(global: &Global, planner: impl FnOnce(&Host) -> Result<Plan>) -> Result<u8> {
    let host = global.host()?;
    let mut extra = Extra::default();
    // Lock before planning, so a concurrent run plans on this run's result.
    let _lock = if global.check {
        None
    } else {
        let (lock, recovered) = global.lock_and_recover(&host)?;
        if let Some(r) = recovered {
            extra.notes.push(r.message());
        }
        Some(lock)
    };
    let mut plan = planner(&host)?;
    if global.check {
        if let Some(id) = apply::pending(&host) {
            plan.warn(format!(
                "run {id} was interrupted and is not finished: the next run that writes (or `v6fix --root {} recover`) finishes it first, so this check may not show what that run will do",
                host.root().display()
            ));
        }
    }
    let mut applied = None;
    if !global.check && plan.changed() {
        if global.validate {
            let v = crate::validate::validate(&host, &plan)?;
            extra.notes.extend(v.notes);
            extra.validated = Some(v.ran);
        }
        let a = apply::apply(&host, &plan, &global.apply_options())?;
        if !a.swept.is_empty() {
            extra.notes.push(format!(
                "removed stale temp files of an earlier interrupted write: {}",
                a.swept.join(", ")
            ));
        }
        if let Some(sig) = a.deferred_signal {
            let m = format!(
                "{} arrived while the commit was written; the commit was finished first",
                apply::signal_name(sig)
            );
            report::err_line(&format!("v6fix: {m}"));
            extra.notes.push(m);
        }
        applied = Some(a);
    }
    report::plan(global, &host, &plan, applied.as_ref(), &extra);
    Ok(if global.check && plan.changed() {
        PENDING
    } else {
        OK
    })
}
