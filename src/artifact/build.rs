//! Chooses the builder for a scenario's artifact: from the kind, the target
//! platform and the command the artifact carries to the file's bytes.
//!
//! Pure, like every builder: the stage program's bytes (for disk images and
//! programs) are passed in, never read here. The same code builds a Windows
//! shortcut on Linux and on Windows, so `chainproof build` can hand a lab
//! host its artifacts and tests can check them with third-party parsers.

use super::instruction::with_trailer;
use super::{
    ArtifactKind, app, archive, cmdline, desktop, dmg, iso, lnk, odt, pdf, reg, rtf, scripts, vba,
    vhd,
};
use crate::vocab::Platform;

/// What one artifact is made of.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// Format.
    pub kind: ArtifactKind,
    /// The platform that will open it (chooses command-line quoting).
    pub platform: Platform,
    /// The file's name (rendered; holds the run token).
    pub file_name: &'a str,
    /// For disk images: the name of the program inside.
    pub executable: Option<&'a str>,
    /// The command the artifact carries (rendered argv), if it carries one.
    pub command: Option<&'a [String]>,
    /// For a PDF that carries no command: the address its link points to.
    pub link: Option<&'a str>,
    /// The run token.
    pub token: &'a str,
    /// The run directory as the target sees it (a shortcut's working folder).
    pub workdir: &'a str,
    /// The stage program's bytes, for kinds that embed it.
    pub stage: Option<&'a [u8]>,
    /// For archives: the file inside, built first.
    pub member: Option<Box<Input<'a>>>,
    /// For archives: the cipher and password.
    pub protect: Option<(archive::Encryption, &'a str)>,
}

/// The command line the target platform's launcher receives for `argv`.
pub fn command_line(platform: Platform, argv: &[String]) -> String {
    match platform {
        Platform::Windows => cmdline::windows_join(argv),
        Platform::Linux | Platform::Macos => cmdline::posix_join(argv),
    }
}

/// Splits a command line read from an artifact by this host's rules.
pub fn split_here(line: &str) -> Result<Vec<String>, String> {
    if cfg!(windows) {
        Ok(cmdline::windows_split(line))
    } else {
        cmdline::posix_split(line)
    }
}

/// Where a disk image of `kind` holds its program `exe`, from the image's
/// root: a DMG's is inside an application bundle, as Mac programs ship.
pub fn image_program(kind: ArtifactKind, exe: &str) -> String {
    match kind {
        ArtifactKind::Dmg => app::executable_path(exe),
        _ => exe.to_string(),
    }
}

/// The registry key a `.reg` artifact writes for run `token`.
pub fn reg_key(token: &str) -> String {
    format!("HKEY_CURRENT_USER\\Software\\chainproof\\{token}")
}

/// The shortcut's icon: Microsoft Edge's PDF document icon (index 11 in
/// `msedge.exe`), which shortcut lures posing as PDF invoices have used
/// (Qakbot's 2022-2023 campaigns among them): the file looks like a
/// document in Explorer. The literal path, as those lures carry it, so no
/// environment block is written.
const LNK_ICON: (&str, i32) = (
    r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
    11,
);

/// The FileSize a shortcut's header gives its target: what the shell
/// stored when the link was made. The sizes are of the order of the x64
/// Windows 10/11 files (powershell.exe about 450 KB, cmd.exe about 290 KB);
/// the exact value varies by build and nothing compares it with the
/// target, so a plausible non-zero size is all it needs to be. Other
/// programs get a size of the same order.
fn lnk_target_size(target: &str) -> u32 {
    let name = target.rsplit(['\\', '/']).next().unwrap_or(target);
    if name.eq_ignore_ascii_case("powershell.exe") {
        452_608
    } else if name.eq_ignore_ascii_case("cmd.exe") {
        289_792
    } else {
        327_680
    }
}

/// The arguments of a Windows command line without its program.
fn windows_arguments(argv: &[String]) -> String {
    let all = cmdline::windows_join(argv);
    let program = cmdline::windows_join(&argv[..1.min(argv.len())]);
    all.strip_prefix(&program)
        .map(|rest| rest.trim_start().to_string())
        .unwrap_or_default()
}

/// Builds the artifact's bytes.
pub fn build(input: &Input<'_>) -> Result<Vec<u8>, String> {
    let name = input.file_name;
    let fail = |e: &dyn std::fmt::Display| format!("build {name}: {e}");
    let command = || -> Result<&[String], String> {
        match input.command {
            Some(c) if !c.is_empty() => Ok(c),
            _ => Err(format!(
                "build {name}: {} needs a command to carry",
                input.kind.describe()
            )),
        }
    };
    let stage_with_command = || -> Result<Vec<u8>, String> {
        let bytes = input.stage.ok_or_else(|| {
            format!("build {name}: the stage program's bytes are needed to embed it")
        })?;
        Ok(with_trailer(bytes.to_vec(), command()?))
    };
    let line = || command().map(|c| command_line(input.platform, c));
    match input.kind {
        ArtifactKind::OdtMacro => odt::build(command()?).map_err(|e| fail(&e)),
        ArtifactKind::DesktopEntry => Ok(desktop::build(name, command()?).into_bytes()),
        ArtifactKind::Dmg => {
            // A Mac program travels as an application bundle, not a bare
            // file (see `image_program`).
            let exe = input.executable.unwrap_or("Setup");
            let files: Vec<dmg::DmgFile> = app::files(exe, stage_with_command()?)
                .into_iter()
                .map(|f| dmg::DmgFile {
                    path: f.path,
                    data: f.data,
                })
                .collect();
            dmg::build(&dmg::label_for(name), &files).map_err(|e| fail(&e))
        }
        ArtifactKind::Iso | ArtifactKind::Img => {
            let exe = input.executable.unwrap_or("setup").to_string();
            let files = [iso::IsoFile {
                name: exe,
                data: stage_with_command()?,
                executable: true,
            }];
            iso::build(&volume_id(name, input.token, 16), &files).map_err(|e| fail(&e))
        }
        ArtifactKind::Vhd => {
            let exe = input.executable.unwrap_or("setup.exe").to_string();
            let files = [(exe, stage_with_command()?)];
            // FAT labels hold 11 characters.
            vhd::vhd_with_files(&volume_id(name, input.token, 11), &files).map_err(|e| fail(&e))
        }
        ArtifactKind::Executable | ArtifactKind::Cpl => stage_with_command(),
        ArtifactKind::Script => scripts::posix_sh(command()?)
            .map(String::into_bytes)
            .map_err(|e| fail(&e)),
        ArtifactKind::Command => scripts::macos_command(command()?)
            .map(String::into_bytes)
            .map_err(|e| fail(&e)),
        ArtifactKind::AppleScript => scripts::applescript(command()?)
            .map(String::into_bytes)
            .map_err(|e| fail(&e)),
        ArtifactKind::Js => scripts::jscript(&line()?)
            .map(String::into_bytes)
            .map_err(|e| fail(&e)),
        ArtifactKind::Vbs => scripts::vbscript(&line()?)
            .map(String::into_bytes)
            .map_err(|e| fail(&e)),
        ArtifactKind::Hta => scripts::hta(&line()?)
            .map(String::into_bytes)
            .map_err(|e| fail(&e)),
        ArtifactKind::Docm => vba::build_docm(&line()?).map_err(|e| fail(&e)),
        ArtifactKind::Xlsm => vba::build_xlsm(&line()?).map_err(|e| fail(&e)),
        ArtifactKind::Rtf => rtf::build(&line()?).map_err(|e| fail(&e)),
        ArtifactKind::Pdf if input.command.is_none() => {
            let link = input
                .link
                .ok_or_else(|| format!("build {name}: a pdf needs a command or a link"))?;
            pdf::build_link(&format!("Document {}", input.token), link).map_err(|e| fail(&e))
        }
        ArtifactKind::Pdf => {
            let argv = command()?;
            let launch = pdf::Launch {
                program: argv[0].clone(),
                // A reader hands /P to the program as its command line:
                // Windows gets cmd.exe's own form (`/c` text verbatim).
                parameters: match input.platform {
                    Platform::Windows => windows_arguments(argv),
                    Platform::Linux | Platform::Macos => command_line(input.platform, &argv[1..]),
                },
                directory: match input.platform {
                    Platform::Windows => input.workdir.to_string(),
                    // Only the /Win dictionary has a directory key.
                    Platform::Linux | Platform::Macos => String::new(),
                },
                on: match input.platform {
                    Platform::Windows => pdf::LaunchOn::Windows,
                    Platform::Linux => pdf::LaunchOn::Unix,
                    Platform::Macos => pdf::LaunchOn::Mac,
                },
            };
            pdf::build(&format!("Document {}", input.token), &launch).map_err(|e| fail(&e))
        }
        ArtifactKind::Lnk => {
            let argv = command()?;
            let shortcut = lnk::Shortcut {
                target: argv[0].clone(),
                arguments: windows_arguments(argv),
                working_dir: input.workdir.to_string(),
                icon_location: LNK_ICON.0.into(),
                icon_index: LNK_ICON.1,
                description: format!("Invoice {}", input.token),
                show_command: lnk::ShowCommand::MinNoActive,
                target_size: lnk_target_size(&argv[0]),
            };
            lnk::build(&shortcut).map_err(|e| fail(&e))
        }
        ArtifactKind::Reg => {
            let values = [reg::RegValue {
                key: reg_key(input.token),
                name: "marker".into(),
                data: input.token.to_string(),
            }];
            reg::build(&values).map_err(|e| fail(&e))
        }
        ArtifactKind::Zip | ArtifactKind::SevenZ => {
            let member = input
                .member
                .as_deref()
                .ok_or_else(|| format!("build {name}: an archive needs its member"))?;
            let bytes = build(member)?;
            let members = [archive::Member {
                name: member.file_name,
                bytes: &bytes,
                executable: member.kind.embeds_stage()
                    || matches!(
                        member.kind,
                        ArtifactKind::Script | ArtifactKind::Command | ArtifactKind::DesktopEntry
                    ),
            }];
            let built = if input.kind == ArtifactKind::Zip {
                archive::zip(&members, input.protect)
            } else {
                archive::seven_z(&members, input.protect.map(|(_, p)| p))
            };
            built.map_err(|e| fail(&e))
        }
        ArtifactKind::Text => Ok(format!(
            "Notes {}\nA benign text file written by chainproof for a negative control.\n",
            input.token
        )
        .into_bytes()),
    }
}

/// A volume label from the file name, as the person who made a lure would
/// name the disc: the stem's words without the run token, upper case,
/// `A-Z0-9_` joined by `_`, at most `max` characters (11 for FAT, 16 for
/// ISO 9660 and Joliet), cut at the end so the first word stays whole.
/// `Invoice-cp0123456789.iso` gives `INVOICE`, `Order 0412-cp….iso`
/// `ORDER_0412`. Without a word left, `DISK`. The run token stays in the
/// file name and the command lines; a label holding it (`ICE_CP0123…`)
/// would be a fingerprint no real disc has.
pub fn volume_id(file_name: &str, token: &str, max: usize) -> String {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
    let words: Vec<String> = stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case(token))
        .map(str::to_ascii_uppercase)
        .collect();
    let mut label = words.join("_");
    label.truncate(max);
    let label = label.trim_end_matches('_').to_owned();
    if label.is_empty() {
        "DISK".to_owned()
    } else {
        label
    }
}

#[cfg(test)]
mod tests;
