//! The checks all passes share, and the restart a changed `Listen` needs.

use v6fix_core::dialect::apache::{Doc, Item};
use v6fix_core::Analysis;

/// Records that a `Listen` changed: new sockets need a restart, not a graceful reload.
pub(super) fn listen_changed(a: &mut Analysis) {
    a.restart(
        "apache2",
        "restart",
        "apache2ctl configtest && systemctl restart apache2",
        "new Listen sockets (their addresses must be up first): a graceful reload binds them too, \
         but one failed bind shuts the whole server down while `systemctl reload` reports success; \
         a restart shows the failure at once",
    );
}

pub(super) const FIX_PLAIN: &str = "v6fix apache";
pub(super) const FIX_ADDRESS: &str = "v6fix apache --address ADDR";
pub(super) const FIX_NETWORK: &str = "v6fix apache --network PREFIX";

pub(super) fn has_hash(doc: &Doc, it: &Item) -> bool {
    doc.words(it).any(|w| w.text.starts_with('#'))
}

/// Where the first word starting with `#` sits.
pub(super) fn hash_at(doc: &Doc, it: &Item) -> usize {
    doc.words(it)
        .find(|w| w.text.starts_with('#'))
        .map_or(it.span().start, |w| w.span.start)
}

pub(super) fn hash_message(doc: &Doc, it: &Item) -> String {
    format!(
        "`#` after {}: Apache has no trailing comments, the words become arguments; move the comment to its own line",
        doc.name(it)
    )
}
