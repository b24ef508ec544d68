//! The command line: global options, one subcommand per registered plugin, and the
//! commands that span plugins. Turns every outcome into an exit code.

use crate::report;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use v6fix_core::{apply, registry, Args, Error, Host, Plan, Plugin, Result};

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
}

impl Global {
    fn from(m: &ArgMatches) -> Global {
        Global {
            root: m
                .get_one::<String>("root")
                .map_or_else(|| "/".into(), PathBuf::from),
            check: m.get_flag("check"),
            json: m.get_flag("json"),
            backup: m.get_flag("backup"),
            quiet: m.get_flag("quiet"),
            brief: m.get_flag("brief"),
        }
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

/// Where the options every command shares appear in `--help`: after the command's own.
const GLOBAL_HEADING: &str = "Global options";

fn global_args() -> [Arg; 7] {
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
            .help("Keep replaced files under /var/backups/v6fix/<time>/"),
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

fn command() -> Command {
    let mut c = Command::new("v6fix")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Convert a Debian server's service configs to dual-stack IPv4/IPv6, in place")
        .after_help(
            "Exit codes: 0 ok (with --check: nothing to change), 1 --check: changes pending \
             (audit: findings), 2 error (nothing written).",
        )
        .subcommand_required(true)
        .args(global_args());
    for p in registry() {
        c = c.subcommand(plugin_command(p));
    }
    c.subcommand(crate::all::command())
        .subcommand(crate::audit::command())
        .subcommand(crate::list::command())
        .subcommand(crate::plan::command())
}

/// Runs v6fix with the given arguments (the first is the program name) and returns the
/// exit code. Never prompts; prints to stdout and stderr.
pub fn run<I, T>(argv: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
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
    let global = Global::from(&matches);
    let Some((name, sub)) = matches.subcommand() else {
        return FAILED;
    };
    let result = match name {
        "all" => crate::all::run(&global, sub),
        "audit" => crate::audit::run(&global, sub),
        "list" => crate::list::run(&global, sub),
        "plan" => crate::plan::run(&global, sub),
        _ => match v6fix_core::plugin::find(name) {
            Some(p) => {
                let args = plugin_args(p, sub);
                crate::options::target(p.needs(), sub)
                    .and_then(|target| run_plan(&global, |host| p.plan(host, &target, &args)))
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

/// The flow of every command that changes files: lock (unless checking), plan, show,
/// and apply unless `--check`.
pub(crate) fn run_plan(global: &Global, planner: impl FnOnce(&Host) -> Result<Plan>) -> Result<u8> {
    let host = global.host()?;
    // Lock before planning, so a concurrent run plans on this run's result.
    let _lock = if global.check {
        None
    } else {
        Some(apply::lock(&host)?)
    };
    let plan = planner(&host)?;
    let mut applied = None;
    if !global.check && plan.changed() {
        let opts = apply::Options {
            backup: global.backup,
            ..apply::Options::default()
        };
        applied = Some(apply::apply(&host, &plan, &opts)?);
    }
    report::plan(global, &host, &plan, applied.as_ref());
    Ok(if global.check && plan.changed() {
        PENDING
    } else {
        OK
    })
}
