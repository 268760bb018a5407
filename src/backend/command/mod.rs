//! The `command` backend: a program of the operator's choosing answers for
//! the backend, so any source chainproof has no client for (Chronicle,
//! SentinelOne, a data-lake export, an in-house API) can be plugged in
//! without touching the crate.
//!
//! Per poll round the program is started once, reads the whole batch as
//! JSON on stdin and writes one JSON answer on stdout (the contract, version
//! 1, is `docs/command-backend.md`). It runs with a timeout after which its
//! whole process group is killed; a non-zero exit, an answer that is not
//! the contract's JSON, or an answer that does not cover exactly the runs
//! asked for is a [`BackendError`] (so `inconclusive`, never `missed`), with
//! the tail of the program's stderr in the message.
//!
//! This module owns the process and the wire format; it never decides
//! verdicts, and it holds no secrets: the program reads its own.

mod process;
mod wire;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;

use super::{BackendError, ErrorKind, Query, RunAnswer};

pub use wire::VERSION;

/// A `command` profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    /// The program to run: a path, or a bare name looked up in `PATH`.
    pub program: PathBuf,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// How long one invocation may take before it is killed.
    #[serde(default = "default_timeout", with = "crate::vocab::duration_text")]
    pub timeout: Duration,
    /// Extra environment variables, added to the inherited environment.
    /// Plain strings: a secret belongs in a variable or file the program
    /// reads itself, never in the config.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

impl CommandConfig {
    /// Checks the profile's shape (no I/O).
    pub fn validate(&self) -> Result<(), String> {
        if self.program.as_os_str().is_empty() {
            return Err("`program` is empty".into());
        }
        if self.timeout.is_zero() {
            return Err("`timeout` must be longer than 0s".into());
        }
        if let Some(bad) = self
            .env
            .keys()
            .find(|k| k.is_empty() || k.contains(['=', '\0']))
        {
            return Err(format!(
                "`env` name `{}` is not a valid variable name",
                bad.escape_debug()
            ));
        }
        Ok(())
    }
}

/// A configured command backend.
#[derive(Debug)]
pub struct Command {
    name: String,
    config: CommandConfig,
}

impl Command {
    /// Checks the profile; nothing is started until [`Command::check`].
    pub fn new(name: &str, config: &CommandConfig) -> Result<Command, BackendError> {
        config
            .validate()
            .map_err(|message| BackendError::config(name, message))?;
        Ok(Command {
            name: name.into(),
            config: config.clone(),
        })
    }

    fn error(&self, kind: ErrorKind) -> BackendError {
        BackendError::new(self.name.clone(), kind)
    }

    /// Runs the program on an empty batch and expects a valid, empty answer.
    pub async fn check(&self) -> Result<(), BackendError> {
        self.query(Query { runs: &[] }).await.map(|_| ())
    }

    /// One invocation for every run of the query; answers are matched to
    /// runs by token and returned in the query's order.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        let input = wire::request(q.runs).map_err(|e| self.error(ErrorKind::Other(e)))?;
        let stdout = process::run(&self.config, input)
            .await
            .map_err(|e| self.error(e))?;
        let answered_at = OffsetDateTime::now_utc();
        wire::answers(&stdout, q.runs, answered_at).map_err(|kind| {
            self.error(kind)
                .doing(process::describe(&self.config.program))
        })
    }
}

inherent_backend!(Command, "command", polls: true);

impl super::Plugin for Command {
    type Config = CommandConfig;

    fn validate(c: &CommandConfig) -> Result<(), String> {
        c.validate()
    }

    fn build(c: &CommandConfig, ctx: super::Context<'_>) -> Result<Command, BackendError> {
        Command::new(ctx.name, c)
    }
}

#[cfg(test)]
mod tests;
