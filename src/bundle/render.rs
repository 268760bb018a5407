//! Human summary of a [`Verification`].

use std::fmt::Write as _;

use super::{SignatureState, Verification};

/// A plain-text summary: a verdict line, then each changed, missing and
/// extra file by name, then the signature state.
///
/// ```text
/// bundle TAMPERED: 3 ok, 1 changed, 0 missing, 1 extra
///   changed  report.json
///   extra    notes.txt
/// signature: none
/// ```
pub fn render(v: &Verification) -> String {
    let mut out = String::new();
    let verdict = if v.is_intact() { "intact" } else { "TAMPERED" };
    let _ = writeln!(
        out,
        "bundle {verdict}: {} ok, {} changed, {} missing, {} extra",
        v.ok.len(),
        v.changed.len(),
        v.missing.len(),
        v.extra.len()
    );
    for (label, files) in [
        ("changed", &v.changed),
        ("missing", &v.missing),
        ("extra", &v.extra),
    ] {
        for file in files {
            let _ = writeln!(out, "  {label:<8} {file}");
        }
    }
    let _ = match &v.signature {
        SignatureState::Absent => writeln!(out, "signature: none"),
        SignatureState::Valid { key_fingerprint } => {
            writeln!(out, "signature: valid, key {key_fingerprint}")
        }
        SignatureState::Invalid(reason) => writeln!(out, "signature: INVALID: {reason}"),
    };
    out
}
