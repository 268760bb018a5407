//! The instruction codec: how an artifact carries the one command the
//! emulated opener starts, and how it is read back.
//!
//! Writing is done by each format's builder (a macro's `Shell()` call, a
//! desktop entry's `Exec=` line, a PDF's launch action…) and, for programs
//! and disk images, by [`with_trailer`], which appends the command to a copy
//! of the stage program. Reading is here: [`read_command`] dispatches on the
//! file's extension to each format's reader, [`read_trailer`] reads a stage
//! program's own trailer. The `stage` program uses both; keeping the two
//! halves in `artifact` means the format of an instruction is defined in
//! one module and the stage program depends on it, not the other way round.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::build::split_here;
use super::{cmdline, desktop, lnk, odt, pdf, rtf, vba};

/// Marks the end of a stage program that carries an instruction trailer.
const TRAILER_MAGIC: &[u8; 8] = b"CPSTAGE1";

/// Appends `command` as an instruction trailer to a copy of the stage
/// program's bytes; ELF loaders ignore bytes past the last segment.
pub fn with_trailer(mut exe: Vec<u8>, command: &[String]) -> Vec<u8> {
    let json = serde_json::to_vec(command).unwrap_or_default();
    exe.extend_from_slice(&json);
    exe.extend_from_slice(&(json.len() as u64).to_le_bytes());
    exe.extend_from_slice(TRAILER_MAGIC);
    exe
}

/// The instruction appended to a stage program's file, if it has one.
pub fn read_trailer(exe: &Path) -> Result<Option<Vec<String>>, String> {
    let mut f =
        std::fs::File::open(exe).map_err(|e| format!("open own image {}: {e}", exe.display()))?;
    let mut tail = [0u8; 16];
    f.seek(SeekFrom::End(-16))
        .and_then(|_| f.read_exact(&mut tail))
        .map_err(|e| e.to_string())?;
    if &tail[8..] != TRAILER_MAGIC {
        return Ok(None);
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&tail[..8]);
    let len = u64::from_le_bytes(len);
    if len > 64 * 1024 {
        return Err("instruction trailer is too large".into());
    }
    let start = i64::try_from(len + 16).map_err(|e| e.to_string())?;
    let mut json = vec![0u8; len as usize];
    f.seek(SeekFrom::End(-start))
        .and_then(|_| f.read_exact(&mut json))
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|e| format!("instruction trailer: {e}"))
}

/// The command an artifact file carries, read back the way the emulated
/// opener reads it; `None` when the format is not one that carries a command
/// readable here.
pub fn read_command(path: &Path) -> Option<Result<Vec<String>, String>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())?
        .to_ascii_lowercase();
    let read = || std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()));
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let result = match ext.as_str() {
        "odt" => read().and_then(|b| odt::read_shell_command(&b).map_err(|e| at(&e))),
        "desktop" => read()
            .and_then(|b| desktop::read_command(&String::from_utf8_lossy(&b)).map_err(|e| at(&e))),
        "docm" | "xlsm" => read()
            .and_then(|b| vba::read_command_line(&b).map_err(|e| at(&e)))
            .and_then(|line| split_here(&line)),
        "rtf" => read()
            .and_then(|b| rtf::read_command_line(&b).map_err(|e| at(&e)))
            .and_then(|line| split_here(&line)),
        "pdf" => read()
            .and_then(|b| pdf::read_launch(&b).map_err(|e| at(&e)))
            .and_then(|l| {
                if cfg!(windows) {
                    return Ok(cmdline::windows_split(&format!(
                        "\"{}\" {}",
                        l.program, l.parameters
                    )));
                }
                let mut argv = vec![l.program];
                argv.extend(split_here(&l.parameters)?);
                Ok(argv)
            }),
        "lnk" => read()
            .and_then(|b| lnk::read(&b).map_err(|e| at(&e)))
            .map(|s| cmdline::windows_split(&format!("\"{}\" {}", s.target, s.arguments))),
        // A control-panel item is the stage program with its instruction.
        "cpl" => read_trailer(path)
            .and_then(|t| t.ok_or_else(|| format!("{}: no instruction trailer", path.display()))),
        _ => return None,
    };
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailer_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("Setup-cp1");
        let command = vec![
            "/bin/sh".to_string(),
            "-c".into(),
            "touch 'x y'; exit 0".into(),
        ];
        std::fs::write(
            &path,
            with_trailer(b"\x7fELF fake image".to_vec(), &command),
        )?;
        assert_eq!(read_trailer(&path), Ok(Some(command)));
        std::fs::write(&path, b"\x7fELF with no trailer at all....")?;
        assert_eq!(read_trailer(&path), Ok(None));
        Ok(())
    }
}
