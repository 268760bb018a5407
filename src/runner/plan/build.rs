//! Building a [`Plan`]: every decision a run makes (which opener, which
//! mount, which profile, which cleanup) is made here, from the scenario and
//! the [`Platform`] value.

use super::deliver::{delivery, delivery_vars, extract, played_environment, receive};
use super::step::{
    LiveSource, MountAt, MountStep, OpenStep, Profile, Program, StandInDoes, Step, Undo,
};
use super::{Plan, join, mount_dir, mount_var};
use crate::artifact::{ArtifactKind, handling};
use crate::platform::{macos, show, windows};
use crate::scenario::template::Vars;
use crate::scenario::{ProfileKind, RealOpen, Scenario, StandIn, Variant, Via};
use crate::vocab::{Fidelity, Platform};

/// Why a scenario has no plan on a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// It has no variant for the platform.
    NoVariant,
    /// Its variant has no opener of the requested fidelity.
    NoOpener(Option<Fidelity>),
    /// The platform lacks what the variant needs at this fidelity.
    NotHere(Fidelity, String),
    /// A template does not render (validation refuses such scenarios).
    Invalid(Fidelity, String),
}

/// The plan of `s` on `platform` at `fidelity` (`None` prefers emulated)
/// with run token `token`, in run directory `workdir` (in the platform's
/// path syntax), for the user `user` (whose name some applications put in
/// their folders' names).
pub fn make(
    s: &Scenario,
    platform: Platform,
    fidelity: Option<Fidelity>,
    token: &str,
    workdir: &str,
    user: &str,
) -> Result<Plan, Skip> {
    let v = s.variants.get(platform).ok_or(Skip::NoVariant)?;
    let fid = v.pick_fidelity(fidelity).ok_or(Skip::NoOpener(fidelity))?;
    let real = v.open.real.as_ref().filter(|_| fid == Fidelity::Real);
    if real.is_some_and(|r| r.profile == Some(ProfileKind::OfficeTrustedLocation))
        && platform != Platform::Windows
    {
        return Err(Skip::NotHere(
            fid,
            "Microsoft Office's Trusted Locations exist only on Windows".into(),
        ));
    }
    let invalid = |e| Skip::Invalid(fid, e);
    let at = Place::new(platform, token, workdir, user);
    let (vars, name) = variables(v, &at, real).map_err(invalid)?;
    let mut steps = vec![Step::CreateRunDir {
        path: at.workdir.clone(),
        downloads: at.downloads.clone(),
    }];
    steps.extend(stand_ins(v, &at, &vars).map_err(invalid)?);
    steps.extend(delivery(v, &at, &vars, &name).map_err(invalid)?);
    steps.extend(staged_files(v, &at, &vars).map_err(invalid)?);
    if let Some(r) = real.filter(|r| r.extract) {
        steps.push(Step::Extract(
            extract(v, r, &at, &vars, &name).map_err(invalid)?,
        ));
    }
    let (open_steps, opener) = open(v, fid, &at, &vars, &name).map_err(invalid)?;
    steps.extend(open_steps);
    let proof = v
        .proof
        .as_deref()
        .map(|p| vars.render(p))
        .transpose()
        .map_err(invalid)?;
    steps.push(Step::Wait {
        proof,
        timeout: v.timeout,
    });
    steps.extend(finish(&at, &steps));
    let chain = v
        .chain
        .iter()
        .map(|step| vars.render_all(&step.run))
        .collect::<Result<_, _>>()
        .map_err(invalid)?;
    let warnings = match v.delivery.via {
        Via::Copy if v.delivery.mark_origin => {
            vec!["a copied file has no download origin: no origin marks were set".into()]
        }
        _ => Vec::new(),
    };
    Ok(Plan {
        scenario: s.id.clone(),
        title: s.title.clone(),
        platform,
        fidelity: fid,
        token: token.to_string(),
        workdir: at.workdir.clone(),
        vars,
        chain,
        opener,
        timeout: v.timeout,
        requires: real.map(|r| r.requires.clone()).unwrap_or_default(),
        warnings,
        steps,
    })
}

/// The run's folders, in the platform's path syntax.
pub(super) struct Place {
    pub(super) platform: Platform,
    pub(super) token: String,
    pub(super) workdir: String,
    pub(super) downloads: String,
    user: String,
}

impl Place {
    fn new(platform: Platform, token: &str, workdir: &str, user: &str) -> Place {
        Place {
            platform,
            token: token.to_string(),
            workdir: workdir.to_string(),
            downloads: join(platform, workdir, "Downloads"),
            user: user.to_string(),
        }
    }

    /// The run's folders as the applications' folders see them.
    pub(super) fn folders(&self) -> handling::Folders<'_> {
        handling::Folders {
            platform: self.platform,
            workdir: &self.workdir,
            downloads: &self.downloads,
            token: &self.token,
            user: &self.user,
        }
    }

    /// Where the mailbox delivers the message.
    pub(super) fn mailbox(&self) -> String {
        join(
            self.platform,
            &join(self.platform, &self.in_workdir("Mail"), "Inbox"),
            &format!("{}.eml", self.token),
        )
    }

    pub(super) fn in_workdir(&self, name: &str) -> String {
        join(self.platform, &self.workdir, name)
    }

    pub(super) fn program(&self, name: &str) -> String {
        join(self.platform, &self.in_workdir("program"), name)
    }

    /// Where an image named `name` is mounted: macOS under /Volumes, as
    /// the Finder does (and as detection content expects); Windows at the
    /// drive letter it picks; Linux inside the run directory.
    fn mount_at(&self, name: &str) -> MountAt {
        match self.platform {
            Platform::Linux => MountAt::Dir(join(
                self.platform,
                &self.in_workdir("media"),
                &mount_dir(name),
            )),
            Platform::Macos => MountAt::Dir(format!("/Volumes/chainproof-{}", self.token)),
            Platform::Windows => MountAt::DriveLetter,
        }
    }
}

/// The template variables, built once; and the artifact's rendered name.
fn variables(v: &Variant, at: &Place, real: Option<&RealOpen>) -> Result<(Vars, String), String> {
    let mut vars = Vars::default();
    vars.set("token", &at.token)
        .set("workdir", &at.workdir)
        .set("downloads", &at.downloads)
        .set("programs", at.in_workdir("program"));
    let name = vars.render(&v.artifact.name)?;
    delivery_vars(v, at, real, &mut vars, &name)?;
    if real.is_some_and(|r| r.mount) {
        let image = if real.is_some_and(|r| r.extract) {
            vars.render(&v.artifact.opened().name)?
        } else {
            name.clone()
        };
        let mount = match at.mount_at(&image) {
            MountAt::Dir(d) => mount_var(&d),
            // Known once Windows has picked it.
            MountAt::DriveLetter => "<drive>:".to_string(),
        };
        vars.set("mount", mount);
    }
    if real.is_some_and(|r| r.profile == Some(ProfileKind::Libreoffice)) {
        vars.set("profile", at.in_workdir("profile"));
    }
    Ok((vars, name))
}

/// Copies of the stage program standing in for applications the chain
/// starts.
fn stand_ins(v: &Variant, at: &Place, vars: &Vars) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for program in &v.programs {
        let does = match v.stand_in(program) {
            StandIn::Starts(i) => StandInDoes::Starts(vars.render_all(&v.chain[i].run)?),
            StandIn::ReadsArtifact => StandInDoes::ReadsArtifact,
            StandIn::Viewer => StandInDoes::Viewer,
        };
        steps.push(Step::StageProgram {
            name: program.clone(),
            path: at.program(program),
            does,
        });
    }
    Ok(steps)
}

/// The benign payload files, rendered.
fn staged_files(v: &Variant, at: &Place, vars: &Vars) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (file, template) in &v.files {
        let file = vars.render(file)?;
        // Validation allows file names only; refuse anything else here too.
        if file.contains(['/', '\\']) || file == ".." {
            return Err(format!(
                "staged file `{file}` would leave the run directory"
            ));
        }
        let text = crate::payload::get(template)
            .ok_or_else(|| format!("no payload template `{template}`"))
            .and_then(|t| vars.render(t))?;
        steps.push(Step::StageFile {
            path: at.in_workdir(&file),
            template: template.clone(),
            text,
        });
    }
    Ok(steps)
}

/// Mounting, the profile and the opener; and the opener's image name.
fn open(
    v: &Variant,
    fid: Fidelity,
    at: &Place,
    vars: &Vars,
    name: &str,
) -> Result<(Vec<Step>, String), String> {
    let mut steps = Vec::new();
    let mut open = OpenStep {
        program: Program::Real {
            template: Vec::new(),
            argv: Vec::new(),
        },
        cwd: at.downloads.clone(),
        env: Vec::new(),
        dirs: Vec::new(),
        report: at.in_workdir(".stage-reports.jsonl"),
        log: at.in_workdir("opener.log"),
        // regedit writes this key when the chain runs; cleanup deletes it.
        registry_keys: (v.artifact.kind == ArtifactKind::Reg)
            .then(|| windows::reg_key(&at.token))
            .into_iter()
            .collect(),
    };
    let opener = match (fid, &v.open.emulated, &v.open.real) {
        (Fidelity::Emulated, Some(e), _) => {
            // By association (or as a mail client handing on the
            // attachment), the application starts the first step itself.
            let starts = v
                .opener_starts_first()
                .then(|| vars.render_all(&v.chain[0].run))
                .transpose()?;
            (open.env, open.dirs) = played_environment(v, e, at, vars, name);
            open.program = Program::Stage {
                name: e.as_name.clone(),
                path: at.program(&e.as_name),
                args: vars.render_all(&e.args)?,
                starts,
            };
            e.as_name.clone()
        }
        (Fidelity::Real, _, Some(r)) => {
            if v.delivery.via == Via::Email {
                steps.push(receive(v, at, vars, name)?);
            }
            if r.mount {
                let (image, image_name) = match (vars.get("member"), v.delivery.via) {
                    (Some(member), _) => {
                        (member.to_string(), vars.render(&v.artifact.opened().name)?)
                    }
                    (None, Via::Email) => (
                        vars.get("artifact").unwrap_or_default().to_string(),
                        name.to_string(),
                    ),
                    (None, _) => (join(at.platform, &at.downloads, name), name.to_string()),
                };
                let mount_at = at.mount_at(&image_name);
                let handle = match &mount_at {
                    MountAt::Dir(d) => d.clone(),
                    MountAt::DriveLetter => image.clone(),
                };
                steps.push(Step::Mount(MountStep {
                    needs_admin: at.platform == Platform::Windows
                        && windows::mount_needs_admin(&image),
                    image,
                    at: mount_at,
                    handle,
                }));
            }
            match r.profile {
                Some(ProfileKind::Libreoffice) => {
                    steps.push(Step::Profile(Profile::Libreoffice {
                        dir: at.in_workdir("profile"),
                    }));
                    // Keep the application's caches and settings out of the user's home.
                    let home = at.in_workdir("home");
                    let tmp = at.in_workdir("tmp");
                    let sep = |d: &str| join(at.platform, &home, d);
                    open.env = vec![
                        ("HOME".into(), home.clone()),
                        ("XDG_CONFIG_HOME".into(), sep(".config")),
                        ("XDG_CACHE_HOME".into(), sep(".cache")),
                        ("TMPDIR".into(), tmp.clone()),
                    ];
                    open.dirs = vec![home, tmp];
                }
                Some(ProfileKind::OfficeTrustedLocation) => {
                    let app =
                        windows::OfficeApp::for_image(&r.image).unwrap_or(windows::OfficeApp::Word);
                    steps.push(Step::Profile(Profile::TrustedLocation {
                        app,
                        key: windows::trusted_location_key(app, &at.token),
                        add: windows::trusted_location_add(app, &at.token, &at.workdir),
                        dir: at.workdir.clone(),
                    }));
                }
                None => {}
            }
            open.program = Program::Real {
                template: r.command.clone(),
                argv: vars.render_all(&r.command)?,
            };
            r.image.clone()
        }
        _ => return Err("the variant has no opener of the chosen fidelity".into()),
    };
    steps.push(Step::Open(open));
    Ok((steps, opener))
}

/// The finishing steps: undo every effect the acting steps leave, in an
/// order that lets each succeed — unmount first (the mount daemon carries
/// the token and must not be killed under a live mount), end the
/// processes, then read what they left, then remove the run directory.
fn finish(at: &Place, acting: &[Step]) -> Vec<Step> {
    let mut stop = Vec::new();
    for step in acting {
        if let Step::Mount(m) = step {
            let how = match at.platform {
                Platform::Linux => "unmount (fusermount -u / umount)".to_string(),
                Platform::Macos => show(&macos::hdiutil_detach(&m.handle)),
                Platform::Windows => show(&windows::dismount_disk_image(&m.handle)),
            };
            stop.push(Undo::Unmount {
                handle: m.handle.clone(),
                how,
            });
        }
    }
    stop.push(Undo::EndProcesses);
    for effect in acting.iter().flat_map(Step::effects) {
        match effect {
            super::Effect::RegistryKey(k) => stop.push(Undo::DeleteRegistryKey(k)),
            super::Effect::OfficeSockets => stop.push(Undo::OfficeSockets),
            super::Effect::Mount { .. } => {}
        }
    }
    vec![
        Step::Stop { undo: stop },
        Step::Collect {
            stage_reports: at.in_workdir(".stage-reports.jsonl"),
            live: match at.platform {
                Platform::Linux => LiveSource::ProcessConnector,
                Platform::Macos | Platform::Windows => LiveSource::ProcessTable,
            },
        },
        Step::Clean {
            undo: vec![Undo::RemoveRunDir(at.workdir.clone())],
        },
    ]
}
