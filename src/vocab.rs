//! The shared vocabulary: the few closed sets and text forms that scenarios,
//! records, telemetry, backends and reports all speak.
//!
//! It is a leaf (it uses no other module of the crate) so that any layer may
//! name a platform, a hop kind, a fidelity or a duration without depending on
//! the layer that happens to define its richest use. Before it existed these
//! lived in `scenario`, which made every reader of a platform name depend on
//! the scenario format.

pub mod duration_text;

use std::fmt;

use serde::{Deserialize, Serialize};

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

/// Kinds of hop a chain has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HopKind {
    /// A message carrying the artifact arriving in the user's mailbox
    /// (delivery by email only; it comes before the file).
    Mail,
    /// The artifact file landing on disk with its origin.
    File,
    /// The opener starting with the file.
    Open,
    /// A process of the chain starting another.
    Spawn,
}

/// Fidelity of a run: the opener emulated by the stage program, or real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fidelity {
    /// The stage program plays the opener.
    Emulated,
    /// The host's real application or mechanism opens the file.
    Real,
}

impl Fidelity {
    /// The word the record and `--fidelity` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Fidelity::Emulated => "emulated",
            Fidelity::Real => "real",
        }
    }
}
