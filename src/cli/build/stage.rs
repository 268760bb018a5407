//! Where `build` finds the stage program for a platform: the chainproof
//! binary built for it, which disk images and downloaded programs embed.
//!
//! The order is: `--stage FILE`; the environment variable
//! `CHAINPROOF_STAGE_<PLATFORM>`; this host's own image when the platform is
//! this host's; a file beside the running binary named as a release would
//! ship it (`chainproof-windows.exe`, `chainproof-macos`,
//! `chainproof-linux`); cargo's layout around the running binary
//! (`<target>/<profile>/chainproof` →
//! `<target>/<triple>/{profile, stage, release, debug}/chainproof[.exe]`), which is
//! where `cargo build --target <triple>` leaves it. Pure given its inputs
//! (the environment is passed in), so the search is tested on a temporary
//! layout. It never builds anything: it says how.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::vocab::Platform;

/// Where a stage program came from, as said to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--stage FILE`.
    Flag,
    /// `CHAINPROOF_STAGE_<PLATFORM>`.
    Env(String),
    /// This host's own running binary.
    Own,
    /// A release-named file beside the running binary.
    Beside,
    /// Cargo's output folder for a target triple.
    Cargo,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("--stage"),
            Source::Env(var) => write!(f, "${var}"),
            Source::Own => f.write_str("this chainproof binary"),
            Source::Beside => f.write_str("beside this binary"),
            Source::Cargo => f.write_str("cargo's target folder"),
        }
    }
}

/// A stage program found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file.
    pub path: PathBuf,
    /// Where it came from.
    pub source: Source,
}

/// No stage program for a platform: where the search looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound {
    /// The platform.
    pub platform: Platform,
    /// Every place looked at, in order.
    pub looked: Vec<String>,
}

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "no chainproof stage program built for {}; looked at:",
            self.platform
        )?;
        for place in &self.looked {
            writeln!(f, "  {place}")?;
        }
        f.write_str(&how_to_make(self.platform))
    }
}

/// How a user makes the stage program for `platform`.
pub fn how_to_make(platform: Platform) -> String {
    match platform {
        Platform::Windows => "make one with the mingw toolchain (on Debian or Ubuntu), from the \
             source tree:\n  rustup target add x86_64-pc-windows-gnu\n  \
             apt-get install gcc-mingw-w64-x86-64\n  \
             cargo build --target x86_64-pc-windows-gnu --bin chainproof\n\
             it is then found under target/x86_64-pc-windows-gnu/, or pass --stage FILE"
            .to_string(),
        // Linking for macOS needs Apple's SDK, whose licence allows it on
        // Apple hardware only; the project cannot ship it or a binary built
        // with it.
        Platform::Macos => "a macOS stage program needs a Mac (or Apple's SDK, which this \
             project cannot ship). On a Mac, from the source tree:\n  \
             cargo build --bin chainproof\n\
             then copy target/debug/chainproof here and pass --stage FILE (or name it \
             chainproof-macos beside this binary)"
            .to_string(),
        Platform::Linux => "build chainproof on a Linux host (cargo build --bin chainproof) \
             and pass --stage FILE (or name it chainproof-linux beside this binary)"
            .to_string(),
    }
}

/// The environment variable naming a platform's stage program.
pub fn env_var(platform: Platform) -> String {
    format!("CHAINPROOF_STAGE_{}", platform.to_string().to_uppercase())
}

/// The file name a release ships a platform's stage program under.
pub fn release_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Windows => "chainproof-windows.exe",
        Platform::Macos => "chainproof-macos",
        Platform::Linux => "chainproof-linux",
    }
}

/// The target triples cargo builds a platform's stage program for.
fn triples(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Windows => &["x86_64-pc-windows-gnu"],
        Platform::Macos => &["x86_64-apple-darwin", "aarch64-apple-darwin"],
        Platform::Linux => &["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"],
    }
}

/// Looks for the stage program of `platform`: `flag` is `--stage`, `env`
/// reads an environment variable, `exe` is the running binary and `host`
/// this host's platform.
pub fn locate(
    platform: Platform,
    flag: Option<&Path>,
    env: impl Fn(&str) -> Option<OsString>,
    exe: &Path,
    host: Option<Platform>,
) -> Result<Found, NotFound> {
    let found = |path: PathBuf, source| Ok(Found { path, source });
    if let Some(path) = flag {
        // Checked by the caller, which names the path if it is missing.
        return found(path.to_path_buf(), Source::Flag);
    }
    let var = env_var(platform);
    if let Some(value) = env(&var).filter(|v| !v.is_empty()) {
        return found(PathBuf::from(value), Source::Env(var));
    }
    if host == Some(platform) {
        return found(exe.to_path_buf(), Source::Own);
    }
    let mut looked = vec![format!("${var} (not set)")];
    for (path, source) in candidates(platform, exe) {
        if path.is_file() {
            return found(path, source);
        }
        looked.push(path.display().to_string());
    }
    Err(NotFound { platform, looked })
}

/// The files to try after the flag and the environment, in order.
fn candidates(platform: Platform, exe: &Path) -> Vec<(PathBuf, Source)> {
    let mut out = Vec::new();
    let Some(profile_dir) = exe.parent() else {
        return out;
    };
    out.push((profile_dir.join(release_name(platform)), Source::Beside));
    let Some(target) = profile_dir.parent() else {
        return out;
    };
    let profile = profile_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A binary built with `--target` sits one level deeper
    // (`<target>/<triple>/<profile>/`); its siblings are under `<target>`.
    let mut roots = vec![target.to_path_buf()];
    let named = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    if named(target).is_some_and(|n| n.matches('-').count() >= 2)
        && let Some(up) = target.parent()
    {
        roots.insert(0, up.to_path_buf());
    }
    let program = if platform == Platform::Windows {
        "chainproof.exe"
    } else {
        "chainproof"
    };
    // `stage` is the profile ci/test builds the Windows program with.
    let mut profiles = vec![profile];
    for p in ["stage", "release", "debug"] {
        if !profiles.iter().any(|q| q == p) {
            profiles.push(p.to_string());
        }
    }
    for root in &roots {
        for triple in triples(platform) {
            for p in &profiles {
                let path = root.join(triple).join(p).join(program);
                if !out.iter().any(|(q, _)| *q == path) {
                    out.push((path, Source::Cargo));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    fn touch(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
        std::fs::write(path, b"x")?;
        Ok(())
    }

    /// Each source wins over the ones after it, in the documented order.
    #[test]
    fn the_search_order_is_flag_env_own_beside_cargo() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("target");
        let exe = target.join("debug").join("chainproof");
        touch(&exe)?;
        let win = Platform::Windows;
        let linux = Some(Platform::Linux);
        // Nothing there yet: every place is named, with the variable first.
        let e = locate(win, None, no_env, &exe, linux)
            .err()
            .ok_or("found")?;
        assert_eq!(e.looked[0], "$CHAINPROOF_STAGE_WINDOWS (not set)");
        assert!(
            e.looked
                .iter()
                .any(|l| l.ends_with("chainproof-windows.exe"))
        );
        let release = target.join("x86_64-pc-windows-gnu/release/chainproof.exe");
        assert!(e.looked.contains(&release.display().to_string()), "{e}");
        assert!(
            e.to_string()
                .contains("rustup target add x86_64-pc-windows-gnu")
        );
        // Cargo: the same profile, then stage, then release, then debug.
        touch(&release)?;
        let got = locate(win, None, no_env, &exe, linux).map_err(|e| e.to_string())?;
        assert_eq!((got.path, got.source), (release, Source::Cargo));
        // ci/test's `stage` profile comes before release.
        let stage = target.join("x86_64-pc-windows-gnu/stage/chainproof.exe");
        touch(&stage)?;
        let got = locate(win, None, no_env, &exe, linux).map_err(|e| e.to_string())?;
        assert_eq!(got.path, stage);
        let same = target.join("x86_64-pc-windows-gnu/debug/chainproof.exe");
        touch(&same)?;
        let got = locate(win, None, no_env, &exe, linux).map_err(|e| e.to_string())?;
        assert_eq!(got.path, same);
        // A release-named file beside the binary comes before cargo's.
        let beside = target.join("debug/chainproof-windows.exe");
        touch(&beside)?;
        let got = locate(win, None, no_env, &exe, linux).map_err(|e| e.to_string())?;
        assert_eq!((got.path, got.source), (beside, Source::Beside));
        // The environment before that, the flag before everything.
        let env = |v: &str| (v == "CHAINPROOF_STAGE_WINDOWS").then(|| OsString::from("/e"));
        let got = locate(win, None, env, &exe, linux).map_err(|e| e.to_string())?;
        assert_eq!(got.path, PathBuf::from("/e"));
        let flag = Path::new("/f");
        let got = locate(win, Some(flag), env, &exe, linux).map_err(|e| e.to_string())?;
        assert_eq!((got.path.as_path(), got.source), (flag, Source::Flag));
        // This host's platform uses this binary.
        let got = locate(Platform::Linux, None, no_env, &exe, linux).map_err(|e| e.to_string())?;
        assert_eq!((got.path, got.source), (exe, Source::Own));
        Ok(())
    }

    /// A binary built with `--target` finds its siblings one level up, and
    /// macOS is looked for under both Apple triples.
    #[test]
    fn a_cross_built_binary_and_macos_triples() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("target");
        let exe = target.join("x86_64-unknown-linux-gnu/release/chainproof");
        touch(&exe)?;
        let arm = target.join("aarch64-apple-darwin/debug/chainproof");
        let host = Some(Platform::Linux);
        let e = locate(Platform::Macos, None, no_env, &exe, host)
            .err()
            .ok_or("found")?;
        assert!(e.to_string().contains("needs a Mac"), "{e}");
        assert!(
            e.looked.contains(
                &target
                    .join("x86_64-apple-darwin/release/chainproof")
                    .display()
                    .to_string()
            ),
            "{e}"
        );
        touch(&arm)?;
        let got = locate(Platform::Macos, None, no_env, &exe, host).map_err(|e| e.to_string())?;
        assert_eq!(got.path, arm);
        Ok(())
    }
}
