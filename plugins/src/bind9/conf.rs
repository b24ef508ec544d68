//! named.conf and its includes, read once, with every statement placed in its context.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use v6fix_core::config_set::{ConfigSet, Include, Missing};
use v6fix_core::dialect::bind::{self, Doc, Stmt};
use v6fix_core::{File, Host, MainFile, Result};

pub(super) const MAIN: MainFile = MainFile::new("/etc/bind/named.conf", "BIND");

/// Where a statement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Ctx {
    Top,
    Options,
    View,
    Zone,
}

/// A statement as named reads it: the file that holds it, the statement, its context.
pub(super) struct Placed<'a> {
    pub(super) file: usize,
    pub(super) stmt: &'a Stmt,
    pub(super) ctx: Ctx,
}

pub(super) struct Conf {
    pub(super) set: ConfigSet<Doc>,
    /// Per file: the include statements' offsets, by their tags.
    tags: Vec<HashMap<usize, usize>>,
}

impl Conf {
    pub(super) fn load(host: &Host) -> Result<Option<Conf>> {
        let Some(set) = ConfigSet::load(
            host,
            "named",
            Path::new(MAIN.path),
            bind::parse,
            |_, doc: &Doc| {
                doc.includes()
                    .into_iter()
                    .enumerate()
                    .map(|(tag, (s, path))| {
                        // named expands globs and reads a relative path from its working
                        // directory, `/` under systemd; a file that is missing stops it.
                        Include::new(tag, s.span.start, format!("include \"{path}\""), path, "/")
                            .missing(Missing::Error)
                    })
                    .collect()
            },
        )?
        else {
            return Ok(None);
        };
        let tags = set
            .files
            .iter()
            .map(|m| {
                m.doc
                    .includes()
                    .iter()
                    .enumerate()
                    .map(|(tag, (s, _))| (s.span.start, tag))
                    .collect()
            })
            .collect();
        Ok(Some(Conf { set, tags }))
    }

    pub(super) fn file(&self, i: usize) -> (&File, &Doc) {
        let m = &self.set.files[i];
        (&m.file, &m.doc)
    }

    /// Every statement of the top level, `options`, views and zones, in the order named
    /// reads them, includes expanded where they stand. A file included again in the same
    /// context holds the same statements (which named refuses as defined twice), so it is
    /// expanded once: thousands of repeated includes stay linear.
    pub(super) fn statements(&self) -> Vec<Placed<'_>> {
        let mut out = Vec::new();
        let main = &self.set.files[0].doc;
        let top: Vec<&Stmt> = main.statements().collect();
        let mut seen = HashSet::new();
        self.walk(0, &top, Ctx::Top, &mut seen, &mut out);
        out
    }

    fn walk<'a>(
        &'a self,
        fi: usize,
        stmts: &[&'a Stmt],
        ctx: Ctx,
        seen: &mut HashSet<(usize, Ctx)>,
        out: &mut Vec<Placed<'a>>,
    ) {
        let src = &self.set.files[fi].doc.src;
        for &s in stmts {
            if s.include_path(src).is_some() {
                let Some(&tag) = self.tags[fi].get(&s.span.start) else {
                    continue;
                };
                // The set refuses include loops, so this recursion ends.
                for j in self.set.included(fi, tag) {
                    if !seen.insert((j, ctx)) {
                        continue;
                    }
                    let inner: Vec<&Stmt> = self.set.files[j].doc.statements().collect();
                    self.walk(j, &inner, ctx, seen, out);
                }
                continue;
            }
            out.push(Placed {
                file: fi,
                stmt: s,
                ctx,
            });
            let inner = match (ctx, s.keyword(src).as_deref()) {
                (Ctx::Top, Some("options")) => Ctx::Options,
                (Ctx::Top, Some("view")) => Ctx::View,
                (Ctx::Top | Ctx::View, Some("zone")) => Ctx::Zone,
                _ => continue,
            };
            if let Some(b) = s.block() {
                let body: Vec<&Stmt> = b.stmts.iter().collect();
                self.walk(fi, &body, inner, seen, out);
            }
        }
    }
}
