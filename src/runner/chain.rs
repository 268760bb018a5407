//! Interpreting a plan's acting steps on this host: delivering the
//! artifact, opening it, and waiting for the chain. Each step's effect
//! outside the run directory is journaled before the step acts, so a crash
//! after any step leaves a journal `chainproof cleanup` can finish; the
//! rest lies in the run directory. The decisions (which opener, which
//! mount, which profile) were made by the plan: a handler only does what
//! its step says.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::journal::{Entry, Journal};
use super::plan::{
    ArtifactStep, Effect, MountAt, MountStep, OpenStep, OriginMark, Plan, Profile, Program, Step,
    mount_var,
};
use super::{OpenerMatchOwned, State, prepare, serve};
use crate::capture::Capture;
use crate::platform::effects;
use crate::record::RunStatus;
use crate::stage;

pub(super) type Failure = (RunStatus, String);

fn failed(reason: impl Into<String>) -> Failure {
    (RunStatus::Failed, reason.into())
}

/// One run of a plan on this host.
pub(super) struct Run<'a> {
    pub plan: &'a Plan,
    pub journal: &'a Journal,
    pub entry: &'a mut Entry,
    pub capture: &'a Capture,
    pub state: &'a mut State,
}

impl Run<'_> {
    /// Runs the plan's acting steps in order, each journaled before it
    /// acts; stops at the first that fails.
    pub async fn execute(&mut self) -> Result<(), Failure> {
        let plan = self.plan;
        for step in plan.acting() {
            journal_effects(step, self.entry, self.journal)?;
            self.act(step).await?;
        }
        Ok(())
    }

    async fn act(&mut self, step: &Step) -> Result<(), Failure> {
        let workdir = self.state.workdir.clone();
        match step {
            Step::CreateRunDir { downloads, .. } => std::fs::create_dir_all(downloads)
                .map_err(|e| failed(format!("create {downloads}: {e}"))),
            Step::StageProgram { name, does, .. } => {
                prepare::stage_copy(&workdir, name, does.instruction())
                    .map(drop)
                    .map_err(failed)
            }
            Step::BuildArtifact(a) => self.build(a),
            Step::Serve { name, note } => {
                let bytes = self.state.bytes.take().unwrap_or_default();
                let server = serve::Server::start(bytes, name, note.as_deref()).await;
                self.state.server = Some(server.map_err(failed)?);
                Ok(())
            }
            Step::Download { dir, .. } => {
                let server = self
                    .state
                    .server
                    .take()
                    .ok_or_else(|| failed("download: nothing is served"))?;
                let d = server.download(Path::new(dir)).await.map_err(failed)?;
                self.state.origin = Some((d.url, d.referrer));
                self.state.artifact = Some((d.path, Vec::new()));
                Ok(())
            }
            Step::Copy { path } => {
                let bytes = self.state.bytes.take().unwrap_or_default();
                std::fs::write(path, &bytes).map_err(|e| failed(format!("write {path}: {e}")))?;
                self.state.artifact = Some((PathBuf::from(path), Vec::new()));
                Ok(())
            }
            Step::SendMail(m) => {
                let bytes = self.state.bytes.take().unwrap_or_default();
                let mail = super::deliver::send_mail(m, &bytes, &self.plan.token)
                    .await
                    .map_err(failed)?;
                self.state.mail = Some(mail);
                Ok(())
            }
            Step::Extract(x) => {
                super::deliver::extract(x, &self.plan.token)
                    .await
                    .map_err(failed)?;
                self.state.extracted = Some((PathBuf::from(&x.member), x.tool.clone()));
                Ok(())
            }
            Step::MarkOrigin { path, mark } => {
                self.mark_origin(Path::new(path), *mark);
                Ok(())
            }
            Step::MakeExecutable { path } => {
                prepare::set_executable(Path::new(path)).map_err(failed)
            }
            Step::StageFile { path, text, .. } => {
                let path = PathBuf::from(path);
                prepare::write_payload(&path, text).map_err(failed)?;
                self.state.payloads.push(path);
                Ok(())
            }
            Step::Mount(m) => self.mount(m),
            Step::Profile(p) => self.profile(p),
            Step::Open(o) => self.open(o),
            Step::Receive(o) => self.receive(o).await,
            Step::Wait { proof, timeout } => {
                let child = self
                    .state
                    .child
                    .as_mut()
                    .ok_or_else(|| failed("wait: the opener was not started"))?;
                wait_for_chain(
                    child,
                    &self.plan.token,
                    proof.as_deref().map(Path::new),
                    *timeout,
                    &mut self.state.settled_at,
                )
                .await
            }
            Step::Stop { .. } | Step::Collect { .. } | Step::Clean { .. } => Ok(()),
        }
    }

    fn build(&mut self, a: &ArtifactStep) -> Result<(), Failure> {
        let stage = if a.embeds_stage() {
            let image =
                stage::own_image().map_err(|e| failed(format!("find the stage program: {e}")))?;
            Some(
                std::fs::read(&image)
                    .map_err(|e| failed(format!("read {}: {e}", image.display())))?,
            )
        } else {
            None
        };
        let bytes = crate::artifact::build::build(&a.input(stage.as_deref())).map_err(failed)?;
        self.state.bytes = Some(bytes);
        Ok(())
    }

    /// A mark that cannot be set is a warning in the record, not a failure:
    /// the chain still runs, and the report says the file lacks its origin.
    fn mark_origin(&mut self, path: &Path, mark: OriginMark) {
        let Some((url, referrer)) = self.state.origin.clone() else {
            self.state
                .warnings
                .push("no download origin to mark: the file was not downloaded".into());
            return;
        };
        match serve::mark_origin(path, mark, &url, &referrer) {
            Ok(marks) => {
                if let Some((_, set)) = self.state.artifact.as_mut() {
                    *set = marks;
                }
            }
            Err(e) => self.state.warnings.push(e),
        }
    }

    fn mount(&mut self, m: &MountStep) -> Result<(), Failure> {
        let at = match &m.at {
            MountAt::Dir(dir) => Some(PathBuf::from(dir)),
            MountAt::DriveLetter => None,
        };
        let image = PathBuf::from(&m.image);
        let mounted = effects::this_host()
            .mount(
                &image,
                at.as_deref(),
                &[(stage::ENV_TOKEN, &self.plan.token)],
            )
            .map_err(failed)?;
        self.state
            .vars
            .set("mount", mount_var(&mounted.point.display().to_string()));
        self.state.mount = Some((image, mounted.point, mounted.method));
        Ok(())
    }

    fn profile(&mut self, p: &Profile) -> Result<(), Failure> {
        match p {
            Profile::Libreoffice { dir } => {
                crate::artifact::odt::write_throwaway_profile(Path::new(dir))
                    .map_err(|e| failed(format!("write a throw-away profile in {dir}: {e}")))
            }
            Profile::TrustedLocation { key, add, dir, .. } => {
                for argv in add {
                    run_checked(argv)
                        .map_err(|e| failed(format!("add the temporary Trusted Location: {e}")))?;
                }
                self.state.warnings.push(format!(
                    "made {dir} a temporary Office Trusted Location ({key}) so the macro runs despite the Mark-of-the-Web; cleanup deletes it"
                ));
                Ok(())
            }
        }
    }

    /// The mail client saving the attachment of the message before a real
    /// opener takes over (a disk image the desktop mounts): it runs to its
    /// end, and is ground truth but not the opener.
    async fn receive(&mut self, o: &OpenStep) -> Result<(), Failure> {
        let opener = self.state.opener.take();
        self.open(o)?;
        self.state.opener = opener;
        self.state.opened_at = None;
        let mut child = self
            .state
            .child
            .take()
            .ok_or_else(|| failed("the mail client was not started"))?;
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .map_err(|_| failed("the mail client did not save the attachment within 30 s"))?
            .map_err(|e| failed(format!("wait for the mail client: {e}")))?;
        if !status.success() {
            return Err(failed(format!(
                "the mail client could not save the attachment ({status}); see opener.log"
            )));
        }
        Ok(())
    }

    fn open(&mut self, o: &OpenStep) -> Result<(), Failure> {
        let workdir = self.state.workdir.clone();
        let (mut cmd, opener) = match &o.program {
            Program::Stage {
                name, args, starts, ..
            } => {
                let exe = prepare::stage_copy(&workdir, name, starts.as_deref()).map_err(failed)?;
                let mut c = tokio::process::Command::new(&exe);
                crate::platform::host::start_as(&mut c, name);
                c.args(args);
                (c, OpenerMatchOwned::Pid(0, name.clone()))
            }
            Program::Real { template, .. } => {
                // Rendered again: a drive letter is known only once mounted.
                let argv = self.state.vars.render_all(template).map_err(failed)?;
                let (program, args) = argv
                    .split_first()
                    .ok_or_else(|| failed("the opener's command is empty"))?;
                let mut c = tokio::process::Command::new(program);
                c.args(args);
                (c, OpenerMatchOwned::Image(self.plan.opener.clone()))
            }
        };
        for dir in &o.dirs {
            std::fs::create_dir_all(dir).map_err(|e| failed(format!("create {dir}: {e}")))?;
        }
        let log =
            std::fs::File::create(&o.log).map_err(|e| failed(format!("create {}: {e}", o.log)))?;
        let log2 = log
            .try_clone()
            .map_err(|e| failed(format!("share {}: {e}", o.log)))?;
        cmd.current_dir(&o.cwd)
            .envs(o.env.iter().map(|(k, v)| (k, v)))
            .env(stage::ENV_TOKEN, &self.plan.token)
            .env(stage::ENV_REPORT, &o.report)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .kill_on_drop(false);
        crate::platform::host::own_process_group(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| failed(format!("start the opener: {e}")))?;
        let pid = child.id().unwrap_or_default();
        self.capture.add_root(pid);
        self.state.opener = Some(match opener {
            OpenerMatchOwned::Pid(_, name) => OpenerMatchOwned::Pid(pid, name),
            image => image,
        });
        self.state.opened_at = Some(Instant::now());
        self.state.child = Some(child);
        Ok(())
    }
}

/// Adds what `step` will leave outside the run directory to the journal
/// entry and writes it, before the step acts. A step that leaves nothing
/// outside the run directory needs no new entry: removing the directory,
/// which the entry already names, undoes it.
fn journal_effects(step: &Step, entry: &mut Entry, journal: &Journal) -> Result<(), Failure> {
    let effects = step.effects();
    if effects.is_empty() {
        return Ok(());
    }
    for effect in effects {
        match effect {
            Effect::Mount { handle } => entry.mount_point = Some(PathBuf::from(handle)),
            Effect::RegistryKey(key) => entry.registry_keys.push(key),
            Effect::OfficeSockets => {
                // Sockets from a second before the open on are the run's.
                let since = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs().saturating_sub(1))
                    .unwrap_or(0);
                entry.office_since_unix = Some(since);
            }
        }
    }
    journal
        .write(entry)
        .map_err(|e| failed(format!("write the journal: {e}")))
}

/// Runs `argv` to completion; its stderr is the error when it fails.
fn run_checked(argv: &[String]) -> Result<(), String> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "empty command".to_string())?;
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("start {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
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
                    crate::vocab::duration_text::render(timeout)
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests;
