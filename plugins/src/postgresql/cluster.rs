//! One PostgreSQL cluster's configuration as its server reads it: `postgresql.conf` and
//! its includes in reading order, `postgresql.auto.conf` from the data directory (read
//! last, so it wins), and the `pg_hba.conf` that `hba_file` names.

use std::path::{Path, PathBuf};
use v6fix_core::config_set::{ConfigSet, Dirs, Include, Missing};
use v6fix_core::dialect::postgresql::conf::{self, Setting};
use v6fix_core::dialect::postgresql::hba;
use v6fix_core::{File, Host, Result};

/// Where Debian keeps the clusters' configurations.
pub(super) const ETC: &str = "/etc/postgresql";

/// PostgreSQL reads `include_dir` entries ending in `.conf`, not starting with a dot.
fn conf_entry(name: &str) -> bool {
    name.ends_with(".conf") && !name.starts_with('.')
}

pub(super) struct Cluster {
    pub(super) version: String,
    pub(super) name: String,
    pub(super) files: Vec<(File, conf::Doc)>,
    /// (file, line) of every setting in the order the server reads them.
    order: Vec<(usize, usize)>,
    /// `postgresql.auto.conf`, when the data directory under the root has one.
    pub(super) auto: Option<(File, conf::Doc)>,
    pub(super) hba: Option<(File, hba::Doc)>,
    /// The path of pg_hba.conf the server reads (existing or not).
    pub(super) hba_path: PathBuf,
    pub(super) notes: Vec<String>,
    pub(super) warnings: Vec<String>,
}

impl Cluster {
    /// Every cluster under /etc/postgresql, by version and name.
    pub(super) fn all(host: &Host) -> Result<Vec<Cluster>> {
        let mut out = Vec::new();
        for main in host.glob(&format!("{ETC}/*/*/postgresql.conf"))? {
            out.extend(Cluster::load(host, &main)?);
        }
        Ok(out)
    }

    fn load(host: &Host, main: &Path) -> Result<Option<Cluster>> {
        let Some(set) = ConfigSet::load(host, "PostgreSQL", main, conf::parse, |file, doc| {
            let dir = file.path.parent().unwrap_or(Path::new("/")).to_path_buf();
            let mut out = Vec::new();
            for (i, s) in doc.settings() {
                let Some(kind) = s.include() else { continue };
                let inc = Include::new(
                    i,
                    s.name_span.start,
                    format!("{} = {}", s.name, s.raw),
                    s.value.clone(),
                    dir.clone(),
                )
                .glob(false);
                out.push(match kind {
                    "include_if_exists" => inc.missing(Missing::Note),
                    "include_dir" => inc.missing(Missing::Error).dirs(Dirs::Entries(conf_entry)),
                    _ => inc.missing(Missing::Error),
                });
            }
            out
        })?
        else {
            return Ok(None);
        };
        let dir = main.parent().unwrap_or(Path::new("/"));
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let version = dir
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Settings in reading order, each include expanded where it stands (a file
        // included twice is read twice).
        fn expand(
            set: &ConfigSet<conf::Doc>,
            fi: usize,
            depth: usize,
            order: &mut Vec<(usize, usize)>,
        ) {
            for (i, s) in set.files[fi].doc.settings() {
                if s.include().is_none() {
                    order.push((fi, i));
                    continue;
                }
                if depth < 10 {
                    for j in set.included(fi, i) {
                        expand(set, j, depth + 1, order);
                    }
                }
            }
        }
        let mut order = Vec::new();
        expand(&set, 0, 0, &mut order);
        let notes = set.notes;
        let warnings = set.warnings;
        let files: Vec<(File, conf::Doc)> =
            set.files.into_iter().map(|m| (m.file, m.doc)).collect();
        let mut c = Cluster {
            version,
            name,
            files,
            order,
            auto: None,
            hba: None,
            hba_path: PathBuf::new(),
            notes,
            warnings,
        };
        // The data directory holds postgresql.auto.conf, and pg_hba.conf unless
        // hba_file says otherwise (Debian's clusters set both).
        let data = c
            .get("data_directory")
            .map(|(_, s)| PathBuf::from(&s.value))
            .unwrap_or_else(|| dir.to_path_buf());
        let auto_path = data.join("postgresql.auto.conf");
        if let Some(f) = host.read(&auto_path)? {
            let d = conf::parse(&f.text).map_err(|e| host.parse_error(&f, e))?;
            c.auto = Some((f, d));
        }
        let hba_path = c
            .get("hba_file")
            .map(|(_, s)| {
                let p = PathBuf::from(&s.value);
                if p.is_absolute() {
                    p
                } else {
                    data.join(p)
                }
            })
            .unwrap_or_else(|| data.join("pg_hba.conf"));
        if let Some(f) = host.read(&hba_path)? {
            let d = hba::parse(&f.text).map_err(|e| host.parse_error(&f, e))?;
            c.hba = Some((f, d));
        }
        c.hba_path = hba_path;
        Ok(Some(c))
    }

    /// The files of the cluster v6fix reads.
    pub(super) fn paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.files.iter().map(|(f, _)| f.path.clone()).collect();
        out.extend(self.auto.iter().map(|(f, _)| f.path.clone()));
        out.extend(self.hba.iter().map(|(f, _)| f.path.clone()));
        out
    }

    /// The setting `name` the server uses from the configuration files (not
    /// postgresql.auto.conf): the last one read, with its file index.
    pub(super) fn get(&self, name: &str) -> Option<(usize, &Setting)> {
        self.order.iter().rev().find_map(|&(fi, i)| {
            let s = self.files[fi].1.lines()[i].setting.as_ref()?;
            s.is(name).then_some((fi, s))
        })
    }

    /// The setting `name` in postgresql.auto.conf, the last one there.
    pub(super) fn get_auto(&self, name: &str) -> Option<&Setting> {
        let (_, d) = self.auto.as_ref()?;
        d.settings().map(|(_, s)| s).filter(|s| s.is(name)).last()
    }
}
