//! v6fix: converts Debian servers to dual-stack IPv4/IPv6 by rewriting their service
//! configs in place, losslessly, and the same way every time.
//!
//! This crate holds the service plugins (one module each, registered with `inventory`),
//! the commands that span them (`all`, `audit`, `plan`, `list`) and the command line.
//! [`run`] is the whole program; `main` only turns its result into an exit code.
//!
//! Exit codes: 0 ok (with `--check`: nothing to change) · 1 `--check` with changes
//! pending, or `audit` with findings · 2 any error, and then nothing was written.

mod cli;
mod codescan;
mod options;
mod report;
mod schema;
mod undo;
mod validate;
mod verify;

// Commands that span plugins.
mod address_plan;
mod all;
mod audit;
mod list;
mod preflight;

// Service plugins, one per daemon.
mod apache;
mod bind9;
mod dovecot;
mod exim4;
pub(crate) mod firewall;
mod haproxy;
mod interfaces;
mod mariadb;
mod nginx;
mod postfix;
mod postgresql;
mod proftpd;
mod pureftpd;
mod resolv;
mod sshd;
mod varnish;
mod vsftpd;

pub mod manual;

pub use cli::{command, run};
