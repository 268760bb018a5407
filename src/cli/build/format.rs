//! Whether a stage program fits the platform it is built into: its
//! executable format (PE for Windows, Mach-O for macOS, ELF for Linux) and
//! its architecture (x86-64 or arm64), read from its headers with `goblin`.
//!
//! Without this check a Linux ELF passed for Windows was embedded in every
//! `.exe`, `.cpl` and disk image without a word. It reads headers only: it
//! cannot tell a working program from a broken one.

use std::path::{Path, PathBuf};

use goblin::Object;

use crate::vocab::Platform;

/// The architectures a stage program may be built for.
pub const ACCEPTED: &str = "x86-64 or arm64";

/// A stage program that does not fit.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Its headers name another format or architecture.
    #[error("{path} is {is}; {platform} needs {needs}")]
    Wrong {
        /// The file.
        path: PathBuf,
        /// What it is, e.g. "an ELF x86-64 executable".
        is: String,
        /// The platform it was given for.
        platform: Platform,
        /// What that platform needs.
        needs: String,
    },
    /// It is no executable format goblin knows.
    #[error("{path} is not an executable {goblin}; {platform} needs {needs}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        goblin: String,
        /// The platform it was given for.
        platform: Platform,
        /// What that platform needs.
        needs: String,
    },
}

/// The format a platform runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Elf,
    Pe,
    MachO,
}

impl Format {
    fn of(platform: Platform) -> Format {
        match platform {
            Platform::Linux => Format::Elf,
            Platform::Windows => Format::Pe,
            Platform::Macos => Format::MachO,
        }
    }

    /// Its name with its article ("an ELF", "a PE").
    fn with_article(self) -> String {
        let article = if self == Format::Elf { "an" } else { "a" };
        format!("{article} {}", self.name())
    }

    fn name(self) -> &'static str {
        match self {
            Format::Elf => "ELF",
            Format::Pe => "PE",
            Format::MachO => "Mach-O",
        }
    }
}

/// What the headers say: format, architecture name (if one of the
/// accepted ones, `Ok`), and the kind of image.
struct Seen {
    format: Format,
    arch: Result<&'static str, String>,
    /// "executable", "DLL", "shared object", ...
    kind: &'static str,
    /// Whether the kind is a program one can start.
    program: bool,
}

impl Seen {
    fn describe(&self) -> String {
        let arch = match &self.arch {
            Ok(a) => (*a).to_string(),
            Err(other) => other.clone(),
        };
        format!("{} {arch} {}", self.format.with_article(), self.kind)
    }
}

/// Checks that `bytes`, read from `path`, is a program `platform` runs.
pub fn check(platform: Platform, path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    let want = Format::of(platform);
    let needs = format!("{} executable ({ACCEPTED})", want.with_article());
    let seen = match identify(bytes) {
        Ok(seen) => seen,
        Err(goblin) => {
            return Err(FormatError::Unreadable {
                path: path.to_path_buf(),
                goblin,
                platform,
                needs,
            });
        }
    };
    if seen.format == want && seen.arch.is_ok() && seen.program {
        return Ok(());
    }
    Err(FormatError::Wrong {
        path: path.to_path_buf(),
        is: seen.describe(),
        platform,
        needs,
    })
}

fn identify(bytes: &[u8]) -> Result<Seen, String> {
    match Object::parse(bytes) {
        Ok(Object::Elf(elf)) => {
            use goblin::elf::header::{EM_386, EM_AARCH64, EM_ARM, EM_X86_64, ET_DYN, ET_EXEC};
            let arch = match elf.header.e_machine {
                EM_X86_64 => Ok("x86-64"),
                EM_AARCH64 => Ok("arm64"),
                EM_386 => Err("i386".to_string()),
                EM_ARM => Err("32-bit ARM".to_string()),
                m => Err(format!("machine {m}")),
            };
            // A position-independent executable is ET_DYN, like a library.
            let (kind, program) = match elf.header.e_type {
                ET_EXEC => ("executable", true),
                ET_DYN if elf.interpreter.is_some() => ("executable", true),
                ET_DYN => ("shared object", false),
                _ => ("object file", false),
            };
            Ok(Seen {
                format: Format::Elf,
                arch,
                kind,
                program,
            })
        }
        Ok(Object::PE(pe)) => {
            let arch = match pe.header.coff_header.machine {
                0x8664 => Ok("x86-64"),
                0xaa64 => Ok("arm64"),
                0x14c => Err("i386".to_string()),
                m => Err(format!("machine {m:#x}")),
            };
            let (kind, program) = if pe.is_lib {
                ("DLL", false)
            } else {
                ("executable", true)
            };
            Ok(Seen {
                format: Format::Pe,
                arch,
                kind,
                program,
            })
        }
        Ok(Object::Mach(goblin::mach::Mach::Binary(m))) => Ok(Seen {
            format: Format::MachO,
            arch: macho_arch(m.header.cputype),
            kind: if m.header.filetype == goblin::mach::header::MH_EXECUTE {
                "executable"
            } else {
                "image (not an executable)"
            },
            program: m.header.filetype == goblin::mach::header::MH_EXECUTE,
        }),
        Ok(Object::Mach(goblin::mach::Mach::Fat(fat))) => {
            // A universal binary runs where one of its slices does.
            let arches = fat.arches().map_err(|e| e.to_string())?;
            let names: Vec<String> = arches
                .iter()
                .map(|a| macho_arch(a.cputype).map_or_else(|other| other, String::from))
                .collect();
            let any = arches.iter().any(|a| macho_arch(a.cputype).is_ok());
            let arch = if any {
                Ok("universal")
            } else {
                Err(format!("universal ({})", names.join(", ")))
            };
            Ok(Seen {
                format: Format::MachO,
                arch,
                kind: "binary",
                program: true,
            })
        }
        Ok(Object::Archive(_)) => Err("(a static library archive)".into()),
        Ok(Object::Unknown(magic)) => Err(format!("(unknown magic {magic:#x})")),
        Ok(_) => Err("(an object file, not a program)".into()),
        Err(e) => Err(format!("(its headers do not parse: {e})")),
    }
}

fn macho_arch(cputype: u32) -> Result<&'static str, String> {
    use goblin::mach::cputype::{CPU_TYPE_ARM64, CPU_TYPE_X86_64};
    match cputype {
        CPU_TYPE_X86_64 => Ok("x86-64"),
        CPU_TYPE_ARM64 => Ok("arm64"),
        other => Err(format!("cputype {other:#x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{tiny_macho, tiny_pe};

    fn said(platform: Platform, bytes: &[u8]) -> String {
        match check(platform, Path::new("/s/prog"), bytes) {
            Ok(()) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    /// Each platform takes its own format and architecture and refuses the
    /// others, saying what the file is.
    #[test]
    fn each_platform_takes_only_its_format_and_arch() -> Result<(), Box<dyn std::error::Error>> {
        let elf = std::fs::read(std::env::current_exe()?)?;
        let pe = tiny_pe(0x8664, false);
        let macho = tiny_macho(0x0100_000c);
        let table: [(Platform, &[u8], &str); 9] = [
            (Platform::Linux, &elf, "ok"),
            (Platform::Windows, &pe, "ok"),
            (Platform::Macos, &macho, "ok"),
            (
                Platform::Windows,
                &elf,
                "/s/prog is an ELF x86-64 executable; windows needs a PE executable (x86-64 or arm64)",
            ),
            (
                Platform::Linux,
                &pe,
                "/s/prog is a PE x86-64 executable; linux needs an ELF",
            ),
            (Platform::Windows, &macho, "is a Mach-O arm64 executable"),
            (Platform::Macos, &pe, "macos needs a Mach-O executable"),
            (
                Platform::Windows,
                b"#!/bin/sh\nexec /usr/bin/true\n",
                "/s/prog is not an executable (unknown magic",
            ),
            (Platform::Linux, b"", "/s/prog is not an executable"),
        ];
        for (platform, bytes, want) in table {
            let got = said(platform, bytes);
            assert!(got.contains(want), "{platform}: {got}");
        }
        Ok(())
    }

    /// The right format on the wrong architecture, or a DLL, is refused.
    #[test]
    fn a_wrong_architecture_or_a_library_is_refused() {
        let i386 = said(Platform::Windows, &tiny_pe(0x14c, false));
        assert!(i386.contains("is a PE i386 executable"), "{i386}");
        let arm = said(Platform::Windows, &tiny_pe(0xaa64, false));
        assert_eq!(arm, "ok");
        let dll = said(Platform::Windows, &tiny_pe(0x8664, true));
        assert!(dll.contains("is a PE x86-64 DLL"), "{dll}");
        let ppc = said(Platform::Macos, &tiny_macho(0x12));
        assert!(ppc.contains("Mach-O cputype 0x12 executable"), "{ppc}");
        assert_eq!(said(Platform::Macos, &tiny_macho(0x0100_0007)), "ok");
    }
}
