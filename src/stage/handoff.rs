//! What a played mail client or archive tool does with the file it is
//! given before anything is started: a mail client saves the message's
//! attachment where that client saves it and marks it as that client does;
//! an archive tool extracts the member where that tool does and carries the
//! archive's origin mark over only if that tool does. The folders come
//! from the plan (through the environment), the policies from
//! [`handling`](crate::artifact::handling).

use std::path::{Path, PathBuf};

use super::{ENV_EXTRACT_DIR, ENV_PASSWORD, ENV_SAVE_DIR, StageWrote};
use crate::artifact::archive::{self, Format};
use crate::artifact::handling::{self, ArchiveTool, MailClient};
use crate::platform::marks;

/// Does what the application named `me` does with the files among `args`,
/// and returns the arguments the open continues with: an extracted member
/// in place of its archive. Files written are pushed to `wrote`. `env`
/// reads the process's environment (the plan's folders and password).
pub(super) fn hand_off(
    me: &str,
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
    wrote: &mut Vec<StageWrote>,
) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        let path = Path::new(arg);
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match (
            ext.as_str(),
            handling::mail_client(me),
            handling::archive_tool(me),
        ) {
            ("eml", Some(client), _) => {
                let saved = save_attachment(client, path, env)?;
                wrote.push(StageWrote {
                    role: "attachment".into(),
                    path: saved.display().to_string(),
                    from: arg.clone(),
                    policy: client.why.into(),
                });
                out.push(arg.clone());
            }
            ("zip" | "7z", _, Some(tool)) => {
                let format = if ext == "zip" {
                    Format::Zip
                } else {
                    Format::SevenZ
                };
                let member = extract(tool, path, format, env)?;
                wrote.push(StageWrote {
                    role: "extracted".into(),
                    path: member.display().to_string(),
                    from: arg.clone(),
                    policy: tool.why.into(),
                });
                out.push(member.display().to_string());
            }
            _ => out.push(arg.clone()),
        }
    }
    Ok(out)
}

fn folder(var: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    env(var).map(PathBuf::from).ok_or_else(|| {
        format!("{var} is not set: the harness names the folder this application writes in")
    })
}

/// Saves the message's first attachment into the client's folder.
fn save_attachment(
    client: &MailClient,
    message: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, String> {
    let raw = std::fs::read(message).map_err(|e| format!("read {}: {e}", message.display()))?;
    let attachments = crate::mail::attachments(&raw)
        .map_err(|e| format!("read the attachments of {}: {e}", message.display()))?;
    let first = attachments
        .into_iter()
        .next()
        .ok_or_else(|| format!("{} has no attachment", message.display()))?;
    // A name from a message is untrusted: keep its last component only.
    let name = Path::new(&first.name)
        .file_name()
        .filter(|n| !n.is_empty() && *n != "..")
        .ok_or_else(|| format!("the attachment's name {:?} is not a file name", first.name))?
        .to_owned();
    let dir = folder(ENV_SAVE_DIR, env)?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let saved = dir.join(name);
    std::fs::write(&saved, &first.bytes).map_err(|e| format!("write {}: {e}", saved.display()))?;
    if client.marks_attachment {
        mark_attachment(client, &saved)?;
    }
    Ok(saved)
}

/// The mark the client sets on a saved attachment.
fn mark_attachment(client: &MailClient, saved: &Path) -> Result<(), String> {
    use crate::artifact::origin;
    match client.platform {
        crate::vocab::Platform::Windows => {
            let text =
                origin::zone_identifier(origin::UNKNOWN_HOST_URL, "").map_err(|e| e.to_string())?;
            marks::set(saved, marks::ZONE_STREAM, &text)
        }
        crate::vocab::Platform::Macos => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let value = origin::quarantine_value(
                origin::QUARANTINE_FLAGS_DOWNLOAD,
                now,
                client.name,
                &handling::uuid(&saved.display().to_string()),
            )
            .map_err(|e| e.to_string())?;
            marks::set(saved, origin::QUARANTINE_XATTR, &value)
        }
        crate::vocab::Platform::Linux => Ok(()),
    }
}

/// Extracts the archive's one member into the tool's folder.
fn extract(
    tool: &ArchiveTool,
    path: &Path,
    format: Format,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, String> {
    let password = env(ENV_PASSWORD);
    let names = archive::list(path, format, password.as_deref())
        .map_err(|e| format!("list {}: {e}", path.display()))?;
    let name = names
        .first()
        .ok_or_else(|| format!("{} holds no file", path.display()))?;
    let dir = folder(ENV_EXTRACT_DIR, env)?;
    let member = archive::extract(path, format, password.as_deref(), name, &dir)
        .map_err(|e| format!("extract {name} from {}: {e}", path.display()))?;
    if tool.propagates_mark {
        marks::copy(path, &member)?;
    }
    Ok(member)
}

#[cfg(test)]
mod tests;
