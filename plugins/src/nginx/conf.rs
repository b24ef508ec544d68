//! Loading nginx.conf and its includes, and walking every directive where nginx sees it.

use std::path::Path;
use v6fix_core::config_set::{self, ConfigSet, Include, Missing};
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
    /// Per file: (offset of an `include`, the files it reads).
    includes: Vec<Vec<(usize, Vec<usize>)>>,
    /// Include globs that matched nothing.
    pub(super) notes: Vec<String>,
}

impl Conf {
    pub(super) fn load(host: &Host) -> Result<Option<Conf>> {
        let Some(set) = ConfigSet::load(
            host,
            "nginx",
            Path::new(MAIN),
            nginx::parse,
            |_, doc: &Doc| {
                let mut out = Vec::new();
                for d in doc.each_directive() {
                    if d.name() == "include" {
                        if let Some(p) = d.args().first() {
                            // nginx goes on when a glob matches nothing, not when a plain path
                            // names no file.
                            let glob = p.contains(['*', '?', '[']);
                            out.push(
                                Include::new(
                                    d.span.start,
                                    d.span.start,
                                    format!("include {p}"),
                                    &**p,
                                    PREFIX_DIR,
                                )
                                .missing(if glob {
                                    Missing::Note
                                } else {
                                    Missing::Error
                                }),
                            );
                        }
                    }
                }
                out
            },
        )?
        else {
            return Ok(None);
        };
        let notes = set.notes;
        let mut conf = Conf {
            files: Vec::new(),
            includes: Vec::new(),
            notes,
        };
        for m in set.files {
            conf.files.push(Loaded {
                file: m.file,
                doc: m.doc,
            });
            conf.includes.push(m.includes);
        }
        Ok(Some(conf))
    }

    /// The files the `include` directive at `offset` of file `file` reads, in order.
    fn included(&self, file: usize, offset: usize) -> impl Iterator<Item = usize> + '_ {
        config_set::included(&self.includes[file], offset)
    }

    /// Every directive where nginx sees it, includes expanded in place.
    pub(super) fn placed<'a>(&'a self, _host: &Host) -> Result<(Vec<Placed<'a>>, Vec<Server<'a>>)> {
        struct St<'a> {
            out: Vec<Placed<'a>>,
            servers: Vec<Server<'a>>,
            blocks: usize,
        }
        fn go<'a>(
            conf: &'a Conf,
            file: usize,
            items: &'a [nginx::Item],
            ctx: &mut Vec<&'a str>,
            server: Option<usize>,
            block: usize,
            st: &mut St<'a>,
        ) -> Result<()> {
            for it in items {
                let nginx::ItemKind::Directive(d) = &it.kind else {
                    continue;
                };
                if d.name() == "include" {
                    // Each time, as nginx reads a file included twice twice; the loader
                    // has refused include loops.
                    for i in conf.included(file, d.span.start) {
                        go(conf, i, &conf.files[i].doc.items, ctx, server, block, st)?;
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
                        && matches!(ctx.last().copied(), Some("http" | "stream" | "mail"))
                    {
                        st.servers.push(Server {
                            proto: ctx.last().copied().unwrap_or_default().to_string(),
                            _d: d,
                        });
                        inner_server = Some(st.servers.len() - 1);
                    }
                    st.blocks += 1;
                    let id = st.blocks;
                    ctx.push(d.name());
                    go(conf, file, &b.items, ctx, inner_server, id, st)?;
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
            0,
            &self.files[0].doc.items,
            &mut Vec::new(),
            None,
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
