//! VCL backends: an unbracketed IPv6 `.host` is read whole, on port 80. Found, never edited
//! (v6fix does not guess which part the admin meant as the port).

use super::conf::Setup;
use v6fix_core::{Analysis, Severity};

impl Setup {
    /// A warning finding for each backend host that is an unbracketed IPv6 address.
    pub(super) fn find_backends(&self, plan: &mut Analysis) {
        for (file, doc) in &self.vcls {
            for (offset, host_text) in doc.backend_hosts() {
                if host_text.matches(':').count() >= 2 && !host_text.starts_with('[') {
                    plan.find(
                        file,
                        offset,
                        Severity::Warning,
                        format!(
                            "backend .host = \"{host_text}\": an unbracketed IPv6 address is read whole, on port 80; write \"[{host_text}]\" or, with a port, \"[address]:port\""
                        ),
                        "",
                    );
                }
            }
        }
    }
}
