//! Scenario files: what one benign T1204.002 simulation does and what the
//! defender is expected to see.
//!
//! This module owns the scenario format (documented in `docs/scenarios.md`),
//! loading it with errors that name file, line, column and field, and the
//! semantic checks that run before anything executes. It must not execute,
//! build or touch the host: it only describes.

mod check;
mod check_delivery;
mod delivery;
mod load;
mod runnable;
pub mod template;
mod text;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::artifact::ArtifactKind;

use crate::vocab::{Fidelity, HopKind, Platform, duration_text};
pub use delivery::{Delivery, Encryption, MailSpec, Protect, Via};
pub use load::{LoadError, Loaded, load_paths, load_paths_as_ran, load_source};

/// One scenario file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Stable identifier, lowercase with dashes; also the file's stem by convention.
    pub id: String,
    /// One-line human title.
    pub title: String,
    /// ATT&CK technique the scenario simulates, e.g. `T1204.002`.
    pub technique: String,
    /// What happens, for people reading reports.
    #[serde(default)]
    pub description: String,
    /// Per-platform variants; at least one.
    pub variants: Variants,
    /// What the defender must see.
    pub expect: Expect,
}

/// Per-platform variants of a scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Variants {
    /// Linux variant.
    pub linux: Option<Variant>,
    /// macOS variant.
    pub macos: Option<Variant>,
    /// Windows variant.
    pub windows: Option<Variant>,
}

impl Variants {
    /// The variant for `platform`, if the scenario has one.
    pub fn get(&self, platform: Platform) -> Option<&Variant> {
        match platform {
            Platform::Linux => self.linux.as_ref(),
            Platform::Macos => self.macos.as_ref(),
            Platform::Windows => self.windows.as_ref(),
        }
    }
}

/// One platform's simulation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// The file the user receives.
    pub artifact: ArtifactSpec,
    /// How the file reaches the host.
    pub delivery: Delivery,
    /// How the file is opened.
    pub open: Open,
    /// The processes that follow the open, in order; each is started by the
    /// previous one (the first by the opener).
    pub chain: Vec<Step>,
    /// Extra benign files staged in the run directory before the open, keyed
    /// by file-name template; values name a template in `payloads-benign/`.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Benign stand-ins for the applications a chain starts that the host may
    /// lack (an editor, a browser, a print helper): copies of the stage
    /// program at `{programs}/<name>` that open their arguments and start
    /// nothing.
    #[serde(default)]
    pub programs: Vec<String>,
    /// A file the last hop writes (a template): the chain is complete when it
    /// exists, even if the opener keeps running as office applications do.
    /// Without it, the chain is complete when the opener exits.
    #[serde(default)]
    pub proof: Option<String>,
    /// Rules (ids or titles) expected to fire on this platform's chain, in
    /// addition to `expect.alert.rules`.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Longest the chain may take from the open to its last hop.
    #[serde(default = "default_timeout", with = "duration_text")]
    pub timeout: Duration,
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

/// The artifact to build.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ArtifactSpec {
    /// Format of the artifact.
    pub kind: ArtifactKind,
    /// File-name template; must contain `{token}`.
    pub name: String,
    /// For disk images: the name of the executable inside, a template
    /// containing `{token}`; it is the harness's benign stage program.
    #[serde(default)]
    pub executable: Option<String>,
    /// Index of the chain step whose command the artifact carries, when it
    /// is not the default (the first step, or the second `by_association`).
    #[serde(default)]
    pub carries: Option<usize>,
    /// For a PDF: the address (a template) of an ordinary link on its page.
    /// The document then opens with no action and carries no command: the
    /// reader hands a clicked link to the browser itself, so the opener or
    /// the stand-in before the browser starts it (a negative control).
    #[serde(default)]
    pub link: Option<String>,
    /// For archives (`zip`, `7z`): the file inside, itself an artifact
    /// (not an archive; a disk image is allowed).
    #[serde(default)]
    pub member: Option<Box<ArtifactSpec>>,
    /// For archives: a password, which the lure's text gives the user (the
    /// mail body or the landing page), as campaigns do so that gateways
    /// cannot look inside.
    #[serde(default)]
    pub protect: Option<Protect>,
}

impl ArtifactSpec {
    /// The file a user finally opens: an archive's member, else itself.
    pub fn opened(&self) -> &ArtifactSpec {
        match &self.member {
            Some(m) if self.kind.is_archive() => m.opened(),
            _ => self,
        }
    }

    /// The artifact carries a command, itself or through its member.
    pub fn carries_command(&self) -> bool {
        self.opened().link.is_none() && self.opened().kind.carries_command()
    }
}

/// How the artifact is opened: by an emulated opener, for real, or either.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Open {
    /// The opener starts the first step itself: through the file type's
    /// association (a script handed to its interpreter, a `.reg` file to
    /// regedit) or as its own helper. The artifact then carries the second
    /// step's command, if it carries one.
    #[serde(default)]
    pub by_association: bool,
    /// The harness's stage program copied under an application's name.
    pub emulated: Option<EmulatedOpen>,
    /// A real application or mechanism of the host.
    pub real: Option<RealOpen>,
}

/// An emulated opener.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmulatedOpen {
    /// Image name the stage program takes, e.g. `soffice.bin`, `WINWORD.EXE`.
    #[serde(rename = "as")]
    pub as_name: String,
    /// Arguments after the image; templates.
    #[serde(default)]
    pub args: Vec<String>,
}

/// A real opener.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RealOpen {
    /// Command line (templates); the first element is looked up on `PATH`.
    pub command: Vec<String>,
    /// Basename of the process that opens the file, `*` as wildcard
    /// (e.g. `soffice.bin` when `soffice` is a wrapper script).
    pub image: String,
    /// Programs that must exist for this mode to run; otherwise `not-applicable`.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Mount the artifact (a disk image) read-only first; `{mount}` is its mount point.
    #[serde(default)]
    pub mount: bool,
    /// Prepare a throw-away application profile at `{profile}`.
    #[serde(default)]
    pub profile: Option<ProfileKind>,
    /// Extract the archive's member with the host's real archive tool
    /// first (`unzip`, or `7z` for AES and 7z archives), into a folder
    /// named after the archive beside it, as "Extract Here" does;
    /// `{member}` is the extracted member (and `{mount}` its mount point
    /// when `mount` is set too).
    #[serde(default)]
    pub extract: bool,
}

/// Throw-away application profiles the harness can prepare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileKind {
    /// A LibreOffice user installation that allows document macros.
    Libreoffice,
    /// Microsoft Office (Windows): a temporary Trusted Location for the run
    /// directory, so macros run despite the Mark-of-the-Web; removed at
    /// cleanup, and named in the record.
    #[serde(rename = "office-trusted-location")]
    OfficeTrustedLocation,
}

/// One process of the chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Its command line, as templates; `run[0]` is the image.
    pub run: Vec<String>,
}

/// What the defender must see.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Hops whose telemetry must be found.
    pub observe: Vec<HopKind>,
    /// Alerts expected on the chain.
    #[serde(default)]
    pub alert: Option<AlertExpect>,
    /// A negative control: a legitimate chain that business tools really
    /// produce, on which any alert is a false positive.
    #[serde(default, rename = "no-alert")]
    pub no_alert: bool,
}

/// Alerts expected on a chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertExpect {
    /// Technique the alert should map to.
    #[serde(default)]
    pub technique: Option<String>,
    /// Rule ids or titles expected to fire; empty means any.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Time budget from the hop to the alert; later alerts are `delayed`.
    #[serde(default = "default_within", with = "duration_text")]
    pub within: Duration,
}

fn default_within() -> Duration {
    Duration::from_secs(300)
}

impl Variant {
    /// Index of the chain step whose command the artifact carries: the
    /// first, or the second when the opener starts the first by association.
    /// `None` when the artifact carries no command (a `.reg` file, a note).
    pub fn carried_step(&self) -> Option<usize> {
        let i = self
            .artifact
            .carries
            .unwrap_or(usize::from(self.opener_starts_first()));
        (i < self.chain.len() && self.artifact.carries_command()).then_some(i)
    }

    /// The opener starts the first step itself: by association, or as a
    /// mail client handing the attachment it saved to its application.
    pub fn opener_starts_first(&self) -> bool {
        self.open.by_association || self.client_opens()
    }

    /// The emulated opener is the mail client that received the artifact.
    pub fn client_opens(&self) -> bool {
        self.delivery.via == Via::Email
            && self
                .open
                .emulated
                .as_ref()
                .is_some_and(|e| crate::artifact::handling::mail_client(&e.as_name).is_some())
    }

    /// What the stand-in program `name` (one of [`Variant::programs`]) does.
    pub fn stand_in(&self, name: &str) -> StandIn {
        let plays = self.chain.iter().position(|s| {
            s.run.first().is_some_and(|image| {
                image
                    .strip_prefix("{programs}")
                    .is_some_and(|rest| rest.trim_start_matches(['/', '\\']) == name)
            })
        });
        match plays.map(|i| i + 1) {
            Some(next) if self.carried_step() == Some(next) => StandIn::ReadsArtifact,
            Some(next) if next < self.chain.len() => StandIn::Starts(next),
            _ => StandIn::Viewer,
        }
    }

    /// The fidelity to run: the requested one, or emulated where present.
    pub fn pick_fidelity(&self, wanted: Option<Fidelity>) -> Option<Fidelity> {
        match wanted {
            Some(Fidelity::Emulated) => self.open.emulated.as_ref().map(|_| Fidelity::Emulated),
            Some(Fidelity::Real) => self.open.real.as_ref().map(|_| Fidelity::Real),
            None if self.open.emulated.is_some() => Some(Fidelity::Emulated),
            None => self.open.real.as_ref().map(|_| Fidelity::Real),
        }
    }
}

/// What a stand-in program does when it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandIn {
    /// Starts the chain step with this index itself (an application starting
    /// its helper or the next program).
    Starts(usize),
    /// Starts the command the artifact it opens carries (the next step).
    ReadsArtifact,
    /// Opens its arguments and starts nothing.
    Viewer,
}

/// A scenario as loaded, with where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// File path, or `<embedded>/<name>` for the built-in set.
    pub path: PathBuf,
    /// The file's text, kept for hashing and error locations.
    pub text: String,
}
