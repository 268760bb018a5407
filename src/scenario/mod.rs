//! Scenario files: what one benign T1204.002 simulation does and what the
//! defender is expected to see.
//!
//! This module owns the scenario format (documented in `docs/scenarios.md`),
//! loading it with errors that name file, line, column and field, and the
//! semantic checks that run before anything executes. It must not execute,
//! build or touch the host: it only describes.

mod check;
mod load;
pub mod template;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::artifact::ArtifactKind;

pub use load::{LoadError, Loaded, load_paths, load_source};

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

/// An operating-system family a variant targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux desktops and servers.
    Linux,
    /// macOS.
    Macos,
    /// Windows.
    Windows,
}

impl Platform {
    /// Every platform, in report order.
    pub const ALL: [Platform; 3] = [Platform::Linux, Platform::Macos, Platform::Windows];

    /// The platform this binary runs on, if it is one chainproof knows.
    pub fn current() -> Option<Platform> {
        match std::env::consts::OS {
            "linux" => Some(Platform::Linux),
            "macos" => Some(Platform::Macos),
            "windows" => Some(Platform::Windows),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::Linux => "linux",
            Platform::Macos => "macos",
            Platform::Windows => "windows",
        })
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
    /// A file the last hop writes (a template): the chain is complete when it
    /// exists, even if the opener keeps running as office applications do.
    /// Without it, the chain is complete when the opener exits.
    #[serde(default)]
    pub proof: Option<String>,
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
}

/// How the artifact reaches the host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// `http`: a real download from the harness's loopback server; `copy`: written in place.
    pub via: Via,
    /// Set the origin mark a browser sets (xattrs, Zone.Identifier, quarantine).
    #[serde(default = "yes")]
    pub mark_origin: bool,
}

fn yes() -> bool {
    true
}

/// Delivery mechanisms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// HTTP GET from the harness's own server on 127.0.0.1.
    Http,
    /// Written directly into the download folder.
    Copy,
}

/// How the artifact is opened: by an emulated opener, for real, or either.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Open {
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
}

/// Throw-away application profiles the harness can prepare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileKind {
    /// A LibreOffice user installation that allows document macros.
    Libreoffice,
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
}

/// Kinds of hop a chain has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HopKind {
    /// The artifact file landing on disk with its origin.
    File,
    /// The opener starting with the file.
    Open,
    /// A process of the chain starting another.
    Spawn,
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

/// Fidelity of a run: the opener emulated by the stage program, or real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Fidelity {
    /// The stage program plays the opener.
    Emulated,
    /// The host's real application or mechanism opens the file.
    Real,
}

impl Variant {
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

/// A scenario as loaded, with where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// File path, or `<embedded>/<name>` for the built-in set.
    pub path: PathBuf,
    /// The file's text, kept for hashing and error locations.
    pub text: String,
}

/// Durations written as `500ms`, `30s`, `5m`, `1h`.
pub mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Parses `<number><unit>` with unit `ms`, `s`, `m` or `h`.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("`{text}` has no unit (ms, s, m, h)"))?;
        let (number, unit) = text.split_at(split);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` does not start with a whole number"))?;
        let ms = match unit {
            "ms" => n,
            "s" => n.saturating_mul(1_000),
            "m" => n.saturating_mul(60_000),
            "h" => n.saturating_mul(3_600_000),
            _ => return Err(format!("`{text}` has unknown unit `{unit}` (ms, s, m, h)")),
        };
        Ok(Duration::from_millis(ms))
    }

    /// Renders a duration in the largest exact unit.
    pub fn render(d: Duration) -> String {
        let ms = d.as_millis();
        match ms {
            0 => "0s".to_string(),
            _ if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
            _ if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
            _ if ms.is_multiple_of(1_000) => format!("{}s", ms / 1_000),
            _ => format!("{ms}ms"),
        }
    }

    /// serde: serialize as text.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&render(*d))
    }

    /// serde: deserialize from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::duration_text::{parse, render};
    use std::time::Duration;

    #[test]
    fn durations_parse_and_render() {
        for (text, ms) in [
            ("500ms", 500),
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h", 3_600_000),
        ] {
            assert_eq!(parse(text), Ok(Duration::from_millis(ms)), "{text}");
            assert_eq!(render(Duration::from_millis(ms)), text);
        }
        for bad in ["5", "m", "5 minutes", "-1s", "1.5s"] {
            assert!(parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
