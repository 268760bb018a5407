//! Tests of the readers: real samples where they exist, small hand-made
//! files where exact counts matter.

use std::path::{Path, PathBuf};

use crate::vocab::Platform;

use serde_json::json;

use super::stream;
use crate::telemetry::Category;
use crate::telemetry::{InputStats, Mapped};

pub(crate) use crate::testing::require_shared as shared;

pub(super) fn read(paths: &[PathBuf]) -> (Vec<Mapped>, Vec<InputStats>) {
    let mut out = Vec::new();
    let stats = stream(paths, &mut |m| out.push(m)).expect("readable");
    (out, stats)
}

pub(super) fn write(dir: &Path, name: &str, lines: &[serde_json::Value]) -> PathBuf {
    let path = dir.join(name);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).expect("write sample");
    path
}

/// `category` or `service` names of a record's log sources.
pub(super) fn kinds(m: &Mapped) -> Vec<&str> {
    m.logsources
        .iter()
        .filter_map(|l| l.category.as_deref().or(l.service.as_deref()))
        .collect()
}

/// The `category:` or `service:` of the rule file `rule`.
fn rule_logsource(rule: &Path) -> Option<String> {
    let text = std::fs::read_to_string(rule).ok()?;
    let logsource = text.split("logsource:").nth(1)?;
    logsource
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("category:")
                .or_else(|| l.strip_prefix("service:"))
                .map(|v| v.split('#').next().unwrap_or("").trim().to_string())
        })
}

#[test]
fn every_sigmahq_regression_sample_maps_to_its_rules_log_source() {
    let Some(root) = shared("sigmahq") else {
        return;
    };
    let mut samples = Vec::new();
    let mut stack = vec![root.join("regression_data")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("folder") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                samples.push(p);
            }
        }
    }
    samples.sort();
    assert!(samples.len() > 150, "{} samples", samples.len());
    let mut families = std::collections::BTreeSet::new();
    for sample in &samples {
        let folder = sample.parent().expect("sample folder");
        let rel = folder
            .strip_prefix(root.join("regression_data"))
            .expect("below regression_data");
        let rule = root.join(rel).with_extension("yml");
        // A few samples outlive their rule: their folder names the family.
        let want = rule_logsource(&rule).unwrap_or_else(|| {
            let family = folder
                .parent()
                .and_then(Path::file_name)
                .expect("family folder");
            family.to_string_lossy().into_owned()
        });
        for file in [sample.clone(), sample.with_extension("evtx")] {
            let (mapped, stats) = read(std::slice::from_ref(&file));
            assert!(
                mapped.iter().any(|m| kinds(m).contains(&want.as_str())),
                "{}: no record under {want}; {stats:?}",
                file.display()
            );
        }
        families.insert(want);
    }
    for family in [
        "process_creation",
        "file_event",
        "registry_set",
        "registry_delete",
        "registry_event",
        "image_load",
        "process_access",
        "pipe_created",
        "security",
        "taskscheduler",
        "wmi",
        "sysmon",
    ] {
        assert!(
            families.contains(family),
            "{family} not exercised: {families:?}"
        );
    }
}

#[test]
fn security_4688_keeps_its_fields_beside_sysmons_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "s.json",
        &[json!({"Event": {
            "System": {"EventID": 4688, "Channel": "Security", "Computer": "H",
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}}},
            "EventData": {"NewProcessName": "C:\\Windows\\System32\\cmd.exe",
                "ParentProcessName": "C:\\Windows\\explorer.exe", "NewProcessId": "0x1a2c",
                "ProcessId": "0x258", "CommandLine": "cmd /c x",
                "SubjectDomainName": "D", "SubjectUserName": "u",
                "TargetDomainName": "-", "TargetUserName": "-"}}})],
    );
    let (mapped, _) = read(&[path]);
    let m = &mapped[0];
    let get = |k: &str| m.event.fields.get(k).cloned().unwrap_or_default();
    assert_eq!(get("Image"), json!("C:\\Windows\\System32\\cmd.exe"));
    assert_eq!(
        get("NewProcessName"),
        json!("C:\\Windows\\System32\\cmd.exe")
    );
    assert_eq!(get("ParentProcessName"), json!("C:\\Windows\\explorer.exe"));
    assert_eq!(get("ParentImage"), json!("C:\\Windows\\explorer.exe"));
    assert_eq!(get("NewProcessId"), json!("0x1a2c"));
    assert_eq!(
        (get("ProcessId"), get("ParentProcessId")),
        (json!(6700), json!(600))
    );
    assert_eq!(get("User"), json!("D\\u"));
    assert_eq!(
        get("Provider_Name"),
        json!("Microsoft-Windows-Security-Auditing")
    );
    assert_eq!(m.event.category, Category::ProcessCreation);
    assert_eq!(kinds(m), ["process_creation", "security"]);
    assert_eq!((m.origin.provider, m.origin.id), ("security", Some(4688)));
    assert_eq!(m.host.as_deref(), Some("H"));
}

#[test]
fn evtx_dump_output_of_several_pretty_objects_is_read_record_by_record() {
    let Some(path) = shared(
        "sigmahq/regression_data/rules/windows/file/file_event/\
         file_event_win_hktl_netexec_file_indicators/efc21479-9e83-41da-8cf1-122e06ba8db3.json",
    ) else {
        return;
    };
    let objects = std::fs::read_to_string(&path)
        .expect("sample")
        .lines()
        .filter(|l| *l == "}")
        .count();
    assert!(objects > 1);
    let (mapped, stats) = read(&[path]);
    assert_eq!(stats[0].format, "json");
    assert_eq!(stats[0].read, objects as u64);
    assert_eq!(mapped.len(), objects);
}

#[test]
fn counts_per_input_are_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sysmon = "Microsoft-Windows-Sysmon/Operational";
    let path = write(
        dir.path(),
        "mixed.jsonl",
        &[
            json!({"EventID": 1, "Channel": sysmon, "Image": "C:\\a.exe", "Hostname": "N"}),
            json!({"EventID": 12, "Channel": sysmon, "EventType": "CreateKey", "Computer": "W"}),
            json!({"EventID": 99, "Channel": sysmon}),
            json!({"EventID": 4624, "Channel": "Security"}),
            json!({"EventID": 1, "Channel": "Microsoft-Windows-Foo/Operational"}),
            json!(3),
            json!({"what": "else"}),
        ],
    );
    let (mapped, stats) = read(&[path]);
    let s = &stats[0];
    assert_eq!((s.format.as_str(), s.read, s.mapped), ("json-lines", 7, 3));
    let skipped: Vec<(&str, u64)> = s.skipped.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        skipped,
        [
            ("JSON record of no known shape", 1),
            ("Microsoft-Windows-Foo/Operational: no Sigma service", 1),
            ("Sysmon 99: no Sigma log source", 1),
            ("not a JSON object", 1),
        ]
    );
    assert_eq!(mapped[0].host.as_deref(), Some("N"), "NXLog's Hostname");
    assert_eq!(
        kinds(&mapped[1]),
        ["registry_add", "registry_event", "sysmon"]
    );
    assert_eq!(kinds(&mapped[2]), ["security"]);
    assert!(mapped.iter().all(|m| m.input == 0));
}

#[test]
fn a_readme_in_a_telemetry_folder_is_refused_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("README.md"), "# Recording\n\nOne host.\n").expect("readme");
    std::fs::write(
        dir.path().join("shot.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe",
    )
    .expect("png");
    write(
        dir.path(),
        "x.jsonl",
        &[
            json!({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "C:\\a.exe"}),
        ],
    );
    let (mapped, stats) = read(&[dir.path().to_path_buf()]);
    assert_eq!(mapped.len(), 1);
    let by_name = |n: &str| stats.iter().find(|s| s.name.ends_with(n)).expect(n);
    assert_eq!(
        by_name("README.md").refused.as_deref(),
        Some("no EVTX, ZIP, JSON or audit records recognised")
    );
    assert_eq!(
        by_name("shot.png").refused.as_deref(),
        Some("not UTF-8 text")
    );
    assert_eq!(by_name("x.jsonl").refused, None);
    assert_eq!(
        mapped[0].input,
        stats
            .iter()
            .position(|s| s.name.ends_with("x.jsonl"))
            .expect("x")
    );
    // Named on its own, the README is an error naming it.
    let err = stream(&[dir.path().join("README.md")], &mut |_| {}).expect_err("not telemetry");
    assert!(err.to_string().contains("README.md"), "{err}");
}

#[test]
fn the_shared_datasets_folder_reads_whole_with_its_readmes_refused() {
    let Some(dir) = shared("datasets") else {
        return;
    };
    let (mapped, stats) = read(&[dir]);
    for s in &stats {
        let skipped: u64 = s.skipped.values().sum();
        assert_eq!(s.read, s.mapped + skipped, "{s:?}");
    }
    let refused: Vec<&str> = stats
        .iter()
        .filter(|s| s.refused.is_some())
        .map(|s| s.name.rsplit('/').next().unwrap_or(""))
        .collect();
    assert!(refused.contains(&"README.md"), "{refused:?}");
    assert!(
        refused.contains(&"LICENSE.EVTX-ATTACK-SAMPLES.GPL"),
        "{refused:?}"
    );
    let auditd = stats
        .iter()
        .find(|s| s.name.contains("auoms_auditd_log4shell") && s.name.contains('!'))
        .expect("the auoms entry");
    assert_eq!(auditd.format, "json-lines");
    let from = |i: usize| mapped.iter().filter(move |m| m.input == i);
    let auditd_index = stats.iter().position(|s| s == auditd).expect("index");
    let exec = from(auditd_index)
        .find(|m| m.event.category == Category::ProcessCreation)
        .expect("an auditd exec");
    assert_eq!(kinds(exec), ["process_creation", "auditd"]);
    assert_eq!(exec.platform, Platform::Linux);
}

#[test]
fn winlogbeat_userdata_and_classic_powershell_shapes_map() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "shapes.jsonl",
        &[
            json!({"@timestamp": "2024-05-01T10:00:00Z", "host": {"name": "ws02"},
                "winlog": {"event_id": "4104", "channel": "Microsoft-Windows-PowerShell/Operational",
                    "provider_name": "Microsoft-Windows-PowerShell",
                    "event_data": {"ScriptBlockText": "iex $x", "Path": ""}}}),
            json!({"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 104},
                    "Channel": "System", "Computer": "dc1"},
                "UserData": {"LogFileCleared": {"SubjectUserName": "admin", "Channel": "Security"}}}}),
            json!({"Event": {"System": {"EventID": 400, "Channel": "Windows PowerShell"},
                "EventData": {"Data": {"#text": ["Available", "None", "HostName=ConsoleHost"]}}}}),
            json!({"EventID": 7045, "Channel": "System", "agent": {"hostname": "srv9"},
                "ServiceName": "x", "ImagePath": "C:\\x.exe"}),
        ],
    );
    let (mapped, stats) = read(&[path]);
    assert_eq!(stats[0].mapped, 4, "{stats:?}");
    let ps = &mapped[0];
    assert_eq!(kinds(ps), ["ps_script", "powershell"]);
    assert_eq!(ps.host.as_deref(), Some("ws02"));
    assert_eq!(ps.event.fields["ScriptBlockText"], json!("iex $x"));
    assert_eq!(ps.event.fields["EventID"], json!(4104));
    assert_eq!(
        ps.event.fields["Provider_Name"],
        json!("Microsoft-Windows-PowerShell")
    );
    assert!(ps.event.at.is_some());
    let cleared = &mapped[1];
    assert_eq!(kinds(cleared), ["system"]);
    assert_eq!(cleared.event.fields["SubjectUserName"], json!("admin"));
    assert_eq!(cleared.event.fields["EventID"], json!(104));
    assert_eq!(
        cleared.event.fields["Channel"],
        json!("System"),
        "the record's channel wins"
    );
    let classic = &mapped[2];
    assert_eq!(kinds(classic), ["ps_classic_start", "powershell-classic"]);
    assert_eq!(
        classic.event.fields["Data"],
        json!("Available\nNone\nHostName=ConsoleHost")
    );
    assert_eq!(mapped[3].host.as_deref(), Some("srv9"));
    assert_eq!(kinds(&mapped[3]), ["system"]);
}

#[test]
fn a_zip_entry_that_is_not_telemetry_is_refused_and_the_rest_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).expect("zip"));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("README.txt", opts).expect("entry");
    w.write_all(b"Recorded on a lab host.\n").expect("write");
    w.start_file("x.jsonl", opts).expect("entry");
    let line = json!({"EventID": 3, "Channel": "Microsoft-Windows-Sysmon/Operational"});
    w.write_all(format!("{line}\n").as_bytes()).expect("write");
    w.finish().expect("finish");
    let (mapped, stats) = read(&[path]);
    let names: Vec<(&str, &str, bool)> = stats
        .iter()
        .map(|s| {
            let name = s.name.rsplit('/').next().unwrap_or("");
            (name, s.format.as_str(), s.refused.is_some())
        })
        .collect();
    assert_eq!(
        names,
        [
            ("r.zip", "zip", false),
            ("r.zip!README.txt", "", true),
            ("r.zip!x.jsonl", "json-lines", false),
        ]
    );
    assert_eq!(mapped.len(), 1);
    assert_eq!(mapped[0].input, 2);
    assert_eq!(kinds(&mapped[0]), ["network_connection", "sysmon"]);
}

#[test]
fn defender_fields_named_with_spaces_gain_sigmas_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "d.json",
        &[json!({"Event": {
            "System": {"EventID": 1119, "Computer": "H",
                "Channel": "Microsoft-Windows-Windows Defender/Operational"},
            "EventData": {"Threat Name": "Tool:Win32/EICAR_Test_File",
                "Source Name": "Real-Time Protection", "ThreatID": "kept"}}})],
    );
    let (mapped, _) = read(&[path]);
    let get = |k: &str| mapped[0].event.fields.get(k).cloned().unwrap_or_default();
    assert_eq!(get("ThreatName"), json!("Tool:Win32/EICAR_Test_File"));
    assert_eq!(get("Threat Name"), json!("Tool:Win32/EICAR_Test_File"));
    assert_eq!(get("SourceName"), json!("Real-Time Protection"));
    assert_eq!(get("ThreatID"), json!("kept"));
}
