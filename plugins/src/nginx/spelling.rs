//! IPv6 literals nginx cannot read where they are written: a bracketed `set_real_ip_from`,
//! an unbracketed address in a proxy URL or an upstream `server`. Found, never edited (the
//! right spelling depends on what the admin meant).

use super::conf::{Conf, Placed};
use v6fix_core::{Analysis, Severity};

impl Conf {
    /// An error finding for each address written in a spelling nginx rejects or misreads.
    pub(super) fn find_misspelt(&self, placed: &[Placed<'_>], plan: &mut Analysis) {
        for p in placed {
            let args = p.d.args();
            let Some(a) = args.first() else { continue };
            let bad = match p.d.name() {
                "set_real_ip_from" => a
                    .starts_with('[')
                    .then_some("nginx rejects a bracketed address here"),
                "proxy_pass" | "fastcgi_pass" | "uwsgi_pass" | "scgi_pass" | "grpc_pass" => {
                    let host = a.split_once("://").map_or(&**a, |(_, r)| r);
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
                plan.find(
                    &self.files[p.file].file,
                    p.d.span.start,
                    Severity::Error,
                    format!("`{}`: {why}", self.text_of(p)),
                    "",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Nginx;
    use v6fix_core::{Host, Plugin, Severity};

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
