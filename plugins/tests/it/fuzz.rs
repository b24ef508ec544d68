//! The fuzzer's findings, replayed: every input saved under `testdata/fuzz/<dialect>/` runs
//! through the same checks the fuzzer runs (`fuzz/src/check.rs`, included here by path) and
//! must end as its sidecar expects (`planned`, `refused`, or `holds`: either, with every
//! property kept). Each finding is one test, `fuzz::<dialect>::<hash>`.
//!
//! The fuzzer itself runs with `cargo xtask fuzz`; `--save` adds what it finds here.

// The fuzzer's own modules; what only the fuzzer uses goes unused here.
#[allow(dead_code)]
#[path = "../../../fuzz/src/check.rs"]
mod check;
#[allow(dead_code)]
#[path = "../../../fuzz/src/saved.rs"]
mod saved;

use libtest_mimic::{Failed, Trial};
use saved::Saved;

/// The plugin named `name`, from the registry the `v6fix` crate fills.
fn plugin(name: &str) -> Option<&'static dyn v6fix_core::Plugin> {
    // The plugins join the registry only when their crate is linked: name it.
    std::hint::black_box(v6fix::run::<Vec<String>, String> as fn(Vec<String>) -> u8);
    v6fix_core::plugin::find(name).or((name == "hosts").then_some(&check::HOSTS as _))
}

/// Replays one saved finding.
fn replay(s: &Saved) -> Result<(), String> {
    let p = plugin(&s.plugin).ok_or_else(|| format!("{}: no plugin `{}`", s.name, s.plugin))?;
    let mut args = v6fix_core::Args::new();
    for a in &s.args {
        args.push(a, "true");
    }
    let v = check::check(p, &args, &s.tree);
    s.meets(&v)
}

/// A finding's check fails when its verdict is not the one expected.
fn a_property_failure_is_not_what_a_sidecar_expects() {
    let s = Saved {
        name: "self-test".into(),
        plugin: "postfix".into(),
        args: Vec::new(),
        expect: "holds".into(),
        found: String::new(),
        tree: Vec::new(),
    };
    let broken = check::Verdict::Failed(check::Property::NotIdempotent, "x".into());
    assert!(s.meets(&broken).is_err());
    assert!(s.meets(&check::Verdict::Refused("x".into())).is_ok());
    let planned = Saved {
        expect: "planned".into(),
        ..s
    };
    assert!(planned.meets(&check::Verdict::Refused("x".into())).is_err());
    // An empty tree: postfix finds no main.cf and refuses, panicking nowhere.
    assert!(replay(&planned).is_err());
    let refused = Saved {
        expect: "refused".into(),
        ..planned
    };
    assert_eq!(replay(&refused), Ok(()));
}

/// This module's tests, for the harness in `main.rs`: one per saved finding.
pub(crate) fn trials() -> Vec<Trial> {
    let mut out = crate::trials![a_property_failure_is_not_what_a_sidecar_expects];
    let dir = crate::support::testdata().join("fuzz");
    match saved::load_all(&dir) {
        Ok(all) => {
            for s in all {
                out.push(Trial::test(
                    format!("fuzz::{}", s.name.replace('/', "::")),
                    move || replay(&s).map_err(Failed::from),
                ));
            }
        }
        Err(e) => out.push(Trial::test("fuzz::saved_findings_load", move || {
            Err(Failed::from(e.clone()))
        })),
    }
    out
}
