//! Third-party readers of what the builders write: Info-ZIP `unzip`, 7-Zip
//! (`7z`) and libarchive (`bsdtar`), as an analyst or a mail gateway would
//! open the archives. Each fails under CI when its tool is missing.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::{ALL, PW, Variant, mode};
use crate::artifact::testutil::run_ok;
use crate::testing::require_tool;

/// Runs a tool that must never wait for a password on the terminal.
fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok_text(cmd: &mut Command) -> String {
    text(&run_ok(cmd.stdin(Stdio::null())))
}

#[test]
fn unzip_tests_plain_and_zipcrypto_and_cannot_open_aes() {
    if !require_tool("unzip") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = Variant::Zip.write(dir.path());
    let out = ok_text(Command::new("unzip").arg("-t").arg(&plain));
    assert!(out.contains("No errors detected"), "{out}");

    let crypto = Variant::ZipCrypto.write(dir.path());
    let out = ok_text(Command::new("unzip").args(["-t", "-P", PW]).arg(&crypto));
    assert!(out.contains("No errors detected"), "{out}");
    // The members really are encrypted: a wrong password fails.
    let wrong = run(Command::new("unzip")
        .args(["-t", "-P", "wrong"])
        .arg(&crypto));
    assert!(!wrong.status.success(), "{}", text(&wrong));

    // Info-ZIP cannot do WinZip AES (method 99): it skips the members, which
    // shows they are AES; 7z tests them below.
    let aes = Variant::ZipAes.write(dir.path());
    let out = run(Command::new("unzip").args(["-t", "-P", PW]).arg(&aes));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("skipping"), "{}", text(&out));
}

#[test]
fn sevenzip_tests_every_variant_and_reports_its_method_mode_and_date() {
    if !require_tool("7z") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for v in ALL {
        let archive = v.write(dir.path());
        let pw = format!("-p{PW}");
        let out = ok_text(Command::new("7z").args(["t", &pw]).arg(&archive));
        assert!(out.contains("Everything is Ok"), "{v:?}: {out}");

        let slt = ok_text(Command::new("7z").args(["l", "-slt", &pw]).arg(&archive));
        // Once per member (a 7z also names the plain method once for the
        // whole archive).
        let (method, times) = match v {
            Variant::Zip => ("Method = Deflate\n", 2),
            Variant::ZipCrypto => ("Method = ZipCrypto Deflate\n", 2),
            Variant::ZipAes => ("Method = AES-256 Deflate\n", 2),
            Variant::SevenZ => ("Method = LZMA2:23\n", 3),
            // 7-Zip's own key-derivation cost, as 7-Zip writes it.
            Variant::SevenZAes => ("Method = LZMA2:23 7zAES:19\n", 2),
        };
        assert_eq!(slt.matches(method).count(), times, "{v:?}: {slt}");
        let encrypted = if v.password().is_some() { "+" } else { "-" };
        let flag = format!("Encrypted = {encrypted}\n");
        assert_eq!(slt.matches(&flag).count(), 2, "{v:?}: {slt}");
        assert!(slt.contains("-rwxr-xr-x\n"), "{v:?}: {slt}");
        assert!(slt.contains("-rw-r--r--\n"), "{v:?}: {slt}");
        assert_eq!(
            slt.matches("Modified = 2024-04-17 09:00:00").count(),
            2,
            "{v:?}: {slt}"
        );

        if v.password().is_some() {
            let wrong = run(Command::new("7z").args(["t", "-pwrong"]).arg(&archive));
            assert!(!wrong.status.success(), "{v:?}: {}", text(&wrong));
        }
    }
    // The 7z header is encrypted: a wrong password cannot even list it.
    let archive = Variant::SevenZAes.write(dir.path());
    let out = run(Command::new("7z").args(["l", "-pwrong"]).arg(&archive));
    assert!(
        text(&out).contains("Cannot open encrypted archive"),
        "{}",
        text(&out)
    );
}

#[test]
fn bsdtar_lists_every_variant_but_a_7z_whose_header_is_encrypted() {
    if !require_tool("bsdtar") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for v in ALL {
        let archive = v.write(dir.path());
        let out = run(Command::new("bsdtar").arg("-tf").arg(&archive));
        if v == Variant::SevenZAes {
            // libarchive reads no encrypted 7z header; its refusal is proof
            // the names are hidden.
            assert!(!out.status.success(), "{}", text(&out));
            assert!(text(&out).contains("header is encrypted"), "{}", text(&out));
            continue;
        }
        assert!(out.status.success(), "{v:?}: {}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "Invoice_2024-04.sh\ndocs/readme.txt\n",
            "{v:?}"
        );
    }
}

/// Checks the modes of the two members extracted under `out`.
fn assert_modes(out: &Path, what: &str) {
    assert_eq!(mode(&out.join("Invoice_2024-04.sh")), 0o755, "{what}");
    assert_eq!(mode(&out.join("docs/readme.txt")), 0o644, "{what}");
}

#[test]
fn unzip_and_7z_restore_the_exec_bit() {
    let dir = tempfile::tempdir().unwrap();
    if require_tool("unzip") {
        for v in [Variant::Zip, Variant::ZipCrypto] {
            let archive = v.write(dir.path());
            let out = dir.path().join(format!("unzip-{v:?}"));
            run_ok(
                Command::new("unzip")
                    .args(["-P", PW, "-d"])
                    .arg(&out)
                    .arg(&archive)
                    .stdin(Stdio::null()),
            );
            assert_modes(&out, &format!("unzip {v:?}"));
        }
    }
    if require_tool("7z") {
        for v in ALL {
            let archive = v.write(dir.path());
            let out = dir.path().join(format!("7z-{v:?}"));
            let mut o = std::ffi::OsString::from("-o");
            o.push(&out);
            run_ok(
                Command::new("7z")
                    .args(["x", "-y", &format!("-p{PW}")])
                    .arg(o)
                    .arg(&archive)
                    .stdin(Stdio::null()),
            );
            assert_modes(&out, &format!("7z x {v:?}"));
        }
    }
}
