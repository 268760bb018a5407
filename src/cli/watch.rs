//! How the pipeline's progress shows on the terminal: the scenario bar of
//! `run`, and, for the commands that only load rules before their work, the
//! rules meter of [`super::progress`]. Refused rules are always named.

use std::sync::Mutex;

use super::progress::Meter;
use super::rules::{Say, tell};
use crate::detect::Rules;
use crate::pipeline::Progress;
use crate::term;

/// Progress on stderr.
pub struct Watch {
    /// `run`'s bar: one tick per scenario, a line per scenario done.
    bar: Option<indicatif::ProgressBar>,
    /// The rules meter while rules load (commands without a bar).
    meter: Mutex<Option<Meter>>,
    /// Warn when no rule loaded (`run` never has; the others always have).
    warn_empty: bool,
}

impl Watch {
    /// `run`'s progress: a bar, shown on a terminal.
    pub fn bar() -> Watch {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:20}] {pos}/{len} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Watch {
            bar: Some(bar),
            meter: Mutex::new(None),
            warn_empty: false,
        }
    }

    /// Progress of commands that load rules and then work quietly.
    pub fn rules_only() -> Watch {
        Watch {
            bar: None,
            meter: Mutex::new(None),
            warn_empty: true,
        }
    }

    /// Clears the bar before the command prints its results.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn line(&self, line: &str) {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.println(term::safe(line)),
            _ => errln!("{}", term::safe(line)),
        }
    }
}

impl Drop for Watch {
    /// A load that failed never reached [`Progress::rules`]: its meter
    /// must not show up after the error.
    fn drop(&mut self) {
        let meter = self.meter.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(m) = meter {
            m.done();
        }
    }
}

impl Progress for Watch {
    fn prerequisites(&self, backend: &str, verified: &[String]) {
        for line in verified {
            self.line(&format!("backend {backend}: verified: {line}"));
        }
    }

    fn rules_parsed(&self, done: usize, total: usize) {
        if let Some(bar) = &self.bar {
            // Counts only: the bar's message never holds input text here.
            if done.is_multiple_of(64) || done + 1 == total {
                bar.set_message(format!("rules: {done}/{total} files parsed"));
            }
            return;
        }
        let mut meter = self.meter.lock().unwrap_or_else(|e| e.into_inner());
        let m = meter.get_or_insert_with(|| Meter::new("rules", "files parsed", Some(0)));
        m.set(done as u64, Some(total as u64));
        if done + 1 == total {
            // The batch compile that follows the last parse has no count.
            m.note("compiling");
        }
    }

    fn rules(&self, rules: &Rules) {
        if let Some(bar) = &self.bar {
            bar.set_message("");
        }
        let meter = self.meter.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(m) = meter {
            m.done();
        }
        tell(&rules.summary, Say::Refusals);
        if self.warn_empty && rules.count == 0 {
            // An empty or mistyped folder would otherwise verify "no alerts".
            errln!(
                "warning: no rule loaded from {}: nothing can alert",
                term::safe(&rules.sources.join(", "))
            );
        }
    }

    fn start(&self, index: usize, total: usize, id: &str) {
        let line = format!("[{}/{total}] {id}", index + 1);
        match &self.bar {
            Some(bar) => {
                bar.set_length(total as u64);
                bar.set_message(term::safe(&line).into_owned());
                if bar.is_hidden() {
                    errln!("{line} …");
                }
            }
            None => errln!("{line} …"),
        }
    }

    fn done(&self, index: usize, total: usize, id: &str, summary: &str) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.inc(1);
        }
        self.line(&format!("[{}/{total}] {id}: {summary}", index + 1));
    }

    fn targets_start(&self, count: usize, parallel: usize) {
        errln!("running on {count} target(s), at most {parallel} at once …");
    }

    fn target_done(&self, summary: &str) {
        errln!("{}", crate::term::safe(summary));
    }
}
