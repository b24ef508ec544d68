//! The Debian package (`cargo xtask deb`, named by `V6FIX_DEB`): it installs with `dpkg -i`
//! into a throwaway root, holds the binary, a man page for the program and for every
//! command that renders without a warning, shell completions in Debian's vendor
//! directories and the documentation, and lintian finds nothing to warn about.
//!
//! `cargo xtask ci` builds the package and sets `V6FIX_DEB`. Without it these tests say
//! `SKIPPED` locally and fail on CI.

use crate::support::{self, show, Skip, Skippable};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The package under test, or a [`Skip`] when none was built (on CI: a failure).
fn deb() -> Result<PathBuf, Skip> {
    if let Some(p) = std::env::var_os("V6FIX_DEB") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "V6FIX_DEB={} is not a file", p.display());
        return Ok(p);
    }
    if support::on_ci() {
        panic!("V6FIX_DEB is not set: `cargo xtask ci` builds the package and sets it");
    }
    Err(Skip(
        "V6FIX_DEB is not set (run `cargo xtask ci`, or `cargo xtask deb` and set it)".into(),
    ))
}

/// Installs `deb` with `dpkg -i` into a new, empty root and returns it.
fn install(deb: &Path) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let admin = root.path().join("var/lib/dpkg");
    for d in ["info", "updates"] {
        std::fs::create_dir_all(admin.join(d)).unwrap();
    }
    std::fs::write(admin.join("status"), "").unwrap();
    // The root has no libc6 package for `Depends` to find: only that is forced.
    let o = Command::new("dpkg")
        .arg(format!("--root={}", root.path().display()))
        .args(["--log=/dev/null", "--force-depends", "-i"])
        .arg(deb)
        .output()
        .unwrap();
    assert!(o.status.success(), "dpkg -i: {}", show(&o));
    let o = Command::new("dpkg")
        .arg(format!("--root={}", root.path().display()))
        .args(["-s", "v6fix"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Status: install ok installed"),
        "dpkg -s: {}",
        show(&o)
    );
    root
}

fn installs_the_binary_completions_and_documentation() -> Skippable {
    let deb = deb()?;
    support::daemon("dpkg")?;
    let root = install(&deb);
    let r = root.path();

    let o = Command::new(r.join("usr/bin/v6fix"))
        .arg("--version")
        .output()
        .unwrap();
    let want = format!("v6fix {}\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(String::from_utf8_lossy(&o.stdout), want, "{}", show(&o));

    for f in [
        "usr/share/bash-completion/completions/v6fix",
        "usr/share/zsh/vendor-completions/_v6fix",
        "usr/share/fish/vendor_completions.d/v6fix.fish",
        "usr/share/doc/v6fix/README.md",
        "usr/share/doc/v6fix/changelog.gz",
    ] {
        let meta = std::fs::metadata(r.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(meta.len() > 0, "{f} is empty");
    }
    // The bash completion loads and completes the commands.
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}/usr/share/bash-completion/completions/v6fix && complete -p v6fix && \
             COMP_WORDS=(v6fix po) COMP_CWORD=1 COMP_LINE='v6fix po' COMP_POINT=8 && \
             _v6fix v6fix po v6fix && echo \"${{COMPREPLY[@]}}\"",
            r.display()
        ))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("complete") && out.contains("postfix"),
        "bash completion: {}",
        show(&o)
    );

    // zsh parses its completion; fish loads its own and completes the commands.
    {
        let zsh = support::daemon("zsh")?;
        let o = Command::new(zsh)
            .arg("-n")
            .arg(r.join("usr/share/zsh/vendor-completions/_v6fix"))
            .output()
            .unwrap();
        assert!(o.status.success(), "zsh -n _v6fix: {}", show(&o));
    }
    {
        let fish = support::daemon("fish")?;
        let o = Command::new(fish)
            .arg("--no-config")
            .arg("-c")
            .arg(format!(
                "source {}/usr/share/fish/vendor_completions.d/v6fix.fish; complete -C 'v6fix po'",
                r.display()
            ))
            .output()
            .unwrap();
        assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout).starts_with("postfix\t"),
            "fish completion: {}",
            show(&o)
        );
    }

    // DEP-5 copyright with the license of Cargo.toml.
    let copyright = std::fs::read_to_string(r.join("usr/share/doc/v6fix/copyright")).unwrap();
    for want in [
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
        "Files: *",
        "License: MIT or Apache-2.0",
        "License: MIT\n",
        "License: Apache-2.0\n",
    ] {
        assert!(copyright.contains(want), "copyright lacks {want:?}");
    }
    Ok(())
}

fn control_fields_are_what_an_admin_expects() -> Skippable {
    let deb = deb()?;
    support::daemon("dpkg-deb")?;
    let field = |name: &str| {
        let o = Command::new("dpkg-deb")
            .arg("-f")
            .arg(&deb)
            .arg(name)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim_end().to_string()
    };
    assert_eq!(field("Package"), "v6fix");
    assert_eq!(field("Version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(field("Section"), "admin");
    assert_eq!(field("Priority"), "optional");
    assert!(field("Maintainer").contains('@'), "{}", field("Maintainer"));
    assert!(field("Depends").contains("libc6"), "{}", field("Depends"));
    let description = field("Description");
    let (synopsis, long) = description.split_once('\n').expect("a long description");
    assert!(synopsis.len() < 80, "synopsis too long: {synopsis}");
    assert!(long.lines().count() >= 3, "{long}");
    Ok(())
}

fn every_command_has_a_man_page_that_renders_without_warnings() -> Skippable {
    let deb = deb()?;
    support::daemon("dpkg")?;
    support::daemon("man")?;
    let root = install(&deb);
    let man1 = root.path().join("usr/share/man/man1");
    let cmd = v6fix::command();
    let mut pages = vec!["v6fix".to_string()];
    pages.extend(
        cmd.get_subcommands()
            .map(|s| format!("v6fix-{}", s.get_name())),
    );
    assert!(pages.len() > 5, "{pages:?}");
    let mut installed: Vec<String> = std::fs::read_dir(&man1)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    installed.sort();
    let mut want: Vec<String> = pages.iter().map(|p| format!("{p}.1.gz")).collect();
    want.sort();
    assert_eq!(installed, want);

    for page in &pages {
        let file = man1.join(format!("{page}.1.gz"));
        let gz = std::fs::read(&file).unwrap();
        assert_eq!(&gz[..2], b"\x1f\x8b", "{page} is not gzipped");
        let o = Command::new("man")
            .args(["-l", "--warnings"])
            .arg(&file)
            .env("MANWIDTH", "80")
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        assert!(o.status.success(), "man -l {page}: {}", show(&o));
        assert!(
            o.stderr.is_empty(),
            "man -l --warnings {page}: {}",
            show(&o)
        );
        let text = plain(&String::from_utf8_lossy(&o.stdout));
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "FILES",
            "EXAMPLES",
            "JSON OUTPUT",
            "SEE ALSO",
        ] {
            assert!(
                text.lines().any(|l| l == section),
                "{page} has no {section} section:\n{text}"
            );
        }
        assert!(text.contains("--root"), "{page} does not list --root");
    }
    Ok(())
}

/// Text without nroff's overstrike (bold is `X\bX`, underline `_\bX`).
fn plain(text: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out.into_iter().collect()
}

fn lintian_reports_no_error_or_warning() -> Skippable {
    let deb = deb()?;
    let lintian = support::daemon("lintian")?;
    // Left: I hardening-no-fortify-functions (Rust calls none of glibc's _chk functions).
    let o = Command::new(lintian)
        .args(["--fail-on", "error,warning", "--display-info"])
        .arg(&deb)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success()
            && !out
                .lines()
                .any(|l| l.starts_with("E:") || l.starts_with("W:")),
        "lintian: {}",
        show(&o)
    );
    Ok(())
}

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    crate::trials![
        installs_the_binary_completions_and_documentation,
        control_fields_are_what_an_admin_expects,
        every_command_has_a_man_page_that_renders_without_warnings,
        lintian_reports_no_error_or_warning,
    ]
}
