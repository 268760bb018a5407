//! Bundle tests against the real `sha256sum` and `ssh-keygen`.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use super::*;
use crate::testing::require_tool;

/// Files of the fixture bundle: a subfolder, spaces, non-ASCII, a leading
/// `*` (text-mode marker look-alike) and binary content.
const FILES: &[(&str, &[u8])] = &[
    ("report.json", b"{\"verdict\":\"detected\"}\n"),
    ("sub/trace log.txt", b"line one\nline two\n"),
    (
        "sub/deep/\u{fc}n\u{ef}c\u{f6}d\u{e9} \u{2713}.md",
        "# r\u{e9}sum\u{e9}\n".as_bytes(),
    ),
    ("sub/*star", b"star"),
    ("blob.bin", &[0, 1, 2, 254, 255, b'\n', b'\r']),
];

pub(super) fn fixture() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    for (rel, body) in FILES {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, body).unwrap();
    }
    (tmp, dir)
}

fn sorted_names() -> Vec<String> {
    let mut names: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    names
}

pub(super) fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

pub(super) fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn manifest_is_byte_identical_to_sha256sum_and_checks() {
    if !require_tool("sha256sum") {
        return;
    }
    let (_tmp, dir) = fixture();
    let path = write_manifest(&dir).unwrap();
    assert_eq!(path, dir.join(MANIFEST));
    let ours = fs::read(&path).unwrap();

    let gnu = run(
        Command::new("sha256sum")
            .args(sorted_names())
            .current_dir(&dir),
        None,
    );
    assert!(gnu.status.success(), "{}", text(&gnu));
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&gnu.stdout)
    );

    let check = run(
        Command::new("sha256sum")
            .args(["--strict", "-c", MANIFEST])
            .current_dir(&dir),
        None,
    );
    assert!(check.status.success(), "{}", text(&check));
    assert_eq!(
        text(&check).matches(": OK").count(),
        FILES.len(),
        "{}",
        text(&check)
    );

    // Deterministic: a second run writes the same bytes.
    write_manifest(&dir).unwrap();
    assert_eq!(fs::read(&path).unwrap(), ours);

    let v = verify(&dir).unwrap();
    assert_eq!(v.ok, sorted_names());
    assert!(v.is_intact(), "{}", render(&v));
    assert_eq!(v.signature, SignatureState::Absent);
    assert!(render(&v).starts_with("bundle intact: 5 ok"));
}

#[test]
fn every_changed_byte_is_caught() {
    let (_tmp, dir) = fixture();
    write_manifest(&dir).unwrap();
    for (rel, body) in FILES {
        let path = dir.join(rel);
        let mut bad = body.to_vec();
        bad[0] ^= 0x01;
        fs::write(&path, &bad).unwrap();
        let v = verify(&dir).unwrap();
        assert_eq!(v.changed, vec![rel.to_string()]);
        assert!(!v.is_intact());
        assert!(
            render(&v).contains(&format!("changed  {rel}")),
            "{}",
            render(&v)
        );
        fs::write(&path, body).unwrap();
        assert!(verify(&dir).unwrap().is_intact());
    }
}

#[test]
fn missing_and_extra_files_are_named() {
    let (_tmp, dir) = fixture();
    write_manifest(&dir).unwrap();

    fs::remove_file(dir.join("sub/trace log.txt")).unwrap();
    let v = verify(&dir).unwrap();
    assert_eq!(v.missing, vec!["sub/trace log.txt"]);
    assert!(v.changed.is_empty() && v.extra.is_empty() && !v.is_intact());
    assert!(render(&v).contains("missing  sub/trace log.txt"));
    fs::write(dir.join("sub/trace log.txt"), FILES[1].1).unwrap();

    fs::create_dir_all(dir.join("late")).unwrap();
    fs::write(dir.join("late/notes.txt"), "added later").unwrap();
    fs::write(dir.join("z.txt"), "also").unwrap();
    let v = verify(&dir).unwrap();
    assert_eq!(v.extra, vec!["late/notes.txt", "z.txt"]);
    assert!(v.missing.is_empty() && !v.is_intact());
    let summary = render(&v);
    assert!(summary.contains("extra    late/notes.txt"), "{summary}");
    assert!(summary.starts_with("bundle TAMPERED"), "{summary}");
}

#[cfg(unix)]
#[test]
fn symlinks_are_refused() {
    let (_tmp, dir) = fixture();
    write_manifest(&dir).unwrap();
    std::os::unix::fs::symlink("report.json", dir.join("sub/link")).unwrap();
    let err = write_manifest(&dir).unwrap_err();
    assert!(matches!(err, BundleError::Symlink { .. }), "{err}");
    assert!(err.to_string().contains("sub/link"), "{err}");
    assert!(matches!(verify(&dir), Err(BundleError::Symlink { .. })));
}

#[test]
fn names_sha256sum_would_escape_are_refused() {
    for name in ["new\nline", "back\\slash", "carriage\rreturn"] {
        let (_tmp, dir) = fixture();
        fs::write(dir.join(name), "x").unwrap();
        let err = write_manifest(&dir).unwrap_err();
        assert!(matches!(err, BundleError::BadName { .. }), "{err}");
        assert!(!dir.join(MANIFEST).exists());
    }
}

#[test]
fn malformed_lines_are_named_by_number() {
    let (_tmp, dir) = fixture();
    let good = format!("{}  report.json\n", "a".repeat(64));
    for (second, needle) in [
        ("not a digest\n", "64 hex"),
        (
            &format!("{} report.json\n", "b".repeat(64)) as &str,
            "two spaces",
        ),
        (&format!("{}  ../etc/passwd\n", "b".repeat(64)), "`..`"),
        (&format!("{}  /etc/passwd\n", "b".repeat(64)), "absolute"),
        (
            &format!("{}  report.json\n", "b".repeat(64)),
            "listed again",
        ),
        ("\n", "empty"),
        (&format!("\\{}  a\\\\b\n", "b".repeat(64)), "escaped"),
    ] {
        fs::write(dir.join(MANIFEST), format!("{good}{second}")).unwrap();
        let err = verify(&dir).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, BundleError::Malformed { line: 2, .. }),
            "{msg}"
        );
        assert!(msg.contains("line 2") && msg.contains(needle), "{msg}");
    }
}

#[test]
fn binary_mode_and_uppercase_manifests_from_sha256sum_are_read() {
    if !require_tool("sha256sum") {
        return;
    }
    let (_tmp, dir) = fixture();
    let out = run(
        Command::new("sha256sum")
            .arg("-b")
            .args(sorted_names())
            .current_dir(&dir),
        None,
    );
    let upper = String::from_utf8(out.stdout).unwrap().replacen('a', "A", 1);
    fs::write(dir.join(MANIFEST), upper).unwrap();
    let v = verify(&dir).unwrap();
    assert!(v.is_intact(), "{}", render(&v));
    assert_eq!(v.ok.len(), FILES.len());
}

#[test]
fn no_manifest_is_a_clear_error() {
    let (tmp, dir) = fixture();
    assert!(matches!(verify(&dir), Err(BundleError::NoManifest { .. })));
    let err = sign(&dir, &tmp.path().join("key")).unwrap_err();
    assert!(err.to_string().contains("SHA256SUMS"), "{err}");
}
