//! The carryable folder `build` writes around the lures: every other file a
//! chain needs (the scripts the lures start, the throw-away LibreOffice
//! profile), where each goes on the lab host, a README saying how to place
//! and open each lure and where its proof appears, and the manifest
//! `chainproof-build.json` that `check-build` judges a hand-run chain by.
//!
//! The files come from the run plan's own steps (`Step::StageFile`,
//! `Step::Profile`), rendered exactly as a run renders them: there is no
//! second generator of what a chain needs.

use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::manifest::{self, Entry, FileEntry, Open, Proof};
use crate::runner::plan::{Plan, Profile, Program, Step};
use crate::scenario::Scenario;
use crate::vocab::Platform;

/// The folder under the build folder mirroring the run directory.
pub const RUN_DIR: &str = "run-dir";

/// Writes the files `plan` stages in the run directory under
/// `out/run-dir/`, and returns the scenario's manifest entry. `real` is the
/// plan at real fidelity, when the variant has a real opener: its open step
/// is how a user opens the lure on the lab host.
pub fn support(
    out: &Path,
    s: &Scenario,
    plan: &Plan,
    real: Option<&Plan>,
    lure: (&str, &[u8]),
) -> Result<Entry, String> {
    let platform = plan.platform;
    let mut files = Vec::new();
    for step in &plan.steps {
        if let Step::StageFile { path, text, .. } = step {
            let rel = relative(platform, &plan.workdir, path)?;
            files.push(write(out, &rel, path, text.as_bytes())?);
        }
    }
    let mut open = Open {
        opener: plan.opener.clone(),
        command: None,
        env: Vec::new(),
        how: how(s, plan),
    };
    let mut before = Vec::new();
    if let Some(real) = real {
        for step in &real.steps {
            match step {
                Step::Profile(Profile::Libreoffice { dir }) => {
                    let rel = relative(platform, &real.workdir, dir)?;
                    let local = out.join(RUN_DIR).join(&rel);
                    crate::artifact::odt::write_throwaway_profile(&local)
                        .map_err(|e| format!("write the LibreOffice profile: {e}"))?;
                    let xcu = "user/registrymodifications.xcu";
                    let bytes = std::fs::read(local.join(xcu))
                        .map_err(|e| format!("read back the profile: {e}"))?;
                    files.push(FileEntry {
                        file: format!("{RUN_DIR}/{rel}/{xcu}"),
                        sha256: hex::encode(Sha256::digest(&bytes)),
                        place: crate::runner::plan::join(
                            platform,
                            dir,
                            &xcu.replace('/', sep(platform)),
                        ),
                        executable: false,
                    });
                }
                Step::Profile(Profile::TrustedLocation { add, dir, .. }) => {
                    let cmds: Vec<String> = add.iter().map(|a| a.join(" ")).collect();
                    before.push(format!(
                        "first make {dir} an Office Trusted Location ({}); delete the key afterwards",
                        cmds.join("; ")
                    ));
                }
                Step::Open(o) => {
                    if let Program::Real { argv, .. } = &o.program {
                        open.command = Some(argv.clone());
                        open.env.clone_from(&o.env);
                        open.how = format!("run, as the user, from {}: {}", o.cwd, argv.join(" "));
                        if !o.dirs.is_empty() {
                            before.push(format!("create the folders {}", o.dirs.join(", ")));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if !before.is_empty() {
        before.push(open.how);
        open.how = before.join("; then ");
    }
    let proof = plan.steps.iter().find_map(|s| match s {
        Step::Wait { proof, .. } => proof.clone(),
        _ => None,
    });
    // Only a chain that echoes the token writes it; `touch` leaves it empty.
    let echoes = plan
        .chain
        .iter()
        .flatten()
        .any(|a| a.contains(&format!("echo {}", plan.token)));
    let (name, bytes) = lure;
    Ok(Entry {
        id: s.id.clone(),
        title: s.title.clone(),
        lure: FileEntry {
            file: name.to_string(),
            sha256: hex::encode(Sha256::digest(bytes)),
            place: lure_place(plan, name),
            executable: false,
        },
        files,
        open,
        chain: plan.chain.clone(),
        proof: proof.map(|path| Proof {
            path,
            contains: echoes.then(|| plan.token.clone()),
        }),
    })
}

fn sep(platform: Platform) -> &'static str {
    if platform == Platform::Windows {
        "\\"
    } else {
        "/"
    }
}

/// `path` relative to the run directory `workdir`, with `/` separators.
fn relative(platform: Platform, workdir: &str, path: &str) -> Result<String, String> {
    let prefix = format!("{workdir}{}", sep(platform));
    path.strip_prefix(&prefix)
        .map(|rel| rel.replace('\\', "/"))
        .ok_or_else(|| format!("{path} is not inside the run directory {workdir}"))
}

fn write(out: &Path, rel: &str, place: &str, bytes: &[u8]) -> Result<FileEntry, String> {
    let local = out.join(RUN_DIR).join(rel);
    if let Some(dir) = local.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    }
    std::fs::write(&local, bytes).map_err(|e| format!("write {}: {e}", local.display()))?;
    // What the runner's staged files are (prepare::write_payload): 0755.
    crate::platform::host::set_executable(&local)
        .map_err(|e| format!("make {} executable: {e}", local.display()))?;
    Ok(FileEntry {
        file: format!("{RUN_DIR}/{rel}"),
        sha256: hex::encode(Sha256::digest(bytes)),
        place: place.to_string(),
        executable: true,
    })
}

/// Where the lure lands: where the plan's delivery puts it.
fn lure_place(plan: &Plan, name: &str) -> String {
    plan.steps
        .iter()
        .find_map(|s| match s {
            Step::Download { path, .. } | Step::Copy { path } => Some(path.clone()),
            _ => None,
        })
        .unwrap_or_else(|| {
            let downloads = crate::runner::plan::join(plan.platform, &plan.workdir, "Downloads");
            crate::runner::plan::join(plan.platform, &downloads, name)
        })
}

/// How a user opens the lure without a real opener's command line.
fn how(s: &Scenario, plan: &Plan) -> String {
    let by_association = s
        .variants
        .get(plan.platform)
        .is_some_and(|v| v.open.by_association);
    match plan.chain.first().and_then(|argv| argv.first()) {
        Some(first) if by_association => format!(
            "double-click it in the file manager (its association starts {first}; a file \
             manager that asks whether to run it is answered \"Run\")"
        ),
        _ => format!("open it as a user would, with {}", plan.opener),
    }
}

/// The README of the folder.
pub fn readme(m: &manifest::Manifest) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "chainproof build for {} - run token {}\n\nEverything here is benign: each lure starts \
         a short chain that writes one proof file in the run directory {}.\nFiles under {RUN_DIR}/ \
         go into that run directory; each lure goes where its section says.\n",
        m.platform, m.token, m.workdir
    );
    for e in &m.scenarios {
        let _ = writeln!(t, "== {}: {} ==", e.id, e.title);
        let _ = writeln!(t, "1. Create the folder {}.", m.workdir);
        for f in &e.files {
            let mode = if f.executable { " (executable)" } else { "" };
            let _ = writeln!(t, "   Copy {}  ->  {}{mode}", f.file, f.place);
        }
        let _ = writeln!(t, "2. Put the lure {}  ->  {}", e.lure.file, e.lure.place);
        let _ = writeln!(t, "3. Open it: {}", e.open.how);
        for (k, v) in &e.open.env {
            let _ = writeln!(t, "   with {k}={v}");
        }
        let chain: Vec<String> = e.chain.iter().map(|a| a.join(" ")).collect();
        let _ = writeln!(t, "4. The chain it starts: {}", chain.join("  ->  "));
        match &e.proof {
            Some(p) => {
                let holds = p
                    .contains
                    .as_deref()
                    .map_or(String::new(), |c| format!(", holding {c}"));
                let _ = writeln!(t, "5. Proof: {} appears{holds}.", p.path);
            }
            None => {
                let _ = writeln!(t, "5. Proof: this chain writes no proof file.");
            }
        }
        let _ = writeln!(t);
    }
    let _ = writeln!(
        t,
        "Judge the run afterwards, on the lab host:\n  chainproof check-build <this folder>\n\
         or, having copied the proof files back into a folder P:\n  chainproof check-build \
         <this folder> --proofs P\nEither checks every file here against {} and each \
         scenario's proof file. Scenarios built with one token write the same proof file: \
         run and judge them one at a time (--scenario ID), removing the proof between runs.",
        manifest::FILE
    );
    t
}
