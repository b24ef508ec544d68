//! `v6fix-fuzz`: a mutation fuzzer over every fixture, run by `cargo xtask fuzz`.
//!
//! Each trial takes a seed (a fixture at the machine path its plugin reads, or a file of the
//! sample host or of a golden case's tree), mangles the one file, lays the tree into a
//! temporary root, and runs the plugin's `audit` and `plan` in this process, on a thread with
//! a time budget. [`check`] lists the properties; a trial that outlives its budget is a hang.
//! Trial `i` draws everything from a generator seeded with `(seed, i)`, so
//! `--seed S --trial I` (with the same `--dialect`s) replays one trial exactly.
//!
//! A finding is shrunk (other files dropped, then runs of lines), printed, and with `--save`
//! written under `testdata/fuzz/<dialect>/`, where the integration tests replay it.
//! The exit code is 1 when a property failed, 2 on a usage error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod check;
mod corpus;
mod mutate;
mod saved;

use check::{Node, Property, Tree, Verdict};
use mutate::Rng;
use std::cell::RefCell;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use v6fix_core::{Args, Plugin};

const USAGE: &str = "usage: v6fix-fuzz [--iterations N] [--seed S] [--dialect D]... [--trial I] \
                     [--timeout-ms MS] [--save] [--replay] [--quiet]

  --iterations N   trials in all, shared round-robin between the dialects (default 10000)
  --seed S         the run's seed, decimal or 0x-hex (default: from the clock; always printed)
  --dialect D      only the seeds whose mutated file is in dialect D (repeatable):
                   apache bind dovecot exim4 haproxy hostsfile interfaces iptables mycnf nftables
                   nginx postfix postgresql proftpd pureftpd resolv shellvars sshd sysctl systemd
                   varnish vsftpd
  --trial I        run trial I of the run alone and print it (its input and verdict)
  --timeout-ms MS  a trial's time budget; past it the trial is a hang (default 2000)
  --save           write each finding under testdata/fuzz/<dialect>/ for the tests to replay
  --replay         run the saved findings of testdata/fuzz/ and check what each expects
  --quiet          no progress lines";

struct Options {
    iterations: u64,
    seed: u64,
    dialects: Vec<String>,
    trial: Option<u64>,
    timeout: Duration,
    save: bool,
    replay: bool,
    quiet: bool,
    /// Run as a worker from this trial on (see [`supervise`]).
    worker: Option<u64>,
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.replace('_', "").parse().ok(),
    }
}

fn options() -> Result<Options, String> {
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut o = Options {
        iterations: 10_000,
        seed: saved::hash(&[&clock.to_le_bytes()]),
        dialects: Vec::new(),
        trial: None,
        timeout: Duration::from_millis(2000),
        save: false,
        replay: false,
        quiet: false,
        worker: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().ok_or_else(|| format!("{a} needs {what}"));
        let number = |v: String| parse_u64(&v).ok_or_else(|| format!("{a}: `{v}` is no number"));
        match a.as_str() {
            "--iterations" => o.iterations = number(value("a count")?)?,
            "--seed" => o.seed = number(value("a number")?)?,
            "--trial" => o.trial = Some(number(value("a trial number")?)?),
            "--timeout-ms" => o.timeout = Duration::from_millis(number(value("milliseconds")?)?),
            "--dialect" => {
                let d = value("a dialect")?;
                if !check::DIALECTS.contains(&d.as_str()) {
                    return Err(format!("--dialect {d}: no such dialect"));
                }
                o.dialects.push(d);
            }
            "--save" => o.save = true,
            "--replay" => o.replay = true,
            "--quiet" => o.quiet = true,
            "--worker" => o.worker = Some(number(value("a trial number")?)?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(o)
}

thread_local! {
    /// Where the last panic on this thread happened, set by the panic hook.
    static PANIC_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// One trial's input: a plugin, its switches, a tree and the mutated file in it.
#[derive(Clone)]
struct Input {
    /// The index of its seed.
    seed: usize,
    plugin: &'static dyn Plugin,
    dialect: &'static str,
    args: Vec<String>,
    tree: Tree,
    focus: usize,
}

impl Input {
    fn text(&self) -> &[u8] {
        match &self.tree[self.focus].1 {
            Node::File(b) => b,
            Node::Link(_) => &[],
        }
    }
}

/// Runs `f` on its own thread (with the main thread's stack size); past `budget` it is a
/// hang, and the thread is left to finish (or not) on its own.
fn on_thread(
    budget: Duration,
    f: impl FnOnce() -> (Verdict, Vec<PathBuf>) + Send + 'static,
) -> Option<(Verdict, Vec<PathBuf>)> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("trial".into())
        .stack_size(8 << 20)
        .spawn(move || {
            let (v, w) = f();
            let v = match v {
                Verdict::Failed(Property::Panic, d) => {
                    let at = PANIC_AT.with(|p| p.borrow().clone());
                    Verdict::Failed(Property::Panic, format!("{d} (at {at})"))
                }
                v => v,
            };
            let _ = tx.send((v, w));
        });
    if let Err(e) = spawned {
        return Some((
            Verdict::Refused(format!("cannot start a thread: {e}")),
            Vec::new(),
        ));
    }
    rx.recv_timeout(budget).ok()
}

fn hang(budget: Duration) -> Verdict {
    Verdict::Failed(
        Property::Hang,
        format!("no verdict within {} ms", budget.as_millis()),
    )
}

fn switches(names: &[String]) -> Args {
    let mut args = Args::new();
    for a in names {
        args.push(a, "true");
    }
    args
}

/// Runs one trial in a fresh temporary root.
fn run(input: &Input, budget: Duration) -> Verdict {
    let i = input.clone();
    on_thread(budget, move || {
        (
            check::check(i.plugin, &switches(&i.args), &i.tree),
            Vec::new(),
        )
    })
    .map_or_else(|| hang(budget), |(v, _)| v)
}

/// Roots laid out once per seed and reused: a trial writes its mutated file, and the files
/// it wrote are put back afterwards.
struct Roots {
    dirs: BTreeMap<usize, tempfile::TempDir>,
}

impl Roots {
    /// Runs `input` in its seed's root, laying that out first when needed.
    fn run(&mut self, input: &Input, seed: &corpus::Seed, budget: Duration) -> Verdict {
        if let Entry::Vacant(e) = self.dirs.entry(input.seed) {
            let Ok(dir) = tempfile::tempdir() else {
                return run(input, budget);
            };
            if check::lay_out(dir.path(), &seed.tree).is_err() {
                return run(input, budget);
            }
            e.insert(dir);
        }
        let root = self.dirs[&input.seed].path().to_path_buf();
        let focus = on_disk(&root, &input.tree[input.focus].0);
        if std::fs::write(&focus, input.text()).is_err() {
            self.dirs.remove(&input.seed);
            return run(input, budget);
        }
        let i = input.clone();
        let r = root.clone();
        let Some((v, written)) = on_thread(budget, move || {
            let mut written = Vec::new();
            let v = check::check_in(&r, i.plugin, &switches(&i.args), &mut written);
            (v, written)
        }) else {
            // The trial may still be running in this root: never reuse it.
            self.dirs.remove(&input.seed);
            return hang(budget);
        };
        // Put the seed's files back, and remove the ones the plan created.
        let mut restored = std::fs::write(&focus, seed_text(seed)).is_ok();
        for w in written {
            let at = on_disk(&root, &w);
            match seed.tree.iter().find(|(p, _)| *p == w) {
                Some((_, Node::File(b))) => restored &= std::fs::write(&at, b).is_ok(),
                Some((_, Node::Link(_))) => restored = false,
                None => {
                    restored &= std::fs::remove_file(&at).is_ok();
                    let mut dir = at.parent();
                    while let Some(d) = dir {
                        if d == root || std::fs::remove_dir(d).is_err() {
                            break;
                        }
                        dir = d.parent();
                    }
                }
            }
        }
        if !restored {
            self.dirs.remove(&input.seed);
        }
        v
    }
}

fn on_disk(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

fn seed_text(seed: &corpus::Seed) -> &[u8] {
    match &seed.tree[seed.focus].1 {
        Node::File(b) => b,
        Node::Link(_) => &[],
    }
}

/// What tells two failures apart: the property, and where (the panic's location, or the
/// file the detail names).
fn signature(input: &Input, v: &Verdict) -> String {
    let Verdict::Failed(p, d) = v else {
        return String::new();
    };
    let place = match p {
        Property::Panic => d
            .rsplit_once("(at ")
            .map_or(d.as_str(), |x| x.1)
            .to_string(),
        // The file, and the first word of the line that changed again (the parameter), so
        // two bugs in one file stay two findings.
        Property::NotIdempotent => {
            let (file, rest) = d.split_once(": ").unwrap_or((d.as_str(), ""));
            let word = rest
                .trim_start_matches('"')
                .split(|c: char| c.is_whitespace() || c == '=')
                .find(|w| !w.is_empty())
                .unwrap_or("");
            format!("{file} ({word})")
        }
        _ => d.split(':').next().unwrap_or("").to_string(),
    };
    format!(
        "{} {} {}: {place}",
        input.plugin.name(),
        input.dialect,
        p.word()
    )
}

/// Shrinks a failing input while it keeps failing the same way: first the other files of
/// the tree, then runs of lines of the mutated file.
fn shrink(input: &Input, want: &str, budget: Duration) -> Input {
    let started = Instant::now();
    let same = |i: &Input| signature(i, &run(i, budget)) == want;
    let mut best = input.clone();
    let mut j = best.tree.len();
    while j > 0 {
        j -= 1;
        if j == best.focus || started.elapsed() > Duration::from_secs(30) {
            continue;
        }
        let mut t = best.clone();
        t.tree.remove(j);
        if j < t.focus {
            t.focus -= 1;
        }
        if same(&t) {
            best = t;
        }
    }
    let lines = |b: &[u8]| -> Vec<Vec<u8>> {
        b.split_inclusive(|c| *c == b'\n')
            .map(<[u8]>::to_vec)
            .collect()
    };
    let mut ls = lines(best.text());
    let mut chunk = ls.len() / 2;
    while chunk >= 1 {
        let mut i = 0;
        while i < ls.len() && started.elapsed() < Duration::from_secs(30) {
            let mut fewer = ls.clone();
            fewer.drain(i..(i + chunk).min(ls.len()));
            let mut t = best.clone();
            t.tree[t.focus].1 = Node::File(fewer.concat());
            if same(&t) {
                ls = fewer;
                best = t;
            } else {
                i += chunk;
            }
        }
        chunk /= 2;
    }
    best
}

/// Per-dialect counts.
#[derive(Default)]
struct Tally {
    trials: u64,
    changed: u64,
    unchanged: u64,
    refused: u64,
    failed: BTreeMap<Property, u64>,
    time: Duration,
}

fn show(bytes: &[u8]) -> String {
    const MAX: usize = 2_000;
    let s = String::from_utf8_lossy(bytes);
    if s.len() <= MAX {
        format!("{s:?}")
    } else {
        let cut = (0..=MAX)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{:?}… ({} bytes in all)", &s[..cut], s.len())
    }
}

/// Everything a trial is made from.
struct Ctx {
    o: Options,
    plugins: Vec<&'static dyn Plugin>,
    seeds: Vec<corpus::Seed>,
    /// Per dialect: its seeds (indices) and their mutated files' texts, to splice from.
    groups: Vec<(&'static str, Vec<usize>)>,
    testdata: PathBuf,
}

impl Ctx {
    fn texts(&self, g: usize) -> Vec<&[u8]> {
        self.groups[g]
            .1
            .iter()
            .map(|s| seed_text(&self.seeds[*s]))
            .collect()
    }

    /// Trial `i`: its input and where its seed came from.
    fn make(&self, i: u64, texts: &[Vec<&[u8]>]) -> (Input, &str) {
        let mut rng = Rng::new(self.o.seed ^ i.wrapping_mul(0xd134_2543_de82_ef95));
        let g = (i % self.groups.len() as u64) as usize;
        let idx = *rng.pick(&self.groups[g].1);
        let s = &self.seeds[idx];
        let plugin = self
            .plugins
            .iter()
            .copied()
            .find(|p| p.name() == s.plugin)
            .expect("seeds name registered plugins");
        let mut tree = s.tree.clone();
        tree[s.focus].1 = Node::File(mutate::mutate(seed_text(s), &texts[g], &mut rng));
        let args = plugin
            .args()
            .iter()
            .filter(|a| a.value.is_none() && rng.one_in(2))
            .map(|a| a.name.to_string())
            .collect();
        let input = Input {
            seed: idx,
            plugin,
            dialect: s.dialect,
            args,
            tree,
            focus: s.focus,
        };
        (input, &s.origin)
    }

    fn replay_hint(&self, i: u64) -> String {
        let dialects: String = self
            .o
            .dialects
            .iter()
            .map(|d| format!(" --dialect {d}"))
            .collect();
        format!(
            "cargo xtask fuzz --seed {:#x} --iterations {}{dialects} --trial {i}",
            self.o.seed, self.o.iterations
        )
    }

    /// Prints a finding and, with `--save`, writes it for the tests.
    fn report(&self, sig: &str, i: u64, origin: &str, input: &Input, small: &Input, v: &Verdict) {
        println!(
            "\nFINDING {sig}\n  trial {i} (replay: {})\n  plugin {} on {origin}, mutated {}, \
             switches {:?}\n  {v}\n  shrunk input: {}",
            self.replay_hint(i),
            input.plugin.name(),
            input.tree[input.focus].0.display(),
            input.args,
            show(small.text())
        );
        if self.o.save {
            match saved::save(
                &self.testdata.join("fuzz"),
                small.dialect,
                small.plugin.name(),
                &small.args,
                &small.tree,
                small.focus,
                &v.to_string(),
            ) {
                Ok(p) => println!("  saved: {}", p.display()),
                Err(e) => println!("  not saved: {e}"),
            }
        }
    }
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("v6fix-fuzz: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Temporary trees on a memory filesystem when there is one: most of a trial's time is
    // spent making files otherwise.
    if std::env::var_os("TMPDIR").is_none() && Path::new("/dev/shm").is_dir() {
        std::env::set_var("TMPDIR", "/dev/shm");
    }
    // The plugins join the registry only when their crate is linked: name it.
    std::hint::black_box(v6fix::run::<Vec<String>, String> as fn(Vec<String>) -> u8);
    let mut plugins = v6fix_core::registry();
    plugins.push(&check::HOSTS);
    let names: Vec<&'static str> = plugins.iter().map(|p| p.name()).collect();
    if names.is_empty() {
        eprintln!("v6fix-fuzz: no plugin registered; the v6fix crate is not linked");
        return ExitCode::from(2);
    }
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
        PANIC_AT.with(|p| *p.borrow_mut() = at);
    }));

    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    if o.replay {
        return replay(&testdata, &plugins, o.timeout);
    }
    let seeds: Vec<corpus::Seed> = corpus::seeds(&testdata, &names)
        .into_iter()
        .filter(|s| o.dialects.is_empty() || o.dialects.iter().any(|d| d == s.dialect))
        .collect();
    let mut by_dialect: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
    for (i, s) in seeds.iter().enumerate() {
        by_dialect.entry(s.dialect).or_default().push(i);
    }
    let groups: Vec<(&'static str, Vec<usize>)> = by_dialect.into_iter().collect();
    if groups.is_empty() {
        eprintln!("v6fix-fuzz: no seeds for the dialects asked");
        return ExitCode::from(2);
    }
    let ctx = Ctx {
        o,
        plugins,
        seeds,
        groups,
        testdata,
    };
    let texts: Vec<Vec<&[u8]>> = (0..ctx.groups.len()).map(|g| ctx.texts(g)).collect();

    if let Some(i) = ctx.o.trial {
        let (input, origin) = ctx.make(i, &texts);
        let v = run(&input, ctx.o.timeout);
        println!(
            "trial {i}: {} on {origin} as {}, switches {:?}\ninput: {}\nverdict: {v}",
            input.plugin.name(),
            input.tree[input.focus].0.display(),
            input.args,
            show(input.text())
        );
        return if v.failed().is_some() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    match ctx.o.worker {
        Some(from) => fuzz(&ctx, &texts, from),
        None => supervise(&ctx, &texts),
    }
}

/// Replays the saved findings.
fn replay(testdata: &Path, plugins: &[&'static dyn Plugin], budget: Duration) -> ExitCode {
    let all = match saved::load_all(&testdata.join("fuzz")) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("v6fix-fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let mut bad = 0;
    for s in &all {
        let Some(plugin) = plugins.iter().copied().find(|p| p.name() == s.plugin) else {
            println!("{}: no plugin `{}`", s.name, s.plugin);
            bad += 1;
            continue;
        };
        let input = Input {
            seed: 0,
            plugin,
            dialect: "",
            args: s.args.clone(),
            tree: s.tree.clone(),
            focus: 0,
        };
        let v = run(&input, budget);
        match s.meets(&v) {
            Ok(()) => println!("{}: {v}", s.name),
            Err(e) => {
                println!("{e}");
                bad += 1;
            }
        }
    }
    println!(
        "{} saved findings replayed, {bad} not as expected",
        all.len()
    );
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs the trials in worker processes, so a crash that no `catch_unwind` stops (a stack
/// overflow aborts the process) is a finding too: the worker reports each trial's number
/// before it starts, and after a crash a new worker goes on with the next trial.
fn supervise(ctx: &Ctx, texts: &[Vec<&[u8]>]) -> ExitCode {
    println!(
        "v6fix-fuzz: seed {:#x}, {} iterations over {} seeds in {} dialects, budget {} ms",
        ctx.o.seed,
        ctx.o.iterations,
        ctx.seeds.len(),
        ctx.groups.len(),
        ctx.o.timeout.as_millis()
    );
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("v6fix-fuzz: cannot find my own executable: {e}");
            return ExitCode::from(2);
        }
    };
    let mut from = 0;
    let mut crashes = 0;
    let mut failed = false;
    while from < ctx.o.iterations {
        let mut c = Command::new(&exe);
        c.args(std::env::args().skip(1))
            .args(["--seed", &ctx.o.seed.to_string()])
            .args(["--worker", &from.to_string()])
            .stderr(Stdio::piped());
        let mut child = match c.spawn() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("v6fix-fuzz: cannot start a worker: {e}");
                return ExitCode::from(2);
            }
        };
        let mut last = from;
        let mut said = Vec::new();
        if let Some(err) = child.stderr.take() {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                match line.strip_prefix('@').and_then(|n| n.parse().ok()) {
                    Some(n) => last = n,
                    None => {
                        eprintln!("{line}");
                        said.push(line);
                    }
                }
            }
        }
        let status = match child.wait() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("v6fix-fuzz: lost a worker: {e}");
                return ExitCode::from(2);
            }
        };
        match status.code() {
            Some(0) => break,
            Some(1) => {
                failed = true;
                break;
            }
            Some(code) if code != 134 => return ExitCode::from(code as u8),
            _ => {}
        }
        failed = true;
        crashes += 1;
        let (input, origin) = ctx.make(last, texts);
        let why = said
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| format!("the worker died: {status}"));
        let v = Verdict::Failed(Property::Crash, why);
        let sig = signature(&input, &v);
        ctx.report(&sig, last, origin, &input, &input, &v);
        if crashes >= 20 {
            println!("v6fix-fuzz: 20 crashes, stopping");
            break;
        }
        from = last + 1;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The trials from `from` on, in this process.
fn fuzz(ctx: &Ctx, texts: &[Vec<&[u8]>], from: u64) -> ExitCode {
    let o = &ctx.o;
    let started = Instant::now();
    let mut roots = Roots {
        dirs: BTreeMap::new(),
    };
    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut findings: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut last_report = Instant::now();
    for i in from..o.iterations {
        eprintln!("@{i}");
        let (input, origin) = ctx.make(i, texts);
        let t0 = Instant::now();
        let mut v = roots.run(&input, &ctx.seeds[input.seed], o.timeout);
        // A hang may be a busy machine: it counts when a second run in a fresh root hangs too.
        if v.failed() == Some(Property::Hang) {
            v = run(&input, o.timeout);
        }
        let tally = tallies.entry(input.dialect).or_default();
        tally.trials += 1;
        tally.time += t0.elapsed();
        match &v {
            Verdict::Planned { changed: true } => tally.changed += 1,
            Verdict::Planned { changed: false } => tally.unchanged += 1,
            Verdict::Refused(_) => tally.refused += 1,
            Verdict::Failed(p, _) => *tally.failed.entry(*p).or_default() += 1,
        }
        if let Some(p) = v.failed() {
            let sig = signature(&input, &v);
            let entry = findings.entry(sig.clone()).or_insert((i, 0));
            entry.1 += 1;
            if entry.1 == 1 {
                let small = if p == Property::Hang {
                    input.clone()
                } else {
                    shrink(&input, &sig, o.timeout)
                };
                let v = if p == Property::Hang {
                    v.clone()
                } else {
                    run(&small, o.timeout)
                };
                ctx.report(&sig, i, origin, &input, &small, &v);
            }
        }
        if !o.quiet && last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            println!(
                "  … {} of {} trials, {:.0}s, {} distinct findings",
                i + 1,
                o.iterations,
                started.elapsed().as_secs_f64(),
                findings.len()
            );
        }
    }

    println!(
        "\n{:<11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "dialect", "trials", "changed", "same", "refused", "failed", "ms/trial"
    );
    for (d, t) in &tallies {
        let failed: u64 = t.failed.values().sum();
        println!(
            "{d:<11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9.2}",
            t.trials,
            t.changed,
            t.unchanged,
            t.refused,
            failed,
            t.time.as_secs_f64() * 1e3 / t.trials.max(1) as f64
        );
    }
    println!(
        "\n{} trials in {:.1}s (seed {:#x}); {} distinct findings",
        o.iterations - from,
        started.elapsed().as_secs_f64(),
        o.seed,
        findings.len()
    );
    for (sig, (first, n)) in &findings {
        println!("  {sig}  ({n}x, first in trial {first})");
    }
    if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
