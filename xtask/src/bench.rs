//! `cargo xtask bench`: v6fix applying its edit to generated configs, beside the tools
//! people use instead, measured in the same run on the same input.
//!
//! Every case is generated deterministically at growing sizes. Each command runs as a
//! whole process several times, each time on a pristine copy of the input (the copy is
//! not timed); the table shows the median wall time and the peak RSS, and v6fix's time as
//! a ratio to each tool's (v6fix ÷ tool), which stays meaningful on a loaded machine.
//! `cp`+`mv` of the edited file is the floor: reading and writing it once.

use crate::{root, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;

/// Another way to make the same edit.
#[derive(Clone, Copy)]
enum Tool {
    /// `postconf -c DIR -e SETTING`.
    Postconf(&'static str),
    /// `augtool -s -A -t 'LENS incl /FILE' COMMAND`, under a timeout.
    Augtool(&'static str, &'static str),
    /// `sed -i EXPR FILE`.
    Sed(&'static str),
    /// `cp FILE FILE.new && mv FILE.new FILE`: the floor.
    CopyMove,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Postconf(_) => "postconf -e",
            Tool::Augtool(..) => "augtool",
            Tool::Sed(_) => "sed -i",
            Tool::CopyMove => "cp+mv",
        }
    }

    fn command(self, work: &Path, edited: &str) -> Command {
        let file = work.join(edited);
        match self {
            Tool::Postconf(setting) => {
                let mut c = Command::new("postconf");
                c.arg("-c")
                    .arg(file.parent().unwrap())
                    .arg("-e")
                    .arg(setting);
                c
            }
            Tool::Augtool(lens, cmd) => {
                let mut c = Command::new("timeout");
                c.args(["120", "augtool", "-s", "-A", "-r"])
                    .arg(work)
                    .arg("-t")
                    .arg(format!("{lens} incl /{edited}"))
                    .arg(cmd.replace("FILE", edited));
                c
            }
            Tool::Sed(expr) => {
                let mut c = Command::new("sed");
                c.arg("-i").arg(expr).arg(&file);
                c
            }
            Tool::CopyMove => {
                let mut c = Command::new("sh");
                c.args(["-c", "cp \"$1\" \"$1.new\" && mv \"$1.new\" \"$1\"", "sh"])
                    .arg(&file);
                c
            }
        }
    }
}

/// Generated files: their paths relative to the root, and their text.
type Files = Vec<(&'static str, String)>;

/// One generated input and the edit everyone makes to it.
struct Case {
    name: &'static str,
    /// The sizes, in units of the generator (lines, vhosts, server blocks…).
    sizes: &'static [usize],
    unit: &'static str,
    files: fn(&Path, usize) -> Result<Files>,
    /// v6fix's arguments after `--root DIR --no-validate`.
    v6fix: &'static [&'static str],
    /// The file the tools edit, relative to the root.
    edited: &'static str,
    tools: &'static [Tool],
    /// A 200 MiB input: left out by `--quick`.
    huge: bool,
}

fn repeat(n: usize, f: impl Fn(usize) -> String) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&f(i));
    }
    s
}

fn net_table(n: usize) -> String {
    repeat(n, |i| {
        format!("10.{}.{}.{}/32\n", (i >> 16) & 255, (i >> 8) & 255, i & 255)
    })
}

fn postfix_list(_: &Path, n: usize) -> Result<Files> {
    Ok(vec![
        (
            "etc/postfix/main.cf",
            "inet_protocols = all\nmynetworks = /etc/postfix/network_table\n".into(),
        ),
        ("etc/postfix/network_table", net_table(n)),
    ])
}

fn vhost(i: usize) -> String {
    format!(
        "<VirtualHost 192.0.2.10:80>\n    ServerName site{i}.example.com\n    ServerAlias www.site{i}.example.com\n    DocumentRoot /srv/www/site{i}\n    ErrorLog /var/log/apache2/site{i}-error.log\n    CustomLog /var/log/apache2/site{i}-access.log combined\n    <Directory /srv/www/site{i}>\n        Options -Indexes +FollowSymLinks\n        AllowOverride None\n        Require all granted\n    </Directory>\n    <Location /admin>\n        Require ip 192.0.2.0/24\n    </Location>\n</VirtualHost>\n\n"
    )
}

fn apache(_: &Path, n: usize) -> Result<Files> {
    Ok(vec![(
        "etc/apache2/apache2.conf",
        format!("Listen 192.0.2.10:80\n\n{}", repeat(n, vhost)),
    )])
}

fn nginx(_: &Path, n: usize) -> Result<Files> {
    let servers = repeat(n, |i| {
        format!(
            "    server {{\n        listen 80;\n        server_name site{i}.example.com www.site{i}.example.com;\n        root /srv/www/site{i};\n        index index.html;\n        access_log /var/log/nginx/site{i}.access.log;\n        location / {{\n            try_files $uri $uri/ =404;\n        }}\n        location /admin/ {{\n            allow 192.0.2.0/24;\n            deny all;\n        }}\n    }}\n"
        )
    });
    Ok(vec![(
        "etc/nginx/nginx.conf",
        format!("events {{}}\nhttp {{\n{servers}}}\n"),
    )])
}

fn debian_main_cf(root: &Path, _: usize) -> Result<Files> {
    let p = root.join("testdata/postfix/debian-default.main.cf");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(vec![("etc/postfix/main.cf", text)])
}

fn dovecot(_: &Path, n: usize) -> Result<Files> {
    let ns = repeat(n, |i| {
        format!("namespace n{i} {{\n  prefix = p{i}/\n  separator = /\n}}\n")
    });
    Ok(vec![(
        "etc/dovecot/dovecot.conf",
        format!("listen = *\n{ns}"),
    )])
}

fn cases() -> Vec<Case> {
    const APACHE_SED: Tool =
        Tool::Sed("s/^<VirtualHost 192.0.2.10:80>$/<VirtualHost 192.0.2.10:80 [2001:db8::10]:80>/");
    const NGINX_SED: Tool = Tool::Sed("s/^\\( *\\)listen 80;$/&\\n\\1listen [::]:80;/");
    vec![
        Case {
            name: "postfix-main",
            sizes: &[1],
            unit: "Debian main.cf",
            files: debian_main_cf,
            v6fix: &["postfix", "--network", "2001:db8::/64"],
            edited: "etc/postfix/main.cf",
            tools: &[
                Tool::Postconf("mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 [2001:db8::]/64"),
                Tool::Augtool(
                    "Postfix_Main",
                    "set /files/FILE/mynetworks '127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 [2001:db8::]/64'",
                ),
                Tool::Sed("s|^mynetworks = .*|& [2001:db8::]/64|"),
                Tool::CopyMove,
            ],
            huge: false,
        },
        Case {
            name: "postfix-list",
            sizes: &[1_000, 10_000, 100_000],
            unit: "lines",
            files: postfix_list,
            v6fix: &["postfix", "--network", "2001:db8::/64"],
            edited: "etc/postfix/network_table",
            tools: &[Tool::Sed("$a [2001:db8::]/64"), Tool::CopyMove],
            huge: false,
        },
        Case {
            name: "apache-vhosts",
            sizes: &[1_000, 10_000, 50_000],
            unit: "vhosts",
            files: apache,
            v6fix: &[
                "apache",
                "--address",
                "2001:db8::10",
                "--network",
                "2001:db8::/64",
            ],
            edited: "etc/apache2/apache2.conf",
            tools: &[APACHE_SED, Tool::CopyMove],
            huge: false,
        },
        Case {
            name: "nginx-servers",
            sizes: &[1_000, 10_000],
            unit: "servers",
            files: nginx,
            v6fix: &["nginx", "--network", "2001:db8::/64"],
            edited: "etc/nginx/nginx.conf",
            tools: &[
                Tool::Augtool(
                    "Nginx",
                    "setm /files/FILE/http/server listen[2] '[::]:80'",
                ),
                NGINX_SED,
                Tool::CopyMove,
            ],
            huge: false,
        },
        Case {
            name: "postfix-200MiB",
            sizes: &[200 * MIB / 16],
            unit: "lines",
            files: postfix_list,
            v6fix: &["postfix", "--network", "2001:db8::/64"],
            edited: "etc/postfix/network_table",
            tools: &[Tool::Sed("$a [2001:db8::]/64"), Tool::CopyMove],
            huge: true,
        },
        Case {
            name: "apache-200MiB",
            sizes: &[200 * MIB / 480],
            unit: "vhosts",
            files: apache,
            v6fix: &[
                "apache",
                "--address",
                "2001:db8::10",
                "--network",
                "2001:db8::/64",
            ],
            edited: "etc/apache2/apache2.conf",
            tools: &[APACHE_SED, Tool::CopyMove],
            huge: true,
        },
        Case {
            name: "dovecot-200MiB",
            sizes: &[200 * MIB / 56],
            unit: "namespaces",
            files: dovecot,
            v6fix: &["dovecot"],
            edited: "etc/dovecot/dovecot.conf",
            tools: &[Tool::Sed("s/^listen = \\*$/listen = *, ::/"), Tool::CopyMove],
            huge: true,
        },
    ]
}

/// One command's median wall time and largest peak RSS over its runs.
struct Measured {
    median: Duration,
    rss_kib: Option<u64>,
    ok: bool,
}

/// Runs `make()` `runs` times, each on a fresh copy of `pristine` at `work`.
fn measure(
    pristine: &Path,
    work: &Path,
    runs: usize,
    make: &dyn Fn() -> Command,
) -> Result<Measured> {
    let time_bin = Path::new("/usr/bin/time");
    let rss_file = work.with_extension("rss");
    let mut times = Vec::new();
    let mut rss = None;
    let mut ok = true;
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(work);
        run_quiet(Command::new("cp").arg("-a").arg(pristine).arg(work))?;
        let inner = make();
        let mut c = if time_bin.exists() {
            let mut c = Command::new(time_bin);
            c.arg("-f").arg("%M").arg("-o").arg(&rss_file);
            c.arg(inner.get_program()).args(inner.get_args());
            c
        } else {
            inner
        };
        c.stdout(Stdio::null()).stderr(Stdio::null());
        let t = Instant::now();
        let status = c.status().map_err(|e| format!("{c:?}: {e}"))?;
        times.push(t.elapsed());
        // v6fix exits 0 once it applied; a tool under `timeout` exits 124 when cut off.
        ok &= status.success();
        if let Ok(s) = std::fs::read_to_string(&rss_file) {
            let kib = s.lines().last().and_then(|l| l.trim().parse::<u64>().ok());
            rss = rss.max(kib);
        }
        // A command slower than this is timed once: its ratio is clear without a median.
        if times[0] > Duration::from_secs(10) {
            break;
        }
    }
    times.sort();
    Ok(Measured {
        median: times[times.len() / 2],
        rss_kib: rss,
        ok,
    })
}

fn run_quiet(c: &mut Command) -> Result {
    let s = c.status().map_err(|e| format!("{c:?}: {e}"))?;
    if s.success() {
        Ok(())
    } else {
        Err(format!("{c:?} failed: {s}"))
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

pub(crate) fn run(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    crate::run(crate::cargo(&["build", "--release", "-p", "v6fix"]))?;
    let bin = root().join("target/release/v6fix");
    let tmp = std::env::temp_dir().join(format!("v6fix-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let result = table(&bin, &tmp, quick, only.as_deref());
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn table(bin: &Path, tmp: &Path, quick: bool, only: Option<&str>) -> Result {
    println!("v6fix applying (--no-validate, output to /dev/null), each run on a pristine copy;");
    println!("median wall time, peak RSS; each tool as v6fix ÷ tool, measured in the same run.\n");
    println!(
        "| case | size | file | v6fix | v6fix RSS | RSS ÷ file | beside the tools (v6fix ÷ tool) |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut flags = Vec::new();
    for case in cases() {
        if (quick && case.huge) || only.is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        let mut per_line: Vec<(usize, f64)> = Vec::new();
        for &n in case.sizes {
            let pristine = tmp.join(format!("{}-{n}", case.name));
            let mut bytes = 0;
            let mut lines = 0;
            for (path, text) in (case.files)(&root(), n)? {
                let p = pristine.join(path);
                std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
                bytes += text.len();
                lines += text.bytes().filter(|&b| b == b'\n').count();
                std::fs::write(&p, text).map_err(|e| e.to_string())?;
            }
            let runs = if bytes > 64 * MIB {
                3
            } else if bytes > 4 * MIB {
                5
            } else {
                11
            };
            let work: PathBuf = tmp.join("work");
            let v = measure(&pristine, &work, runs, &|| {
                let mut c = Command::new(bin);
                c.arg("--root")
                    .arg(&work)
                    .arg("--no-validate")
                    .args(case.v6fix);
                c
            })?;
            if !v.ok {
                return Err(format!(
                    "{}: v6fix did not apply ({n} {})",
                    case.name, case.unit
                ));
            }
            let mut beside = Vec::new();
            for tool in case.tools {
                let t = measure(&pristine, &work, runs, &|| tool.command(&work, case.edited))?;
                let ratio = v.median.as_secs_f64() / t.median.as_secs_f64();
                beside.push(if t.ok {
                    format!("{} {} ({ratio:.2}×)", tool.name(), ms(t.median))
                } else {
                    format!("{} failed or timed out after {}", tool.name(), ms(t.median))
                });
            }
            let _ = std::fs::remove_dir_all(&work);
            let _ = std::fs::remove_dir_all(&pristine);
            let size = format!("{n} {}", case.unit);
            let file = if bytes >= MIB {
                format!("{:.1} MiB", bytes as f64 / MIB as f64)
            } else {
                format!("{:.0} KiB", bytes as f64 / 1024.0)
            };
            let per_file = v.rss_kib.map_or("-".into(), |k| {
                format!("{:.1}", k as f64 * 1024.0 / bytes as f64)
            });
            println!(
                "| {} | {size} | {file} | {} | {} | {per_file} | {} |",
                case.name,
                ms(v.median),
                mib(v.rss_kib),
                beside.join("; ")
            );
            per_line.push((lines, v.median.as_secs_f64() / lines as f64));
        }
        // Per-line cost of the largest size against the one before it: about 1 for
        // linear work (the startup cost makes smaller sizes look dearer, not cheaper).
        if let [.., (l1, a), (l2, b)] = per_line[..] {
            if b / a > 1.5 {
                flags.push(format!(
                    "{}: NOT LINEAR: the per-line cost grew {:.1}× from {l1} to {l2} lines",
                    case.name,
                    b / a
                ));
            }
        }
    }
    println!();
    if flags.is_empty() {
        println!("no case's per-line cost grew more than 1.5× to its largest size");
    }
    for f in flags {
        println!("{f}");
    }
    Ok(())
}
