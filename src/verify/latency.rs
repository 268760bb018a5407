//! Latency figures that say what they are. The time from a hop to its
//! telemetry is measured from the backend's own arrival time of the event
//! where its answer carries one ([`Event::arrived`], from the field the
//! backend names as its `ARRIVAL`); where it carries none, the only honest
//! figure is an upper bound, the time until the poll that found it —
//! recorded as bounded by polling, never as a measurement.

use time::OffsetDateTime;

use super::Sight;
use super::decide::{event_matches, ms_between};
use crate::record::{Basis, HopTruth};
use crate::telemetry::Event;

/// What `time_to_alert` is measured from: an alert's `at`, the time the
/// backend says the alert was raised (for the embedded rules of `local`,
/// `auditd` and recorded telemetry, the time of the event they fired on).
pub const ALERT_TIME: &str = "the alert's own time";

/// The hop's time to telemetry among `events` and what the figure is:
/// from the earliest arrival of a matching event where any has one, else
/// bounded by `answered_at` (the poll). `None` when neither can be had.
pub(super) fn to_telemetry(
    hop: &HopTruth,
    events: &[Event],
    answered_at: Option<OffsetDateTime>,
    sight: &Sight,
) -> (Option<u64>, Option<Basis>) {
    let arrived = events
        .iter()
        .filter(|e| event_matches(e, hop))
        .filter_map(|e| e.arrived)
        .min();
    let (ms, basis) = match arrived {
        Some(at) => (
            ms_between(hop.at, Some(at)),
            Basis::Measured(
                sight
                    .arrival
                    .unwrap_or("the event's arrival time, as the backend gave it")
                    .to_string(),
            ),
        ),
        None => (ms_between(hop.at, answered_at), Basis::Polling),
    };
    (ms, ms.map(|_| basis))
}
