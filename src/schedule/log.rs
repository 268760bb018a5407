//! The service's event log: one line per event on stderr, as text or JSON.

use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `TIME event: details`, for people and journald.
    Text,
    /// One JSON object per line (`time`, `event`, fields), for log shippers.
    Json,
}

/// Something the service did.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The service holds its lock and begins.
    Service {
        /// The schedule, e.g. `every 1h` or `cron 0 * * * *`.
        schedule: String,
        /// The lock file held.
        lock: PathBuf,
        /// Runs before stopping, if limited.
        max_runs: Option<u64>,
    },
    /// Nothing runs until `until`.
    Waiting {
        /// Run number about to start (1-based).
        run: u64,
        /// When it starts.
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    /// A run starts.
    Started {
        /// Run number (1-based).
        run: u64,
        /// Its slot on the schedule.
        #[serde(with = "time::serde::rfc3339")]
        planned: OffsetDateTime,
        /// Seconds the previous run delayed it past its slot.
        delayed_s: f64,
        /// Slots that passed during the previous run and were folded in.
        skipped: u64,
    },
    /// A scenario of the run is done.
    Scenario {
        /// Run number.
        run: u64,
        /// Scenario id.
        id: String,
        /// How it ended.
        summary: String,
    },
    /// A run wrote its record.
    Finished {
        /// Run number.
        run: u64,
        /// The matrix summary line.
        summary: String,
        /// The report folder.
        report: PathBuf,
        /// Whether a signal cut it short.
        interrupted: bool,
        /// Seconds it took.
        duration_s: f64,
    },
    /// A run could not run or write its record; the service goes on.
    Failed {
        /// Run number.
        run: u64,
        /// Why, with causes.
        reason: String,
        /// The exit code `chainproof run` would have returned.
        exit_code: u8,
    },
    /// The service ends.
    Stopped {
        /// Why: `max-runs`, `signal while waiting`, `signal during a run`,
        /// `no further slot`.
        reason: String,
        /// Runs done (failed ones included).
        runs: u64,
    },
}

impl Event {
    fn text(&self) -> String {
        let t = |t: &OffsetDateTime| rfc3339(*t);
        match self {
            Event::Service {
                schedule,
                lock,
                max_runs,
            } => format!(
                "service: {schedule}, lock {}{}",
                lock.display(),
                max_runs.map_or_else(String::new, |n| format!(", at most {n} runs"))
            ),
            Event::Waiting { run, until } => format!("waiting: run {run} starts at {}", t(until)),
            Event::Started {
                run,
                planned,
                delayed_s,
                skipped,
            } => {
                let mut s = format!("started: run {run} (slot {})", t(planned));
                if *delayed_s > 0.0 {
                    s.push_str(&format!(
                        "; delayed {delayed_s:.1}s by the previous run, {skipped} slot(s) skipped"
                    ));
                }
                s
            }
            Event::Scenario { run, id, summary } => format!("scenario: run {run} {id}: {summary}"),
            Event::Finished {
                run,
                summary,
                report,
                interrupted,
                duration_s,
            } => format!(
                "finished: run {run} in {duration_s:.1}s{}: {summary}; report {}",
                if *interrupted { " (interrupted)" } else { "" },
                report.display()
            ),
            Event::Failed {
                run,
                reason,
                exit_code,
            } => format!("failed: run {run} (exit {exit_code}): {reason}"),
            Event::Stopped { reason, runs } => format!("stopped: {reason} after {runs} run(s)"),
        }
    }

    /// The log line for this event at `now` (no line break).
    pub fn line(&self, format: LogFormat, now: OffsetDateTime) -> String {
        match format {
            LogFormat::Text => {
                crate::term::safe(&format!("{} {}", rfc3339(now), self.text())).replace('\n', " ")
            }
            LogFormat::Json => {
                #[derive(Serialize)]
                struct Line<'a> {
                    time: String,
                    #[serde(flatten)]
                    event: &'a Event,
                }
                serde_json::to_string(&Line {
                    time: rfc3339(now),
                    event: self,
                })
                .unwrap_or_default()
            }
        }
    }
}

/// Writes one event line to stderr.
pub fn emit(format: LogFormat, event: &Event) {
    let line = event.line(format, OffsetDateTime::now_utc()) + "\n";
    match format {
        LogFormat::Text => crate::term::err(&line),
        LogFormat::Json => crate::term::err_json(&line),
    }
}

/// RFC 3339 in UTC, to the millisecond.
fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t.replace_millisecond(t.millisecond()).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn lines_in_both_formats() -> Result<(), serde_json::Error> {
        let now = datetime!(2026-03-01 10:00:00 UTC);
        let e = Event::Started {
            run: 2,
            planned: datetime!(2026-03-01 09:59:00 UTC),
            delayed_s: 60.0,
            skipped: 0,
        };
        assert_eq!(
            e.line(LogFormat::Text, now),
            "2026-03-01T10:00:00Z started: run 2 (slot 2026-03-01T09:59:00Z); \
             delayed 60.0s by the previous run, 0 slot(s) skipped"
        );
        let json: serde_json::Value = serde_json::from_str(&e.line(LogFormat::Json, now))?;
        assert_eq!(json["event"], "started");
        assert_eq!(json["time"], "2026-03-01T10:00:00Z");
        assert_eq!(json["planned"], "2026-03-01T09:59:00Z");
        assert_eq!(json["run"], 2);
        let failed = Event::Failed {
            run: 1,
            reason: "a\nb\u{1b}[31m".into(),
            exit_code: 3,
        };
        let text = failed.line(LogFormat::Text, now);
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text}");
        Ok(())
    }
}
