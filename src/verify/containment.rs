//! Containment: whether follow-on execution was contained (DET0294's
//! question), from what the product reports having done about its alerts
//! ([`BackendAlert::responses`]). Pure: no I/O, no clock.
//!
//! A chain is `blocked` when the product says it prevented a process, with
//! the hop its alert names and whether the harness's own ground truth
//! agrees (a hop the kernel never saw run, named by the product's alert, is
//! blocked by the product); `contained` when it acted on a process or file
//! that had run; `alerted-only` when it alerted and reports no action. The
//! time to containment runs from the hop's time to the time the product
//! gives for its action, and is unknown (absent) when either is missing —
//! a poll time is never taken for it.

use std::path::Path;

use crate::backend::{BackendAlert, ResponseKind};
use crate::record::{Alert, Containment, ContainmentState, HopTruth, ProductResponse};

/// What the product did about a chain, from its alerts (`raised`, as the
/// backend returned them) and their record form (`alerts`, same order, with
/// the hop each names); `None` when no alert references the chain.
pub fn of(hops: &[HopTruth], raised: &[BackendAlert], alerts: &[Alert]) -> Option<Containment> {
    if raised.is_empty() {
        return None;
    }
    let mut responses: Vec<ProductResponse> = Vec::new();
    for (a, rec) in raised.iter().zip(alerts) {
        // A blocked process never ran, so the alert cannot be matched to
        // the hop by pid: it names the hop the harness saw not happen.
        let hop = rec.hop.or_else(|| blocked_hop(a, hops));
        for r in &a.responses {
            let kept = ProductResponse {
                kind: match r.kind {
                    ResponseKind::Blocked => ContainmentState::Blocked,
                    ResponseKind::Contained => ContainmentState::Contained,
                },
                action: r.action.clone(),
                hop,
                at: r.at,
                rule_title: a.rule_title.clone(),
            };
            // One action reported on several rows of one alert is one action.
            if !responses.contains(&kept) {
                responses.push(kept);
            }
        }
    }
    let strongest = responses.iter().map(|r| r.kind).min();
    let Some(state) = strongest else {
        return Some(Containment {
            state: ContainmentState::AlertedOnly,
            hop: None,
            by: None,
            at: None,
            time_to_containment_ms: None,
            confirmed_by_harness: None,
            responses,
        });
    };
    // The deciding response: of the strongest kind, the earliest the
    // product dates (an undated one only when none is dated).
    let deciding = responses
        .iter()
        .filter(|r| r.kind == state)
        .min_by_key(|r| (r.at.is_none(), r.at))?;
    let truth = deciding
        .hop
        .and_then(|i| hops.iter().find(|h| h.index == i));
    let time_to_containment_ms = match (truth.and_then(|h| h.at), deciding.at) {
        (Some(from), Some(to)) => {
            Some(u64::try_from((to - from).whole_milliseconds().max(0)).unwrap_or(u64::MAX))
        }
        _ => None,
    };
    Some(Containment {
        state,
        hop: deciding.hop,
        by: Some(deciding.action.clone()),
        at: deciding.at,
        time_to_containment_ms,
        confirmed_by_harness: (state == ContainmentState::Blocked)
            .then(|| truth.map(|h| !h.happened))
            .flatten(),
        responses,
    })
}

/// The hop the harness saw not happen whose process the alert's event
/// names: same image name as the hop expected and, where the event says,
/// the same parent.
fn blocked_hop(a: &BackendAlert, hops: &[HopTruth]) -> Option<usize> {
    let text = |k: &str| a.event.fields.get(k).and_then(|v| v.as_str());
    let image = text("Image").or_else(|| text("TargetFilename"))?;
    let parent = a
        .event
        .fields
        .get("ParentProcessId")
        .and_then(serde_json::Value::as_u64);
    hops.iter()
        .find(|h| {
            !h.happened
                && same_name(image, &h.expected)
                && parent.is_none_or(|p| h.parent_pid.map(u64::from) == Some(p))
        })
        .map(|h| h.index)
}

/// True when two paths end in the same file name, ignoring ASCII case and
/// either separator (a Windows path read on Linux keeps its backslashes).
fn same_name(a: &str, b: &str) -> bool {
    let name = |p: &str| -> String {
        let last = p.rsplit(['/', '\\']).next().unwrap_or(p);
        Path::new(last)
            .file_name()
            .map_or(last.to_string(), |n| n.to_string_lossy().into_owned())
            .to_ascii_lowercase()
    };
    !a.is_empty() && name(a) == name(b)
}

#[cfg(test)]
mod tests;
