//! Issue 5's acceptance: every scenario × platform is listed and planned, and
//! every Linux variant — attacks and negative controls — runs for real and is
//! verified with the shipped rules.

use assert_cmd::Command;

use crate::common::*;

fn scenario_ids() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".yaml").map(String::from)
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn list_shows_every_scenario_its_platforms_and_whether_it_is_a_control() -> TestResult {
    let text = stdout_ok(Command::cargo_bin("chainproof")?.arg("list"));
    let ids = scenario_ids();
    assert!(ids.len() >= 18, "{ids:?}");
    for id in &ids {
        let row = text
            .lines()
            .find(|l| l.split('│').nth(1).is_some_and(|c| c.trim() == id))
            .unwrap_or_else(|| panic!("{id} not listed:\n{text}"));
        let kind = if id.starts_with("control-") {
            "negative control"
        } else {
            "attack"
        };
        assert!(row.contains(kind), "{id}: {row}");
    }
    assert!(text.contains("emulated+real"), "{text}");
    Ok(())
}

/// Every scenario with a variant for the platform prints a complete plan:
/// artifact, delivery, origin mark, opener, chain, ground truth, cleanup.
#[test]
fn dry_runs_print_a_complete_plan_for_every_scenario_on_windows_and_macos() -> TestResult {
    for (platform, origin, truth) in [
        ("windows", "Zone.Identifier", "OS process table"),
        ("macos", "com.apple.quarantine", "OS process table"),
        ("linux", "user.xdg.origin.url", "process connector"),
    ] {
        let text = stdout_ok(Command::cargo_bin("chainproof")?.args([
            "run",
            "--dry-run",
            "--platform",
            platform,
        ]));
        let plans: Vec<&str> = text.split("\n\n").filter(|p| p.contains(" · ")).collect();
        assert_eq!(plans.len(), scenario_ids().len(), "{platform}:\n{text}");
        for plan in plans {
            if plan.contains("not-applicable") {
                continue;
            }
            // A mailed file arrives by SMTP and the mail client marks it;
            // a downloaded one by HTTP, marked as a browser marks it.
            let (delivery, mark) = if plan.contains("mail it as") {
                ("over SMTP to", "saves the attachment in")
            } else {
                ("download it to", origin)
            };
            for want in [
                "build ",
                delivery,
                mark,
                "start",
                "expect the chain:",
                truth,
                "clean up:",
                "remove ",
            ] {
                assert!(
                    plan.contains(want),
                    "{platform} plan lacks {want:?}:\n{plan}"
                );
            }
            if plan.contains("mount: true") || plan.contains(".iso") || plan.contains(".vhd") {
                let mount = match platform {
                    "windows" => "Mount-DiskImage",
                    "macos" => "hdiutil attach",
                    _ => "fuseiso",
                };
                if plan.contains("read-only:") {
                    assert!(plan.contains(mount), "{plan}");
                }
            }
        }
        if platform == "windows" {
            for want in [
                "Dismount-DiskImage",
                r"reg.exe delete HKCU\Software\chainproof\",
                "administrator",
                "control.exe",
                "rundll32.exe shell32.dll,Control_RunDLL",
                "wscript.exe",
                "mshta.exe",
                "regedit.exe /s",
            ] {
                assert!(text.contains(want), "windows plans lack {want:?}");
            }
            let real = Command::cargo_bin("chainproof")?
                .args([
                    "run",
                    "--dry-run",
                    "--platform",
                    "windows",
                    "--fidelity",
                    "real",
                ])
                .args(["macro-doc-shell"])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone();
            let real = String::from_utf8(real)?;
            assert!(real.contains("temporary Office Trusted Location"), "{real}");
            assert!(real.contains(r"Trusted Locations\chainproof-cp"), "{real}");
            assert!(
                real.matches("Trusted Locations").count() >= 2,
                "added and removed: {real}"
            );
        }
        if platform == "macos" {
            for want in ["hdiutil detach", "osascript", "Microsoft Word"] {
                assert!(text.contains(want), "macos plans lack {want:?}");
            }
        }
    }
    Ok(())
}

/// Every Linux variant runs for real: attack chains alert at technique grade
/// with their own rules; negative controls run, are observed, and raise no
/// alert.
#[test]
fn every_linux_variant_runs_and_controls_raise_no_alert() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let ids = [
        "spreadsheet-macro",
        "pdf-launch",
        "rtf-dde",
        "script-double-click",
        "executable-download",
        "img-exec",
        "control-office-helper",
        "control-file-manager-editor",
        "control-pdf-browser",
    ];
    let out = lab.run(&ids).assert().success().get_output().stdout.clone();
    let stdout = String::from_utf8(out)?;
    assert!(
        stdout.contains("6 chains: 6 alerted (6 technique), 6 fully observed; 3 negative controls: 0 false positives"),
        "{stdout}"
    );
    let record = lab.record();
    let scenarios = record["scenarios"].as_array().cloned().unwrap_or_default();
    assert_eq!(scenarios.len(), ids.len());
    for s in &scenarios {
        let chain = &s["verification"]["chain"];
        assert_eq!(s["status"], "completed", "{}: {}", s["id"], s["reason"]);
        assert_eq!(chain["fully_observed"], true, "{}: {chain}", s["id"]);
        if s["negative_control"] == true {
            assert_eq!(chain["verdict"], "observed", "{}", s["id"]);
            assert_eq!(chain["false_positive"], false, "{}", s["id"]);
            assert_eq!(
                s["verification"]["alerts"],
                serde_json::json!([]),
                "{}",
                s["id"]
            );
        } else {
            assert_eq!(
                (chain["verdict"].as_str(), chain["grade"].as_str()),
                (Some("alerted"), Some("technique")),
                "{}",
                s["id"]
            );
            assert_eq!(
                chain["expected_rules_missing"],
                serde_json::json!([]),
                "{}",
                s["id"]
            );
        }
    }
    lab.assert_no_residue(&tokens(&record));
    Ok(())
}

/// A rule that fires on a control's legitimate pair is a false positive:
/// shown in the matrix, counted, and failing `--require` although the attack
/// chain beside it alerted.
#[test]
fn a_control_with_rules_that_fire_is_reported_as_a_false_positive() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let rules = lab.dir.path().join("noisy");
    std::fs::create_dir_all(&rules)?;
    std::fs::write(
        rules.join("editor.yml"),
        "title: Any Program Started by a File Manager\nid: 0b0b0b0b-0000-4000-8000-000000000001\nlogsource: { product: linux, category: process_creation }\ndetection:\n  sel: { ParentImage|endswith: '/nautilus' }\n  condition: sel\nlevel: low\n",
    )?;
    // The shipped document rule too, so the attack chain beside the control
    // alerts and the policy fails on the false positive alone.
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("detections/lnx_doc_app_spawns_shell.yml"),
        rules.join("doc.yml"),
    )?;
    let out = lab
        .run(&[
            "macro-doc-shell",
            "control-file-manager-editor",
            "--rules",
            rules.to_str().unwrap_or_default(),
            "--require",
            "alerted",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(out)?;
    assert!(stdout.contains("FALSE POSITIVE"), "{stdout}");
    assert!(
        stdout.contains("1 negative control: 1 false positive"),
        "{stdout}"
    );
    let record = lab.record();
    assert_eq!(
        record["scenarios"][0]["verification"]["chain"]["false_positive"],
        true
    );
    lab.assert_no_residue(&tokens(&record));
    Ok(())
}
