//! What the prerequisite checks of this area's backends (`defender`,
//! `sentinel`, and `splunk`, which shares nothing else with them) make of
//! a query's outcome: a count of recent process events, or an error that
//! either will recur every poll round (a refused permission, a table or
//! macro that does not exist: stop before anything runs) or may pass (a
//! 5xx, a rate limit, a timeout: say it was not verified and go on).

use super::table::{Row, pid_of};
use crate::backend::{BackendError, ErrorKind};

/// What the prerequisite checks are doing, as their errors say it.
pub const DOING: &str = "check the sensor's prerequisites";

/// True for an error every later query would meet too, so verification
/// could only ever be inconclusive: refused credentials or permission, a
/// query the service rejects (HTTP 4xx, a failed search), an unusable
/// profile. Server errors, rate limits, timeouts, connection failures and
/// odd answers may pass, so they only make a check "not verified".
pub fn lasting(e: &BackendError) -> bool {
    match &e.kind {
        ErrorKind::Credentials { .. } | ErrorKind::Config(_) | ErrorKind::Other(_) => true,
        ErrorKind::Status { status, .. } => (400..500).contains(status),
        _ => false,
    }
}

/// The `count` of a `... | take 1 | count` answer (KQL names the column
/// `Count`, Splunk's `stats count` names it `count`), when there is one.
pub fn count(rows: &[Row]) -> Option<u64> {
    let first = rows.first()?;
    pid_of(first, "Count").or_else(|| pid_of(first, "count"))
}

/// The line or error for a query proving that `what` holds an event of
/// the last hour (`noun` says of which kind): none at all is an error (the data behind the backend
/// is not being fed, so no hop could be seen); an answer without a count
/// or a passing failure is a line saying it was not verified.
pub fn recent_events(
    backend: &str,
    what: &str,
    noun: &str,
    outcome: Result<Vec<Row>, BackendError>,
) -> Result<String, BackendError> {
    match outcome {
        Ok(rows) => match count(&rows) {
            Some(0) => Err(BackendError::other(
                backend,
                format!(
                    "{what} holds no {noun} of the last hour: nothing feeds it (or this \
                     account cannot read it), so no hop could be seen"
                ),
            )
            .doing(DOING)),
            Some(_) => Ok(format!("{what}: {noun}s arrived in the last hour")),
            None => Ok(format!(
                "{what}: not verified that {noun}s arrived in the last hour (the answer held no count)"
            )),
        },
        Err(e) if lasting(&e) => Err(e.doing(DOING)),
        Err(e) => Ok(format!(
            "{what}: not verified that {noun}s arrived in the last hour ({e})"
        )),
    }
}

/// The line or error for a query proving the alert source can be read.
pub fn alerts_readable(
    what: &str,
    outcome: Result<Vec<Row>, BackendError>,
) -> Result<String, BackendError> {
    match outcome {
        Ok(_) => Ok(format!("{what}: readable by this account")),
        Err(e) if lasting(&e) => Err(e.doing(DOING)),
        Err(e) => Ok(format!("{what}: not verified to be readable ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Said;
    use serde_json::json;

    fn rows(v: serde_json::Value) -> Vec<Row> {
        vec![v.as_object().cloned().unwrap_or_default()]
    }

    fn status(status: u16) -> BackendError {
        BackendError::new(
            "b",
            ErrorKind::Status {
                status,
                said: Said::Excerpt(String::new()),
                attempts: None,
            },
        )
    }

    #[test]
    fn no_recent_event_and_lasting_failures_stop_passing_ones_do_not() {
        let ok = |o| recent_events("b", "T", "process event", o);
        assert!(ok(Ok(rows(json!({"Count": 1})))).is_ok_and(|l| l.contains("arrived")));
        assert!(ok(Ok(rows(json!({"count": "1"})))).is_ok_and(|l| l.contains("arrived")));
        let none = ok(Ok(rows(json!({"Count": 0}))))
            .err()
            .map(|e| e.to_string());
        assert!(
            none.as_deref()
                .is_some_and(|e| e.contains("no process event") && e.contains(DOING)),
            "{none:?}"
        );
        assert!(ok(Ok(vec![])).is_ok_and(|l| l.contains("not verified")));
        assert!(ok(Err(status(400))).is_err());
        assert!(ok(Err(BackendError::other("b", "search failed: no macro"))).is_err());
        for passing in [status(500), status(503)] {
            assert!(ok(Err(passing)).is_ok_and(|l| l.contains("not verified")));
        }
        let timeout = BackendError::new(
            "b",
            ErrorKind::Timeout {
                what: "request".into(),
                limit: None,
                attempts: Some(4),
            },
        );
        assert!(alerts_readable("A", Err(timeout)).is_ok_and(|l| l.contains("not verified")));
        assert!(alerts_readable("A", Err(status(403))).is_err());
        assert!(alerts_readable("A", Ok(vec![])).is_ok_and(|l| l.contains("readable")));
    }
}
