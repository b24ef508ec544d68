//! `update-exim4.conf.conf`: the relay list, the interface list and the smarthost, as
//! Debian's generator hands them to Exim.

use super::checks::{self, Place};
use super::lists::{Outcome, Reading};
use v6fix_core::dialect::exim::debconf::{self, Doc, Line};
use v6fix_core::target::Target;
use v6fix_core::{Analysis, File, Host, Result};

/// Reads the file; a parse error is the run's error.
pub(super) fn load(host: &Host, file: &File) -> Result<Doc> {
    debconf::parse(&file.text).map_err(|e| host.parse_error(file, e))
}

/// True when the generator uses the split configuration (`conf.d/`).
pub(super) fn split(doc: &Doc) -> bool {
    doc.get("dc_use_split_config")
        .and_then(|l| l.value.as_ref())
        .is_some_and(|v| doc.raw(v) == "true")
}

pub(super) fn analyze(host: &Host, file: &File, doc: &Doc, target: &Target, a: &mut Analysis) {
    for name in ["dc_relay_nets", "dc_local_interfaces", "dc_smarthost"] {
        if let Some(line) = doc.get(name) {
            let v = value(line);
            if v.dynamic {
                a.refuse(
                    file,
                    v.span.start,
                    format!("found {name}=\"{}\", which the shell expands; expected a literal value (single quotes)", doc.raw(v)),
                );
            }
        }
    }
    if a.invalid.is_some() {
        return;
    }
    if let Some(line) = doc.get("dc_relay_nets") {
        let p = place(file, line);
        let out = checks::relay(&p, doc.raw(value(line)), Reading::Debian, target, a);
        set(file, line, out, a);
    }
    if let Some(line) = doc.get("dc_local_interfaces") {
        let p = place(file, line);
        if let Some(out) =
            checks::interfaces(host, &p, doc.raw(value(line)), Reading::Debian, target, a)
        {
            set(file, line, out, a);
        }
    }
    if let Some(line) = doc.get("dc_smarthost") {
        // The generator turns `;` into `:` before Exim reads the list.
        let v = doc.raw(value(line)).replace(';', ":");
        checks::hosts(&place(file, line), &v, a);
    }
}

fn value(line: &Line) -> &debconf::Value {
    line.value.as_ref().expect("assignments have values")
}

fn place<'a>(file: &'a File, line: &'a Line) -> Place<'a> {
    Place {
        file,
        at: line.span.start,
        name: &line.name,
    }
}

fn set(file: &File, line: &Line, out: Outcome, a: &mut Analysis) {
    if let Some(new) = out.new {
        let (span, text) = debconf::requote(value(line), &new);
        a.edits(file).replace(span, text);
    }
}
