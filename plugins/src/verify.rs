//! The check v6fix makes of its own work before anything is written: the planned texts are
//! read back through the same plugins, on the host as it would be after the run, with the
//! same target. They must parse, and a second reading must want no further change: a plan
//! that left its job half done (a network that did not land in the list the daemon reads,
//! a parameter that no longer parses) fails here, as a bug of v6fix, with nothing written.
//! The daemons' own checkers then look at the staged result (`validate`).

use v6fix_core::{Args, Error, Host, Plan, Plugin, Result, Target};

/// Reads `plan`'s result back through each of `plugins` with `target` and `args`.
pub(crate) fn own_work(
    host: &Host,
    plugins: &[&dyn Plugin],
    target: &Target,
    args: &Args,
    plan: &Plan,
) -> Result<()> {
    if !plan.changed() {
        return Ok(());
    }
    let after = host.with_overlay(plan.overlay());
    for p in plugins {
        let again = p
            .analyze(&after, target, args)
            .and_then(|a| a.into_plan())
            .map_err(|e| {
                Error::SelfCheck(format!(
                    "{}: the planned files do not read back: {e}",
                    p.name()
                ))
            })?;
        if again.changed() {
            let files: Vec<String> = again
                .files
                .iter()
                .map(|f| host.relative(&f.target))
                .collect();
            return Err(Error::SelfCheck(format!(
                "{}: read back, the planned files would still change ({}): the plan did not reach what it meant to",
                p.name(),
                files.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use v6fix_core::Analysis;

    /// Appends `x` to /etc/t.conf; refuses a file holding `broken`. With `once`, it stops
    /// once the line is there (a plugin that reaches its goal); without, it appends forever.
    struct Appender {
        once: bool,
    }

    impl Plugin for Appender {
        fn name(&self) -> &'static str {
            "appender"
        }
        fn about(&self) -> &'static str {
            "test"
        }
        fn files(&self, _: &Host) -> Result<Vec<PathBuf>> {
            Ok(vec![PathBuf::from("/etc/t.conf")])
        }
        fn analyze(&self, host: &Host, _: &Target, _: &Args) -> Result<Analysis> {
            let f = host.read(Path::new("/etc/t.conf"))?.expect("the test file");
            let mut a = Analysis::new();
            if f.text.contains("broken") {
                a.refuse(&f, 0, "found `broken`");
            }
            if !(self.once && f.text.contains("x\n")) {
                let text = f.text.clone();
                a.edits(&f).append_line(&text, "x");
            }
            Ok(a)
        }
    }

    /// Writes `broken` into the file: its own output does not read back.
    struct Breaker;

    impl Plugin for Breaker {
        fn name(&self) -> &'static str {
            "breaker"
        }
        fn about(&self) -> &'static str {
            "test"
        }
        fn files(&self, _: &Host) -> Result<Vec<PathBuf>> {
            Ok(vec![PathBuf::from("/etc/t.conf")])
        }
        fn analyze(&self, host: &Host, t: &Target, a: &Args) -> Result<Analysis> {
            let f = host.read(Path::new("/etc/t.conf"))?.expect("the test file");
            if f.text.contains("broken") {
                return Appender { once: true }.analyze(host, t, a);
            }
            let mut an = Analysis::new();
            let text = f.text.clone();
            an.edits(&f).append_line(&text, "broken");
            Ok(an)
        }
    }

    fn check(p: &dyn Plugin) -> Result<()> {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(d.path().join("etc/t.conf"), "a\n").unwrap();
        let host = Host::new(d.path()).unwrap();
        let (t, args) = (Target::default(), Args::new());
        let plan = p.plan(&host, &t, &args)?;
        own_work(&host, &[p], &t, &args, &plan)
    }

    #[test]
    fn a_plan_that_reaches_its_goal_passes_and_one_that_does_not_is_a_bug() {
        assert_eq!(check(&Appender { once: true }), Ok(()));
        let e = check(&Appender { once: false }).unwrap_err();
        assert!(matches!(e, Error::SelfCheck(_)), "{e}");
        assert!(
            e.to_string().contains("would still change (etc/t.conf)"),
            "{e}"
        );
        assert!(e.to_string().contains("bug in v6fix"), "{e}");
        let e = check(&Breaker).unwrap_err();
        assert!(e.to_string().contains("do not read back"), "{e}");
        assert!(e.to_string().contains("found `broken`"), "{e}");
    }
}
