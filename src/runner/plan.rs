//! The plan of a scenario variant for any platform, as text: what
//! `run --dry-run` prints. Pure: builds nothing, starts nothing.

use std::fmt::Write;

use crate::artifact::ArtifactKind;
use crate::scenario::template::Vars;
use crate::scenario::{Fidelity, Platform, Scenario, Via, duration_text};

/// Where a platform keeps the run directory, as the plan shows it.
fn workdir(platform: Platform, token: &str) -> String {
    match platform {
        Platform::Linux => format!("/tmp/chainproof-{token}"),
        Platform::Macos => format!("$TMPDIR/chainproof-{token}"),
        Platform::Windows => format!("%TEMP%\\chainproof-{token}"),
    }
}

fn join(platform: Platform, dir: &str, name: &str) -> String {
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
        .set("downloads", &downloads);
    let name = vars.render(&v.artifact.name).unwrap_or_else(|e| e);
    let artifact = join(platform, &downloads, &name);
    vars.set("artifact", &artifact);
    let mount = match platform {
        Platform::Linux => join(platform, &join(platform, &dir, "media"), "<VOLUME>"),
        Platform::Macos => "/Volumes/<VOLUME>".to_string(),
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
    let chain0 = render(&v.chain[0].run);
    step(format!(
        "build {} `{name}` carrying: {chain0}",
        kind_text(v.artifact.kind)
    ));
    match v.delivery.via {
        Via::Http => step(format!(
            "serve it from http://127.0.0.1:<port>/files/{name} and download it to {downloads} with the landing page as referrer"
        )),
        Via::Copy => step(format!("copy it to {artifact}")),
    }
    if v.delivery.mark_origin {
        step(origin_text(platform));
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
        }
        (_, _, Some(r)) => {
            if r.mount {
                step(format!(
                    "mount {artifact} read-only: {}",
                    mount_text(platform, &artifact)
                ));
            }
            if r.profile.is_some() {
                step("prepare a throw-away application profile that allows document macros".into());
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
    let unmount = match (
        platform,
        v.open
            .real
            .as_ref()
            .is_some_and(|r| r.mount && fid == Fidelity::Real),
    ) {
        (_, false) => String::new(),
        (Platform::Linux, true) => "unmount (fusermount -u / umount), ".into(),
        (Platform::Macos, true) => "hdiutil detach, ".into(),
        (Platform::Windows, true) => "Dismount-DiskImage, ".into(),
    };
    step(format!(
        "clean up: {unmount}end every process carrying {token}, remove {dir}"
    ));
    out
}

fn kind_text(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::OdtMacro => "an ODT document with a Basic macro bound to OnLoad,",
        ArtifactKind::DesktopEntry => "a .desktop launcher",
        ArtifactKind::Iso => "an ISO 9660 image holding the stage program,",
        ArtifactKind::Script => "a script",
        ArtifactKind::Docm => "a macro-enabled Word document (VBA AutoOpen),",
        ArtifactKind::Xlsm => "a macro-enabled Excel workbook (VBA Workbook_Open),",
        ArtifactKind::Lnk => "a Windows shortcut (MS-SHLLINK)",
        ArtifactKind::Command => "a macOS .command file",
        ArtifactKind::Dmg => "a disk image holding the stage program,",
    }
}

fn origin_text(platform: Platform) -> String {
    match platform {
        Platform::Linux => "mark its origin: xattrs user.xdg.origin.url and user.xdg.referrer.url".into(),
        Platform::Macos => "mark its origin: xattr com.apple.quarantine = flags;hex time;agent;UUID".into(),
        Platform::Windows => {
            "mark its origin: Zone.Identifier stream ([ZoneTransfer] ZoneId=3, ReferrerUrl, HostUrl)".into()
        }
    }
}

fn mount_text(platform: Platform, image: &str) -> String {
    match platform {
        Platform::Linux => format!(
            "fuseiso {} <mount> (or a loop mount where the kernel has iso9660)",
            quote(image)
        ),
        Platform::Macos => format!("hdiutil attach -readonly -nobrowse {}", quote(image)),
        Platform::Windows => format!("Mount-DiskImage -ImagePath '{image}' -Access ReadOnly"),
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
