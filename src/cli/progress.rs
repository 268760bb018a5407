//! A progress line on stderr for work that may take a while (a rule corpus
//! load, a replay of a large recording): shown only when stderr is a
//! terminal and only once the work has taken more than a second, so quick
//! commands and anything piped or logged stay exactly as they were. It
//! never writes to stdout, where machine output goes.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::replay::model::{Alert, Chain, Sink};

/// Work shorter than this shows nothing.
const QUIET_FOR: Duration = Duration::from_secs(1);

/// How often the line redraws once shown.
const TICK: Duration = Duration::from_millis(120);

/// One progress line, hidden until [`QUIET_FOR`] has passed.
pub struct Meter {
    bar: ProgressBar,
    /// Set once the work is done; the thread that shows the line takes the
    /// same lock, so a line is never shown after it was cleared.
    done: Arc<Mutex<bool>>,
}

impl Meter {
    /// A meter for `what` (`rules`, `replay`); `unit` names what is counted
    /// (`files parsed`, `events read`). `len` makes it a bar.
    pub fn new(what: &str, unit: &str, len: Option<u64>) -> Meter {
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden());
        let template = match len {
            Some(_) => {
                format!(
                    "{{spinner}} {what}: [{{bar:25}}] {{pos}}/{{len}} {unit} {{msg}} {{elapsed}}"
                )
            }
            None => format!("{{spinner}} {what}: {{human_pos}} {unit} {{msg}} {{elapsed}}"),
        };
        bar.set_style(
            ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let done = Arc::new(Mutex::new(false));
        if std::io::stderr().is_terminal() {
            let (bar, done) = (bar.clone(), Arc::clone(&done));
            // A sleeping thread rather than a clock check per tick: a phase
            // without ticks (compiling the rules) must show too.
            std::thread::spawn(move || {
                std::thread::sleep(QUIET_FOR);
                let done = done.lock().unwrap_or_else(PoisonError::into_inner);
                if !*done {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                    bar.enable_steady_tick(TICK);
                }
            });
        }
        Meter { bar, done }
    }

    /// The count is now `pos` (and the total `len`, when given).
    pub fn set(&self, pos: u64, len: Option<u64>) {
        if let Some(len) = len {
            self.bar.set_length(len);
        }
        self.bar.set_position(pos);
    }

    /// A note beside the count: counts or a phase (`compiling`), never
    /// text from the input.
    pub fn note(&self, note: &str) {
        self.bar.set_message(note.to_string());
    }

    /// Removes the line; what follows on stderr starts on a clean line.
    pub fn done(self) {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        *done = true;
        self.bar.finish_and_clear();
    }
}

/// Alerts and chains counted beside a meter's own count: a [`Sink`] in the
/// replay's tee, so the line moves with the output whichever evaluator
/// feeds it.
pub struct Counts<'a> {
    meter: &'a Meter,
    alerts: u64,
    chains: u64,
}

impl<'a> Counts<'a> {
    /// Counts shown on `meter`.
    pub fn new(meter: &'a Meter) -> Counts<'a> {
        Counts {
            meter,
            alerts: 0,
            chains: 0,
        }
    }

    fn show(&self) {
        self.meter
            .note(&format!("{} alerts, {} chains", self.alerts, self.chains));
    }
}

impl Sink for Counts<'_> {
    fn alert(&mut self, _: &Alert) {
        self.alerts += 1;
        // Often enough to look alive, rarely enough to cost nothing.
        if self.alerts.is_multiple_of(256) {
            self.show();
        }
    }
    fn chain(&mut self, _: &Chain) {
        self.chains += 1;
        if self.chains.is_multiple_of(64) {
            self.show();
        }
    }
}
