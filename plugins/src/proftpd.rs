//! `v6fix proftpd`: ProFTPD (`/etc/proftpd/proftpd.conf` and its includes) on both
//! families.
//!
//! - `UseIPv6 off` becomes `on` wherever it is written (ProFTPD then listens on `::`, which
//!   serves IPv4 clients too); without the directive Debian's build has it on.
//! - `DefaultAddress` and `<VirtualHost>` addresses that are IPv4 only get the host's IPv6
//!   address (`--address`; `::1` beside loopback) as one more argument: both take a list.
//!   Several different IPv4 addresses would all get the one IPv6 address, which collides:
//!   then nothing is added and the warning says why.
//! - `Allow from` lines with IPv4 networks get the `--network` prefixes (and `::1` beside
//!   loopback). `Deny from` lines stay as they are: a block list, or `Deny from !NET`,
//!   which denies every IPv6 client and cannot be fixed by adding `!PREFIX` (ProFTPD
//!   matches any entry, so that would deny every IPv4 client): a warning says so.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use v6fix_core::config_set::{ConfigSet, Dirs, Include, Missing};
use v6fix_core::dialect::proftpd::{self, Doc, Kind};
use v6fix_core::target::{Fact, Need, Target};
use v6fix_core::{policy, Analysis, Args, File, Host, MainFile, Plugin, Prefix, Result, Severity};

const DIR: &str = "/etc/proftpd";
const MAIN: MainFile = MainFile::new("/etc/proftpd/proftpd.conf", "ProFTPD");
const FIX: &str = "v6fix proftpd";
const FIX_ADDRESS: &str = "v6fix proftpd --address ADDR";
const FIX_NETWORK: &str = "v6fix proftpd --network PREFIX";

pub(crate) struct Proftpd;

v6fix_core::inventory::submit! { v6fix_core::Registration(&Proftpd) }

static NEEDS: &[Need] = &[
    Need::new(
        Fact::Address,
        "This host's IPv6 address, added beside DefaultAddress and <VirtualHost> IPv4 addresses",
    ),
    Need::new(
        Fact::Networks,
        "The site's IPv6 network, added to `Allow from` lines that admit IPv4 networks",
    ),
];

fn load(host: &Host) -> Result<Option<ConfigSet<Doc>>> {
    // Whether a pattern names a directory, looked up once however often it is included.
    let mut is_dir: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    ConfigSet::load(
        host,
        "ProFTPD",
        Path::new(MAIN.path),
        proftpd::parse,
        |_, doc: &Doc| {
            doc.items
                .iter()
                .enumerate()
                .filter(|(_, it)| it.kind == Kind::Directive && doc.is(it, "Include"))
                .filter_map(|(i, it)| {
                    let pat = doc.arg(it, 0)?.unquoted().to_string();
                    // A directory is read entry by entry; a file or a glob as it is.
                    let dir = *is_dir
                        .entry(pat.clone())
                        .or_insert_with(|| host.is_dir(&Path::new(DIR).join(&pat)));
                    let dirs = if dir {
                        Dirs::Entries(proftpd::read_from_dir)
                    } else {
                        Dirs::Read
                    };
                    Some(
                        Include::new(i, it.span().start, format!("Include {pat}"), &pat, DIR)
                            .missing(Missing::Note)
                            .dirs(dirs),
                    )
                })
                .collect()
        },
    )
}

impl Plugin for Proftpd {
    fn name(&self) -> &'static str {
        "proftpd"
    }

    fn about(&self) -> &'static str {
        "ProFTPD: UseIPv6 on, IPv6 addresses for DefaultAddress and <VirtualHost>, IPv6 networks in Allow from"
    }

    fn needs(&self) -> &'static [Need] {
        NEEDS
    }

    fn files(&self, host: &Host) -> Result<Vec<PathBuf>> {
        Ok(match load(host)? {
            Some(set) => set.files.into_iter().map(|m| m.file.path).collect(),
            None => Vec::new(),
        })
    }

    fn analyze(&self, host: &Host, target: &Target, _: &Args) -> Result<Analysis> {
        let Some(set) = load(host)? else {
            return Ok(MAIN.absent(host));
        };
        let mut a = Analysis::new();
        for n in &set.notes {
            a.note(n.clone());
        }
        for w in &set.warnings {
            a.warn(w.clone());
        }
        let files: Vec<(&File, &Doc)> = set.files.iter().map(|m| (&m.file, &m.doc)).collect();
        use_ipv6(&files, &mut a);
        addresses(&files, target.address(), &mut a);
        acls(&files, &target.networks, &mut a);
        a.restart(
            "proftpd",
            "restart",
            "proftpd -t && systemctl restart proftpd",
            "the listening socket and its family are set up at start; logged-in sessions are \
             processes of their own and survive; proftpd -t first, since a config it rejects \
             stops the service",
        );
        Ok(a)
    }
}

fn use_ipv6(files: &[(&File, &Doc)], a: &mut Analysis) {
    for (file, doc) in files {
        for (_, it) in doc.directives("UseIPv6") {
            let Some(v) = doc.arg(it, 0) else { continue };
            let value = v.unquoted().to_ascii_lowercase();
            if !matches!(value.as_str(), "off" | "no" | "false" | "0") {
                continue;
            }
            a.find(
                file,
                it.span().start,
                Severity::Warning,
                format!("UseIPv6 {}: ProFTPD listens on IPv4 only", v.text),
                FIX,
            );
            let on = if v.text.chars().any(|c| c.is_ascii_uppercase()) {
                "On"
            } else {
                "on"
            };
            a.edits(file).replace(v.span.clone(), on);
            a.note_at(
                file,
                it.span().start,
                format!(
                    "UseIPv6 {} is now {on}: ProFTPD listens on IPv6 too (one socket that serves both families)",
                    v.text
                ),
            );
        }
    }
}

/// An IPv4-only address list: `DefaultAddress` or `<VirtualHost>`.
struct AddrList {
    file: usize,
    item: usize,
    label: String,
    v4: Vec<Ipv4Addr>,
}

fn addresses(files: &[(&File, &Doc)], address: Option<Ipv6Addr>, a: &mut Analysis) {
    let mut lists = Vec::new();
    for (fi, (_, doc)) in files.iter().enumerate() {
        for (i, it) in doc.items.iter().enumerate() {
            if !(it.kind == Kind::Directive && doc.is(it, "DefaultAddress")
                || it.kind == Kind::Open && doc.is(it, "VirtualHost"))
            {
                continue;
            }
            let ips: Vec<Option<IpAddr>> = doc
                .words(it)
                .map(|w| w.unquoted().trim_end_matches('>').parse::<IpAddr>().ok())
                .collect();
            // Names are resolved at start: every address they have; left alone.
            if ips.iter().any(Option::is_none) {
                continue;
            }
            let has = |f: fn(&Ipv6Addr) -> bool| {
                ips.iter()
                    .any(|ip| matches!(ip, Some(IpAddr::V6(a)) if f(a)))
            };
            let (loop6, public6) = (has(Ipv6Addr::is_loopback), has(|a| !a.is_loopback()));
            // What is still IPv4 only: loopback without ::1, and the public addresses
            // when the list has no public IPv6 address of its own.
            let v4 = ips
                .into_iter()
                .filter_map(|ip| match ip {
                    Some(IpAddr::V4(v4)) => Some(v4),
                    _ => None,
                })
                .filter(|v4| !v4.is_unspecified())
                .filter(|v4| if v4.is_loopback() { !loop6 } else { !public6 })
                .collect::<Vec<_>>();
            if v4.is_empty() {
                continue;
            }
            lists.push(AddrList {
                file: fi,
                item: i,
                label: if it.kind == Kind::Open {
                    "<VirtualHost>"
                } else {
                    "DefaultAddress"
                }
                .into(),
                v4,
            });
        }
    }
    // Different public IPv4 addresses would all share the one IPv6 address.
    let mut public: Vec<Ipv4Addr> = lists
        .iter()
        .flat_map(|l| l.v4.iter().copied())
        .filter(|v4| !v4.is_loopback())
        .collect();
    public.sort();
    public.dedup();
    let collide = public.len() > 1;
    for l in &lists {
        let (file, doc) = files[l.file];
        let it = &doc.items[l.item];
        let at = it.span().start;
        let mut add = Vec::new();
        let mut missing = false;
        for v4 in &l.v4 {
            if v4.is_loopback() {
                add.push("::1".to_string());
            } else if collide {
                continue;
            } else if let Some(a6) = address {
                add.push(a6.to_string());
            } else {
                missing = true;
            }
        }
        add.dedup();
        let shown =
            l.v4.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" ");
        let problem = format!(
            "{} {shown}: IPv4 only, so IPv6 clients reach no server here",
            l.label
        );
        if collide {
            let all = public.iter().map(|v| v.to_string()).collect::<Vec<_>>();
            a.lasting(
                file,
                at,
                Severity::Warning,
                format!(
                    "{problem}; the IPv4 addresses {} would all get the one IPv6 address, and \
                     ProFTPD would serve them as one: add an IPv6 address of its own to each by hand",
                    all.join(", ")
                ),
                "",
            );
        } else if missing {
            a.lasting(file, at, Severity::Warning, problem, FIX_ADDRESS);
        } else {
            a.find(file, at, Severity::Warning, problem, FIX);
        }
        if add.is_empty() {
            continue;
        }
        doc.append_args(a.edits(file), l.item, &add);
        a.note_at(
            file,
            at,
            format!("{} {shown}: {} added", l.label, add.join(" ")),
        );
    }
}

/// What an `Allow from`/`Deny from` line's arguments hold.
#[derive(Default)]
struct Holds {
    v4: bool,
    v4_negated: bool,
    v4_loop: bool,
    v6: Vec<Prefix>,
    v6_negated: Vec<Prefix>,
}

fn holds(words: &[String]) -> Holds {
    let mut h = Holds::default();
    for w in words
        .iter()
        .flat_map(|w| w.split(','))
        .filter(|w| !w.is_empty())
    {
        let (neg, w) = match w.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, w),
        };
        let Ok(p) = Prefix::parse(w) else { continue };
        match (p.is_ipv6(), neg) {
            (true, false) => h.v6.push(p),
            (true, true) => h.v6_negated.push(p),
            (false, true) => h.v4_negated = true,
            (false, false) if w.starts_with("127.") => h.v4_loop = true,
            (false, false) => h.v4 = true,
        }
    }
    h
}

fn acls(files: &[(&File, &Doc)], networks: &[Prefix], a: &mut Analysis) {
    let loopback = Prefix::host(IpAddr::V6(Ipv6Addr::LOCALHOST));
    for (file, doc) in files {
        for (i, it) in doc.items.iter().enumerate() {
            let allow = doc.is(it, "Allow");
            if it.kind != Kind::Directive || !(allow || doc.is(it, "Deny")) {
                continue;
            }
            let mut words: Vec<String> = doc.words(it).map(|w| w.unquoted().to_string()).collect();
            if words
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("from"))
            {
                words.remove(0);
            }
            let h = holds(&words);
            let label = format!("{} from", doc.name(it));
            for p in h.v6.iter().chain(&h.v6_negated) {
                if let Some(why) = policy::acl_entry(p) {
                    a.find(
                        file,
                        it.span().start,
                        Severity::Error,
                        format!("{label} {p} admits too much: {why}"),
                        "",
                    );
                }
            }
            if !allow {
                // `Deny from !NET` denies everyone outside NET, every IPv6 client too; an
                // added `!PREFIX` would match every IPv4 client (the entries are or-ed).
                if h.v4_negated && h.v6_negated.is_empty() {
                    a.lasting(
                        file,
                        it.span().start,
                        Severity::Warning,
                        format!(
                            "{label} !NET denies every IPv6 client, and a `!PREFIX` beside it would \
                             deny every IPv4 client (ProFTPD matches any entry): write \
                             `Order allow,deny` with `Allow from` both networks and `Deny from all` \
                             instead; left alone"
                        ),
                        "",
                    );
                }
                continue;
            }
            let mut add: Vec<String> = Vec::new();
            let (v4, have) = (h.v4, &h.v6);
            if h.v4_loop && !h.v6.iter().any(|p| p.covers(&loopback)) {
                add.push("::1".into());
            }
            if v4 {
                if networks.is_empty() {
                    if have.iter().all(|p| p.covers(&loopback)) {
                        a.lasting(
                            file,
                            it.span().start,
                            Severity::Warning,
                            format!("{label} names IPv4 networks only: IPv6 clients are refused"),
                            FIX_NETWORK,
                        );
                    }
                } else {
                    add.extend(
                        networks
                            .iter()
                            .filter(|n| !have.contains(n))
                            .map(|n| n.to_string()),
                    );
                }
            }
            if add.is_empty() {
                continue;
            }
            // The list's own separator: `, ` when it uses commas.
            let comma = doc.words(it).any(|w| w.text.ends_with(','));
            let words: Vec<String> = if comma {
                let last = doc.words(it).next_back().expect("a list");
                a.edits(file).insert(last.span.end, ",");
                let n = add.len();
                add.into_iter()
                    .enumerate()
                    .map(|(k, w)| if k + 1 < n { format!("{w},") } else { w })
                    .collect()
            } else {
                add
            };
            doc.append_args(a.edits(file), i, &words);
            a.note_at(
                file,
                it.span().start,
                format!("{label} names IPv4 networks: {} added", words.join(" ")),
            );
        }
    }
}
