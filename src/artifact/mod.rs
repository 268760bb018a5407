//! Benign artifacts: the files a T1204.002 simulation asks a user (or a
//! launcher acting for one) to open.
//!
//! This module owns the *bytes* of every artifact chainproof builds. Builders
//! are pure: they take a command line and names, return bytes or text, and are
//! deterministic (the same inputs give the same bytes, timestamps are pinned to
//! constants), so scenarios can be hashed and snapshot-tested. Nothing here
//! writes to disk, spawns a process or opens a document; that is the runner's
//! job. The one exception is [`odt::write_throwaway_profile`], a helper the
//! runner and the tests share to prepare a LibreOffice profile.
//!
//! Each format lives in its own file:
//!
//! - [`odt`]: an OpenDocument Text file whose LibreOffice Basic macro runs on
//!   load and starts a command through Basic's `Shell()`, plus the inverse
//!   ([`odt::read_shell_command`]) for an emulated opener;
//! - [`desktop`]: a freedesktop.org Desktop Entry launcher;
//! - [`iso`]: an ISO 9660 image (Rock Ridge and Joliet) holding other
//!   artifacts, executables marked 0755;
//! - [`dmg`]: an Apple disk image (UDIF, a FAT volume inside) holding an
//!   [`app`] bundle around the stage program.
//!
//! Every format in [`ArtifactKind`] is built on every platform (the bytes
//! are data); [`build`] chooses the builder for a scenario's artifact.

pub mod app;
pub mod archive;
pub mod build;
pub mod cmdline;
pub mod desktop;
pub mod dmg;
pub mod handling;
pub mod instruction;
pub mod iso;
pub mod lnk;
pub mod odt;
pub mod origin;
pub mod pdf;
pub mod reg;
pub mod rtf;
pub mod scripts;
pub mod vba;
pub mod vhd;

#[cfg(test)]
pub(crate) mod testutil;

use std::path::PathBuf;

/// The artifact formats chainproof builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// OpenDocument Text with a LibreOffice Basic macro bound to OnLoad.
    OdtMacro,
    /// freedesktop.org Desktop Entry (`.desktop` launcher).
    DesktopEntry,
    /// ISO 9660 disc image (Rock Ridge + Joliet) holding the stage program.
    Iso,
    /// The same ISO 9660 image saved as `.img`, as phishing mails send it.
    Img,
    /// A fixed VHD (MBR + FAT partition) holding the stage program.
    Vhd,
    /// A POSIX shell script (`.sh`).
    Script,
    /// Word document with a VBA project whose AutoOpen/Document_Open runs the command.
    Docm,
    /// Excel workbook with a VBA project whose Auto_Open/Workbook_Open runs the command.
    Xlsm,
    /// PDF whose OpenAction is a Launch action.
    Pdf,
    /// RTF document with a DDEAUTO field.
    Rtf,
    /// Windows shortcut (MS-SHLLINK).
    Lnk,
    /// JScript file run by Windows Script Host.
    Js,
    /// VBScript file run by Windows Script Host.
    Vbs,
    /// HTML Application run by mshta.
    Hta,
    /// Registry import file (one benign value under `HKCU\Software\chainproof`).
    Reg,
    /// Control-panel item (the stage program with its instruction; emulated).
    Cpl,
    /// A downloaded program: the stage program with its instruction appended.
    Executable,
    /// macOS Terminal `.command` script.
    Command,
    /// AppleScript source text (`.applescript`) run by osascript. Compiled
    /// `.scpt` is Apple's binary format, which only `osacompile` writes;
    /// `scpt` is still accepted as this kind's name in scenario files.
    #[serde(rename = "applescript", alias = "scpt")]
    AppleScript,
    /// macOS disk image: UDIF (what `hdiutil` writes) holding a FAT volume
    /// with the stage program as an `.app` bundle.
    Dmg,
    /// A plain text note (negative controls).
    Text,
    /// A ZIP archive holding one other artifact, plain or password-protected
    /// (ZipCrypto or AES-256).
    Zip,
    /// A 7z archive holding one other artifact, plain or AES-256 protected.
    #[serde(rename = "7z")]
    SevenZ,
}

impl ArtifactKind {
    /// Every kind, in declaration order (for listings and exhaustive tests).
    pub const ALL: [ArtifactKind; 23] = [
        ArtifactKind::OdtMacro,
        ArtifactKind::DesktopEntry,
        ArtifactKind::Iso,
        ArtifactKind::Img,
        ArtifactKind::Vhd,
        ArtifactKind::Script,
        ArtifactKind::Docm,
        ArtifactKind::Xlsm,
        ArtifactKind::Pdf,
        ArtifactKind::Rtf,
        ArtifactKind::Lnk,
        ArtifactKind::Js,
        ArtifactKind::Vbs,
        ArtifactKind::Hta,
        ArtifactKind::Reg,
        ArtifactKind::Cpl,
        ArtifactKind::Executable,
        ArtifactKind::Command,
        ArtifactKind::AppleScript,
        ArtifactKind::Dmg,
        ArtifactKind::Text,
        ArtifactKind::Zip,
        ArtifactKind::SevenZ,
    ];

    /// The usual file name extension (without the dot); empty for programs
    /// without one.
    pub fn extension(self) -> &'static str {
        match self {
            ArtifactKind::OdtMacro => "odt",
            ArtifactKind::DesktopEntry => "desktop",
            ArtifactKind::Iso => "iso",
            ArtifactKind::Img => "img",
            ArtifactKind::Vhd => "vhd",
            ArtifactKind::Script => "sh",
            ArtifactKind::Docm => "docm",
            ArtifactKind::Xlsm => "xlsm",
            ArtifactKind::Pdf => "pdf",
            ArtifactKind::Rtf => "rtf",
            ArtifactKind::Lnk => "lnk",
            ArtifactKind::Js => "js",
            ArtifactKind::Vbs => "vbs",
            ArtifactKind::Hta => "hta",
            ArtifactKind::Reg => "reg",
            ArtifactKind::Cpl => "cpl",
            ArtifactKind::Executable => "",
            ArtifactKind::Command => "command",
            ArtifactKind::AppleScript => "applescript",
            ArtifactKind::Dmg => "dmg",
            ArtifactKind::Text => "txt",
            ArtifactKind::Zip => "zip",
            ArtifactKind::SevenZ => "7z",
        }
    }

    /// A disk image that is mounted and holds the stage program.
    pub fn is_disk_image(self) -> bool {
        matches!(
            self,
            ArtifactKind::Iso | ArtifactKind::Img | ArtifactKind::Vhd | ArtifactKind::Dmg
        )
    }

    /// An archive holding another artifact (its `member`).
    pub fn is_archive(self) -> bool {
        matches!(self, ArtifactKind::Zip | ArtifactKind::SevenZ)
    }

    /// The artifact's bytes include a copy of the stage program (an
    /// archive's depend on its member: see the plan's artifact step).
    pub fn embeds_stage(self) -> bool {
        self.is_disk_image() || matches!(self, ArtifactKind::Executable | ArtifactKind::Cpl)
    }

    /// The artifact carries a command (false for data the opener only reads).
    pub fn carries_command(self) -> bool {
        !matches!(self, ArtifactKind::Reg | ArtifactKind::Text)
    }

    /// What the artifact is, for plans and reports.
    pub fn describe(self) -> &'static str {
        match self {
            ArtifactKind::OdtMacro => "an ODT document with a Basic macro bound to OnLoad",
            ArtifactKind::DesktopEntry => "a .desktop launcher",
            ArtifactKind::Iso => "an ISO 9660 image holding the stage program",
            ArtifactKind::Img => "an ISO 9660 image saved as .img, holding the stage program",
            ArtifactKind::Vhd => "a fixed VHD (MBR, FAT) holding the stage program",
            ArtifactKind::Script => "a shell script",
            ArtifactKind::Docm => "a macro-enabled Word document (VBA AutoOpen, Document_Open)",
            ArtifactKind::Xlsm => "a macro-enabled Excel workbook (VBA Auto_Open, Workbook_Open)",
            ArtifactKind::Pdf => "a PDF whose OpenAction is a Launch action",
            ArtifactKind::Rtf => "an RTF document with a DDEAUTO field",
            ArtifactKind::Lnk => "a Windows shortcut (MS-SHLLINK)",
            ArtifactKind::Js => "a JScript file",
            ArtifactKind::Vbs => "a VBScript file",
            ArtifactKind::Hta => "an HTML Application",
            ArtifactKind::Reg => {
                "a registry import file writing one value under HKCU\\Software\\chainproof"
            }
            ArtifactKind::Cpl => "a control-panel item (the stage program)",
            ArtifactKind::Executable => "a program (the stage program)",
            ArtifactKind::Command => "a Terminal .command script",
            ArtifactKind::AppleScript => "an AppleScript source file",
            ArtifactKind::Dmg => "an Apple disk image (UDIF)",
            ArtifactKind::Text => "a text note",
            ArtifactKind::Zip => "a ZIP archive holding another artifact",
            ArtifactKind::SevenZ => "a 7z archive holding another artifact",
        }
    }
}

/// Why an artifact could not be built or read back.
///
/// Messages are lowercase fragments that read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The command line was empty: there is no program to run.
    #[error("build a command from an empty argv")]
    EmptyCommand,
    /// The program (`argv[0]`) was an empty string.
    #[error("build a command whose program (argv[0]) is empty")]
    EmptyProgram,
    /// An argument holds characters the target launcher cannot pass through.
    #[error("encode argument {index} ({argument:?}) for {launcher}: {reason}")]
    Unencodable {
        /// What would carry the argument, e.g. "libreoffice basic shell()".
        launcher: &'static str,
        /// Position in the argv (0 is the program).
        index: usize,
        /// The offending argument.
        argument: String,
        /// Which characters are the problem.
        reason: &'static str,
    },
    /// Adding an entry to a zip-based document failed.
    #[error("write {entry} into the zip archive")]
    ZipWrite {
        /// Name of the entry inside the archive.
        entry: String,
        /// Error from the zip writer.
        #[source]
        source: zip::result::ZipError,
    },
    /// Opening a zip-based document or one of its entries failed.
    #[error("read {entry} from the zip archive")]
    ZipRead {
        /// Name of the entry inside the archive (empty for the archive itself).
        entry: String,
        /// Error from the zip reader.
        #[source]
        source: zip::result::ZipError,
    },
    /// Reading the bytes of an archive entry failed.
    #[error("read the bytes of {entry}")]
    EntryIo {
        /// Name of the entry inside the archive.
        entry: String,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An archive entry was not UTF-8 text.
    #[error("decode {entry} as utf-8")]
    NotUtf8 {
        /// Name of the entry inside the archive.
        entry: String,
        /// Decoding error.
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// An XML entry did not have the shape this module writes.
    #[error("understand {entry}: {detail}")]
    Xml {
        /// Name of the entry inside the archive.
        entry: String,
        /// What was missing or malformed.
        detail: String,
    },
    /// The document does not bind a document macro to its OnLoad event.
    #[error("find an onload event binding to a document basic macro in content.xml")]
    NoOnLoadBinding,
    /// The Basic source could not be understood.
    #[error("parse the basic module at character {offset}: {detail}")]
    Basic {
        /// Character offset in the module text.
        offset: usize,
        /// What was unexpected.
        detail: String,
    },
    /// A `Shell()` argument decoded from the macro is not valid text.
    #[error("decode argument {index} of the shell() command line: {detail}")]
    ShellArgument {
        /// Position in the argv (0 is the program).
        index: usize,
        /// What was wrong.
        detail: String,
    },
    /// The macro bound to OnLoad contains no `Shell()` call.
    #[error("find a shell() call in basic macro {macro_name}")]
    NoShellCall {
        /// Name of the Basic Sub that was searched.
        macro_name: String,
    },
    /// A Desktop Entry could not be read back.
    #[error("read the desktop entry: {detail}")]
    DesktopEntry {
        /// What was missing or malformed.
        detail: String,
    },
    /// Writing a file on the host failed.
    #[error("write {path}")]
    Write {
        /// The file or directory being written.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A volume id or file name cannot be stored in the ISO image.
    #[error("use {name:?} in the iso image: {reason}")]
    IsoName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The ISO writer failed.
    #[error("write the iso image")]
    Iso {
        /// Error from hadris-iso.
        #[source]
        source: hadris_iso::write::IsoCreationError,
    },
    /// The written image did not have the layout the timestamp pinning expects.
    #[error("pin the timestamps of the iso image: {detail}")]
    IsoLayout {
        /// What was unexpected.
        detail: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialize_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for kind in ArtifactKind::ALL {
            let text = serde_json::to_string(&kind).unwrap();
            assert!(seen.insert(text.clone()), "{text} twice");
            let back: ArtifactKind = serde_json::from_str(&text).unwrap();
            assert_eq!(back, kind);
            assert!(!kind.describe().is_empty());
            if kind.is_disk_image() {
                assert!(kind.embeds_stage(), "{kind:?}");
            }
        }
        assert_eq!(
            serde_json::to_string(&ArtifactKind::OdtMacro).unwrap(),
            "\"odt-macro\""
        );
        // Scenario files written for the old name still load.
        let old: ArtifactKind = serde_json::from_str("\"scpt\"").unwrap();
        assert_eq!(old, ArtifactKind::AppleScript);
        assert_eq!(serde_json::to_string(&old).unwrap(), "\"applescript\"");
        assert!(!ArtifactKind::Reg.carries_command());
        assert!(ArtifactKind::Lnk.carries_command());
    }
}
