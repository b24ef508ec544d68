//! master.cf: IPv6 siblings for services bound to an IPv4 address.

use super::conf::Conf;
use super::state::State;
use super::MASTER_CF;
use std::net::Ipv6Addr;
use std::path::Path;
use v6fix_core::dialect::postfix as pf;
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin};
use v6fix_core::{Edits, File, Result};

/// An `inet` service of master.cf bound to an address: its service and endpoint.
pub(super) struct Bound<'a> {
    pub(super) service: &'a pf::Service,
    ep: Endpoint,
}

pub(super) fn bound_services(doc: &pf::MasterDoc) -> Vec<Bound<'_>> {
    doc.services()
        .filter(|s| doc.field(s, 1) == "inet")
        .filter_map(|s| {
            let ep = Endpoint::parse(doc.field(s, 0), &Spelling::PLAIN).ok()?;
            (ep.ip().is_some() && ep.port.is_some()).then_some(Bound { service: s, ep })
        })
        .collect()
}

/// IPv4-bound services without an IPv6 sibling on the same port.
pub(super) fn lonely_v4<'a>(bound: &'a [Bound<'a>]) -> Vec<&'a Bound<'a>> {
    bound
        .iter()
        .filter(|b| b.ep.is_ipv4_only())
        .filter(|b| {
            !bound
                .iter()
                .any(|o| o.ep.serves_ipv6() && o.ep.port == b.ep.port)
        })
        .collect()
}

impl Conf<'_> {
    pub(super) fn read_master(&self) -> Result<Option<(File, pf::MasterDoc)>> {
        let Some(f) = self.host.read(Path::new(MASTER_CF))? else {
            return Ok(None);
        };
        let d = pf::parse_master(&f.text).map_err(|e| self.host.parse_error(&f, e))?;
        Ok(Some((f, d)))
    }

    /// master.cf services bound to an IPv4 address get an IPv6 sibling: `[::1]` next to
    /// a loopback one, `--address` next to any other.
    pub(super) fn master(&self, st: &mut State, address: Option<Ipv6Addr>) -> Result<()> {
        let Some((file, doc)) = self.read_master()? else {
            return Ok(());
        };
        let bound = bound_services(&doc);
        let mut edits = Edits::new();
        for b in lonely_v4(&bound) {
            let place = self.locate(&file, b.service.fields[0].start);
            let name = doc.field(b.service, 0);
            match endpoint::twin(&b.ep, address, &Bind::AnyV6) {
                Twin::Have(t) => {
                    let sibling = t.render(true);
                    doc.insert_sibling(b.service, &sibling, &mut edits);
                    st.note(format!(
                        "{place}: service {name} listens on IPv4 only: added the sibling {sibling} with the same settings"
                    ));
                }
                Twin::None => {}
                Twin::NeedAddress => st.plan.warn(format!(
                    "{place}: service {name} listens on IPv4 only: pass --address ADDR to add an IPv6 sibling"
                )),
            }
        }
        if !edits.is_empty() {
            let path = file.path.clone();
            st.others.insert(path.clone(), file);
            *st.edits_path(&path) = edits;
            st.lists_changed = true;
        }
        Ok(())
    }
}
