//! `chainproof-build.json`: what a build folder holds and what a chain run
//! by hand from it must leave, read back by `check-build`. Versioned, and
//! strict (`deny_unknown_fields`) so a typo in a hand-edited copy is named
//! rather than ignored.

use serde::{Deserialize, Serialize};

use crate::vocab::Platform;

/// The manifest's file name in the build folder.
pub const FILE: &str = "chainproof-build.json";
/// The manifest version this code writes and reads.
pub const VERSION: u32 = 1;

/// A build folder's manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Its format version ([`VERSION`]).
    pub version: u32,
    /// The run token in every name and command line.
    pub token: String,
    /// The platform built for.
    pub platform: Platform,
    /// The run directory on the lab host.
    pub workdir: String,
    /// One entry per scenario whose lure was written.
    pub scenarios: Vec<Entry>,
}

/// One scenario of the folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Scenario id.
    pub id: String,
    /// Scenario title.
    pub title: String,
    /// The lure.
    pub lure: FileEntry,
    /// Every other file the chain needs.
    #[serde(default)]
    pub files: Vec<FileEntry>,
    /// How the lure is opened.
    pub open: Open,
    /// The chain the open starts: one argv per process.
    pub chain: Vec<Vec<String>>,
    /// The file the last hop writes, if any.
    pub proof: Option<Proof>,
}

/// A file of the folder and where it goes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Its path in the folder, `/`-separated.
    pub file: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Where it goes on the lab host.
    pub place: String,
    /// Whether it must be executable there.
    #[serde(default)]
    pub executable: bool,
}

/// How a user opens the lure.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Open {
    /// The image name of the process that opens it.
    pub opener: String,
    /// The real opener's command line, when the scenario has one.
    pub command: Option<Vec<String>>,
    /// Variables that command runs with.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// In words.
    pub how: String,
}

/// The proof a chain leaves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    /// Its path on the lab host.
    pub path: String,
    /// Text it must hold, if the chain writes one (else it may be empty).
    pub contains: Option<String>,
}
