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
            iso::build(&volume_id(name), &files).map_err(|e| fail(&e))
        }
        ArtifactKind::Vhd => {
            let exe = input.executable.unwrap_or("setup.exe").to_string();
            let files = [(exe, stage_with_command()?)];
            // FAT labels hold 11 characters; keep the end, where the token is.
            let label = volume_id(name);
            let label = &label[label.len().saturating_sub(11)..];
            vhd::vhd_with_files(label, &files).map_err(|e| fail(&e))
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
                directory: input.workdir.to_string(),
            };
            pdf::build(&format!("Document {}", input.token), &launch).map_err(|e| fail(&e))
        }
        ArtifactKind::Lnk => {
            let argv = command()?;
            let shortcut = lnk::Shortcut {
                target: argv[0].clone(),
                arguments: windows_arguments(argv),
                working_dir: input.workdir.to_string(),
                icon_location: "%SystemRoot%\\System32\\shell32.dll".into(),
                icon_index: 1,
                description: format!("Invoice {}", input.token),
                show_command: lnk::ShowCommand::MinNoActive,
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

/// A volume label from the file name: upper case, `A-Z0-9_`, at most 11
/// characters for FAT and 16 for Joliet; keeps the end, where the token is.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_ids_are_iso_d_characters() {
        assert_eq!(volume_id("Invoice-cp0123456789.iso"), "ICE_CP0123456789");
        assert_eq!(volume_id("a.b.iso"), "A_B");
        assert_eq!(volume_id(&"x".repeat(40)).len(), 16);
    }

    /// A Windows PDF's Launch parameters are what cmd.exe itself reads.
    #[test]
    fn a_windows_pdf_hands_cmd_its_own_command_line() {
        let argv: Vec<String> = [
            r"C:\Windows\System32\cmd.exe",
            "/c",
            r#"echo x>"C:\t\p.txt" & exit"#,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let bytes = build(&Input {
            kind: ArtifactKind::Pdf,
            platform: Platform::Windows,
            file_name: "a-cp1.pdf",
            executable: None,
            command: Some(&argv),
            token: "cp1",
            workdir: r"C:\t",
            stage: None,
            member: None,
            protect: None,
        })
        .unwrap();
        let launch = pdf::read_launch(&bytes).unwrap();
        assert_eq!(launch.program, argv[0]);
        assert_eq!(launch.parameters, r#"/c echo x>"C:\t\p.txt" & exit"#);
        let back = cmdline::windows_split(&format!("\"{}\" {}", launch.program, launch.parameters));
        assert_eq!(back, argv);
    }

    #[test]
    fn windows_arguments_drop_only_the_program() {
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            windows_arguments(&argv(&[
                r"C:\Windows\System32\cmd.exe",
                "/c",
                "echo a & echo b"
            ])),
            "/c echo a & echo b"
        );
        assert_eq!(
            windows_arguments(&argv(&[r"C:\Program Files\x.exe", "a b", "c"])),
            "\"a b\" c"
        );
    }
}
