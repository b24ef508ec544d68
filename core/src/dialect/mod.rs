//! One lossless parser per config dialect.
//!
//! Each dialect module offers `parse(&str) -> Result<Doc, ParseError>`; its `Doc` prints
//! back the exact input (`Display`), answers typed queries, and plans minimal edits as
//! [`crate::Edits`]. Dialects never touch the disk.

pub mod apache;
pub mod bind;
pub mod dovecot;
pub mod exim;
pub mod haproxy;
pub mod hostsfile;
pub mod interfaces;
pub mod iptables;
pub mod mycnf;
pub mod nftables;
pub mod nginx;
pub mod postfix;
pub mod postgresql;
pub mod proftpd;
pub mod pureftpd;
pub mod resolv;
pub mod shellvars;
pub mod sshd;
pub mod sysctl;
pub mod systemd;
pub mod varnish;
pub mod vsftpd;
