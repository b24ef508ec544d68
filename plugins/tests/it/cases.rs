//! Golden CLI cases: every directory under `testdata/cases/<group>/<case>/` holds
//!
//! - `args`: the arguments after `v6fix --root ROOT`, on one line, split on blanks;
//! - `in/`: the machine's tree before the run;
//! - `out/`: the files the run must change or create, as they must end up (every other
//!   file must stay byte-identical);
//! - `stdout`: the expected standard output, with the root shown as `[ROOT]` and the id of
//!   the run (a time) as `[RUN]`;
//! - `stderr` (optional): the expected standard error, likewise;
//! - `code` (optional): the expected exit code, 0 when absent;
//! - `audit-after` (optional): what `v6fix audit --plugin <it>` still reports after the run,
//!   when that is not nothing (another interface left alone, say).
//!
//! Each case also proves the contract around it: `--check` first writes nothing and exits
//! 1 exactly when the run changes something; a second run after one that changed files
//! changes nothing and says so; one that changed files without a warning leaves a tree that
//! `v6fix audit` finds clean; a failing run (exit 2) leaves the tree as it was.
//!
//! Cases run with `--no-validate` (validation has its own tests), and tree comparisons leave
//! out v6fix's own state (`var/lib/v6fix`).
//!
//! Each case is one test, `cases::<group>::<case>`, so the usual filter selects cases
//! (`cargo test -p v6fix --test it -- cases::postfix::`); a failure shows each difference as
//! a unified diff, expected (`want`) against actual (`got`).
//!
//! `V6FIX_BLESS=1 cargo test -p v6fix --test it -- cases::` (`cargo xtask bless`) rewrites
//! `out/`, `stdout`, `stderr` and `code` of the selected cases from what the binary does now;
//! review the diff before committing it.

use crate::support::{self, copy_tree, read_tree, v6fix, Entry};
use libtest_mimic::{Failed, Trial};
use std::path::{Path, PathBuf};

/// The output with the root shown as `[ROOT]` and the run's id (a time) as `[RUN]`.
fn normalise(bytes: &[u8], root: &Path) -> String {
    let text = String::from_utf8_lossy(bytes).replace(&root.display().to_string(), "[ROOT]");
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.split_once("\"run\": \"") {
            Some((head, rest)) => {
                let tail = rest.split_once('"').map_or("", |(_, t)| t);
                out.push_str(&format!("{head}\"run\": \"[RUN]\"{tail}"));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `want` against `got` as a unified diff of lines.
fn diff(what: &str, want: &str, got: &str) -> String {
    similar::TextDiff::from_lines(want, got)
        .unified_diff()
        .context_radius(3)
        .header(&format!("want/{what}"), &format!("got/{what}"))
        .to_string()
}

fn run_case(case: &Path, bless: bool) -> Result<(), String> {
    let args_text = std::fs::read_to_string(case.join("args")).unwrap();
    let args: Vec<&str> = args_text.split_whitespace().collect();
    let checking = args.contains(&"--check");
    let expect_code: i32 = std::fs::read_to_string(case.join("code"))
        .map(|s| s.trim().parse().unwrap())
        .unwrap_or(0);
    let before = tempfile::tempdir().unwrap();
    copy_tree(&case.join("in"), before.path());
    let original = read_tree(before.path());

    // --check first: nothing written, exit 1 exactly when something would change.
    if !checking && !bless && expect_code == 0 {
        let mut check_args = vec!["--check"];
        check_args.extend(&args);
        let o = v6fix(before.path(), &check_args);
        let expect_changes = case.join("out").exists();
        let want = if expect_changes { 1 } else { 0 };
        if o.status.code() != Some(want) {
            return Err(format!("--check: want exit {want}\n{}", support::show(&o)));
        }
        if read_tree(before.path()) != original {
            return Err("--check wrote to the tree".into());
        }
    }

    let root = tempfile::tempdir().unwrap();
    copy_tree(&case.join("in"), root.path());
    let o = v6fix(root.path(), &args);
    let stdout = normalise(&o.stdout, root.path());
    let stderr = normalise(&o.stderr, root.path());
    let code = o.status.code().unwrap_or(-1);
    let after = read_tree(root.path());

    if bless {
        let out = case.join("out");
        let _ = std::fs::remove_dir_all(&out);
        for (rel, entry) in &after {
            if original.get(rel) != Some(entry) {
                if let Entry::File(bytes) = entry {
                    let p = out.join(rel);
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(p, bytes).unwrap();
                }
            }
        }
        std::fs::write(case.join("stdout"), &stdout).unwrap();
        if stderr.is_empty() {
            let _ = std::fs::remove_file(case.join("stderr"));
        } else {
            std::fs::write(case.join("stderr"), &stderr).unwrap();
        }
        if code == 0 {
            let _ = std::fs::remove_file(case.join("code"));
        } else {
            std::fs::write(case.join("code"), format!("{code}\n")).unwrap();
        }
        return Ok(());
    }

    let mut problems = Vec::new();
    if code != expect_code {
        problems.push(format!("exit code {code}, want {expect_code}"));
    }
    let want_stdout = std::fs::read_to_string(case.join("stdout")).unwrap_or_default();
    if stdout != want_stdout {
        problems.push(format!(
            "stdout differs\n{}",
            diff("stdout", &want_stdout, &stdout)
        ));
    }
    if let Ok(want_stderr) = std::fs::read_to_string(case.join("stderr")) {
        if stderr != want_stderr {
            problems.push(format!(
                "stderr differs\n{}",
                diff("stderr", &want_stderr, &stderr)
            ));
        }
    }
    let expected = support::expected_tree(case);
    let want_tree = read_tree(expected.path());
    for (rel, entry) in want_tree.iter() {
        match after.get(rel) {
            Some(got) if got == entry => {}
            Some(Entry::File(got)) => problems.push(format!(
                "{} differs\n{}",
                rel.display(),
                diff(
                    &rel.display().to_string(),
                    &String::from_utf8_lossy(match entry {
                        Entry::File(b) => b,
                        Entry::Link(_) => b"(a symlink)",
                    }),
                    &String::from_utf8_lossy(got)
                )
            )),
            other => problems.push(format!("{}: want {entry:?}, got {other:?}", rel.display())),
        }
    }
    for rel in after.keys() {
        if !want_tree.contains_key(rel) {
            problems.push(format!("{} was created but is not in out/", rel.display()));
        }
    }

    // A run that changed files and warned about nothing leaves its service auditing clean,
    // or with exactly the findings the case's `audit-after` file lists.
    if problems.is_empty()
        && code == 0
        && !checking
        && case.join("out").exists()
        && stderr.is_empty()
    {
        let mut audit = vec!["audit"];
        if let Some(plugin) = args
            .iter()
            .find(|a| !a.starts_with('-'))
            .filter(|a| **a != "all")
        {
            audit.extend(["--plugin", plugin]);
        }
        let o = v6fix(root.path(), &audit);
        let got = normalise(&o.stdout, root.path());
        match std::fs::read_to_string(case.join("audit-after")) {
            Ok(want) if got != want => problems.push(format!(
                "audit after the run differs\n{}",
                diff("audit-after", &want, &got)
            )),
            Ok(_) => {}
            Err(_) if o.status.code() != Some(0) => {
                problems.push(format!("the converted tree does not audit clean\n{got}"))
            }
            Err(_) => {}
        }
    }

    // A successful run, repeated, changes nothing and says so.
    if problems.is_empty() && code == 0 && !checking && case.join("out").exists() {
        let o = v6fix(root.path(), &args);
        let again = String::from_utf8_lossy(&o.stdout);
        let says_so = again.contains("nothing to change") || again.contains("\"changed\": false");
        if o.status.code() != Some(0) || read_tree(root.path()) != after || !says_so {
            problems.push(format!("second run was not a no-op\n{}", support::show(&o)));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Every case directory, `testdata/cases/<group>/<case>/`, by group and name.
fn all_cases() -> Vec<(String, PathBuf)> {
    let mut groups: Vec<String> = std::fs::read_dir(support::testdata().join("cases"))
        .unwrap()
        .map(|g| g.unwrap().file_name().into_string().unwrap())
        .collect();
    groups.sort();
    let mut out = Vec::new();
    for g in groups {
        for case in support::cases(&g) {
            let name = format!("{g}::{}", case.file_name().unwrap().to_string_lossy());
            out.push((name, case));
        }
    }
    out
}

/// One trial per golden case, named `cases::<group>::<case>`.
pub(crate) fn trials() -> Vec<Trial> {
    let bless = std::env::var("V6FIX_BLESS").is_ok_and(|v| v == "1");
    let cases = all_cases();
    assert!(!cases.is_empty(), "no golden case under testdata/cases");
    cases
        .into_iter()
        .map(|(name, case)| {
            Trial::test(format!("cases::{name}"), move || {
                run_case(&case, bless).map_err(Failed::from)
            })
        })
        .collect()
}
