//! Every network list: entries that break Postfix are rewritten, entries that trust too
//! much and lists that name missing files are found.

use super::conf::{Conf, Entry};
use super::elem::{broken_message, Elem};
use super::state::State;
use super::{FIX, NETWORK_LISTS};
use std::collections::HashSet;
use std::path::Path;
use std::rc::Rc;
use v6fix_core::{policy, Finding, Result, Severity};

impl Conf<'_> {
    /// Rewrites entries that break Postfix in every network list, and records what else is
    /// wrong in them.
    pub(super) fn fix_lists(&self, st: &mut State) -> Result<()> {
        // An element two lists share (a /file list both name) is judged once: a file's
        // entries come as one run, judged the first time the file comes.
        let main = st.tables.main_path();
        let mut judged_files = HashSet::new();
        let mut judged_main = HashSet::new();
        for name in NETWORK_LISTS {
            let entries = self.walk(name, &mut st.tables)?;
            let mut run: Option<(*const Path, bool)> = None;
            for e in entries.iter() {
                let file = Rc::as_ptr(&e.path);
                let skip = if Rc::ptr_eq(&e.path, &main) {
                    run = None;
                    !judged_main.insert(e.span.start)
                } else {
                    match run {
                        Some((f, skip)) if std::ptr::addr_eq(f, file) => skip,
                        _ => {
                            let skip = !judged_files.insert(file);
                            run = Some((file, skip));
                            skip
                        }
                    }
                };
                if skip {
                    continue;
                }
                // An entry that trusts too much (every list grants something, but for
                // debug_peer_list, which only logs more).
                if let Elem::Net {
                    prefix,
                    negated: false,
                }
                | Elem::Broken {
                    prefix,
                    negated: false,
                    ..
                } = &e.elem
                {
                    if let Some(why) =
                        policy::acl_entry(prefix).filter(|_| *name != "debug_peer_list")
                    {
                        self.find(
                            st,
                            e,
                            format!(
                                "`{}` in {name} trusts too much: {why}; list the site's own networks instead",
                                e.text()
                            ),
                            "",
                            false,
                        );
                    }
                }
                match &e.elem {
                    Elem::Broken { fixed, why, .. } if e.editable => {
                        self.find(
                            st,
                            e,
                            format!("{}; write it as `{fixed}`", broken_message(name, e.text(), *why)),
                            FIX,
                            false,
                        );
                        st.edits_path(&e.path).replace(e.span.clone(), fixed.clone());
                        let place = self.where_is(&st.tables, e);
                        st.note(format!(
                            "{place}: {}: rewritten as `{fixed}`",
                            broken_message(name, e.text(), *why)
                        ));
                    }
                    Elem::Broken { fixed, why, .. } => self.find(
                        st,
                        e,
                        format!(
                            "{}; it comes from expanding `$…`, so write it as `{fixed}` where it is defined",
                            broken_message(name, e.text(), *why)
                        ),
                        "",
                        true,
                    ),
                    Elem::UnknownType(ty) => self.find(
                        st,
                        e,
                        format!(
                            "`{}` in {name}: Postfix reads it as a lookup table of the unknown type `{ty}`, and every client whose check reaches it gets 451 4.3.0",
                            e.text()
                        ),
                        "",
                        true,
                    ),
                    Elem::File(p) | Elem::Cidr(p) if !self.host.exists(p) => self.find(
                        st,
                        e,
                        format!(
                            "{name} names {}, which does not exist: Postfix cannot open it",
                            self.host.display(p)
                        ),
                        "",
                        false,
                    ),
                    Elem::Unexpanded => st.plan.warn(format!(
                        "{}: `{}` in {name}: v6fix does not evaluate conditional `${{name?…}}` forms; check this list by hand",
                        self.where_is(&st.tables, e),
                        e.text()
                    )),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// An error finding at entry `e` (shown as a warning by a run too when `warn`).
    fn find(&self, st: &mut State, e: &Entry, message: String, fix: &str, warn: bool) {
        match self.file_of(&st.tables, &e.path) {
            Some(f) if warn => st
                .plan
                .lasting(f, e.span.start, Severity::Error, message, fix),
            Some(f) => st.plan.find(f, e.span.start, Severity::Error, message, fix),
            None => st.plan.finding(Finding {
                severity: Severity::Error,
                path: self.host.display(&e.path),
                line: None,
                message,
                fix: (!fix.is_empty()).then(|| fix.to_string()),
            }),
        }
    }
}
