//! `chainproof build`: writes the artifacts of scenarios for a platform into
//! a folder, without running anything — to check them with other tools, or
//! to carry them to a lab host by hand.

mod folder;
mod format;
pub(super) mod manifest;
mod stage;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{PlatformArg, load};
use crate::artifact::build;
use crate::exit;
use crate::runner::plan;
use crate::vocab::{Fidelity, Platform};

/// Arguments of `build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Scenario ids to build (default: all with a variant for the platform).
    pub scenario: Vec<String>,
    /// Scenario files or folders to load instead of the built-in set.
    #[arg(long, value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Platform whose variants to build (default: this host's).
    #[arg(long, value_enum)]
    pub platform: Option<PlatformArg>,
    /// Folder to write the artifacts into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Run token in file names and command lines (default: a new one).
    #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
    pub token: Option<String>,
    /// The run directory the commands refer to on the target host (default:
    /// C:\chainproof-TOKEN on Windows, /tmp/chainproof-TOKEN elsewhere).
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// The chainproof binary built for the target platform, embedded in disk
    /// images and programs (default: this binary, for this host's platform).
    #[arg(long, value_name = "FILE")]
    pub stage: Option<PathBuf>,
}

fn parse_token(text: &str) -> Result<String, String> {
    let ok = text.len() == 12
        && text.starts_with("cp")
        && text[2..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
    if ok {
        Ok(text.to_string())
    } else {
        Err("a token is `cp` and 10 lowercase hex digits, e.g. cp0123456789".into())
    }
}

/// Runs `chainproof build`.
pub fn build_command(args: BuildArgs) -> u8 {
    let loaded = match load(&args.scenarios) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let Some(platform) = args.platform.map(Platform::from).or_else(Platform::current) else {
        errln!("error: unknown host platform; pass --platform");
        return exit::INVALID;
    };
    let unknown: Vec<&String> = args
        .scenario
        .iter()
        .filter(|id| !loaded.iter().any(|l| &l.scenario.id == *id))
        .collect();
    if !unknown.is_empty() {
        errln!("error: no scenario with id {unknown:?}");
        return exit::INVALID;
    }
    let token = match &args.token {
        Some(t) => t.clone(),
        None => crate::token::new(),
    };
    // Files run by a shell keep `$TMPDIR` quoted, unexpanded: on macOS the
    // default is a literal path (Windows expands %TEMP% in cmd and WSH).
    let workdir = args.workdir.clone().unwrap_or_else(|| match platform {
        // PowerShell -File, PDF readers and shortcuts do not expand %TEMP%.
        Platform::Windows => format!("C:\\chainproof-{token}"),
        Platform::Macos | Platform::Linux => format!("/tmp/chainproof-{token}"),
    });
    let stage = match find_stage(platform, args.stage.as_deref()) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let stage_bytes = stage.as_ref().ok().map(|(_, bytes)| bytes.as_slice());
    // Where the search looked is said once, at the first artifact needing it.
    let noted = std::cell::Cell::new(false);
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        errln!("error: create {}: {e}", args.out.display());
        return exit::RUNTIME;
    }
    let mut failures = 0;
    let mut entries = Vec::new();
    let user = plan::user_placeholder(platform);
    for l in &loaded {
        let s = &l.scenario;
        if !args.scenario.is_empty() && !args.scenario.contains(&s.id) {
            continue;
        }
        // The artifact is what the plan's artifact step says, for the
        // target's run directory; the opener does not change it.
        let plan = match plan::make(s, platform, None, &token, &workdir, user) {
            Ok(p) => Some(p),
            Err(plan::Skip::NoVariant) => continue,
            Err(plan::Skip::NoOpener(_)) => None,
            Err(plan::Skip::NotHere(_, e) | plan::Skip::Invalid(_, e)) => {
                failures += 1;
                errln!("error: {} ({platform}): {e}", s.id);
                continue;
            }
        };
        let result = plan
            .as_ref()
            .and_then(|p| p.artifact().cloned())
            .ok_or_else(|| "the variant has no opener to plan for".to_string())
            .and_then(|a| {
                if let (true, Err(not_found)) = (a.embeds_stage(), &stage) {
                    if !noted.replace(true) {
                        errln!("note: {not_found}");
                    }
                    return Err(format!(
                        "{} embeds chainproof built for {platform}, and none was found \
                         (see above): pass --stage FILE",
                        a.kind.describe()
                    ));
                }
                let bytes = build::build(&a.input(stage_bytes))?;
                Ok((a.name, a.kind, bytes))
            });
        let written = result.and_then(|(name, kind, bytes)| {
            let path = args.out.join(&name);
            std::fs::write(&path, &bytes).map_err(|e| format!("write {}: {e}", path.display()))?;
            // How a user opens it on the lab host: the real opener, if any.
            let real = plan::make(s, platform, Some(Fidelity::Real), &token, &workdir, user).ok();
            let entry = match &plan {
                Some(p) => folder::support(&args.out, s, p, real.as_ref(), (&name, &bytes))?,
                None => return Err("the variant has no opener to plan for".into()),
            };
            Ok((path, kind, bytes, entry))
        });
        match written {
            Ok((path, kind, bytes, entry)) => {
                outln!(
                    "{}\t{}\t{}\t{} bytes\tsha256 {}",
                    s.id,
                    serde_json::to_value(kind)
                        .ok()
                        .and_then(|k| k.as_str().map(String::from))
                        .unwrap_or_default(),
                    path.display(),
                    bytes.len(),
                    hex::encode(Sha256::digest(&bytes))
                );
                entries.push(entry);
            }
            Err(e) => {
                failures += 1;
                errln!("error: {} ({platform}): {e}", s.id);
            }
        }
    }
    let m = manifest::Manifest {
        version: manifest::VERSION,
        token,
        platform,
        workdir,
        scenarios: entries,
    };
    if let Err(e) = write_folder_files(&args.out, &m) {
        errln!("error: {e}");
        return exit::RUNTIME;
    }
    errln!(
        "wrote {} and README.txt in {}: where each file goes and how to open each lure",
        manifest::FILE,
        args.out.display()
    );
    if failures > 0 {
        exit::RUNTIME
    } else {
        exit::OK
    }
}

/// The stage program for `platform` and its bytes, or where the search
/// looked (the artifacts that need none are still written). `Err` is the
/// exit code of a `--stage` (or variable) that cannot be read.
fn find_stage(
    platform: Platform,
    flag: Option<&Path>,
) -> Result<Result<(PathBuf, Vec<u8>), stage::NotFound>, u8> {
    let exe = crate::stage::own_image().unwrap_or_default();
    let found = match stage::locate(
        platform,
        flag,
        |v| std::env::var_os(v),
        &exe,
        Platform::current(),
    ) {
        Ok(found) => found,
        Err(not_found) => return Ok(Err(not_found)),
    };
    match std::fs::read(&found.path) {
        // This binary is, by definition, built for this host.
        Ok(bytes) if found.source == stage::Source::Own => Ok(Ok((found.path, bytes))),
        Ok(bytes) => match format::check(platform, &found.path, &bytes) {
            Ok(()) => Ok(Ok((found.path, bytes))),
            Err(e) => {
                errln!("error: the stage program from {}: {e}", found.source);
                Err(exit::INVALID)
            }
        },
        Err(e) => {
            errln!(
                "error: read the stage program {} (from {}): {e}",
                found.path.display(),
                found.source
            );
            Err(exit::INVALID)
        }
    }
}

/// The manifest and the README beside the lures.
fn write_folder_files(out: &Path, m: &manifest::Manifest) -> Result<(), String> {
    let json = serde_json::to_string_pretty(m).map_err(|e| format!("encode the manifest: {e}"))?;
    let path = out.join(manifest::FILE);
    std::fs::write(&path, json).map_err(|e| format!("write {}: {e}", path.display()))?;
    let path = out.join("README.txt");
    std::fs::write(&path, folder::readme(m)).map_err(|e| format!("write {}: {e}", path.display()))
}
