//! Exim's own configuration where the admin maintains it by hand: `/etc/exim4/exim4.conf`
//! (which Exim reads instead of the generated one), or the files Debian's generator copies
//! into it: `exim4.conf.localmacros` and `exim4.conf.template` (unsplit), or the parts of
//! `conf.d/main/` (split; a part `NAME.rul` replaces `NAME`, as update-exim4.conf does).
//!
//! In the main section, `local_interfaces` and `hostlist relay_from_hosts` written as
//! lists are edited where they stand. One that is a single macro (`MAIN_RELAY_NETS`, as
//! in Debian's files) is edited in every definition of that macro these files hold; one
//! the generator defines from update-exim4.conf.conf is edited there. `.include` files
//! are not followed: a warning names them.

use super::checks::{self, Place};
use super::lists::{Outcome, Reading};
use std::path::{Path, PathBuf};
use v6fix_core::dialect::exim::conf::{self, Doc, Item, Kind};
use v6fix_core::target::Target;
use v6fix_core::{Analysis, File, Host, Result};

pub(super) const HAND: &str = "/etc/exim4/exim4.conf";
const TEMPLATE: &str = "/etc/exim4/exim4.conf.template";
const LOCALMACROS: &str = "/etc/exim4/exim4.conf.localmacros";
const MAIN_PARTS: &str = "/etc/exim4/conf.d/main";

/// The files Exim's main section comes from, in the order Exim reads them: the
/// hand-maintained configuration alone when it exists, else what the generator copies.
pub(super) fn files(host: &Host, split: bool) -> Result<Vec<PathBuf>> {
    if host.is_file(Path::new(HAND)) {
        return Ok(vec![PathBuf::from(HAND)]);
    }
    if !split {
        return Ok([LOCALMACROS, TEMPLATE]
            .iter()
            .map(PathBuf::from)
            .filter(|p| host.is_file(p))
            .collect());
    }
    let dir = Path::new(MAIN_PARTS);
    let names = host.list_dir(dir)?;
    let part = |n: &str| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    Ok(names
        .iter()
        .filter(|n| part(n))
        .map(|n| {
            let rul = format!("{n}.rul");
            dir.join(if names.contains(&rul) { rul } else { n.clone() })
        })
        .filter(|p| host.is_file(p))
        .collect())
}

/// The options to edit, by name: whether it is a relay list (else interfaces).
fn role(it: &Item) -> Option<bool> {
    match (it.kind.clone(), it.name.as_str(), it.list_kind.as_deref()) {
        (Kind::Option, "relay_from_hosts", Some("hostlist")) => Some(true),
        (Kind::Option, "local_interfaces", None) => Some(false),
        _ => None,
    }
}

/// The macro a value is, when it is exactly one macro name.
fn macro_name(value: &str) -> Option<&str> {
    let v = value.trim();
    (v.starts_with(|c: char| c.is_ascii_uppercase())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    .then_some(v)
}

pub(super) fn analyze(
    host: &Host,
    paths: &[PathBuf],
    target: &Target,
    a: &mut Analysis,
) -> Result<()> {
    let mut docs: Vec<(File, Doc)> = Vec::new();
    for p in paths {
        if let Some(f) = host.read(p)? {
            let doc = conf::parse(&f.text, true).map_err(|e| host.parse_error(&f, e))?;
            docs.push((f, doc));
        }
    }
    // The lists as written, and the macros the others name.
    let mut targets: Vec<(usize, usize, bool)> = Vec::new();
    let mut macros: Vec<(String, bool)> = Vec::new();
    for (fi, (f, doc)) in docs.iter().enumerate() {
        for (ii, it) in doc.items.iter().enumerate() {
            if let Kind::Directive(d) = &it.kind {
                if d.starts_with("include") && it.main {
                    a.warn_at(
                        f,
                        it.span.start,
                        format!("`.{d}` is not followed by v6fix: relay and interface lists in the file it names are not converted"),
                    );
                }
            }
            let Some(relay) = role(it) else { continue };
            let Some(value) = it.value.as_ref() else {
                // Exim stops on it: "unexpected end of line (data missing)", "missing '='".
                a.refuse(
                    f,
                    it.span.start,
                    format!("found `{}` with no `= LIST`, expected `{} = LIST` (Exim stops with a configuration error here)", it.name, it.name),
                );
                continue;
            };
            let v = &value.text;
            match macro_name(v) {
                Some(m) => macros.push((m.to_string(), relay)),
                None => targets.push((fi, ii, relay)),
            }
        }
    }
    for (m, relay) in &macros {
        for (fi, (_, doc)) in docs.iter().enumerate() {
            for (ii, it) in doc.items.iter().enumerate() {
                if it.kind == Kind::Macro && &it.name == m && it.value.is_some() {
                    targets.push((fi, ii, *relay));
                }
            }
        }
    }
    for (fi, ii, relay) in targets {
        let (f, doc) = &docs[fi];
        let it = &doc.items[ii];
        let v = it.value.as_ref().expect("targets have values");
        let name = match &it.list_kind {
            Some(k) => format!("{k} {}", it.name),
            None => it.name.clone(),
        };
        let p = Place {
            file: f,
            at: it.span.start,
            name: &name,
        };
        let out = if relay {
            checks::relay(&p, &v.text, Reading::Exim, target, a)
        } else {
            match checks::interfaces(host, &p, &v.text, Reading::Exim, target, a) {
                Some(o) => o,
                None => continue,
            }
        };
        apply(f, it, out, a);
    }
    Ok(())
}

/// Lays a list's edits onto the physical lines its value spans.
fn apply(file: &File, it: &Item, out: Outcome, a: &mut Analysis) {
    let v = it.value.as_ref().expect("edited items have values");
    for (span, text) in out.edits {
        match v.span_in_file(&span) {
            Some(s) => a.edits(file).replace(s, text),
            None => a.refuse(
                file,
                it.span.start,
                format!("found `{}` split across continued lines, expected it on one line (v6fix edits it in place)", &v.text[span]),
            ),
        }
    }
}
