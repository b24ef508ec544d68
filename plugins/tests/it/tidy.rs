//! Rules about the source tree itself, checked on every test run:
//!
//! - every Rust file opens with a `//!` comment saying what it is;
//! - nothing but the apply engine writes to disk: outside [`APPLY_ENGINE`], the code of
//!   `core/src` and `plugins/src` (tests excluded) names no call that creates, writes,
//!   renames, removes or re-permissions a file;
//! - the README's sections on the service commands name exactly the registered plugins;
//! - no test is ignored or expected to panic, and the harness-free `it` binary holds no
//!   `#[test]` function, which it would never run.
//!
//! The scans read code only: comments and the insides of string and character literals are
//! blanked first, so prose and messages never trip them.

use crate::support;
use std::path::{Path, PathBuf};

/// The apply engine: the only code that may write to disk. A file path, or a directory
/// when it ends in `/`: the commit (with its staging copies for the checkers), its journal and
/// the root-handle file access it writes through.
const APPLY_ENGINE: &[&str] = &[
    "core/src/apply.rs",
    "core/src/apply/",
    "core/src/journal.rs",
    "core/src/fsroot.rs",
];

/// Calls that change what is on disk: creating, writing, truncating, renaming, linking,
/// removing or re-permissioning files and directories. Matched as whole words of code.
const DISK_WRITES: &[&str] = &[
    "fs::write",
    "File::create",
    "File::create_new",
    "File::options",
    "OpenOptions",
    "DirBuilder",
    "create_dir",
    "create_dir_all",
    "remove_file",
    "remove_dir",
    "remove_dir_all",
    "rename",
    "hard_link",
    "symlink",
    "fs::copy",
    "set_len",
    "set_permissions",
    "chown",
    "fchown",
    "lchown",
    "set_times",
    "set_modified",
    "tempfile",
    "NamedTempFile",
    "persist",
];

/// The directories whose non-test code the disk-write rule covers.
const NO_WRITES_IN: &[&str] = &["core/src", "plugins/src"];

/// Known breaches of the rule against ignored and should-panic tests, as (file, attribute),
/// allowed until the source is fixed; an entry that no longer matches fails the test, so the
/// list only shrinks. It is empty: keep it so.
const ATTRIBUTE_EXCEPTIONS: &[(&str, &str)] = &[];

/// The commands that span the plugins; every other command is a plugin.
const SPANNING_COMMANDS: &[&str] = &[
    "all",
    "audit",
    "history",
    "list",
    "plan",
    "preflight",
    "recover",
    "restore",
];

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("plugins/ lives in the workspace")
        .to_path_buf()
}

/// Every `.rs` file below `dir` (relative to the workspace root), sorted; `target/` and
/// hidden directories are not looked into.
fn rust_files(dir: &str) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for e in entries {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                if name != "target" && !name.starts_with('.') {
                    walk(base, &p, out);
                }
            } else if name.ends_with(".rs") {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let root = root();
    let mut out = Vec::new();
    walk(&root, &root.join(dir), &mut out);
    out.sort();
    out
}

/// Every Rust file of the workspace.
fn all_rust_files() -> Vec<String> {
    ["core", "fuzz", "plugins", "xtask"]
        .iter()
        .flat_map(|d| rust_files(d))
        .collect()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `src` with comments and the insides of string and character literals blanked (newlines
/// kept), so what is left is code, at the same offsets and on the same lines.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let raw_start = b[i] == b'r'
            && (i == 0
                || !is_ident(b[i - 1])
                || (b[i - 1] == b'b' && (i < 2 || !is_ident(b[i - 2]))));
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if raw_start && matches!(b.get(i + 1), Some(b'"' | b'#')) {
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let body = i + 2 + hashes;
            let end = src[body..].find(&close).map_or(b.len(), |n| body + n);
            blank(&mut out, body, end);
            i = end + close.len();
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j);
            i = j + 1;
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\u{..}', 'é'), or else a lifetime.
            let rest = &src[i + 1..];
            let len = if let Some(escaped) = rest.strip_prefix('\\') {
                // Past the escaped character, which may be `'` itself.
                escaped.get(1..).and_then(|t| t.find('\'')).map(|n| n + 2)
            } else {
                rest.chars()
                    .next()
                    .map(char::len_utf8)
                    .filter(|&n| rest[n..].starts_with('\''))
            };
            match len {
                Some(n) => {
                    blank(&mut out, i + 1, i + 1 + n);
                    i += n + 2;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8")
}

/// `code` (from [`code_only`]) without its `#[cfg(test)]` items, blanked as above; and the
/// names of modules declared `#[cfg(test)] mod name;`, whose files are test code too.
fn without_tests(code: &str) -> (String, Vec<String>) {
    let mut out = code.to_string();
    let mut test_mods = Vec::new();
    let mut from = 0;
    while let Some(n) = out[from..].find("#[cfg(test)]") {
        let start = from + n;
        let after = start + "#[cfg(test)]".len();
        let item_end = match out[after..].find(['{', ';']).map(|k| after + k) {
            Some(k) if out.as_bytes()[k] == b';' => {
                let decl = out[after..k].split_whitespace().collect::<Vec<_>>();
                if let ["mod", name] | ["pub", "mod", name] | ["pub(crate)", "mod", name] =
                    decl.as_slice()
                {
                    test_mods.push(name.to_string());
                }
                k + 1
            }
            Some(k) => {
                let mut depth = 0;
                let mut end = out.len();
                for (j, c) in out[k..].bytes().enumerate() {
                    match c {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = k + j + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            None => out.len(),
        };
        let blanked: String = out[start..item_end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(start..item_end, &blanked);
        from = item_end;
    }
    (out, test_mods)
}

/// Where `word` occurs in `code` as whole words, as 1-based line numbers.
fn lines_with(code: &str, word: &str) -> Vec<usize> {
    let b = code.as_bytes();
    code.match_indices(word)
        .filter(|(i, _)| {
            let before = i.checked_sub(1).map(|k| b[k]);
            let after = b.get(i + word.len()).copied();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .map(|(i, _)| code[..i].matches('\n').count() + 1)
        .collect()
}

/// `path:line: word` for every disk-writing call in the non-test code of `files`.
fn disk_writes(files: &[(String, String)]) -> Vec<String> {
    // Files of modules declared `#[cfg(test)] mod name;` are test code.
    let mut test_files = Vec::new();
    for (path, text) in files {
        let (_, mods) = without_tests(&code_only(text));
        let dir = match path.rsplit_once('/') {
            Some((dir, file)) if ["mod.rs", "lib.rs", "main.rs"].contains(&file) => dir.to_string(),
            _ => path.trim_end_matches(".rs").to_string(),
        };
        for m in mods {
            test_files.push(format!("{dir}/{m}.rs"));
            test_files.push(format!("{dir}/{m}/mod.rs"));
        }
    }
    let mut found = Vec::new();
    for (path, text) in files {
        if test_files.contains(path) {
            continue;
        }
        let (code, _) = without_tests(&code_only(text));
        for word in DISK_WRITES {
            for line in lines_with(&code, word) {
                found.push(format!("{path}:{line}: {word}"));
            }
        }
    }
    found.sort();
    found
}

fn in_apply_engine(path: &str) -> bool {
    APPLY_ENGINE
        .iter()
        .any(|e| path == *e || (e.ends_with('/') && path.starts_with(e)))
}

/// `path:line: attribute` for every ignore or should_panic attribute (also inside
/// `cfg_attr`) and, when `libtest` is false, `#[test]` in the code of `files`.
fn forbidden_attributes(files: &[(String, String)], libtest: bool) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in files {
        let code = code_only(text);
        for (n, line) in code.lines().enumerate() {
            let l: String = line.split_whitespace().collect();
            let mut bad = Vec::new();
            for attr in ["ignore", "should_panic"] {
                if l.contains(&format!("#[{attr}"))
                    || (l.contains("#[cfg_attr(") && !lines_with(&l, attr).is_empty())
                {
                    bad.push(attr);
                }
            }
            if !libtest && l.contains("#[test]") {
                bad.push("test");
            }
            for attr in bad {
                found.push(format!("{path}:{}: #[{attr}]", n + 1));
            }
        }
    }
    found
}

fn with_text(paths: Vec<String>) -> Vec<(String, String)> {
    paths
        .into_iter()
        .map(|p| {
            let t = read(&p);
            (p, t)
        })
        .collect()
}

fn every_rust_file_opens_with_a_doc_comment() {
    let files = all_rust_files();
    assert!(files.len() >= 50, "only {} Rust files found", files.len());
    let bad: Vec<&String> = files
        .iter()
        .filter(|p| !read(p).starts_with("//!"))
        .collect();
    assert!(
        bad.is_empty(),
        "these files do not open with a `//!` comment saying what they are:\n{bad:#?}"
    );
}

fn only_the_apply_engine_writes_to_disk() {
    let files: Vec<String> = NO_WRITES_IN.iter().flat_map(|d| rust_files(d)).collect();
    assert!(
        files.iter().any(|f| in_apply_engine(f)),
        "no file of the apply engine {APPLY_ENGINE:?} found: update APPLY_ENGINE"
    );
    let all = disk_writes(&with_text(files));
    let (engine, outside): (Vec<&String>, Vec<&String>) = all
        .iter()
        .partition(|w| in_apply_engine(w.split(':').next().unwrap()));
    assert!(
        !engine.is_empty(),
        "the scan finds no write even in the apply engine: it is broken"
    );
    assert!(
        outside.is_empty(),
        "only the apply engine ({APPLY_ENGINE:?}) may write to disk; move these calls \
         there (path:line: call):\n{outside:#?}"
    );
}

fn the_scans_see_code_and_not_comments_strings_or_tests() {
    let src = r####"//! A sample.
// std::fs::write in a comment
/* fs::write in a /* nested */ block */
fn f(p: &str) {
    let s = "fs::write(p) and #[ign\x6fre]";
    let r = r#"rename "quoted" "#;
    let c = ('"', '\'', '\u{22}');
    let l: &'static str = "x";
    std::fs::write(p, s).unwrap();
    is_symlink(); symlink_metadata();
}
#[cfg(test)]
mod tests {
    fn g() { std::fs::remove_file("x").unwrap(); let b = '{'; }
}
#[cfg(test)]
mod more;
fn h() { std::fs::rename("a", "b").unwrap(); }
#[cfg_attr(unix, ignore)]
#[should_panic]
fn t() {}
"####;
    let files = vec![
        ("core/src/sample.rs".to_string(), src.to_string()),
        (
            "core/src/sample/more.rs".to_string(),
            "//! Tests.\nfn x() { std::fs::write(\"a\", \"b\").unwrap(); }\n".to_string(),
        ),
    ];
    assert_eq!(
        disk_writes(&files),
        [
            "core/src/sample.rs:18: rename",
            "core/src/sample.rs:9: fs::write"
        ]
    );
    assert_eq!(
        forbidden_attributes(&files[..1], false),
        [
            &format!("core/src/sample.rs:19: #[{}]", "ignore"),
            "core/src/sample.rs:20: #[should_panic]"
        ]
    );
    let test = "//! T.\n#[test]\nfn t() {}\n";
    assert_eq!(
        forbidden_attributes(&[("x.rs".into(), test.into())], false),
        ["x.rs:2: #[test]"]
    );
    assert!(forbidden_attributes(&[("x.rs".into(), test.into())], true).is_empty());
}

fn no_test_is_ignored_or_expected_to_panic() {
    let found = forbidden_attributes(&with_text(all_rust_files()), true);
    let excepted = |f: &String, (path, attr): &(&str, &str)| {
        f.starts_with(&format!("{path}:")) && f.ends_with(&format!(": #[{attr}]"))
    };
    for e in ATTRIBUTE_EXCEPTIONS {
        assert!(
            found.iter().any(|f| excepted(f, e)),
            "{e:?} is fixed: remove it from ATTRIBUTE_EXCEPTIONS"
        );
    }
    let bad: Vec<&String> = found
        .iter()
        .filter(|f| !ATTRIBUTE_EXCEPTIONS.iter().any(|e| excepted(f, e)))
        .collect();
    assert!(
        bad.is_empty(),
        "no test may be ignored or expected to panic: a test that cannot run here says why \
         through support::Skip, and one that expects a panic catches it and checks it:\n{bad:#?}"
    );
}

fn the_harness_free_binary_holds_no_libtest_test() {
    let files = rust_files("plugins/tests/it");
    assert!(files.iter().any(|f| f.ends_with("it/main.rs")), "{files:?}");
    let bad = forbidden_attributes(&with_text(files), false);
    assert!(
        bad.is_empty(),
        "plugins/tests/it runs under libtest-mimic, which never runs a `#[test]` function: \
         list it in its module's trials() instead:\n{bad:#?}"
    );
}

/// The command names in the `### ` headings of the README's `## Commands` section.
fn readme_commands() -> Vec<String> {
    let readme = read("README.md");
    let section: Vec<&str> = readme
        .lines()
        .skip_while(|l| *l != "## Commands")
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect();
    assert!(
        !section.is_empty(),
        "README.md has no `## Commands` section"
    );
    let mut names = Vec::new();
    for heading in section.iter().filter(|l| l.starts_with("### ")) {
        // "### `apache`, `sshd`" and "### `all`: one command per host" alike.
        let head = heading.split_once(':').map_or(*heading, |(h, _)| h);
        names.extend(head.split('`').skip(1).step_by(2).map(str::to_string));
    }
    names.sort();
    names
}

fn the_readme_documents_exactly_the_registered_plugins() {
    let empty = tempfile::tempdir().unwrap();
    let o = support::v6fix(empty.path(), &["list", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", support::show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut registry: Vec<String> = v["plugins"]
        .as_array()
        .unwrap_or_else(|| panic!("no plugins in {v}"))
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    registry.sort();
    assert!(registry.len() >= 9, "{registry:?}");

    let documented = readme_commands();
    let plugins: Vec<&String> = documented
        .iter()
        .filter(|c| !SPANNING_COMMANDS.contains(&c.as_str()))
        .collect();
    assert_eq!(
        plugins,
        registry.iter().collect::<Vec<_>>(),
        "README.md's `## Commands` sections must name exactly the registered plugins"
    );
    for c in SPANNING_COMMANDS {
        assert!(
            documented.iter().any(|d| d == c),
            "README.md documents no `{c}` command"
        );
        assert!(!registry.iter().any(|r| r == c), "`{c}` is a plugin now");
    }
}

/// This module's tests, for the harness in `main.rs`.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        every_rust_file_opens_with_a_doc_comment,
        only_the_apply_engine_writes_to_disk,
        the_scans_see_code_and_not_comments_strings_or_tests,
        no_test_is_ignored_or_expected_to_panic,
        the_harness_free_binary_holds_no_libtest_test,
        the_readme_documents_exactly_the_registered_plugins,
    ]
}
