//! The plan of a scenario variant for any platform, as text: what
//! `run --dry-run` prints. Pure: builds nothing, starts nothing.

use std::fmt::Write;

use crate::artifact::origin;
use crate::platform::{macos, show, windows};
use crate::scenario::template::Vars;
use crate::scenario::{Fidelity, Platform, ProfileKind, Scenario, StandIn, Via, duration_text};

/// Where a platform keeps the run directory, as the plan shows it.
pub fn workdir(platform: Platform, token: &str) -> String {
    match platform {
        Platform::Linux => format!("/tmp/chainproof-{token}"),
        Platform::Macos => format!("$TMPDIR/chainproof-{token}"),
        Platform::Windows => format!("%TEMP%\\chainproof-{token}"),
    }
}

/// Joins a folder and a name with the platform's separator.
pub fn join(platform: Platform, dir: &str, name: &str) -> String {
    let sep = if platform == Platform::Windows {
        '\\'
    } else {
        '/'
    };
    format!("{dir}{sep}{name}")
}

/// The plan of `s` on `platform` at `fidelity` with run token `token`.
pub fn plan(s: &Scenario, platform: Platform, fidelity: Option<Fidelity>, token: &str) -> String {
    let mut out = String::new();
    let Some(v) = s.variants.get(platform) else {
        let _ = writeln!(
            out,
            "{} · {platform}: not-applicable (no {platform} variant)",
            s.id
        );
        return out;
    };
    let Some(fid) = v.pick_fidelity(fidelity) else {
        let _ = writeln!(
            out,
            "{} · {platform}: not-applicable (no opener of the requested fidelity)",
            s.id
        );
        return out;
    };
    let dir = workdir(platform, token);
    let downloads = join(platform, &dir, "Downloads");
    let mut vars = Vars::default();
    vars.set("token", token)
        .set("workdir", &dir)
        .set("downloads", &downloads)
        .set("programs", join(platform, &dir, "program"));
    let name = vars.render(&v.artifact.name).unwrap_or_else(|e| e);
    let artifact = join(platform, &downloads, &name);
    vars.set("artifact", &artifact);
    let volume = crate::runner::prepare::mount_dir(&name);
    let mount = match platform {
        Platform::Linux => join(platform, &join(platform, &dir, "media"), &volume),
        Platform::Macos => format!("/Volumes/chainproof-{token}"),
        Platform::Windows => "<drive>:".to_string(),
    };
    vars.set("mount", &mount)
        .set("profile", join(platform, &dir, "profile"));
    let render = |argv: &[String]| {
        argv.iter()
            .map(|a| quote(&vars.render(a).unwrap_or_else(|e| e)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let fid_name = if fid == Fidelity::Real {
        "real"
    } else {
        "emulated"
    };
    let _ = writeln!(out, "{} · {platform} · {fid_name} — {}", s.id, s.title);
    let mut n = 0;
    let mut step = |text: String| {
        n += 1;
        let _ = writeln!(out, "  {n}. {text}");
    };
    step(format!("create the run directory {dir}"));
    for program in &v.programs {
        let does = match v.stand_in(program) {
            StandIn::Starts(i) => format!("starts {}", render(&v.chain[i].run)),
            StandIn::ReadsArtifact => "starts the command the file it opens carries".into(),
            StandIn::Viewer => "opens its arguments and starts nothing".into(),
        };
        step(format!(
            "copy the stage program to {} as a benign stand-in that {does}",
            join(platform, &join(platform, &dir, "program"), program)
        ));
    }
    match v.carried_step() {
        Some(i) => step(format!(
            "build {} `{name}` carrying: {}",
            v.artifact.kind.describe(),
            render(&v.chain[i].run)
        )),
        None if v.artifact.kind == crate::artifact::ArtifactKind::Reg => step(format!(
            "build {} `{name}`: [{}] \"marker\"=\"{token}\"",
            v.artifact.kind.describe(),
            crate::artifact::build::reg_key(token)
        )),
        None => step(format!("build {} `{name}`", v.artifact.kind.describe())),
    }
    if let Some(exe) = &v.artifact.executable {
        step(format!(
            "the image holds {} with its instruction appended",
            vars.render(exe).unwrap_or_default()
        ));
    }
    match v.delivery.via {
        Via::Http => step(format!(
            "serve it from http://127.0.0.1:<port>/files/{name} and download it to {downloads} with the landing page as referrer"
        )),
        Via::Copy => step(format!("copy it to {artifact}")),
    }
    if v.delivery.mark_origin {
        step(origin_text(platform, &name, token));
    }
    for (file, template) in &v.files {
        step(format!(
            "stage {} from payloads-benign/{template}",
            join(platform, &dir, &vars.render(file).unwrap_or_default())
        ));
    }
    match (fid, &v.open.emulated, &v.open.real) {
        (Fidelity::Emulated, Some(e), _) => {
            let exe = join(platform, &join(platform, &dir, "program"), &e.as_name);
            step(format!(
                "copy the stage program to {exe} and start: {} {}",
                quote(&e.as_name),
                render(&e.args)
            ));
            if v.open.by_association {
                step(format!(
                    "it starts the first step itself, as the file's association does: {}",
                    render(&v.chain[0].run)
                ));
            }
        }
        (_, _, Some(r)) => {
            if r.mount {
                step(format!(
                    "mount {artifact} read-only: {}",
                    mount_text(platform, &artifact, &mount)
                ));
            }
            match r.profile {
                Some(ProfileKind::Libreoffice) => step(
                    "prepare a throw-away LibreOffice profile that allows document macros".into(),
                ),
                Some(ProfileKind::OfficeTrustedLocation) => {
                    let app =
                        windows::OfficeApp::for_image(&r.image).unwrap_or(windows::OfficeApp::Word);
                    let cmds: Vec<String> = windows::trusted_location_add(app, token, &dir)
                        .iter()
                        .map(|a| show(a))
                        .collect();
                    step(format!(
                        "make the run directory a temporary Office Trusted Location, a deliberate and reversible choice so the macro runs despite the Mark-of-the-Web (named in the report): {}",
                        cmds.join("; ")
                    ));
                }
                None => {}
            }
            step(format!("start: {}", render(&r.command)));
        }
        _ => {}
    }
    let opener = match (fid, &v.open.emulated, &v.open.real) {
        (Fidelity::Emulated, Some(e), _) => e.as_name.clone(),
        (_, _, Some(r)) => r.image.clone(),
        _ => String::new(),
    };
    let mut chain = vec![opener];
    chain.extend(v.chain.iter().map(|s| render(&s.run)));
    step(format!("expect the chain: {}", chain.join("  →  ")));
    if let Some(p) = &v.proof {
        step(format!(
            "wait for {} (at most {})",
            vars.render(p).unwrap_or_default(),
            duration_text::render(v.timeout)
        ));
    }
    step(truth_text(platform));
    let real = v.open.real.as_ref().filter(|_| fid == Fidelity::Real);
    let mut undo = Vec::new();
    if real.is_some_and(|r| r.mount) {
        undo.push(match platform {
            Platform::Linux => "unmount (fusermount -u / umount)".to_string(),
            Platform::Macos => show(&macos::hdiutil_detach(&mount)),
            Platform::Windows => show(&windows::dismount_disk_image(&artifact)),
        });
    }
    if let Some(r) = real.filter(|r| r.profile == Some(ProfileKind::OfficeTrustedLocation)) {
        let app = windows::OfficeApp::for_image(&r.image).unwrap_or(windows::OfficeApp::Word);
        undo.push(show(&windows::trusted_location_remove(app, token)));
    }
    if v.artifact.kind == crate::artifact::ArtifactKind::Reg {
        undo.push(show(&windows::reg_cleanup(token)));
    }
    undo.push(format!("end every process carrying {token}"));
    undo.push(format!("remove {dir}"));
    step(format!("clean up: {}", undo.join("; ")));
    out
}

fn truth_text(platform: Platform) -> String {
    match platform {
        Platform::Linux => "record the ground truth: the netlink process connector, a /proc scan and the stage programs' self-reports".into(),
        Platform::Macos | Platform::Windows => "record the ground truth: the stage programs' self-reports (pid, parent pid, image, command line, user) and the OS process table, polled".into(),
    }
}

fn origin_text(platform: Platform, name: &str, token: &str) -> String {
    let url = format!("http://127.0.0.1:<port>/files/{name}");
    let referrer = format!("http://127.0.0.1:<port>/{token}/");
    match platform {
        Platform::Linux => format!(
            "mark its origin as a browser does: xattrs user.xdg.origin.url={url} and user.xdg.referrer.url={referrer}"
        ),
        Platform::Macos => format!(
            "mark its origin as a browser does: xattr {} = {:04x};<hex unix time>;chainproof;<UUID>",
            origin::QUARANTINE_XATTR,
            origin::QUARANTINE_FLAGS_DOWNLOAD
        ),
        Platform::Windows => format!(
            "mark its origin as a browser does: alternate data stream {name}:{} = {}",
            origin::ZONE_STREAM,
            origin::zone_identifier(&url, &referrer)
                .unwrap_or_default()
                .replace("\r\n", "⏎ ")
                .trim_end()
        ),
    }
}

fn mount_text(platform: Platform, image: &str, mount: &str) -> String {
    match platform {
        Platform::Linux => format!(
            "fuseiso {} {} (or a loop mount where the kernel has iso9660)",
            quote(image),
            quote(mount)
        ),
        Platform::Macos => show(&macos::hdiutil_attach(image, mount)),
        Platform::Windows => {
            let admin = if windows::mount_needs_admin(image) {
                " (administrator: Windows mounts VHDs only for administrators)"
            } else {
                ""
            };
            format!(
                "{}; {{mount}} is the drive letter it prints{admin}",
                show(&windows::mount_disk_image(image))
            )
        }
    }
}

/// Quotes an argument for display when it holds spaces or quotes.
fn quote(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '"', '\'', ';', '&', '>', '<', '|']) {
        return arg.to_string();
    }
    format!("'{}'", arg.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_plan_names_the_windows_mechanisms() -> Result<(), String> {
        let loaded = crate::scenario::load_paths(&[]).map_err(|e| format!("{e:?}"))?;
        let text: String = loaded
            .iter()
            .map(|l| plan(&l.scenario, Platform::Windows, None, "cp0123456789"))
            .collect();
        for want in [
            "WINWORD.EXE",
            "Zone.Identifier",
            "Mount-DiskImage",
            "explorer.exe",
            "cmd.exe",
            "cp0123456789",
        ] {
            assert!(text.contains(want), "windows plan lacks {want}:\n{text}");
        }
        let mac: String = loaded
            .iter()
            .map(|l| plan(&l.scenario, Platform::Macos, None, "cp0123456789"))
            .collect();
        for want in [
            "'Microsoft Word'",
            "com.apple.quarantine",
            "hdiutil",
            "osascript",
        ] {
            assert!(mac.contains(want), "macos plan lacks {want}:\n{mac}");
        }
        Ok(())
    }
}
