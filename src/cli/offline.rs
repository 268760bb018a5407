//! `replay`, `audit-rules` and `gate`: commands that work without running
//! a scenario.

use std::path::PathBuf;

use super::fail;
use crate::exit;
use crate::report;

pub fn replay(telemetry: &[PathBuf], rules: &[PathBuf], strict: bool) -> u8 {
    let rules = match super::rules::load(rules, strict, super::rules::Say::Always) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut collected = crate::replay::Collect::default();
    let options = crate::replay::Options::default();
    match crate::replay::run(telemetry, &rules, options, &mut collected) {
        Ok(summary) => {
            let result = crate::replay::Replay::new(collected, summary);
            crate::term::out(&crate::replay::render_text(&result));
            exit::OK
        }
        Err(e) => fail(&e, exit::INVALID),
    }
}

pub fn audit_rules(install: bool, remove: bool) -> u8 {
    use crate::backend::auditd::rules;
    let result = match (install, remove) {
        (true, _) => rules::install().map(|added| {
            for r in &added {
                outln!("auditctl {r}");
            }
            outln!(
                "installed {} rule(s), backlog {}",
                added.len(),
                rules::BACKLOG
            );
        }),
        (_, true) => rules::remove().map(|n| outln!("removed {n} chainproof rule(s)")),
        _ => {
            for r in rules::rules() {
                outln!("{r}");
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            errln!("error: failed to {e}");
            exit::RUNTIME
        }
    }
}

pub fn gate(
    baseline: &std::path::Path,
    current: &std::path::Path,
    policy: Option<&std::path::Path>,
) -> u8 {
    let policy = match policy.map(crate::gate::load_policy).transpose() {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => return fail(&e, exit::INVALID),
    };
    let (before, after) = match (report::read_record(baseline), report::read_record(current)) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => return fail(&e, exit::INVALID),
    };
    let outcome = crate::gate::compare(&before, &after, &policy);
    crate::term::out(&crate::gate::render(&outcome));
    if outcome.passed() {
        exit::OK
    } else {
        exit::POLICY
    }
}
