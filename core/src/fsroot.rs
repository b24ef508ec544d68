//! Race-free access to the files under `--root`: every path is opened through a handle on
//! the root directory, and no symlink is followed on the way.
//!
//! The paths given here are machine paths that [`crate::Host::resolve`] already resolved,
//! so they hold no symlink; one found on the way means the tree changed while v6fix was
//! running (a directory swapped for a link, say), and the open fails instead of following
//! it out of the root. Directories are opened with `openat2(RESOLVE_IN_ROOT |
//! RESOLVE_NO_SYMLINKS)` where the kernel has it, and component by component with
//! `O_NOFOLLOW` otherwise. Files are then opened, written, renamed and removed relative to
//! the directory handle that was checked, never again by name from the root.

use rustix::fs::{
    fgetxattr, flistxattr, fsetxattr, fstat, openat, openat2, AtFlags, Mode, OFlags, ResolveFlags,
    XattrFlags,
};
use rustix::io::Errno;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// A handle on the root directory.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

/// Owner, group, mode and extended attributes (ACLs and SELinux labels are xattrs too).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attrs {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits, including setuid, setgid and sticky.
    pub mode: u32,
    /// `(name, value)`, in the order the filesystem lists them.
    pub xattrs: Vec<(String, Vec<u8>)>,
}

/// A regular file as read through a directory handle: its bytes, attributes, link count.
#[derive(Debug)]
pub struct Contents {
    pub bytes: Vec<u8>,
    pub attrs: Attrs,
    pub nlink: u64,
}

fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// The normal components of a machine path (`/etc/postfix` → `etc`, `postfix`).
fn parts(path: &Path) -> io::Result<Vec<&std::ffi::OsStr>> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{}: not a resolved machine path", path.display()),
                ))
            }
        }
    }
    Ok(out)
}

impl Root {
    /// Opens the directory `path` as the root.
    pub fn open(path: &Path) -> io::Result<Root> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno)?;
        Ok(Root {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The root as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The handle on the root directory itself.
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens directory `dir` (a machine path) without following any symlink. With
    /// `create`, missing directories are made (mode 0755) and their machine paths pushed
    /// onto it, outermost first.
    pub fn open_dir(&self, dir: &Path, create: Option<&mut Vec<PathBuf>>) -> io::Result<OwnedFd> {
        let comps = parts(dir)?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if create.is_none() {
            let rel: PathBuf = if comps.is_empty() {
                PathBuf::from(".")
            } else {
                comps.iter().collect()
            };
            match openat2(
                &self.fd,
                &rel,
                flags,
                Mode::empty(),
                ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
            ) {
                Ok(fd) => return Ok(fd),
                // No openat2 (before Linux 5.6, or filtered): walk instead.
                Err(Errno::NOSYS) | Err(Errno::PERM) => {}
                Err(e) => return Err(errno(e)),
            }
        }
        let mut create = create;
        let mut cur = rustix::io::dup(&self.fd).map_err(errno)?;
        let mut machine = PathBuf::from("/");
        for c in comps {
            machine.push(c);
            let next = match openat(&cur, c, flags | OFlags::NOFOLLOW, Mode::empty()) {
                Err(Errno::NOENT) if create.is_some() => {
                    match rustix::fs::mkdirat(&cur, c, Mode::from_raw_mode(0o755)) {
                        Ok(()) => {
                            if let Some(made) = create.as_deref_mut() {
                                made.push(machine.clone());
                            }
                        }
                        Err(Errno::EXIST) => {}
                        Err(e) => return Err(errno(e)),
                    }
                    openat(&cur, c, flags | OFlags::NOFOLLOW, Mode::empty())
                }
                r => r,
            };
            cur = next.map_err(errno)?;
        }
        Ok(cur)
    }

    /// Opens directory `dir`; `None` when it (or a directory above it) does not exist.
    pub fn open_dir_if_exists(&self, dir: &Path) -> io::Result<Option<OwnedFd>> {
        match self.open_dir(dir, None) {
            Ok(fd) => Ok(Some(fd)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads the regular file at machine path `path` once; `None` when it does not exist.
    pub fn read(&self, path: &Path) -> io::Result<Option<Contents>> {
        let (dir, name) = split(path)?;
        let Some(d) = self.open_dir_if_exists(&dir)? else {
            return Ok(None);
        };
        read_at(&d, &name)
    }
}

/// `path`'s parent directory and file name.
pub fn split(path: &Path) -> io::Result<(PathBuf, std::ffi::OsString)> {
    match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => Ok((d.to_path_buf(), n.to_os_string())),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file path", path.display()),
        )),
    }
}

/// The largest config file v6fix reads: 256 MiB. Config files are kilobytes; anything near
/// this is not a config file, and reading it whole would only exhaust memory.
pub const MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// What a file of mode `mode` (as `st_mode`) is, in words, for messages.
pub fn kind_of(mode: u32) -> &'static str {
    match mode & 0o170000 {
        0o100000 => "a regular file",
        0o040000 => "a directory",
        0o010000 => "a FIFO (named pipe)",
        0o140000 => "a socket",
        0o020000 => "a character device",
        0o060000 => "a block device",
        0o120000 => "a symlink",
        _ => "a file of unknown type",
    }
}

fn not_regular(mode: u32) -> io::Error {
    io::Error::other(format!(
        "found {}, expected a regular file; v6fix reads and writes only regular files",
        kind_of(mode)
    ))
}

/// Reads regular file `name` in `dir` without following a symlink; `None` when absent.
///
/// Anything else (a directory, FIFO, socket or device) is refused before it is opened for
/// reading, so a FIFO never blocks the run and a device is never read; the type is checked
/// again on the opened handle, which is opened non-blocking, in case it was swapped in
/// between. A file over [`MAX_FILE_SIZE`] is refused too.
pub fn read_at(dir: &impl AsFd, name: &std::ffi::OsStr) -> io::Result<Option<Contents>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if st.st_mode & 0o170000 == 0o120000 => {
            return Err(io::Error::other(
                "a symlink took the place of the file while v6fix was running",
            ))
        }
        Ok(st) if st.st_mode & 0o170000 != 0o100000 => return Err(not_regular(st.st_mode)),
        Ok(_) => {}
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(errno(e)),
    }
    let fd = match openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(Errno::LOOP) => {
            return Err(io::Error::other(
                "a symlink took the place of the file while v6fix was running",
            ))
        }
        Err(e) => return Err(errno(e)),
    };
    let st = fstat(&fd).map_err(errno)?;
    if st.st_mode & 0o170000 != 0o100000 {
        return Err(not_regular(st.st_mode));
    }
    let too_big = || {
        io::Error::other(format!(
            "larger than {} MiB, the most v6fix reads; this is not a config file",
            MAX_FILE_SIZE / (1024 * 1024)
        ))
    };
    if st.st_size as u64 > MAX_FILE_SIZE {
        return Err(too_big());
    }
    let attrs = attrs_of(&fd)?;
    let mut bytes = Vec::with_capacity(st.st_size as usize);
    // Bounded even if the file grows while it is read.
    std::fs::File::from(fd)
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_big());
    }
    Ok(Some(Contents {
        bytes,
        attrs,
        nlink: st.st_nlink,
    }))
}

/// The owner, group, mode and extended attributes of an open file.
pub fn attrs_of(fd: &impl AsFd) -> io::Result<Attrs> {
    let st = fstat(fd).map_err(errno)?;
    let mut xattrs = Vec::new();
    let mut names = vec![0u8; 1024];
    let n = loop {
        match flistxattr(fd, &mut names[..]) {
            Ok(n) => break n,
            Err(Errno::RANGE) => names.resize(names.len() * 4, 0),
            Err(Errno::NOTSUP) => break 0,
            Err(e) => return Err(errno(e)),
        }
    };
    for name in names[..n].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        let mut value = vec![0u8; 256];
        let len = loop {
            match fgetxattr(fd, name.as_str(), &mut value[..]) {
                Ok(len) => break Some(len),
                Err(Errno::RANGE) => value.resize(value.len() * 4, 0),
                // Listed, then removed by someone else: nothing to carry.
                Err(Errno::NODATA) => break None,
                Err(e) => return Err(errno(e)),
            }
        };
        if let Some(len) = len {
            value.truncate(len);
            xattrs.push((name, value));
        }
    }
    Ok(Attrs {
        uid: st.st_uid,
        gid: st.st_gid,
        mode: st.st_mode & 0o7777,
        xattrs,
    })
}

/// Creates `name` in `dir` (it must not exist), readable by its creator only from the first
/// byte, then gives it `attrs` (owner and group first, then mode, then extended attributes)
/// and only then writes `bytes` and syncs them. `before_write` runs between the two (a fault
/// point for tests).
pub fn create_at(
    dir: &impl AsFd,
    name: &std::ffi::OsStr,
    bytes: &[u8],
    attrs: &Attrs,
    before_write: &mut dyn FnMut(&OwnedFd) -> io::Result<()>,
) -> io::Result<()> {
    let fd = openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(errno)?;
    let result = (|| {
        rustix::fs::fchown(
            &fd,
            Some(rustix::fs::Uid::from_raw(attrs.uid)),
            Some(rustix::fs::Gid::from_raw(attrs.gid)),
        )
        .map_err(errno)?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(attrs.mode)).map_err(errno)?;
        for (n, v) in &attrs.xattrs {
            match fsetxattr(&fd, n.as_str(), v, XattrFlags::empty()) {
                Ok(()) => {}
                Err(e) => {
                    return Err(io::Error::new(
                        errno(e).kind(),
                        format!("cannot set extended attribute {n}: {}", errno(e)),
                    ))
                }
            }
        }
        before_write(&fd)?;
        let mut f = std::fs::File::from(fd.try_clone()?);
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if result.is_err() {
        let _ = rustix::fs::unlinkat(dir, name, AtFlags::empty());
    }
    result
}

/// Removes file `name` in `dir`; absent is fine.
pub fn remove_at(dir: &impl AsFd, name: &std::ffi::OsStr) -> io::Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(errno(e)),
    }
}

/// Renames `from` over `to`, both in `dir`.
pub fn rename_at(dir: &impl AsFd, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> io::Result<()> {
    rustix::fs::renameat(dir, from, dir, to).map_err(errno)
}

/// Makes a directory's entries durable.
pub fn sync_dir(dir: &impl AsFd) -> io::Result<()> {
    rustix::fs::fsync(dir).map_err(errno)
}

/// True when `name` exists in `dir` (not following a symlink).
pub fn exists_at(dir: &impl AsFd, name: &std::ffi::OsStr) -> io::Result<bool> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(_) => Ok(true),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(errno(e)),
    }
}

/// Removes the empty directory `name` in `dir`; `false` when it is not empty or absent.
pub fn remove_dir_at(dir: &impl AsFd, name: &std::ffi::OsStr) -> bool {
    rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR).is_ok()
}

/// The names in an open directory, sorted bytewise, without `.` and `..`.
pub fn list_at(dir: &impl AsFd) -> io::Result<Vec<std::ffi::OsString>> {
    let fd = openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)?;
    let mut d = rustix::fs::Dir::new(fd).map_err(errno)?;
    let mut out = Vec::new();
    while let Some(e) = d.read() {
        let e = e.map_err(errno)?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            use std::os::unix::ffi::OsStrExt;
            out.push(std::ffi::OsStr::from_bytes(n).to_os_string());
        }
    }
    out.sort();
    Ok(out)
}

/// Removes directory `name` in `dir` and everything below it, without following links.
pub fn remove_tree_at(dir: &impl AsFd, name: &std::ffi::OsStr) -> io::Result<()> {
    let sub = match openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(Errno::NOTDIR) | Err(Errno::LOOP) => return remove_at(dir, name),
        Err(e) => return Err(errno(e)),
    };
    for n in list_at(&sub)? {
        match rustix::fs::unlinkat(&sub, n.as_os_str(), AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(Errno::ISDIR) => remove_tree_at(&sub, &n)?,
            Err(e) => return Err(errno(e)),
        }
    }
    match rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(errno(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_symlinked_directory_is_never_followed() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(outer.path().join("outside")).unwrap();
        std::fs::write(outer.path().join("outside/main.cf"), "secret\n").unwrap();
        symlink(outer.path().join("outside"), root.join("etc/postfix")).unwrap();
        let r = Root::open(&root).unwrap();
        assert!(r.read(Path::new("/etc/postfix/main.cf")).is_err());
        let mut made = Vec::new();
        assert!(r
            .open_dir(Path::new("/etc/postfix"), Some(&mut made))
            .is_err());
        assert!(made.is_empty());
    }

    #[test]
    fn files_are_created_private_then_given_their_attributes() {
        let d = tempfile::tempdir().unwrap();
        let r = Root::open(d.path()).unwrap();
        let mut made = Vec::new();
        let dir = r.open_dir(Path::new("/a/b"), Some(&mut made)).unwrap();
        assert_eq!(made, [PathBuf::from("/a"), PathBuf::from("/a/b")]);
        let attrs = Attrs {
            uid: 4321,
            gid: 8765,
            mode: 0o640,
            xattrs: vec![],
        };
        let mut seen = None;
        create_at(&dir, "f".as_ref(), b"x\n", &attrs, &mut |fd: &OwnedFd| {
            seen = Some(attrs_of(fd)?);
            Ok(())
        })
        .unwrap();
        let seen = seen.unwrap();
        assert_eq!((seen.uid, seen.gid, seen.mode), (4321, 8765, 0o640));
        let got = r.read(Path::new("/a/b/f")).unwrap().unwrap();
        assert_eq!(got.bytes, b"x\n");
        assert_eq!(got.attrs.mode, 0o640);
    }

    #[test]
    fn only_regular_files_are_read_and_only_up_to_the_bound() {
        let dev = Root::open(Path::new("/"))
            .unwrap()
            .open_dir(Path::new("/dev"), None)
            .unwrap();
        let e = read_at(&dev, std::ffi::OsStr::new("null")).unwrap_err();
        assert!(e.to_string().contains("found a character device"), "{e}");

        let d = tempfile::tempdir().unwrap();
        let r = Root::open(d.path()).unwrap();
        let big = std::fs::File::create(d.path().join("big")).unwrap();
        big.set_len(MAX_FILE_SIZE + 1).unwrap();
        let e = r.read(Path::new("/big")).unwrap_err();
        assert!(e.to_string().contains("larger than 256 MiB"), "{e}");
        big.set_len(3).unwrap();
        assert_eq!(r.read(Path::new("/big")).unwrap().unwrap().bytes, [0, 0, 0]);
    }
}
