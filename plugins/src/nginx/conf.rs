//! Loading nginx.conf and its includes, and walking every directive where nginx sees it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use v6fix_core::dialect::nginx::{self, Directive, Doc};
use v6fix_core::{File, Host, Result};

pub(super) const MAIN: &str = "/etc/nginx/nginx.conf";
const PREFIX_DIR: &str = "/etc/nginx";

pub(super) struct Loaded {
    pub(super) file: File,
    pub(super) doc: Doc,
}

/// A directive where nginx sees it: its file, its block context, its server.
pub(super) struct Placed<'a> {
    pub(super) file: usize,
    pub(super) d: &'a Directive,
    /// Index into `Conf::servers` of the enclosing `server` block.
    pub(super) server: Option<usize>,
    /// The innermost enclosing block instance (allow lists are per block).
    pub(super) block: usize,
}

pub(super) struct Server<'a> {
    /// `http`, `stream` or `mail`: each has its own listening sockets.
    pub(super) proto: String,
    _d: &'a Directive,
}

pub(super) struct Conf {
    pub(super) files: Vec<Loaded>,
}

impl Conf {
    pub(super) fn load(host: &Host) -> Result<Option<Conf>> {
        let mut conf = Conf { files: Vec::new() };
        if host.read(Path::new(MAIN))?.is_none() {
            return Ok(None);
        }
        let mut todo = vec![PathBuf::from(MAIN)];
        let mut seen = HashSet::new();
        while let Some(path) = todo.pop() {
            let Some(file) = host.read(&path)? else {
                continue;
            };
            if !seen.insert(file.target.clone()) {
                continue;
            }
            let doc = nginx::parse(&file.text).map_err(|e| host.parse_error(&file, e))?;
            let mut found = Vec::new();
            for (_, d) in doc.directives() {
                if d.name() == "include" {
                    if let Some(p) = d.args().first() {
                        found.extend(host.glob(&include_pattern(p))?);
                    }
                }
            }
            conf.files.push(Loaded { file, doc });
            // Depth first, in include order.
            for f in found.into_iter().rev() {
                todo.push(f);
            }
        }
        Ok(Some(conf))
    }

    fn index_of(&self, host: &Host, path: &Path) -> Option<usize> {
        let target = host.resolve(path).ok()?;
        self.files.iter().position(|f| f.file.target == target)
    }

    /// Every directive where nginx sees it, includes expanded in place.
    pub(super) fn placed<'a>(&'a self, host: &Host) -> Result<(Vec<Placed<'a>>, Vec<Server<'a>>)> {
        struct St<'a> {
            out: Vec<Placed<'a>>,
            servers: Vec<Server<'a>>,
            blocks: usize,
        }
        #[allow(clippy::too_many_arguments)]
        fn go<'a>(
            conf: &'a Conf,
            host: &Host,
            file: usize,
            items: &'a [nginx::Item],
            ctx: &mut Vec<String>,
            server: Option<usize>,
            block: usize,
            depth: usize,
            st: &mut St<'a>,
        ) -> Result<()> {
            for it in items {
                let nginx::ItemKind::Directive(d) = &it.kind else {
                    continue;
                };
                if d.name() == "include" && depth < 16 {
                    if let Some(p) = d.args().first() {
                        for m in host.glob(&include_pattern(p))? {
                            if let Some(i) = conf.index_of(host, &m) {
                                go(
                                    conf,
                                    host,
                                    i,
                                    &conf.files[i].doc.items,
                                    ctx,
                                    server,
                                    block,
                                    depth + 1,
                                    st,
                                )?;
                            }
                        }
                    }
                    continue;
                }
                st.out.push(Placed {
                    file,
                    d,
                    server,
                    block,
                });
                if let Some(b) = &d.block {
                    let mut inner_server = server;
                    if d.name() == "server"
                        && matches!(
                            ctx.last().map(String::as_str),
                            Some("http" | "stream" | "mail")
                        )
                    {
                        st.servers.push(Server {
                            proto: ctx.last().cloned().unwrap_or_default(),
                            _d: d,
                        });
                        inner_server = Some(st.servers.len() - 1);
                    }
                    st.blocks += 1;
                    let id = st.blocks;
                    ctx.push(d.name().to_string());
                    go(conf, host, file, &b.items, ctx, inner_server, id, depth, st)?;
                    ctx.pop();
                }
            }
            Ok(())
        }
        let mut st = St {
            out: Vec::new(),
            servers: Vec::new(),
            blocks: 0,
        };
        go(
            self,
            host,
            0,
            &self.files[0].doc.items,
            &mut Vec::new(),
            None,
            0,
            0,
            &mut st,
        )?;
        Ok((st.out, st.servers))
    }

    pub(super) fn at(&self, host: &Host, p: &Placed<'_>) -> String {
        host.locate(&self.files[p.file].file, p.d.span.start)
    }

    pub(super) fn text_of(&self, p: &Placed<'_>) -> String {
        let src = &self.files[p.file].doc.src;
        let words: Vec<&str> = p.d.words.iter().map(|w| &src[w.span.clone()]).collect();
        words.join(" ")
    }
}

/// An include pattern as a machine path: relative ones are relative to /etc/nginx.
fn include_pattern(p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{PREFIX_DIR}/{p}")
    }
}
