//! `chainproof check-build`: judges chains run by hand from a folder
//! `chainproof build` wrote. It reads the folder's manifest, checks that
//! every file there is the one built (a changed lure is a different test),
//! and that each scenario's proof file exists and holds what its chain
//! writes — on the lab host, or in a folder the proofs were copied back to.
//!
//! It does not ask a backend: a hand-run chain has no recorded ground truth
//! (pids, times) to match alerts against; that is left to a later change.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::build::manifest::{self, FILE, Manifest, VERSION};
use crate::exit;

/// Arguments of `check-build`.
#[derive(Debug, clap::Args)]
pub struct CheckBuildArgs {
    /// The folder `chainproof build` wrote (holding chainproof-build.json).
    #[arg(value_name = "DIR")]
    pub folder: PathBuf,
    /// Judge only these scenarios (default: every one in the manifest).
    #[arg(long = "scenario", value_name = "ID")]
    pub scenarios: Vec<String>,
    /// A folder holding the proof files copied back from the lab host, by
    /// file name, instead of their places on this host.
    #[arg(long, value_name = "DIR")]
    pub proofs: Option<PathBuf>,
}

/// Why a manifest cannot be read.
#[derive(Debug, thiserror::Error)]
enum ManifestError {
    /// The file cannot be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not a manifest (serde names the field, line and column).
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A version this code does not read.
    #[error("{path}: field `version` is {found}; this chainproof reads version {VERSION}")]
    Version {
        /// The file.
        path: String,
        /// The version found.
        found: u32,
    },
}

/// Reads the manifest of the build folder `dir`.
fn load(dir: &Path) -> Result<Manifest, ManifestError> {
    {
        let path = dir.join(FILE);
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: shown.clone(),
            source,
        })?;
        let m: Manifest = serde_json::from_str(&text).map_err(|source| ManifestError::Parse {
            path: shown.clone(),
            source,
        })?;
        if m.version != VERSION {
            return Err(ManifestError::Version {
                path: shown,
                found: m.version,
            });
        }
        Ok(m)
    }
}

/// Runs `chainproof check-build`: 0 when every proof is there, 1 when a
/// chain left none (or not what it writes), 2 when the folder is not what
/// was built.
pub fn check_build(args: CheckBuildArgs) -> u8 {
    let m = match load(&args.folder) {
        Ok(m) => m,
        Err(e) => {
            errln!("error: {e}");
            return exit::INVALID;
        }
    };
    let unknown: Vec<&String> = args
        .scenarios
        .iter()
        .filter(|id| !m.scenarios.iter().any(|e| &e.id == *id))
        .collect();
    if !unknown.is_empty() {
        errln!("error: {FILE} has no scenario with id {unknown:?}");
        return exit::INVALID;
    }
    let chosen = m
        .scenarios
        .iter()
        .enumerate()
        .filter(|(_, e)| args.scenarios.is_empty() || args.scenarios.contains(&e.id));
    let chosen: Vec<(usize, &manifest::Entry)> = chosen.collect();
    // One token names every scenario's proof alike: a proof there cannot
    // say which chain wrote it, so such scenarios are judged one at a time.
    let mut proofs: Vec<&str> = chosen
        .iter()
        .filter_map(|(_, e)| e.proof.as_ref().map(|p| p.path.as_str()))
        .collect();
    proofs.sort_unstable();
    if let Some(w) = proofs.windows(2).find(|w| w[0] == w[1]) {
        errln!(
            "error: several scenarios of {FILE} write the same proof {}: judge one at a time \
             (--scenario ID), removing the proof between runs",
            w[0]
        );
        return exit::INVALID;
    }
    let mut tampered = false;
    let mut failed = false;
    for (i, e) in chosen {
        let files = std::iter::once(("lure".to_string(), &e.lure)).chain(
            e.files
                .iter()
                .enumerate()
                .map(|(j, f)| (format!("files[{j}]"), f)),
        );
        for (field, f) in files {
            if let Err(why) = same_file(&args.folder, f) {
                tampered = true;
                errln!("error: {FILE}: scenarios[{i}] ({}).{field}: {why}", e.id);
            }
        }
        match judge(e, args.proofs.as_deref()) {
            Ok(said) => outln!("passed\t{}\t{said}", e.id),
            Err(said) => {
                failed = true;
                outln!("failed\t{}\t{said}", e.id);
            }
        }
    }
    if tampered {
        exit::INVALID
    } else if failed {
        exit::POLICY
    } else {
        exit::OK
    }
}

/// Whether a file of the folder is still the one built.
fn same_file(folder: &Path, f: &manifest::FileEntry) -> Result<(), String> {
    let path = folder.join(&f.file);
    let bytes = std::fs::read(&path).map_err(|e| format!("file {}: {e}", path.display()))?;
    let got = hex::encode(Sha256::digest(&bytes));
    if got == f.sha256 {
        Ok(())
    } else {
        Err(format!(
            "sha256: {} is {got}, the build wrote {}",
            path.display(),
            f.sha256
        ))
    }
}

/// The scenario's proof, where the chain wrote it or where it was copied.
fn judge(e: &manifest::Entry, copied: Option<&Path>) -> Result<String, String> {
    let Some(proof) = &e.proof else {
        return Ok("no proof file to check (the chain writes none)".into());
    };
    let path = match copied {
        // The place is in the lab host's path syntax, whichever it is.
        Some(dir) => dir.join(proof.path.rsplit(['/', '\\']).next().unwrap_or(&proof.path)),
        None => PathBuf::from(&proof.path),
    };
    let bytes =
        std::fs::read(&path).map_err(|err| format!("no proof at {}: {err}", path.display()))?;
    match &proof.contains {
        Some(want) if !String::from_utf8_lossy(&bytes).contains(want.as_str()) => Err(format!(
            "proof {} does not hold {want}: the chain did not write it",
            path.display()
        )),
        _ => Ok(format!("proof {}", path.display())),
    }
}
