//! What a run gathers (edits per file, notes, warnings, findings) and the checks all passes share.

use v6fix_core::dialect::apache::Item;
use v6fix_core::{Edits, Error, File, Finding, Host, Severity};

#[derive(Default)]
pub(super) struct Analysis {
    pub(super) edits: Vec<Edits>,
    pub(super) notes: Vec<String>,
    pub(super) warnings: Vec<String>,
    pub(super) findings: Vec<Finding>,
    pub(super) invalid: Option<Error>,
    pub(super) listen_changed: bool,
}

impl Analysis {
    pub(super) fn find(
        &mut self,
        host: &Host,
        file: &File,
        off: usize,
        sev: Severity,
        msg: String,
        fix: &str,
    ) {
        self.findings.push(Finding {
            severity: sev,
            path: host.display(&file.path),
            line: Some(file.line(off)),
            message: msg,
            fix: (!fix.is_empty()).then(|| fix.to_string()),
        });
    }

    pub(super) fn refuse(&mut self, host: &Host, file: &File, off: usize, msg: String) {
        self.find(host, file, off, Severity::Error, msg.clone(), "");
        if self.invalid.is_none() {
            self.invalid = Some(Error::invalid(
                host.display(&file.path),
                Some(file.line_col(off)),
                msg,
            ));
        }
    }
}

pub(super) const FIX_PLAIN: &str = "v6fix apache";
pub(super) const FIX_ADDRESS: &str = "v6fix apache --address ADDR";
pub(super) const FIX_NETWORK: &str = "v6fix apache --network PREFIX";

pub(super) fn has_hash(it: &Item) -> bool {
    it.args.iter().any(|w| w.text.starts_with('#'))
}

/// Where the first word starting with `#` sits.
pub(super) fn hash_at(it: &Item) -> usize {
    it.args
        .iter()
        .find(|w| w.text.starts_with('#'))
        .map_or(it.span.start, |w| w.span.start)
}

pub(super) fn hash_message(it: &Item) -> String {
    format!(
        "`#` after {}: Apache has no trailing comments, the words become arguments; move the comment to its own line",
        it.name
    )
}
