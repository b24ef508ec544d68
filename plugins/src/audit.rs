//! `v6fix audit [PATH…]`: read-only. Reports, with file:line, what keeps the host
//! IPv4-only or breaks under IPv6: every installed service's own findings, plus IP
//! columns too narrow for IPv6 in application code and schemas under the given paths.
//!
//! Exit code 1 when a finding of severity warning or error is found, 0 when clean.

use crate::cli::{Global, OK, PENDING};
use crate::codescan;
use crate::report::{out, print_json};
use crate::schema::{AuditReport, FindingReport};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::path::PathBuf;
use v6fix_core::{registry, Error, Finding, Host, Result, Severity};

pub(crate) fn command() -> Command {
    Command::new("audit")
        .about("Report what still assumes IPv4 (read-only; exit 1 when something is found)")
        .arg(
            Arg::new("plugin")
                .long("plugin")
                .value_name("NAME")
                .action(ArgAction::Append)
                .help("Audit only this service (may be repeated; default: every installed one)"),
        )
        .arg(
            Arg::new("paths")
                .value_name("PATH")
                .action(ArgAction::Append)
                .help("Application code and schemas to scan for IPv4-sized address columns"),
        )
}

/// Every finding on the host: services first (in plugin order; only those named in
/// `only`, when it is not empty), then code and schemas.
pub(crate) fn findings(host: &Host, only: &[String], paths: &[PathBuf]) -> Result<Vec<Finding>> {
    for name in only {
        if v6fix_core::plugin::find(name).is_none() {
            return Err(Error::usage(format!("--plugin {name}: no such plugin")));
        }
    }
    let mut all = Vec::new();
    for p in registry() {
        if !only.is_empty() && !only.iter().any(|n| n == p.name()) {
            continue;
        }
        if p.files(host)?.is_empty() {
            continue;
        }
        all.extend(p.audit(host)?);
    }
    if only.is_empty() {
        all.extend(crate::preflight::host_findings(host)?);
    }
    all.extend(codescan::scan(host, paths)?);
    Ok(all)
}

pub(crate) fn run(global: &Global, m: &ArgMatches) -> Result<u8> {
    let host = global.host()?;
    let paths: Vec<PathBuf> = m
        .get_many::<String>("paths")
        .into_iter()
        .flatten()
        .map(|p| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                PathBuf::from("/").join(p)
            }
        })
        .collect();
    let only: Vec<String> = m
        .get_many::<String>("plugin")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let found = findings(&host, &only, &paths)?;
    Ok(report(
        global,
        &found,
        "clean: nothing found that keeps this host IPv4-only",
    ))
}

/// Prints findings as text or JSON; exit 1 when one is a warning or an error.
pub(crate) fn report(global: &Global, found: &[Finding], clean: &str) -> u8 {
    let serious = found
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .count();
    if global.json {
        print_json(&AuditReport {
            clean: serious == 0,
            findings: found
                .iter()
                .map(|f| FindingReport {
                    fix: f.fix.clone(),
                    line: f.line,
                    message: f.message.clone(),
                    path: f.path.clone(),
                    severity: f.severity.as_str(),
                })
                .collect(),
        });
    } else if !global.quiet || serious > 0 {
        let mut s = String::new();
        for f in found {
            s.push_str(&format!("{f}\n"));
        }
        if serious == 0 {
            s.push_str(&format!("{clean}\n"));
        } else {
            s.push_str(&if serious == 1 {
                "1 finding keeps this host IPv4-only or breaks under IPv6\n".to_string()
            } else {
                format!("{serious} findings keep this host IPv4-only or break under IPv6\n")
            });
        }
        out(&s);
    }
    if serious == 0 {
        OK
    } else {
        PENDING
    }
}
