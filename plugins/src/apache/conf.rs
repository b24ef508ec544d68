//! Loading the configuration: the main file and everything it includes, in Apache's order.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use v6fix_core::dialect::apache::{self, Doc, Kind};
use v6fix_core::{File, Host, Result};

const SERVER_ROOT: &str = "/etc/apache2";
pub(super) const MAIN: &str = "/etc/apache2/apache2.conf";
const MAX_FILES: usize = 4096;

/// Every file of the configuration, in the order Apache reads them, parsed.
pub(super) struct Conf {
    pub(super) files: Vec<(File, Doc)>,
    pub(super) warnings: Vec<String>,
}

impl Conf {
    pub(super) fn load(host: &Host) -> Result<Option<Conf>> {
        let Some(main) = host.read(Path::new(MAIN))? else {
            return Ok(None);
        };
        let mut conf = Conf {
            files: Vec::new(),
            warnings: Vec::new(),
        };
        let mut seen = HashSet::new();
        let mut root = PathBuf::from(SERVER_ROOT);
        conf.add(host, main, &mut root, &mut seen)?;
        Ok(Some(conf))
    }

    fn add(
        &mut self,
        host: &Host,
        file: File,
        root: &mut PathBuf,
        seen: &mut HashSet<PathBuf>,
    ) -> Result<()> {
        if !seen.insert(file.target.clone()) || self.files.len() >= MAX_FILES {
            return Ok(());
        }
        let doc = apache::parse(&file.text).map_err(|e| host.parse_error(&file, e))?;
        let mut includes = Vec::new();
        for (i, it) in doc.items().iter().enumerate() {
            if it.is("ServerRoot") && it.kind == Kind::Directive {
                if let Some(a) = it.args.first() {
                    let r = a.unquoted();
                    if r.starts_with('/') && !r.contains("${") {
                        *root = PathBuf::from(r);
                    }
                }
            }
            let optional = it.is("IncludeOptional");
            if it.kind != Kind::Directive || !(optional || it.is("Include")) {
                continue;
            }
            for a in &it.args {
                includes.push((i, a.unquoted().to_string(), optional));
            }
        }
        let at = |i: usize| host.locate(&file, doc.items()[i].span.start);
        let mut found = Vec::new();
        for (i, pat, optional) in includes {
            if pat.contains("${") {
                self.warnings.push(format!(
                    "{}: Include {pat} names a variable that v6fix cannot resolve: not read",
                    at(i)
                ));
                continue;
            }
            let full = if pat.starts_with('/') {
                pat.clone()
            } else {
                format!("{}/{pat}", root.display())
            };
            let paths = if pat.contains(['*', '?', '[']) {
                host.glob(&full)?
            } else if host.exists(Path::new(&full)) {
                vec![PathBuf::from(&full)]
            } else {
                Vec::new()
            };
            if paths.is_empty() && !optional {
                self.warnings.push(format!(
                    "{}: Include {pat} matches nothing: Apache refuses to start this way",
                    at(i)
                ));
            }
            for p in paths {
                collect_files(host, &p, &mut found, 0)?;
            }
        }
        self.files.push((file, doc));
        for p in found {
            if let Some(f) = host.read(&p)? {
                self.add(host, f, root, seen)?;
            }
        }
        Ok(())
    }
}

/// A file, or every file below a directory (as Apache includes a directory), sorted.
fn collect_files(host: &Host, p: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<()> {
    let real = host.on_disk(&host.resolve(p)?);
    if real.is_dir() {
        if depth > 8 {
            return Ok(());
        }
        for name in host.list_dir(p)? {
            collect_files(host, &p.join(name), out, depth + 1)?;
        }
    } else if real.is_file() {
        out.push(p.to_path_buf());
    }
    Ok(())
}
