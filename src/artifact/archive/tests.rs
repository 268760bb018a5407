//! Tests of the archive builders and readers: round trips, passwords,
//! hostile names, determinism, and third-party tools (`unzip`, `7z`,
//! `bsdtar`) reading what the builders wrote (in [`tools`]).

mod tools;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;

const PW: &str = "Invoice-2024";
const SCRIPT: &[u8] = b"#!/bin/sh\necho \"benign test script ran with $# args\"\n";

fn members() -> Vec<Member<'static>> {
    vec![
        Member {
            name: "Invoice_2024-04.sh",
            bytes: SCRIPT,
            executable: true,
        },
        Member {
            name: "docs/readme.txt",
            bytes: b"chainproof benign test archive\n",
            executable: false,
        },
    ]
}

/// The five variants the builders offer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Variant {
    Zip,
    ZipCrypto,
    ZipAes,
    SevenZ,
    SevenZAes,
}

const ALL: [Variant; 5] = [
    Variant::Zip,
    Variant::ZipCrypto,
    Variant::ZipAes,
    Variant::SevenZ,
    Variant::SevenZAes,
];

impl Variant {
    fn build(self, members: &[Member]) -> Vec<u8> {
        match self {
            Variant::Zip => zip(members, None),
            Variant::ZipCrypto => zip(members, Some((Encryption::Zipcrypto, PW))),
            Variant::ZipAes => zip(members, Some((Encryption::Aes, PW))),
            Variant::SevenZ => seven_z(members, None),
            Variant::SevenZAes => seven_z(members, Some(PW)),
        }
        .unwrap_or_else(|e| panic!("build {self:?}: {e}"))
    }
    fn format(self) -> Format {
        match self {
            Variant::Zip | Variant::ZipCrypto | Variant::ZipAes => Format::Zip,
            Variant::SevenZ | Variant::SevenZAes => Format::SevenZ,
        }
    }
    fn password(self) -> Option<&'static str> {
        (!matches!(self, Variant::Zip | Variant::SevenZ)).then_some(PW)
    }
    /// Writes the archive of [`members`] into `dir`; returns its path.
    fn write(self, dir: &Path) -> PathBuf {
        let ext = if self.format() == Format::Zip {
            "zip"
        } else {
            "7z"
        };
        let path = dir.join(format!("{self:?}.{ext}"));
        std::fs::write(&path, self.build(&members())).unwrap();
        path
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn every_variant_round_trips_through_list_and_extract() {
    let dir = tempfile::tempdir().unwrap();
    for v in ALL {
        let archive = v.write(dir.path());
        let names = list(&archive, v.format(), v.password()).unwrap();
        assert_eq!(names, ["Invoice_2024-04.sh", "docs/readme.txt"], "{v:?}");
        let dest = dir.path().join(format!("{v:?}-out"));
        for m in members() {
            let out = extract(&archive, v.format(), v.password(), m.name, &dest).unwrap();
            assert_eq!(out, dest.join(m.name), "{v:?}");
            assert_eq!(std::fs::read(&out).unwrap(), m.bytes, "{v:?} {}", m.name);
            let want = if m.executable { 0o755 } else { 0o644 };
            assert_eq!(mode(&out), want, "{v:?} {}", m.name);
        }
    }
}

#[test]
fn a_wrong_or_missing_password_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for v in [Variant::ZipCrypto, Variant::ZipAes, Variant::SevenZAes] {
        let archive = v.write(dir.path());
        let dest = dir.path().join("out");
        let name = "Invoice_2024-04.sh";
        let wrong = extract(&archive, v.format(), Some("wrong-password"), name, &dest);
        // AES's 2-byte check passes 1 time in 65536 with a random salt; the
        // HMAC then fails, which is a read error.
        assert!(
            matches!(
                wrong,
                Err(ArchiveError::WrongPassword { .. } | ArchiveError::Read { .. })
            ),
            "{v:?}: {wrong:?}"
        );
        if v != Variant::ZipAes {
            assert!(
                matches!(wrong, Err(ArchiveError::WrongPassword { .. })),
                "{v:?}"
            );
        }
        let missing = extract(&archive, v.format(), None, name, &dest);
        assert!(
            matches!(missing, Err(ArchiveError::PasswordRequired { .. })),
            "{v:?}: {missing:?}"
        );
        assert!(!dest.join(name).exists(), "{v:?} left a file");
    }
    // The 7z header is encrypted: without the password not even the names.
    let archive = Variant::SevenZAes.write(dir.path());
    let listed = list(&archive, Format::SevenZ, None);
    assert!(
        matches!(listed, Err(ArchiveError::PasswordRequired { .. })),
        "{listed:?}"
    );
    // A ZIP's directory is not encrypted (as in every ZIP tool).
    let archive = Variant::ZipAes.write(dir.path());
    assert_eq!(list(&archive, Format::Zip, None).unwrap().len(), 2);
}

#[test]
fn builders_refuse_names_that_leave_the_folder_and_duplicates() {
    let bad = [
        "",
        "/etc/cron.d/x",
        "../x.sh",
        "a/../../x.sh",
        "..\\x.sh",
        "a\\b.sh",
        "C:x.sh",
        "x.lnk:Zone.Identifier",
        "a//b.sh",
        "./a.sh",
        "a\nb.sh",
    ];
    for name in bad {
        let m = [Member {
            name,
            bytes: b"x",
            executable: false,
        }];
        for result in [zip(&m, None), seven_z(&m, None)] {
            assert!(
                matches!(&result, Err(ArchiveError::MemberName { name: n, .. }) if n == name),
                "{name:?}: {result:?}"
            );
        }
    }
    let twice = [members()[0], members()[0]];
    assert!(matches!(
        zip(&twice, None),
        Err(ArchiveError::MemberName { .. })
    ));
    assert!(matches!(
        seven_z(&twice, None),
        Err(ArchiveError::MemberName { .. })
    ));
    assert!(matches!(
        zip(&members(), Some((Encryption::Aes, ""))),
        Err(ArchiveError::EmptyPassword)
    ));
    assert!(matches!(
        seven_z(&members(), Some("")),
        Err(ArchiveError::EmptyPassword)
    ));
}

/// A ZIP with hostile names, written with the zip crate directly (the
/// builder refuses them).
fn hostile_zip(names: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for name in names {
        w.start_file(*name, ::zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"escaped\n").unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The same as a 7z.
fn hostile_7z(names: &[&str]) -> Vec<u8> {
    let mut w = sevenz_rust2::ArchiveWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    for name in names {
        let entry = sevenz_rust2::ArchiveEntry::new_file(name);
        w.push_archive_entry(entry, Some(&b"escaped\n"[..]))
            .unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn extract_refuses_member_names_that_leave_dest_naming_the_member() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "../evil.sh",
        "a/../../evil.sh",
        "/tmp/evil.sh",
        "..\\evil.sh",
    ];
    let cases = [
        ("hostile.zip", Format::Zip, hostile_zip(&names)),
        ("hostile.7z", Format::SevenZ, hostile_7z(&names)),
    ];
    for (file, format, bytes) in cases {
        let archive = dir.path().join(file);
        std::fs::write(&archive, bytes).unwrap();
        // Listing shows the names as stored, for the record.
        let listed = list(&archive, format, None).unwrap();
        assert_eq!(listed, names, "{file}");
        let dest = dir.path().join("a").join("dest");
        for name in names {
            let err = extract(&archive, format, None, name, &dest).unwrap_err();
            assert!(
                matches!(&err, ArchiveError::MemberName { name: n, .. } if n == name),
                "{file} {name}: {err:?}"
            );
            // Quoted as Rust quotes it, so a control character cannot hide.
            assert!(err.to_string().contains(&format!("{name:?}")), "{err}");
        }
        assert!(!dir.path().join("a").join("evil.sh").exists());
        assert!(!dir.path().join("evil.sh").exists());
        assert!(!dest.exists(), "{file}: dest created for a refused member");
    }
}

#[test]
fn extract_names_a_missing_member() {
    let dir = tempfile::tempdir().unwrap();
    for v in [Variant::Zip, Variant::SevenZ] {
        let archive = v.write(dir.path());
        let err = extract(&archive, v.format(), None, "nope.txt", dir.path()).unwrap_err();
        assert!(
            matches!(err, ArchiveError::NotFound { .. }),
            "{v:?}: {err:?}"
        );
        assert!(err.to_string().contains("nope.txt"), "{err}");
    }
}

#[test]
fn the_same_members_give_the_same_bytes_except_for_aes() {
    for v in [Variant::Zip, Variant::ZipCrypto, Variant::SevenZ] {
        assert_eq!(v.build(&members()), v.build(&members()), "{v:?}");
    }
    // AES draws fresh salts (and, for 7z, an IV): documented, and checked so
    // the docs stay true.
    for v in [Variant::ZipAes, Variant::SevenZAes] {
        assert_ne!(v.build(&members()), v.build(&members()), "{v:?}");
    }
}

#[test]
fn members_carry_the_pinned_date() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Variant::ZipCrypto.write(dir.path());
    let mut z = ::zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
    for i in 0..z.len() {
        let t = z.by_index_raw(i).unwrap().last_modified().unwrap();
        let got = (
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
        );
        assert_eq!(got, (2024, 4, 17, 9, 0, 0));
    }
    let archive = Variant::SevenZAes.write(dir.path());
    let pw = sevenz_rust2::Password::new(PW);
    let r = sevenz_rust2::ArchiveReader::open(&archive, pw).unwrap();
    for e in &r.archive().files {
        let t = std::time::SystemTime::from(e.last_modified_date);
        let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, PINNED_UNIX_TIME.unsigned_abs());
    }
}

/// `len` bytes no compressor can shrink (a fixed xorshift stream).
fn incompressible(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn a_one_megabyte_member_costs_little_beyond_its_bytes() {
    const MB: usize = 1 << 20;
    let random = incompressible(MB);
    let text = b"Invoice 2024-04 line item, net 30 days\n".repeat(MB / 40);
    for (what, bytes, at_most) in [("random", &random, MB + 4096), ("text", &text, MB / 20)] {
        let m = [Member {
            name: "payload.bin",
            bytes,
            executable: false,
        }];
        for v in ALL {
            let size = v.build(&m).len();
            // Shown with --nocapture: the figures docs/artifacts.md quotes.
            eprintln!("{what} 1 MiB member, {v:?}: {size} bytes");
            assert!(size <= at_most, "{what} {v:?}: {size} > {at_most}");
        }
    }
}
