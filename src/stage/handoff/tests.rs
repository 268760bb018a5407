use std::collections::BTreeMap;

use super::*;
use crate::artifact::archive::{Encryption, Member};

fn env_of(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    move |k| map.get(k).cloned()
}

fn desktop_zip(dir: &Path, password: Option<&str>) -> Result<PathBuf, String> {
    let entry = crate::artifact::desktop::build(
        "Invoice-cp1.pdf.desktop",
        &["/bin/sh".to_string(), "/w/launch-cp1.sh".into()],
    );
    let members = [Member {
        name: "Invoice-cp1.pdf.desktop",
        bytes: entry.as_bytes(),
        executable: true,
    }];
    let bytes = archive::zip(&members, password.map(|p| (Encryption::Aes, p)))
        .map_err(|e| e.to_string())?;
    let path = dir.join("Invoice-cp1.zip");
    std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    marks::set(
        &path,
        "user.xdg.origin.url",
        "http://127.0.0.1:1/files/Invoice-cp1.zip",
    )?;
    Ok(path)
}

/// A played archive tool extracts the member where the plan says, with the
/// password, hands the member on in place of the archive, and carries the
/// origin mark over exactly when the tool it plays does.
#[test]
fn an_archive_tool_extracts_the_member_and_keeps_the_mark_only_if_it_does() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let zip = desktop_zip(dir.path(), Some("pw-1"))?;
    for (tool, keeps) in [("file-roller", false), ("explorer.exe", true)] {
        let out = dir.path().join(tool);
        let env = env_of(&[
            (ENV_EXTRACT_DIR, out.display().to_string()),
            (ENV_PASSWORD, "pw-1".into()),
        ]);
        let mut wrote = Vec::new();
        let args = hand_off(tool, &[zip.display().to_string()], &env, &mut wrote)?;
        let member = out.join("Invoice-cp1.pdf.desktop");
        assert_eq!(args, [member.display().to_string()]);
        assert!(member.exists());
        assert_eq!(wrote.len(), 1);
        assert_eq!(wrote[0].role, "extracted");
        assert_eq!(wrote[0].from, zip.display().to_string());
        assert_eq!(!marks::read(&member).is_empty(), keeps, "{tool}");
        // What the member carries is what the open starts next.
        let command = crate::artifact::instruction::read_command(&member).ok_or("no command")??;
        assert_eq!(command[0], "/bin/sh");
    }
    Ok(())
}

#[test]
fn a_wrong_password_or_no_folder_is_an_error_naming_it() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let zip = desktop_zip(dir.path(), Some("pw-1"))?;
    let arg = [zip.display().to_string()];
    let mut wrote = Vec::new();
    let env = env_of(&[
        (ENV_EXTRACT_DIR, dir.path().join("x").display().to_string()),
        (ENV_PASSWORD, "wrong".into()),
    ]);
    let e = hand_off("file-roller", &arg, &env, &mut wrote)
        .err()
        .unwrap_or_default();
    assert!(e.contains("Invoice-cp1"), "{e}");
    let e = hand_off("file-roller", &arg, &env_of(&[]), &mut wrote)
        .err()
        .unwrap_or_default();
    assert!(
        e.contains(ENV_PASSWORD) || e.contains(ENV_EXTRACT_DIR),
        "{e}"
    );
    assert!(wrote.is_empty());
    // Another application passes the archive through untouched.
    let args = hand_off("soffice.bin", &arg, &env_of(&[]), &mut wrote)?;
    assert_eq!(args, arg);
    Ok(())
}

/// A played mail client saves the attachment of the message it is given
/// in its folder, under the attachment's own name (its last component
/// only), and marks it as the client does.
#[test]
fn a_mail_client_saves_the_attachment_as_that_client_does() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let body = b"%PDF-1.7 benign".to_vec();
    let letter = crate::mail::Letter {
        from: "billing@northwind.example",
        to: "j.doe@corp.example",
        subject: "Invoice cp1",
        body: "attached",
        attachment_name: "Invoice-cp1.pdf",
        attachment: &body,
        token: "cp1",
        domain: "northwind.example",
    };
    let message = crate::mail::compose(&letter).map_err(|e| e.to_string())?;
    let eml = dir.path().join("cp1.eml");
    std::fs::write(&eml, &message.bytes).map_err(|e| e.to_string())?;
    let save = dir.path().join("mozilla_alice0");
    let env = env_of(&[(ENV_SAVE_DIR, save.display().to_string())]);
    let mut wrote = Vec::new();
    let args = hand_off(
        "thunderbird",
        &[eml.display().to_string()],
        &env,
        &mut wrote,
    )?;
    assert_eq!(args, [eml.display().to_string()]);
    let saved = save.join("Invoice-cp1.pdf");
    assert_eq!(std::fs::read(&saved).map_err(|e| e.to_string())?, body);
    assert_eq!(wrote[0].role, "attachment");
    assert_eq!(wrote[0].path, saved.display().to_string());
    // Thunderbird on Linux sets no origin attribute.
    #[cfg(unix)]
    assert!(marks::read(&saved).is_empty());
    Ok(())
}
