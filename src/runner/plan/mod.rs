//! The plan of one scenario variant as data: for one platform, one
//! fidelity, one run token and one run directory, the template variables
//! (built here, once) and the ordered steps a run takes, from creating the
//! run directory to removing it, each holding everything needed to execute
//! it and to print it.
//!
//! Pure: no I/O, no clock, no `cfg(target_os)`. What differs between
//! platforms is chosen here from the [`Platform`] value, so the Windows and
//! macOS plans are built and tested on Linux. `run --dry-run` prints a plan
//! (`text`), `build` takes its artifact step, and the runner interprets it
//! step by step. Probing the host (is the application installed, can FUSE
//! mount) is not planning and stays with the runner.

mod build;
mod deliver;
mod step;
#[cfg(test)]
mod tests;
mod text;

pub use build::{Skip, make};
pub use step::{
    ArtifactStep, Effect, ExtractStep, LiveSource, MailStep, MountAt, MountStep, OpenStep,
    OriginMark, Profile, Program, StandInDoes, Step, Undo,
};
pub use text::{plan, render};

use std::time::Duration;

use crate::scenario::template::Vars;
use crate::vocab::{Fidelity, Platform};

/// What a run of one scenario variant does, in order.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Scenario id.
    pub scenario: String,
    /// Scenario title.
    pub title: String,
    /// The platform planned for.
    pub platform: Platform,
    /// The fidelity chosen.
    pub fidelity: Fidelity,
    /// The run token.
    pub token: String,
    /// The run directory, in the platform's path syntax.
    pub workdir: String,
    /// The template variables, every one the variant may use.
    pub vars: Vars,
    /// The chain the open should start, rendered: one argv per process.
    pub chain: Vec<Vec<String>>,
    /// The image name (or pattern) of the process that opens the file.
    pub opener: String,
    /// Longest the chain may take from the open.
    pub timeout: Duration,
    /// Programs the real opener needs on the host (probed by the runner).
    pub requires: Vec<String>,
    /// What the run will say in its record whatever happens.
    pub warnings: Vec<String>,
    /// The steps, in order; the finishing ones ([`Step::finishes`]) run on
    /// every way out, the others until one fails.
    pub steps: Vec<Step>,
}

impl Plan {
    /// The steps that act, up to the end of the chain.
    pub fn acting(&self) -> &[Step] {
        let end = self
            .steps
            .iter()
            .position(Step::finishes)
            .unwrap_or(self.steps.len());
        &self.steps[..end]
    }

    /// The steps that end the run, on every path out.
    pub fn finishing(&self) -> &[Step] {
        &self.steps[self.acting().len()..]
    }

    /// The artifact step (every plan has exactly one).
    pub fn artifact(&self) -> Option<&ArtifactStep> {
        self.steps.iter().find_map(|s| match s {
            Step::BuildArtifact(a) => Some(a),
            _ => None,
        })
    }

    /// The mount step, if the run mounts an image.
    pub fn mount(&self) -> Option<&MountStep> {
        self.steps.iter().find_map(|s| match s {
            Step::Mount(m) => Some(m),
            _ => None,
        })
    }

    /// The plan with its message sent to the lab's mail server `server`
    /// (`host:port`) instead of a loopback listener; unchanged for `None`.
    pub fn with_mail_server(mut self, server: Option<&str>) -> Plan {
        for step in &mut self.steps {
            if let Step::SendMail(m) = step {
                m.server = server.map(str::to_string);
            }
        }
        self
    }

    /// Every effect outside the run directory the acting steps leave,
    /// in order: what the journal must hold before each acts.
    pub fn effects(&self) -> Vec<Effect> {
        self.acting().iter().flat_map(Step::effects).collect()
    }
}

/// Where a platform keeps the run directory, as a dry run shows it.
pub fn workdir(platform: Platform, token: &str) -> String {
    match platform {
        Platform::Linux => format!("/tmp/chainproof-{token}"),
        Platform::Macos => format!("$TMPDIR/chainproof-{token}"),
        Platform::Windows => format!("%TEMP%\\chainproof-{token}"),
    }
}

/// The user's name as a plan for another host shows it (a dry run,
/// `build`): the platform's own variable for it.
pub fn user_placeholder(platform: Platform) -> &'static str {
    match platform {
        Platform::Windows => "%USERNAME%",
        Platform::Linux | Platform::Macos => "$USER",
    }
}

/// Joins a folder and a name with the platform's separator.
pub fn join(platform: Platform, dir: &str, name: &str) -> String {
    let sep = if platform == Platform::Windows {
        '\\'
    } else {
        '/'
    };
    format!("{dir}{sep}{name}")
}

/// The mount point's folder name for an image: its file name without the
/// extension, as a desktop names the volume's folder.
pub fn mount_dir(file_name: &str) -> String {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
    stem.replace(['/', '\\'], "_")
}

/// `{mount}` for a mount point: a Windows drive root `E:\` becomes `E:`, so
/// `{mount}\Setup.exe` is `E:\Setup.exe`.
pub fn mount_var(mount_point: &str) -> String {
    match mount_point.strip_suffix('\\') {
        Some(drive) if drive.len() == 2 && drive.ends_with(':') => drive.to_string(),
        _ => mount_point.to_string(),
    }
}
