//! The `auditd` backend: the Linux kernel's own audit trail as telemetry.
//!
//! It reads `audit.log` (and its rotated files `audit.log.1`, `.2`, …),
//! `ausearch --raw` output or laurel JSON lines, reassembles the records into
//! process and file events (`telemetry::auditd`), keeps those that carry a
//! run's token, and alerts by evaluating the Sigma rules over them — so a
//! hop is `observed` only if the kernel recorded it, whatever the ground
//! truth says. `chainproof audit-rules` installs the rules it needs.

pub mod rules;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::OffsetDateTime;

use super::attribution::{Record, Window};
use super::{BackendError, Query, RunAnswer};
use crate::detect::Rules;
use crate::telemetry::Event;
use crate::vocab::Platform;

/// An `auditd` profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditdConfig {
    /// Audit logs to read; each one's rotated siblings (`.1`, `.2`, …) too.
    #[serde(default = "default_logs")]
    pub logs: Vec<PathBuf>,
}

fn default_logs() -> Vec<PathBuf> {
    vec![PathBuf::from("/var/log/audit/audit.log")]
}

impl Default for AuditdConfig {
    fn default() -> AuditdConfig {
        AuditdConfig {
            logs: default_logs(),
        }
    }
}

impl AuditdConfig {
    /// Checks shape, no I/O.
    pub fn validate(&self) -> Result<(), String> {
        if self.logs.is_empty() {
            return Err("`logs` names no audit log".into());
        }
        Ok(())
    }
}

/// The auditd backend.
#[derive(Debug)]
pub struct Auditd {
    name: String,
    config: AuditdConfig,
    rules: Rules,
}

impl Auditd {
    /// A backend reading `config.logs`, alerting with `rules`.
    pub fn new(name: &str, config: &AuditdConfig, rules: Rules) -> Result<Auditd, BackendError> {
        config
            .validate()
            .map_err(|message| BackendError::config(name, message))?;
        Ok(Auditd {
            name: name.into(),
            config: config.clone(),
            rules,
        })
    }

    fn error(&self, message: String) -> BackendError {
        BackendError::other(self.name.clone(), message)
    }

    /// Every configured log is readable.
    pub async fn check(&self) -> Result<(), BackendError> {
        for log in &self.config.logs {
            std::fs::File::open(log)
                .map_err(|e| self.error(format!("read {}: {e}", log.display())))?;
        }
        Ok(())
    }

    /// For runs about to happen here: auditd is running and the kernel has
    /// chainproof's execve rules, else no hop can be recorded and every one
    /// would read `missed` after the deadline. Checked only for the live
    /// trail (the default `logs`); a profile reading exports or laurel
    /// files is not this host's kernel.
    pub fn sensor_ready(&self) -> Result<Vec<String>, BackendError> {
        if self.config.logs != default_logs() {
            return Ok(vec![
                "reads configured logs, not this host's live trail: audit rules not checked".into(),
            ]);
        }
        let refuse = |why: String| {
            BackendError::config(
                self.name.clone(),
                format!(
                    "{why}: no hop of a run could be recorded; run `chainproof audit-rules \
                     --install` as root first (docs/audit-rules.md)"
                ),
            )
        };
        match rules::daemon_pid() {
            Ok(Some(_)) => {}
            Ok(None) => return Err(refuse("auditd is not running".into())),
            Err(e) => {
                return Err(refuse(format!(
                    "cannot ask the kernel's audit status ({e})"
                )));
            }
        }
        let loaded =
            rules::installed().map_err(|e| refuse(format!("cannot list audit rules ({e})")))?;
        if !loaded
            .iter()
            .any(|r| r.contains(&format!("key={}", rules::KEY_EXEC)))
        {
            return Err(refuse(format!(
                "the kernel has no `{}` execve audit rule loaded",
                rules::KEY_EXEC
            )));
        }
        Ok(vec![format!(
            "auditd is running and the kernel has the `{}` execve rule",
            rules::KEY_EXEC
        )])
    }

    /// Reads every log once for the whole batch and answers each run with
    /// the kernel's events that carry its token, and the rules' alerts on them.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        if q.runs.is_empty() {
            return Ok(Vec::new());
        }
        // Records older than the earliest run cannot be the batch's: skip
        // rotated files last written before it, and such lines in the others.
        let since = Window::of(q.runs).from;
        let mut events = Vec::new();
        for log in &self.config.logs {
            for file in with_rotations(log) {
                let modified = std::fs::metadata(&file)
                    .and_then(|m| m.modified())
                    .map(OffsetDateTime::from);
                if modified.is_ok_and(|m| m < since) {
                    continue;
                }
                let bytes = crate::intake::read_bytes(&file, crate::intake::Kind::Telemetry)
                    .map_err(|e| self.error(format!("read {}: {e}", file.display())))?;
                let text = String::from_utf8_lossy(&bytes);
                let recent: String = text
                    .lines()
                    .filter(|l| !older_than(l, since))
                    .flat_map(|l| [l, "\n"])
                    .collect();
                events.extend(crate::telemetry::auditd::parse_auto(&recent).events);
            }
        }
        let answered_at = Some(OffsetDateTime::now_utc());
        Ok(q.runs
            .iter()
            .map(|run| {
                let mine: Vec<Event> = events
                    .iter()
                    .filter(|e| e.mentions(&run.token))
                    .cloned()
                    .collect();
                let alerts = super::rule_alerts(&self.rules, &mine, Platform::Linux);
                RunAnswer {
                    untied: Default::default(),
                    events: mine,
                    alerts,
                    answered_at,
                }
            })
            .collect())
    }
}

/// `log` and its existing rotated siblings, oldest last.
fn with_rotations(log: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if log.exists() {
        files.push(log.to_path_buf());
    }
    for n in 1..100 {
        let rotated = PathBuf::from(format!("{}.{n}", log.display()));
        if !rotated.exists() {
            break;
        }
        files.push(rotated);
    }
    files
}

/// True when a raw record line carries an `audit(<seconds>.<ms>:<serial>)`
/// stamp older than `since` (other lines, e.g. laurel JSON, are kept).
fn older_than(line: &str, since: OffsetDateTime) -> bool {
    let Some(i) = line.find("audit(") else {
        return false;
    };
    let stamp = &line[i + 6..];
    let Some(end) = stamp.find(['.', ':']) else {
        return false;
    };
    stamp[..end]
        .parse::<i64>()
        .is_ok_and(|secs| secs < since.unix_timestamp())
}

inherent_backend!(Auditd, "auditd", polls: true {
    // Each event's `arrived` is its record's own stamp (telemetry::auditd).
    const ARRIVAL: Option<&'static str> = Some("msg=audit(<seconds>.<ms>:<serial>)");
    // Alerts are chainproof's own rules, evaluated with the kernel's events.
    const ALERT_LATENCY: std::time::Duration = std::time::Duration::ZERO;
    fn prerequisites(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<String>, BackendError>> {
        std::future::ready(self.sensor_ready())
    }
});

impl super::Plugin for Auditd {
    type Config = AuditdConfig;

    fn validate(c: &AuditdConfig) -> Result<(), String> {
        c.validate()
    }

    fn build(c: &AuditdConfig, ctx: super::Context<'_>) -> Result<Auditd, BackendError> {
        Auditd::new(ctx.name, c, ctx.rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "type=SYSCALL msg=audit(1764151200.100:71): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=100 pid=101 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"sh\" exe=\"/usr/bin/dash\" key=\"chainproof_exec\"
type=EXECVE msg=audit(1764151200.100:71): argc=3 a0=\"/bin/sh\" a1=\"-c\" a2=\"touch /tmp/proof-cp00000000aa.txt\"
type=CWD msg=audit(1764151200.100:71): cwd=\"/tmp\"
type=EOE msg=audit(1764151200.100:71):
type=SYSCALL msg=audit(1764151200.200:72): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=50 pid=51 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"ls\" exe=\"/usr/bin/ls\" key=\"chainproof_exec\"
type=EXECVE msg=audit(1764151200.200:72): argc=2 a0=\"ls\" a1=\"cp00000000bb\"
";

    fn run(token: &str) -> crate::record::ScenarioRun {
        let started = OffsetDateTime::from_unix_timestamp(1_764_151_190)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let mut run = crate::backend::conformance::sample_run(token, Platform::Linux, vec![]);
        run.started_at = started;
        run.finished_at = started;
        run
    }

    #[tokio::test]
    async fn events_are_the_kernels_and_belong_to_their_token()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("audit.log");
        std::fs::write(
            &log,
            &LOG[..LOG
                .find("type=SYSCALL msg=audit(1764151200.200")
                .unwrap_or(0)],
        )?;
        std::fs::write(
            dir.path().join("audit.log.1"),
            &LOG[LOG
                .find("type=SYSCALL msg=audit(1764151200.200")
                .unwrap_or(0)..],
        )?;
        let backend = Auditd::new("aud", &AuditdConfig { logs: vec![log] }, Rules::load(&[])?)?;
        backend.check().await?;
        let runs = [
            run("cp00000000aa"),
            run("cp00000000bb"),
            run("cp00000000cc"),
        ];
        let answers = backend.query(Query { runs: &runs }).await?;
        let pids = |i: usize| -> Vec<u64> {
            answers[i]
                .events
                .iter()
                .filter_map(|e| e.fields.get("ProcessId").and_then(|v| v.as_u64()))
                .collect()
        };
        assert_eq!(pids(0), [101]);
        assert_eq!(pids(1), [51], "the rotated log is read too");
        assert!(answers[2].events.is_empty());
        // Each event arrived when the kernel stamped its record, and the
        // backend names that stamp as what latencies are measured from.
        let stamp = OffsetDateTime::from_unix_timestamp_nanos(1_764_151_200_100_000_000)?;
        assert_eq!(answers[0].events[0].arrived, Some(stamp));
        let any = crate::backend::AnyBackend::Auditd(Box::new(backend));
        assert_eq!(any.arrival(), Some("msg=audit(<seconds>.<ms>:<serial>)"));
        assert_eq!(any.alert_latency(), std::time::Duration::ZERO);
        Ok(())
    }

    #[tokio::test]
    async fn an_unreadable_log_fails_the_check_naming_it() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("missing.log");
        let backend = Auditd::new("aud", &AuditdConfig { logs: vec![log] }, Rules::load(&[])?)?;
        let err = backend
            .check()
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("aud") && err.contains("missing.log"), "{err}");
        Ok(())
    }
}
