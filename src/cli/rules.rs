//! Loading rule folders for a command: every refused rule named on stderr
//! with its file and reason, then one line of counts, so nothing a user
//! pointed chainproof at is skipped in silence.

use std::path::PathBuf;

use super::error::CliError;
use super::progress::Meter;
use crate::detect::Rules;
use crate::detect::load::Summary;

/// How much a command says about its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Say {
    /// The counts line always (commands whose output is about the rules).
    Always,
    /// Only when something was refused.
    Refusals,
}

/// Loads `dirs` (the shipped rules when empty). With `strict`, any refusal
/// is exit 2; otherwise each is printed and skipped. A load that takes over
/// a second shows its progress on a terminal's stderr.
pub fn load(dirs: &[PathBuf], strict: bool, say: Say) -> Result<Rules, CliError> {
    let meter = Meter::new("rules", "files parsed", Some(0));
    let mut parsed = |done: usize, total: usize| {
        meter.set(done as u64, Some(total as u64));
        if done + 1 == total {
            // The batch compile that follows the last parse has no count.
            meter.note("compiling");
        }
    };
    let loaded = Rules::load_watched(dirs, strict, &mut parsed);
    meter.done();
    let rules = loaded.map_err(CliError::Rules)?;
    tell(&rules.summary, say);
    if rules.count == 0 {
        // An empty or mistyped folder would otherwise replay "no alerts".
        let sources = crate::term::safe(&rules.sources.join(", ")).into_owned();
        if strict {
            return Err(CliError::NoRules(sources));
        }
        errln!("warning: no rule loaded from {sources}: nothing can alert");
    }
    Ok(rules)
}

/// Names every refused rule on stderr, then the counts (always, or only
/// when something was refused).
pub fn tell(summary: &Summary, say: Say) {
    for refusal in &summary.refused {
        errln!("warning: rule refused: {refusal}");
    }
    if say == Say::Always || !summary.refused.is_empty() {
        errln!("rules: {}", summary.line());
    }
}
