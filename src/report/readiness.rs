//! The words every report uses for what a verification says beyond
//! verdicts: the answers tied to no run, what the product did about each
//! chain (containment), and what each backend's data can answer
//! (visibility, blind rules). Plain text, unescaped: each format escapes it
//! where it lands (`markdown::readiness`, `html::readiness`, the terminal).

use crate::record::{
    Containment, ContainmentState, HopVisibility, RunRecord, ScenarioRun, UntiedAnswers,
};
use crate::verify::visibility;

/// The rows the record's verifications could tie to no run: the largest
/// count one round held (every run of a round carries the same rows, so
/// counts are never added up) and the distinct sampled rows.
pub fn untied(record: &RunRecord) -> UntiedAnswers {
    let mut out = UntiedAnswers::default();
    for v in record
        .scenarios
        .iter()
        .filter_map(|s| s.verification.as_ref())
    {
        out.count = out.count.max(v.untied.count);
        for s in &v.untied.sample {
            if !out.sample.contains(s) {
                out.sample.push(s.clone());
            }
        }
    }
    out
}

/// `12 answers matched the search but named no run (the most in one
/// round); sample in run.json`, or nothing when every answer was tied.
pub fn untied_line(record: &RunRecord) -> Option<String> {
    let u = untied(record);
    (u.count > 0).then(|| {
        let n = match u.count {
            1 => "1 answer".to_string(),
            n => format!("{n} answers"),
        };
        format!(
            "{n} matched the search but named no run (the most in one round); sample in run.json"
        )
    })
}

/// What the product did about `run`'s chain, in words, e.g. `blocked at
/// hop 2 (spawn dash) by the product: Prevented; confirmed by the harness
/// (the hop never ran); time to containment unknown`.
pub fn containment_text(c: &Containment, run: &ScenarioRun) -> String {
    let hop = c.hop.map_or(String::new(), |i| {
        let label = run
            .hops
            .iter()
            .find(|h| h.index == i)
            .map_or(String::new(), |h| format!(" ({})", h.label));
        format!(" at hop {i}{label}")
    });
    let by = c.by.as_deref().unwrap_or_default();
    let time = match c.time_to_containment_ms {
        Some(ms) => format!("time to containment {ms} ms (from the product's own time)"),
        None => "time to containment unknown (the product gives no time for it, or the hop \
                 has none)"
            .to_string(),
    };
    match c.state {
        ContainmentState::AlertedOnly => {
            "alerted only: the product reports no action on the chain".to_string()
        }
        ContainmentState::Contained => format!("contained{hop} by the product: {by}; {time}"),
        ContainmentState::Blocked => {
            let confirmed = match c.confirmed_by_harness {
                Some(true) => "; confirmed by the harness (the hop never ran)",
                Some(false) => "; NOT confirmed: the harness saw the hop run",
                None => "",
            };
            format!("blocked{hop} by the product: {by}{confirmed}; {time}")
        }
    }
}

/// Chains by containment state, over verified chains with an alert:
/// `1 blocked, 2 contained, 3 alerted only`; nothing when no chain alerted.
pub fn containment_line(record: &RunRecord) -> Option<String> {
    let states: Vec<ContainmentState> = record
        .scenarios
        .iter()
        .filter_map(|s| s.verification.as_ref()?.containment.as_ref())
        .map(|c| c.state)
        .collect();
    if states.is_empty() {
        return None;
    }
    let count = |want| states.iter().filter(|s| **s == want).count();
    Some(format!(
        "containment of alerted chains: {} blocked, {} contained, {} alerted only",
        count(ContainmentState::Blocked),
        count(ContainmentState::Contained),
        count(ContainmentState::AlertedOnly)
    ))
}

/// Whether origin marks survived the hand-offs of the record's chains (an
/// archive tool extracting, a mail client saving): `origin marks after a
/// hand-off: 3 of 4 files the user opened carry none (zip-shortcut,
/// mail-macro-doc, …): a finding for the host`, or nothing when no chain
/// handed a file on.
pub fn marks_line(record: &RunRecord) -> Option<String> {
    let all: Vec<(&str, &crate::record::Handoff)> = record
        .scenarios
        .iter()
        .flat_map(|s| s.truth.handoffs.iter().map(move |h| (s.id.as_str(), h)))
        .collect();
    if all.is_empty() {
        return None;
    }
    let mut lost: Vec<&str> = all
        .iter()
        .filter(|(_, h)| !h.marked())
        .map(|(id, _)| *id)
        .collect();
    lost.dedup();
    Some(if lost.is_empty() {
        format!(
            "origin marks after a hand-off: all {} files written from the delivered one carry a mark",
            all.len()
        )
    } else {
        format!(
            "origin marks after a hand-off: {} of {} files written from the delivered one (extracted, saved from a message) carry none ({}): a finding for the host, see each chain",
            all.iter().filter(|(_, h)| !h.marked()).count(),
            all.len(),
            lost.join(", ")
        )
    })
}

/// Per backend (in the record's order), one sentence on the IR questions
/// its data answered over every hop it was asked about.
pub fn visibility_by_backend(record: &RunRecord) -> Vec<(String, String)> {
    let mut backends: Vec<(String, Vec<&HopVisibility>)> = Vec::new();
    for v in record
        .scenarios
        .iter()
        .filter_map(|s| s.verification.as_ref())
    {
        if v.visibility.is_empty() {
            continue;
        }
        let at = match backends.iter().position(|(b, _)| *b == v.backend) {
            Some(i) => i,
            None => {
                backends.push((v.backend.clone(), Vec::new()));
                backends.len() - 1
            }
        };
        backends[at].1.extend(&v.visibility);
    }
    backends
        .into_iter()
        .map(|(b, rows)| {
            let sentence = visibility::sentence(&visibility::tally(rows));
            (b, sentence)
        })
        .collect()
}

/// `2 rules loaded by chainproof can never fire on the backend's events
/// (a field each tests is in none of them)`, or nothing.
pub fn blind_line(record: &RunRecord) -> Option<String> {
    let n = record.rules.blind.len();
    (n > 0).then(|| {
        let rules = if n == 1 { "rule" } else { "rules" };
        format!(
            "{n} Sigma {rules} loaded by chainproof (shipped or --rules) can never fire on the \
             events the backend returned: a field each tests is in none of them"
        )
    })
}

/// One blind rule in words: `Title (id): no event has ParentImage`.
pub fn blind_text(b: &crate::record::BlindRule) -> String {
    format!(
        "{} ({}): no event has {}",
        b.title,
        b.rule,
        b.missing.join(", ")
    )
}

/// What an emulated host's run proves: `environment: wine — …`, or nothing
/// on a real host. Under Wine the Windows build's chains run Wine's own
/// cmd.exe, regedit.exe and wscript.exe: they test chainproof's Windows
/// code, and no Windows sensor saw them.
pub fn environment_line(record: &RunRecord) -> Option<String> {
    let platform = match record.host.platform {
        crate::vocab::Platform::Windows => "Windows",
        crate::vocab::Platform::Macos => "macOS",
        crate::vocab::Platform::Linux => "Linux",
    };
    record.host.environment.as_ref().map(|env| {
        format!(
            "environment: {env} — chainproof's {platform} build ran its chains under {env}: \
             this tests the harness's {platform} code, it does not validate a {platform} sensor"
        )
    })
}

/// The lines the terminal summary adds under the matrix (raw text; the
/// caller makes it safe for a terminal).
pub fn terminal(record: &RunRecord) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(environment_line(record));
    out.extend(untied_line(record));
    out.extend(containment_line(record));
    out.extend(marks_line(record));
    out.extend(blind_line(record));
    for (backend, sentence) in visibility_by_backend(record) {
        out.push(format!(
            "visibility, backend {backend}: its data {sentence}"
        ));
    }
    out
}

#[cfg(test)]
mod tests;
