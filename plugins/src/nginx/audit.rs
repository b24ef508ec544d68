//! Audit findings: IPv4-only listens, allow lists without IPv6, misspelt IPv6 literals.

use super::conf::{Conf, Placed};
use super::listen::{twin_of, At};
use std::collections::HashMap;
use v6fix_core::{policy, Finding, Host, Prefix, Severity};
use v6fix_core::{Bind, Endpoint, Twin};

impl Conf {
    pub(super) fn audit(&self, host: &Host) -> Vec<Finding> {
        let mut out = Vec::new();
        let Ok((placed, servers)) = self.placed(host) else {
            return out;
        };
        let listens = self.listens(&placed, &servers);
        let finding = |p: &Placed<'_>, severity: Severity, message: String, fix: Option<&str>| {
            let f = &self.files[p.file];
            Finding {
                severity,
                path: host.display(&f.file.path),
                line: Some(f.file.line(p.d.span.start)),
                message,
                fix: fix.map(str::to_string),
            }
        };
        let mut v4wild: HashMap<(String, String), bool> = HashMap::new();
        for (_, l, key) in &listens {
            if let (Some(k), Some(Bind::AnyV4)) = (key, l.endpoint().map(|e| &e.bind)) {
                v4wild.insert((k.0.clone(), k.2.clone()), true);
            }
        }
        // Each server's listens, so a listen is checked against its own server's only.
        let mut by_server: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
        for (i, (p, _, _)) in listens.iter().enumerate() {
            by_server.entry(p.server).or_default().push(i);
        }
        for (p, l, key) in &listens {
            let text = self.text_of(p);
            match &l.at {
                At::Refused(why) => out.push(finding(
                    p,
                    Severity::Error,
                    format!("`{text}`: nginx refuses it: {why}"),
                    None,
                )),
                At::Ep(Endpoint {
                    bind: Bind::AnyV6, ..
                }) if l.params.iter().any(|x| x == "ipv6only=off")
                        && key.as_ref().is_some_and(|k| v4wild.contains_key(&(k.0.clone(), k.2.clone()))) =>
                {
                    out.push(finding(
                        p,
                        Severity::Error,
                        format!("`{text}` takes IPv4 too, so the IPv4 wildcard listen on the same port fails to bind at start"),
                        None,
                    ))
                }
                At::Ep(ep) if ep.is_ipv4_only() => {
                    let Some(k) = key else { continue };
                    let twin = twin_of(l, None);
                    let has_v6 = by_server[&p.server].iter().map(|&i| &listens[i]).any(|(q, ql, qk)| {
                        q.server == p.server
                            && ql.endpoint().is_some_and(Endpoint::serves_ipv6)
                            && qk.as_ref().is_some_and(|qk| qk.2 == k.2)
                            && match &twin {
                                Twin::Have(t) => qk.as_ref().is_some_and(|qk| Some(qk.1) == t.ip()),
                                _ => true,
                            }
                    });
                    if !has_v6 {
                        let fix = match twin {
                            Twin::Have(_) => "v6fix nginx",
                            _ => "v6fix nginx --address ADDR",
                        };
                        out.push(finding(
                            p,
                            Severity::Warning,
                            format!("`{text}` accepts IPv4 only and this server has no IPv6 listen on port {}", k.2),
                            Some(fix),
                        ));
                    }
                }
                _ => {}
            }
        }
        // Addresses in the wrong spelling elsewhere.
        for p in &placed {
            let args = p.d.args();
            let name = p.d.name();
            let Some(a) = args.first() else { continue };
            let bad = match name {
                "set_real_ip_from" => a
                    .starts_with('[')
                    .then_some("nginx rejects a bracketed address here"),
                "proxy_pass" | "fastcgi_pass" | "uwsgi_pass" | "scgi_pass" | "grpc_pass" => {
                    let host = a.split_once("://").map_or(a.as_str(), |(_, r)| r);
                    let host = host.split('/').next().unwrap_or("");
                    (host.matches(':').count() >= 2 && !host.starts_with('[')).then_some(
                        "an IPv6 address in a URL needs brackets: `http://[2001:db8::1]:8080`",
                    )
                }
                "server" if p.server.is_none() && !a.starts_with("unix:") => {
                    (a.matches(':').count() >= 2 && !a.starts_with('['))
                        .then_some("an upstream IPv6 address needs brackets: `[2001:db8::1]:8080`")
                }
                _ => None,
            };
            if let Some(why) = bad {
                out.push(finding(
                    p,
                    Severity::Error,
                    format!("`{}`: {why}", self.text_of(p)),
                    None,
                ));
            }
        }
        // allow lists
        let mut by_block: HashMap<usize, Vec<&Placed<'_>>> = HashMap::new();
        let mut order = Vec::new();
        for p in &placed {
            if p.d.name() == "allow" || p.d.name() == "deny" {
                if !by_block.contains_key(&p.block) {
                    order.push(p.block);
                }
                by_block.entry(p.block).or_default().push(p);
            }
        }
        for b in order {
            let list = &by_block[&b];
            let mut v4 = None;
            let mut v6 = false;
            for p in list {
                let args = p.d.args();
                let Some(a) = args.first() else { continue };
                let Ok(prefix) = Prefix::parse_any(a) else {
                    continue;
                };
                if a.contains('[') {
                    out.push(finding(
                        p,
                        Severity::Error,
                        format!(
                            "`{}`: nginx rejects a bracketed address here",
                            self.text_of(p)
                        ),
                        Some("v6fix nginx"),
                    ));
                }
                if p.d.name() == "allow" {
                    if let Some(why) = Some(prefix)
                        .filter(Prefix::is_ipv6)
                        .and_then(|x| policy::acl_entry(&x))
                    {
                        out.push(finding(
                            p,
                            Severity::Error,
                            format!(
                                "`{}` admits too much: {why}; allow the site's own networks instead",
                                self.text_of(p)
                            ),
                            None,
                        ));
                    }
                    if prefix.is_ipv6() {
                        v6 = true;
                    } else {
                        v4.get_or_insert(*p);
                    }
                }
            }
            if let (Some(p), false) = (v4, v6) {
                out.push(finding(
                    p,
                    Severity::Warning,
                    "this allow list admits no IPv6 client".to_string(),
                    Some("v6fix nginx --network PREFIX"),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::Nginx;
    use super::*;
    use v6fix_core::Plugin;

    #[test]
    fn misspelt_ipv6_literals_are_errors() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("etc/nginx")).unwrap();
        std::fs::write(
            t.path().join("etc/nginx/nginx.conf"),
            "events {}\nhttp {\n upstream be { server ::1:8080; server [::1]:8081; }\n server {\n  listen [::]:80;\n  listen 2001:db8::1:80;\n  set_real_ip_from [2001:db8::]/32;\n  location / { proxy_pass http://::1:8080; }\n  location /b { proxy_pass http://[::1]:8080/b; }\n }\n}\n",
        )
        .unwrap();
        let host = Host::new(t.path()).unwrap();
        let got: Vec<(Option<usize>, Severity)> = Nginx
            .audit(&host)
            .unwrap()
            .iter()
            .map(|f| (f.line, f.severity))
            .collect();
        assert_eq!(
            got,
            [
                (Some(6), Severity::Error),
                (Some(3), Severity::Error),
                (Some(7), Severity::Error),
                (Some(8), Severity::Error)
            ]
        );
    }
}
