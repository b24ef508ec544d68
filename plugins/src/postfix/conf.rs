//! Reading: main.cf, its parameter values, and the network lists and tables it names.

use super::elem::{classify, whole_ref, Elem};
use super::MAIN_CF;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use v6fix_core::addr::parse_ip;
use v6fix_core::dialect::postfix::{self as pf, CidrDoc, Doc, ListDoc, Param};
use v6fix_core::text::{Span, Text};
use v6fix_core::{File, Host, Result};

pub(super) struct Conf<'h> {
    pub(super) host: &'h Host,
    pub(super) main: File,
    pub(super) doc: Doc,
}

/// One element with where its literal text lives.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) elem: Elem,
    /// The text holding the element's own text at `at`: its file's text for a literal,
    /// a text of its own for one built by expanding `$name` or joining a `{…}` group.
    src: Text,
    at: Span,
    /// The machine path of the file holding the literal, shared by its entries.
    pub(super) path: Rc<Path>,
    pub(super) span: Span,
    /// The main.cf parameter holding it (None inside a list file or cidr table).
    pub(super) param: Option<Rc<str>>,
    /// False when the text came from expanding `$name` (the literal is elsewhere).
    pub(super) editable: bool,
}

impl Entry {
    /// The element as Postfix reads it.
    pub(super) fn text(&self) -> &str {
        &self.src[self.at.clone()]
    }
}

#[derive(Default)]
pub(super) struct Tables {
    pub(super) lists: BTreeMap<PathBuf, Option<(File, ListDoc)>>,
    pub(super) cidrs: BTreeMap<PathBuf, Option<(File, CidrDoc)>>,
    /// Each list parameter's elements once walked: the files behind them do not change
    /// during a run, so the audit and every step of the plan share one walk.
    walks: HashMap<String, Rc<Vec<Entry>>>,
    /// main.cf's path, shared by the entries it holds.
    main: Option<Rc<Path>>,
    /// Each list file's path, shared by its entries (so one file is one address).
    paths: HashMap<PathBuf, Rc<Path>>,
}

impl Tables {
    pub(super) fn main_path(&mut self) -> Rc<Path> {
        self.main
            .get_or_insert_with(|| Rc::from(Path::new(MAIN_CF)))
            .clone()
    }

    fn shared_path(&mut self, path: &Path) -> Rc<Path> {
        self.paths
            .entry(path.to_path_buf())
            .or_insert_with(|| Rc::from(path))
            .clone()
    }
}

impl<'h> Conf<'h> {
    pub(super) fn load(host: &'h Host) -> Result<Option<Conf<'h>>> {
        let Some(main) = host.read(Path::new(MAIN_CF))? else {
            return Ok(None);
        };
        let doc = pf::parse(&main.text).map_err(|e| host.parse_error(&main, e))?;
        Ok(Some(Conf { host, main, doc }))
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.doc.get(name) {
            return Some(v);
        }
        let default = match name {
            "config_directory" => "/etc/postfix",
            "queue_directory" => "/var/spool/postfix",
            "data_directory" => "/var/lib/postfix",
            "meta_directory" => "/etc/postfix",
            _ => return None,
        };
        Some(default.to_string())
    }

    pub(super) fn locate(&self, file: &File, offset: usize) -> String {
        self.host.locate(file, offset)
    }

    /// The elements of list parameter `name` (last definition), following `$name`
    /// references to other parameters, `/file/name` lists and `cidr:` tables.
    pub(super) fn walk(&self, name: &str, tables: &mut Tables) -> Result<Rc<Vec<Entry>>> {
        if let Some(w) = tables.walks.get(name) {
            return Ok(w.clone());
        }
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        self.walk_param(name, tables, &mut out, &mut seen)?;
        let w = Rc::new(out);
        tables.walks.insert(name.to_string(), w.clone());
        Ok(w)
    }

    fn walk_param(
        &self,
        name: &str,
        tables: &mut Tables,
        out: &mut Vec<Entry>,
        seen: &mut BTreeSet<String>,
    ) -> Result<()> {
        if !seen.insert(name.to_string()) {
            return Ok(());
        }
        let Some(p) = self.doc.param(name) else {
            return Ok(());
        };
        let param: Rc<str> = Rc::from(name);
        for tok in self.doc.tokens(p) {
            if tok.is_comment() {
                break;
            }
            if let Some(r) = whole_ref(&tok.text) {
                if self.doc.param(r).is_some() {
                    self.walk_param(r, tables, out, seen)?;
                    continue;
                }
            }
            let editable = !tok.text.contains('$');
            let pieces: Vec<String> = if editable {
                vec![tok.text.to_string()]
            } else {
                match pf::expand(&tok.text, &|n| self.lookup(n)) {
                    Some(x) => x
                        .split([' ', '\t', ','])
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    None => {
                        let (src, at) = element_text(&self.doc.src, &tok);
                        out.push(Entry {
                            elem: Elem::Unexpanded,
                            src,
                            at,
                            path: tables.main_path(),
                            span: tok.span.clone(),
                            param: Some(param.clone()),
                            editable: false,
                        });
                        continue;
                    }
                }
            };
            for piece in pieces {
                let elem = classify(&piece, false);
                let at = 0..piece.len();
                let here = Entry {
                    elem: elem.clone(),
                    src: Text::from(piece),
                    at,
                    path: tables.main_path(),
                    span: tok.span.clone(),
                    param: Some(param.clone()),
                    editable,
                };
                out.push(here);
                match elem {
                    Elem::File(path) => self.walk_list(&path, tables, out)?,
                    Elem::Cidr(path) => self.walk_cidr(&path, tables, out)?,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn walk_list(&self, path: &Path, tables: &mut Tables, out: &mut Vec<Entry>) -> Result<()> {
        if !tables.lists.contains_key(path) {
            let loaded = match self.host.read(path)? {
                Some(f) => {
                    let d = pf::parse_list(&f.text).map_err(|e| self.host.parse_error(&f, e))?;
                    Some((f, d))
                }
                None => None,
            };
            tables.lists.insert(path.to_path_buf(), loaded);
        }
        let shared = tables.shared_path(path);
        let Some(Some((_, doc))) = tables.lists.get(path) else {
            return Ok(());
        };
        let entries = doc.entries();
        out.reserve(entries.len());
        for tok in entries {
            let (src, at) = element_text(&doc.src, &tok);
            out.push(Entry {
                elem: classify(&tok.text, false),
                src,
                at,
                path: shared.clone(),
                span: tok.span.clone(),
                param: None,
                editable: true,
            });
        }
        Ok(())
    }

    fn walk_cidr(&self, path: &Path, tables: &mut Tables, out: &mut Vec<Entry>) -> Result<()> {
        if !tables.cidrs.contains_key(path) {
            let loaded = match self.host.read(path)? {
                Some(f) => {
                    let d = pf::parse_cidr(&f.text).map_err(|e| self.host.parse_error(&f, e))?;
                    Some((f, d))
                }
                None => None,
            };
            tables.cidrs.insert(path.to_path_buf(), loaded);
        }
        let shared = tables.shared_path(path);
        let Some(Some((_, doc))) = tables.cidrs.get(path) else {
            return Ok(());
        };
        for r in doc.rules() {
            out.push(Entry {
                elem: classify(doc.pattern(r), true),
                src: doc.src.clone(),
                at: r.pattern.clone(),
                path: shared.clone(),
                span: r.pattern.clone(),
                param: None,
                editable: true,
            });
        }
        Ok(())
    }

    /// The file holding an entry, for positions in messages.
    pub(super) fn file_of<'a>(&'a self, tables: &'a Tables, path: &Path) -> Option<&'a File> {
        if path == Path::new(MAIN_CF) {
            return Some(&self.main);
        }
        if let Some(Some((f, _))) = tables.lists.get(path) {
            return Some(f);
        }
        if let Some(Some((f, _))) = tables.cidrs.get(path) {
            return Some(f);
        }
        None
    }

    pub(super) fn where_is(&self, tables: &Tables, e: &Entry) -> String {
        match self.file_of(tables, &e.path) {
            Some(f) => self.locate(f, e.span.start),
            None => self.host.display(&e.path),
        }
    }
}

/// Where an element's text is: in the file's text, or (a `{…}` group joined from several
/// lines) in a text of its own.
fn element_text(src: &Text, tok: &pf::Element) -> (Text, Span) {
    match &tok.text {
        std::borrow::Cow::Borrowed(_) => (src.clone(), tok.span.clone()),
        std::borrow::Cow::Owned(t) => (Text::from(t.as_str()), 0..t.len()),
    }
}

pub(super) fn live_tokens<'d>(doc: &'d Doc, p: &Param) -> Vec<pf::Element<'d>> {
    doc.tokens(p)
        .into_iter()
        .take_while(|t| !t.is_comment())
        .collect()
}

pub(super) fn token_ip(t: &str) -> Option<IpAddr> {
    parse_ip(
        t.strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(t),
    )
}
