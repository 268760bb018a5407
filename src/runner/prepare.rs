//! Building what a scenario needs before the open: the artifact's bytes,
//! the staged payload files, and the opener's command.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::artifact::{ArtifactKind, desktop, iso, odt};
use crate::payload;
use crate::scenario::template::Vars;
use crate::scenario::{ArtifactSpec, Variant};
use crate::stage;

/// Builds the artifact's bytes; `chain0` is the rendered first chain step,
/// the command the artifact carries.
pub fn artifact_bytes(
    spec: &ArtifactSpec,
    vars: &Vars,
    chain0: &[String],
) -> Result<Vec<u8>, String> {
    let name = vars.render(&spec.name)?;
    match spec.kind {
        ArtifactKind::OdtMacro => odt::build(chain0).map_err(|e| format!("build {name}: {e}")),
        ArtifactKind::DesktopEntry => Ok(desktop::build(&name, chain0).into_bytes()),
        ArtifactKind::Iso => {
            let exe_name = vars.render(spec.executable.as_deref().unwrap_or("setup"))?;
            let image = stage::own_image().map_err(|e| format!("find the stage program: {e}"))?;
            let bytes =
                std::fs::read(&image).map_err(|e| format!("read {}: {e}", image.display()))?;
            let files = [iso::IsoFile {
                name: exe_name,
                data: stage::with_trailer(bytes, chain0),
                executable: true,
            }];
            iso::build(&volume_id(&name), &files).map_err(|e| format!("build {name}: {e}"))
        }
        ArtifactKind::Script => Ok(script(chain0).into_bytes()),
        other => Err(format!(
            "`{}` artifacts can only be built for another platform",
            other.extension()
        )),
    }
}

/// A POSIX shell script that runs `argv`, each argument single-quoted.
fn script(argv: &[String]) -> String {
    let quoted: Vec<String> = argv
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    format!(
        "#!/bin/sh\n# chainproof benign script: runs one command, nothing else.\nexec {}\n",
        quoted.join(" ")
    )
}

/// An ISO volume id from the file name: upper case, `A-Z0-9_`, at most 16
/// characters (the Joliet limit), keeping the end, where the token is.
pub fn volume_id(file_name: &str) -> String {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
    let id: Vec<char> = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    id[id.len().saturating_sub(16)..].iter().collect()
}

/// The mount point's folder name for an image: its file name without the
/// extension, as a desktop names the volume's folder.
pub fn mount_dir(file_name: &str) -> String {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
    stem.replace(['/', '\\'], "_")
}

/// Renders and writes the variant's payload files into `workdir`, executable.
pub fn stage_files(variant: &Variant, vars: &Vars, workdir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for (name, template) in &variant.files {
        let text =
            payload::get(template).ok_or_else(|| format!("no payload template `{template}`"))?;
        let file_name = vars.render(name)?;
        // Validation allows file names only; refuse anything else here too.
        if file_name.contains(['/', '\\']) || file_name == ".." {
            return Err(format!(
                "staged file `{file_name}` would leave the run directory"
            ));
        }
        let path = workdir.join(file_name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| format!("create {}: {e}", path.display()))?;
        std::io::Write::write_all(&mut f, vars.render(text)?.as_bytes())
            .map_err(|e| format!("write {}: {e}", path.display()))?;
        set_mode(&path, 0o755)?;
        written.push(path);
    }
    Ok(written)
}

/// Copies the stage program to `<workdir>/program/<name>`, executable.
pub fn emulated_opener(workdir: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = workdir.join("program");
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let image = stage::own_image().map_err(|e| format!("find the stage program: {e}"))?;
    let target = dir.join(name);
    std::fs::copy(&image, &target)
        .map_err(|e| format!("copy the stage program to {}: {e}", target.display()))?;
    set_mode(&target, 0o755)?;
    Ok(target)
}

/// Sets a file's permission bits.
pub fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::volume_id;

    #[test]
    fn scripts_quote_every_argument() -> std::io::Result<()> {
        let argv: Vec<String> = ["/bin/echo", "a b", "it's", "$HOME;x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("s.sh");
        std::fs::write(&path, super::script(&argv))?;
        let out = std::process::Command::new("/bin/sh").arg(&path).output()?;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b it's $HOME;x\n");
        Ok(())
    }

    #[test]
    fn volume_ids_are_iso_d_characters() {
        assert_eq!(volume_id("Invoice-cp0123456789.iso"), "ICE_CP0123456789");
        assert_eq!(volume_id("a.b.iso"), "A_B");
        assert_eq!(volume_id(&"x".repeat(40)).len(), 16);
    }
}
