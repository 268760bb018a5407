//! Building a [`Plan`]: every decision a run makes (which opener, which
//! mount, which profile, which cleanup) is made here, from the scenario and
//! the [`Platform`] value.

use super::step::{
    ArtifactStep, ExtractStep, LiveSource, MailStep, MountAt, MountStep, OpenStep, OriginMark,
    Profile, Program, StandInDoes, Step, Undo,
};
use super::{Plan, join, mount_dir, mount_var};
use crate::artifact::{ArtifactKind, handling};
use crate::platform::{macos, show, windows};
use crate::scenario::template::Vars;
use crate::scenario::{
    ArtifactSpec, Encryption, ProfileKind, RealOpen, Scenario, StandIn, Variant, Via,
};
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
struct Place {
    platform: Platform,
    token: String,
    workdir: String,
    downloads: String,
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
    fn folders(&self) -> handling::Folders<'_> {
        handling::Folders {
            platform: self.platform,
            workdir: &self.workdir,
            downloads: &self.downloads,
            token: &self.token,
            user: &self.user,
        }
    }

    /// Where the mailbox delivers the message.
    fn mailbox(&self) -> String {
        join(
            self.platform,
            &join(self.platform, &self.in_workdir("Mail"), "Inbox"),
            &format!("{}.eml", self.token),
        )
    }

    fn in_workdir(&self, name: &str) -> String {
        join(self.platform, &self.workdir, name)
    }

    fn program(&self, name: &str) -> String {
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
    if let Some(p) = &v.artifact.protect {
        vars.set("password", vars.render(&p.password)?);
    }
    match v.delivery.via {
        // The file the chain opens is the attachment where the client saved it.
        Via::Email => {
            let client = v
                .delivery
                .mail
                .as_ref()
                .and_then(|m| m.client(&v.open))
                .and_then(handling::mail_client)
                .ok_or("a message is opened by a mail client chainproof plays")?;
            let dir = at.folders().save_dir(client);
            vars.set("artifact", join(at.platform, &dir, &name));
            vars.set("message", at.mailbox());
        }
        Via::Http | Via::Copy => {
            vars.set("artifact", join(at.platform, &at.downloads, &name));
        }
    }
    if v.artifact.kind.is_archive() {
        // Where the member lands: beside the archive for a real extraction,
        // where the played archive tool extracts otherwise.
        let played = v
            .open
            .emulated
            .iter()
            .map(|e| &e.as_name)
            .chain(&v.programs)
            .find_map(|n| handling::archive_tool(n));
        let dest = match (real.is_some_and(|r| r.extract), played) {
            (true, _) => Some(extract_dest(at, &name)),
            (false, Some(tool)) if real.is_none() => Some(at.folders().extract_dir(
                tool,
                &archive_folder(v, at),
                &name,
            )),
            _ => None,
        };
        if let Some(dest) = dest {
            let member = vars.render(&v.artifact.opened().name)?;
            vars.set("member", join(at.platform, &dest, &member));
        }
    }
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

/// The artifact step of `spec` (an archive's member nested in it), named
/// `name` (rendered), carrying `carried`.
fn artifact_step(
    spec: &ArtifactSpec,
    at: &Place,
    vars: &Vars,
    name: &str,
    carried: Option<Vec<String>>,
) -> Result<ArtifactStep, String> {
    let executable = spec
        .executable
        .as_ref()
        .map(|e| vars.render(e))
        .transpose()?;
    let opened = spec.opened();
    let registry_key =
        (opened.kind == ArtifactKind::Reg).then(|| crate::artifact::build::reg_key(&at.token));
    let member = match &spec.member {
        Some(m) if spec.kind.is_archive() => {
            let member_name = vars.render(&m.name)?;
            Some(Box::new(artifact_step(
                m,
                at,
                vars,
                &member_name,
                carried.clone(),
            )?))
        }
        _ => None,
    };
    let protect = spec
        .protect
        .as_ref()
        .map(|p| {
            let cipher = match p.encryption {
                Encryption::Zipcrypto => crate::artifact::archive::Encryption::Zipcrypto,
                Encryption::Aes => crate::artifact::archive::Encryption::Aes,
            };
            vars.render(&p.password).map(|pw| (cipher, pw))
        })
        .transpose()?;
    Ok(ArtifactStep {
        kind: spec.kind,
        platform: at.platform,
        name: name.to_string(),
        executable,
        carried: if member.is_some() { None } else { carried },
        registry_key,
        token: at.token.clone(),
        workdir: at.workdir.clone(),
        member,
        protect,
    })
}

/// Building the artifact and getting it onto the host.
fn delivery(v: &Variant, at: &Place, vars: &Vars, name: &str) -> Result<Vec<Step>, String> {
    let path = join(at.platform, &at.downloads, name);
    let carried = v
        .carried_step()
        .map(|i| vars.render_all(&v.chain[i].run))
        .transpose()?;
    let mut steps = vec![Step::BuildArtifact(artifact_step(
        &v.artifact,
        at,
        vars,
        name,
        carried,
    )?)];
    match v.delivery.via {
        Via::Http => {
            steps.push(Step::Serve {
                name: name.to_string(),
                note: vars
                    .get("password")
                    .map(|p| format!("The archive is protected; the password is {p}")),
            });
            steps.push(Step::Download {
                dir: at.downloads.clone(),
                path: path.clone(),
            });
            if v.delivery.mark_origin {
                let mark = match at.platform {
                    Platform::Linux => OriginMark::XdgXattrs,
                    Platform::Macos => OriginMark::Quarantine,
                    Platform::Windows => OriginMark::ZoneIdentifier,
                };
                steps.push(Step::MarkOrigin {
                    path: path.clone(),
                    mark,
                });
            }
        }
        Via::Copy => steps.push(Step::Copy { path: path.clone() }),
        Via::Email => {
            let mail = v
                .delivery
                .mail
                .as_ref()
                .ok_or("delivery by email needs `delivery.mail`")?;
            steps.push(Step::SendMail(MailStep {
                from: mail.from.clone(),
                to: mail.to.clone(),
                subject: vars.render(&mail.subject)?,
                body: vars.render(&mail.body)?,
                attachment: name.to_string(),
                server: None,
                mailbox: at.mailbox(),
            }));
            // The client saves and marks the attachment itself.
            return Ok(steps);
        }
    }
    // What the user does before starting a downloaded program on Linux or
    // macOS ("allow executing file as program"); Windows runs any .exe.
    if v.artifact.kind == ArtifactKind::Executable && at.platform != Platform::Windows {
        steps.push(Step::MakeExecutable { path });
    }
    Ok(steps)
}

/// The folder a real "Extract Here" writes an archive's member into: one
/// named after the archive, beside it.
fn extract_dest(at: &Place, archive: &str) -> String {
    let unzip = handling::archive_tool("unzip")
        .map(|t| at.folders().extract_dir(t, &at.downloads, archive));
    unzip.unwrap_or_else(|| at.downloads.clone())
}

/// Extracting the archive with the host's real tool: `unzip` for plain
/// and ZipCrypto ZIPs, `7z` for AES and 7z archives (Info-ZIP's unzip
/// reads no AES).
fn extract(
    v: &Variant,
    _r: &RealOpen,
    at: &Place,
    vars: &Vars,
    name: &str,
) -> Result<ExtractStep, String> {
    let archive = join(at.platform, &at.downloads, name);
    let dest = extract_dest(at, name);
    let member = vars.render(&v.artifact.opened().name)?;
    let password = vars.get("password").map(str::to_string);
    let aes = v
        .artifact
        .protect
        .as_ref()
        .is_some_and(|p| p.encryption == Encryption::Aes);
    let (tool, argv) = if v.artifact.kind == ArtifactKind::Zip && !aes {
        let mut argv = vec!["unzip".to_string(), "-o".into()];
        if let Some(p) = &password {
            argv.extend(["-P".to_string(), p.clone()]);
        }
        argv.extend([archive.clone(), member.clone(), "-d".into(), dest.clone()]);
        ("unzip", argv)
    } else {
        let mut argv = vec!["7z".to_string(), "x".into(), "-y".into()];
        if let Some(p) = &password {
            argv.push(format!("-p{p}"));
        }
        argv.extend([format!("-o{dest}"), archive.clone(), member.clone()]);
        ("7z", argv)
    };
    Ok(ExtractStep {
        member: join(at.platform, &dest, &member),
        archive,
        argv,
        dest,
        tool: tool.to_string(),
    })
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

/// The folder the delivered archive lies in: where the mail client saved
/// it, or the download folder.
fn archive_folder(v: &Variant, at: &Place) -> String {
    let client = v
        .delivery
        .mail
        .as_ref()
        .and_then(|m| m.client(&v.open))
        .and_then(handling::mail_client)
        .filter(|_| v.delivery.via == Via::Email);
    client.map_or_else(|| at.downloads.clone(), |c| at.folders().save_dir(c))
}

/// The mail client saving the attachment before a real opener takes over.
fn receive(v: &Variant, at: &Place, vars: &Vars, name: &str) -> Result<Step, String> {
    let client = v
        .delivery
        .mail
        .as_ref()
        .and_then(|m| m.client.as_deref())
        .ok_or("a real opener after a message needs `delivery.mail.client`")?;
    let played = crate::scenario::EmulatedOpen {
        as_name: client.to_string(),
        args: vec!["{message}".into()],
    };
    let (env, dirs) = played_environment(v, &played, at, vars, name);
    Ok(Step::Receive(OpenStep {
        program: Program::Stage {
            name: client.to_string(),
            path: at.program(client),
            args: vars.render_all(&played.args)?,
            // It saves the attachment and starts nothing.
            starts: Some(Vec::new()),
        },
        cwd: at.in_workdir("home"),
        env,
        dirs,
        report: at.in_workdir(".stage-reports.jsonl"),
        log: at.in_workdir("mail-client.log"),
        registry_keys: Vec::new(),
    }))
}

/// The environment and folders an emulated application is started with:
/// its own folders inside the run directory (`TMPDIR`, `HOME`…); where a
/// played mail client saves the attachment; where a played archive tool
/// (the opener or a stand-in the chain starts) extracts, and the password
/// the user types.
fn played_environment(
    v: &Variant,
    e: &crate::scenario::EmulatedOpen,
    at: &Place,
    vars: &Vars,
    name: &str,
) -> (Vec<(String, String)>, Vec<String>) {
    let client = handling::mail_client(&e.as_name).filter(|_| v.delivery.via == Via::Email);
    let client = client.or_else(|| {
        v.delivery
            .mail
            .as_ref()
            .and_then(|m| m.client.as_deref())
            .and_then(handling::mail_client)
            .filter(|c| c.name.eq_ignore_ascii_case(&e.as_name))
    });
    let tool = std::iter::once(&e.as_name)
        .chain(&v.programs)
        .find_map(|n| handling::archive_tool(n))
        .filter(|_| v.artifact.kind.is_archive());
    if client.is_none() && tool.is_none() {
        return (Vec::new(), Vec::new());
    }
    let folders = at.folders();
    let mut env = folders.environment();
    if let Some(c) = client {
        env.push((crate::stage::ENV_SAVE_DIR.into(), folders.save_dir(c)));
    }
    if let Some(t) = tool {
        let dir = folders.extract_dir(t, &archive_folder(v, at), name);
        env.push((crate::stage::ENV_EXTRACT_DIR.into(), dir));
        if let Some(p) = vars.get("password") {
            env.push((crate::stage::ENV_PASSWORD.into(), p.to_string()));
        }
    }
    (env, vec![folders.temp(), folders.home()])
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
