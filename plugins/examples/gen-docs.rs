//! Writes v6fix's man pages and shell completions, generated from the command-line
//! definition ([`v6fix::command`]) and the manual text ([`v6fix::manual`]):
//!
//! ```text
//! cargo run -p v6fix --example gen-docs -- OUT_DIR
//! ```
//!
//! writes `OUT_DIR/man/v6fix.1` and `OUT_DIR/man/v6fix-<command>.1` for every command,
//! and `OUT_DIR/completions/{v6fix.bash,_v6fix,v6fix.fish}`. The page date comes from
//! `SOURCE_DATE_EPOCH` when it is set, so a package build is reproducible. It is an example,
//! not part of the `v6fix` binary, so the generators are development dependencies only.

#![allow(clippy::print_stderr)]

use clap::Command;
use clap_complete::Shell;
use clap_mangen::roff::{bold, italic, roman, Roff};
use clap_mangen::Man;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use v6fix::manual::{self, Page};

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: gen-docs OUT_DIR");
        return ExitCode::from(2);
    };
    match generate(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-docs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(out: &Path) -> std::io::Result<()> {
    let mut cmd = v6fix::command()
        .disable_help_subcommand(true)
        .after_help(None::<&str>);
    cmd.build();
    let date = date();

    let man = out.join("man");
    std::fs::create_dir_all(&man)?;
    write_page(&man, &cmd, manual::page("v6fix"), &date, None)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_page(&man, sub, manual::page(sub.get_name()), &date, Some(&cmd))?;
    }

    let comp = out.join("completions");
    std::fs::create_dir_all(&comp)?;
    for (shell, file) in [
        (Shell::Bash, "v6fix.bash"),
        (Shell::Zsh, "_v6fix"),
        (Shell::Fish, "v6fix.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "v6fix", &mut buf);
        std::fs::write(comp.join(file), buf)?;
    }
    Ok(())
}

/// One page: clap's NAME, SYNOPSIS, DESCRIPTION, OPTIONS and COMMANDS, then the manual's
/// EXIT STATUS, FILES, EXAMPLES, JSON OUTPUT, and SEE ALSO.
fn write_page(
    dir: &Path,
    cmd: &Command,
    page: Page,
    date: &str,
    parent: Option<&Command>,
) -> std::io::Result<()> {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    let version = parent.unwrap_or(cmd).get_version().unwrap_or_default();
    let man = Man::new(cmd.clone())
        .title(name.to_uppercase())
        .date(date)
        .source(format!("v6fix {version}"))
        .manual("v6fix manual");
    let mut w = Vec::new();
    man.render_title(&mut w)?;
    man.render_name_section(&mut w)?;
    man.render_synopsis_section(&mut w)?;
    man.render_description_section(&mut w)?;

    let mut r = Roff::new();
    for p in page.description {
        r.control("PP", []).text([roman(*p)]);
    }
    w.extend(r.to_roff().as_bytes());

    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut w)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut w)?;
    }

    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in manual::EXIT_STATUS {
        r.control("TP", [])
            .text([bold(*code)])
            .text([roman(*meaning)]);
    }

    let mut files: Vec<(&str, &str)> = page.files.to_vec();
    if cmd.get_name() != "plan" {
        files.extend(manual::COMMON_FILES);
    }
    r.control("SH", ["FILES"]);
    r.text([roman(
        "Paths are below the directory given with --root (default /).",
    )]);
    for (path, what) in files {
        r.control("TP", []).text([italic(path)]).text([roman(what)]);
    }

    r.control("SH", ["EXAMPLES"]);
    let generic;
    let examples = if page.examples.is_empty() {
        generic = [(
            format!("v6fix --root /tmp/copy --check {}", cmd.get_name()),
            "Show what the command would change on a copy of a host.",
        )];
        generic
            .iter()
            .map(|(c, w)| (c.as_str(), *w))
            .collect::<Vec<_>>()
    } else {
        page.examples.to_vec()
    };
    for (line, what) in examples {
        r.control("PP", []).text([roman(what)]);
        r.control("PP", []).control("RS", ["4"]);
        r.text([bold(line)]);
        r.control("RE", []);
    }

    r.control("SH", ["JSON OUTPUT"]);
    for (member, meaning) in page.json {
        if member.is_empty() {
            r.control("PP", []).text([roman(*meaning)]);
        } else {
            r.control("TP", [])
                .text([bold(*member)])
                .text([roman(*meaning)]);
        }
    }

    r.control("SH", ["SEE ALSO"]);
    let see: Vec<String> = match parent {
        Some(_) => vec!["v6fix(1)".into()],
        None => cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| format!("{}(1)", s.get_display_name().unwrap_or(s.get_name())))
            .collect(),
    };
    r.text([roman(see.join(", "))]);
    w.extend(r.to_roff().as_bytes());

    if parent.is_none() {
        man.render_version_section(&mut w)?;
    }
    std::fs::write(dir.join(format!("{name}.1")), w)
}

/// `YYYY-MM-DD` of `SOURCE_DATE_EPOCH`, or of now.
fn date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
