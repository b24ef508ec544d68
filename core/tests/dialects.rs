//! Every dialect against every fixture in `testdata/<dialect>/`: the items of a parsed file
//! tile it and printing them gives back its bytes, and mangled variants (truncated, with bytes inserted or lines
//! dropped) never panic and, whenever they parse, print back exactly too. The mutations
//! come from a fixed-seed generator, so a failure reproduces.

use std::path::{Path, PathBuf};
use v6fix_core::dialect::{
    apache, dovecot, interfaces, nginx, postfix, pureftpd, resolv, sshd, systemd, varnish,
};
use v6fix_core::ParseError;

/// Parses and prints back; the flag says whether the items tile the input.
type Printer = fn(&str) -> Result<(String, bool), ParseError>;

/// The parser for a fixture, by its directory (and, for Postfix, its name).
fn parser_for(dir: &str, name: &str) -> Option<Printer> {
    Some(match dir {
        "apache" => |t| apache::parse(t).map(|d| (d.to_string(), d.tiles())),
        "dovecot" => |t| dovecot::parse(t).map(|d| (d.to_string(), d.tiles())),
        "interfaces" => |t| interfaces::parse(t).map(|d| (d.to_string(), d.tiles())),
        "nginx" => |t| nginx::parse(t).map(|d| (d.to_string(), d.tiles())),
        "pureftpd" => |t| {
            let d = pureftpd::parse(t);
            Ok((d.to_string(), d.tiles()))
        },
        "resolv" => |t| resolv::parse(t).map(|d| (d.to_string(), d.tiles())),
        "sshd" => |t| sshd::parse(t).map(|d| (d.to_string(), d.tiles())),
        "systemd" => |t| systemd::parse(t).map(|d| (d.to_string(), d.tiles())),
        "varnish" => |t| varnish::parse(t).map(|d| (d.to_string(), d.tiles())),
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
        _ => return None,
    })
}

fn fixtures() -> Vec<(String, PathBuf, Printer)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap();
        let d = dir.file_name().into_string().unwrap();
        if d == "cases" || d == "hosts" {
            continue;
        }
        for f in std::fs::read_dir(dir.path()).unwrap() {
            let f = f.unwrap();
            if !f.file_type().unwrap().is_file() {
                continue;
            }
            let name = f.file_name().into_string().unwrap();
            let p = parser_for(&d, &name)
                .unwrap_or_else(|| panic!("testdata/{d}: no dialect parses it"));
            out.push((format!("{d}/{name}"), f.path(), p));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_fixture_prints_back_byte_for_byte() {
    let all = fixtures();
    assert!(all.len() >= 40, "only {} fixtures found", all.len());
    for (name, path, print) in &all {
        let text = std::fs::read_to_string(path).unwrap();
        match print(&text) {
            Ok((out, tiles)) => {
                assert!(out == text, "{name}: printing changed the file");
                assert!(tiles, "{name}: the items do not tile the file");
            }
            Err(e) => panic!("{name}: a fixture must parse: {e:?}"),
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
    for (name, path, print) in fixtures() {
        let text = std::fs::read_to_string(&path).unwrap();
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
