//! Reading: main.cf, its parameter values, and the network lists and tables it names.

use super::elem::{classify, whole_ref, Elem};
use super::MAIN_CF;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use v6fix_core::addr::parse_ip;
use v6fix_core::dialect::postfix::{self as pf, CidrDoc, Doc, ListDoc, Param};
use v6fix_core::text::Span;
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
    pub(super) text: String,
    /// The machine path of the file holding the literal, shared by its entries.
    pub(super) path: Rc<Path>,
    pub(super) span: Span,
    /// The main.cf parameter holding it (None inside a list file or cidr table).
    pub(super) param: Option<String>,
    /// False when the text came from expanding `$name` (the literal is elsewhere).
    pub(super) editable: bool,
}

#[derive(Default)]
pub(super) struct Tables {
    pub(super) lists: BTreeMap<PathBuf, Option<(File, ListDoc)>>,
    pub(super) cidrs: BTreeMap<PathBuf, Option<(File, CidrDoc)>>,
    /// Each list parameter's elements once walked: the files behind them do not change
    /// during a run, so the audit and every step of the plan share one walk.
    walks: HashMap<String, Rc<[Entry]>>,
    /// main.cf's path, shared by the entries it holds.
    main: Option<Rc<Path>>,
}

impl Tables {
    fn main_path(&mut self) -> Rc<Path> {
        self.main
            .get_or_insert_with(|| Rc::from(Path::new(MAIN_CF)))
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
    pub(super) fn walk(&self, name: &str, tables: &mut Tables) -> Result<Rc<[Entry]>> {
        if let Some(w) = tables.walks.get(name) {
            return Ok(w.clone());
        }
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        self.walk_param(name, tables, &mut out, &mut seen)?;
        let w: Rc<[Entry]> = out.into();
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
                        out.push(Entry {
                            elem: Elem::Unexpanded,
                            text: tok.text.to_string(),
                            path: tables.main_path(),
                            span: tok.span.clone(),
                            param: Some(name.to_string()),
                            editable: false,
                        });
                        continue;
                    }
                }
            };
            for piece in pieces {
                let elem = classify(&piece, false);
                let here = Entry {
                    elem: elem.clone(),
                    text: piece,
                    path: tables.main_path(),
                    span: tok.span.clone(),
                    param: Some(name.to_string()),
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
        let Some(Some((_, doc))) = tables.lists.get(path) else {
            return Ok(());
        };
        let shared: Rc<Path> = Rc::from(path);
        for tok in doc.entries() {
            out.push(Entry {
                elem: classify(&tok.text, false),
                text: tok.text.into_owned(),
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
        let Some(Some((_, doc))) = tables.cidrs.get(path) else {
            return Ok(());
        };
        let shared: Rc<Path> = Rc::from(path);
        for r in doc.rules() {
            let text = doc.pattern(r);
            out.push(Entry {
                elem: classify(text, true),
                text: text.to_string(),
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

    pub(super) fn line_of(&self, tables: &Tables, path: &Path, offset: usize) -> Option<usize> {
        self.file_of(tables, path).map(|f| f.line(offset))
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
