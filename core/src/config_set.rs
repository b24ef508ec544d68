//! A service's configuration as its daemon reads it: the main file and, recursively, the
//! files it includes, each parsed once.
//!
//! Every plugin with includes loads through [`ConfigSet::load`], so they share one rule
//! set:
//! - Patterns are resolved once each, through the [`Host`] (so files planned earlier in
//!   the same run are seen), relative ones against the directory the daemon uses, a `..`
//!   as the kernel resolves it. The host lists a directory once per run however many
//!   patterns name it, and a pattern is tried only on the names that start with its
//!   literal part, so a line of thousands of patterns costs in proportion to its length.
//! - A file reached twice (two includes naming it) is read and listed once; each include
//!   still records it, so a plugin can expand it twice where its daemon does.
//! - An include cycle, a chain deeper than [`MAX_DEPTH`] or more than [`MAX_FILES`] files
//!   is an error naming the chain (`a.conf:3 → b.conf:7 → a.conf`), never a silent stop.
//! - An include that names nothing is a note when the daemon goes on without it, an
//!   error naming the directive when the daemon refuses to start, and a warning when it
//!   refuses only if it reads the line (inside a section v6fix does not evaluate).

use crate::error::{Error, ParseError, Result};
use crate::host::{File, Host};
use crate::text::Text;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Include chains deeper than this are refused (daemons allow 16 to 128 levels).
pub const MAX_DEPTH: usize = 64;
/// Include sets with more files than this are refused.
pub const MAX_FILES: usize = 100_000;

/// What the daemon does when an include names no file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// It goes on without it, and the set says so in a note.
    Note,
    /// It goes on without it, and the set says nothing (ifupdown's `source`).
    Quiet,
    /// It refuses to start if it reads the directive, which it may not (a section v6fix
    /// does not evaluate holds it): a warning.
    Warn,
    /// It refuses to start: loading fails with an error naming the directive.
    Error,
}

/// What the daemon does with a match that is a directory.
#[derive(Debug, Clone, Copy)]
pub enum Dirs {
    /// Reads it like a file (an error, as in the daemon).
    Read,
    /// Passes over it.
    Skip,
    /// Reads every file below it, sorted, recursively (Apache).
    Recurse,
    /// Reads the files directly in it whose names pass the test (ifupdown's
    /// `source-directory`); subdirectories are passed over.
    Entries(fn(&str) -> bool),
}

/// One include reference of a document, as the plugin's `includes` function reports it.
#[derive(Debug, Clone)]
pub struct Include {
    /// The plugin's handle for the directive (an item index, say), given back by
    /// [`ConfigSet::included`]. Tags must not decrease from one include of a document
    /// to the next (several includes may share one: a directive with several patterns).
    pub tag: usize,
    /// Byte offset of the directive in its file, for messages.
    pub offset: usize,
    /// The directive as the daemon's user wrote it, for messages (`Include ports.conf`).
    pub directive: String,
    /// The path or pattern, as written.
    pub pattern: String,
    /// Whether the daemon expands `*`, `?` and `[` in it.
    pub glob: bool,
    /// Directories a relative pattern is tried against, in order: the first one where it
    /// names something wins (one directory for most daemons; a search path for VCL).
    pub dirs: Vec<PathBuf>,
    pub missing: Missing,
    pub matched_dirs: Dirs,
}

impl Include {
    /// An include of `pattern` relative to `dir`, by the directive at `offset`.
    pub fn new(
        tag: usize,
        offset: usize,
        directive: impl Into<String>,
        pattern: impl Into<String>,
        dir: impl Into<PathBuf>,
    ) -> Include {
        Include {
            tag,
            offset,
            directive: directive.into(),
            pattern: pattern.into(),
            glob: true,
            dirs: vec![dir.into()],
            missing: Missing::Quiet,
            matched_dirs: Dirs::Read,
        }
    }

    pub fn glob(mut self, glob: bool) -> Include {
        self.glob = glob;
        self
    }

    pub fn missing(mut self, missing: Missing) -> Include {
        self.missing = missing;
        self
    }

    pub fn dirs(mut self, dirs: Dirs) -> Include {
        self.matched_dirs = dirs;
        self
    }

    pub fn search(mut self, dirs: Vec<PathBuf>) -> Include {
        self.dirs = dirs;
        self
    }
}

/// One file of the set.
#[derive(Debug)]
pub struct Member<D> {
    pub file: File,
    pub doc: D,
    /// Its includes in document order: the tag, and the indices (into
    /// [`ConfigSet::files`]) of the files each one read, in the daemon's order.
    pub includes: Vec<(usize, Vec<usize>)>,
}

/// The files of one service's configuration, in the order the daemon first reads them
/// (the main file first, each file before the ones it includes).
#[derive(Debug)]
pub struct ConfigSet<D> {
    pub files: Vec<Member<D>>,
    /// Includes that named nothing where the daemon does not mind, one line each.
    pub notes: Vec<String>,
    /// Includes that named nothing where the daemon may refuse to start, one line each.
    pub warnings: Vec<String>,
    by_target: HashMap<PathBuf, usize>,
}

impl<D> ConfigSet<D> {
    /// Reads `main` and everything it includes; `None` when `main` does not exist.
    /// `daemon` names the program in messages (`Apache`, `sshd`).
    ///
    /// `parse` turns a file's text into its document; `includes` lists a document's
    /// include references in the order the daemon reads them. It is called once per
    /// file, in the order the daemon reads the files, so it may carry state from one
    /// file to the next (Apache's `ServerRoot`).
    pub fn load(
        host: &Host,
        daemon: &str,
        main: &Path,
        parse: impl Fn(Text) -> Result<D, ParseError>,
        includes: impl FnMut(&File, &D) -> Vec<Include>,
    ) -> Result<Option<ConfigSet<D>>> {
        let Some(file) = host.read(main)? else {
            return Ok(None);
        };
        let mut w = Walker {
            host,
            daemon,
            parse,
            includes,
            set: ConfigSet {
                files: Vec::new(),
                notes: Vec::new(),
                warnings: Vec::new(),
                by_target: HashMap::new(),
            },
            chain: Vec::new(),
            resolved: HashMap::new(),
            matched: HashMap::new(),
        };
        w.add(file)?;
        Ok(Some(w.set))
    }

    /// The files include `tag` of file `file` read, in order.
    pub fn included(&self, file: usize, tag: usize) -> impl Iterator<Item = usize> + '_ {
        included(&self.files[file].includes, tag)
    }

    /// The index of the file whose target is `target`.
    pub fn index_of(&self, target: &Path) -> Option<usize> {
        self.by_target.get(target).copied()
    }
}

/// The files `tag` read, from a file's `(tag, files)` list (tags in increasing order).
pub fn included(includes: &[(usize, Vec<usize>)], tag: usize) -> impl Iterator<Item = usize> + '_ {
    let from = includes.partition_point(|(t, _)| *t < tag);
    includes[from..]
        .iter()
        .take_while(move |(t, _)| *t == tag)
        .flat_map(|(_, v)| v.iter().copied())
}

struct Walker<'h, D, P, I> {
    host: &'h Host,
    daemon: &'h str,
    parse: P,
    includes: I,
    set: ConfigSet<D>,
    /// The include chain being read: (file index, offset of its include directive).
    chain: Vec<(usize, usize)>,
    /// What each pattern named, by (full pattern, expanded as a glob): one filesystem look-up
    /// per pattern however often the configuration repeats it.
    resolved: HashMap<(PathBuf, bool), (Vec<PathBuf>, bool)>,
    /// What each matched path read (whether it named something, and the files), by path
    /// and directory rule: a file sourced a thousand times is looked at once.
    matched: HashMap<(PathBuf, usize), (bool, Vec<usize>)>,
}

impl<D, P, I> Walker<'_, D, P, I>
where
    P: Fn(Text) -> Result<D, ParseError>,
    I: FnMut(&File, &D) -> Vec<Include>,
{
    /// Parses `file`, lists it and reads its includes depth first; its index.
    fn add(&mut self, file: File) -> Result<usize> {
        let host = self.host;
        let doc = (self.parse)(file.text.clone()).map_err(|e| host.parse_error(&file, e))?;
        let refs = (self.includes)(&file, &doc);
        debug_assert!(
            refs.windows(2).all(|w| w[0].tag <= w[1].tag),
            "include tags must not decrease"
        );
        let fi = self.set.files.len();
        if fi >= MAX_FILES {
            return Err(Error::invalid(
                host.display(&file.path),
                None,
                format!("more than {MAX_FILES} files in the include set; v6fix stops here"),
            ));
        }
        self.set.by_target.insert(file.target.clone(), fi);
        self.set.files.push(Member {
            file,
            doc,
            includes: Vec::new(),
        });
        for inc in refs {
            let paths = self.resolve(fi, &inc)?;
            let mut got = Vec::new();
            let mut named = false;
            self.chain.push((fi, inc.offset));
            for p in paths {
                named |= self.read_once(&p, inc.matched_dirs, &mut got)?;
            }
            self.chain.pop();
            if !named {
                self.nothing(fi, &inc)?;
            }
            self.set.files[fi].includes.push((inc.tag, got));
        }
        Ok(fi)
    }

    /// The machine paths an include's pattern names (existing or not, for a plain path).
    fn resolve(&mut self, fi: usize, inc: &Include) -> Result<Vec<PathBuf>> {
        let host = self.host;
        let mut tried = Vec::new();
        if inc.pattern.starts_with('/') {
            tried.push(PathBuf::from(&inc.pattern));
        } else {
            tried.extend(inc.dirs.iter().map(|d| d.join(&inc.pattern)));
        }
        let last = tried.len().saturating_sub(1);
        for (i, full) in tried.into_iter().enumerate() {
            let glob = inc.glob && inc.pattern.contains(['*', '?', '[']);
            let key = (full, glob);
            let (paths, exists) = match self.resolved.get(&key) {
                Some(r) => r.clone(),
                None => {
                    let r = if glob {
                        let paths = host
                            .glob(&key.0.to_string_lossy())
                            .map_err(|e| self.at_include(fi, inc, e))?;
                        (paths, true)
                    } else {
                        let p = host.normalize(&key.0)?;
                        let exists = host.exists(&p);
                        (vec![p], exists)
                    };
                    self.resolved.insert(key, r.clone());
                    r
                }
            };
            if !glob && i < last && !exists {
                continue;
            }
            if !paths.is_empty() || i == last {
                return Ok(paths);
            }
        }
        Ok(Vec::new())
    }

    /// [`Walker::read_match`] of a path an include matched, looked at once: the files it
    /// gave before are given again, after the same loop check.
    fn read_once(&mut self, path: &Path, dirs: Dirs, got: &mut Vec<usize>) -> Result<bool> {
        let rule = match dirs {
            Dirs::Read => 0,
            Dirs::Skip => 1,
            Dirs::Recurse => 2,
            Dirs::Entries(ok) => ok as usize,
        };
        let key = (path.to_path_buf(), rule);
        if let Some((named, files)) = self.matched.get(&key) {
            if files.iter().any(|i| self.chain.iter().any(|(f, _)| f == i)) {
                return Err(self.too_deep(&format!(
                    "{} again: an include loop, which {} refuses",
                    self.host.display(path),
                    self.daemon
                )));
            }
            got.extend(files);
            return Ok(*named);
        }
        let from = got.len();
        let named = self.read_match(path, dirs, 0, got)?;
        self.matched.insert(key, (named, got[from..].to_vec()));
        Ok(named)
    }

    /// Reads what `path` names into `got`; false when it names nothing.
    fn read_match(
        &mut self,
        path: &Path,
        dirs: Dirs,
        level: usize,
        got: &mut Vec<usize>,
    ) -> Result<bool> {
        let host = self.host;
        let is_dir = !matches!(dirs, Dirs::Read) && host.is_dir(path);
        if matches!(dirs, Dirs::Entries(_)) && level == 0 && !is_dir {
            // Only a directory's entries are read: a file here names nothing.
            return Ok(false);
        }
        if is_dir {
            match dirs {
                Dirs::Recurse => {}
                Dirs::Entries(_) if level == 0 => {}
                _ => return Ok(true),
            }
            if level >= MAX_DEPTH {
                return Err(self.too_deep(&format!(
                    "{} (directories nested deeper than {MAX_DEPTH} levels)",
                    host.display(path)
                )));
            }
            for name in host.list_dir(path)? {
                if let Dirs::Entries(ok) = dirs {
                    if !ok(&name) {
                        continue;
                    }
                }
                self.read_match(&path.join(name), dirs, level + 1, got)?;
            }
            return Ok(true);
        }
        let target = host.resolve(path)?;
        if let Some(&i) = self.set.by_target.get(&target) {
            if self.chain.iter().any(|(f, _)| *f == i) {
                return Err(self.too_deep(&format!(
                    "{} again: an include loop, which {} refuses",
                    host.display(path),
                    self.daemon
                )));
            }
            got.push(i);
            return Ok(true);
        }
        let Some(file) = host.read(path)? else {
            return Ok(false);
        };
        if self.chain.len() >= MAX_DEPTH {
            return Err(self.too_deep(&format!(
                "{} (includes nested deeper than {MAX_DEPTH} levels)",
                host.display(path)
            )));
        }
        got.push(self.add(file)?);
        Ok(true)
    }

    /// An error at the top of the chain that shows the whole chain, ending in `last`.
    fn too_deep(&self, last: &str) -> Error {
        let host = self.host;
        let mut steps: Vec<String> = self
            .chain
            .iter()
            .map(|&(f, off)| host.locate(&self.set.files[f].file, off))
            .collect();
        steps.push(last.to_string());
        let (f, off) = self.chain[self.chain.len() - 1];
        let file = &self.set.files[f].file;
        Error::invalid(
            host.display(&file.path),
            Some(file.line_col(off)),
            format!("include chain {}", steps.join(" → ")),
        )
    }

    fn at_include(&self, fi: usize, inc: &Include, e: Error) -> Error {
        let file = &self.set.files[fi].file;
        match e {
            Error::Invalid { message, .. } => Error::invalid(
                self.host.display(&file.path),
                Some(file.line_col(inc.offset)),
                message,
            ),
            e => e,
        }
    }

    /// An include that read nothing: nothing, a note, a warning or an error, as the
    /// daemon does.
    fn nothing(&mut self, fi: usize, inc: &Include) -> Result<()> {
        let host = self.host;
        let file = &self.set.files[fi].file;
        let daemon = self.daemon;
        let (what, wanted) = if inc.glob && inc.pattern.contains(['*', '?', '[']) {
            ("matches no file", "a pattern that matches a file")
        } else {
            ("names no file", "a file that exists")
        };
        match inc.missing {
            Missing::Quiet => Ok(()),
            Missing::Note => {
                self.set.notes.push(format!(
                    "{}: `{}` {what}; {daemon} goes on without it",
                    host.locate(file, inc.offset),
                    inc.directive
                ));
                Ok(())
            }
            Missing::Warn => {
                self.set.warnings.push(format!(
                    "{}: `{}` {what}: {daemon} refuses to start if it reads this line",
                    host.locate(file, inc.offset),
                    inc.directive
                ));
                Ok(())
            }
            Missing::Error => Err(Error::Parse {
                path: host.display(&file.path),
                at: file.line_col(inc.offset),
                found: format!("`{}`, which {what}", inc.directive),
                expected: format!("{wanted} ({daemon} refuses to start otherwise)"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy dialect's document: each line with its offset.
    #[derive(Debug)]
    struct Lines(Vec<(usize, String)>);

    /// The toy dialect: every line `inc PATTERN` (or `opt PATTERN`) is an include.
    fn lines(text: Text) -> Result<Lines, ParseError> {
        let mut out = Vec::new();
        let mut off = 0;
        for l in text.split_inclusive('\n') {
            if l.starts_with('!') {
                return Err(ParseError::new(off, "`!`", "a line"));
            }
            out.push((off, l.trim_end().to_string()));
            off += l.len();
        }
        Ok(Lines(out))
    }

    fn incs(file: &File, doc: &Lines) -> Vec<Include> {
        let dir = file.path.parent().unwrap().to_path_buf();
        doc.0
            .iter()
            .enumerate()
            .filter_map(|(i, (off, l))| {
                let (kw, pat) = l.split_once(' ')?;
                let missing = match kw {
                    "inc" => Missing::Error,
                    "opt" => Missing::Note,
                    "warn" => Missing::Warn,
                    _ => return None,
                };
                Some(Include::new(i, *off, l.clone(), pat, dir.clone()).missing(missing))
            })
            .collect()
    }

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Host) {
        let d = tempfile::tempdir().unwrap();
        for (p, text) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let h = Host::new(d.path()).unwrap();
        (d, h)
    }

    fn load(h: &Host) -> Result<Option<ConfigSet<Lines>>> {
        ConfigSet::load(h, "toyd", Path::new("/etc/a.conf"), lines, incs)
    }

    fn names(set: &ConfigSet<Lines>) -> Vec<String> {
        set.files
            .iter()
            .map(|m| m.file.path.display().to_string())
            .collect()
    }

    #[test]
    fn files_come_depth_first_and_a_file_named_twice_is_read_once() {
        let (_d, h) = tree(&[
            ("etc/a.conf", "x\ninc d/*.conf\ninc c.conf\n"),
            ("etc/d/1.conf", "inc ../c.conf\n"),
            ("etc/d/2.conf", "y\n"),
            ("etc/c.conf", "z\n"),
        ]);
        let set = load(&h).unwrap().unwrap();
        assert_eq!(
            names(&set),
            [
                "/etc/a.conf",
                "/etc/d/1.conf",
                "/etc/c.conf",
                "/etc/d/2.conf"
            ]
        );
        assert_eq!(set.included(0, 1).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(set.included(0, 2).collect::<Vec<_>>(), [2]);
        assert_eq!(set.included(1, 0).collect::<Vec<_>>(), [2]);
        assert!(set.notes.is_empty());
        assert_eq!(set.index_of(Path::new("/etc/c.conf")), Some(2));
    }

    #[test]
    fn a_missing_main_file_is_none() {
        let (_d, h) = tree(&[("etc/b.conf", "x\n")]);
        assert!(load(&h).unwrap().is_none());
    }

    #[test]
    fn a_loop_is_an_error_naming_the_chain() {
        let (_d, h) = tree(&[
            ("etc/a.conf", "x\ninc b.conf\n"),
            ("etc/b.conf", "y\nz\ninc a.conf\n"),
        ]);
        let e = load(&h).unwrap_err().to_string();
        let root = h.display(Path::new("/"));
        let root = root.trim_end_matches('/');
        assert_eq!(
            e,
            format!(
                "{root}/etc/b.conf:3:1: include chain {root}/etc/a.conf:2 → {root}/etc/b.conf:3 → \
                 {root}/etc/a.conf again: an include loop, which toyd refuses"
            )
        );
    }

    #[test]
    fn a_deep_chain_is_an_error_not_a_silent_stop() {
        let mut files: Vec<(String, String)> = (0..=MAX_DEPTH + 1)
            .map(|i| (format!("etc/{i}.conf"), format!("inc {}.conf\n", i + 1)))
            .collect();
        files.push(("etc/a.conf".into(), "inc 0.conf\n".into()));
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (_d, h) = tree(&refs);
        let e = load(&h).unwrap_err().to_string();
        assert!(
            e.contains(&format!("nested deeper than {MAX_DEPTH} levels")),
            "{e}"
        );
        assert!(e.contains("a.conf:1 → "), "{e}");
    }

    #[test]
    fn a_file_included_a_thousand_times_is_looked_up_once() {
        let lookups = |times: usize| {
            let main = "opt d/b.conf\ninc ../etc/c.conf\nopt none.conf\n".repeat(times);
            let (_d, h) = tree(&[
                ("etc/a.conf", &main),
                ("etc/d/b.conf", "x\n"),
                ("etc/c.conf", "y\n"),
            ]);
            let before = crate::host::lookups();
            let set = load(&h).unwrap().unwrap();
            assert_eq!(names(&set), ["/etc/a.conf", "/etc/d/b.conf", "/etc/c.conf"]);
            assert_eq!(set.files[0].includes.len(), 3 * times);
            assert_eq!(set.notes.len(), times, "one note per line naming nothing");
            crate::host::lookups() - before
        };
        assert_eq!(lookups(1), lookups(1000));
        // A repeat still sees a loop.
        let (_d, h) = tree(&[
            ("etc/a.conf", "inc b.conf\n"),
            ("etc/b.conf", "inc c.conf\ninc c.conf\n"),
            ("etc/c.conf", "x\n"),
        ]);
        assert_eq!(names(&load(&h).unwrap().unwrap()).len(), 3);
        let (_d, h) = tree(&[
            ("etc/a.conf", "inc b.conf\ninc b.conf\n"),
            ("etc/b.conf", "inc a.conf\n"),
        ]);
        assert!(load(&h).unwrap_err().to_string().contains("loop"));
    }

    #[test]
    fn five_thousand_patterns_in_one_directory_list_it_once() {
        let main: String = (0..5000).map(|i| format!("opt d/x{i}.*\n")).collect();
        let mut files = vec![("etc/a.conf".to_string(), main)];
        files.extend(
            (0..5000)
                .step_by(100)
                .map(|i| (format!("etc/d/x{i}.conf"), "y\n".into())),
        );
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (_d, h) = tree(&refs);
        let set = load(&h).unwrap().unwrap();
        assert_eq!(set.files.len(), 51);
        assert_eq!(
            set.notes.len(),
            5000 - 50,
            "one note per pattern matching nothing"
        );
        assert_eq!(h.dirs_listed(), 1);
        // A directory read whole (Apache's `Include d`) shares that listing.
        let set = ConfigSet::load(&h, "toyd", Path::new("/etc/a.conf"), lines, |f, d| {
            let mut out: Vec<Include> = incs(f, d);
            if f.path == Path::new("/etc/a.conf") {
                out.push(Include::new(5000, 0, "inc d", "d", "/etc").dirs(Dirs::Recurse));
            }
            out
        })
        .unwrap()
        .unwrap();
        assert_eq!(set.files.len(), 51);
        assert_eq!(h.dirs_listed(), 1);
    }

    #[test]
    fn nothing_matched_is_a_note_or_an_error_as_the_daemon_does() {
        let (_d, h) = tree(&[("etc/a.conf", "opt none/*.conf\nopt gone.conf\n")]);
        let set = load(&h).unwrap().unwrap();
        assert_eq!(set.notes.len(), 2, "{:?}", set.notes);
        assert!(
            set.notes[0].ends_with(
                "etc/a.conf:1: `opt none/*.conf` matches no file; toyd goes on without it"
            ),
            "{:?}",
            set.notes
        );
        let (_d, h) = tree(&[("etc/a.conf", "warn gone.conf\n")]);
        let set = load(&h).unwrap().unwrap();
        assert!(set.notes.is_empty());
        assert_eq!(set.warnings.len(), 1);
        assert!(
            set.warnings[0].ends_with(
                "etc/a.conf:1: `warn gone.conf` names no file: toyd refuses to start if it \
                 reads this line"
            ),
            "{:?}",
            set.warnings
        );
        let (_d, h) = tree(&[("etc/a.conf", "x\ninc gone.conf\n")]);
        let e = load(&h).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "etc/a.conf:2:1: found `inc gone.conf`, which names no file, expected a file \
                 that exists (toyd refuses to start otherwise)"
            ),
            "{e}"
        );
    }

    #[test]
    fn parse_errors_name_the_included_file() {
        let (_d, h) = tree(&[("etc/a.conf", "inc b.conf\n"), ("etc/b.conf", "x\n!\n")]);
        let e = load(&h).unwrap_err().to_string();
        assert!(
            e.ends_with("etc/b.conf:2:1: found `!`, expected a line"),
            "{e}"
        );
    }

    #[test]
    fn a_parent_directory_resolves_after_symlinks_like_the_kernel() {
        let (d, h) = tree(&[
            ("etc/a.conf", "inc link/../x/*.conf\n"),
            ("srv/real/sub/keep", ""),
            ("srv/real/x/1.conf", "one\n"),
        ]);
        std::os::unix::fs::symlink("/srv/real/sub", d.path().join("etc/link")).unwrap();
        let set = load(&h).unwrap().unwrap();
        assert_eq!(names(&set), ["/etc/a.conf", "/srv/real/x/1.conf"]);
    }

    #[test]
    fn directories_are_recursed_or_filtered_as_asked() {
        let (_d, h) = tree(&[
            ("etc/a.conf", "inc d\n"),
            ("etc/d/b/2.conf", "y\n"),
            ("etc/d/1.conf", "x\n"),
            ("etc/d/skip.me", "x\n"),
        ]);
        let walk = |dirs: Dirs| {
            ConfigSet::load(&h, "toyd", Path::new("/etc/a.conf"), lines, |f, d| {
                incs(f, d).into_iter().map(|i| i.dirs(dirs)).collect()
            })
            .map(|s| names(&s.unwrap()))
        };
        assert_eq!(
            walk(Dirs::Recurse).unwrap(),
            [
                "/etc/a.conf",
                "/etc/d/1.conf",
                "/etc/d/b/2.conf",
                "/etc/d/skip.me"
            ]
        );
        assert_eq!(
            walk(Dirs::Entries(|n| !n.contains('.'))).unwrap(),
            ["/etc/a.conf"]
        );
        assert_eq!(
            walk(Dirs::Entries(|n| n.ends_with(".conf"))).unwrap(),
            ["/etc/a.conf", "/etc/d/1.conf"]
        );
        assert!(walk(Dirs::Read).is_err());
    }

    #[test]
    fn a_search_path_takes_the_first_directory_that_has_the_file() {
        let (_d, h) = tree(&[
            ("etc/a.conf", "inc x.vcl\n"),
            ("usr/share/x.vcl", "from share\n"),
        ]);
        let set = ConfigSet::load(&h, "toyd", Path::new("/etc/a.conf"), lines, |f, d| {
            incs(f, d)
                .into_iter()
                .map(|i| i.search(vec!["/etc".into(), "/usr/share".into()]))
                .collect()
        })
        .unwrap()
        .unwrap();
        assert_eq!(names(&set), ["/etc/a.conf", "/usr/share/x.vcl"]);
    }
}
