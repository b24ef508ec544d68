//! Project automation: `cargo xtask <task>`. Run without a task to list them.
//!
//! Dependency-free on purpose: it must build in seconds on a cold CI machine.

mod bench;
mod deb;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

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
        "[--quick] [--only NAME] time v6fix applying to generated configs beside postconf, augtool, sed -i and cp+mv (release build)",
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("deb") => deb::build().map(|_| ()),
        Some("validate") => validate(),
        Some("bless") => bless(args.get(1).map(String::as_str)),
        Some("bench") => bench(&args[1..]),
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
    "bind",
    "dovecot",
    "exim4",
    "haproxy",
    "postfix",
    "proftpd",
    "interfaces",
    "iptables",
    "mycnf",
    "nftables",
    "nginx",
    "postgresql",
    "pureftpd",
    "resolv",
    "shellvars",
    "sshd",
    "sysctl",
    "systemd",
    "varnish",
    "vsftpd",
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

fn bench(args: &[String]) -> Result {
    bench::run(args)
}
