//! `cargo xtask deb`: builds `target/debian/v6fix_<version>_<arch>.deb` with dpkg-deb from a
//! staged tree, so no extra cargo tool is needed.
//!
//! The tree holds the release binary (stripped), the man pages and shell completions
//! generated from the command-line definition (`plugins/examples/gen-docs.rs`), README.md,
//! a machine-readable copyright file and a changelog. `Depends` comes from
//! `dpkg-shlibdeps` on the staged binary. Timestamps come from `SOURCE_DATE_EPOCH`, or the
//! last commit's date, so two builds of one commit give the same package.

use crate::{cargo, root, run, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const MAINTAINER: &str = "v6fix developers <v6fix@example.org>";
const SYNOPSIS: &str = "convert Debian servers to dual-stack IPv4/IPv6";
const DESCRIPTION: &str = "\
v6fix rewrites service configs in place so that a Debian server serves IPv4
and IPv6: /etc/network/interfaces, /etc/resolv.conf, Postfix, Dovecot,
Pure-FTPd, Apache, nginx, Varnish and sshd. It knows how each daemon spells
IPv6, edits only the lines it must in the file's own style, changes all files
of a run or none, and changes nothing on a second run.
.
It is built to run unattended from configuration management: --check shows
the diff and exits 1 while changes are pending, and --json reports the
changes, warnings and the restart commands to run, in order.";

/// Files in the package, below `usr/share/doc/v6fix/`.
const COPYRIGHT: &str = "\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: v6fix
Comment: The binary is statically linked with Rust crates from crates.io (clap,
 nom, similar, inventory, serde_json, tempfile, glob and their dependencies),
 each under the MIT license, the Apache License 2.0, or both.

Files: *
Copyright: 2026 The v6fix developers
License: MIT or Apache-2.0

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the \"Software\"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all
 copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 SOFTWARE.

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the \"License\"); you may not
 use this file except in compliance with the License. You may obtain a copy of
 the License at
 .
 http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an \"AS IS\" BASIS, WITHOUT
 WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 License for the specific language governing permissions and limitations under
 the License.
 .
 On Debian systems, the complete text of the Apache License 2.0 can be found
 in /usr/share/common-licenses/Apache-2.0.
";

fn output(mut c: Command) -> Result<String> {
    let o = c.output().map_err(|e| format!("{c:?}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{c:?} failed: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

fn io(what: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", what.display())
}

/// Copies `src` to `dst` with `mode`, creating the parents.
fn install(src: &Path, dst: &Path, mode: u32) -> Result {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dst.parent().unwrap()).map_err(|e| io(dst, e))?;
    std::fs::copy(src, dst).map_err(|e| io(src, e))?;
    std::fs::set_permissions(dst, std::fs::Permissions::from_mode(mode)).map_err(|e| io(dst, e))
}

/// Writes `text` to `dst` gzipped with `gzip -9n` (no name, no time: reproducible).
fn install_gz(text: &[u8], dst: &Path) -> Result {
    use std::io::Write;
    std::fs::create_dir_all(dst.parent().unwrap()).map_err(|e| io(dst, e))?;
    let file = std::fs::File::create(dst).map_err(|e| io(dst, e))?;
    let mut child = Command::new("gzip")
        .arg("-9n")
        .stdin(std::process::Stdio::piped())
        .stdout(file)
        .spawn()
        .map_err(|e| format!("gzip: {e}"))?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text)
        .map_err(|e| format!("gzip: {e}"))?;
    let status = child.wait().map_err(|e| format!("gzip: {e}"))?;
    if !status.success() {
        return Err(format!("gzip {}: {status}", dst.display()));
    }
    Ok(())
}

/// Seconds since the epoch for every timestamp in the package.
fn source_date_epoch() -> String {
    if let Ok(s) = std::env::var("SOURCE_DATE_EPOCH") {
        return s;
    }
    let mut git = cmd("git", &["log", "-1", "--format=%ct"]);
    git.current_dir(root());
    output(git)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "0".into())
}

/// Total size of the files below `dir`, in KiB, as dpkg counts `Installed-Size`.
fn installed_size(dir: &Path) -> u64 {
    let mut kib = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            kib += if meta.is_dir() {
                1 + installed_size(&e.path())
            } else {
                meta.len().div_ceil(1024)
            };
        }
    }
    kib
}

/// Builds the package and returns its path.
pub(crate) fn build() -> Result<PathBuf> {
    run(cargo(&["build", "--release", "-p", "v6fix"]))?;
    let bin = root().join("target/release/v6fix");
    let version = output(cmd(bin.to_str().unwrap(), &["--version"]))?
        .trim_start_matches("v6fix ")
        .to_string();
    let arch = output(cmd("dpkg", &["--print-architecture"]))?;
    let epoch = source_date_epoch();
    let out = root().join("target/debian");
    let name = format!("v6fix_{version}_{arch}");
    let stage = out.join(&name);
    let gen = out.join("gen");
    for d in [&stage, &gen] {
        let _ = std::fs::remove_dir_all(d);
    }

    // Man pages and completions, from the command-line definition.
    let mut g = cargo(&[
        "run",
        "--quiet",
        "-p",
        "v6fix",
        "--example",
        "gen-docs",
        "--",
    ]);
    g.arg(&gen).env("SOURCE_DATE_EPOCH", &epoch);
    run(g)?;

    let usr = stage.join("usr");
    install(&bin, &usr.join("bin/v6fix"), 0o755)?;
    run(cmd(
        "strip",
        &[
            "--strip-unneeded",
            "--remove-section=.comment",
            "--remove-section=.note",
            usr.join("bin/v6fix").to_str().unwrap(),
        ],
    ))?;
    let man_dir = gen.join("man");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&man_dir)
        .map_err(|e| io(&man_dir, e))?
        .flatten()
        .map(|e| e.path())
        .collect();
    pages.sort();
    for page in &pages {
        let text = std::fs::read(page).map_err(|e| io(page, e))?;
        let file = format!("{}.gz", page.file_name().unwrap().to_string_lossy());
        install_gz(&text, &usr.join("share/man/man1").join(file))?;
    }
    let comp = gen.join("completions");
    for (src, dst) in [
        ("v6fix.bash", "share/bash-completion/completions/v6fix"),
        ("_v6fix", "share/zsh/vendor-completions/_v6fix"),
        ("v6fix.fish", "share/fish/vendor_completions.d/v6fix.fish"),
    ] {
        install(&comp.join(src), &usr.join(dst), 0o644)?;
    }
    let doc = usr.join("share/doc/v6fix");
    install(&root().join("README.md"), &doc.join("README.md"), 0o644)?;
    std::fs::write(doc.join("copyright"), COPYRIGHT).map_err(|e| io(&doc, e))?;
    install_gz(
        changelog(&version, &epoch)?.as_bytes(),
        &doc.join("changelog.gz"),
    )?;

    // Depends, from the libraries the binary links.
    let shlibs = out.join("shlibs");
    std::fs::create_dir_all(shlibs.join("debian")).map_err(|e| io(&shlibs, e))?;
    std::fs::write(
        shlibs.join("debian/control"),
        "Source: v6fix\n\nPackage: v6fix\nArchitecture: any\n",
    )
    .map_err(|e| io(&shlibs, e))?;
    let mut sd = Command::new("dpkg-shlibdeps");
    sd.arg("-O")
        .arg(format!("-e{}", usr.join("bin/v6fix").display()))
        .current_dir(&shlibs);
    let depends = output(sd)?
        .lines()
        .find_map(|l| l.strip_prefix("shlibs:Depends="))
        .map(str::to_string)
        .ok_or("dpkg-shlibdeps printed no shlibs:Depends")?;

    let control = format!(
        "Package: v6fix\n\
         Version: {version}\n\
         Architecture: {arch}\n\
         Maintainer: {MAINTAINER}\n\
         Installed-Size: {size}\n\
         Depends: {depends}\n\
         Section: admin\n\
         Priority: optional\n\
         Description: {SYNOPSIS}\n{long}\n",
        size = installed_size(&stage),
        long = DESCRIPTION
            .lines()
            .map(|l| format!(" {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    std::fs::create_dir_all(stage.join("DEBIAN")).map_err(|e| io(&stage, e))?;
    std::fs::write(stage.join("DEBIAN/control"), control).map_err(|e| io(&stage, e))?;
    let mut md5 = cmd(
        "sh",
        &[
            "-c",
            "find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum",
        ],
    );
    md5.current_dir(&stage);
    let sums = output(md5)? + "\n";
    std::fs::write(stage.join("DEBIAN/md5sums"), sums).map_err(|e| io(&stage, e))?;
    // Directories 0755 and files 0644 (the binary 0755), whatever the umask was.
    run(cmd(
        "chmod",
        &["-R", "u=rwX,go=rX", stage.to_str().unwrap()],
    ))?;
    run(cmd(
        "chmod",
        &["0755", usr.join("bin/v6fix").to_str().unwrap()],
    ))?;

    let deb = out.join(format!("{name}.deb"));
    let mut b = cmd("dpkg-deb", &["--root-owner-group", "-Zxz", "--build"]);
    b.arg(&stage).arg(&deb).env("SOURCE_DATE_EPOCH", &epoch);
    run(b)?;
    eprintln!("xtask: built {}", deb.display());
    Ok(deb)
}

/// A Debian changelog entry for this version, dated by `epoch`.
fn changelog(version: &str, epoch: &str) -> Result<String> {
    let date = output(cmd("date", &["-u", "-R", "-d", &format!("@{epoch}")]))?;
    Ok(format!(
        "v6fix ({version}) unstable; urgency=medium\n\n  \
         * Release {version}: built from the v6fix source tree.\n\n \
         -- {MAINTAINER}  {date}\n"
    ))
}
