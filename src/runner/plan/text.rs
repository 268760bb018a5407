//! A [`Plan`] as text: what `run --dry-run` prints, one numbered line (or
//! two) per step, read from the plan's data alone.

use std::fmt::Write;

use super::step::{
    ArtifactStep, LiveSource, MountAt, MountStep, OpenStep, OriginMark, Profile, Program,
    StandInDoes, Step, Undo,
};
use super::{Plan, Skip, make, workdir};
use crate::artifact::origin;
use crate::platform::{macos, show, windows};
use crate::scenario::Scenario;
use crate::vocab::{Fidelity, Platform, duration_text};

/// The plan of `s` on `platform` at `fidelity` with run token `token`, in
/// the platform's usual run directory, as text.
pub fn plan(s: &Scenario, platform: Platform, fidelity: Option<Fidelity>, token: &str) -> String {
    let user = super::user_placeholder(platform);
    match make(
        s,
        platform,
        fidelity,
        token,
        &workdir(platform, token),
        user,
    ) {
        Ok(p) => render(&p),
        Err(skip) => {
            let why = match skip {
                Skip::NoVariant => format!("no {platform} variant"),
                Skip::NoOpener(_) => "no opener of the requested fidelity".into(),
                Skip::NotHere(_, why) => why,
                Skip::Invalid(_, e) => format!("a template does not render: {e}"),
            };
            format!("{} · {platform}: not-applicable ({why})\n", s.id)
        }
    }
}

/// `plan` as numbered lines.
pub fn render(plan: &Plan) -> String {
    let fidelity = match plan.fidelity {
        Fidelity::Real => "real",
        Fidelity::Emulated => "emulated",
    };
    let mut out = format!(
        "{} · {} · {fidelity} — {}\n",
        plan.scenario, plan.platform, plan.title
    );
    let mut n = 0;
    for step in &plan.steps {
        if matches!(step, Step::Wait { .. }) {
            let mut chain = vec![plan.opener.clone()];
            chain.extend(plan.chain.iter().map(|argv| quoted(plan.platform, argv)));
            n += 1;
            let _ = writeln!(out, "  {n}. expect the chain: {}", chain.join("  →  "));
        }
        for line in lines(plan, step) {
            n += 1;
            let _ = writeln!(out, "  {n}. {line}");
        }
    }
    for warning in &plan.warnings {
        let _ = writeln!(out, "  note: {warning}");
    }
    out
}

fn lines(plan: &Plan, step: &Step) -> Vec<String> {
    let p = plan.platform;
    let one = |s: String| vec![s];
    match step {
        Step::CreateRunDir { path, .. } => one(format!("create the run directory {path}")),
        Step::StageProgram { path, does, .. } => {
            let does = match does {
                StandInDoes::Starts(argv) => format!("starts {}", quoted(p, argv)),
                StandInDoes::ReadsArtifact => "starts the command the file it opens carries".into(),
                StandInDoes::Viewer => "opens its arguments and starts nothing".into(),
            };
            one(format!(
                "copy the stage program to {path} as a benign stand-in that {does}"
            ))
        }
        Step::BuildArtifact(a) => artifact(a),
        Step::Serve { name, .. } => one(format!(
            "serve it from http://127.0.0.1:<port>/files/{name}, linked from a landing page, on loopback only"
        )),
        Step::Download { dir, .. } => one(format!(
            "download it to {dir} with the landing page as referrer"
        )),
        Step::Copy { path } => one(format!("copy it to {path}")),
        Step::SendMail(m) => one(format!(
            "mail it as `{}` from {} to {} over SMTP to {}; the mailbox delivers the message to {}",
            m.attachment,
            m.from,
            m.to,
            m.server.as_deref().unwrap_or("a loopback listener on 127.0.0.1"),
            m.mailbox
        )),
        Step::Extract(x) => one(format!(
            "extract {} with the host's {} ({}) into {}",
            x.member.rsplit(['/', '\\']).next().unwrap_or_default(),
            x.tool,
            show(&x.argv),
            x.dest
        )),
        Step::MarkOrigin { path, mark } => one(origin_text(*mark, path, &plan.token)),
        Step::MakeExecutable { .. } => one(
            "make it executable, as a user does before starting a downloaded program".into(),
        ),
        Step::StageFile { path, template, .. } => {
            one(format!("stage {path} from payloads-benign/{template}"))
        }
        Step::Mount(m) => one(format!(
            "mount {} read-only: {}",
            m.image,
            mount_text(p, m)
        )),
        Step::Profile(Profile::Libreoffice { .. }) => {
            one("prepare a throw-away LibreOffice profile that allows document macros".into())
        }
        Step::Profile(Profile::TrustedLocation { add, .. }) => one(format!(
            "make the run directory a temporary Office Trusted Location, a deliberate and reversible choice so the macro runs despite the Mark-of-the-Web (named in the report): {}",
            add.iter().map(|a| show(a)).collect::<Vec<_>>().join("; ")
        )),
        Step::Open(o) => open(p, o),
        Step::Receive(o) => {
            let mut l = open(p, o);
            l.insert(0, "the mail client saves the attachment, then exits:".into());
            l
        }
        Step::Wait { proof, timeout } => one(match proof {
            Some(proof) => format!(
                "wait for {proof} (at most {})",
                duration_text::render(*timeout)
            ),
            None => format!(
                "wait until no process carrying {} is left (at most {})",
                plan.token,
                duration_text::render(*timeout)
            ),
        }),
        Step::Stop { undo } => one(format!("end the run: {}", undo_text(undo, &plan.token))),
        Step::Collect { live, .. } => one(match live {
            LiveSource::ProcessConnector => "record the ground truth: the netlink process connector, a /proc scan and the stage programs' self-reports".into(),
            LiveSource::ProcessTable => "record the ground truth: the stage programs' self-reports (pid, parent pid, image, command line, user) and the OS process table, polled".into(),
        }),
        Step::Clean { undo } => one(format!("clean up: {}", undo_text(undo, &plan.token))),
    }
}

fn artifact(a: &ArtifactStep) -> Vec<String> {
    let kind = a.kind.describe();
    let name = &a.name;
    let mut out = vec![match (&a.carried, &a.registry_key) {
        (Some(argv), _) => format!(
            "build {kind} `{name}` carrying: {}",
            quoted(a.platform, argv)
        ),
        (None, Some(key)) => format!("build {kind} `{name}`: [{key}] \"marker\"=\"{}\"", a.token),
        (None, None) => match &a.link {
            Some(link) => format!(
                "build {kind} `{name}` opening with no action, a link to {link} on its page"
            ),
            None => format!("build {kind} `{name}`"),
        },
    }];
    if let Some(exe) = &a.executable {
        let program = crate::artifact::build::image_program(a.kind, exe);
        out.push(if program == *exe {
            format!("the image holds {exe} with its instruction appended")
        } else {
            format!(
                "the image holds {exe}.app, an application bundle whose program {program} is the stage program with its instruction appended"
            )
        });
    }
    if let Some(m) = &a.member {
        let how = match &a.protect {
            Some((cipher, password)) => format!(
                ", encrypted ({}) with the password {password}",
                match cipher {
                    crate::artifact::archive::Encryption::Zipcrypto => "ZipCrypto",
                    crate::artifact::archive::Encryption::Aes => "AES-256",
                }
            ),
            None => String::new(),
        };
        out.push(format!("the archive holds `{}`{how}:", m.name));
        out.extend(artifact(m));
    }
    out
}

fn open(p: Platform, o: &OpenStep) -> Vec<String> {
    match &o.program {
        Program::Stage {
            name,
            path,
            args,
            starts,
        } => {
            let mut out = vec![format!(
                "copy the stage program to {path} and start: {} {}",
                quoted(p, std::slice::from_ref(name)),
                quoted(p, args)
            )];
            let env = |k: &str| o.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            if let Some(dir) = env(crate::stage::ENV_SAVE_DIR) {
                out.push(format!(
                    "as the mail client it plays, it saves the attachment in {dir}, marked as that client marks it"
                ));
            }
            if let Some(dir) = env(crate::stage::ENV_EXTRACT_DIR) {
                let pw = match env(crate::stage::ENV_PASSWORD) {
                    Some(p) => format!(" with the password the lure gives ({p})"),
                    None => String::new(),
                };
                out.push(format!(
                    "the archive tool of the chain (played by the stage program) extracts the member into {dir}{pw}, carrying the origin mark over as that tool does"
                ));
            }
            match starts {
                Some(argv) if argv.is_empty() => {}
                Some(argv) => out.push(format!(
                    "it starts the first step itself, as {} does: {}",
                    if env(crate::stage::ENV_SAVE_DIR).is_some() {
                        "a mail client handing on the attachment"
                    } else {
                        "the file's association"
                    },
                    quoted(p, argv)
                )),
                None => {}
            }
            out
        }
        Program::Real { argv, .. } => vec![format!("start: {}", quoted(p, argv))],
    }
}

fn undo_text(undo: &[Undo], token: &str) -> String {
    undo.iter()
        .map(|u| match u {
            Undo::Unmount { how, .. } => how.clone(),
            Undo::EndProcesses => format!("end every process carrying {token}"),
            Undo::DeleteRegistryKey(key) => show(&windows::reg_delete(key)),
            Undo::OfficeSockets => {
                "remove the IPC sockets the office left in /tmp since the open".into()
            }
            Undo::RemoveRunDir(dir) => format!("remove {dir}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn origin_text(mark: OriginMark, path: &str, token: &str) -> String {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let url = format!("http://127.0.0.1:<port>/files/{name}");
    let referrer = format!("http://127.0.0.1:<port>/{token}/");
    match mark {
        OriginMark::XdgXattrs => format!(
            "mark its origin as a browser does: xattrs user.xdg.origin.url={url} and user.xdg.referrer.url={referrer}"
        ),
        OriginMark::Quarantine => format!(
            "mark its origin as a browser does: xattr {} = {:04x};<hex unix time>;{};<UUID>",
            origin::QUARANTINE_XATTR,
            origin::QUARANTINE_FLAGS_DOWNLOAD,
            origin::QUARANTINE_AGENT_BROWSER
        ),
        OriginMark::ZoneIdentifier => format!(
            "mark its origin as a browser does: alternate data stream {name}:{} = {}",
            origin::ZONE_STREAM,
            origin::zone_identifier(&url, &referrer)
                .unwrap_or_default()
                .replace("\r\n", "⏎ ")
                .trim_end()
        ),
    }
}

fn mount_text(platform: Platform, m: &MountStep) -> String {
    match (&m.at, platform) {
        (MountAt::Dir(dir), Platform::Macos) => show(&macos::hdiutil_attach(&m.image, dir)),
        (MountAt::Dir(dir), _) => format!(
            "fuseiso {} {} (or a loop mount where the kernel has iso9660)",
            quote(&m.image),
            quote(dir)
        ),
        (MountAt::DriveLetter, _) => {
            let admin = if m.needs_admin {
                " (administrator: Windows mounts VHDs only for administrators)"
            } else {
                ""
            };
            format!(
                "{}; {{mount}} is the drive letter it prints{admin}",
                show(&windows::mount_disk_image(&m.image))
            )
        }
    }
}

/// `argv` as the target's launcher receives it: on Windows the command line
/// CreateProcess gets (the MSVCRT / CommandLineToArgvW quoting, and the
/// text after `cmd.exe /c` as written, which is what cmd itself reads and
/// what the `.docm`, `.lnk` and PDF carry), elsewhere POSIX shell words.
fn quoted(platform: Platform, argv: &[String]) -> String {
    match platform {
        Platform::Windows => crate::artifact::cmdline::windows_join(argv),
        Platform::Linux | Platform::Macos => {
            argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
        }
    }
}

/// Quotes an argument for a POSIX shell when it holds spaces or quotes.
fn quote(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '"', '\'', ';', '&', '>', '<', '|']) {
        return arg.to_string();
    }
    format!("'{}'", arg.replace('\'', "'\\''"))
}
