//! A read-only view of a machine's filesystem under `--root`.
//!
//! Paths given to a [`Host`] are the machine's own absolute paths (`/etc/postfix/main.cf`).
//! Symlinks are followed the way they would be on the machine itself: an absolute target
//! is resolved against the root (Debian's nginx links `sites-enabled/default` to
//! `/etc/nginx/sites-available/default`), a relative one against the link's directory.
//! A path that would climb above the root is refused. Plugins read only through a Host, so
//! nothing they do can reach outside the tree they were pointed at.

use crate::error::{Error, ParseError, Result};
use crate::fsroot::Root;
use crate::text::{decode, LineCol, LineIndex, Text, BOM};
use std::cell::OnceCell;
use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const MAX_LINKS: usize = 40;

/// The longest path the kernel opens, its terminating NUL included (`PATH_MAX`).
const PATH_MAX: usize = 4096;

/// A config linked here is disabled.
pub const DEV_NULL: &str = "/dev/null";

/// A config file as read: the path it was asked for, the file it really is, its text.
#[derive(Debug, Clone)]
pub struct File {
    /// The machine path it was read by (may be a symlink).
    pub path: PathBuf,
    /// The machine path of the regular file behind it, after following symlinks.
    pub target: PathBuf,
    pub text: Text,
    /// True when the file starts with a UTF-8 byte order mark. It is not part of `text`
    /// (no dialect sees it before the first directive); the plan puts it back.
    pub bom: bool,
    /// True for a config disabled by linking it to `/dev/null`: read as empty, never
    /// written (see [`Host::read`]).
    pub disabled: bool,
    /// How messages name the file: as [`Host::display`] shows its path.
    pub shown: String,
    /// Built on the first position lookup, so reporting many places stays linear.
    index: OnceCell<LineIndex>,
}

impl File {
    pub fn new(path: PathBuf, target: PathBuf, text: impl Into<Text>) -> File {
        File {
            shown: path.display().to_string(),
            path,
            target,
            text: text.into(),
            bom: false,
            disabled: false,
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
    /// The root made absolute once, so every path built from it has one form.
    root: PathBuf,
    /// The root as given on the command line, for messages.
    shown: PathBuf,
    /// The handle every file is read through, so no symlink swapped in during a run is
    /// followed out of the root.
    fs: Arc<Root>,
    /// Files planned but not written yet, by target: later plugins of one run see them.
    overlay: HashMap<PathBuf, Text>,
    /// Messages name files relative to the root (see [`Host::relative_messages`]).
    relative_messages: bool,
    /// The directories this run listed, shared by every view made from this one.
    listings: Arc<Listings>,
    /// The listings of this view, planned files included, by directory: built once per
    /// directory where the overlay adds names, a fresh table for each overlay.
    merged: Arc<Mutex<HashMap<PathBuf, Arc<[String]>>>>,
}

/// The directories one run listed, by the directory behind the path: each is read from
/// disk at most once however many include patterns name it, and every view of the run
/// (each plugin's overlay in `all`) shares the listings, which are the disk's alone (a
/// view lays its planned files over them). A run reads before it writes (the apply engine
/// writes after every plugin planned), so a listing never goes stale within it.
#[derive(Debug, Default)]
struct Listings {
    disk: Mutex<HashMap<PathBuf, Arc<[String]>>>,
    /// How many directories were read from disk.
    read: AtomicUsize,
}

impl Host {
    /// A view of the tree at `root`, which must be an existing directory.
    pub fn new(root: impl Into<PathBuf>) -> Result<Host> {
        let shown = root.into();
        match std::fs::metadata(&shown) {
            Ok(m) if m.is_dir() => {
                let usage =
                    |e: std::io::Error| Error::usage(format!("--root {}: {e}", shown.display()));
                let root = std::path::absolute(&shown).map_err(usage)?;
                let fs = Root::open(&root).map_err(usage)?;
                Ok(Host {
                    root,
                    shown,
                    fs: Arc::new(fs),
                    overlay: HashMap::new(),
                    relative_messages: false,
                    listings: Arc::default(),
                    merged: Arc::default(),
                })
            }
            Ok(_) => Err(Error::usage(format!(
                "--root {}: not a directory",
                shown.display()
            ))),
            Err(e) => Err(Error::usage(format!("--root {}: {e}", shown.display()))),
        }
    }

    /// The same view, naming files in messages (notes, warnings, errors, findings) relative
    /// to the root (`etc/postfix/main.cf`), as diffs and the JSON `files` list do, instead
    /// of by their path on this computer. The JSON report uses it, so one path convention
    /// holds throughout the object.
    pub fn relative_messages(mut self) -> Host {
        self.relative_messages = true;
        self
    }

    /// The root, made absolute.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The handle on the root that every read and write goes through.
    pub fn fs(&self) -> &Root {
        &self.fs
    }

    /// The same view, with planned file contents laid over the disk.
    pub fn with_overlay<'a, T: Into<Text>>(
        &self,
        files: impl IntoIterator<Item = (&'a Path, T)>,
    ) -> Host {
        let mut h = self.clone();
        for (target, text) in files {
            h.overlay.insert(target.to_path_buf(), text.into());
        }
        h.merged = Arc::default();
        h
    }

    /// Where a machine path lies on this computer's filesystem, without following links.
    pub fn on_disk(&self, path: &Path) -> PathBuf {
        under(&self.root, path)
    }

    /// A machine path as shown in messages: the file's path on this computer, below the
    /// root as it was given, or relative to the root after [`Host::relative_messages`].
    pub fn display(&self, path: &Path) -> String {
        if self.relative_messages {
            return self.relative(path);
        }
        under(&self.shown, path).display().to_string()
    }

    /// A machine path relative to the root, as diffs show it (`etc/postfix/main.cf`).
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix("/").unwrap_or(path).display().to_string()
    }

    /// Follows every symlink in `path` inside the root and returns the machine path of
    /// what it names (which need not exist).
    pub fn resolve(&self, path: &Path) -> Result<PathBuf> {
        self.resolve_in(path, false)
    }

    /// [`Host::resolve`]; with `clamp`, a `..` at the root stays there, as the kernel
    /// reads it, instead of being an error.
    fn resolve_in(&self, path: &Path, clamp: bool) -> Result<PathBuf> {
        #[cfg(test)]
        LOOKUPS.with(|n| n.set(n.get() + 1));
        let refuse = |reason: String| Error::Refused {
            path: self.display(path),
            reason,
        };
        if !path.is_absolute() {
            return Err(refuse("not an absolute path".into()));
        }
        if path.as_os_str().len() >= PATH_MAX {
            return Err(refuse(format!(
                "a path of {} bytes: the kernel opens none of {PATH_MAX} bytes or more, so the daemon cannot read it either",
                path.as_os_str().len()
            )));
        }
        let mut todo: VecDeque<OsString> = VecDeque::new();
        push_components(&mut todo, path, false).map_err(refuse)?;
        let mut cur: Vec<OsString> = Vec::new();
        // `cur` on this computer, kept in step with it; and how deep the first component
        // that does not exist is (nothing below it exists either).
        let mut here = self.root.clone();
        let mut missing: Option<usize> = None;
        let mut links = 0;
        while let Some(c) = todo.pop_front() {
            if c == ".." {
                match cur.pop() {
                    Some(_) => {
                        here.pop();
                    }
                    None if !clamp => {
                        return Err(refuse("a symlink or `..` leads outside --root".into()));
                    }
                    None => {}
                }
                if missing.is_some_and(|d| cur.len() < d) {
                    missing = None;
                }
                continue;
            }
            here.push(&c);
            cur.push(c);
            if missing.is_some() {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&here) else {
                missing = Some(cur.len());
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
            here = self.on_disk(&join(&cur));
            push_components(&mut todo, &target, true).map_err(refuse)?;
        }
        Ok(join(&cur))
    }

    /// Reads a file as text; `None` when it does not exist. Bytes that are not UTF-8 are
    /// kept as reserved characters (see [`crate::text::decode`]), a leading byte order
    /// mark is set apart in [`File::bom`].
    ///
    /// A file that is a symlink to `/dev/null` (the usual way to disable a config) reads as
    /// an empty, disabled file, whatever `/dev/null` is under the root: the plan never
    /// writes it (see [`crate::Plan::change`]). Any spelling counts (`//dev/null`,
    /// `../../dev/null`, a chain of links), as the kernel resolves it. Anything but a
    /// regular file behind the path (a directory, FIFO, socket or device) is an error
    /// naming what was found.
    pub fn read(&self, path: &Path) -> Result<Option<File>> {
        if self.links_to_dev_null(path) {
            let mut f = File::new(path.to_path_buf(), path.to_path_buf(), "");
            f.disabled = true;
            f.shown = self.display(path);
            return Ok(Some(f));
        }
        let target = self.resolve(path)?;
        let file = |target: PathBuf, text: Text| {
            let (bom, text) = match text.strip_prefix(BOM) {
                Some(rest) => (true, Text::from(rest)),
                None => (false, text),
            };
            let mut f = File::new(path.to_path_buf(), target, text);
            f.bom = bom;
            f.shown = self.display(path);
            f
        };
        if let Some(text) = self.overlay.get(&target) {
            return Ok(Some(file(target, text.clone())));
        }
        // Read once, through the root handle, without following a symlink: a directory
        // swapped for a link since `resolve` makes this an error, never a read outside.
        let bytes = match self.fs.read(&target) {
            Ok(Some(r)) => r.bytes,
            Ok(None) => return Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(self.display(&target), &e)),
        };
        let text = decode(bytes).map_err(|(at, c)| Error::Parse {
            path: self.display(path),
            at,
            found: format!(
                "the character U+{:04X}, which v6fix reserves for bytes that are not UTF-8",
                c as u32
            ),
            expected: "text without the code points U+10FF80 to U+10FFFF".into(),
        })?;
        Ok(Some(file(target, text.into())))
    }

    /// True when `path` is a symlink that resolves, through any chain of links, to
    /// `/dev/null`.
    fn links_to_dev_null(&self, path: &Path) -> bool {
        self.is_symlink(path)
            && self
                .resolve_in(path, true)
                .is_ok_and(|t| t == Path::new(DEV_NULL))
    }

    /// True when `path` names an existing file or directory (after following links), or
    /// a file planned in this run.
    pub fn exists(&self, path: &Path) -> bool {
        match self.resolve(path) {
            Ok(t) => {
                self.overlay.contains_key(&t)
                    || self.on_disk(&t).exists()
                    || self.overlay_has_below(&t)
            }
            Err(_) => false,
        }
    }

    /// True when `path` names a directory (after following links), counting the
    /// directories that files planned in this run will create.
    pub fn is_dir(&self, path: &Path) -> bool {
        match self.resolve(path) {
            Ok(t) if self.overlay.contains_key(&t) => false,
            Ok(t) => self.on_disk(&t).is_dir() || self.overlay_has_below(&t),
            Err(_) => false,
        }
    }

    /// True when `path` names a file that is not a directory (after following links), or
    /// a file planned in this run.
    pub fn is_file(&self, path: &Path) -> bool {
        match self.resolve(path) {
            Ok(t) => self.overlay.contains_key(&t) || self.on_disk(&t).is_file(),
            Err(_) => false,
        }
    }

    fn overlay_has_below(&self, dir: &Path) -> bool {
        self.overlay.keys().any(|k| k != dir && k.starts_with(dir))
    }

    /// Collapses each `..` of `path` the way the kernel does: after following the
    /// symlinks before it (`/etc/apache2/../x` names `/etc/x`, wherever apache2 points).
    pub fn normalize(&self, path: &Path) -> Result<PathBuf> {
        if !path.components().any(|c| c == Component::ParentDir) {
            return Ok(path.to_path_buf());
        }
        let mut cur = PathBuf::from("/");
        for c in path.components() {
            match c {
                Component::Normal(n) => cur.push(n),
                Component::ParentDir => {
                    cur.push("..");
                    cur = self.resolve(&cur)?;
                }
                _ => {}
            }
        }
        Ok(cur)
    }

    /// True when `path` itself is a symlink (not followed).
    pub fn is_symlink(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(self.on_disk(path)).is_ok_and(|m| m.file_type().is_symlink())
    }

    /// The target of symlink `path`, as written in the link.
    pub fn read_link(&self, path: &Path) -> Option<PathBuf> {
        std::fs::read_link(self.on_disk(path)).ok()
    }

    /// The names in directory `path`, sorted bytewise, files planned in this run
    /// included; empty when it does not exist.
    pub fn list_dir(&self, path: &Path) -> Result<Vec<String>> {
        Ok(self.listing(path)?.to_vec())
    }

    /// How many directories this run read from disk so far, over every view of it: each
    /// at most once, so tests can count that a listing is shared.
    pub fn dirs_listed(&self) -> usize {
        self.listings.read.load(Ordering::Relaxed)
    }

    /// [`Host::list_dir`], shared: the disk is listed once per directory and run, and the
    /// overlay merged in once per directory and view.
    fn listing(&self, path: &Path) -> Result<Arc<[String]>> {
        let target = self.resolve(path)?;
        let disk = self.disk_listing(path, &target)?;
        if !self.overlay_has_below(&target) {
            return Ok(disk);
        }
        let mut merged = lock(&self.merged);
        if let Some(names) = merged.get(&target) {
            return Ok(names.clone());
        }
        let mut names = disk.to_vec();
        for k in self.overlay.keys() {
            if let Ok(rest) = k.strip_prefix(&target) {
                if let Some(Component::Normal(n)) = rest.components().next() {
                    names.push(n.to_string_lossy().into_owned());
                }
            }
        }
        names.sort();
        names.dedup();
        let names: Arc<[String]> = names.into();
        merged.insert(target, names.clone());
        Ok(names)
    }

    /// The names on disk in directory `target` (resolved from `path`), sorted; read once.
    fn disk_listing(&self, path: &Path, target: &Path) -> Result<Arc<[String]>> {
        let mut disk = lock(&self.listings.disk);
        if let Some(names) = disk.get(target) {
            return Ok(names.clone());
        }
        // Through the root handle, like reads: never a listing outside the root.
        let mut names: Vec<String> = match self.fs.open_dir(target, None) {
            Ok(d) => crate::fsroot::list_at(&d)
                .map_err(|e| Error::io(self.display(path), &e))?
                .into_iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect(),
            Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(self.display(path), &e)),
        };
        self.listings.read.fetch_add(1, Ordering::Relaxed);
        names.sort();
        names.dedup();
        let names: Arc<[String]> = names.into();
        disk.insert(target.to_path_buf(), names.clone());
        Ok(names)
    }

    /// Expands a glob pattern given as a machine path (`/etc/nginx/sites-enabled/*`) the way
    /// glob(3) does: each directory level sorted, and `*` does not match a leading dot. The
    /// fixed directory part is resolved inside the root first, a `..` in it as the kernel
    /// resolves it. Files planned in this run are matched too. Returns machine paths.
    pub fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>> {
        let pat = Path::new(pattern);
        let mut dir = PathBuf::from("/");
        let mut rest: Vec<String> = Vec::new();
        for c in pat.components() {
            let n = match c {
                Component::Normal(n) => n.to_string_lossy(),
                Component::ParentDir => "..".into(),
                _ => continue,
            };
            if rest.is_empty() && !is_wild(&n) {
                dir.push(n.as_ref());
            } else {
                rest.push(n.into_owned());
            }
        }
        let dir = self.normalize(&dir)?;
        if rest.is_empty() {
            return Ok(if self.exists(&dir) {
                vec![dir]
            } else {
                Vec::new()
            });
        }
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let mut found = vec![dir.clone()];
        let last = rest.len() - 1;
        for (i, part) in rest.iter().enumerate() {
            let keep = |h: &Host, p: &Path| if i == last { h.exists(p) } else { h.is_dir(p) };
            let mut next = Vec::new();
            if !is_wild(part) {
                for d in &found {
                    let p = self.normalize(&d.join(part))?;
                    if keep(self, &p) {
                        next.push(p);
                    }
                }
            } else {
                let m = glob::Pattern::new(part).map_err(|e| Error::Invalid {
                    path: self.display(&dir),
                    at: None,
                    message: format!("bad include pattern `{pattern}`: {e}"),
                })?;
                for d in &found {
                    if i == 0 && !self.is_dir(d) {
                        continue;
                    }
                    let names = self.listing(d)?;
                    for name in matching(&names, part, &m, opts) {
                        let p = d.join(name);
                        if i == last || self.is_dir(&p) {
                            next.push(p);
                        }
                    }
                }
            }
            found = next;
        }
        Ok(found)
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

fn is_wild(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The names of sorted `names` that `m` (compiled from `part`) matches. Only the names
/// that start with the pattern's literal part before its first wildcard are tried, found
/// by binary search: a pattern costs a search and its candidates, not a pass over a large
/// directory.
fn matching<'a>(
    names: &'a [String],
    part: &str,
    m: &'a glob::Pattern,
    opts: glob::MatchOptions,
) -> impl Iterator<Item = &'a String> + 'a {
    let literal = part[..part.find(['*', '?', '[']).unwrap_or(part.len())].to_string();
    let from = names.partition_point(|n| n.as_str() < literal.as_str());
    names[from..]
        .iter()
        .take_while(move |n| n.starts_with(literal.as_str()))
        .filter(move |n| m.matches_with(n, opts))
}

/// The table behind `m`, even if a thread panicked holding it (it is only ever added to).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `path`'s normal components below `base`.
fn under(base: &Path, path: &Path) -> PathBuf {
    let mut p = base.to_path_buf();
    for c in path.components() {
        if let Component::Normal(n) = c {
            p.push(n);
        }
    }
    p
}

#[cfg(test)]
thread_local! {
    /// How many paths this thread resolved: the file-system look-ups tests count.
    static LOOKUPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The paths this thread resolved so far (tests only).
#[cfg(test)]
pub(crate) fn lookups() -> usize {
    LOOKUPS.with(std::cell::Cell::get)
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
    fn bytes_that_are_not_utf8_are_read_and_a_reserved_char_is_a_positioned_error() {
        let (d, h) = tree();
        std::fs::write(d.path().join("etc/bin"), b"\xef\xbb\xbfline\n\xfe").unwrap();
        let f = h.read(Path::new("/etc/bin")).unwrap().unwrap();
        assert!(f.bom);
        assert_eq!(crate::text::first_foreign(&f.text), Some((5, 0xfe)));
        std::fs::write(d.path().join("etc/bin"), "line\nab\u{10ffa0}").unwrap();
        let e = h.read(Path::new("/etc/bin")).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "etc/bin:2:3: found the character U+10FFA0, which v6fix reserves for bytes that are not UTF-8, expected text without the code points U+10FF80 to U+10FFFF"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_relative_root_is_made_absolute_but_shown_as_given() {
        let h = Host::new("./src").unwrap();
        assert_eq!(h.root(), std::env::current_dir().unwrap().join("src"));
        assert_eq!(h.display(Path::new("/host.rs")), "./src/host.rs");
        assert_eq!(h.glob("/host.r*").unwrap(), vec![PathBuf::from("/host.rs")]);
    }

    #[test]
    fn directories_and_globs_see_planned_files() {
        let (_d, h) = tree();
        let new = PathBuf::from("/etc/nginx/conf.d/new.conf");
        assert!(!h.is_dir(Path::new("/etc/nginx/conf.d")));
        let h2 = h.with_overlay([(new.as_path(), "server {}\n")]);
        assert!(h2.is_dir(Path::new("/etc/nginx/conf.d")));
        assert!(h2.exists(Path::new("/etc/nginx/conf.d")));
        assert!(h2.is_file(&new) && !h2.is_dir(&new));
        assert_eq!(
            h2.list_dir(Path::new("/etc/nginx/conf.d")).unwrap(),
            ["new.conf"]
        );
        assert_eq!(
            h2.list_dir(Path::new("/etc/nginx")).unwrap(),
            ["conf.d", "sites-available", "sites-enabled"]
        );
        assert_eq!(h2.glob("/etc/nginx/*/*.conf").unwrap(), vec![new.clone()]);
        assert!(h.glob("/etc/nginx/*/*.conf").unwrap().is_empty());
    }

    #[test]
    fn views_of_one_run_share_each_listing_and_see_their_own_planned_files() {
        let (_d, h) = tree();
        let dir = Path::new("/etc/nginx/sites-available");
        assert_eq!(h.list_dir(dir).unwrap(), [".hidden", "default"]);
        let new = PathBuf::from("/etc/nginx/sites-available/new");
        let h2 = h.with_overlay([(new.as_path(), "server {}\n")]);
        assert_eq!(h2.list_dir(dir).unwrap(), [".hidden", "default", "new"]);
        assert_eq!(h2.glob("/etc/nginx/sites-available/*").unwrap().len(), 2);
        let h3 = h2.with_overlay::<&str>([]).relative_messages();
        assert_eq!(h3.glob("/etc/nginx/sites-*/n*").unwrap(), [new]);
        assert_eq!(h.list_dir(dir).unwrap(), [".hidden", "default"]);
        // sites-available once, then /etc/nginx and sites-enabled for the last glob.
        assert_eq!(h.dirs_listed(), 3);
        assert_eq!(h3.dirs_listed(), 3);
    }

    #[test]
    fn a_pattern_narrowed_to_its_literal_prefix_matches_what_a_full_pass_matches() {
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let mut names: Vec<String> = [
            "", ".a", "A", "a", "a.conf", "ab", "abc", "b", "é", "éa", "z",
        ]
        .map(String::from)
        .to_vec();
        names.sort();
        for part in [
            "*", "a*", "ab*", "a?", "[ab]*", "?", ".*", "é*", "abc", "a.*", "z[!a]", "x*",
        ] {
            let m = glob::Pattern::new(part).unwrap();
            let all: Vec<&String> = names.iter().filter(|n| m.matches_with(n, opts)).collect();
            let narrowed: Vec<&String> = matching(&names, part, &m, opts).collect();
            assert_eq!(narrowed, all, "{part}");
        }
    }

    #[test]
    fn a_parent_directory_in_a_glob_resolves_like_the_kernel() {
        let (d, h) = tree();
        symlink("/etc/nginx/sites-available", d.path().join("etc/avail")).unwrap();
        // `avail` is /etc/nginx/sites-available, so `avail/..` is /etc/nginx.
        assert_eq!(
            h.glob("/etc/avail/../sites-enabled/r*").unwrap(),
            vec![PathBuf::from("/etc/nginx/sites-enabled/rel")]
        );
        assert_eq!(
            h.glob("/etc/nginx/sites-enabled/../sites-available/*")
                .unwrap(),
            vec![PathBuf::from("/etc/nginx/sites-available/default")]
        );
        assert!(h.glob("/etc/../../*").is_err());
    }

    #[test]
    fn a_path_the_kernel_would_not_open_is_refused_and_a_long_one_resolves_lexically() {
        let (_d, h) = tree();
        let long = format!("/etc/{}", "[2001:db8::/64]".repeat(300));
        match h.resolve(Path::new(&long)) {
            Err(Error::Refused { reason, .. }) => assert!(reason.contains("4096"), "{reason}"),
            other => panic!("want a refusal, got {other:?}"),
        }
        // Below a directory that does not exist, nothing is looked up on the disk (a
        // link there is no link); `..` back above it looks again.
        let deep = format!("/etc/nope{}/nginx/sites-enabled/rel", "/x".repeat(1000));
        assert_eq!(h.resolve(Path::new(&deep)).unwrap(), Path::new(&deep));
        assert_eq!(
            h.resolve(Path::new("/etc/nope/x/../../nginx/sites-enabled/rel"))
                .unwrap(),
            Path::new("/etc/nginx/sites-available/default")
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
