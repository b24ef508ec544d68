//! Loading the setup: the varnish.service unit and its drop-ins (or the SysV defaults), the
//! varnishd command line in effect, and the VCL files it loads with their includes.

use super::cmdline::{options, sysv_words, Word};
use std::path::{Path, PathBuf};
use v6fix_core::config_set::{ConfigSet, Include, Missing};
use v6fix_core::dialect::systemd::{self, exec_words};
use v6fix_core::dialect::varnish as vcl;
use v6fix_core::text::Text;
use v6fix_core::{File, Host, Result};

const ETC_UNIT: &str = "/etc/systemd/system/varnish.service";
const LIB_UNITS: &[&str] = &[
    "/lib/systemd/system/varnish.service",
    "/usr/lib/systemd/system/varnish.service",
];
const DROPIN_DIR: &str = "/etc/systemd/system/varnish.service.d";
pub(super) const SYSV: &str = "/etc/default/varnish";
const DEFAULT_VCL: &str = "/etc/varnish/default.vcl";
const DEFAULT_VCL_PATH: &str = "/etc/varnish:/usr/share/varnish/vcl";

pub(super) struct Unit {
    pub(super) file: File,
    pub(super) doc: systemd::Doc,
    /// Under /lib or /usr: read, never written.
    pub(super) readonly: bool,
}

/// Where the command line is.
pub(super) enum Cmd {
    /// Entry `entry` (index among the entries) of unit `unit`.
    Unit {
        unit: usize,
        entry: usize,
    },
    Sysv,
}

pub(super) struct Setup {
    /// The unit file systemd uses (an /etc copy or the /lib one), then the drop-ins.
    pub(super) units: Vec<Unit>,
    pub(super) sysv: Option<File>,
    pub(super) cmd: Option<Cmd>,
    /// ExecStart lines in effect: more than one means a drop-in lacks `ExecStart=`.
    pub(super) exec_count: usize,
    pub(super) words: Vec<Word>,
    pub(super) vcls: Vec<(File, vcl::Doc)>,
    /// For each of `vcls`, its includes: the tag (the index in `Doc::includes`) and the
    /// indices into `vcls` of the files each read.
    pub(super) vcl_includes: Vec<Vec<(usize, Vec<usize>)>>,
}

impl Setup {
    pub(super) fn load(host: &Host) -> Result<Option<Setup>> {
        let mut units = Vec::new();
        let read_unit = |path: &Path, readonly: bool| -> Result<Option<Unit>> {
            let Some(file) = host.read(path)? else {
                return Ok(None);
            };
            let doc = systemd::parse(&file.text).map_err(|e| host.parse_error(&file, e))?;
            Ok(Some(Unit {
                file,
                doc,
                readonly,
            }))
        };
        if let Some(u) = read_unit(Path::new(ETC_UNIT), false)? {
            units.push(u);
        } else {
            for p in LIB_UNITS {
                if let Some(u) = read_unit(Path::new(p), true)? {
                    units.push(u);
                    break;
                }
            }
        }
        for p in host.glob(&format!("{DROPIN_DIR}/*.conf"))? {
            if let Some(u) = read_unit(&p, false)? {
                units.push(u);
            }
        }
        let mut setup = Setup {
            units,
            sysv: None,
            cmd: None,
            exec_count: 0,
            words: Vec::new(),
            vcls: Vec::new(),
            vcl_includes: Vec::new(),
        };
        if !setup.units.is_empty() {
            let mut last = None;
            let mut count = 0;
            for (ui, u) in setup.units.iter().enumerate() {
                for (ei, e) in u.doc.entries().enumerate() {
                    if e.section == "Service" && e.key == "ExecStart" {
                        if u.doc.value(e).is_empty() {
                            count = 0;
                            last = None;
                        } else {
                            count += 1;
                            last = Some((ui, ei));
                        }
                    }
                }
            }
            setup.exec_count = count;
            if let Some((ui, ei)) = last {
                let u = &setup.units[ui];
                let e = u.doc.entries().nth(ei).expect("entry index");
                let ws =
                    exec_words(&u.file.text, e).map_err(|err| host.parse_error(&u.file, err))?;
                setup.words = ws
                    .into_iter()
                    .map(|w| Word {
                        span: w.span,
                        value: w.value,
                    })
                    .collect();
                setup.cmd = Some(Cmd::Unit {
                    unit: ui,
                    entry: ei,
                });
            }
        } else if let Some(f) = host.read(Path::new(SYSV))? {
            if let Some((_, words)) = sysv_words(&f.text) {
                setup.words = words;
                setup.cmd = Some(Cmd::Sysv);
            }
            setup.sysv = Some(f);
        } else {
            return Ok(None);
        }
        setup.load_vcl(host)?;
        Ok(Some(setup))
    }

    fn load_vcl(&mut self, host: &Host) -> Result<()> {
        let opts = options(&self.words);
        if self.cmd.is_some()
            && opts.iter().any(|o| o.letter == 'b')
            && !opts.iter().any(|o| o.letter == 'f')
        {
            return Ok(());
        }
        let vcl_path: Vec<String> = opts
            .iter()
            .filter(|o| o.letter == 'p')
            .filter_map(|o| o.value.strip_prefix("vcl_path=").map(str::to_string))
            .next_back()
            .unwrap_or_else(|| DEFAULT_VCL_PATH.to_string())
            .split(':')
            .map(str::to_string)
            .collect();
        let main = opts
            .iter()
            .filter(|o| o.letter == 'f')
            .map(|o| o.value.clone())
            .next_back()
            .unwrap_or_else(|| DEFAULT_VCL.to_string());
        let main = if main.starts_with('/') {
            Some(PathBuf::from(&main))
        } else {
            vcl_path
                .iter()
                .map(|d| Path::new(d).join(&main))
                .find(|p| host.exists(p))
        };
        let Some(main) = main else {
            return Ok(());
        };
        let parse = |text: Text| {
            let doc = vcl::parse(text)?;
            doc.acls()?;
            Ok(doc)
        };
        // `include "./x.vcl"` is relative to the including file, any other relative name
        // is looked up along vcl_path; varnishd refuses to compile without the file.
        let includes = |file: &File, doc: &vcl::Doc| {
            let dir = file.path.parent().unwrap_or(Path::new("/")).to_path_buf();
            doc.includes()
                .into_iter()
                .enumerate()
                .map(|(i, (name, span))| {
                    let text = format!("include \"{name}\"");
                    let inc = match name.strip_prefix("./") {
                        Some(rel) => Include::new(i, span.start, text, rel, &dir),
                        None => Include::new(i, span.start, text, name.as_str(), &dir)
                            .search(vcl_path.iter().map(PathBuf::from).collect()),
                    };
                    inc.glob(false).missing(Missing::Error)
                })
                .collect()
        };
        if let Some(set) = ConfigSet::load(host, "varnishd", &main, parse, includes)? {
            for m in set.files {
                self.vcls.push((m.file, m.doc));
                self.vcl_includes.push(m.includes);
            }
        }
        Ok(())
    }

    pub(super) fn cmd_file(&self) -> Option<&File> {
        match self.cmd.as_ref()? {
            Cmd::Unit { unit, .. } => Some(&self.units[*unit].file),
            Cmd::Sysv => self.sysv.as_ref(),
        }
    }
}
