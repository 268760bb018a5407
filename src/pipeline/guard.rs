//! The lab guard ([`crate::lab`]) applied where every caller passes: in
//! [`super::prepare`], before scenarios, rules or backends are touched and
//! before any connection. A run by hand on this host is refused when the
//! config's `lab.allow` does not name it; a scheduled run also needs the
//! list; a remote run needs it to name every target as ssh resolves it.

use std::path::Path;

use super::PipelineError;
use crate::config::Config;
use crate::remote::ssh::Ssh;
use crate::remote::target::Target;

/// Why this host runs scenarios: the guard is stricter for a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// A run started by hand: refused only when the config has a `lab`
    /// section that does not name this host.
    ByHand,
    /// A scheduled service: needs a config whose `lab.allow` names this host.
    Scheduled,
}

/// The guard for a run on the host named `host`.
pub fn this_host(
    config: Option<(&Path, &Config)>,
    occasion: Occasion,
    host: &str,
) -> Result<(), PipelineError> {
    let (path, cfg) = match (config, occasion) {
        (Some(c), _) => c,
        (None, Occasion::ByHand) => return Ok(()),
        (None, Occasion::Scheduled) => {
            return Err(PipelineError::LabNeedsConfig { targets: false });
        }
    };
    let lab = match (&cfg.lab, occasion) {
        (Some(lab), _) => lab.clone(),
        (None, Occasion::Scheduled) => crate::lab::Lab::default(),
        (None, Occasion::ByHand) => return Ok(()),
    };
    lab.check(host).map_err(|why| PipelineError::LabRefused {
        config: path.to_path_buf(),
        why,
    })
}

/// The guard for remote runs, before any connection: every target's host,
/// as ssh would resolve it with its config (`ssh -G`, which does not
/// connect), must be on the config's `lab.allow` list.
pub fn targets(
    config: Option<(&Path, &Config)>,
    targets: &[Target],
    ssh: &Ssh,
) -> Result<(), PipelineError> {
    let Some((path, config)) = config else {
        return Err(PipelineError::LabNeedsConfig { targets: true });
    };
    let lab = config.lab.clone().unwrap_or_default();
    let mut refused = Vec::new();
    for t in targets {
        let why = match ssh.resolve(t) {
            Err(e) => Some(e),
            Ok(real) if real.eq_ignore_ascii_case(&t.host) => lab.check(&t.host).err(),
            Ok(real) => lab
                .check(&real)
                .err()
                .map(|why| format!("target `{}` is an ssh alias for `{real}`: {why}", t.host)),
        };
        refused.extend(why);
    }
    if refused.is_empty() {
        return Ok(());
    }
    Err(PipelineError::LabRefusedTargets {
        config: path.to_path_buf(),
        refused,
    })
}
