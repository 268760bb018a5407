//! Verifying a recorded run again (`chainproof verify`, and the controller
//! verifying the records fetched from remote targets).

use super::{Polling, verify};
use crate::backend::AnyBackend;
use crate::backend::transcript::Exchange;
use crate::record::{RuleSet, RunRecord};
use crate::scenario::Scenario;

/// Verifies every scenario of `record` again with `backend` (already
/// checked), names `rule_set` as its alerting content, and returns every
/// request sent to the backend with its answer, for the evidence bundle.
/// `stop` ends it as it ends [`verify`].
pub async fn again(
    record: &mut RunRecord,
    scenarios: &[Scenario],
    backend: &AnyBackend,
    rule_set: &RuleSet,
    polling: &Polling,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Vec<Exchange> {
    backend.start_transcript();
    verify(&mut record.scenarios, scenarios, backend, polling, stop).await;
    record.rules = rule_set.clone();
    backend.take_transcript()
}
