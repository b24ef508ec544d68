//! `v6fix dovecot [--address ADDR…]`: makes Dovecot listen on IPv4 and IPv6.
//!
//! Reads `/etc/dovecot/dovecot.conf` and everything it includes, in Dovecot's order, finds
//! the effective `listen` (the last one read wins) and every `inet_listener`'s `address`,
//! and gives each list the family it lacks:
//! - `*` gets `::` beside it (2.x; `[::]` in 1.x); `::` alone is IPv6-only (Dovecot sets
//!   IPV6_V6ONLY on it), so it gets `*` before it;
//! - `127.0.0.1` gets `::1`;
//! - any other IPv4 address gets the IPv6 address(es) given with `--address`. Without
//!   `--address` it is left alone with a warning: an address the host lacks stops Dovecot.
//!
//! Dovecot 1.x is told from the config's own syntax, and the note says which was assumed.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use v6fix_core::config_set::{ConfigSet, Include, Missing};
use v6fix_core::dialect::dovecot::{self, split_list, Doc, Kind};
use v6fix_core::endpoint::{self, Bind, Endpoint, Spelling, Twin};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{policy, Analysis, Args, File, Finding, Host, Plugin, Prefix, Result, Severity};

const CONF: &str = "/etc/dovecot/dovecot.conf";

/// Enclosing sections, outermost first: `(name, arg)`.
type SectionPath = Vec<(String, Option<String>)>;

pub(crate) struct Dovecot;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Dovecot) }

static NEEDS: [Need; 1] = [Need::new(
    Fact::Address,
    "This host's IPv6 address, added beside IPv4-specific listen addresses",
)
.multiple()
.alias("listen")];

/// One item of the configuration, in the order Dovecot reads it.
struct Entry {
    file: usize,
    item: usize,
    /// Sections the including `!include` sat in (the file's own ones come from its Doc).
    outer: SectionPath,
}

/// dovecot.conf and every file it includes, parsed.
struct Conf {
    files: Vec<(File, Doc)>,
    seq: Vec<Entry>,
    /// `!include_try` patterns that named no file.
    notes: Vec<String>,
}

impl Conf {
    fn path(&self, e: &Entry) -> SectionPath {
        let doc = &self.files[e.file].1;
        let mut p = e.outer.clone();
        p.extend(
            doc.path(e.item)
                .into_iter()
                .map(|(n, a)| (n.to_string(), a.map(str::to_string))),
        );
        p
    }

    fn at(&self, host: &Host, file: usize, offset: usize) -> String {
        host.locate(&self.files[file].0, offset)
    }
}

fn load(host: &Host) -> Result<Option<Conf>> {
    let includes = |file: &File, doc: &Doc| {
        let dir = file.path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let mut out = Vec::new();
        for (i, it) in doc.items().iter().enumerate() {
            if let Kind::Include { path, optional } = &it.kind {
                // Relative to the including file; `!include` refuses a pattern that
                // matches nothing (`No matches`), `!include_try` goes on.
                let text = doc.src()[it.span.clone()].trim();
                out.push(
                    Include::new(i, it.span.start, text, path.as_str(), &dir).missing(
                        if *optional {
                            Missing::Note
                        } else {
                            Missing::Error
                        },
                    ),
                );
            }
        }
        out
    };
    let Some(set) = ConfigSet::load(host, "Dovecot", Path::new(CONF), dovecot::parse, includes)?
    else {
        return Ok(None);
    };
    let mut seq = Vec::new();
    expand(&set, 0, &[], &mut seq);
    Ok(Some(Conf {
        notes: set.notes,
        files: set.files.into_iter().map(|m| (m.file, m.doc)).collect(),
        seq,
    }))
}

/// The items of file `fi` in the order Dovecot reads them, each include expanded where it
/// stands (a file included twice is read twice), inside the sections it sits in.
fn expand(
    set: &ConfigSet<Doc>,
    fi: usize,
    outer: &[(String, Option<String>)],
    seq: &mut Vec<Entry>,
) {
    let doc = &set.files[fi].doc;
    for (item, it) in doc.items().iter().enumerate() {
        seq.push(Entry {
            file: fi,
            item,
            outer: outer.to_vec(),
        });
        if !matches!(it.kind, Kind::Include { .. }) {
            continue;
        }
        let mut ctx = outer.to_vec();
        ctx.extend(
            doc.path(item)
                .into_iter()
                .map(|(n, a)| (n.to_string(), a.map(str::to_string))),
        );
        for j in set.included(fi, item) {
            expand(set, j, &ctx, seq);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// Tells Dovecot 1.x from 2.x by the config's own syntax; says what it went by.
fn version(host: &Host, conf: &Conf) -> (Version, String) {
    let mut v1 = None;
    for e in &conf.seq {
        let doc = &conf.files[e.file].1;
        let it = &doc.items()[e.item];
        let at = || conf.at(host, e.file, it.span.start);
        let text = || doc.src()[it.span.clone()].trim().to_string();
        match &it.kind {
            Kind::Include { .. } => return (Version::V2, format!("`{}` at {}", text(), at())),
            Kind::Open { name, .. } if name == "service" || name == "inet_listener" => {
                return (Version::V2, format!("`{}` at {}", text(), at()))
            }
            Kind::Open { name, arg } if name == "auth" && arg.as_deref() == Some("default") => {
                v1.get_or_insert_with(|| format!("`{}` at {}", text(), at()));
            }
            Kind::Setting(s) => {
                let old = matches!(
                    s.key.as_str(),
                    "ssl_listen" | "ssl_disable" | "login_dir" | "login_chroot"
                ) || (s.key == "protocols"
                    && split_list(&s.value)
                        .iter()
                        .any(|p| *p == "imaps" || *p == "pop3s"))
                    || (s.key == "listen" && split_list(&s.value).iter().any(|t| has_port(t)));
                if old {
                    v1.get_or_insert_with(|| format!("`{}` at {}", text(), at()));
                }
            }
            _ => {}
        }
    }
    match v1 {
        Some(why) => (Version::V1, why),
        None => (
            Version::V2,
            "no version-specific syntax found; Debian has shipped 2.x since wheezy".into(),
        ),
    }
}

/// A 1.x `listen` token with a port: `*:143`, `[::]:143`, `192.0.2.1:143`.
fn has_port(t: &str) -> bool {
    if let Some(r) = t.strip_prefix('[') {
        return r.contains("]:");
    }
    t.matches(':').count() == 1
}

/// One address of a listen list, as Dovecot reads it (1.x may add `:port`).
fn token(t: &str) -> Endpoint {
    Endpoint::parse(t, &Spelling::PLAIN).unwrap_or(Endpoint {
        bind: Bind::Name(t.to_string()),
        port: None,
        bracketed: None,
    })
}

/// What to do with one listen list.
#[derive(Debug, Default)]
struct Fix {
    /// The new list, when it changes.
    new: Option<String>,
    /// IPv4-specific addresses that need an IPv6 twin which `--address` did not give.
    need_address: Vec<String>,
    /// Only specific IPv6 addresses: IPv4 stays off (v6fix does not invent an address).
    v6_only: bool,
    /// Holds host names: what they resolve to is not known here.
    names: bool,
    /// Already has both families.
    dual: bool,
    /// `--address` addresses were added.
    used_listen: bool,
}

fn plan_list(raw: &str, value: &str, v: Version, extra: &[Ipv6Addr]) -> Fix {
    let toks = split_list(value);
    let parsed: Vec<Endpoint> = toks.iter().map(|t| token(t)).collect();
    let has4 = parsed.iter().any(Endpoint::is_ipv4_only);
    let has6 = parsed.iter().any(Endpoint::serves_ipv6);
    let mut fix = Fix {
        names: parsed.iter().any(|e| matches!(e.bind, Bind::Name(_))),
        ..Fix::default()
    };
    if has4 && has6 {
        fix.dual = true;
        return fix;
    }
    // 1.x brackets IPv6 addresses in listen; 2.x writes them bare.
    let spell = |e: &Endpoint| e.render(v == Version::V1);
    let mut front: Vec<String> = Vec::new();
    let mut back: Vec<String> = Vec::new();
    let push = |list: &mut Vec<String>, t: String| {
        if !list.contains(&t) {
            list.push(t);
        }
    };
    if has4 {
        for e in &parsed {
            match endpoint::twin(e, None, &Bind::AnyV6) {
                Twin::Have(t) => push(&mut back, spell(&t)),
                Twin::NeedAddress if extra.is_empty() => {
                    fix.need_address.push(e.render(false));
                }
                Twin::NeedAddress => {
                    for x in extra {
                        if let Twin::Have(t) = endpoint::twin(e, Some(*x), &Bind::AnyV6) {
                            let before = back.len();
                            push(&mut back, spell(&t));
                            fix.used_listen |= back.len() > before;
                        }
                    }
                }
                Twin::None => {}
            }
        }
    } else if has6 {
        for e in &parsed {
            let port = e
                .port
                .as_deref()
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            match &e.bind {
                Bind::AnyV6 => push(&mut front, format!("*{port}")),
                Bind::V6(ip) if ip.is_loopback() => push(&mut front, format!("127.0.0.1{port}")),
                Bind::V6(_) => fix.v6_only = true,
                _ => {}
            }
        }
    }
    if front.is_empty() && back.is_empty() {
        return fix;
    }
    let sep = dovecot::list_separator(raw);
    let mut all: Vec<String> = front;
    all.extend(toks.iter().map(|t| t.to_string()));
    all.extend(back);
    let joined = all.join(sep);
    fix.new = Some(joined);
    fix
}

/// A setting whose value is a listen list: the effective `listen`/`ssl_listen` of each
/// section path, and each `inet_listener`'s effective `address`.
struct ListenSetting {
    file: usize,
    item: usize,
    key: String,
    /// Where it sits, for messages: `listen` or `service imap-login / inet_listener imap`.
    place: String,
    /// Earlier definitions it overrides: (file, item).
    overridden: Vec<(usize, usize)>,
}

fn targets(conf: &Conf, v: Version) -> Vec<ListenSetting> {
    let mut out: Vec<ListenSetting> = Vec::new();
    let mut keys: Vec<(String, SectionPath)> = Vec::new();
    for e in &conf.seq {
        let doc = &conf.files[e.file].1;
        let Some(s) = doc.setting(e.item) else {
            continue;
        };
        let path = conf.path(e);
        let listener = path.last().is_some_and(|(n, _)| n == "inet_listener");
        let wanted = match s.key.as_str() {
            "listen" => true,
            "ssl_listen" => v == Version::V1,
            "address" => listener,
            _ => false,
        };
        if !wanted {
            continue;
        }
        let k = (s.key.clone(), path.clone());
        let place = path
            .iter()
            .map(|(n, a)| match a {
                Some(a) => format!("{n} {a}"),
                None => n.clone(),
            })
            .collect::<Vec<_>>()
            .join(" / ");
        match keys.iter().position(|x| *x == k) {
            Some(i) => {
                let t = &mut out[i];
                t.overridden.push((t.file, t.item));
                t.file = e.file;
                t.item = e.item;
            }
            None => {
                keys.push(k);
                out.push(ListenSetting {
                    file: e.file,
                    item: e.item,
                    key: s.key.clone(),
                    place,
                    overridden: Vec::new(),
                });
            }
        }
    }
    out
}

/// Debian's commented `#listen = VALUE` right above target `t` (a top-level `listen` in
/// dovecot.conf without a trailing comment), when VALUE is the fixed value.
fn debian_comment(conf: &Conf, t: &ListenSetting, new: &str) -> Option<dovecot::Commented> {
    let (file, doc) = &conf.files[t.file];
    if t.key != "listen" || !t.place.is_empty() || file.path != Path::new(CONF) || t.item == 0 {
        return None;
    }
    let s = doc.setting(t.item)?;
    let line = doc.src()[doc.items()[t.item].span.clone()].trim_end();
    if !line.ends_with(&doc.src()[s.value_span.clone()]) {
        return None; // a trailing comment would be lost
    }
    doc.commented("listen")
        .into_iter()
        .find(|c| c.item + 1 == t.item && split_list(&c.value) == split_list(new))
}

/// `` `listen = *` `` or `` `address = 192.0.2.10` (in service imap-login / inet_listener imap) ``.
fn describe(key: &str, value: &str, place: &str) -> String {
    if place.is_empty() {
        format!("`{key} = {value}`")
    } else {
        format!("`{key} = {value}` (in {place})")
    }
}

impl Plugin for Dovecot {
    fn name(&self) -> &'static str {
        "dovecot"
    }

    fn about(&self) -> &'static str {
        "Dovecot: listen on IPv4 and IPv6 (listen, inet_listener address)"
    }

    fn needs(&self) -> &'static [Need] {
        &NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        let Some(conf) = load(host)? else {
            return Ok(Vec::new());
        };
        Ok(conf.files.iter().map(|(f, _)| f.path.clone()).collect())
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let extra = target.address_ips();
        let mut plan = Analysis::new();
        let Some(conf) = load(host)? else {
            plan.warn(format!(
                "{}: not found: Dovecot is not installed here; nothing to do",
                host.display(Path::new(CONF))
            ));
            return Ok(plan);
        };
        for n in &conf.notes {
            plan.note(n.clone());
        }
        let (v, why) = version(host, &conf);
        plan.note(match v {
            Version::V2 => format!(
                "assumed Dovecot 2.x syntax ({why}): both families are `*, ::` (`::` alone is IPv6-only)"
            ),
            Version::V1 => format!(
                "assumed Dovecot 1.x syntax ({why}): both families are `*, [::]` (`[::]` alone is IPv6-only since 1.1)"
            ),
        });
        let mut used_listen = false;
        let ts = targets(&conf, v);
        for t in &ts {
            let (file, doc) = &conf.files[t.file];
            let Some(s) = doc.setting(t.item) else {
                continue;
            };
            let at = host.locate(file, s.key_span.start);
            let what = describe(&t.key, &s.value, &t.place);
            for &(f, i) in &t.overridden {
                let (of, od) = &conf.files[f];
                if let Some(os) = od.setting(i) {
                    plan.note(format!(
                        "{}: {} is overridden by {at} (the last one read wins): left alone",
                        host.locate(of, os.key_span.start),
                        describe(&t.key, &os.value, &t.place)
                    ));
                }
            }
            if s.from_file || s.value.contains('$') {
                plan.warn_at(
                    file,
                    s.key_span.start,
                    format!("{what} is read from elsewhere when Dovecot starts: not checked; make sure it has IPv4 and IPv6"),
                );
                continue;
            }
            if s.value.is_empty() {
                if t.key == "address" {
                    plan.note_at(
                        file,
                        s.key_span.start,
                        format!(
                            "`address` is empty (in {}): this listener uses `listen`",
                            t.place
                        ),
                    );
                }
                continue;
            }
            let raw = &doc.src()[s.value_span.clone()];
            // The finding judges the list as it is, without this run's addresses.
            let found = plan_list(raw, &s.value, v, &[]);
            let fix = plan_list(raw, &s.value, v, &extra);
            // An IPv4 address without its twin stays so after the run: said once, below.
            let lasts = !fix.need_address.is_empty();
            if !found.dual && !lasts && (found.new.is_some() || !found.need_address.is_empty()) {
                let v6_only = split_list(&s.value).iter().all(|x| token(x).serves_ipv6());
                let message = if v6_only {
                    format!(
                        "{what} listens on IPv6 only (Dovecot sets IPV6_V6ONLY on IPv6 sockets)"
                    )
                } else {
                    format!("{what} keeps Dovecot IPv4-only")
                };
                let fix_cmd = if found.need_address.is_empty() {
                    "v6fix dovecot"
                } else {
                    "v6fix dovecot --address <this host's IPv6 address>"
                };
                plan.finding(Finding {
                    severity: Severity::Warning,
                    path: host.display(&file.path),
                    line: Some(file.line(s.key_span.start)),
                    message,
                    fix: Some(fix_cmd.to_string()),
                });
            }
            if let (true, [address]) = (fix.new.is_some(), extra.as_slice()) {
                // Several IPv4-specific addresses in one list would all get the one
                // --address twin: refused, naming them.
                let specific: Vec<endpoint::Specific> = split_list(&s.value)
                    .iter()
                    .filter_map(|x| {
                        let e = token(x);
                        let Bind::V4(ip) = e.bind else { return None };
                        Some(endpoint::Specific {
                            ip,
                            port: e.port.clone().unwrap_or_default(),
                            text: format!("`{}`", e.render(false)),
                            at: at.clone(),
                        })
                    })
                    .collect();
                if let Some(group) = endpoint::collapsing(&specific).first() {
                    let msg = endpoint::collapse_message(group, *address, &format!("`{address}`"));
                    plan.refuse(file, s.value_span.start, format!("{what}: {msg}"));
                }
            }
            used_listen |= fix.used_listen;
            if fix.names {
                plan.note_at(file, s.key_span.start, format!("{what} names a host: Dovecot binds what it resolves to at start; check that it has IPv4 and IPv6 addresses"
                ));
            }
            if fix.dual {
                plan.note_at(
                    file,
                    s.key_span.start,
                    format!("{what} already listens on IPv4 and IPv6: left alone"),
                );
            }
            if fix.v6_only {
                plan.warn_at(
                    file,
                    s.key_span.start,
                    format!("{what} listens on specific IPv6 addresses only: IPv4 clients cannot connect; add this host's IPv4 address if they should (v6fix does not invent one)"),
                );
            }
            if lasts {
                let ips = fix.need_address.join(", ");
                plan.lasting(
                    file,
                    s.key_span.start,
                    Severity::Warning,
                    format!("{what} listens on IPv4 address {ips} only: its IPv6 twin needs this host's IPv6 address; v6fix does not guess one, because an address the host lacks stops Dovecot"),
                    "v6fix dovecot --address <this host's IPv6 address>",
                );
            }
            if let Some(new) = fix.new {
                if let Some(c) = debian_comment(&conf, t, &new) {
                    // Debian's `#listen = *, ::` sits right above: that is where the
                    // setting belongs, so uncomment it and drop the line that overrode it.
                    let item = &doc.items()[t.item];
                    plan.edits(file).replace(c.marker.clone(), "");
                    plan.edits(file).replace(item.span.clone(), "");
                    plan.note_at(file, s.key_span.start, format!("{what} did not cover both families: uncommented Debian's `listen = {new}` above it instead"
                    ));
                    continue;
                }
                let value = if s.quoted {
                    format!("\"{new}\"")
                } else {
                    new.clone()
                };
                doc.set_value(t.item, &value, plan.edits(file));
                plan.note_at(
                    file,
                    s.key_span.start,
                    format!("{what} did not cover both families: now `{new}`"),
                );
            }
        }
        // Networks trusted to log in from (proxies; their clients' IPs are believed).
        for (file, doc) in &conf.files {
            for i in 0..doc.items().len() {
                let Some(s) = doc.setting(i) else { continue };
                if s.key != "login_trusted_networks" || s.from_file {
                    continue;
                }
                for entry in split_list(&s.value) {
                    let Some(why) = Prefix::parse_any(entry)
                        .ok()
                        .filter(Prefix::is_ipv6)
                        .and_then(|p| policy::acl_entry(&p))
                    else {
                        continue;
                    };
                    plan.finding(Finding {
                        severity: Severity::Error,
                        path: host.display(&file.path),
                        line: Some(file.line(s.key_span.start)),
                        message: format!(
                            "login_trusted_networks: `{entry}` trusts too much: {why}; list the site's own proxies instead"
                        ),
                        fix: None,
                    });
                }
            }
        }
        // Dovecot 1.x without a `listen` listens on IPv4 only: write one where it belongs.
        if v == Version::V1 && !ts.iter().any(|t| t.key == "listen" && t.place.is_empty()) {
            let main = conf
                .files
                .iter()
                .position(|(f, _)| f.path == Path::new(CONF))
                .unwrap_or(0);
            let (file, doc) = &conf.files[main];
            plan.finding(Finding {
                severity: Severity::Warning,
                path: host.display(Path::new(CONF)),
                line: None,
                message: "no `listen`: Dovecot 1.x then listens on IPv4 only (`*`)".into(),
                fix: Some("v6fix dovecot".into()),
            });
            let want = "*, [::]";
            let commented = doc.commented("listen");
            if let Some(c) = commented
                .iter()
                .find(|c| split_list(&c.value) == split_list(want))
            {
                plan.edits(file).replace(c.marker.clone(), "");
                plan.note_at(file, c.marker.start, format!("no `listen` was set, so Dovecot 1.x listened on IPv4 only: uncommented `listen = {want}`"
                ));
            } else if let Some(c) = commented.last() {
                let start = doc.items()[c.item].span.start;
                plan.edits(file)
                    .insert_line_after(doc.src(), start, &format!("listen = {want}"));
                plan.note_at(file, start, format!("no `listen` was set, so Dovecot 1.x listened on IPv4 only: added `listen = {want}` below the commented one"
                ));
            } else {
                plan.edits(file)
                    .append_line(doc.src(), &format!("listen = {want}"));
                plan.note(format!(
                    "{}: no `listen` was set, so Dovecot 1.x listened on IPv4 only: added `listen = {want}`",
                    host.display(&file.path)
                ));
            }
        } else if v == Version::V2 && !ts.iter().any(|t| t.key == "listen") {
            plan.note(
                "no `listen` is set: Dovecot's default `*, ::` already listens on IPv4 and IPv6",
            );
        }
        if !extra.is_empty() && !used_listen {
            let list: Vec<String> = extra.iter().map(ToString::to_string).collect();
            plan.note(format!(
                "the host address {} was not needed: no listener is bound to a specific IPv4 address without an IPv6 one",
                list.join(", ")
            ));
        }
        plan.restart(
            "dovecot",
            "reload",
            "doveadm reload",
            "a reload re-reads the config and re-binds the listeners, `listen` included",
        );
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(value: &str, v: Version, extra: &[&str]) -> Fix {
        let extra: Vec<Ipv6Addr> = extra.iter().map(|x| x.parse().unwrap()).collect();
        plan_list(value, value, v, &extra)
    }

    #[test]
    fn lists_get_the_missing_family() {
        assert_eq!(fix("*", Version::V2, &[]).new.as_deref(), Some("*, ::"));
        assert_eq!(
            fix("0.0.0.0", Version::V2, &[]).new.as_deref(),
            Some("0.0.0.0, ::")
        );
        assert_eq!(fix("::", Version::V2, &[]).new.as_deref(), Some("*, ::"));
        assert_eq!(
            fix("[::]", Version::V2, &[]).new.as_deref(),
            Some("*, [::]")
        );
        assert_eq!(fix("*,::", Version::V2, &[]).new, None);
        assert!(fix("* ::", Version::V2, &[]).dual);
        assert_eq!(fix("*", Version::V1, &[]).new.as_deref(), Some("*, [::]"));
        assert_eq!(
            fix("*:143", Version::V1, &[]).new.as_deref(),
            Some("*:143, [::]:143")
        );
        assert_eq!(
            fix("127.0.0.1", Version::V2, &[]).new.as_deref(),
            Some("127.0.0.1, ::1")
        );
        assert_eq!(
            fix("192.0.2.10", Version::V2, &["2001:db8::10"])
                .new
                .as_deref(),
            Some("192.0.2.10, 2001:db8::10")
        );
        assert_eq!(
            fix("192.0.2.10", Version::V1, &["2001:db8::10"])
                .new
                .as_deref(),
            Some("192.0.2.10, [2001:db8::10]")
        );
        let f = fix("192.0.2.10", Version::V2, &[]);
        assert_eq!(f.new, None);
        assert_eq!(f.need_address, vec!["192.0.2.10"]);
        assert!(fix("2001:db8::10", Version::V2, &[]).v6_only);
        assert!(fix("mail.example.org", Version::V2, &[]).names);
        assert_eq!(
            fix("192.0.2.10,127.0.0.1", Version::V2, &["2001:db8::10"])
                .new
                .as_deref(),
            Some("192.0.2.10,127.0.0.1,2001:db8::10,::1")
        );
    }
}
