//! The plan's delivery steps: the artifact (an archive nesting its
//! member), how it reaches the host (a download, a copy, a message sent
//! over SMTP), a real extraction, the mail client that saves the
//! attachment before a real opener, and the environment that places a
//! played application's own folders inside the run directory.

use super::build::Place;
use super::join;
use super::step::{ArtifactStep, ExtractStep, MailStep, OpenStep, OriginMark, Program, Step};
use crate::artifact::{ArtifactKind, handling};
use crate::scenario::template::Vars;
use crate::scenario::{ArtifactSpec, Encryption, RealOpen, Variant, Via};
use crate::vocab::Platform;

/// The variables of the delivery: `{password}`; `{artifact}` (for a
/// message, the attachment where the client saves it) and `{message}`;
/// `{member}`, where the archive tool puts the archive's member (beside
/// the archive for a real extraction, where the played tool extracts
/// otherwise).
pub(super) fn delivery_vars(
    v: &Variant,
    at: &Place,
    real: Option<&RealOpen>,
    vars: &mut Vars,
    name: &str,
) -> Result<(), String> {
    if let Some(p) = &v.artifact.protect {
        vars.set("password", vars.render(&p.password)?);
    }
    match v.delivery.via {
        // The file the chain opens is the attachment where the client saved it.
        Via::Email => {
            let client =
                mail_client(v).ok_or("a message is opened by a mail client chainproof plays")?;
            let dir = at.folders().save_dir(client);
            vars.set("artifact", join(at.platform, &dir, name));
            vars.set("message", at.mailbox());
        }
        Via::Http | Via::Copy => {
            vars.set("artifact", join(at.platform, &at.downloads, name));
        }
    }
    if v.artifact.kind.is_archive() {
        // Where the member lands: beside the archive for a real extraction,
        // where the played archive tool extracts otherwise.
        let opener = v.open.emulated.as_ref().map(|e| e.as_name.as_str());
        let dest = match (real.is_some_and(|r| r.extract), archive_tool(v, opener)) {
            (true, _) => Some(extract_dest(at, name)),
            (false, Some(tool)) if real.is_none() => {
                Some(at.folders().extract_dir(tool, &archive_folder(v, at), name))
            }
            _ => None,
        };
        if let Some(dest) = dest {
            let member = vars.render(&v.artifact.opened().name)?;
            vars.set("member", join(at.platform, &dest, &member));
        }
    }
    Ok(())
}

/// The artifact step of `spec` (an archive's member nested in it), named
/// `name` (rendered), carrying `carried`.
pub(super) fn artifact_step(
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
        link: match &member {
            Some(_) => None,
            None => spec.link.as_ref().map(|l| vars.render(l)).transpose()?,
        },
        registry_key,
        token: at.token.clone(),
        workdir: at.workdir.clone(),
        member,
        protect,
    })
}

/// Building the artifact and getting it onto the host.
pub(super) fn delivery(
    v: &Variant,
    at: &Place,
    vars: &Vars,
    name: &str,
) -> Result<Vec<Step>, String> {
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
pub(super) fn extract_dest(at: &Place, archive: &str) -> String {
    let unzip = handling::archive_tool("unzip")
        .map(|t| at.folders().extract_dir(t, &at.downloads, archive));
    unzip.unwrap_or_else(|| at.downloads.clone())
}

/// Extracting the archive with the host's real tool: `unzip` for plain
/// and ZipCrypto ZIPs, `7z` for AES and 7z archives (Info-ZIP's unzip
/// reads no AES).
pub(super) fn extract(
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

/// The folder the delivered archive lies in: where the mail client saved
/// it, or the download folder.
pub(super) fn archive_folder(v: &Variant, at: &Place) -> String {
    mail_client(v).map_or_else(|| at.downloads.clone(), |c| at.folders().save_dir(c))
}

/// The mail client a mailed variant's message is opened with: the one
/// `delivery.mail.client` names, else the emulated opener.
fn mail_client(v: &Variant) -> Option<&'static handling::MailClient> {
    let mail = v
        .delivery
        .mail
        .as_ref()
        .filter(|_| v.delivery.via == Via::Email)?;
    mail.client(&v.open).and_then(handling::mail_client)
}

/// The archive tool that opens an archive: the emulated `opener`, or a
/// stand-in the chain starts.
fn archive_tool(v: &Variant, opener: Option<&str>) -> Option<&'static handling::ArchiveTool> {
    opener
        .into_iter()
        .chain(v.programs.iter().map(String::as_str))
        .find_map(handling::archive_tool)
        .filter(|_| v.artifact.kind.is_archive())
}

/// The mail client saving the attachment before a real opener takes over.
pub(super) fn receive(v: &Variant, at: &Place, vars: &Vars, name: &str) -> Result<Step, String> {
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
pub(super) fn played_environment(
    v: &Variant,
    e: &crate::scenario::EmulatedOpen,
    at: &Place,
    vars: &Vars,
    name: &str,
) -> (Vec<(String, String)>, Vec<String>) {
    // `e` plays the mail client when it is the one the message is opened with.
    let client = mail_client(v).filter(|c| c.name.eq_ignore_ascii_case(&e.as_name));
    let tool = archive_tool(v, Some(&e.as_name));
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
