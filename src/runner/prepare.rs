//! Building what a scenario needs before the open: the artifact's bytes,
//! the staged payload files, and the opener's command.

use std::path::{Path, PathBuf};

use crate::artifact::build;
use crate::payload;
use crate::scenario::template::Vars;
use crate::scenario::{ArtifactSpec, Platform, Variant};
use crate::stage;

/// Builds the artifact's bytes for this host; `command` is the rendered
/// chain step the artifact carries, if it carries one.
pub fn artifact_bytes(
    spec: &ArtifactSpec,
    platform: Platform,
    vars: &Vars,
    token: &str,
    workdir: &Path,
    command: Option<&[String]>,
) -> Result<Vec<u8>, String> {
    let name = vars.render(&spec.name)?;
    let executable = spec
        .executable
        .as_ref()
        .map(|e| vars.render(e))
        .transpose()?;
    let stage = if spec.kind.embeds_stage() {
        let image = stage::own_image().map_err(|e| format!("find the stage program: {e}"))?;
        Some(std::fs::read(&image).map_err(|e| format!("read {}: {e}", image.display()))?)
    } else {
        None
    };
    let workdir = workdir.display().to_string();
    build::build(&build::Input {
        kind: spec.kind,
        platform,
        file_name: &name,
        executable: executable.as_deref(),
        command,
        token,
        workdir: &workdir,
        stage: stage.as_deref(),
    })
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
        set_executable(&path)?;
        written.push(path);
    }
    Ok(written)
}

/// Copies the stage program to `<workdir>/program/<name>`, executable.
///
/// With `starts`, the copy carries that command as its instruction trailer:
/// it starts it itself, as an application starts a file's associated
/// program or its own helper. `Some(&[])` makes a viewer that starts nothing.
pub fn stage_copy(
    workdir: &Path,
    name: &str,
    starts: Option<&[String]>,
) -> Result<PathBuf, String> {
    let dir = workdir.join("program");
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let image = stage::own_image().map_err(|e| format!("find the stage program: {e}"))?;
    let target = dir.join(name);
    match starts {
        None => {
            std::fs::copy(&image, &target)
                .map_err(|e| format!("copy the stage program to {}: {e}", target.display()))?;
        }
        Some(command) => {
            let bytes =
                std::fs::read(&image).map_err(|e| format!("read {}: {e}", image.display()))?;
            std::fs::write(&target, stage::with_trailer(bytes, command))
                .map_err(|e| format!("write {}: {e}", target.display()))?;
        }
    }
    set_executable(&target)?;
    Ok(target)
}

/// Makes a file executable (mode 0755 on Unix; nothing to do on Windows).
pub fn set_executable(path: &Path) -> Result<(), String> {
    crate::platform::host::set_executable(path)
        .map_err(|e| format!("make {} executable: {e}", path.display()))
}
