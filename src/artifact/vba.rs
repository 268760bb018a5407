//! Office documents with a real VBA project: a macro-enabled Word document
//! (`.docm`, [`build_docm`]) and Excel workbook (`.xlsm`, [`build_xlsm`]).
//!
//! Each is an Open Packaging Convention zip (ECMA-376): `[Content_Types].xml`
//! first (so `file(1)` reports "Microsoft Word 2007+" / "Microsoft Excel
//! 2007+"), the package relationships, `docProps/core.xml` and
//! `docProps/app.xml`, a minimal body (a paragraph, or one sheet, reading
//! [`BODY_MARKER`]) and `word/vbaProject.bin` / `xl/vbaProject.bin`, bound to
//! the main part by a relationship of type
//! `http://schemas.microsoft.com/office/2006/relationships/vbaProject`.
//!
//! `vbaProject.bin` is a version 3 compound file (MS-CFB, 512-byte sectors)
//! holding an MS-OVBA project with one document module, `ThisDocument`
//! (Word) or `ThisWorkbook` (Excel). Its `_VBA_PROJECT` stream has version
//! 0xFFFF and no performance cache, so Office compiles the project from the
//! module's source, which is stored [`ovba`]-compressed at offset 0 of the
//! module stream. The source has the standard document-module attributes, a
//! comment saying what the macro does, and two open handlers (`AutoOpen` and
//! `Document_Open`, or `Auto_Open` and `Workbook_Open`) that each call
//! `Shell "<command line>", vbHide`; a module-level flag makes the command
//! run once even though the host fires both handlers.
//!
//! The command line is one string in the target's own convention (see
//! [`crate::artifact::cmdline`]); `Shell` hands it to `CreateProcess` as is.
//! It is written in a VBA string literal (`"` doubled) in code page 1252, so
//! it must not be empty or hold CR, LF or NUL, and every character must
//! exist in code page 1252.
//!
//! Builders are deterministic: zip entries carry the zip epoch (1980-01-01),
//! the compound file's one storage and `docProps/core.xml` carry
//! 2024-01-01T00:00:00Z, and the project's GUID and encryption seeds are
//! constants.
//!
//! The inverse, for an emulated opener: [`macro_source`] reads the module
//! source back out of a document (zip → `vbaProject.bin` → `VBA/dir` → module
//! stream), and [`read_command_line`] returns the literal of the first
//! `Shell "…"` call in the first Sub bound to opening the document.

pub mod ovba;

mod ooxml;
mod project;
mod source;
#[cfg(test)]
mod tests;
// These tests run host tools (Unix).
#[cfg(test)]
#[cfg(unix)]
mod tools;

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// Text the body of every built document shows, so a conversion can be
/// recognised as a chainproof test document.
pub const BODY_MARKER: &str = "Invoice INV-2024-0417 - toner cartridges and copier paper - EUR 1,284.50 incl. VAT, due 1 May 2024";

/// Why a macro document could not be built or read back.
///
/// Messages are lowercase fragments that read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum VbaError {
    /// The command line was empty: `Shell ""` runs nothing.
    #[error("build a vba macro for an empty command line")]
    EmptyCommandLine,
    /// The command line holds a character a VBA string literal cannot hold.
    #[error(
        "put the command line into a vba string literal: character {index} is {ch:?} \
         (carriage return, line feed and nul are not allowed)"
    )]
    LineBreakOrNul {
        /// Position of the character (in characters, from 0).
        index: usize,
        /// The offending character.
        ch: char,
    },
    /// The command line holds a character code page 1252 does not have.
    #[error("encode character {index} ({ch:?}) of the command line in code page 1252")]
    NotCp1252 {
        /// Position of the character (in characters, from 0).
        index: usize,
        /// The offending character.
        ch: char,
    },
    /// Writing a stream or storage of `vbaProject.bin` failed.
    #[error("write {stream} in vbaProject.bin")]
    CfbWrite {
        /// The stream or storage being written.
        stream: String,
        /// Error from the compound file writer.
        #[source]
        source: std::io::Error,
    },
    /// Reading a stream of `vbaProject.bin` failed.
    #[error("read {stream} from vbaProject.bin")]
    CfbRead {
        /// The stream being read.
        stream: String,
        /// Error from the compound file reader.
        #[source]
        source: std::io::Error,
    },
    /// Adding an entry to the zip archive failed.
    #[error("write {entry} into the zip archive")]
    ZipWrite {
        /// Name of the entry inside the archive.
        entry: String,
        /// Error from the zip writer.
        #[source]
        source: zip::result::ZipError,
    },
    /// The bytes are not a zip archive.
    #[error("open the zip archive")]
    ZipOpen {
        /// Error from the zip reader.
        #[source]
        source: zip::result::ZipError,
    },
    /// Reading an entry of the zip archive failed.
    #[error("read {entry} from the zip archive")]
    ZipRead {
        /// Name of the entry inside the archive.
        entry: String,
        /// Error from the zip reader.
        #[source]
        source: zip::result::ZipError,
    },
    /// The archive holds no VBA project.
    #[error("find word/vbaProject.bin or xl/vbaProject.bin in the zip archive")]
    NoVbaProject,
    /// A compressed stream of the project could not be decompressed.
    #[error("decompress {stream} of vbaProject.bin")]
    Decompress {
        /// The stream (`VBA/dir` or a module stream).
        stream: String,
        /// What was wrong in the container.
        #[source]
        source: ovba::DecompressError,
    },
    /// The `dir` stream did not have the MS-OVBA record structure.
    #[error("parse the vba dir stream: {detail}")]
    Dir {
        /// What was wrong.
        detail: String,
    },
    /// No Sub of the source runs when the document opens.
    #[error(
        "find a sub bound to opening the document (AutoOpen, Document_Open, Auto_Open \
         or Workbook_Open) in the vba source"
    )]
    NoOpenSub,
    /// The open Sub calls `Shell` with no string literal.
    #[error("find a shell \"…\" call in sub {sub}")]
    NoShellCall {
        /// Name of the Sub searched.
        sub: String,
    },
    /// The `Shell` literal is not closed on its line.
    #[error("read the string literal of the shell call in sub {sub}: it is not closed")]
    ShellLiteral {
        /// Name of the Sub searched.
        sub: String,
    },
}

/// The Office application a document is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    /// Word: `.docm`, module `ThisDocument`.
    Word,
    /// Excel: `.xlsm`, module `ThisWorkbook`.
    Excel,
}

impl Host {
    /// Name of the document module (and of its stream).
    fn module_name(self) -> &'static str {
        match self {
            Host::Word => "ThisDocument",
            Host::Excel => "ThisWorkbook",
        }
    }
}

/// Builds a macro-enabled Word document whose `AutoOpen` / `Document_Open`
/// macro runs `command_line` with `Shell … , vbHide`.
pub fn build_docm(command_line: &str) -> Result<Vec<u8>, VbaError> {
    build(Host::Word, command_line)
}

/// Builds a macro-enabled Excel workbook whose `Auto_Open` /
/// `Workbook_Open` macro runs `command_line` with `Shell … , vbHide`.
pub fn build_xlsm(command_line: &str) -> Result<Vec<u8>, VbaError> {
    build(Host::Excel, command_line)
}

/// Builds the package for `host`.
fn build(host: Host, command_line: &str) -> Result<Vec<u8>, VbaError> {
    let text = source::module_source(host, command_line)?;
    let identity = project::Identity::drawn_from(command_line);
    let vba_project = project::build(host, &source::encode_cp1252(&text)?, &identity)?;
    // The zip epoch (1980-01-01) keeps the bytes stable.
    let options = SimpleFileOptions::default()
        .last_modified_time(zip::DateTime::default())
        .compression_method(CompressionMethod::Deflated);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, text) in ooxml::parts(host) {
        let data = text.as_ref().map_or(&vba_project[..], |t| t.as_bytes());
        let fail = |source| VbaError::ZipWrite {
            entry: name.to_owned(),
            source,
        };
        zip.start_file(name, options).map_err(fail)?;
        zip.write_all(data)
            .map_err(|e| fail(zip::result::ZipError::Io(e)))?;
    }
    let cursor = zip.finish().map_err(|source| VbaError::ZipWrite {
        entry: "the central directory".to_owned(),
        source,
    })?;
    Ok(cursor.into_inner())
}

/// Reads the VBA source out of a `.docm` or `.xlsm`: the source of every
/// module, in the order of the project's `dir` stream, concatenated (each
/// module's source starts with its `Attribute VB_Name` line). For a
/// document built here that is the one document module.
pub fn macro_source(bytes: &[u8]) -> Result<String, VbaError> {
    let mut archive =
        ZipArchive::new(Cursor::new(bytes)).map_err(|source| VbaError::ZipOpen { source })?;
    let part = [Host::Word, Host::Excel]
        .into_iter()
        .map(ooxml::vba_project_part)
        .find(|name| archive.index_for_name(name).is_some())
        .ok_or(VbaError::NoVbaProject)?;
    let fail = |source| VbaError::ZipRead {
        entry: part.to_owned(),
        source,
    };
    let mut project_bin = Vec::new();
    archive
        .by_name(part)
        .map_err(fail)?
        .read_to_end(&mut project_bin)
        .map_err(|e| fail(zip::result::ZipError::Io(e)))?;
    let modules = project::module_sources(&project_bin)?;
    Ok(modules.into_iter().map(|(_, text)| text).collect())
}

/// The command line a `.docm` or `.xlsm` runs when opened: the string
/// literal of the first `Shell "…"` call in the first Sub bound to opening
/// the document (`AutoOpen`, `Document_Open`, `Auto_Open`, `Workbook_Open`),
/// with `""` turned back into `"`.
pub fn read_command_line(bytes: &[u8]) -> Result<String, VbaError> {
    source::shell_literal(&macro_source(bytes)?)
}
