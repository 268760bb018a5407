//! Writing what a plan's steps stage before the open: copies of the stage
//! program, payload files, executable bits.

use std::path::{Path, PathBuf};

use crate::stage;

/// Writes a payload file the plan rendered, executable; never over an
/// existing file.
pub fn write_payload(path: &Path, text: &str) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("create {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    set_executable(path)
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
