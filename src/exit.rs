//! Exit codes, documented in `docs/exit-codes.md`.

/// Done; any gate or coverage policy passed.
pub const OK: u8 = 0;
/// A gate or coverage policy failed (`--require`).
pub const POLICY: u8 = 1;
/// Invalid usage, configuration or scenario; nothing ran.
pub const INVALID: u8 = 2;
/// Runtime or backend failure that stopped the run.
pub const RUNTIME: u8 = 3;
/// Interrupted by a stop signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT), after
/// cleanup and the record.
pub const INTERRUPTED: u8 = 130;
