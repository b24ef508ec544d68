//! Project automation: `cargo xtask <task>`. Run without a task to list them.
//!
//! Dependency-free on purpose: it must build in seconds on a cold CI machine.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const TASKS: &[(&str, &str)] = &[
    (
        "ci",
        "format check, clippy with warnings denied, every test (what .ci/run runs)",
    ),
    (
        "validate",
        "only the tests that run the real daemons' checkers and servers",
    ),
    (
        "bless",
        "regenerate the golden case outputs from the current binary (review the diff!)",
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
        Some("validate") => validate(),
        Some("bless") => bless(),
        Some("bench") => bench(),
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
    run(cargo(&["test", "--workspace"]))
}

/// The integration tests that run real daemons: `plugins/tests/*_daemon.rs`.
fn daemon_tests() -> Result<Vec<String>> {
    let dir = root().join("plugins/tests");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_string))
        .filter(|n| n.ends_with("_daemon"))
        .collect();
    names.sort();
    Ok(names)
}

fn validate() -> Result {
    let names = daemon_tests()?;
    let mut args = vec!["test", "-p", "v6fix"];
    for n in &names {
        args.push("--test");
        args.push(n);
    }
    run(cargo(&args))
}

fn bless() -> Result {
    let mut c = cargo(&["test", "-p", "v6fix", "--test", "cases"]);
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

    println!("\nscaling: main.cf with a mynetworks list of N continuation lines");
    println!(
        "{:>9} {:>12} {:>12} {:>12}",
        "lines", "median", "per line", "peak RSS"
    );
    let base =
        std::fs::read_to_string(host.join("etc/postfix/main.cf")).map_err(|e| e.to_string())?;
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let dir = tmp.join(format!("scale-{n}"));
        std::fs::create_dir_all(dir.join("etc/postfix")).map_err(|e| e.to_string())?;
        let mut text = base.clone();
        text.push_str("mynetworks = 127.0.0.0/8\n");
        for i in 0..n {
            text.push_str(&format!("    198.51.{}.{}/32\n", (i / 256) % 256, i % 256));
        }
        std::fs::write(dir.join("etc/postfix/main.cf"), &text).map_err(|e| e.to_string())?;
        let d = dir.to_string_lossy().to_string();
        let args = [
            "--root",
            d.as_str(),
            "--check",
            "postfix",
            "--network",
            "2001:db8::/64",
        ];
        let runs = if n >= 1_000_000 { 5 } else { 21 };
        let m = median(time_runs(&bin, &args, runs)?);
        let rss = peak_kib(&bin, &args).map_or("-".to_string(), |k| format!("{} KiB", k));
        println!(
            "{:>9} {:>10.2}ms {:>10.1}ns {:>12}",
            n,
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() * 1e9 / n as f64,
            rss
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
