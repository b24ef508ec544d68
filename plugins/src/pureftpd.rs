//! `v6fix pure-ftpd`: Pure-FTPd as Debian runs it, through `pure-ftpd-wrapper` and the
//! one-value-per-file options in `/etc/pure-ftpd/conf/` (`pure-ftpd.conf` is not read).
//!
//! - `DontResolve` on (the file is created when absent): without it every connection
//!   waits for a reverse lookup before the greeting, and IPv6 clients often have no PTR.
//! - `IPV4Only` on is turned off (`no`), and said so; with `IPV6Only` also on the daemon
//!   does not start at all: reported, and both are turned off.
//! - `Bind` holds one `address,port` (comma, no brackets): `0.0.0.0,21` or `[::],21`
//!   becomes `,21` (all addresses, both families); an IPv4 address is explained, not changed.
//! - Values the wrapper dies on (`true`, `y`, a trailing comment) and alphanumeric file
//!   names that are not options stop the run with an error naming the file, before anything
//!   is written.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use v6fix_core::addr::parse_ip;
use v6fix_core::dialect::pureftpd::{self, directive, is_read, split_bind, Doc, ValueKind};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{
    Analysis, Args, Error, File, Finding, Host, ParseError, Plugin, Result, Severity,
};

const CONF_DIR: &str = "/etc/pure-ftpd/conf";
const DEFAULTS: &str = "/etc/default/pure-ftpd-common";

pub(crate) struct PureFtpd;

v6fix_core::inventory::submit! { v6fix_core::Registration(&PureFtpd) }

static NEEDS: [Need; 1] = [Need::new(
    Fact::Address,
    "This host's IPv6 address, named in the advice for an IPv4-only Bind",
)];

/// One option file the wrapper reads.
struct Opt {
    name: String,
    file: File,
    doc: Doc,
}

fn conf_path(name: &str) -> PathBuf {
    Path::new(CONF_DIR).join(name)
}

/// The option files the wrapper reads (alphanumeric names), or `None` without conf/.
fn load(host: &Host) -> Result<Option<Vec<Opt>>> {
    if !host.exists(Path::new(CONF_DIR)) {
        return Ok(None);
    }
    let mut out = Vec::new();
    for name in host.list_dir(Path::new(CONF_DIR))? {
        if !is_read(&name) {
            continue;
        }
        let path = conf_path(&name);
        if let Some(file) = host.read(&path)? {
            let doc = pureftpd::parse(&file.text);
            out.push(Opt { name, file, doc });
        }
    }
    Ok(Some(out))
}

/// What the wrapper would die on, as errors naming the file.
fn problems(host: &Host, opts: &[Opt]) -> Vec<Error> {
    let mut out = Vec::new();
    for o in opts {
        match directive(&o.name) {
            None => {
                let hint = pureftpd::DIRECTIVES
                    .iter()
                    .find(|(d, _)| d.eq_ignore_ascii_case(&o.name))
                    .map(|(d, _)| format!(" (the option is spelt `{d}`)"))
                    .unwrap_or_default();
                out.push(Error::invalid(
                    host.display(&o.file.path),
                    None,
                    format!(
                        "`{}` is not a Pure-FTPd option{hint}: pure-ftpd-wrapper stops with \
                         `No corresponding directive` and the service does not start; \
                         remove it, or rename it with a `.` or `~` in the name (`{}.bak`), which the wrapper skips",
                        o.name, o.name
                    ),
                ));
            }
            Some(ValueKind::Bool) => {
                if let Err(e) = o.doc.boolean() {
                    out.push(host.parse_error(&o.file, e));
                }
            }
            Some(ValueKind::String) => {
                if let Err(e) = o.doc.string() {
                    out.push(host.parse_error(&o.file, e));
                }
            }
            Some(ValueKind::Other) => {}
        }
    }
    out
}

fn find<'a>(opts: &'a [Opt], name: &str) -> Option<&'a Opt> {
    opts.iter().find(|o| o.name == name)
}

/// `inetd` when /etc/default/pure-ftpd-common says so: then inetd owns the socket.
fn inetd(host: &Host) -> Result<bool> {
    let Some(f) = host.read(Path::new(DEFAULTS))? else {
        return Ok(false);
    };
    Ok(f.text.lines().any(|l| {
        let l = l.trim();
        l.strip_prefix("STANDALONE_OR_INETD=")
            .is_some_and(|v| v.trim_matches(['"', '\'']) == "inetd")
    }))
}

/// What a Bind value means and what it should become.
#[derive(Debug, PartialEq, Eq)]
enum BindFix {
    /// No address: both families already.
    AllAddresses,
    /// Rewrite to this value (wildcards to `,port`, brackets or `:` separators removed).
    Rewrite { new: String, why: String },
    /// A wildcard/bracket fix is not needed but the address is one family only.
    OneFamily { ip: IpAddr },
    /// A host name: whatever it resolves to at start, first address per family.
    Name(String),
}

fn bind_fix(v: &str) -> std::result::Result<(BindFix, Option<IpAddr>), String> {
    let mut why = Vec::new();
    let (host, port) = if v.contains(',') {
        let b = split_bind(v);
        (
            b.host.map(str::to_string),
            b.port.unwrap_or("21").to_string(),
        )
    } else if v.starts_with('[') || v.matches(':').count() == 1 {
        // `[::]:21`, `0.0.0.0:21`: a colon is not pure-ftpd's separator (it fails to start).
        let (h, p) = match v6fix_core::addr::split_host_port(v) {
            Some((h, Some(p))) => (h.map(str::to_string), p.to_string()),
            _ => return Err(format!("`{v}` is not `address,port`")),
        };
        why.push("a colon is not Pure-FTPd's separator (`address,port`)".to_string());
        (h, p)
    } else if v.contains(':') {
        return Err(format!(
            "`{v}`: without a comma pure-ftpd reads the whole value as a port and does not start; write `address,port`, e.g. `::1,21`"
        ));
    } else {
        (None, v.to_string())
    };
    let host = match host {
        Some(h) if h.starts_with('[') && h.ends_with(']') => {
            why.push("pure-ftpd rejects brackets around an address".into());
            Some(h[1..h.len() - 1].to_string())
        }
        h => h,
    };
    let fixed = |new: String, why: Vec<String>, ip| {
        if new == v {
            None
        } else {
            Some((
                BindFix::Rewrite {
                    new,
                    why: why.join("; "),
                },
                ip,
            ))
        }
    };
    let Some(h) = host.filter(|h| !h.is_empty()) else {
        // `,21` and `21` mean the same: all addresses.
        if why.is_empty() {
            return Ok((BindFix::AllAddresses, None));
        }
        return Ok(fixed(format!(",{port}"), why, None).unwrap_or((BindFix::AllAddresses, None)));
    };
    match parse_ip(&h) {
        Some(ip) if ip.is_unspecified() || h == "*" => {
            why.push(format!(
                "`{h}` binds {} only; no address binds both",
                if ip.is_ipv4() { "IPv4" } else { "IPv6" }
            ));
            Ok(fixed(format!(",{port}"), why, None).unwrap_or((BindFix::AllAddresses, None)))
        }
        Some(ip) => Ok(fixed(format!("{ip},{port}"), why, Some(ip))
            .unwrap_or((BindFix::OneFamily { ip }, Some(ip)))),
        None if h == "*" => {
            why.push("`*` is not an address for pure-ftpd; no address binds both families".into());
            Ok(fixed(format!(",{port}"), why, None).unwrap_or((BindFix::AllAddresses, None)))
        }
        None => Ok((BindFix::Name(h), None)),
    }
}

fn bind_advice(ip: IpAddr, port: &str, address: Option<IpAddr>) -> String {
    let other = match (ip, address) {
        (IpAddr::V4(_), Some(a)) => format!("`{a},{port}`"),
        (IpAddr::V4(_), None) => format!("this host's IPv6 address (`<IPv6 address>,{port}`)"),
        (IpAddr::V6(_), _) => format!("this host's IPv4 address (`<IPv4 address>,{port}`)"),
    };
    format!(
        "Pure-FTPd binds one address per daemon, so `Bind {ip},{port}` keeps it {} only. \
         For both families write `,{port}` to conf/Bind (all addresses; with no Bind at all it listens on both), \
         or run a second instance bound to {other}",
        if ip.is_ipv4() { "IPv4" } else { "IPv6" }
    )
}

impl Plugin for PureFtpd {
    fn name(&self) -> &'static str {
        "pure-ftpd"
    }

    fn about(&self) -> &'static str {
        "Pure-FTPd (Debian conf/ files): both families, no reverse-lookup stalls"
    }

    fn needs(&self) -> &'static [Need] {
        &NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        let Some(opts) = load(host)? else {
            return Ok(Vec::new());
        };
        if opts.is_empty() {
            return Ok(vec![PathBuf::from(CONF_DIR)]);
        }
        Ok(opts.into_iter().map(|o| o.file.path).collect())
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let address = target.address().map(IpAddr::V6);
        let mut a = Analysis::new();
        let Some(opts) = load(host)? else {
            a.warn(format!(
                "{}: not found: Pure-FTPd (Debian's wrapper) is not installed here; nothing to do",
                host.display(Path::new(CONF_DIR))
            ));
            return Ok(a);
        };
        let finding = |sev, path: &Path, line, message: String, fix: Option<&str>| Finding {
            severity: sev,
            path: host.display(path),
            line,
            message,
            fix: fix.map(str::to_string),
        };
        let mut errors = problems(host, &opts);
        for e in &errors {
            a.finding(finding(
                Severity::Error,
                Path::new(CONF_DIR),
                None,
                format!("pure-ftpd-wrapper will not start the service: {e}"),
                None,
            ));
        }
        if errors.len() == 1 {
            a.invalid = Some(errors.remove(0));
        } else if !errors.is_empty() {
            let list: Vec<String> = errors.iter().map(|e| format!("\n  {e}")).collect();
            a.invalid = Some(Error::invalid(
                host.display(Path::new(CONF_DIR)),
                None,
                format!(
                    "{} files would stop pure-ftpd-wrapper:{}",
                    errors.len(),
                    list.concat()
                ),
            ));
        }
        let standalone = !inetd(host)?;
        if !standalone {
            a.note(format!(
                "{}: STANDALONE_OR_INETD=inetd: inetd owns the listening socket, so Bind, IPV4Only and IPV6Only do nothing; make inetd listen on IPv6 too",
                host.display(Path::new(DEFAULTS))
            ));
        }
        let show = |o: &Opt| host.display(&o.file.path);
        let line_of = |o: &Opt, at: usize| Some(o.file.line(at));

        // IPV4Only (and IPV6Only together with it). Off either way; a finding only where
        // pure-ftpd runs standalone, since under inetd the flag does nothing.
        let v4 = find(&opts, "IPV4Only").filter(|o| o.doc.boolean().unwrap_or(false));
        let v6 = find(&opts, "IPV6Only").filter(|o| o.doc.boolean().unwrap_or(false));
        if let Some(o) = v4 {
            if standalone {
                let line = o.doc.on_lines().first().and_then(|s| line_of(o, s.start));
                let (sev, msg) = if v6.is_some() {
                    (
                        Severity::Error,
                        "IPV4Only and IPV6Only are both on: pure-ftpd does not start (-4 -6)",
                    )
                } else {
                    (
                        Severity::Warning,
                        "IPV4Only is on: pure-ftpd listens on IPv4 only (-4)",
                    )
                };
                a.finding(finding(sev, &o.file.path, line, msg.into(), Some(FIX)));
            }
            turn_off(host, &mut a, o)?;
            a.note(format!(
                "{}: IPV4Only was on (-4: no IPv6 socket): now `no`, so pure-ftpd listens on IPv6 too",
                show(o)
            ));
            if let Some(o6) = v6 {
                turn_off(host, &mut a, o6)?;
                a.warn(format!(
                    "{} and {}: IPV4Only and IPV6Only were both on, and with -4 -6 pure-ftpd does not start at all (`Cannot assign requested address`): both are now `no`, so it listens on IPv4 and IPv6",
                    show(o),
                    show(o6)
                ));
            }
        } else if let Some(o6) = v6 {
            a.note(format!(
                "{}: IPV6Only is on: pure-ftpd listens on IPv6 only; left alone (write `no` there for IPv4 clients too)",
                show(o6)
            ));
        }

        // DontResolve.
        let resolve_finding = finding(
            Severity::Warning,
            &conf_path("DontResolve"),
            None,
            "DontResolve is off: every connection waits for a reverse lookup before the greeting, which stalls IPv6 clients without a PTR record".into(),
            Some(FIX),
        );
        match find(&opts, "DontResolve") {
            None => {
                a.finding(resolve_finding);
                let p = conf_path("DontResolve");
                a.create(&p, "yes\n".into());
                a.note(format!(
                    "{}: created with `yes` (-H): without it every connection waits for a reverse lookup before the greeting, and IPv6 clients often have no PTR record; logs show addresses instead of names",
                    host.display(&p)
                ));
            }
            Some(o) if !o.doc.boolean().unwrap_or(false) => {
                a.finding(resolve_finding);
                let e = a.edits(&o.file);
                match o.doc.values().next() {
                    Some(span) => e.replace(span, "yes"),
                    None => e.append_line(o.doc.src(), "yes"),
                }
                a.note(format!(
                    "{}: DontResolve was off: now `yes` (-H), so no connection waits for a reverse lookup; logs show addresses instead of names",
                    show(o)
                ));
            }
            Some(o) => a.note(format!("{}: DontResolve is already on", show(o))),
        }

        // Bind.
        let Some(o) = find(&opts, "Bind") else {
            a.restart(
                "pure-ftpd",
                "restart",
                "service pure-ftpd restart",
                "the wrapper turns conf/ into pure-ftpd's flags only when the service starts",
            );
            return Ok(a);
        };
        match o.doc.string() {
            Err(e) => {
                let e = host.parse_error(&o.file, e);
                a.finding(finding(
                    Severity::Error,
                    &o.file.path,
                    None,
                    e.to_string(),
                    None,
                ));
                a.invalid.get_or_insert(e);
            }
            Ok(None) => {}
            Ok(Some((v, span))) => {
                let line = line_of(o, span.start);
                match bind_fix(v) {
                    Err(m) => {
                        if standalone {
                            a.finding(finding(
                                Severity::Error,
                                &o.file.path,
                                line,
                                format!("Bind {m}"),
                                None,
                            ));
                        }
                        a.invalid.get_or_insert(Error::invalid(
                            show(o),
                            Some(v6fix_core::text::line_col(o.doc.src(), span.start)),
                            format!("Bind {m}"),
                        ));
                    }
                    Ok((fix, ip)) => {
                        let port = v.rsplit([',', ':']).next().unwrap_or("21");
                        match fix {
                            BindFix::AllAddresses => a.note_at(&o.file, span.start, format!("Bind `{v}` names no address, so pure-ftpd binds IPv4 and IPv6: left alone"
                            )),
                            BindFix::Rewrite { new, why } => {
                                if standalone {
                                    a.finding(finding(
                                        Severity::Warning,
                                        &o.file.path,
                                        line,
                                        format!("Bind `{v}`: {why}"),
                                        Some(FIX),
                                    ));
                                }
                                a.edits(&o.file).replace(span.clone(), new.clone());
                                a.note_at(&o.file, span.start, format!("Bind `{v}` is now `{new}`: {why}"));
                            }
                            BindFix::OneFamily { ip } => {
                                if standalone && ip.is_ipv4() {
                                    a.finding(finding(
                                        Severity::Warning,
                                        &o.file.path,
                                        line,
                                        format!("Bind `{v}` binds one IPv4 address: pure-ftpd is IPv4-only"),
                                        None,
                                    ));
                                }
                            }
                            BindFix::Name(h) => a.note_at(&o.file, span.start, format!("Bind `{v}` names a host: pure-ftpd binds the first address of each family `{h}` resolves to at start; left alone"
                            )),
                        }
                        if let Some(ip) = ip.filter(|ip| !ip.is_unspecified()) {
                            let advice = bind_advice(ip, port, address);
                            if ip.is_ipv4() {
                                a.warn_at(&o.file, span.start, advice);
                            } else {
                                a.note_at(&o.file, span.start, advice);
                            }
                        }
                    }
                }
            }
        }
        a.restart(
            "pure-ftpd",
            "restart",
            "service pure-ftpd restart",
            "the wrapper turns conf/ into pure-ftpd's flags only when the service starts",
        );
        Ok(a)
    }
}

/// Writes `no` over every line of `o` that turns the option on (the wrapper would read
/// the next one once the first is off). Refuses when a later line the wrapper never
/// reached until now is not a boolean: with the lines before it `no`, it would stop
/// pure-ftpd.
fn turn_off(host: &Host, a: &mut Analysis, o: &Opt) -> Result<()> {
    let src = o.doc.src();
    if let Some(v) = o
        .doc
        .values()
        .find(|v| pureftpd::parse_bool(&src[v.clone()]).is_none())
    {
        let why = ParseError::new(
            v.start,
            format!("`{}`", &src[v.clone()]),
            "yes or no: once the lines before it are `no`, as v6fix would write them, the wrapper \
             reads this one, and anything but a boolean stops pure-ftpd",
        );
        return Err(host.parse_error(&o.file, why));
    }
    let e = a.edits(&o.file);
    for span in o.doc.on_lines() {
        e.replace(span, "no");
    }
    Ok(())
}

/// The command that fixes what this plugin finds.
const FIX: &str = "v6fix pure-ftpd";

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(v: &str) -> Option<String> {
        match bind_fix(v).unwrap().0 {
            BindFix::Rewrite { new, .. } => Some(new),
            _ => None,
        }
    }

    #[test]
    fn bind_values() {
        assert_eq!(rewrite("0.0.0.0,21").as_deref(), Some(",21"));
        assert_eq!(rewrite("[::],21").as_deref(), Some(",21"));
        assert_eq!(rewrite("::,2121").as_deref(), Some(",2121"));
        assert_eq!(rewrite("[::]:21").as_deref(), Some(",21"));
        assert_eq!(rewrite("[::1],21").as_deref(), Some("::1,21"));
        assert_eq!(rewrite("127.0.0.1:21").as_deref(), Some("127.0.0.1,21"));
        assert_eq!(rewrite(",21"), None);
        assert_eq!(rewrite("21"), None);
        assert_eq!(bind_fix(",21").unwrap().0, BindFix::AllAddresses);
        assert!(matches!(
            bind_fix("192.0.2.21,21").unwrap().0,
            BindFix::OneFamily { .. }
        ));
        assert!(matches!(
            bind_fix("ftp.example.org,21").unwrap().0,
            BindFix::Name(_)
        ));
        assert!(bind_fix("::1:2121").is_err());
    }
}
