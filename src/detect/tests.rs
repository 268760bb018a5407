use serde_json::json;

use super::*;
use crate::detect::load::Reason;
use crate::telemetry::{Category, Event};

fn proc_event(image: &str, parent: &str, cmd: &str, parent_cmd: &str) -> Event {
    let fields = json!({
        "Image": image, "ParentImage": parent, "CommandLine": cmd, "ParentCommandLine": parent_cmd,
        "ProcessId": 10, "ParentProcessId": 9, "User": "root",
    });
    Event {
        category: Category::ProcessCreation,
        arrived: None,
        at: None,
        hop: None,
        fields: fields.as_object().cloned().unwrap_or_default(),
    }
}

fn titles(rules: &Rules, e: &Event) -> Vec<String> {
    rules
        .evaluate(e, Platform::Linux)
        .into_iter()
        .map(|h| h.title)
        .collect()
}

#[test]
fn shipped_rules_fire_on_each_chain_and_not_on_benign_pairs() -> Result<(), DetectError> {
    let rules = Rules::load(&[])?;
    assert_eq!(
        rules.count,
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/detections"))
            .map(|d| d.count())
            .unwrap_or(0),
        "every file in detections/ is shipped"
    );
    let cases = [
        (
            proc_event(
                "/usr/bin/dash",
                "/tmp/w/program/soffice.bin",
                "/bin/sh -c x",
                "soffice.bin --writer a.odt",
            ),
            Some("Document Application"),
        ),
        (
            proc_event(
                "/usr/bin/dash",
                "/usr/lib/libreoffice/program/soffice.bin",
                "/bin/sh -c x",
                "soffice.bin",
            ),
            Some("Document Application"),
        ),
        (
            proc_event(
                "/usr/bin/dash",
                "/usr/bin/python3.11",
                "/bin/sh /w/l.sh",
                "/usr/bin/python3 /usr/bin/dex a.desktop",
            ),
            Some("Desktop Launcher"),
        ),
        (
            proc_event(
                "/usr/bin/dash",
                "/usr/bin/nautilus",
                "/bin/sh /w/l.sh",
                "nautilus a.desktop",
            ),
            Some("Desktop Launcher"),
        ),
        (
            proc_event(
                "/usr/bin/dash",
                "/run/media/u/INVOICE/Setup",
                "/bin/sh -c x",
                "Setup",
            ),
            Some("Mounted Disk Image"),
        ),
        // Negative controls: an editor starting a shell, a shell starting a shell.
        (
            proc_event(
                "/usr/bin/dash",
                "/usr/bin/vim",
                "/bin/sh -c make",
                "vim Makefile",
            ),
            None,
        ),
        (
            proc_event(
                "/usr/bin/touch",
                "/usr/bin/dash",
                "/usr/bin/touch x",
                "/bin/sh -c x",
            ),
            None,
        ),
    ];
    for (event, want) in cases {
        let got = titles(&rules, &event);
        match want {
            Some(w) => assert!(
                got.iter().any(|g| g.contains(w)),
                "{:?} → {got:?}, want {w}",
                event.fields
            ),
            None => assert!(got.is_empty(), "{:?} → {got:?}, want nothing", event.fields),
        }
    }
    Ok(())
}

#[test]
fn an_empty_folder_means_no_rules() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let rules = Rules::load(&[dir.path().to_path_buf()])?;
    assert_eq!(rules.count, 0);
    let e = proc_event("/usr/bin/dash", "/usr/bin/soffice.bin", "sh", "soffice.bin");
    assert!(titles(&rules, &e).is_empty());
    Ok(())
}

#[test]
fn a_broken_rule_is_refused_by_name_and_the_rest_load() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("bad.yml"), "title: x\ndetection: [\n")?;
    std::fs::write(
        dir.path().join("good.yml"),
        "title: Shell from an office suite\nid: 6d3f6c5e-0000-4000-8000-000000000001\nlogsource: {category: process_creation, product: linux}\ndetection:\n  sel: {ParentImage|endswith: /soffice.bin}\n  condition: sel\n",
    )?;
    std::fs::write(
        dir.path().join("corr.yml"),
        "title: Many shells\nid: 6d3f6c5e-0000-4000-8000-000000000002\ncorrelation:\n  type: event_count\n  rules: [6d3f6c5e-0000-4000-8000-000000000001]\n  group-by: [Computer]\n  timespan: 5m\n  condition: {gte: 10}\n",
    )?;
    let rules = Rules::load(&[dir.path().to_path_buf()])?;
    assert_eq!(rules.count, 1, "{:?}", rules.summary);
    assert_eq!(rules.summary.files, 3);
    let reasons: Vec<(String, Reason)> = rules
        .summary
        .refused
        .iter()
        .map(|r| {
            (
                r.path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string(),
                r.reason,
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("bad.yml".to_string(), Reason::Parse),
            ("corr.yml".to_string(), Reason::Correlation)
        ]
    );
    assert_eq!(
        rules.summary.line(),
        "1 rule loaded from 3 files; 2 refused (not valid Sigma: 1, correlation rule (not supported): 1)"
    );
    let e = proc_event("/usr/bin/dash", "/usr/bin/soffice.bin", "sh", "soffice.bin");
    assert_eq!(titles(&rules, &e), ["Shell from an office suite"]);
    let err = Rules::load_with(&[dir.path().to_path_buf()], true)
        .err()
        .ok_or("a strict load accepted refusals")?
        .to_string();
    assert!(
        err.contains("2 refused") && err.contains("bad.yml") && err.contains("corr.yml"),
        "{err}"
    );
    Ok(())
}

/// Conformance of the engine on public SigmaHQ rules this project relies on
/// (shared/sigma-t1204), including the modifiers our rules use.
#[test]
fn sigmahq_linux_rules_behave_as_written() -> Result<(), DetectError> {
    let Some(dir) = crate::testing::require_shared("sigma-t1204") else {
        return Ok(());
    };
    let rules = Rules::load(&[
        dir.join("proc_creation_lnx_susp_shell_child_process_from_parent_tmp_folder.yml"),
        dir.join("proc_creation_lnx_curl_wget_exec_tmp.yml"),
    ])?;
    assert_eq!(rules.count, 2);
    let tmp_parent = proc_event(
        "/usr/bin/dash",
        "/tmp/x/soffice.bin",
        "/bin/sh -c id",
        "soffice.bin",
    );
    assert_eq!(
        titles(&rules, &tmp_parent),
        ["Shell Execution Of Process Located In Tmp Directory"]
    );
    let curl = proc_event(
        "/usr/bin/dash",
        "/usr/bin/bash",
        "sh -c /usr/bin/curl http://x -o /tmp/a",
        "bash",
    );
    assert_eq!(titles(&rules, &curl).len(), 1);
    let neither = proc_event("/usr/bin/dash", "/usr/bin/bash", "sh -c ls", "bash");
    assert!(titles(&rules, &neither).is_empty());
    // The whole public set loads: no rule of it is rejected by the engine.
    let all = Rules::load(&[dir])?;
    assert!(all.count >= 40, "only {} SigmaHQ rules loaded", all.count);
    Ok(())
}

#[test]
fn grades_follow_attack_tags() {
    let t = |tags: &[&str]| grade(&tags.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        t(&["attack.execution", "attack.t1204.002"]),
        Grade::Technique
    );
    assert_eq!(t(&["attack.T1204"]), Grade::Technique);
    assert_eq!(t(&["attack.execution"]), Grade::Tactic);
    assert_eq!(t(&["attack.persistence"]), Grade::General);
    assert_eq!(t(&[]), Grade::General);
}
