//! Every dialect against every fixture under `testdata/<dialect>/`, subdirectories included:
//! the items of a parsed file tile it (inside nested blocks too, where the dialect has them)
//! and printing them gives back its bytes, and mangled variants (truncated, with bytes
//! inserted or lines dropped) never panic and, whenever they parse, print back exactly too.
//! The mutations come from a fixed-seed generator, so a failure reproduces. This is the one
//! place the round-trip property is tested; the dialects' own unit tests check the rest.

use std::path::{Path, PathBuf};
use v6fix_core::dialect::{
    apache, bind, dovecot, exim, haproxy, hostsfile, interfaces, iptables, mycnf, nftables, nginx,
    postfix, postgresql, proftpd, pureftpd, resolv, shellvars, sshd, sysctl, systemd, varnish,
    vsftpd,
};
use v6fix_core::text::{self, BOM};
use v6fix_core::ParseError;

/// Parses and prints back; the flag says whether the items tile the input.
type Printer = fn(&str) -> Result<(String, bool), ParseError>;

/// The parser for a fixture, by its directory (and, for Postfix, its name).
fn parser_for(dir: &str, name: &str) -> Option<Printer> {
    Some(match dir {
        "apache" => |t| apache::parse(t).map(|d| (d.to_string(), d.tiles())),
        "bind" => |t| bind::parse(t).map(|d| (d.to_string(), d.tiles())),
        "dovecot" => |t| dovecot::parse(t).map(|d| (d.to_string(), d.tiles())),
        "exim4" if name.ends_with("update-exim4.conf.conf") => {
            |t| exim::debconf::parse(t).map(|d| (d.to_string(), d.tiles()))
        }
        "exim4" => |t| exim::conf::parse(t, true).map(|d| (d.to_string(), d.tiles())),
        "haproxy" => |t| haproxy::parse(t).map(|d| (d.to_string(), d.tiles())),
        "interfaces" => |t| interfaces::parse(t).map(|d| (d.to_string(), d.tiles())),
        "mycnf" => |t| mycnf::parse(t).map(|d| (d.to_string(), d.tiles())),
        "nginx" => {
            |t| nginx::parse(t).map(|d| (d.to_string(), d.tiles() && nginx_blocks_tile(&d.items)))
        }
        "proftpd" => |t| proftpd::parse(t).map(|d| (d.to_string(), d.tiles())),
        "pureftpd" => |t| {
            let d = pureftpd::parse(t);
            Ok((d.to_string(), d.tiles()))
        },
        "resolv" => |t| resolv::parse(t).map(|d| (d.to_string(), d.tiles())),
        "iptables" => |t| iptables::parse(t).map(|d| (d.to_string(), d.tiles())),
        "nftables" => {
            |t| nftables::parse(t).map(|d| (d.to_string(), d.tiles() && nft_blocks_tile(&d.items)))
        }
        "sysctl" => |t| sysctl::parse(t).map(|d| (d.to_string(), d.tiles())),
        "shellvars" => |t| shellvars::parse(t).map(|d| (d.to_string(), d.tiles())),
        "hostsfile" => |t| hostsfile::parse(t).map(|d| (d.to_string(), d.tiles())),
        "sshd" => |t| sshd::parse(t).map(|d| (d.to_string(), d.tiles())),
        "systemd" => |t| systemd::parse(t).map(|d| (d.to_string(), d.tiles())),
        "varnish" => |t| varnish::parse(t).map(|d| (d.to_string(), d.tiles())),
        "vsftpd" => |t| vsftpd::parse(t).map(|d| (d.to_string(), d.tiles())),
        "postfix" if name.ends_with(".cidr") => {
            |t| postfix::parse_cidr(t).map(|d| (d.to_string(), d.tiles()))
        }
        "postfix" if name.ends_with(".txt") => {
            |t| postfix::parse_list(t).map(|d| (d.to_string(), d.tiles()))
        }
        "postfix" if name.starts_with("master") => {
            |t| postfix::parse_master(t).map(|d| (d.to_string(), d.tiles()))
        }
        "postfix" => |t| postfix::parse(t).map(|d| (d.to_string(), d.tiles())),
        "postgresql" if name.contains("pg_hba") => {
            |t| postgresql::hba::parse(t).map(|d| (d.to_string(), d.tiles()))
        }
        "postgresql" => |t| postgresql::conf::parse(t).map(|d| (d.to_string(), d.tiles())),
        _ => return None,
    })
}

/// nginx blocks hold items of their own: inside every block they tile the bytes between
/// the braces, at every depth.
fn nginx_blocks_tile(items: &[nginx::Item]) -> bool {
    items.iter().all(|it| match &it.kind {
        nginx::ItemKind::Directive(nginx::Directive { block: Some(b), .. }) => {
            let mut pos = b.open + 1;
            for inner in &b.items {
                if inner.span.start != pos {
                    return false;
                }
                pos = inner.span.end;
            }
            pos == b.close && nginx_blocks_tile(&b.items)
        }
        _ => true,
    })
}

/// nftables blocks tile the bytes between their braces, at every depth.
fn nft_blocks_tile(items: &[nftables::Item]) -> bool {
    items.iter().all(|it| match &it.kind {
        nftables::ItemKind::Block(b) => {
            let mut pos = b.open + 1;
            for inner in &b.items {
                if inner.span.start != pos {
                    return false;
                }
                pos = inner.span.end;
            }
            pos == b.close && nft_blocks_tile(&b.items)
        }
        _ => true,
    })
}

/// What a dialect promises about a whole fixture beyond printing back: checked on the
/// fixtures, not on mangled input, which may legitimately fail it.
fn fixture_promise(dir: &str, text: &str) -> Result<(), String> {
    match dir {
        // Every ACL in a fixture reads.
        "varnish" => varnish::parse(text)
            .map_err(|e| format!("{e:?}"))?
            .acls()
            .map(|_| ())
            .map_err(|e| format!("acls: {e:?}")),
        _ => Ok(()),
    }
}

/// The fewest fixtures each dialect directory must hold, subdirectories included, so a
/// moved or emptied directory cannot pass by testing nothing.
const MIN_FIXTURES: &[(&str, usize)] = &[
    ("apache", 5),
    ("bind", 6),
    ("dovecot", 25),
    ("exim4", 10),
    ("haproxy", 3),
    ("interfaces", 5),
    ("mycnf", 5),
    ("nginx", 4),
    ("postfix", 8),
    ("postgresql", 5),
    ("proftpd", 4),
    ("pureftpd", 5),
    ("resolv", 4),
    ("iptables", 8),
    ("nftables", 2),
    ("sysctl", 2),
    ("shellvars", 2),
    ("hostsfile", 2),
    ("sshd", 3),
    ("systemd", 3),
    ("varnish", 3),
    ("vsftpd", 4),
];

/// Every file below `dir`, at any depth.
fn files_below(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let e = e.unwrap();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            files_below(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}

/// Every fixture as (`<dialect>/<path below it>`, dialect, path, parser), sorted by name.
fn fixtures() -> Vec<(String, String, PathBuf, Printer)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap();
        let d = dir.file_name().into_string().unwrap();
        if d == "cases" || d == "hosts" || d == "fuzz" || d == "negative" {
            continue;
        }
        let mut files = Vec::new();
        files_below(&dir.path(), &mut files);
        for f in files {
            let rel = f
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            // A README beside the fixtures says where they came from.
            if name == "README.md" {
                continue;
            }
            let p = parser_for(&d, &name)
                .unwrap_or_else(|| panic!("testdata/{rel}: no dialect parses it"));
            out.push((rel, d.clone(), f, p));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_dialect_directory_holds_its_fixtures_subdirectories_included() {
    let all = fixtures();
    assert!(all.len() >= 40, "only {} fixtures found", all.len());
    for (dialect, min) in MIN_FIXTURES {
        let n = all.iter().filter(|f| f.1 == *dialect).count();
        assert!(
            n >= *min,
            "testdata/{dialect}: {n} fixtures, want at least {min}"
        );
    }
    assert!(
        all.iter()
            .any(|f| f.0.starts_with("dovecot/debian/conf.d/")),
        "the fixtures in subdirectories (testdata/dovecot/debian/conf.d) are not collected"
    );
}

/// A fixture as v6fix reads it: whether it starts with a byte order mark, and the text
/// after it, bytes that are not UTF-8 as reserved characters.
fn read_fixture(path: &Path) -> (bool, String) {
    let t = text::decode(std::fs::read(path).unwrap())
        .unwrap_or_else(|(at, c)| panic!("{}:{at}: reserved {c:?}", path.display()));
    match t.strip_prefix(BOM) {
        Some(rest) => (true, rest.to_string()),
        None => (false, t),
    }
}

#[test]
fn every_fixture_prints_back_byte_for_byte() {
    let all = fixtures();
    assert!(all.len() >= 40, "only {} fixtures found", all.len());
    for (name, dialect, path, print) in &all {
        let (bom, text) = read_fixture(path);
        match print(&text) {
            Ok((out, tiles)) => {
                assert!(out == text, "{name}: printing changed the file");
                let mut bytes = if bom { BOM.to_string() } else { String::new() };
                bytes.push_str(&out);
                assert!(
                    *text::encode(&bytes) == std::fs::read(path).unwrap()[..],
                    "{name}: the bytes written back differ from the file's"
                );
                assert!(tiles, "{name}: the items do not tile the file");
            }
            Err(e) => panic!("{name}: a fixture must parse: {e:?}"),
        }
        if let Err(e) = fixture_promise(dialect, &text) {
            panic!("{name}: {e}");
        }
    }
}

/// xorshift64*: small, fixed-seed, good enough to pick positions and bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "{",
    "}",
    ";",
    "\"",
    "'",
    "#",
    "\\",
    "\n",
    "\r\n",
    " ",
    "\t",
    "=",
    ":",
    "[",
    "]",
    "/",
    ",",
    "<",
    ">",
    "</x>",
    "/*",
    "*/",
    "//",
    "!include ",
    "source ",
    "iface ",
    "listen ",
    "[::]:80",
    "é",
    "\\\n",
];

fn char_boundary(t: &str, mut i: usize) -> usize {
    while !t.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut t = text.to_string();
    for _ in 0..1 + rng.below(3) {
        match rng.below(3) {
            0 => {
                let at = char_boundary(&t, rng.below(t.len() + 1));
                t.truncate(at);
            }
            1 => {
                let at = char_boundary(&t, rng.below(t.len() + 1));
                t.insert_str(at, PIECES[rng.below(PIECES.len())]);
            }
            _ => {
                let lines: Vec<&str> = t.split_inclusive('\n').collect();
                if !lines.is_empty() {
                    let drop = rng.below(lines.len());
                    t = lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != drop)
                        .map(|(_, l)| *l)
                        .collect();
                }
            }
        }
    }
    t
}

#[test]
fn mangled_input_never_panics_and_round_trips_when_it_parses() {
    let mut rng = Rng(0x5eed_0006_f1c5);
    for (name, _, path, print) in fixtures() {
        let (_, text) = read_fixture(&path);
        for round in 0..300 {
            let input = mutate(&text, &mut rng);
            let got = std::panic::catch_unwind(|| print(&input));
            match got {
                Err(_) => panic!("{name}: round {round} panicked on:\n{input:?}"),
                Ok(Ok((out, tiles))) => {
                    assert!(
                        out == input,
                        "{name}: round {round}: printing changed:\n{input:?}"
                    );
                    assert!(
                        tiles,
                        "{name}: round {round}: items do not tile:\n{input:?}"
                    );
                }
                Ok(Err(e)) => assert!(
                    e.offset <= input.len(),
                    "{name}: error offset past the end: {e:?}"
                ),
            }
        }
    }
}
