//! Loading the configuration: the main file and everything it includes, in Apache's order.

use std::path::{Path, PathBuf};
use v6fix_core::config_set::{ConfigSet, Dirs, Include, Missing};
use v6fix_core::dialect::apache::{self, Doc, Kind};
use v6fix_core::{File, Host, MainFile, Result};

const SERVER_ROOT: &str = "/etc/apache2";
pub(super) const MAIN: MainFile = MainFile::new("/etc/apache2/apache2.conf", "Apache");

/// Every file of the configuration, in the order Apache reads them, parsed.
pub(super) struct Conf {
    pub(super) files: Vec<(File, Doc)>,
    pub(super) warnings: Vec<String>,
    /// Optional includes that matched nothing.
    pub(super) notes: Vec<String>,
}

impl Conf {
    pub(super) fn load(host: &Host) -> Result<Option<Conf>> {
        let mut warnings = Vec::new();
        // Relative paths are relative to ServerRoot, as it stands where they are read.
        let mut root = PathBuf::from(SERVER_ROOT);
        let includes = |file: &File, doc: &Doc| {
            let mut out = Vec::new();
            for (i, it) in doc.items().iter().enumerate() {
                if doc.is(it, "ServerRoot") && it.kind == Kind::Directive {
                    if let Some(a) = doc.arg(it, 0) {
                        let r = a.unquoted();
                        if r.starts_with('/') && !r.contains("${") {
                            root = PathBuf::from(r);
                        }
                    }
                }
                let optional = doc.is(it, "IncludeOptional");
                if it.kind != Kind::Directive || !(optional || doc.is(it, "Include")) {
                    continue;
                }
                for a in doc.words(it) {
                    let pat = a.unquoted();
                    if pat.contains("${") {
                        warnings.push(format!(
                            "{}: Include {pat} names a variable that v6fix cannot resolve: not read",
                            host.locate(file, it.span().start)
                        ));
                        continue;
                    }
                    // Include refuses a pattern that matches nothing, IncludeOptional
                    // goes on; inside <IfModule>, <IfDefine>… Apache may skip the line,
                    // and v6fix does not evaluate those. A directory is read whole,
                    // recursively.
                    let missing = if optional {
                        Missing::Note
                    } else if in_condition(doc, i) {
                        Missing::Warn
                    } else {
                        Missing::Error
                    };
                    out.push(
                        Include::new(
                            i,
                            it.span().start,
                            format!("{} {pat}", doc.name(it)),
                            pat,
                            &root,
                        )
                        .missing(missing)
                        .dirs(Dirs::Recurse),
                    );
                }
            }
            out
        };
        let Some(set) = ConfigSet::load(
            host,
            "Apache",
            Path::new(MAIN.path),
            apache::parse,
            includes,
        )?
        else {
            return Ok(None);
        };
        warnings.extend(set.warnings);
        Ok(Some(Conf {
            notes: set.notes,
            files: set.files.into_iter().map(|m| (m.file, m.doc)).collect(),
            warnings,
        }))
    }
}

/// True when item `i` sits inside an `<If…>` section (`<IfModule>`, `<IfDefine>`, …).
fn in_condition(doc: &Doc, i: usize) -> bool {
    let items = doc.items();
    let mut p = items[i].parent();
    while let Some(j) = p {
        if doc
            .name(&items[j])
            .get(..2)
            .is_some_and(|n| n.eq_ignore_ascii_case("if"))
        {
            return true;
        }
        p = items[j].parent();
    }
    false
}
