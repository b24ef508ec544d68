//! Rewriting the entries that break Postfix in every network list.

use super::conf::Conf;
use super::elem::{broken_message, Elem};
use super::state::State;
use super::NETWORK_LISTS;
use std::collections::HashSet;
use v6fix_core::Result;

impl Conf<'_> {
    /// Rewrites entries that break Postfix in every network list.
    pub(super) fn fix_lists(&self, st: &mut State) -> Result<()> {
        // An element two lists share (a /file list both name) is reported once.
        let mut done = HashSet::new();
        for name in NETWORK_LISTS {
            let entries = self.walk(name, &mut st.tables)?;
            for e in entries.iter() {
                let said = matches!(
                    &e.elem,
                    Elem::Broken { .. } | Elem::UnknownType(_) | Elem::Unexpanded
                );
                if !said || !done.insert((e.path.clone(), e.span.start)) {
                    continue;
                }
                let place = self.where_is(&st.tables, e);
                match &e.elem {
                    Elem::Broken { fixed, why, .. } if e.editable => {
                        st.edits_path(&e.path).replace(e.span.clone(), fixed.clone());
                        st.note(format!(
                            "{place}: {}: rewritten as `{fixed}`",
                            broken_message(name, &e.text, *why)
                        ));
                    }
                    Elem::Broken { fixed, why, .. } => st.plan.warn(format!(
                        "{place}: {}; it comes from expanding `$…`, so write it as `{fixed}` where it is defined",
                        broken_message(name, &e.text, *why)
                    )),
                    Elem::UnknownType(ty) => st.plan.warn(format!(
                        "{place}: `{}` in {name}: Postfix reads it as a lookup table of the unknown type `{ty}` (451 4.3.0 for every client); v6fix cannot tell what was meant",
                        e.text
                    )),
                    Elem::Unexpanded => st.plan.warn(format!(
                        "{place}: `{}` in {name}: v6fix does not evaluate conditional `${{name?…}}` forms; check this list by hand",
                        e.text
                    )),
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
