//! The core of v6fix: lossless config dialects, addresses, the host view, plans, and the
//! transactional apply engine. No command-line parsing and no printing happen here.
//!
//! The flow is one-way: a plugin reads files through a [`Host`], parses them with a
//! dialect from [`dialect`] (a service's main file and its includes as one [`ConfigSet`]),
//! edits the text with minimal [`Edits`], and returns a [`Plan`]; the CLI shows the plan as
//! a diff and [`apply`] writes it, all files or none.
//!
//! # Guarantees
//! - Printing a parsed document gives back its input byte for byte (LF or CRLF, tabs,
//!   trailing blanks, a missing final newline). Every dialect has a test for it over the
//!   fixtures in `testdata/`.
//! - Edits replace only the bytes they must; new lines copy the file's newline style.
//!
//! # Limitations
//! - Files must be UTF-8; anything else is an error, never a guess.
//! - A replaced file is a new inode: owner, group, mode and extended attributes (ACLs,
//!   SELinux labels, capabilities) are carried over, timestamps and inode flags
//!   (immutable, append-only) are not, and other hard links of it (refused unless allowed)
//!   keep the old text.
//! - Recovery needs the run's record under `<root>/var/lib/v6fix/runs/`; a journal whose
//!   record was removed by hand can only be undone if it was still preparing.
//! - Reads during planning resolve symlinks by path (the way the daemons do) and then open
//!   the result without following any link; a directory swapped for a link mid-run makes
//!   the run fail, never read or write outside the root. Include globs are expanded by
//!   path (a swapped link can at most make them list names outside; nothing is read there).
//! - Only the last [`apply::RETENTION`] runs (and those made with `--backup`) can be
//!   restored.

pub mod addr;
pub mod analysis;
pub mod apply;
pub mod audit;
pub mod change;
pub mod config_set;
pub mod dialect;
pub mod diff;
pub mod doc;
pub mod edit;
pub mod endpoint;
pub mod error;
pub mod fsroot;
pub mod host;
pub mod journal;
pub mod lex;
pub mod plugin;
pub mod policy;
pub mod site;
pub mod target;
pub mod text;

pub use addr::{Prefix, Style};
pub use analysis::Analysis;
pub use audit::{Finding, Severity};
pub use change::{FileChange, Plan, Restart};
pub use config_set::ConfigSet;
pub use edit::Edits;
pub use endpoint::{Bind, Endpoint, Spelling, Twin};
pub use error::{Error, ParseError, Result};
pub use host::{File, Host};
pub use plugin::{registry, ArgSpec, Args, Plugin, Registration};
pub use target::{Fact, Need, OwnAddress, Target};

// Plugins register with `inventory::submit!`; re-exported so they use the same version.
pub use inventory;
