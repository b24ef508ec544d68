//! Project automation: `cargo xtask <task>`. Run without a task to list them.
//!
//! Dependency-free on purpose: it must build in seconds on a cold CI machine.

mod deb;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const TASKS: &[(&str, &str)] = &[
    (
        "ci",
        "format check, clippy with warnings denied, the .deb, every test, a short fuzz run (what .ci/run runs)",
    ),
    (
        "deb",
        "build target/debian/v6fix_<version>_<arch>.deb (release binary, man pages, completions)",
    ),
    (
        "validate",
        "only the tests that run the real daemons' checkers and servers",
    ),
    (
        "bless",
        "[GROUP::CASE] regenerate the golden case outputs from the current binary (review the diff!)",
    ),
    (
        "fuzz",
        "[--iterations N] [--seed S] [--dialect D] [--save] [--replay] mutate every fixture and check each plugin on it (release build)",
    ),
    (
        "bench",
        "time v6fix on the sample host and on growing files (release build)",
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("deb") => deb::build().map(|_| ()),
        Some("validate") => validate(),
        Some("bless") => bless(args.get(1).map(String::as_str)),
        Some("bench") => bench(),
        Some("fuzz") => fuzz(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <task>\n");
            for (name, help) in TASKS {
                eprintln!("  {name:<10} {help}");
            }
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo(args: &[&str]) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(args).current_dir(root());
    c
}

fn run(mut c: Command) -> Result {
    eprintln!("xtask: running {c:?}");
    let status = c.status().map_err(|e| format!("{c:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{c:?} failed: {status}"))
    }
}

fn ci() -> Result {
    run(cargo(&["fmt", "--all", "--", "--check"]))?;
    run(cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The package tests (plugins/tests/it/package.rs, ansible.rs) install this .deb.
    let deb = deb::build()?;
    let mut test = cargo(&["test", "--workspace"]);
    test.env("V6FIX_DEB", &deb);
    run(test)?;
    let mut fuzz = cargo(&["run", "--quiet", "-p", FUZZER, "--"]);
    fuzz.args(["--iterations", CI_FUZZ_ITERATIONS, "--seed", CI_FUZZ_SEED])
        .args(["--timeout-ms", CI_FUZZ_BUDGET_MS, "--quiet"]);
    for d in CI_FUZZ_DIALECTS {
        fuzz.args(["--dialect", d]);
    }
    run(fuzz)
}

/// CI's fuzz run: a fixed seed, so a red run reproduces, and a count that keeps it short:
/// the debug build `cargo test` already compiled the dependencies for runs it in about 25 s
/// on two cores. The budget is generous because a debug build is slow, so only a real
/// blow-up counts as a hang.
const CI_FUZZ_ITERATIONS: &str = "2000";
const CI_FUZZ_SEED: &str = "0x5eed";
const CI_FUZZ_BUDGET_MS: &str = "10000";

/// The dialects CI fuzzes: all of them.
const CI_FUZZ_DIALECTS: &[&str] = &[
    "apache",
    "dovecot",
    "exim4",
    "postfix",
    "interfaces",
    "iptables",
    "nftables",
    "nginx",
    "pureftpd",
    "resolv",
    "shellvars",
    "sshd",
    "sysctl",
    "systemd",
    "varnish",
];

/// The fuzzer's package: `fuzz/`, a binary that runs the plugins in-process.
const FUZZER: &str = "v6fix-fuzz";

/// `cargo xtask fuzz ARGS`: the fuzzer, built for speed, with the arguments as given.
fn fuzz(args: &[String]) -> Result {
    let mut c = cargo(&["run", "--release", "--quiet", "-p", FUZZER, "--"]);
    c.args(args);
    run(c)
}

/// The one integration-test binary of the `v6fix` package, run by libtest-mimic; its tests
/// are named `<module>::<test>`, and the golden cases `cases::<group>::<case>`.
const TEST_BINARY: &str = "it";

/// The filter that selects the tests running real daemons: the modules
/// `plugins/tests/it/*_daemon.rs`.
const DAEMON_TESTS: &str = "_daemon::";

fn validate() -> Result {
    run(cargo(&[
        "test",
        "-p",
        "v6fix",
        "--test",
        TEST_BINARY,
        "--",
        DAEMON_TESTS,
    ]))
}

/// Rewrites the golden cases matching `cases::<filter>` (all of them without a filter).
fn bless(filter: Option<&str>) -> Result {
    let select = format!("cases::{}", filter.unwrap_or(""));
    let mut c = cargo(&["test", "-p", "v6fix", "--test", TEST_BINARY, "--", &select]);
    c.env("V6FIX_BLESS", "1");
    run(c)?;
    eprintln!("xtask: outputs rewritten; review them with `git diff testdata/cases`");
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_runs(bin: &Path, args: &[&str], runs: usize) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let o = Command::new(bin)
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed());
        if !matches!(o.status.code(), Some(0) | Some(1)) {
            return Err(format!(
                "{} {args:?} failed: {}",
                bin.display(),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    Ok(times)
}

/// Peak memory of one run in KiB, through python3's getrusage when it is there.
fn peak_kib(bin: &Path, args: &[&str]) -> Option<u64> {
    let script = "import resource,subprocess,sys\n\
                  subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(bin)
        .args(args)
        .output()
        .ok()?;
    String::from_utf8_lossy(&o.stdout).trim().parse().ok()
}

/// A generated config for the scaling table: files by relative path, and the command.
struct ScaleCase {
    name: &'static str,
    args: &'static [&'static str],
    files: fn(usize) -> Vec<(&'static str, String)>,
}

fn repeat(n: usize, f: impl Fn(usize) -> String) -> String {
    (0..n).map(f).collect()
}

/// Each case grows a typical structure of its dialect to about N lines, with an edit in
/// every repeated unit where the dialect allows, so both parsing and editing scale.
fn scale_cases() -> Vec<ScaleCase> {
    vec![
        ScaleCase {
            name: "postfix",
            args: &["postfix", "--network", "2001:db8::/64"],
            files: |n| {
                let list = repeat(n, |i| {
                    format!("    198.51.{}.{}/32\n", (i / 256) % 256, i % 256)
                });
                vec![(
                    "etc/postfix/main.cf",
                    format!("inet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n{list}"),
                )]
            },
        },
        ScaleCase {
            name: "nginx",
            args: &["nginx", "--network", "2001:db8::/64"],
            files: |n| {
                let servers = repeat(n / 5, |i| {
                    format!(
                        "  server {{\n    listen {};\n    server_name s{i}.example.net;\n    location / {{ allow 192.0.2.0/24; deny all; }}\n  }}\n",
                        10_000 + i % 50_000
                    )
                });
                vec![(
                    "etc/nginx/nginx.conf",
                    format!("events {{}}\nhttp {{\n{servers}}}\n"),
                )]
            },
        },
        ScaleCase {
            name: "apache",
            args: &[
                "apache",
                "--address",
                "2001:db8::10",
                "--network",
                "2001:db8::/64",
            ],
            files: |n| {
                let vhosts = repeat(n / 6, |i| {
                    format!(
                        "<VirtualHost 192.0.2.10:80>\n  ServerName s{i}.example.net\n  <Location />\n    Require ip 192.0.2.0/24\n  </Location>\n</VirtualHost>\n"
                    )
                });
                vec![(
                    "etc/apache2/apache2.conf",
                    format!("Listen 192.0.2.10:80\n{vhosts}"),
                )]
            },
        },
        ScaleCase {
            name: "dovecot",
            args: &["dovecot"],
            files: |n| {
                let ns = repeat(n / 4, |i| {
                    format!("namespace n{i} {{\n  prefix = p{i}/\n  separator = /\n}}\n")
                });
                vec![("etc/dovecot/dovecot.conf", format!("listen = *\n{ns}"))]
            },
        },
        ScaleCase {
            name: "varnish",
            args: &[
                "varnish",
                "--address",
                "2001:db8::10",
                "--network",
                "2001:db8::/64",
            ],
            files: |n| {
                let acl = repeat(n, |i| {
                    format!("  \"198.51.{}.{}\";\n", (i / 256) % 256, i % 256)
                });
                vec![
                    (
                        "etc/varnish/default.vcl",
                        format!(
                            "vcl 4.1;\nbackend b {{ .host = \"127.0.0.1\"; }}\nacl a {{\n{acl}}}\nsub vcl_recv {{ if (client.ip ~ a) {{ return (pass); }} }}\n"
                        ),
                    ),
                    (
                        "etc/systemd/system/varnish.service.d/override.conf",
                        "[Service]\nExecStart=\nExecStart=/usr/sbin/varnishd -a 0.0.0.0:80 -f /etc/varnish/default.vcl\n".to_string(),
                    ),
                ]
            },
        },
        ScaleCase {
            name: "interfaces",
            args: &[
                "interfaces",
                "--iface",
                "eth0",
                "--address",
                "2001:db8::c:1/64",
            ],
            files: |n| {
                let more = repeat(n / 2, |i| {
                    format!("iface eth{} inet manual\n    up true\n", i + 1)
                });
                vec![(
                    "etc/network/interfaces",
                    format!("auto eth0\niface eth0 inet static\n    address 192.0.2.10/24\n    gateway 192.0.2.1\n{more}"),
                )]
            },
        },
        ScaleCase {
            name: "sshd",
            args: &["sshd"],
            files: |n| {
                let body = repeat(n, |i| {
                    format!("# comment {i}\nMatch User u{i}\n  X11Forwarding no\n")
                });
                vec![(
                    "etc/ssh/sshd_config",
                    format!("ListenAddress 0.0.0.0\n{body}"),
                )]
            },
        },
        ScaleCase {
            name: "resolv",
            args: &["resolv", "--nameserver", "2001:db8::53"],
            files: |n| {
                vec![(
                    "etc/resolv.conf",
                    format!(
                        "{}nameserver 192.0.2.53\n",
                        repeat(n, |i| format!("# c {i}\n"))
                    ),
                )]
            },
        },
    ]
}

fn copy_tree(src: &Path, dst: &Path) -> Result {
    run({
        let mut c = Command::new("cp");
        c.arg("-a").arg(src).arg(dst);
        c
    })
}

fn bench() -> Result {
    run(cargo(&["build", "--release", "-p", "v6fix"]))?;
    let bin = root().join("target/release/v6fix");
    let tmp = std::env::temp_dir().join(format!("v6fix-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let host = tmp.join("seed");
    copy_tree(&root().join("testdata/hosts/seed"), &host)?;
    let h = host.to_string_lossy().to_string();

    println!("v6fix bench (release build, wall time over repeated runs)\n");
    println!(
        "{:<58} {:>10} {:>10}",
        "command on testdata/hosts/seed", "median", "p90"
    );
    // What starting any process costs here, and Postfix's own tool reading the same file.
    let seed_postfix = host.join("etc/postfix").to_string_lossy().to_string();
    let baselines: [(&str, Vec<&str>); 2] = [
        ("/bin/true", vec![]),
        (
            "/usr/sbin/postconf",
            vec!["-c", seed_postfix.as_str(), "-h", "mynetworks"],
        ),
    ];
    for (cmd, args) in &baselines {
        let Ok(times) = time_runs(Path::new(cmd), args, 101) else {
            continue;
        };
        let label = if args.is_empty() {
            ""
        } else {
            " -c seed -h mynetworks"
        };
        println!(
            "{:<58} {:>8.2}ms",
            format!("(baseline) {cmd}{label}"),
            median(times).as_secs_f64() * 1e3
        );
    }
    let commands: &[&[&str]] = &[
        &["--version"],
        &[
            "--root",
            &h,
            "--check",
            "postfix",
            "--network",
            "2001:db8::/64",
        ],
        &["--root", &h, "--check", "audit"],
        &[
            "--root",
            &h,
            "--check",
            "all",
            "--network",
            "2001:db8::/64",
            "--role",
            "client",
            "--host",
            "1",
        ],
    ];
    for args in commands {
        let times = time_runs(&bin, args, 101)?;
        let mut sorted = times.clone();
        sorted.sort();
        let label = args
            .iter()
            .filter(|a| **a != h.as_str())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "{:<58} {:>8.2}ms {:>8.2}ms",
            label,
            median(times).as_secs_f64() * 1e3,
            sorted[sorted.len() * 9 / 10].as_secs_f64() * 1e3
        );
    }

    println!("\nscaling: one config of N lines per plugin (--check, so nothing is written)");
    println!(
        "{:<11} {:>8} {:>11} {:>10} {:>11}",
        "plugin", "lines", "median", "per line", "peak RSS"
    );
    for case in scale_cases() {
        let mut per_line = Vec::new();
        for n in [1_000usize, 10_000, 100_000] {
            let dir = tmp.join(format!("scale-{}-{n}", case.name));
            for (path, text) in (case.files)(n) {
                let p = dir.join(path);
                std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
                std::fs::write(&p, text).map_err(|e| e.to_string())?;
            }
            let d = dir.to_string_lossy().to_string();
            let mut args = vec!["--root", d.as_str(), "--check"];
            args.extend(case.args);
            let m = median(time_runs(&bin, &args, 11)?);
            let rss = peak_kib(&bin, &args).map_or("-".to_string(), |k| format!("{k} KiB"));
            let ns = m.as_secs_f64() * 1e9 / n as f64;
            per_line.push(ns);
            println!(
                "{:<11} {:>8} {:>9.2}ms {:>8.0}ns {:>11}",
                case.name,
                n,
                m.as_secs_f64() * 1e3,
                ns,
                rss
            );
        }
        // Per-line cost at 100k against 10k: about 1 for linear work, about 10 for quadratic.
        let growth = per_line[2] / per_line[1];
        if growth > 3.0 {
            println!(
                "{:<11} NOT LINEAR: the per-line cost grew {growth:.1}x from 10k to 100k lines",
                case.name
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
