//! What a long piece of work tells its caller as it goes: a trait the
//! caller implements (a terminal bar, a log line per event, nothing), so the
//! library shows progress without knowing about terminals. It holds no
//! state and must not print.

use crate::detect::Rules;

/// Progress callbacks. `Sync`: targets report from worker threads.
pub trait Progress: Sync {
    /// A scenario starts.
    fn start(&self, index: usize, total: usize, id: &str);
    /// A scenario is done.
    fn done(&self, index: usize, total: usize, id: &str, summary: &str);
    /// A rule file is about to be parsed (`done` of `total` are).
    fn rules_parsed(&self, _done: usize, _total: usize) {}
    /// The rules are loaded; their summary names every rule refused.
    fn rules(&self, _rules: &Rules) {}
    /// The backend checked its sensor's prerequisites before runs: what
    /// it could verify, one line each (empty when it can verify nothing).
    fn prerequisites(&self, _backend: &str, _verified: &[String]) {}
    /// Targets are about to run, at most `parallel` at once.
    fn targets_start(&self, _count: usize, _parallel: usize) {}
    /// A target finished (ran or failed): its one-line summary (name,
    /// outcome, time), not yet made terminal-safe.
    fn target_done(&self, _summary: &str) {}
}

/// Progress nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: usize, _: usize, _: &str) {}
    fn done(&self, _: usize, _: usize, _: &str, _: &str) {}
}
