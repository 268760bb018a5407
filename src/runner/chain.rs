//! Delivering the artifact, opening it, and waiting for the chain: the part
//! of a scenario run that touches the host, every side effect of which is
//! journaled or lies in the run directory, so cleanup can undo it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::journal::{Entry, Journal};
use super::{OpenerMatchOwned, State, mount, prepare, serve, vars};
use crate::capture::Capture;
use crate::record::RunStatus;
use crate::scenario::{Fidelity, ProfileKind, StandIn, Variant, Via};
use crate::stage;

pub(super) type Failure = (RunStatus, String);

fn failed(reason: impl Into<String>) -> Failure {
    (RunStatus::Failed, reason.into())
}

pub(super) async fn execute(
    variant: &Variant,
    fidelity: Fidelity,
    token: &str,
    state: &mut State,
    journal: &Journal,
    entry: &mut Entry,
    capture: &Capture,
) -> Result<(), Failure> {
    let workdir = state.workdir.clone();
    let downloads = workdir.join("Downloads");
    std::fs::create_dir_all(&downloads)
        .map_err(|e| failed(format!("create {}: {e}", downloads.display())))?;
    let mut vars = vars(token, &workdir);
    let name = vars.render(&variant.artifact.name).map_err(failed)?;
    vars.set("artifact", downloads.join(&name).display().to_string());
    for program in &variant.programs {
        let starts = match variant.stand_in(program) {
            StandIn::Starts(i) => Some(vars.render_all(&variant.chain[i].run).map_err(failed)?),
            StandIn::ReadsArtifact => None,
            StandIn::Viewer => Some(Vec::new()),
        };
        prepare::stage_copy(&workdir, program, starts.as_deref()).map_err(failed)?;
    }
    let carried = variant
        .carried_step()
        .map(|i| vars.render_all(&variant.chain[i].run))
        .transpose()
        .map_err(failed)?;
    let platform = crate::scenario::Platform::current().unwrap_or(crate::scenario::Platform::Linux);
    let bytes = prepare::artifact_bytes(
        &variant.artifact,
        platform,
        &vars,
        token,
        &workdir,
        carried.as_deref(),
    )
    .map_err(failed)?;
    let path = match variant.delivery.via {
        Via::Http => {
            let d = serve::download(bytes, &name, &downloads)
                .await
                .map_err(failed)?;
            let marks = if variant.delivery.mark_origin {
                serve::mark_origin(&d.path, &d.url, &d.referrer).unwrap_or_else(|e| {
                    state.warnings.push(e);
                    Vec::new()
                })
            } else {
                Vec::new()
            };
            state.artifact = Some((d.path.clone(), marks));
            d.path
        }
        Via::Copy => {
            let p = downloads.join(&name);
            std::fs::write(&p, &bytes)
                .map_err(|e| failed(format!("write {}: {e}", p.display())))?;
            if variant.delivery.mark_origin {
                state
                    .warnings
                    .push("a copied file has no download origin: no origin marks were set".into());
            }
            state.artifact = Some((p.clone(), Vec::new()));
            p
        }
    };
    if variant.artifact.kind == crate::artifact::ArtifactKind::Reg {
        // regedit writes this key when the chain runs; cleanup deletes it.
        entry
            .registry_keys
            .push(crate::platform::windows::reg_key(token));
        journal
            .write(entry)
            .map_err(|e| failed(format!("write the journal: {e}")))?;
    }
    if variant.artifact.kind == crate::artifact::ArtifactKind::Executable {
        // What the user does before starting a downloaded program on Linux
        // or macOS ("allow executing file as program").
        prepare::set_executable(&path).map_err(failed)?;
    }
    state.payloads = prepare::stage_files(variant, &vars, &workdir).map_err(failed)?;
    state.proof = variant
        .proof
        .as_ref()
        .map(|p| vars.render(p).map(PathBuf::from))
        .transpose()
        .map_err(failed)?;
    let report = workdir.join(".stage-reports.jsonl");
    let mut cmd = match fidelity {
        Fidelity::Emulated => {
            let e = variant
                .open
                .emulated
                .as_ref()
                .ok_or_else(|| failed("no emulated opener"))?;
            // By association, the application starts the first step itself.
            let starts = if variant.open.by_association {
                Some(vars.render_all(&variant.chain[0].run).map_err(failed)?)
            } else {
                None
            };
            let exe =
                prepare::stage_copy(&workdir, &e.as_name, starts.as_deref()).map_err(failed)?;
            let mut c = tokio::process::Command::new(&exe);
            #[cfg(unix)]
            c.arg0(&e.as_name);
            c.args(vars.render_all(&e.args).map_err(failed)?);
            c
        }
        Fidelity::Real => {
            let r = variant
                .open
                .real
                .as_ref()
                .ok_or_else(|| failed("no real opener"))?;
            if r.mount {
                // macOS mounts under /Volumes, as the Finder does (and as
                // detection content expects); elsewhere inside the run.
                let wanted = if cfg!(target_os = "macos") {
                    PathBuf::from(format!("/Volumes/chainproof-{token}"))
                } else {
                    workdir.join("media").join(prepare::mount_dir(&name))
                };
                let handle = mount::handle(&path, &wanted);
                entry.mount_point = Some(handle.clone());
                journal
                    .write(entry)
                    .map_err(|e| failed(format!("write the journal: {e}")))?;
                let (method, mp) =
                    mount::mount(&path, &wanted, &[(stage::ENV_TOKEN, token)]).map_err(failed)?;
                state.mount = Some((path.clone(), mp.clone(), method.name()));
                state.mount_handle = Some(handle);
                vars.set("mount", mount_var(&mp));
            }
            if r.profile == Some(ProfileKind::OfficeTrustedLocation) {
                trust_run_directory(&r.image, token, &workdir, entry, journal, state)?;
            }
            if r.profile == Some(ProfileKind::Libreoffice) {
                // Its IPC socket lands in /tmp whatever we do; cleanup removes it.
                let since = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs().saturating_sub(1))
                    .unwrap_or(0);
                entry.office_since_unix = Some(since);
                journal
                    .write(entry)
                    .map_err(|e| failed(format!("write the journal: {e}")))?;
                let profile = workdir.join("profile");
                crate::artifact::odt::write_throwaway_profile(&profile).map_err(|e| {
                    failed(format!(
                        "write a throw-away profile in {}: {e}",
                        profile.display()
                    ))
                })?;
                vars.set("profile", profile.display().to_string());
            }
            let argv = vars.render_all(&r.command).map_err(failed)?;
            let mut c = tokio::process::Command::new(&argv[0]);
            c.args(&argv[1..]);
            if r.profile == Some(ProfileKind::Libreoffice) {
                // Keep the application's caches and settings out of the user's home.
                let home = workdir.join("home");
                let tmp = workdir.join("tmp");
                for dir in [&home, &tmp] {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| failed(format!("create {}: {e}", dir.display())))?;
                }
                c.env("HOME", &home)
                    .env("XDG_CONFIG_HOME", home.join(".config"))
                    .env("XDG_CACHE_HOME", home.join(".cache"))
                    .env("TMPDIR", &tmp);
            }
            c
        }
    };
    let log_path = workdir.join("opener.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| failed(format!("create {}: {e}", log_path.display())))?;
    let log2 = log
        .try_clone()
        .map_err(|e| failed(format!("share {}: {e}", log_path.display())))?;
    cmd.current_dir(&downloads)
        .env(stage::ENV_TOKEN, token)
        .env(stage::ENV_REPORT, &report)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .kill_on_drop(false);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| failed(format!("start the opener: {e}")))?;
    let pid = child.id().unwrap_or_default();
    capture.add_root(pid);
    state.opener = Some(
        match (fidelity, &variant.open.emulated, &variant.open.real) {
            (Fidelity::Emulated, Some(e), _) => OpenerMatchOwned::Pid(pid, e.as_name.clone()),
            (_, _, Some(r)) => OpenerMatchOwned::Image(r.image.clone()),
            _ => OpenerMatchOwned::Pid(pid, String::new()),
        },
    );
    state.opened_at = Some(Instant::now());
    wait_for_chain(
        &mut child,
        token,
        state.proof.as_deref(),
        variant.timeout,
        &mut state.settled_at,
    )
    .await
}

/// Waits until the proof file exists (then a short grace for the last
/// processes to exit and be seen), or the timeout. An opener that exits is
/// not the end while the chain's processes still run (launchers such as dex
/// hand off and leave); once none carrying the token is left, the chain is
/// over, proof or not.
async fn wait_for_chain(
    child: &mut tokio::process::Child,
    token: &str,
    proof: Option<&Path>,
    timeout: Duration,
    settled_at: &mut Option<Instant>,
) -> Result<(), Failure> {
    let deadline = Instant::now() + timeout;
    let mut quiet_since: Option<Instant> = None;
    loop {
        if proof.is_some_and(Path::exists) {
            *settled_at = Some(Instant::now());
            tokio::time::sleep(Duration::from_millis(300)).await;
            return Ok(());
        }
        let opener_gone = matches!(child.try_wait(), Ok(Some(_)));
        if opener_gone && super::cleanup::token_processes(token).is_empty() {
            let since = *quiet_since.get_or_insert_with(Instant::now);
            // Give a straggling proof write or exit event half a second; a
            // chain with a proof file gets longer, since a desktop shell may
            // have taken it over (a hand-off carries no token to see).
            let grace = if proof.is_some() {
                Duration::from_secs(3)
            } else {
                Duration::from_millis(500)
            };
            if since.elapsed() > grace {
                *settled_at = Some(since);
                return Ok(());
            }
        } else {
            quiet_since = None;
        }
        if Instant::now() >= deadline {
            return Err((
                RunStatus::TimedOut,
                format!(
                    "the chain did not finish within {}",
                    crate::scenario::duration_text::render(timeout)
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Makes the run directory a temporary Office Trusted Location (Windows), so
/// the document's macro runs despite the Mark-of-the-Web: journalled first,
/// deleted at cleanup, and named in the record's warnings.
fn trust_run_directory(
    image: &str,
    token: &str,
    workdir: &Path,
    entry: &mut Entry,
    journal: &Journal,
    state: &mut State,
) -> Result<(), Failure> {
    use crate::platform::windows::{OfficeApp, trusted_location_add, trusted_location_key};
    let app = OfficeApp::for_image(image).unwrap_or(OfficeApp::Word);
    entry.registry_keys.push(trusted_location_key(app, token));
    journal
        .write(entry)
        .map_err(|e| failed(format!("write the journal: {e}")))?;
    let dir = workdir.display().to_string();
    for argv in trusted_location_add(app, token, &dir) {
        let out = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| failed(format!("start {}: {e}", argv[0])))?;
        if !out.status.success() {
            return Err(failed(format!(
                "add the temporary Trusted Location: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    state.warnings.push(format!(
        "made {dir} a temporary Office Trusted Location ({}) so the macro runs despite the Mark-of-the-Web; cleanup deletes it",
        trusted_location_key(app, token)
    ));
    Ok(())
}

/// `{mount}` for a mount point: a Windows drive root `E:\` becomes `E:`, so
/// `{mount}\Setup.exe` is `E:\Setup.exe`.
pub(super) fn mount_var(mp: &Path) -> String {
    let text = mp.display().to_string();
    match text.strip_suffix('\\') {
        Some(drive) if drive.len() == 2 && drive.ends_with(':') => drive.to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_drive_root_mount_point_renders_without_its_separator() {
        use std::path::Path;
        assert_eq!(super::mount_var(Path::new("E:\\")), "E:");
        assert_eq!(super::mount_var(Path::new("/w/media/x")), "/w/media/x");
    }
}
