//! Exim 4 as Debian configures it.
//!
//! - [`list`]: Exim's lists (`a : b`, `<; a ; b`), the one place where IPv6 goes wrong:
//!   a `:`-separated list reads every single colon of an IPv6 address as a separator, so
//!   an address there must have its colons doubled (`2001::::db8::::1`) or the list must
//!   change its separator.
//! - [`debconf`]: `/etc/exim4/update-exim4.conf.conf`, the shell variables
//!   (`dc_relay_nets='…'`) Debian's `update-exim4.conf` turns into Exim macros.

pub mod conf;
pub mod debconf;
pub mod list;
