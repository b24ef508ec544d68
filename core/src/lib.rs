//! The core of v6fix: lossless config dialects, addresses, the host view, plans, and the
//! transactional apply engine. No command-line parsing and no printing happen here.
//!
//! The flow is one-way: a plugin reads files through a [`Host`], parses them with a
//! dialect from [`dialect`], edits the text with minimal [`Edits`], and returns a [`Plan`];
//! the CLI shows the plan as a diff and [`apply`] writes it, all files or none.
//!
//! # Guarantees
//! - Printing a parsed document gives back its input byte for byte (LF or CRLF, tabs,
//!   trailing blanks, a missing final newline). Every dialect has a test for it over the
//!   fixtures in `testdata/`.
//! - Edits replace only the bytes they must; new lines copy the file's newline style.
//!
//! # Limitations
//! - Files must be UTF-8; anything else is an error, never a guess.
//! - ACLs, extended attributes and SELinux labels of a replaced file are not carried over
//!   to its new inode (owner, group and mode are).

pub mod addr;
pub mod apply;
pub mod audit;
pub mod change;
pub mod dialect;
pub mod diff;
pub mod doc;
pub mod edit;
pub mod endpoint;
pub mod error;
pub mod host;
pub mod lex;
pub mod plugin;
pub mod policy;
pub mod site;
pub mod target;
pub mod text;

pub use addr::{Prefix, Style};
pub use audit::{Finding, Severity};
pub use change::{FileChange, Plan, Restart};
pub use edit::Edits;
pub use endpoint::{Bind, Endpoint, Spelling, Twin};
pub use error::{Error, ParseError, Result};
pub use host::{File, Host};
pub use plugin::{registry, ArgSpec, Args, Plugin, Registration};
pub use target::{Fact, HostAddr, Need, Target};

// Plugins register with `inventory::submit!`; re-exported so they use the same version.
pub use inventory;
