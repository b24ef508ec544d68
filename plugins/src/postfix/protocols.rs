//! inet_protocols: enabling IPv6.

use super::conf::{live_tokens, Conf};
use super::state::State;
use super::MAIN_CF;
use v6fix_core::dialect::postfix::{self as pf, Doc, Param};

impl Conf<'_> {
    /// Enables IPv6 in inet_protocols; true when this run turns it on (it was off).
    pub(super) fn inet_protocols(&self, st: &mut State) -> bool {
        let defs = self.doc.defs("inet_protocols");
        let Some(&p) = defs.last() else {
            let after = self.doc.param("inet_interfaces");
            let e = st.edits(MAIN_CF);
            match after {
                Some(i) => self.doc.insert_param_after(i, "inet_protocols", "all", e),
                None => self.doc.append_param("inet_protocols", "all", e),
            }
            st.note(
                "inet_protocols was not set: set to `all` explicitly, since the compiled-in default differs across Postfix versions (old ones default to ipv4)",
            );
            st.listeners_changed = true;
            return true;
        };
        self.warn_duplicates(st, "inet_protocols");
        let all_tokens = self.doc.tokens(p);
        let note = all_tokens.iter().any(pf::Element::is_comment);
        let live = live_tokens(&self.doc, p);
        let place = self.locate(&self.main, p.name_span.start);
        if enables_ipv6(&self.doc, p) && !note {
            st.note(format!(
                "{place}: inet_protocols = {} already enables IPv6: left alone",
                self.doc.value(p)
            ));
            return false;
        }
        let was_on = enables_ipv6(&self.doc, p);
        let value = if was_on {
            live.iter()
                .map(|t| t.text.as_ref())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            "all".to_string()
        };
        let e = st.edits(MAIN_CF);
        match (all_tokens.first(), all_tokens.last()) {
            (Some(a), Some(b)) => e.replace(a.span.start..b.span.end, value.clone()),
            _ => self.doc.set_value(p, &value, e),
        }
        if note {
            st.note(format!(
                "{place}: inet_protocols = {}: Postfix refuses to start with a `#` note in this value (unknown inet_protocols value \"#\"), so the note was dropped",
                self.doc.value(p)
            ));
        }
        st.note(format!(
            "{place}: inet_protocols = {} → {value}{}",
            live.iter()
                .map(|t| t.text.as_ref())
                .collect::<Vec<_>>()
                .join(" "),
            if value == "all" {
                " (IPv4 and IPv6)"
            } else {
                ""
            }
        ));
        st.listeners_changed = true;
        !was_on
    }
}

pub(super) fn enables_ipv6(doc: &Doc, p: &Param) -> bool {
    live_tokens(doc, p)
        .iter()
        .any(|t| matches!(t.text.to_ascii_lowercase().as_str(), "all" | "ipv6"))
}
