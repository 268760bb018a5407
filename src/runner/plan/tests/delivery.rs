//! Plans of the deliveries beyond a download: a message and its mail
//! client, an archive and its tool, a real extraction.

use super::{TOKEN, kinds, open_step, planned};
use crate::artifact::ArtifactKind;
use crate::artifact::archive::Encryption;
use crate::runner::plan::{Plan, Program, Step, render};
use crate::stage::{ENV_EXTRACT_DIR, ENV_PASSWORD, ENV_SAVE_DIR};
use crate::vocab::{Fidelity, Platform};

fn env<'a>(plan: &'a Plan, name: &str) -> Option<&'a str> {
    open_step(plan)
        .env
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

const END: [&str; 4] = ["wait", "stop", "collect", "clean"];

fn with_end(middle: &[&'static str]) -> Vec<&'static str> {
    middle.iter().chain(&END).copied().collect()
}

#[test]
fn a_mailed_archive_is_sent_then_the_client_hands_it_to_the_archive_tool() {
    let plan = planned("mail-zip-shortcut", Platform::Linux, None);
    assert_eq!(
        kinds(&plan),
        with_end(&["create", "stand-in", "build", "mail", "stage-file", "open"])
    );
    let w = format!("/tmp/chainproof-{TOKEN}");
    let saved = format!("{w}/tmp/mozilla_alice0/Remittance-{TOKEN}.zip");
    assert_eq!(plan.vars.get("artifact"), Some(saved.as_str()));
    assert_eq!(
        plan.vars.get("message"),
        Some(format!("{w}/Mail/Inbox/{TOKEN}.eml").as_str())
    );
    assert_eq!(
        env(&plan, ENV_SAVE_DIR),
        Some(format!("{w}/tmp/mozilla_alice0").as_str())
    );
    assert!(
        env(&plan, ENV_EXTRACT_DIR).is_some_and(|d| d.starts_with(&format!("{w}/tmp/.fr-"))),
        "{:?}",
        open_step(&plan).env
    );
    assert_eq!(
        env(&plan, ENV_PASSWORD),
        Some(format!("RA-{TOKEN}").as_str())
    );
    assert_eq!(env(&plan, "TMPDIR"), Some(format!("{w}/tmp").as_str()));
    // The client starts the archive tool on the file it saved.
    match &open_step(&plan).program {
        Program::Stage {
            name, starts, args, ..
        } => {
            assert_eq!(name, "thunderbird");
            assert_eq!(args, &[format!("{w}/Mail/Inbox/{TOKEN}.eml")]);
            assert_eq!(
                starts.as_deref(),
                Some(&[format!("{w}/program/file-roller"), saved.clone()][..])
            );
        }
        other => panic!("{other:?}"),
    }
    let Some(Step::SendMail(m)) = plan.steps.iter().find(|s| matches!(s, Step::SendMail(_))) else {
        panic!("no mail step")
    };
    assert!(
        m.body.contains(&format!("RA-{TOKEN}")),
        "the body gives the password"
    );
    assert_eq!(m.server, None, "the loopback listener");
    // The archive is built with its member, which carries the launcher's command.
    let a = plan.artifact().unwrap_or_else(|| panic!("no artifact"));
    assert_eq!(a.kind, ArtifactKind::Zip);
    assert_eq!(a.protect, Some((Encryption::Aes, format!("RA-{TOKEN}"))));
    assert!(a.carried.is_none());
    let member = a.member.as_deref().unwrap_or_else(|| panic!("no member"));
    assert_eq!(member.kind, ArtifactKind::DesktopEntry);
    assert_eq!(
        member
            .carried
            .as_deref()
            .and_then(|c| c.first())
            .map(String::as_str),
        Some("/bin/sh")
    );
}

#[test]
fn outlook_saves_under_content_outlook_inside_the_run_directory() {
    let plan = planned("mail-macro-doc", Platform::Windows, None);
    let w = format!("%TEMP%\\chainproof-{TOKEN}");
    let saved = plan.vars.get("artifact").unwrap_or_default();
    let cache =
        format!("{w}\\home\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\");
    assert!(saved.starts_with(&cache), "{saved}");
    assert!(
        saved.ends_with(&format!("\\Invoice-{TOKEN}.docm")),
        "{saved}"
    );
    assert_eq!(
        env(&plan, "LOCALAPPDATA"),
        Some(format!("{w}\\home\\AppData\\Local").as_str())
    );
    assert_eq!(plan.chain[0][2], saved);
    let text = render(&plan);
    assert!(text.contains("OUTLOOK.EXE"), "{text}");
    assert!(text.contains("Content.Outlook"), "{text}");
}

#[test]
fn a_mailed_image_is_saved_by_the_client_then_mounted_from_where_it_saved_it() {
    let plan = planned("mail-iso", Platform::Linux, Some(Fidelity::Real));
    assert_eq!(
        kinds(&plan),
        with_end(&["create", "build", "mail", "receive", "mount", "open"])
    );
    let saved = plan.vars.get("artifact").unwrap_or_default().to_string();
    let mount = plan.mount().unwrap_or_else(|| panic!("no mount"));
    assert_eq!(mount.image, saved);
    let receive = plan.steps.iter().find_map(|s| match s {
        Step::Receive(o) => Some(o),
        _ => None,
    });
    match receive.map(|o| &o.program) {
        Some(Program::Stage { name, starts, .. }) => {
            assert_eq!(name, "thunderbird");
            assert_eq!(
                starts.as_deref(),
                Some(&[][..]),
                "it saves and starts nothing"
            );
        }
        other => panic!("{other:?}"),
    }
    // The image carries the first step: the program on it starts it.
    let a = plan.artifact().unwrap_or_else(|| panic!("no artifact"));
    assert_eq!(a.carried.as_ref().map(|c| c[0].as_str()), Some("/bin/sh"));
}

#[test]
fn a_real_extraction_picks_the_tool_that_reads_the_cipher() {
    let zip = planned("zip-iso", Platform::Linux, Some(Fidelity::Real));
    assert_eq!(
        kinds(&zip),
        with_end(&[
            "create", "build", "serve", "download", "mark", "extract", "mount", "open"
        ])
    );
    let Some(Step::Extract(x)) = zip.steps.iter().find(|s| matches!(s, Step::Extract(_))) else {
        panic!("no extract step")
    };
    assert_eq!(x.tool, "unzip");
    assert!(
        x.argv.windows(2).any(|p| p == ["-P", "INV2291"]),
        "{:?}",
        x.argv
    );
    assert_eq!(
        zip.mount().map(|m| m.image.as_str()),
        Some(x.member.as_str())
    );
    let seven = planned("sevenz-shortcut", Platform::Linux, Some(Fidelity::Real));
    let Some(Step::Extract(x)) = seven.steps.iter().find(|s| matches!(s, Step::Extract(_))) else {
        panic!("no extract step")
    };
    assert_eq!(x.tool, "7z");
    assert!(x.argv.contains(&"-pscan-4471".to_string()), "{:?}", x.argv);
    assert_eq!(seven.vars.get("member"), Some(x.member.as_str()));
    assert_eq!(seven.requires, ["dex", "7z"]);
}

#[test]
fn the_control_archive_opens_the_member_where_the_tool_extracted_it() {
    let plan = planned("control-archive-documents", Platform::Linux, None);
    let dir = env(&plan, ENV_EXTRACT_DIR).unwrap_or_default().to_string();
    assert_eq!(
        plan.chain[0][1],
        format!("{dir}/Q3-figures-{TOKEN}.txt"),
        "the editor opens the extracted member"
    );
    let windows = planned("control-archive-documents", Platform::Windows, None);
    let dir = env(&windows, ENV_EXTRACT_DIR).unwrap_or_default();
    assert!(
        dir.ends_with(&format!("\\tmp\\Temp1_Q3-figures-{TOKEN}.zip")),
        "{dir}"
    );
}
