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
//! - Bytes that are not UTF-8 (a Latin-1 comment, say) are read as the reserved code points
//!   U+10FF80 to U+10FFFF (`U+10FF00 + byte`, see [`text::decode`]) and written back as the
//!   same bytes; diffs show them as `\xNN`. A leading UTF-8 byte order mark is set apart
//!   from the text the dialects parse ([`host::File::bom`]) and written back, with a
//!   warning when the file changes: the daemons themselves read the mark as part of the
//!   first line (Postfix ignores that parameter; sshd rejects the file, so the sshd plugin
//!   refuses it).
//! - Only regular files are read or written: a directory, FIFO, socket or device where a
//!   config is expected is an error before it is opened for reading; a config that is a
//!   symlink resolving to `/dev/null` (in any spelling, through any chain of links) is
//!   read as empty and never written.
//!
//! # Limitations
//! - An edit that would replace or copy a byte that is not UTF-8 is refused with its line,
//!   column and value: v6fix edits only UTF-8 text. A file that already holds one of the
//!   reserved code points U+10FF80 to U+10FFFF is refused.
//! - A config file is read whole, and one larger than [`fsroot::MAX_FILE_SIZE`] (256 MiB)
//!   is refused.
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
pub mod logical;
pub mod plugin;
pub mod policy;
pub mod site;
pub mod target;
pub mod text;

pub use addr::{Prefix, Style};
pub use analysis::{Analysis, Diagnostic, Reach};
pub use audit::{Finding, Severity};
pub use change::{FileChange, Plan, Restart};
pub use config_set::ConfigSet;
pub use edit::{Edits, Region};
pub use endpoint::{Bind, Endpoint, Spelling, Twin};
pub use error::{Error, ParseError, Result};
pub use host::{File, Host};
pub use plugin::{registry, ArgSpec, Args, MainFile, Plugin, Registration};
pub use target::{Fact, Need, OwnAddress, Target};

// Plugins register with `inventory::submit!`; re-exported so they use the same version.
pub use inventory;
