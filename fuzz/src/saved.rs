//! Saved findings: what the fuzzer writes under `testdata/fuzz/` and the integration tests
//! replay (they include this file by path, next to `check.rs`).
//!
//! A finding is the input file, `<dialect>/<hash>.<file name>`, and a sidecar,
//! `<dialect>/<hash>.meta`, of `key value` lines:
//!
//! - `plugin NAME`: the plugin to run;
//! - `path /machine/path`: where the input lies in the machine tree;
//! - `arg NAME` (any number): the plugin's switches given;
//! - `expect planned|refused|holds`: the outcome the replay requires (`holds`: either);
//! - `found PROPERTY: DETAIL`: what the fuzzer saw when it saved the input (informational).
//!
//! Other files the trial needs lie in `<dialect>/<hash>.root/`, as a machine tree.

use super::check::{Node, Tree};
use std::path::{Path, PathBuf};

/// One saved finding, read back.
#[derive(Debug, Clone)]
pub(crate) struct Saved {
    /// `<dialect>/<hash>`, for messages.
    pub(crate) name: String,
    pub(crate) plugin: String,
    pub(crate) args: Vec<String>,
    pub(crate) expect: String,
    pub(crate) found: String,
    pub(crate) tree: Tree,
}

/// The outcomes a sidecar may expect.
pub(crate) const EXPECTS: &[&str] = &["planned", "refused", "holds"];

impl Saved {
    /// Whether `verdict`, from replaying this finding, is what its sidecar expects.
    pub(crate) fn meets(&self, verdict: &super::check::Verdict) -> Result<(), String> {
        use super::check::Verdict;
        let ok = match (self.expect.as_str(), verdict) {
            (_, Verdict::Failed(..)) => false,
            ("planned", Verdict::Planned { .. }) | ("refused", Verdict::Refused(_)) => true,
            ("holds", _) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{}: expected `{}`, got {verdict} (the fuzzer had found: {})",
                self.name, self.expect, self.found
            ))
        }
    }
}

/// Every finding below `dir` (`testdata/fuzz`), sorted by name.
pub(crate) fn load_all(dir: &Path) -> Result<Vec<Saved>, String> {
    let mut out = Vec::new();
    let Ok(dialects) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for d in dialects.flatten() {
        if !d.file_type().map_err(|e| e.to_string())?.is_dir() {
            continue;
        }
        let dialect = d.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(d.path())
            .map_err(|e| e.to_string())?
            .flatten()
        {
            let name = f.file_name().to_string_lossy().into_owned();
            if let Some(hash) = name.strip_suffix(".meta") {
                out.push(load(&d.path(), &dialect, hash)?);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn load(dir: &Path, dialect: &str, hash: &str) -> Result<Saved, String> {
    let name = format!("{dialect}/{hash}");
    let meta = std::fs::read_to_string(dir.join(format!("{hash}.meta")))
        .map_err(|e| format!("{name}.meta: {e}"))?;
    let mut plugin = None;
    let mut path = None;
    let mut args = Vec::new();
    let mut expect = None;
    let mut found = String::new();
    for line in meta.lines().filter(|l| !l.trim().is_empty()) {
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        match k {
            "plugin" => plugin = Some(v.to_string()),
            "path" => path = Some(PathBuf::from(v)),
            "arg" => args.push(v.to_string()),
            "expect" if EXPECTS.contains(&v) => expect = Some(v.to_string()),
            "found" => found = v.to_string(),
            _ => return Err(format!("{name}.meta: unknown line `{line}`")),
        }
    }
    let (Some(plugin), Some(path), Some(expect)) = (plugin, path, expect) else {
        return Err(format!("{name}.meta: needs plugin, path and expect lines"));
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| format!("{name}.meta: path names no file"))?
        .to_string_lossy()
        .into_owned();
    let input = std::fs::read(dir.join(format!("{hash}.{file_name}")))
        .map_err(|e| format!("{name}.{file_name}: {e}"))?;
    let mut tree: Tree = vec![(path, Node::File(input))];
    let extra = dir.join(format!("{hash}.root"));
    if extra.is_dir() {
        for (rel, node) in super::check::snapshot(&extra) {
            tree.push((Path::new("/").join(rel), node));
        }
    }
    Ok(Saved {
        name,
        plugin,
        args,
        expect,
        found,
        tree,
    })
}

/// FNV-1a, 64 bits: a short, stable name for an input.
pub(crate) fn hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain([0u8].iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Writes a finding for `plugin` whose input is the entry at `focus` of `tree`; returns the
/// name of its sidecar.
pub(crate) fn save(
    dir: &Path,
    dialect: &str,
    plugin: &str,
    args: &[String],
    tree: &Tree,
    focus: usize,
    found: &str,
) -> std::io::Result<PathBuf> {
    let (path, node) = &tree[focus];
    let Node::File(input) = node else {
        return Err(std::io::Error::other("the input is not a file"));
    };
    let h = hash(&[plugin.as_bytes(), path.to_string_lossy().as_bytes(), input]);
    let hash = format!("{:08x}", h >> 32);
    let dir = dir.join(dialect);
    std::fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::write(dir.join(format!("{hash}.{file_name}")), input)?;
    let mut meta = format!("plugin {plugin}\npath {}\n", path.display());
    for a in args {
        meta.push_str(&format!("arg {a}\n"));
    }
    let found: String = found
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    meta.push_str(&format!("expect holds\nfound {found}\n"));
    let others: Vec<&(PathBuf, Node)> = tree
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != focus)
        .map(|(_, e)| e)
        .collect();
    if !others.is_empty() {
        let extra = dir.join(format!("{hash}.root"));
        let _ = std::fs::remove_dir_all(&extra);
        let rest: Tree = others.into_iter().cloned().collect();
        super::check::lay_out(&extra, &rest)?;
    }
    let meta_path = dir.join(format!("{hash}.meta"));
    std::fs::write(&meta_path, meta)?;
    Ok(meta_path)
}
