//! `v6fix postfix --network PREFIX… [--address ADDR]`: makes Postfix dual-stack.
//!
//! - `inet_protocols` enables IPv6 (`ipv4` becomes `all`; an absent one is set to `all`,
//!   since the compiled-in default differs across versions). The last definition is the
//!   one edited; earlier ones are reported.
//! - Each `--network` is added to `mynetworks` where the list keeps its networks: a
//!   `/file/name` list (preferred), else a `cidr:` table, else the value in main.cf; as
//!   `[2001:db8::]/64` in lists and bare `2001:db8::/64 RESULT` in cidr tables. A network
//!   already listed in any spelling, or covered by a wider entry, is not added again.
//! - Entries that break Postfix in any network list (a bare IPv6 token, read as a lookup
//!   table: 451 for every client; host bits after the length) are rewritten.
//! - With `--address`, `inet_interfaces` that names IPv4 addresses gains the IPv6 one
//!   (and `[::1]` next to `127.0.0.1`), and a set `smtp_bind_address` gets
//!   `smtp_bind_address6`. A master.cf service bound to an IPv4 address gets an IPv6
//!   sibling with the same settings (`[::1]` next to a loopback one).
//!
//! Decisions: when mynetworks is not set, Postfix derives it from mynetworks_style and v6fix
//! adds no explicit line (that would change what is trusted over IPv4 too); it says what
//! the style does for IPv6. A `/file/name` list that does not exist is an error: Postfix
//! cannot read it either, and v6fix does not guess which IPv4 networks belong in it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use v6fix_core::addr::{parse_ip, split_host_port, Style};
use v6fix_core::dialect::postfix::{self as pf, CidrDoc, Doc, ListDoc, Param};
use v6fix_core::text::Span;
use v6fix_core::{
    ArgSpec, Args, Edits, Error, File, Finding, Host, Plan, Plugin, Prefix, Result, Severity,
};

pub(crate) struct Postfix;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Postfix) }

const MAIN_CF: &str = "/etc/postfix/main.cf";
const MASTER_CF: &str = "/etc/postfix/master.cf";
const FIX: &str = "v6fix postfix --network PREFIX";
const RESTART_WHY: &str = "a reload ignores inet_protocols and inet_interfaces";

/// Parameters whose values are network-pattern lists (postconf(5): IPv6 inside `[]`).
const NETWORK_LISTS: &[&str] = &[
    "mynetworks",
    "permit_mx_backup_networks",
    "debug_peer_list",
    "smtpd_authorized_xclient_hosts",
    "smtpd_authorized_xforward_hosts",
    "smtpd_authorized_verp_clients",
    "smtpd_sasl_exceptions_networks",
    "smtpd_client_event_limit_exceptions",
    "smtpd_forbid_bare_newline_exclusions",
    "postscreen_allowlist_interfaces",
    "postscreen_whitelist_interfaces",
];

/// Lookup table types Postfix knows (postconf -m, plus the dynamically loaded ones).
const TABLE_TYPES: &[&str] = &[
    "btree",
    "cdb",
    "cidr",
    "dbm",
    "environ",
    "fail",
    "hash",
    "inline",
    "internal",
    "ldap",
    "lmdb",
    "memcache",
    "mongodb",
    "mysql",
    "netinfo",
    "nis",
    "nisplus",
    "pcre",
    "pgsql",
    "pipemap",
    "proxy",
    "randmap",
    "regexp",
    "sdbm",
    "socketmap",
    "sqlite",
    "static",
    "tcp",
    "texthash",
    "unionmap",
    "unix",
];

impl Plugin for Postfix {
    fn name(&self) -> &'static str {
        "postfix"
    }

    fn about(&self) -> &'static str {
        "Postfix: inet_protocols, mynetworks (inline, /file lists, cidr tables), inet_interfaces, master.cf"
    }

    fn args(&self) -> &'static [ArgSpec] {
        const ARGS: &[ArgSpec] = &[
            ArgSpec::value(
                "network",
                "PREFIX",
                "A site network to trust for relaying (mynetworks), e.g. 2001:db8::/64",
            )
            .multiple()
            .required(),
            ArgSpec::value(
                "address",
                "ADDR",
                "This host's IPv6 address: added where inet_interfaces names IPv4 addresses, and as smtp_bind_address6",
            ),
        ];
        ARGS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        let Some(conf) = Conf::load(host)? else {
            return Ok(Vec::new());
        };
        let mut out = vec![PathBuf::from(MAIN_CF)];
        if host.exists(Path::new(MASTER_CF)) {
            out.push(PathBuf::from(MASTER_CF));
        }
        let mut tables = Tables::default();
        for name in NETWORK_LISTS {
            for e in conf.walk(name, &mut tables)? {
                if let Elem::File(p) | Elem::Cidr(p) = &e.elem {
                    if host.exists(p) && !out.contains(p) {
                        out.push(p.clone());
                    }
                }
            }
        }
        Ok(out)
    }

    fn audit(&self, host: &Host) -> Result<Vec<Finding>> {
        let Some(conf) = Conf::load(host)? else {
            return Ok(Vec::new());
        };
        conf.audit()
    }

    fn plan(&self, host: &Host, args: &Args) -> Result<Plan> {
        let networks = args.networks("network")?;
        if networks.is_empty() {
            return Err(Error::usage("--network is required"));
        }
        let address = args.ipv6("address")?;
        let Some(conf) = Conf::load(host)? else {
            return Err(Error::invalid(
                host.display(Path::new(MAIN_CF)),
                None,
                "not found: Postfix is not installed (or not configured) under this root",
            ));
        };
        let mut st = State::new(&conf);
        conf.inet_protocols(&mut st);
        conf.fix_lists(&mut st)?;
        conf.mynetworks(&mut st, &networks)?;
        conf.interfaces(&mut st, address);
        conf.master(&mut st, address)?;
        Ok(st.finish())
    }
}

// ---------------------------------------------------------------------------------------
// Reading: main.cf and the lists and tables it names
// ---------------------------------------------------------------------------------------

struct Conf<'h> {
    host: &'h Host,
    main: File,
    doc: Doc,
}

/// What one element of a network list is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Elem {
    /// A network or address Postfix matches.
    Net {
        prefix: Prefix,
        negated: bool,
    },
    /// A spelling that breaks Postfix; `fixed` is the right one.
    Broken {
        prefix: Prefix,
        negated: bool,
        fixed: String,
        why: Why,
    },
    File(PathBuf),
    Cidr(PathBuf),
    /// Another lookup table (`hash:`, `cidr:{…}`, …).
    Table(String),
    /// A `type:name` whose type Postfix does not know (451 for every client).
    UnknownType(String),
    /// A host or domain name, or anything else Postfix matches by name.
    Name,
    /// An element built from `${name?…}` forms v6fix does not evaluate.
    Unexpanded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    BareV6,
    HostBits,
}

/// One element with where its literal text lives.
#[derive(Debug, Clone)]
struct Entry {
    elem: Elem,
    text: String,
    /// The machine path of the file holding the literal.
    path: PathBuf,
    span: Span,
    /// The main.cf parameter holding it (None inside a list file or cidr table).
    param: Option<String>,
    /// False when the text came from expanding `$name` (the literal is elsewhere).
    editable: bool,
}

#[derive(Default)]
struct Tables {
    lists: BTreeMap<PathBuf, Option<(File, ListDoc)>>,
    cidrs: BTreeMap<PathBuf, Option<(File, CidrDoc)>>,
}

fn classify(text: &str, in_cidr: bool) -> Elem {
    let (negated, t) = match text.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let bang = if negated { "!" } else { "" };
    if t.starts_with('/') && !in_cidr {
        return Elem::File(PathBuf::from(t));
    }
    if let Some(inner) = t.strip_prefix('[') {
        let Ok(p) = Prefix::parse_any(t) else {
            return Elem::Name;
        };
        if p.has_host_bits() {
            let net = p.network();
            let fixed = if inner.contains("]/") {
                net.render(Style::BracketedV6)
            } else {
                format!("[{net}]")
            };
            return Elem::Broken {
                prefix: net,
                negated,
                fixed: format!("{bang}{fixed}"),
                why: Why::HostBits,
            };
        }
        return Elem::Net { prefix: p, negated };
    }
    if let Ok(p) = Prefix::parse(t) {
        let net = p.network();
        let had_len = t.contains('/');
        let bare_v6 = p.is_ipv6() && !in_cidr;
        let fixed = match (p.is_ipv6() && !in_cidr, had_len) {
            (true, true) => net.render(Style::BracketedV6),
            (true, false) => format!("[{}]", p.addr()),
            (false, _) => net.render(Style::Bare),
        };
        if bare_v6 {
            return Elem::Broken {
                prefix: net,
                negated,
                fixed: format!("{bang}{fixed}"),
                why: Why::BareV6,
            };
        }
        if p.has_host_bits() {
            return Elem::Broken {
                prefix: net,
                negated,
                fixed: format!("{bang}{fixed}"),
                why: Why::HostBits,
            };
        }
        return Elem::Net { prefix: p, negated };
    }
    if let Some((ty, rest)) = t.split_once(':') {
        if TABLE_TYPES.contains(&ty.to_ascii_lowercase().as_str()) {
            if ty.eq_ignore_ascii_case("cidr") && rest.starts_with('/') {
                return Elem::Cidr(PathBuf::from(rest));
            }
            return Elem::Table(t.to_string());
        }
        return Elem::UnknownType(ty.to_string());
    }
    Elem::Name
}

/// `$name` or `${name}` alone: the name.
fn whole_ref(t: &str) -> Option<&str> {
    let n = t.strip_prefix('$')?;
    let n = n
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(n);
    (!n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(n)
}

impl<'h> Conf<'h> {
    fn load(host: &'h Host) -> Result<Option<Conf<'h>>> {
        let Some(main) = host.read(Path::new(MAIN_CF))? else {
            return Ok(None);
        };
        let doc = pf::parse(&main.text).map_err(|e| host.parse_error(&main, e))?;
        Ok(Some(Conf { host, main, doc }))
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.doc.get(name) {
            return Some(v);
        }
        let default = match name {
            "config_directory" => "/etc/postfix",
            "queue_directory" => "/var/spool/postfix",
            "data_directory" => "/var/lib/postfix",
            "meta_directory" => "/etc/postfix",
            _ => return None,
        };
        Some(default.to_string())
    }

    fn locate(&self, file: &File, offset: usize) -> String {
        self.host.locate(file, offset)
    }

    /// The elements of list parameter `name` (last definition), following `$name`
    /// references to other parameters, `/file/name` lists and `cidr:` tables.
    fn walk(&self, name: &str, tables: &mut Tables) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        self.walk_param(name, tables, &mut out, &mut seen)?;
        Ok(out)
    }

    fn walk_param(
        &self,
        name: &str,
        tables: &mut Tables,
        out: &mut Vec<Entry>,
        seen: &mut BTreeSet<String>,
    ) -> Result<()> {
        if !seen.insert(name.to_string()) {
            return Ok(());
        }
        let Some(p) = self.doc.param(name) else {
            return Ok(());
        };
        for tok in self.doc.tokens(p) {
            if tok.is_comment() {
                break;
            }
            if let Some(r) = whole_ref(&tok.text) {
                if self.doc.param(r).is_some() {
                    self.walk_param(r, tables, out, seen)?;
                    continue;
                }
            }
            let editable = !tok.text.contains('$');
            let pieces: Vec<String> = if editable {
                vec![tok.text.clone()]
            } else {
                match pf::expand(&tok.text, &|n| self.lookup(n)) {
                    Some(x) => x
                        .split([' ', '\t', ','])
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    None => {
                        out.push(Entry {
                            elem: Elem::Unexpanded,
                            text: tok.text.clone(),
                            path: PathBuf::from(MAIN_CF),
                            span: tok.span.clone(),
                            param: Some(name.to_string()),
                            editable: false,
                        });
                        continue;
                    }
                }
            };
            for piece in pieces {
                let elem = classify(&piece, false);
                let here = Entry {
                    elem: elem.clone(),
                    text: piece,
                    path: PathBuf::from(MAIN_CF),
                    span: tok.span.clone(),
                    param: Some(name.to_string()),
                    editable,
                };
                out.push(here);
                match elem {
                    Elem::File(path) => self.walk_list(&path, tables, out)?,
                    Elem::Cidr(path) => self.walk_cidr(&path, tables, out)?,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn walk_list(&self, path: &Path, tables: &mut Tables, out: &mut Vec<Entry>) -> Result<()> {
        if !tables.lists.contains_key(path) {
            let loaded = match self.host.read(path)? {
                Some(f) => {
                    let d = pf::parse_list(&f.text).map_err(|e| self.host.parse_error(&f, e))?;
                    Some((f, d))
                }
                None => None,
            };
            tables.lists.insert(path.to_path_buf(), loaded);
        }
        let Some(Some((_, doc))) = tables.lists.get(path) else {
            return Ok(());
        };
        for tok in doc.entries() {
            out.push(Entry {
                elem: classify(&tok.text, false),
                text: tok.text.clone(),
                path: path.to_path_buf(),
                span: tok.span.clone(),
                param: None,
                editable: true,
            });
        }
        Ok(())
    }

    fn walk_cidr(&self, path: &Path, tables: &mut Tables, out: &mut Vec<Entry>) -> Result<()> {
        if !tables.cidrs.contains_key(path) {
            let loaded = match self.host.read(path)? {
                Some(f) => {
                    let d = pf::parse_cidr(&f.text).map_err(|e| self.host.parse_error(&f, e))?;
                    Some((f, d))
                }
                None => None,
            };
            tables.cidrs.insert(path.to_path_buf(), loaded);
        }
        let Some(Some((_, doc))) = tables.cidrs.get(path) else {
            return Ok(());
        };
        for r in doc.rules() {
            let text = doc.pattern(r);
            out.push(Entry {
                elem: classify(text, true),
                text: text.to_string(),
                path: path.to_path_buf(),
                span: r.pattern.clone(),
                param: None,
                editable: true,
            });
        }
        Ok(())
    }

    /// The file holding an entry, for positions in messages.
    fn file_of<'a>(&'a self, tables: &'a Tables, path: &Path) -> Option<&'a File> {
        if path == Path::new(MAIN_CF) {
            return Some(&self.main);
        }
        if let Some(Some((f, _))) = tables.lists.get(path) {
            return Some(f);
        }
        if let Some(Some((f, _))) = tables.cidrs.get(path) {
            return Some(f);
        }
        None
    }

    fn where_is(&self, tables: &Tables, e: &Entry) -> String {
        match self.file_of(tables, &e.path) {
            Some(f) => self.locate(f, e.span.start),
            None => self.host.display(&e.path),
        }
    }

    fn line_of(&self, tables: &Tables, path: &Path, offset: usize) -> Option<usize> {
        self.file_of(tables, path).map(|f| f.line_col(offset).line)
    }

    // -----------------------------------------------------------------------------------
    // Audit
    // -----------------------------------------------------------------------------------

    fn audit(&self) -> Result<Vec<Finding>> {
        let mut out = Vec::new();
        let main_path = self.host.display(Path::new(MAIN_CF));
        let at = |offset: usize| Some(self.main.line_col(offset).line);
        match self.doc.param("inet_protocols") {
            Some(p) if self.doc.tokens(p).iter().any(pf::Token::is_comment) => out.push(Finding {
                severity: Severity::Error,
                path: main_path.clone(),
                line: at(p.name_span.start),
                message: format!(
                    "inet_protocols = {}: Postfix refuses to start with a `#` note in this value (unknown inet_protocols value \"#\")",
                    self.doc.value(p)
                ),
                fix: Some(FIX.into()),
            }),
            Some(p) if !enables_ipv6(&self.doc, p) => out.push(Finding {
                severity: Severity::Warning,
                path: main_path.clone(),
                line: at(p.name_span.start),
                message: format!(
                    "inet_protocols = {} keeps Postfix IPv4-only: it neither listens nor connects over IPv6",
                    self.doc.value(p)
                ),
                fix: Some(FIX.into()),
            }),
            Some(_) => {}
            None => out.push(Finding {
                severity: Severity::Info,
                path: main_path.clone(),
                line: None,
                message: "inet_protocols is not set: the compiled-in default is `all` in current Postfix but `ipv4` in old versions".into(),
                fix: Some(FIX.into()),
            }),
        }

        let mut tables = Tables::default();
        let mut reported = BTreeSet::new();
        for name in NETWORK_LISTS {
            for e in self.walk(name, &mut tables)? {
                if !reported.insert((e.path.clone(), e.span.start, e.text.clone())) {
                    continue;
                }
                let path = self.host.display(&e.path);
                let line = self.line_of(&tables, &e.path, e.span.start);
                let finding = |message: String| Finding {
                    severity: Severity::Error,
                    path: path.clone(),
                    line,
                    message,
                    fix: Some(FIX.into()),
                };
                match &e.elem {
                    Elem::Broken { fixed, why, .. } => {
                        out.push(finding(format!(
                        "{}; write it as `{fixed}`",
                        broken_message(name, &e.text, *why)
                    )))
                    }
                    Elem::UnknownType(ty) => out.push(Finding {
                        fix: None,
                        ..finding(format!(
                            "`{}` in {name}: Postfix reads it as a lookup table of the unknown type `{ty}`, and every client whose check reaches it gets 451 4.3.0",
                            e.text
                        ))
                    }),
                    Elem::File(p) | Elem::Cidr(p) if !self.host.exists(p) => out.push(Finding {
                        fix: None,
                        ..finding(format!(
                            "{name} names {}, which does not exist: Postfix cannot open it",
                            self.host.display(p)
                        ))
                    }),
                    _ => {}
                }
            }
        }

        // The lost email: IPv4 networks trusted to relay, no IPv6 one.
        if self.doc.param("mynetworks").is_some() {
            let entries = self.walk("mynetworks", &mut tables)?;
            let nets: Vec<(&Entry, Prefix)> = entries
                .iter()
                .filter_map(|e| match &e.elem {
                    Elem::Net {
                        prefix,
                        negated: false,
                    }
                    | Elem::Broken {
                        prefix,
                        negated: false,
                        ..
                    } if !is_loopback(prefix) => Some((e, *prefix)),
                    _ => None,
                })
                .collect();
            let has_v6 = nets.iter().any(|(_, p)| p.is_ipv6());
            if let (false, Some((first, _))) = (has_v6, nets.first()) {
                let p = self.doc.param("mynetworks").expect("checked");
                out.push(Finding {
                    severity: Severity::Warning,
                    path: main_path.clone(),
                    line: at(p.name_span.start),
                    message: format!(
                        "mynetworks trusts IPv4 networks ({} …) but no IPv6 network: the same clients are refused relaying (554 Relay access denied) once they use IPv6",
                        first.text
                    ),
                    fix: Some(FIX.into()),
                });
            }
        }

        if let Some(p) = self.doc.param("inet_interfaces") {
            let tokens = live_tokens(&self.doc, p);
            let any_v6 = tokens.iter().any(|t| is_v6_text(&t.text));
            let v4: Vec<&str> = tokens
                .iter()
                .filter(|t| matches!(parse_ip(&t.text), Some(IpAddr::V4(_))))
                .map(|t| t.text.as_str())
                .collect();
            if !any_v6 && !v4.is_empty() {
                out.push(Finding {
                    severity: Severity::Warning,
                    path: main_path.clone(),
                    line: at(p.name_span.start),
                    message: format!(
                        "inet_interfaces = {} binds IPv4 addresses only: Postfix does not listen on IPv6",
                        self.doc.value(p)
                    ),
                    fix: Some("v6fix postfix --network PREFIX --address ADDR".into()),
                });
            }
        }
        self.audit_master(&mut out)?;
        Ok(out)
    }

    // -----------------------------------------------------------------------------------
    // Planning
    // -----------------------------------------------------------------------------------

    fn inet_protocols(&self, st: &mut State) {
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
            return;
        };
        self.warn_duplicates(st, "inet_protocols");
        let all_tokens = self.doc.tokens(p);
        let note = all_tokens.iter().any(pf::Token::is_comment);
        let live = live_tokens(&self.doc, p);
        let place = self.locate(&self.main, p.name_span.start);
        if enables_ipv6(&self.doc, p) && !note {
            st.note(format!(
                "{place}: inet_protocols = {} already enables IPv6: left alone",
                self.doc.value(p)
            ));
            return;
        }
        let value = if enables_ipv6(&self.doc, p) {
            live.iter()
                .map(|t| t.text.as_str())
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
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            if value == "all" {
                " (IPv4 and IPv6)"
            } else {
                ""
            }
        ));
        st.listeners_changed = true;
    }

    /// Warns about every definition of `name` before the last one, which Postfix ignores.
    fn warn_duplicates(&self, st: &mut State, name: &str) {
        let defs = self.doc.defs(name);
        let Some(last) = defs.last() else {
            return;
        };
        for d in &defs[..defs.len() - 1] {
            st.plan.warn(format!(
                "{}: {name} is defined again further down; Postfix uses only the last definition (line {}), which is the one v6fix edits",
                self.locate(&self.main, d.name_span.start),
                self.main.line_col(last.name_span.start).line
            ));
        }
    }

    /// Rewrites entries that break Postfix in every network list.
    fn fix_lists(&self, st: &mut State) -> Result<()> {
        let mut done = BTreeSet::new();
        for name in NETWORK_LISTS {
            let entries = self.walk(name, &mut st.tables)?;
            for e in entries {
                if !done.insert((e.path.clone(), e.span.start)) {
                    continue;
                }
                let place = self.where_is(&st.tables, &e);
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

    fn mynetworks(&self, st: &mut State, networks: &[Prefix]) -> Result<()> {
        let Some(p) = self.doc.param("mynetworks") else {
            self.mynetworks_unset(st, networks);
            return Ok(());
        };
        self.warn_duplicates(st, "mynetworks");
        let entries = self.walk("mynetworks", &mut st.tables)?;

        // A /file/name list that does not exist: Postfix cannot read it either.
        for e in &entries {
            if let Elem::File(path) = &e.elem {
                if !self.host.exists(path) {
                    return Err(Error::invalid(
                        self.host.display(Path::new(MAIN_CF)),
                        Some(self.main.line_col(e.span.start)),
                        format!(
                            "mynetworks names {}, which does not exist: Postfix cannot open it, and v6fix will not guess which IPv4 networks belong in it. Create it with the site's networks (one per line, IPv6 as [2001:db8::]/64) or drop it from mynetworks, then run v6fix again",
                            self.host.display(path)
                        ),
                    ));
                }
            }
            if let Elem::Cidr(path) = &e.elem {
                if !self.host.exists(path) {
                    return Err(Error::invalid(
                        self.host.display(Path::new(MAIN_CF)),
                        Some(self.main.line_col(e.span.start)),
                        format!(
                            "mynetworks names cidr:{}, which does not exist: Postfix cannot open it. Create the table or drop it from mynetworks, then run v6fix again",
                            self.host.display(path)
                        ),
                    ));
                }
            }
        }

        let mut missing = Vec::new();
        for n in networks {
            let mut found = None;
            for e in &entries {
                let (prefix, negated) = match &e.elem {
                    Elem::Net { prefix, negated }
                    | Elem::Broken {
                        prefix, negated, ..
                    } => (*prefix, *negated),
                    _ => continue,
                };
                if prefix.covers(n) {
                    found = Some((e, prefix, negated));
                    break;
                }
            }
            match found {
                Some((e, prefix, negated)) => {
                    let place = self.where_is(&st.tables, e);
                    if negated {
                        st.plan.warn(format!(
                            "{place}: mynetworks excludes {n} with `{}` before any entry could trust it (first match wins): not added; remove the exclusion if the network should relay",
                            e.text
                        ));
                    } else if prefix == *n {
                        st.note(format!(
                            "{place}: mynetworks already has {n} (as `{}`): not added again",
                            e.text
                        ));
                    } else {
                        st.note(format!(
                            "{place}: mynetworks already covers {n} with `{}`: not added",
                            e.text
                        ));
                    }
                }
                None => missing.push(*n),
            }
        }
        if missing.is_empty() {
            return Ok(());
        }

        // Where the list keeps its networks: a /file list, else a cidr table, else inline.
        let file = entries.iter().rev().find_map(|e| match &e.elem {
            Elem::File(p) => Some(p.clone()),
            _ => None,
        });
        let cidr = entries.iter().rev().find_map(|e| match &e.elem {
            Elem::Cidr(p) => Some(p.clone()),
            _ => None,
        });
        let added: Vec<String> = missing.iter().map(|n| n.to_string()).collect();
        let added = added.join(", ");
        if let Some(path) = file {
            let Some(Some((_, doc))) = st.tables.lists.get(&path) else {
                unreachable!("walked and checked above");
            };
            let doc = doc.clone();
            let lines: Vec<String> = missing
                .iter()
                .map(|n| n.render(Style::BracketedV6))
                .collect();
            doc.append_entries(&lines, st.edits_path(&path));
            st.note(format!(
                "{}: added {} (mynetworks reads this list file)",
                self.host.display(&path),
                lines.join(" ")
            ));
        } else if let Some(path) = cidr {
            let Some(Some((_, doc))) = st.tables.cidrs.get(&path) else {
                unreachable!("walked and checked above");
            };
            let doc = doc.clone();
            let result = doc
                .rules()
                .filter(|r| r.depth == 0)
                .last()
                .map_or("OK".to_string(), |r| doc.result(r));
            let rules: Vec<(String, String)> = missing
                .iter()
                .map(|n| (n.render(Style::Bare), result.clone()))
                .collect();
            doc.append_rules(&rules, st.edits_path(&path));
            st.note(format!(
                "{}: added {added} (a cidr table mynetworks looks up; bare, as cidr_table(5) writes it)",
                self.host.display(&path)
            ));
        } else {
            let literal = entries.iter().rev().find(|e| {
                e.editable
                    && e.path == Path::new(MAIN_CF)
                    && matches!(e.elem, Elem::Net { .. } | Elem::Broken { .. })
            });
            let tables: Vec<&Entry> = entries
                .iter()
                .filter(|e| matches!(e.elem, Elem::Table(_)))
                .collect();
            if literal.is_none() && !tables.is_empty() {
                let t = &tables[tables.len() - 1].text;
                let want: Vec<String> = missing
                    .iter()
                    .map(|n| n.render(Style::BracketedV6))
                    .collect();
                return Err(Error::invalid(
                    self.host.display(Path::new(MAIN_CF)),
                    Some(self.main.line_col(p.name_span.start)),
                    format!(
                        "mynetworks keeps its networks in `{t}`, a table type that cannot hold networks (only exact addresses), and lists none v6fix can add to: add {} to mynetworks yourself (e.g. `mynetworks = {} {t}`) or move the networks to a cidr: table, then run v6fix again",
                        want.join(" "),
                        want.join(" ")
                    ),
                ));
            }
            let holder = literal
                .and_then(|e| e.param.clone())
                .unwrap_or_else(|| "mynetworks".to_string());
            let hp = self.doc.param(&holder).expect("walked from main.cf");
            let items: Vec<String> = missing
                .iter()
                .map(|n| n.render(Style::BracketedV6))
                .collect();
            self.doc.append_to_list(hp, &items, st.edits(MAIN_CF));
            let via = if holder == "mynetworks" {
                String::new()
            } else {
                format!(" (in {holder}, where its networks are written)")
            };
            st.note(format!(
                "{}: mynetworks: added {}{via}",
                self.locate(&self.main, hp.name_span.start),
                items.join(" ")
            ));
            if let Some(t) = tables.last() {
                st.note(format!(
                    "mynetworks also looks up `{}`, which cannot hold networks: left alone",
                    t.text
                ));
            }
        }
        st.lists_changed = true;
        Ok(())
    }

    fn mynetworks_unset(&self, st: &mut State, networks: &[Prefix]) {
        let style = self
            .doc
            .get("mynetworks_style")
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_else(|| {
                let level = self.doc.get("compatibility_level").unwrap_or_default();
                let major: u32 = level
                    .split('.')
                    .next()
                    .and_then(|m| m.trim().parse().ok())
                    .unwrap_or(0);
                if major >= 2 { "host" } else { "subnet" }.to_string()
            });
        let nets: Vec<String> = networks.iter().map(|n| n.to_string()).collect();
        let nets = nets.join(", ");
        if style == "host" {
            st.note(format!(
                "mynetworks is not set, so Postfix trusts only this host's own addresses (mynetworks_style = host), IPv4 and IPv6 alike; {nets} is not trusted over IPv4 either, so v6fix adds no mynetworks line (that would change what is trusted). To let the site relay, set mynetworks with its IPv4 and IPv6 networks and run v6fix again"
            ));
        } else {
            st.note(format!(
                "mynetworks is not set, so Postfix trusts the subnets of this host's own addresses (mynetworks_style = {style}), IPv6 ones included: once an interface has its address in {nets}, those clients may relay. Left alone"
            ));
        }
    }

    fn interfaces(&self, st: &mut State, address: Option<IpAddr>) {
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
                    (Some(i), None) => {
                        let any_v6 = ips
                            .iter()
                            .any(|i| matches!(i, Some(IpAddr::V6(a)) if !a.is_loopback()));
                        if !any_v6 {
                            st.plan.warn(format!(
                                "{}: inet_interfaces names {} but no IPv6 address: pass --address ADDR to add this host's IPv6 address",
                                self.locate(&self.main, p.name_span.start),
                                tokens[i].text
                            ));
                        }
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

/// An `inet` service of master.cf bound to an address: its service, address and port.
struct Bound<'a> {
    service: &'a pf::Service,
    ip: IpAddr,
    port: String,
}

fn bound_services(doc: &pf::MasterDoc) -> Vec<Bound<'_>> {
    doc.services()
        .filter(|s| doc.field(s, 1) == "inet")
        .filter_map(|s| {
            let name = doc.field(s, 0);
            let (Some(host), Some(port)) = split_host_port(name)? else {
                return None;
            };
            let ip = parse_ip(host)?;
            Some(Bound {
                service: s,
                ip,
                port: port.to_string(),
            })
        })
        .collect()
}

/// IPv4-bound services without an IPv6 sibling on the same port.
fn lonely_v4<'a>(bound: &'a [Bound<'a>]) -> Vec<&'a Bound<'a>> {
    bound
        .iter()
        .filter(|b| b.ip.is_ipv4())
        .filter(|b| !bound.iter().any(|o| o.ip.is_ipv6() && o.port == b.port))
        .collect()
}

impl Conf<'_> {
    fn read_master(&self) -> Result<Option<(File, pf::MasterDoc)>> {
        let Some(f) = self.host.read(Path::new(MASTER_CF))? else {
            return Ok(None);
        };
        let d = pf::parse_master(&f.text).map_err(|e| self.host.parse_error(&f, e))?;
        Ok(Some((f, d)))
    }

    /// master.cf services bound to an IPv4 address get an IPv6 sibling: `[::1]` next to
    /// a loopback one, `--address` next to any other.
    fn master(&self, st: &mut State, address: Option<IpAddr>) -> Result<()> {
        let Some((file, doc)) = self.read_master()? else {
            return Ok(());
        };
        let bound = bound_services(&doc);
        let mut edits = Edits::new();
        for b in lonely_v4(&bound) {
            let IpAddr::V4(v4) = b.ip else { continue };
            let place = self.locate(&file, b.service.fields[0].start);
            let twin = if v4.is_loopback() {
                Some("::1".parse().expect("literal"))
            } else {
                address
            };
            let name = doc.field(b.service, 0);
            match twin {
                Some(t) => {
                    let sibling = format!("[{t}]:{}", b.port);
                    doc.insert_sibling(b.service, &sibling, &mut edits);
                    st.note(format!(
                        "{place}: service {name} listens on IPv4 only: added the sibling {sibling} with the same settings"
                    ));
                }
                None => st.plan.warn(format!(
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

    fn audit_master(&self, out: &mut Vec<Finding>) -> Result<()> {
        let Some((file, doc)) = self.read_master()? else {
            return Ok(());
        };
        let bound = bound_services(&doc);
        for b in lonely_v4(&bound) {
            out.push(Finding {
                severity: Severity::Warning,
                path: self.host.display(Path::new(MASTER_CF)),
                line: Some(file.line_col(b.service.fields[0].start).line),
                message: format!(
                    "service {} listens on an IPv4 address only: Postfix takes no IPv6 connections for it",
                    doc.field(b.service, 0)
                ),
                fix: Some("v6fix postfix --network PREFIX --address ADDR".into()),
            });
        }
        Ok(())
    }
}

fn broken_message(list: &str, text: &str, why: Why) -> String {
    match why {
        Why::BareV6 if text.trim_start_matches('!').starts_with(':') => format!(
            "`{text}` in {list} is a bare IPv6 literal: Postfix reads it as a lookup table and smtpd dies at startup"
        ),
        Why::BareV6 => format!(
            "`{text}` in {list} is a bare IPv6 literal: Postfix reads it as a lookup table and answers 451 4.3.0 to every client, IPv4 too"
        ),
        Why::HostBits => format!(
            "`{text}` in {list} has host bits set after the prefix length: Postfix cannot use it (451 4.3.0 for clients whose check reaches it)"
        ),
    }
}

fn enables_ipv6(doc: &Doc, p: &Param) -> bool {
    live_tokens(doc, p)
        .iter()
        .any(|t| matches!(t.text.to_ascii_lowercase().as_str(), "all" | "ipv6"))
}

fn live_tokens(doc: &Doc, p: &Param) -> Vec<pf::Token> {
    doc.tokens(p)
        .into_iter()
        .take_while(|t| !t.is_comment())
        .collect()
}

fn token_ip(t: &str) -> Option<IpAddr> {
    parse_ip(
        t.strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(t),
    )
}

fn is_v6_text(t: &str) -> bool {
    matches!(token_ip(t), Some(IpAddr::V6(_)))
}

fn is_loopback(p: &Prefix) -> bool {
    match p.addr() {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v| v.is_loopback()),
    }
}

// ---------------------------------------------------------------------------------------
// The plan being built
// ---------------------------------------------------------------------------------------

struct State<'c> {
    conf: &'c Conf<'c>,
    tables: Tables,
    edits: BTreeMap<PathBuf, Edits>,
    /// Files read outside main.cf's lists (master.cf), by machine path.
    others: BTreeMap<PathBuf, File>,
    plan: Plan,
    listeners_changed: bool,
    lists_changed: bool,
}

impl<'c> State<'c> {
    fn new(conf: &'c Conf<'c>) -> Self {
        State {
            conf,
            tables: Tables::default(),
            edits: BTreeMap::new(),
            others: BTreeMap::new(),
            plan: Plan::new(),
            listeners_changed: false,
            lists_changed: false,
        }
    }

    fn edits(&mut self, path: &str) -> &mut Edits {
        self.edits_path(Path::new(path))
    }

    fn edits_path(&mut self, path: &Path) -> &mut Edits {
        self.edits.entry(path.to_path_buf()).or_default()
    }

    fn note(&mut self, n: impl Into<String>) {
        self.plan.note(n);
    }

    fn finish(mut self) -> Plan {
        for (path, edits) in std::mem::take(&mut self.edits) {
            if edits.is_empty() {
                continue;
            }
            let file = self
                .conf
                .file_of(&self.tables, &path)
                .or_else(|| self.others.get(&path))
                .cloned();
            if let Some(file) = file {
                let new = edits.apply(&file.text);
                self.plan.change(&file, new);
            }
        }
        if self.plan.changed() {
            if self.listeners_changed {
                self.plan.restart(
                    "postfix",
                    "restart",
                    "postfix stop && postfix start",
                    RESTART_WHY,
                );
            } else {
                self.plan.restart(
                    "postfix",
                    "reload",
                    "postfix reload",
                    "Postfix rereads main.cf and its lists on reload",
                );
            }
        }
        self.plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_classified_as_postfix_reads_them() {
        let net = |s: &str| Prefix::parse_any(s).unwrap();
        assert_eq!(
            classify("[2001:DB8:0::]/64", false),
            Elem::Net {
                prefix: net("2001:db8::/64"),
                negated: false
            }
        );
        assert_eq!(
            classify("[2001:db8::/64]", false),
            Elem::Net {
                prefix: net("2001:db8::/64"),
                negated: false
            }
        );
        assert!(matches!(
            classify("2001:db8::/64", false),
            Elem::Broken { why: Why::BareV6, ref fixed, .. } if fixed == "[2001:db8::]/64"
        ));
        assert!(matches!(
            classify("!::1", false),
            Elem::Broken { why: Why::BareV6, ref fixed, negated: true, .. } if fixed == "![::1]"
        ));
        assert!(matches!(
            classify("[2001:db8::5]/64", false),
            Elem::Broken { why: Why::HostBits, ref fixed, .. } if fixed == "[2001:db8::]/64"
        ));
        assert!(matches!(
            classify("[2001:db8::5/64]", false),
            Elem::Broken { why: Why::HostBits, ref fixed, .. } if fixed == "[2001:db8::/64]"
        ));
        assert!(matches!(
            classify("192.0.2.7/24", false),
            Elem::Broken { why: Why::HostBits, ref fixed, .. } if fixed == "192.0.2.0/24"
        ));
        assert_eq!(
            classify("2001:db8::/64", true),
            Elem::Net {
                prefix: net("2001:db8::/64"),
                negated: false
            }
        );
        assert_eq!(
            classify("/etc/postfix/nets", false),
            Elem::File("/etc/postfix/nets".into())
        );
        assert_eq!(
            classify("cidr:/etc/postfix/c.cidr", false),
            Elem::Cidr("/etc/postfix/c.cidr".into())
        );
        assert_eq!(
            classify("hash:/etc/postfix/n", false),
            Elem::Table("hash:/etc/postfix/n".into())
        );
        assert_eq!(classify("fd00:x", false), Elem::UnknownType("fd00".into()));
        assert_eq!(classify("mail.example.com", false), Elem::Name);
        assert_eq!(whole_ref("${a_b}"), Some("a_b"));
        assert_eq!(whole_ref("$a/x"), None);
    }
}
