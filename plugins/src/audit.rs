//! `v6fix audit` (placeholder until it is written).

use crate::cli::Global;
use clap::{ArgMatches, Command};
use v6fix_core::{Error, Result};

pub(crate) fn command() -> Command {
    Command::new("audit").about("(not available yet)")
}

pub(crate) fn run(_global: &Global, _m: &ArgMatches) -> Result<u8> {
    Err(Error::usage("`audit` is not available yet"))
}
