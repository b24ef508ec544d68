//! `v6fix all` (placeholder until it is written).

use crate::cli::Global;
use clap::{ArgMatches, Command};
use v6fix_core::{Error, Result};

pub(crate) fn command() -> Command {
    Command::new("all").about("(not available yet)")
}

pub(crate) fn run(_global: &Global, _m: &ArgMatches) -> Result<u8> {
    Err(Error::usage("`all` is not available yet"))
}
