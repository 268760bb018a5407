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
//!   artifacts, executables marked 0755.
//!
//! The Windows and macOS formats in [`ArtifactKind`] can be described (for
//! scenarios and reports) but not built by this build; see
//! [`ArtifactKind::buildable_on_this_build`].

pub mod cmdline;
pub mod desktop;
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
mod testutil;

use std::path::PathBuf;

/// The artifact formats chainproof can build or describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// OpenDocument Text with a LibreOffice Basic macro bound to OnLoad.
    OdtMacro,
    /// freedesktop.org Desktop Entry (`.desktop` launcher).
    DesktopEntry,
    /// ISO 9660 disc image (Rock Ridge + Joliet) holding other artifacts.
    Iso,
    /// A plain shell script.
    Script,
    /// Word document with a VBA macro (Windows; described only).
    Docm,
    /// Excel workbook with a VBA macro (Windows; described only).
    Xlsm,
    /// Windows shortcut (described only).
    Lnk,
    /// macOS Terminal `.command` script (described only).
    Command,
    /// macOS disk image (described only).
    Dmg,
}

impl ArtifactKind {
    /// Every kind, in declaration order (for listings and exhaustive tests).
    pub const ALL: [ArtifactKind; 9] = [
        ArtifactKind::OdtMacro,
        ArtifactKind::DesktopEntry,
        ArtifactKind::Iso,
        ArtifactKind::Script,
        ArtifactKind::Docm,
        ArtifactKind::Xlsm,
        ArtifactKind::Lnk,
        ArtifactKind::Command,
        ArtifactKind::Dmg,
    ];

    /// Whether this build of chainproof can produce the artifact's bytes.
    ///
    /// True for the formats a Linux host can both build and open for real;
    /// the others are kept so scenarios written for other platforms still
    /// parse and can be reported as "not runnable here".
    pub fn buildable_on_this_build(self) -> bool {
        matches!(
            self,
            ArtifactKind::OdtMacro
                | ArtifactKind::DesktopEntry
                | ArtifactKind::Iso
                | ArtifactKind::Script
        )
    }

    /// The file name extension (without the dot) the artifact is saved with.
    pub fn extension(self) -> &'static str {
        match self {
            ArtifactKind::OdtMacro => "odt",
            ArtifactKind::DesktopEntry => "desktop",
            ArtifactKind::Iso => "iso",
            ArtifactKind::Script => "sh",
            ArtifactKind::Docm => "docm",
            ArtifactKind::Xlsm => "xlsm",
            ArtifactKind::Lnk => "lnk",
            ArtifactKind::Command => "command",
            ArtifactKind::Dmg => "dmg",
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
    fn extensions_and_buildability() {
        let table = [
            (ArtifactKind::OdtMacro, "odt", true, "\"odt-macro\""),
            (
                ArtifactKind::DesktopEntry,
                "desktop",
                true,
                "\"desktop-entry\"",
            ),
            (ArtifactKind::Iso, "iso", true, "\"iso\""),
            (ArtifactKind::Script, "sh", true, "\"script\""),
            (ArtifactKind::Docm, "docm", false, "\"docm\""),
            (ArtifactKind::Xlsm, "xlsm", false, "\"xlsm\""),
            (ArtifactKind::Lnk, "lnk", false, "\"lnk\""),
            (ArtifactKind::Command, "command", false, "\"command\""),
            (ArtifactKind::Dmg, "dmg", false, "\"dmg\""),
        ];
        assert_eq!(table.len(), ArtifactKind::ALL.len());
        for (kind, ext, buildable, json) in table {
            assert_eq!(kind.extension(), ext, "{kind:?}");
            assert_eq!(kind.buildable_on_this_build(), buildable, "{kind:?}");
            let text = serde_json::to_string(&kind).unwrap();
            assert_eq!(text, json);
            let back: ArtifactKind = serde_json::from_str(&text).unwrap();
            assert_eq!(back, kind);
        }
    }
}
