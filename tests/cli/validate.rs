//! Commands that run nothing: validate, list, dry runs, report.

use std::path::Path;

use assert_cmd::Command;

use crate::common::*;

#[test]
fn validate_names_file_line_and_field_and_runs_nothing() -> TestResult {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    for entry in std::fs::read_dir(&fixtures)?.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let want = std::fs::read_to_string(path.with_extension("err"))?;
        let out = Command::cargo_bin("chainproof")?
            .arg("validate")
            .arg(&path)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr)?;
        assert!(
            stderr.contains(want.trim()),
            "{}:\n got: {stderr}\nwant: {want}",
            path.display()
        );
        assert!(stderr.contains("nothing was run"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    let ok = Command::cargo_bin("chainproof")?
        .arg("validate")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(ok)?
            .lines()
            .filter(|l| l.starts_with("ok "))
            .count(),
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))?.count()
    );
    Ok(())
}

#[test]
fn dry_run_prints_the_windows_plan_and_executes_nothing() -> TestResult {
    let lab = Lab::new();
    let text = stdout_ok(lab.run(&["--dry-run", "--platform", "windows"]));
    for want in [
        "macro-doc-shell · windows",
        "WINWORD.EXE",
        "Zone.Identifier",
        "Mount-DiskImage",
        "powershell.exe",
        "nothing was executed",
    ] {
        assert!(text.contains(want), "plan lacks {want}:\n{text}");
    }
    assert!(!lab.reports().exists(), "a dry run wrote reports");
    assert_eq!(
        std::fs::read_dir(lab.work())?.count(),
        0,
        "a dry run created a run directory"
    );
    Ok(())
}

#[test]
fn list_shows_scenarios_by_platform() -> TestResult {
    let text = stdout_ok(Command::cargo_bin("chainproof")?.arg("list"));
    for want in [
        "macro-doc-shell",
        "shortcut-script",
        "iso-exec",
        "emulated+real",
        "T1204.002",
    ] {
        assert!(text.contains(want), "list lacks {want}:\n{text}");
    }
    Ok(())
}

/// Starts a slow iso-exec run, waits until its chain is running from the
/// mounted image, and returns the child process and the run's token.
#[test]
fn report_renders_a_record_again_in_every_format() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    lab.run(&["macro-doc-shell"]).assert().success();
    let record = lab.run_json();
    for (format, want) in [
        ("table", "macro-doc-shell"),
        ("md", "| scenario |"),
        ("json", "\"schema\": \"chainproof.run/v1\""),
        ("junit", "<testsuites name=\"chainproof "),
    ] {
        let out = Command::cargo_bin("chainproof")?
            .args(["report", "--format", format])
            .arg(&record)
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone())?;
        assert!(text.contains(want), "{format}: {text}");
    }
    Command::cargo_bin("chainproof")?
        .arg("report")
        .arg(lab.dir.path().join("missing.json"))
        .assert()
        .code(2);
    Ok(())
}

/// `--help` is the user's manual: its text is reviewed as a snapshot.
#[test]
fn help_texts() -> TestResult {
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["cleanup", "--help"],
        &["replay", "--help"],
    ] {
        let out = Command::cargo_bin("chainproof")?
            .args(args)
            .env("COLUMNS", "100")
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone())?;
        insta::assert_snapshot!(args.join("_").replace("--", ""), text);
    }
    Ok(())
}
