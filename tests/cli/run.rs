//! `chainproof run`: the default suite and rule folders.

use crate::common::*;

#[test]
fn default_run_alerts_every_chain_with_linked_ground_truth_and_leaves_nothing() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let stdout = stdout_ok(lab.run(&["macro-doc-shell", "shortcut-script", "iso-exec"]));
    assert!(
        stdout.contains("macro-doc-shell") && stdout.contains("alerted (technique)"),
        "{stdout}"
    );
    let record = lab.record();
    assert_eq!(record["schema"], "chainproof.run/v1");
    let scenarios = record["scenarios"].as_array().cloned().unwrap_or_default();
    assert_eq!(scenarios.len(), 3);
    for s in &scenarios {
        let chain = &s["verification"]["chain"];
        assert_eq!(
            (chain["verdict"].as_str(), chain["grade"].as_str()),
            (Some("alerted"), Some("technique")),
            "{s:#}"
        );
        let opener = match s["id"].as_str() {
            Some("macro-doc-shell") => "soffice.bin",
            Some("shortcut-script") => "nautilus",
            _ => "Setup-cp*",
        };
        assert_chain(s, opener);
        // DET0294's Linux analytic: download, then an interpreter under a
        // viewer or file manager (the disk image's program is neither).
        let det0294 = s["verification"]["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["rule_id"] == "chainproof-det0294-linux");
        assert_eq!(det0294, s["id"] != "iso-exec", "{}: DET0294 alert", s["id"]);
        assert_eq!(
            chain["expected_rules_missing"],
            serde_json::json!([]),
            "{}",
            s["id"]
        );
        let artifact = s["truth"]["files"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["role"] == "artifact");
        let origin = artifact.map(|f| {
            f["origin"]["user.xdg.origin.url"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
        assert!(
            origin.is_some_and(|u| u.starts_with("http://127.0.0.1:")),
            "{}: no origin mark",
            s["id"]
        );
    }
    let iso = scenarios.iter().find(|s| s["id"] == "iso-exec");
    assert_eq!(
        iso.map(|s| &s["truth"]["mount"]["unmounted"]),
        Some(&serde_json::json!(true))
    );
    let folder = lab
        .reports()
        .read_dir()?
        .flatten()
        .find(|e| e.path().join("matrix.md").exists());
    assert!(folder.is_some(), "matrix.md not written");
    lab.assert_no_residue(&tokens(&record));
    Ok(())
}

#[test]
fn empty_rule_folder_observes_every_hop_and_alerts_none() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let rules = lab.dir.path().join("no-rules");
    std::fs::create_dir_all(&rules)?;
    lab.run(&[
        "macro-doc-shell",
        "shortcut-script",
        "iso-exec",
        "--rules",
        rules.to_str().unwrap_or_default(),
    ])
    .assert()
    .success();
    let record = lab.record();
    for s in record["scenarios"].as_array().into_iter().flatten() {
        for h in s["verification"]["hops"].as_array().into_iter().flatten() {
            assert_eq!(h["verdict"], "observed", "{}: {h}", s["id"]);
        }
        assert_eq!(
            s["verification"]["alerts"].as_array().map(Vec::len),
            Some(0)
        );
        assert_eq!(s["verification"]["chain"]["verdict"], "observed");
        let missing = &s["verification"]["chain"]["expected_rules_missing"];
        assert_eq!(
            missing.as_array().map(Vec::len),
            Some(1),
            "{}: {missing}",
            s["id"]
        );
    }
    assert_eq!(record["rules"]["count"], 0);
    Ok(())
}

/// `bash -c 'cmd'` execs `cmd` in place: one pid realises two hops, and
/// both are found, observed and linked.
#[test]
fn a_shell_exec_in_place_still_realises_every_hop() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exec-in-place");
    lab.run(&["--scenarios", fixture.to_str().unwrap_or_default()])
        .assert()
        .success();
    let record = lab.record();
    let s = &record["scenarios"][0];
    let hops = s["hops"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        hops[2]["pid"], hops[3]["pid"],
        "bash and touch share a pid: {hops:#?}"
    );
    assert_eq!(hops[3]["parent_pid"], hops[2]["pid"]);
    assert!(
        hops[2]["image"]
            .as_str()
            .is_some_and(|i| i.ends_with("/bash")),
        "{hops:#?}"
    );
    for h in s["verification"]["hops"]
        .as_array()
        .into_iter()
        .flatten()
        .skip(2)
    {
        assert_eq!(h["linked"], true, "{h}");
    }
    assert_eq!(s["verification"]["chain"]["verdict"], "alerted");
    lab.assert_no_residue(&tokens(&record));
    Ok(())
}

/// `--record` keeps the telemetry behind the verdicts as JSON lines, one
/// flat Sysmon-style event per line tied to its run and hop.
#[test]
fn record_writes_the_telemetry_of_every_hop() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    lab.run(&["macro-doc-shell", "--record"]).assert().success();
    let text = std::fs::read_to_string(lab.folder().join("telemetry.jsonl"))?;
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let mut hops: Vec<u64> = lines
        .iter()
        .filter_map(|l| l["chainproof.hop"].as_u64())
        .collect();
    hops.sort();
    hops.dedup();
    assert_eq!(hops, [0, 1, 2, 3], "{text}");
    for l in &lines {
        assert_eq!(l["chainproof.schema"], "chainproof.telemetry/v1");
        assert!(l["EventID"] == 1 || l["EventID"] == 11, "{l}");
    }
    Ok(())
}
