//! inet_interfaces and smtp_bind_address: adding this host's IPv6 address next to IPv4 ones.

use super::conf::{live_tokens, token_ip, Conf};
use super::state::State;
use super::{FIX, FIX_ADDRESS, MAIN_CF};
use std::net::IpAddr;
use v6fix_core::Severity;

impl Conf<'_> {
    pub(super) fn interfaces(&self, st: &mut State, address: Option<IpAddr>) {
        if let Some(p) = self.doc.param("inet_interfaces") {
            self.warn_duplicates(st, "inet_interfaces");
            let tokens = live_tokens(&self.doc, p);
            let all = tokens.iter().any(|t| {
                matches!(
                    t.text.to_ascii_lowercase().as_str(),
                    "all" | "loopback-only"
                )
            });
            if all {
                st.note(format!(
                    "{}: inet_interfaces = {} covers IPv6 once inet_protocols does: left alone",
                    self.locate(&self.main, p.name_span.start),
                    self.doc.value(p)
                ));
            } else {
                let ips: Vec<Option<IpAddr>> = tokens.iter().map(|t| token_ip(&t.text)).collect();
                let has = |ip: IpAddr| ips.contains(&Some(ip));
                let loop4 = ips
                    .iter()
                    .position(|i| matches!(i, Some(IpAddr::V4(a)) if a.is_loopback()));
                let last4 = ips
                    .iter()
                    .rposition(|i| matches!(i, Some(IpAddr::V4(a)) if !a.is_loopback()));
                let v6_loop: IpAddr = "::1".parse().expect("literal");
                // What keeps Postfix off IPv6 here: 127.0.0.1 without [::1] (added below),
                // an IPv4 address without any of this host's IPv6 ones (added with --address).
                let needs_loop = loop4.is_some() && !has(v6_loop);
                let needs_address = last4.is_some()
                    && !ips
                        .iter()
                        .any(|i| matches!(i, Some(IpAddr::V6(a)) if !a.is_loopback()));
                let any_v6 = ips.iter().any(|i| matches!(i, Some(IpAddr::V6(_))));
                let at = p.name_span.start;
                let value = self.doc.value(p);
                let message = if !any_v6 {
                    format!("inet_interfaces = {value} binds IPv4 addresses only: Postfix does not listen on IPv6")
                } else if needs_address {
                    format!("inet_interfaces = {value} names no IPv6 address of this host beside its IPv4 ones: Postfix takes IPv6 connections on loopback only")
                } else {
                    format!("inet_interfaces = {value} names 127.0.0.1 but not [::1]: local clients that connect over ::1 are refused")
                };
                match (needs_address, needs_loop) {
                    (true, _) if address.is_none() => {
                        st.plan
                            .lasting(&self.main, at, Severity::Warning, message, FIX_ADDRESS)
                    }
                    (true, _) => {
                        st.plan
                            .find(&self.main, at, Severity::Warning, message, FIX_ADDRESS)
                    }
                    (false, true) => st
                        .plan
                        .find(&self.main, at, Severity::Warning, message, FIX),
                    (false, false) => {}
                }
                let mut added = Vec::new();
                if let (Some(i), false) = (loop4, has(v6_loop)) {
                    self.doc
                        .insert_after_token(p, i, &["[::1]".into()], st.edits(MAIN_CF));
                    added.push("[::1]".to_string());
                }
                match (last4, address) {
                    (Some(i), Some(a)) if !has(a) => {
                        let t = format!("[{a}]");
                        self.doc.insert_after_token(
                            p,
                            i,
                            std::slice::from_ref(&t),
                            st.edits(MAIN_CF),
                        );
                        added.push(t);
                    }
                    _ => {}
                }
                if !added.is_empty() {
                    st.note(format!(
                        "{}: inet_interfaces: added {}",
                        self.locate(&self.main, p.name_span.start),
                        added.join(", ")
                    ));
                    if let Some(a) = address.filter(|a| added.contains(&format!("[{a}]"))) {
                        st.note(format!(
                            "Postfix will not start if inet_interfaces names an address no interface has: configure {a} first (v6fix interfaces)"
                        ));
                    }
                    st.listeners_changed = true;
                }
            }
        }

        let bind4 = self
            .doc
            .param("smtp_bind_address")
            .filter(|p| !self.doc.value(p).is_empty());
        let bind6 = self
            .doc
            .get("smtp_bind_address6")
            .is_some_and(|v| !v.is_empty());
        if let (Some(p), false) = (bind4, bind6) {
            match address {
                Some(a) => {
                    self.doc
                        .insert_param_after(p, "smtp_bind_address6", &a.to_string(), st.edits(MAIN_CF));
                    st.note(format!(
                        "{}: smtp_bind_address is set, so outgoing IPv6 mail is bound too: added smtp_bind_address6 = {a}",
                        self.locate(&self.main, p.name_span.start)
                    ));
                    st.lists_changed = true;
                }
                None => st.plan.warn(format!(
                    "{}: smtp_bind_address is set but smtp_bind_address6 is not: pass --address ADDR to bind outgoing IPv6 mail too",
                    self.locate(&self.main, p.name_span.start)
                )),
            }
        }
    }
}
