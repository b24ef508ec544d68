//! The integration tests of v6fix, in one binary run by libtest-mimic:
//! `cargo test -p v6fix --test it [-- FILTER]`.
//!
//! - [`cli`], [`all`]: the command line and `all`/`audit` end to end through the binary;
//! - [`filetypes`]: only regular files are read; a FIFO never hangs a run;
//! - [`includes`]: include sets end to end (no cap on files, loops refused);
//! - [`cases`]: one test per golden case, `cases::<group>::<case>`;
//! - [`fuzz`]: one test per saved fuzz finding, `fuzz::<dialect>::<hash>`;
//! - `*_daemon`: the real daemons check what v6fix writes (`cargo xtask validate` runs these:
//!   `-- _daemon::`);
//! - [`tidy`]: rules about the source tree itself.
//!
//! The standard filter, `--exact`, `--skip`, `--list` and `--test-threads` work as with the
//! built-in harness (there is no output capture: what a test prints shows at once). A test
//! whose daemon is missing on this machine shows as `ignored (nginx not installed; …)` and is
//! counted in the summary; on CI (`CI=true`) it fails instead. The test functions carry no
//! `#[test]` attribute, which this harness would never run: each module lists its tests in its
//! `trials()` with [`trials!`], and a test left out of the list is dead code, which the lints
//! deny.

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::process::ExitCode;

/// The listed test functions of the calling module as trials named `<module>::<function>`,
/// as the built-in harness names them. A test function is `fn()` or
/// `fn() -> support::Skippable`.
macro_rules! trials {
    ($($test:ident),+ $(,)?) => {
        vec![$($crate::trial(concat!(module_path!(), "::", stringify!($test)), $test)),+]
    };
}
pub(crate) use trials;

mod support;

mod all;
mod ansible;
mod audits;
mod cases;
mod cli;
mod filetypes;
mod firewall;
mod fuzz;
mod includes;
mod manual;
mod negative;
mod package;
mod tidy;
mod truncated;
mod txn;

mod apache_daemon;
mod bind9_daemon;
mod dovecot_daemon;
mod exim4_daemon;
mod firewall_daemon;
mod haproxy_daemon;
mod interfaces_daemon;
mod mariadb_daemon;
mod nginx_daemon;
mod postfix_daemon;
mod postgresql_daemon;
mod proftpd_daemon;
mod pureftpd_daemon;
mod sshd_daemon;
mod validation_daemon;
mod varnish_daemon;
mod vsftpd_daemon;

/// What a test function returns: nothing, or whether it could run here.
pub(crate) trait Outcome {
    fn completion(self) -> Result<Completion, Failed>;
}

impl Outcome for () {
    fn completion(self) -> Result<Completion, Failed> {
        Ok(Completion::Completed)
    }
}

impl Outcome for support::Skippable {
    /// A [`support::Skip`] is an ignored test with its reason, except on CI, where it fails.
    fn completion(self) -> Result<Completion, Failed> {
        match self {
            Ok(()) => Ok(Completion::Completed),
            Err(support::Skip(why)) if support::on_ci() => {
                Err(format!("{why}; on CI (CI=true) nothing is skipped").into())
            }
            Err(support::Skip(why)) => Ok(Completion::ignored_with(why)),
        }
    }
}

/// A trial for a test function; `path` is its `module_path!()` and name.
pub(crate) fn trial<O: Outcome + 'static>(path: &str, test: fn() -> O) -> Trial {
    let name = path.split_once("::").map_or(path, |(_krate, rest)| rest);
    Trial::ignorable_test(name, move || test().completion())
}

/// Every test of the binary, sorted by name as the built-in harness sorts them.
fn all_trials() -> Vec<Trial> {
    let mut trials: Vec<Trial> = [
        all::trials(),
        ansible::trials(),
        audits::trials(),
        cases::trials(),
        cli::trials(),
        filetypes::trials(),
        firewall::trials(),
        fuzz::trials(),
        includes::trials(),
        manual::trials(),
        negative::trials(),
        package::trials(),
        tidy::trials(),
        txn::trials(),
        truncated::trials(),
        apache_daemon::trials(),
        dovecot_daemon::trials(),
        exim4_daemon::trials(),
        haproxy_daemon::trials(),
        firewall_daemon::trials(),
        interfaces_daemon::trials(),
        nginx_daemon::trials(),
        postfix_daemon::trials(),
        postgresql_daemon::trials(),
        mariadb_daemon::trials(),
        proftpd_daemon::trials(),
        pureftpd_daemon::trials(),
        sshd_daemon::trials(),
        validation_daemon::trials(),
        varnish_daemon::trials(),
        vsftpd_daemon::trials(),
        bind9_daemon::trials(),
    ]
    .into_iter()
    .flatten()
    .collect();
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    if let Some(w) = trials.windows(2).find(|w| w[0].name() == w[1].name()) {
        panic!("two tests are named {}", w[0].name());
    }
    trials
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, all_trials()).exit_code()
}
