//! Exit codes, documented in `docs/exit-codes.md`. Every command maps its
//! outcome to one of these; `gate`, `run --require`, `bundle verify` and
//! `replay --fail-on` share [`POLICY`] so a CI job tests one number for
//! "the check ran and said no".

/// Done; any gate or coverage policy passed (`replay`: no `--fail-on`
/// condition was met).
pub const OK: u8 = 0;
/// A gate or coverage policy failed: `gate` found a regression, `run
/// --require` was not met, `bundle verify` found a change, or a `replay
/// --fail-on` condition was met.
pub const POLICY: u8 = 1;
/// Invalid usage, configuration, scenario, rule or telemetry input (`replay
/// --fail-on` with a spec it cannot parse); nothing ran.
pub const INVALID: u8 = 2;
/// Runtime or backend failure that stopped the run.
pub const RUNTIME: u8 = 3;
/// Interrupted by a stop signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT), after
/// cleanup and the record.
pub const INTERRUPTED: u8 = 130;
