//! `v6fix list`: the registered plugins, the files each would touch under --root, and
//! whether each service already looks dual-stack (no audit finding above info).

use crate::cli::{Global, OK};
use crate::report::{out, print_json};
use crate::schema::{ListReport, PluginReport};
use clap::{ArgMatches, Command};
use v6fix_core::{registry, Result, Severity};

pub(crate) fn command() -> Command {
    Command::new("list")
        .about("List the plugins, their files under --root, and whether each is dual-stack")
}

pub(crate) fn run(global: &Global, _m: &ArgMatches) -> Result<u8> {
    let host = global.host()?;
    let mut rows = Vec::new();
    for p in registry() {
        let files = p.files(&host)?;
        let status = if files.is_empty() {
            "absent".to_string()
        } else {
            let findings = p.audit(&host)?;
            let n = findings
                .iter()
                .filter(|f| f.severity >= Severity::Warning)
                .count();
            if n == 0 {
                "dual-stack".to_string()
            } else {
                format!(
                    "needs conversion ({n} finding{})",
                    if n == 1 { "" } else { "s" }
                )
            }
        };
        rows.push((p, files, status));
    }
    if global.json {
        print_json(&ListReport {
            plugins: rows
                .iter()
                .map(|(p, files, status)| PluginReport {
                    about: p.about(),
                    files: files.iter().map(|f| host.relative(f)).collect(),
                    name: p.name(),
                    status: status.to_string(),
                })
                .collect(),
        });
        return Ok(OK);
    }
    let mut s = String::new();
    for (p, files, status) in &rows {
        s.push_str(&format!("{:<11} {:<30} {}\n", p.name(), status, p.about()));
        for f in files {
            s.push_str(&format!("{:<11} {}\n", "", host.relative(f)));
        }
    }
    out(&s);
    Ok(OK)
}
