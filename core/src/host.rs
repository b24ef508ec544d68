//! A read-only view of a machine's filesystem under `--root`.
//!
//! Paths given to a [`Host`] are the machine's own absolute paths (`/etc/postfix/main.cf`).
//! Symlinks are followed the way they would be on the machine itself: an absolute target
//! is resolved against the root (Debian's nginx links `sites-enabled/default` to
//! `/etc/nginx/sites-available/default`), a relative one against the link's directory.
//! A path that would climb above the root is refused. Plugins read only through a Host, so
//! nothing they do can reach outside the tree they were pointed at.

use crate::error::{Error, ParseError, Result};
use crate::text::{decode, LineCol, LineIndex};
use std::cell::OnceCell;
use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

const MAX_LINKS: usize = 40;

/// A config file as read: the path it was asked for, the file it really is, its text.
#[derive(Debug, Clone)]
pub struct File {
    /// The machine path it was read by (may be a symlink).
    pub path: PathBuf,
    /// The machine path of the regular file behind it, after following symlinks.
    pub target: PathBuf,
    pub text: String,
    /// Built on the first position lookup, so reporting many places stays linear.
    index: OnceCell<LineIndex>,
}

impl File {
    pub fn new(path: PathBuf, target: PathBuf, text: String) -> File {
        File {
            path,
            target,
            text,
            index: OnceCell::new(),
        }
    }

    /// The 1-based line holding byte `offset` of the text.
    pub fn line(&self, offset: usize) -> usize {
        self.index
            .get_or_init(|| LineIndex::new(&self.text))
            .line(offset.min(self.text.len()))
    }

    /// The line and column of byte `offset` of the text.
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.index
            .get_or_init(|| LineIndex::new(&self.text))
            .line_col(&self.text, offset)
    }
}

impl PartialEq for File {
    fn eq(&self, other: &File) -> bool {
        (&self.path, &self.target, &self.text) == (&other.path, &other.target, &other.text)
    }
}

impl Eq for File {}

/// The filesystem of the machine being converted, seen from `--root`.
#[derive(Debug, Clone)]
pub struct Host {
    root: PathBuf,
    /// Files planned but not written yet, by target: later plugins of one run see them.
    overlay: HashMap<PathBuf, String>,
}

impl Host {
    /// A view of the tree at `root`, which must be an existing directory.
    pub fn new(root: impl Into<PathBuf>) -> Result<Host> {
        let root = root.into();
        match std::fs::metadata(&root) {
            Ok(m) if m.is_dir() => Ok(Host {
                root,
                overlay: HashMap::new(),
            }),
            Ok(_) => Err(Error::usage(format!(
                "--root {}: not a directory",
                root.display()
            ))),
            Err(e) => Err(Error::usage(format!("--root {}: {e}", root.display()))),
        }
    }

    /// The root as given on the command line.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The same view, with planned file contents laid over the disk.
    pub fn with_overlay<'a>(&self, files: impl IntoIterator<Item = (&'a Path, &'a str)>) -> Host {
        let mut h = self.clone();
        for (target, text) in files {
            h.overlay.insert(target.to_path_buf(), text.to_string());
        }
        h
    }

    /// Where a machine path lies on this computer's filesystem, without following links.
    pub fn on_disk(&self, path: &Path) -> PathBuf {
        let mut p = self.root.clone();
        for c in path.components() {
            if let Component::Normal(n) = c {
                p.push(n);
            }
        }
        p
    }

    /// A machine path as shown in messages: the file's path on this computer.
    pub fn display(&self, path: &Path) -> String {
        self.on_disk(path).display().to_string()
    }

    /// A machine path relative to the root, as diffs show it (`etc/postfix/main.cf`).
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix("/").unwrap_or(path).display().to_string()
    }

    /// Follows every symlink in `path` inside the root and returns the machine path of
    /// what it names (which need not exist).
    pub fn resolve(&self, path: &Path) -> Result<PathBuf> {
        let refuse = |reason: String| Error::Refused {
            path: self.display(path),
            reason,
        };
        if !path.is_absolute() {
            return Err(refuse("not an absolute path".into()));
        }
        let mut todo: VecDeque<OsString> = VecDeque::new();
        push_components(&mut todo, path, false).map_err(refuse)?;
        let mut cur: Vec<OsString> = Vec::new();
        let mut links = 0;
        while let Some(c) = todo.pop_front() {
            if c == ".." {
                if cur.pop().is_none() {
                    return Err(refuse("a symlink or `..` leads outside --root".into()));
                }
                continue;
            }
            cur.push(c);
            let here = self.on_disk(&join(&cur));
            let Ok(meta) = std::fs::symlink_metadata(&here) else {
                continue;
            };
            if !meta.file_type().is_symlink() {
                continue;
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(refuse("too many levels of symlinks".into()));
            }
            let target =
                std::fs::read_link(&here).map_err(|e| Error::io(self.display(path), &e))?;
            cur.pop();
            if target.is_absolute() {
                cur.clear();
            }
            push_components(&mut todo, &target, true).map_err(refuse)?;
        }
        Ok(join(&cur))
    }

    /// Reads a file as UTF-8 text; `None` when it does not exist.
    pub fn read(&self, path: &Path) -> Result<Option<File>> {
        let target = self.resolve(path)?;
        if let Some(text) = self.overlay.get(&target) {
            return Ok(Some(File::new(path.to_path_buf(), target, text.clone())));
        }
        let real = self.on_disk(&target);
        let bytes = match std::fs::read(&real) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(self.display(path), &e)),
        };
        let text = decode(bytes).map_err(|(at, byte)| Error::Parse {
            path: self.display(path),
            at,
            found: format!("the byte 0x{byte:02x}, which is not UTF-8"),
            expected: "UTF-8 text".into(),
        })?;
        Ok(Some(File::new(path.to_path_buf(), target, text)))
    }

    /// True when `path` names an existing file or directory (after following links).
    pub fn exists(&self, path: &Path) -> bool {
        match self.resolve(path) {
            Ok(t) => self.overlay.contains_key(&t) || self.on_disk(&t).exists(),
            Err(_) => false,
        }
    }

    /// True when `path` itself is a symlink (not followed).
    pub fn is_symlink(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(self.on_disk(path)).is_ok_and(|m| m.file_type().is_symlink())
    }

    /// The target of symlink `path`, as written in the link.
    pub fn read_link(&self, path: &Path) -> Option<PathBuf> {
        std::fs::read_link(self.on_disk(path)).ok()
    }

    /// The names in directory `path`, sorted bytewise; empty when it does not exist.
    pub fn list_dir(&self, path: &Path) -> Result<Vec<String>> {
        let dir = self.on_disk(&self.resolve(path)?);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(self.display(path), &e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Expands a glob pattern given as a machine path (`/etc/nginx/sites-enabled/*`) the way
    /// glob(3) does: sorted, and `*` does not match a leading dot. The fixed directory part
    /// is resolved inside the root first. Returns machine paths.
    pub fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>> {
        let pat = Path::new(pattern);
        let mut dir = PathBuf::from("/");
        let mut rest: Vec<String> = Vec::new();
        for c in pat.components() {
            if let Component::Normal(n) = c {
                let n = n.to_string_lossy();
                if rest.is_empty() && !n.contains(['*', '?', '[']) {
                    dir.push(n.as_ref());
                } else {
                    rest.push(n.into_owned());
                }
            }
        }
        if rest.is_empty() {
            return Ok(if self.exists(&dir) {
                vec![dir]
            } else {
                Vec::new()
            });
        }
        let real_dir_host = self.resolve(&dir)?;
        let real_dir = self.on_disk(&real_dir_host);
        let full = format!(
            "{}/{}",
            glob::Pattern::escape(&real_dir.to_string_lossy()),
            rest.join("/")
        );
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let paths = glob::glob_with(&full, opts).map_err(|e| Error::Invalid {
            path: self.display(&dir),
            at: None,
            message: format!("bad include pattern `{pattern}`: {e}"),
        })?;
        let mut out = Vec::new();
        for p in paths.filter_map(|p| p.ok()) {
            if let Ok(rel) = p.strip_prefix(&real_dir) {
                out.push(dir.join(rel));
            }
        }
        Ok(out)
    }

    /// Turns a dialect's parse error in `file` into an error naming its path, line, column.
    pub fn parse_error(&self, file: &File, e: ParseError) -> Error {
        Error::Parse {
            path: self.display(&file.path),
            at: file.line_col(e.offset),
            found: e.found,
            expected: e.expected,
        }
    }

    /// `path:line` (or `path:line:col`) for a byte offset in `file`, for warnings.
    pub fn locate(&self, file: &File, offset: usize) -> String {
        format!("{}:{}", self.display(&file.path), file.line(offset))
    }
}

fn push_components(todo: &mut VecDeque<OsString>, path: &Path, front: bool) -> Result<(), String> {
    let mut items = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => items.push(n.to_os_string()),
            Component::ParentDir => items.push(OsString::from("..")),
            Component::RootDir | Component::CurDir => {}
            Component::Prefix(_) => return Err("unsupported path prefix".into()),
        }
    }
    if front {
        for i in items.into_iter().rev() {
            todo.push_front(i);
        }
    } else {
        todo.extend(items);
    }
    Ok(())
}

fn join(parts: &[OsString]) -> PathBuf {
    let mut p = PathBuf::from("/");
    for c in parts {
        p.push(c);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, Host) {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("etc/nginx/sites-available")).unwrap();
        std::fs::create_dir_all(r.join("etc/nginx/sites-enabled")).unwrap();
        std::fs::write(r.join("etc/nginx/sites-available/default"), "server {}\n").unwrap();
        std::fs::write(r.join("etc/nginx/sites-available/.hidden"), "x").unwrap();
        symlink(
            "/etc/nginx/sites-available/default",
            r.join("etc/nginx/sites-enabled/default"),
        )
        .unwrap();
        symlink(
            "../sites-available/default",
            r.join("etc/nginx/sites-enabled/rel"),
        )
        .unwrap();
        symlink("../../../../../../../../etc/passwd", r.join("etc/escape")).unwrap();
        let h = Host::new(r).unwrap();
        (d, h)
    }

    #[test]
    fn absolute_links_resolve_against_the_root() {
        let (_d, h) = tree();
        let f = h
            .read(Path::new("/etc/nginx/sites-enabled/default"))
            .unwrap()
            .unwrap();
        assert_eq!(f.target, Path::new("/etc/nginx/sites-available/default"));
        assert_eq!(f.text, "server {}\n");
        let f = h
            .read(Path::new("/etc/nginx/sites-enabled/rel"))
            .unwrap()
            .unwrap();
        assert_eq!(f.target, Path::new("/etc/nginx/sites-available/default"));
    }

    #[test]
    fn leaving_the_root_is_refused() {
        let (_d, h) = tree();
        let e = h.read(Path::new("/etc/escape")).unwrap_err();
        assert!(matches!(e, Error::Refused { .. }), "{e}");
        assert!(e.to_string().contains("outside --root"), "{e}");
        assert!(h.read(Path::new("/../etc/passwd")).is_err());
    }

    #[test]
    fn missing_files_read_as_none_and_globs_sort_and_skip_dotfiles() {
        let (_d, h) = tree();
        assert_eq!(h.read(Path::new("/etc/nope")).unwrap(), None);
        let g = h.glob("/etc/nginx/sites-available/*").unwrap();
        assert_eq!(g, vec![PathBuf::from("/etc/nginx/sites-available/default")]);
        let g = h.glob("/etc/nginx/sites-enabled/*").unwrap();
        assert_eq!(g.len(), 2);
        assert!(h.glob("/etc/none/*.conf").unwrap().is_empty());
    }

    #[test]
    fn non_utf8_is_a_positioned_error() {
        let (d, h) = tree();
        std::fs::write(d.path().join("etc/bin"), b"line\n\xfe").unwrap();
        let e = h.read(Path::new("/etc/bin")).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "etc/bin:2:1: found the byte 0xfe, which is not UTF-8, expected UTF-8 text"
            ),
            "{e}"
        );
    }

    #[test]
    fn the_overlay_is_seen_before_the_disk() {
        let (_d, h) = tree();
        let t = PathBuf::from("/etc/nginx/sites-available/default");
        let h2 = h.with_overlay([(t.as_path(), "planned\n")]);
        let f = h2
            .read(Path::new("/etc/nginx/sites-enabled/default"))
            .unwrap()
            .unwrap();
        assert_eq!(f.text, "planned\n");
    }
}
