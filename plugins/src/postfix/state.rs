//! The plan being built: edits per file, notes and warnings, and the restart they need.

use super::conf::{Conf, Tables};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use v6fix_core::{Analysis, Edits, File};

const RESTART_WHY: &str = "a reload ignores inet_protocols and inet_interfaces";

pub(super) struct State<'c> {
    conf: &'c Conf<'c>,
    pub(super) tables: Tables,
    edits: BTreeMap<PathBuf, Edits>,
    /// Files read outside main.cf's lists (master.cf), by machine path.
    pub(super) others: BTreeMap<PathBuf, File>,
    /// The notes and warnings so far.
    pub(super) plan: Analysis,
    pub(super) listeners_changed: bool,
    pub(super) lists_changed: bool,
}

impl<'c> State<'c> {
    pub(super) fn new(conf: &'c Conf<'c>) -> Self {
        State {
            conf,
            tables: Tables::default(),
            edits: BTreeMap::new(),
            others: BTreeMap::new(),
            plan: Analysis::new(),
            listeners_changed: false,
            lists_changed: false,
        }
    }

    pub(super) fn edits(&mut self, path: &str) -> &mut Edits {
        self.edits_path(Path::new(path))
    }

    pub(super) fn edits_path(&mut self, path: &Path) -> &mut Edits {
        self.edits.entry(path.to_path_buf()).or_default()
    }

    pub(super) fn note(&mut self, n: impl Into<String>) {
        self.plan.note(n);
    }

    /// The analysis: each file's edits, the notes and warnings, and the restart they need.
    pub(super) fn finish(mut self) -> Analysis {
        let mut a = Analysis::new();
        for (path, edits) in std::mem::take(&mut self.edits) {
            if edits.is_empty() {
                continue;
            }
            let file = self
                .conf
                .file_of(&self.tables, &path)
                .or_else(|| self.others.get(&path));
            if let Some(file) = file {
                a.change(file, edits);
            }
        }
        a.say_all(self.plan.take_diagnostics());
        if self.listeners_changed {
            a.restart(
                "postfix",
                "restart",
                "postfix stop && postfix start",
                RESTART_WHY,
            );
        } else {
            a.restart(
                "postfix",
                "reload",
                "postfix reload",
                "Postfix rereads main.cf and its lists on reload",
            );
        }
        a
    }
}

impl Conf<'_> {
    /// Warns about every definition of `name` before the last one, which Postfix ignores.
    pub(super) fn warn_duplicates(&self, st: &mut State, name: &str) {
        let defs = self.doc.defs(name);
        let Some(last) = defs.last() else {
            return;
        };
        for d in &defs[..defs.len() - 1] {
            st.plan.warn(format!(
                "{}: {name} is defined again further down; Postfix uses only the last definition (line {}), which is the one v6fix edits",
                self.locate(&self.main, d.name_span.start),
                self.main.line(last.name_span.start)
            ));
        }
    }
}
