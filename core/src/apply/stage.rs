//! Private copies of a service's config directories with a plan's files laid over them:
//! what a daemon's own checker reads before anything under `--root` is written. The copies
//! live in a temporary directory of their own and go with it; nothing here writes under the
//! root.

use crate::change::Plan;
use crate::error::{Error, Result};
use crate::host::Host;
use std::path::{Path, PathBuf};

/// A temporary directory holding `stage/` (the copied directories, by machine path) and
/// `work/` (scratch space for a checker).
#[derive(Debug)]
pub struct Stage {
    dir: tempfile::TempDir,
}

impl Stage {
    pub fn new() -> Result<Stage> {
        let dir = tempfile::Builder::new()
            .prefix("v6fix-validate-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir().display().to_string(), &e))?;
        let s = Stage { dir };
        let work = s.work();
        std::fs::create_dir_all(&work).map_err(|e| Error::io(work.display().to_string(), &e))?;
        Ok(s)
    }

    /// Where machine path `/etc/x` of the copy lies: `stage/etc/x`.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("stage")
    }

    /// Scratch space for the checker.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Copies each of `dirs` (machine paths of directories, or of single files) from the host into the stage, replacing an
    /// earlier copy; with `planned`, lays the plan's new texts of files inside them over it.
    pub fn lay(&self, host: &Host, dirs: &[&str], plan: &Plan, planned: bool) -> Result<()> {
        let stage = self.root();
        for dir in dirs {
            let src = host.on_disk(Path::new(dir));
            let dst = stage.join(dir.trim_start_matches('/'));
            let _ = std::fs::remove_dir_all(&dst);
            if src.is_dir() {
                copy_tree(&src, &dst).map_err(|e| Error::io(src.display().to_string(), &e))?;
            } else if src.is_file() {
                // A checker's config that is one file (/etc/nftables.conf): copied alone.
                let _ = std::fs::remove_file(&dst);
                if let Some(p) = dst.parent() {
                    std::fs::create_dir_all(p)
                        .map_err(|e| Error::io(p.display().to_string(), &e))?;
                }
                std::fs::copy(&src, &dst).map_err(|e| Error::io(src.display().to_string(), &e))?;
            } else {
                std::fs::create_dir_all(&dst)
                    .map_err(|e| Error::io(dst.display().to_string(), &e))?;
            }
        }
        if !planned {
            return Ok(());
        }
        for f in &plan.files {
            if !dirs.iter().any(|d| f.target.starts_with(d)) {
                continue;
            }
            let dst = stage.join(f.target.strip_prefix("/").unwrap_or(&f.target));
            if let Some(p) = dst.parent() {
                std::fs::create_dir_all(p).map_err(|e| Error::io(p.display().to_string(), &e))?;
            }
            // A symlink in the copy would write through to its target: replace it.
            let _ = std::fs::remove_file(&dst);
            std::fs::write(&dst, crate::text::encode(&f.new))
                .map_err(|e| Error::io(dst.display().to_string(), &e))?;
        }
        Ok(())
    }
}

/// Copies a tree, keeping symlinks as symlinks and modes as they are.
fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let to = dst.join(e.file_name());
        let ft = e.file_type()?;
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path())?, &to)?;
        } else if ft.is_dir() {
            copy_tree(&e.path(), &to)?;
        } else if ft.is_file() {
            std::fs::copy(e.path(), &to)?;
        }
    }
    Ok(())
}
