//! The mutations: a fixed-seed generator and the ways a config file gets mangled (bytes
//! flipped, lines dropped, doubled, swapped or spliced in from a sibling fixture, tokens of
//! the dialects and address literals inserted, continuation lines, CRLF, long lines).

/// SplitMix64: tiny, fast, and every seed gives a good stream.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True with probability 1/`n`.
    pub(crate) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Tokens that mean something in one dialect or another.
const TOKENS: &[&str] = &[
    ":", "[", "]", "{", "}", ";", "#", "\\", ",", "\"", "'", "\r", "\t", " ", "=", "/", "*", "$",
    "(", ")", "<", ">", "!", "~", "\\\n", "\n", "\r\n", "\n\t", "\n    ", "{}", "${", "$(", "</",
    "/*", "*/", "//", "\"\"", "''", "é", "\u{feff}", "\0",
];

/// Address literals and the words around them.
const ADDRESSES: &[&str] = &[
    "0.0.0.0",
    "::",
    "[::]",
    "127.0.0.1",
    "::1",
    "[::1]",
    "[::1]:80",
    "[::]:80",
    "192.0.2.10",
    "192.0.2.10:443",
    "192.0.2.0/24",
    "[2001:db8::]/64",
    "2001:db8::/64",
    "2001:db8::ad:1",
    "2001:db8::53",
    "[2001:db8::1]:8080",
    "fe80::1%eth0",
    "*",
    "*:80",
    "localhost",
    "all",
    "ipv4",
    "ipv6",
    "inet6",
    "80",
    "443",
    "0",
    "65536",
    "/32",
    "/128",
    "/0",
];

/// Whole lines typical of the dialects.
const LINES: &[&str] = &[
    "listen 80;",
    "listen [::]:80 ipv6only=on;",
    "Listen 80",
    "Listen 192.0.2.10:443 https",
    "<VirtualHost *:80>",
    "</VirtualHost>",
    "listen = *",
    "listen = *, ::",
    "inet_protocols = ipv4",
    "inet_interfaces = all",
    "mynetworks = 127.0.0.0/8 [::1]/128",
    "    192.0.2.0/24",
    "ListenAddress 0.0.0.0",
    "AddressFamily inet",
    "nameserver 192.0.2.53",
    "options rotate",
    "iface eth0 inet static",
    "iface eth0 inet6 static",
    "    address 192.0.2.10/24",
    "auto eth0",
    "ExecStart=",
    "ExecStart=/usr/sbin/varnishd -a :6081 -f /etc/varnish/default.vcl",
    "[Service]",
    "acl purge { \"localhost\"; \"192.0.2.0\"/24; }",
    "backend default { .host = \"127.0.0.1\"; .port = \"8080\"; }",
    "include \"x.vcl\";",
    "!include conf.d/*.conf",
    "server {",
    "}",
    "yes",
    "no",
    "192.0.2.10,21",
    "smtp      inet  n       -       y       -       -       smtpd",
    "192.0.2.10:smtp inet n - y - - smtpd",
];

/// The byte offset of a char boundary at or before `i`.
fn boundary(t: &str, mut i: usize) -> usize {
    i = i.min(t.len());
    while !t.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn random_piece(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => rng.pick(ADDRESSES).to_string(),
        1 => format!(" {} ", rng.pick(ADDRESSES)),
        _ => rng.pick(TOKENS).to_string(),
    }
}

/// The lines of `t`, each with its line ending.
fn lines(t: &[u8]) -> Vec<Vec<u8>> {
    t.split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// A line that repeats a piece many times: a list written on one line, a long value.
fn long_line(rng: &mut Rng) -> String {
    let n = match rng.below(4) {
        0 => 20_000,
        1 => 2_000,
        _ => 200,
    };
    let piece = rng.pick(&[
        " 192.0.2.%/32",
        ",192.0.2.%",
        " [2001:db8::%]/128",
        " x%",
        "a",
        " \"192.0.2.%\";",
        " *.%",
        "{",
        "[",
        " #",
    ]);
    let mut s = String::from(*rng.pick(&["mynetworks =", "listen", "Listen", "x =", ""]));
    for i in 0..n {
        s.push_str(&piece.replace('%', &(i % 250).to_string()));
    }
    s.push('\n');
    s
}

/// Mangles `text` with one to four mutations; `siblings` are other fixtures of the same
/// dialect to splice lines from.
pub(crate) fn mutate(text: &[u8], siblings: &[&[u8]], rng: &mut Rng) -> Vec<u8> {
    let mut t = text.to_vec();
    for _ in 0..1 + rng.below(4) {
        t = once(t, siblings, rng);
        // Big enough to show a quadratic loop; bigger only makes slow trials.
        if t.len() > MAX_LEN {
            t.truncate(MAX_LEN);
            break;
        }
    }
    t
}

/// The largest input a mutation makes, in bytes.
const MAX_LEN: usize = 400_000;

fn once(t: Vec<u8>, siblings: &[&[u8]], rng: &mut Rng) -> Vec<u8> {
    let mut ls = lines(&t);
    let nl = ls.len();
    match rng.below(16) {
        // Flip a bit of a byte (rarely: most of the results are not UTF-8).
        0 if !t.is_empty() && rng.one_in(4) => {
            let mut t = t;
            let i = rng.below(t.len());
            t[i] ^= 1 << rng.below(8);
            t
        }
        // Replace a character with a token.
        0 | 1 => {
            let s = String::from_utf8_lossy(&t).into_owned();
            let at = boundary(&s, rng.below(s.len() + 1));
            let end = boundary(&s, at + 1 + rng.below(3)).max(at);
            let mut out = s[..at].to_string();
            out.push_str(&random_piece(rng));
            out.push_str(&s[end..]);
            out.into_bytes()
        }
        // Insert a token or an address somewhere.
        2..=4 => {
            let s = String::from_utf8_lossy(&t).into_owned();
            let at = boundary(&s, rng.below(s.len() + 1));
            let mut out = s[..at].to_string();
            out.push_str(&random_piece(rng));
            out.push_str(&s[at..]);
            out.into_bytes()
        }
        // Drop a line or a run of lines.
        5 if nl > 0 => {
            let at = rng.below(nl);
            let n = 1 + rng.below(3).min(nl - at - 1);
            ls.drain(at..at + n);
            ls.concat()
        }
        // Double a line.
        6 if nl > 0 => {
            let at = rng.below(nl);
            let l = ls[at].clone();
            ls.insert(at, l);
            ls.concat()
        }
        // Swap two lines.
        7 if nl > 1 => {
            let (a, b) = (rng.below(nl), rng.below(nl));
            ls.swap(a, b);
            ls.concat()
        }
        // Splice in a line from a sibling fixture, or a line typical of some dialect.
        8 | 9 => {
            let line: Vec<u8> = match siblings {
                [] => format!("{}\n", rng.pick(LINES)).into_bytes(),
                _ if rng.one_in(3) => format!("{}\n", rng.pick(LINES)).into_bytes(),
                _ => {
                    let sib = lines(siblings[rng.below(siblings.len())]);
                    if sib.is_empty() {
                        b"\n".to_vec()
                    } else {
                        sib[rng.below(sib.len())].clone()
                    }
                }
            };
            let line = if line.ends_with(b"\n") {
                line
            } else {
                [line, b"\n".to_vec()].concat()
            };
            let at = rng.below(nl + 1);
            if rng.one_in(3) && at < nl {
                ls[at] = line;
            } else {
                ls.insert(at, line);
            }
            ls.concat()
        }
        // Turn a line into a continuation of the one before, or split a line.
        10 if nl > 0 => {
            let at = rng.below(nl);
            let cont = rng.pick(&["\t", "    ", " "]).as_bytes();
            let l = &ls[at];
            let start = l.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
            ls[at] = [cont, &l[start..]].concat();
            ls.concat()
        }
        11 => {
            let s = String::from_utf8_lossy(&t).into_owned();
            let at = boundary(&s, rng.below(s.len() + 1));
            let brk = rng.pick(&["\n ", "\n\t", "\\\n", "\\\n  ", "\r\n  ", "\n"]);
            format!("{}{brk}{}", &s[..at], &s[at..]).into_bytes()
        }
        // A long line.
        12 if rng.one_in(3) => {
            let at = rng.below(nl + 1);
            ls.insert(at, long_line(rng).into_bytes());
            ls.concat()
        }
        // Line endings: all CRLF, all LF, or no final newline.
        13 => match rng.below(3) {
            0 => String::from_utf8_lossy(&t)
                .replace("\r\n", "\n")
                .replace('\n', "\r\n")
                .into_bytes(),
            1 => String::from_utf8_lossy(&t)
                .replace("\r\n", "\n")
                .into_bytes(),
            _ => {
                let mut t = t;
                while t.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    t.pop();
                }
                t
            }
        },
        // Truncate, or drop a range of bytes.
        14 if !t.is_empty() => {
            let s = String::from_utf8_lossy(&t).into_owned();
            let a = boundary(&s, rng.below(s.len() + 1));
            if rng.one_in(2) {
                s[..a].to_string().into_bytes()
            } else {
                let b = boundary(&s, a + rng.below(40)).max(a);
                format!("{}{}", &s[..a], &s[b..]).into_bytes()
            }
        }
        // Repeat a line many times.
        15 if nl > 0 && rng.one_in(4) => {
            let at = rng.below(nl);
            let l = ls[at].clone();
            let n = *rng.pick(&[50usize, 500, 5_000]);
            ls.splice(at..at, std::iter::repeat_n(l, n));
            ls.concat()
        }
        _ => {
            let s = String::from_utf8_lossy(&t).into_owned();
            let at = boundary(&s, rng.below(s.len() + 1));
            format!("{}{}{}", &s[..at], rng.pick(ADDRESSES), &s[at..]).into_bytes()
        }
    }
}
