//! Tests of loading whole files and byte buffers: errors that name the
//! file, the Windows record mapping, cut EVTX files and ZIP limits.

use serde_json::{Value, json};

use super::{Loaded, load};

#[test]
fn malformed_inputs_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "bad.jsonl",
            b"{\"EventID\": 1}\n{not json\n",
            "line 2: invalid JSON",
        ),
        ("bad.evtx", b"ElfFile\0truncated", "EVTX"),
        ("bad.zip", b"PK\x03\x04garbage", "ZIP"),
        (
            "notes.txt",
            b"hello\nworld\n",
            "no EVTX, ZIP, JSON or audit records",
        ),
        ("bin.dat", &[0xff, 0xfe, 0x00, 0x80], "not UTF-8"),
    ];
    for (name, bytes, want) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
    }
    let missing = dir.path().join("missing.evtx");
    let err = load(&missing).unwrap_err().to_string();
    assert!(err.contains("missing.evtx"), "{err}");
    // A folder fails on its first bad file, by name.
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("bad.evtx"), "{err}");
}

#[test]
fn security_4688_maps_to_sysmon_names() {
    let record = json!({"Event": {
        "System": {"EventID": 4688, "Channel": "Security", "Computer": "H"},
        "EventData": {"NewProcessName": "C:\\Windows\\System32\\cmd.exe",
            "ParentProcessName": "C:\\Windows\\explorer.exe", "NewProcessId": "0x1a2c",
            "ProcessId": "0x258", "CommandLine": "cmd /c x",
            "SubjectDomainName": "D", "SubjectUserName": "u"}}});
    let event = super::windows_record(&record).unwrap();
    let get = |k: &str| event.fields.get(k).cloned().unwrap_or(Value::Null);
    assert_eq!(get("Image"), json!("C:\\Windows\\System32\\cmd.exe"));
    assert_eq!(get("ParentImage"), json!("C:\\Windows\\explorer.exe"));
    assert_eq!(
        (get("ProcessId"), get("ParentProcessId")),
        (json!(6700), json!(600))
    );
    assert_eq!(get("User"), json!("D\\u"));
    let sysmon_1_on_security = json!({"Event": {"System": {"EventID": 1, "Channel": "Security"}}});
    assert!(super::windows_record(&sysmon_1_on_security).is_none());
}

#[test]
fn a_truncated_evtx_is_refused_with_the_records_read_before_the_cut() {
    let Some(path) =
        super::tests::shared("datasets/sysmon_vbs_sharpshooter_stageless_meterpreter.evtx")
    else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let whole = load(&path).unwrap();
    let records = whole.events.len() + whole.skipped;
    assert!(records > 0);
    let dir = tempfile::tempdir().unwrap();
    // One byte short: the last chunk's end is lost; the first 4 KiB: only
    // the file header is left.
    for (keep, read) in [(bytes.len() - 1, None), (4096, Some(0))] {
        let cut = dir.path().join(format!("cut-{keep}.evtx"));
        std::fs::write(&cut, &bytes[..keep]).unwrap();
        let err = load(&cut).unwrap_err().to_string();
        assert!(err.contains(&cut.display().to_string()), "{err}");
        assert!(err.contains("EVTX: truncated or corrupt"), "{err}");
        if let Some(n) = read {
            assert!(err.contains(&format!("{n} record(s) read before")), "{err}");
        }
    }
}

/// A ZIP holding one entry `name` with `data`, deflated.
fn zip_of(name: &str, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file(name, deflated).expect("start entry");
    w.write_all(data).expect("write entry");
    w.finish().expect("finish zip").into_inner()
}

#[test]
fn zips_nest_up_to_the_limit_and_no_deeper() {
    let line =
        br#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\a.exe"}"#;
    let mut data = zip_of("x.json", line);
    for depth in 1..=super::ZIP_DEPTH_LIMIT + 1 {
        let mut out = Loaded::default();
        let got = super::load_bytes("r.zip", data.clone(), &mut out);
        if depth <= super::ZIP_DEPTH_LIMIT {
            assert!(got.is_ok(), "depth {depth}: {got:?}");
            assert_eq!(out.events.len(), 1, "depth {depth}");
        } else {
            let err = got.expect_err("one ZIP too deep").to_string();
            assert!(err.contains("nested more than 4 deep"), "{err}");
        }
        data = zip_of("x.zip", &data);
    }
}

#[test]
fn zip_entries_expanding_past_the_budget_are_refused() {
    // 2 MiB of blanks deflate to a few KiB: the shape of a decompression
    // bomb, with a small budget standing in for ZIP_EXPANDED_LIMIT.
    let bomb = zip_of("x.json", &vec![b' '; 2 << 20]);
    assert!(bomb.len() < 16 << 10);
    let mut left = 1 << 20;
    let err = super::load_zip("b.zip", bomb.clone(), &mut Loaded::default(), 1, &mut left)
        .expect_err("over the budget")
        .to_string();
    assert!(
        err.contains("b.zip!x.json") && err.contains("decompression bomb"),
        "{err}"
    );
    let mut left = 4 << 20;
    let fits = super::load_zip("b.zip", bomb, &mut Loaded::default(), 1, &mut left);
    assert!(fits.is_ok(), "{fits:?}");
    assert_eq!(left, 2 << 20, "what was expanded is taken from the budget");
}
