//! Tests of the origin marks: exact text, parsing, and a real NTFS volume
//! (ntfs-3g) holding the `Zone.Identifier` stream.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::artifact::testutil::run_ok;
use crate::testing::require_tool;

const HOST: &str = "http://127.0.0.1:8080/files/Setup-cp0123456789.exe";
const REFERRER: &str = "http://127.0.0.1:8080/";

#[test]
fn zone_identifier_is_the_exact_crlf_text() {
    let text = zone_identifier(HOST, REFERRER).unwrap();
    assert_eq!(
        text,
        "[ZoneTransfer]\r\nZoneId=3\r\nReferrerUrl=http://127.0.0.1:8080/\r\n\
         HostUrl=http://127.0.0.1:8080/files/Setup-cp0123456789.exe\r\n"
    );
    // Every line ends in CRLF; no bare LF anywhere.
    assert_eq!(text.matches("\r\n").count(), 4);
    assert_eq!(text.matches('\n').count(), 4);
    assert!(text.ends_with("\r\n") && !text.ends_with("\r\n\r\n"));
}

#[test]
fn zone_identifier_omits_an_empty_referrer_and_defaults_the_host() {
    assert_eq!(
        zone_identifier(HOST, "").unwrap(),
        format!("[ZoneTransfer]\r\nZoneId=3\r\nHostUrl={HOST}\r\n")
    );
    assert_eq!(
        zone_identifier("", "").unwrap(),
        "[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=about:internet\r\n"
    );
}

#[test]
fn zone_identifier_rejects_line_breaks() {
    for (host, referrer) in [
        ("http://a/\r\nZoneId=0", ""),
        ("http://a/\n", ""),
        (HOST, "http://r/\rx"),
        (HOST, "http://r/\0"),
    ] {
        let err = zone_identifier(host, referrer).unwrap_err();
        assert!(matches!(err, OriginError::Field { .. }), "{err}");
        assert!(err.to_string().starts_with("use "), "{err}");
    }
}

#[test]
fn zone_identifier_round_trips_through_the_parser() {
    let parsed = parse_zone_identifier(&zone_identifier(HOST, REFERRER).unwrap()).unwrap();
    assert_eq!(
        parsed,
        ZoneIdentifier {
            zone_id: 3,
            referrer_url: Some(REFERRER.into()),
            host_url: Some(HOST.into()),
        }
    );
    let parsed = parse_zone_identifier(&zone_identifier(HOST, "").unwrap()).unwrap();
    assert_eq!(parsed.referrer_url, None);
    assert_eq!(parsed.host_url.as_deref(), Some(HOST));
}

#[test]
fn parser_accepts_the_shapes_windows_writes() {
    // Old Internet Explorer / Outlook: zone only.
    let old = parse_zone_identifier("[ZoneTransfer]\r\nZoneId=3\r\n").unwrap();
    assert_eq!(
        (old.zone_id, old.host_url, old.referrer_url),
        (3, None, None)
    );
    // LF only, BOM, odd case, spaces, extra keys, trailing NUL.
    let odd = "\u{feff}[zonetransfer]\nzoneid = 4\nAppZoneId=4\nhosturl=https://x.example/a\n\0";
    let parsed = parse_zone_identifier(odd).unwrap();
    assert_eq!(parsed.zone_id, 4);
    assert_eq!(parsed.host_url.as_deref(), Some("https://x.example/a"));
    // A URL holding '=' keeps everything after the first one.
    let eq = parse_zone_identifier("[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=http://a/?q=1&r=2\r\n")
        .unwrap();
    assert_eq!(eq.host_url.as_deref(), Some("http://a/?q=1&r=2"));
}

#[test]
fn parser_rejects_text_without_a_zone() {
    for text in [
        "",
        "ZoneId=3\r\n",
        "[Other]\r\nZoneId=3\r\n",
        "[ZoneTransfer]\r\nHostUrl=http://a/\r\n",
        "[ZoneTransfer]\r\nZoneId=three\r\n",
        "[ZoneTransfer]\r\nZoneId\r\n",
    ] {
        let err = parse_zone_identifier(text).unwrap_err();
        assert!(
            matches!(err, OriginError::ZoneIdentifier { .. }),
            "{text:?}"
        );
        assert!(err.to_string().starts_with("parse the zone.identifier"));
    }
}

#[test]
fn stream_path_appends_the_stream_name() {
    assert_eq!(ZONE_STREAM, "Zone.Identifier");
    assert_eq!(
        zone_stream_path(Path::new("/mnt/c/Users/u/Downloads/Setup.exe")),
        PathBuf::from("/mnt/c/Users/u/Downloads/Setup.exe:Zone.Identifier")
    );
    assert_eq!(
        zone_stream_path(Path::new("a b.exe")),
        PathBuf::from("a b.exe:Zone.Identifier")
    );
}

#[test]
fn write_zone_identifier_needs_an_existing_file_and_good_urls() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.exe");
    let err = write_zone_identifier(&missing, HOST, REFERRER).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(!zone_stream_path(&missing).exists());
    let file = dir.path().join("x.exe");
    std::fs::write(&file, b"x").unwrap();
    let err = write_zone_identifier(&file, "http://a/\n", REFERRER).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let err = write_zone_identifier(dir.path(), HOST, REFERRER).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn quarantine_value_matches_published_examples() {
    // eclecticlight.co's example of a Safari download, UUID given in lowercase.
    assert_eq!(
        quarantine_value(
            QUARANTINE_FLAGS_SANDBOXED_DOWNLOAD,
            0x5837_1e3c,
            "Safari.app",
            "3b9296c0-c6f4-49b3-bac1-bcb229ffe7d6"
        )
        .unwrap(),
        "0083;58371e3c;Safari.app;3B9296C0-C6F4-49B3-BAC1-BCB229FFE7D6"
    );
    assert_eq!(
        quarantine_value(
            QUARANTINE_FLAGS_DOWNLOAD,
            1_713_344_400,
            "Google Chrome",
            ""
        )
        .unwrap(),
        "0081;661f8f90;Google Chrome;"
    );
    // Small times are zero-padded to eight digits, flags to four.
    assert_eq!(
        quarantine_value(0xc3, 0x1f, "a", "").unwrap(),
        "00c3;0000001f;a;"
    );
    assert_eq!(QUARANTINE_XATTR, "com.apple.quarantine");
}

#[test]
fn quarantine_value_rejects_what_would_not_parse() {
    let cases = [
        (-1, "Safari", ""),
        (0, "Safa;ri", ""),
        (0, "Safari\n", ""),
        (0, "Safari", "not-a-uuid"),
        (0, "Safari", "3B9296C0C6F449B3BAC1BCB229FFE7D6"),
    ];
    for (time, agent, uuid) in cases {
        let err = quarantine_value(0x81, time, agent, uuid).unwrap_err();
        assert!(matches!(err, OriginError::Field { .. }), "{err}");
    }
}

#[test]
fn quarantine_round_trips_and_parses_real_values() {
    let uuid = "B555DB5F-D82A-408B-B9A6-D4F4012FD520";
    let value = quarantine_value(0x81, 1_713_344_400, "Google Chrome", uuid).unwrap();
    assert_eq!(
        parse_quarantine(&value).unwrap(),
        Quarantine {
            flags: 0x81,
            unix_time: 1_713_344_400,
            agent: "Google Chrome".into(),
            uuid: uuid.into(),
        }
    );
    let safari =
        parse_quarantine("0083;5c54614c;Safari;b555db5f-d82a-408b-b9a6-d4f4012fd520").unwrap();
    assert_eq!(
        (safari.flags, safari.unix_time, safari.agent.as_str()),
        (0x83, 0x5c54_614c, "Safari")
    );
    assert_eq!(safari.uuid, uuid);
    let preview = parse_quarantine("0082;5cb1f2a1;Preview\0").unwrap();
    assert_eq!((preview.flags, preview.uuid.as_str()), (0x82, ""));
    for bad in [
        "",
        "0081",
        "0081;5c54614c",
        "81;5c54614c;Safari;",
        "zz81;5c54614c;Safari;",
        "0081;;Safari;",
        "0081;-5;Safari;",
        "0081;5c54614c;Safari;nope",
    ] {
        let err = parse_quarantine(bad).unwrap_err();
        assert!(matches!(err, OriginError::Quarantine { .. }), "{bad:?}");
    }
}

#[test]
fn linux_xattrs_are_what_the_runner_sets() {
    assert_eq!(
        linux_origin_xattrs(HOST, REFERRER),
        vec![
            ("user.xdg.origin.url", HOST.to_string()),
            ("user.xdg.referrer.url", REFERRER.to_string()),
        ]
    );
    assert_eq!(
        linux_origin_xattrs(HOST, ""),
        vec![("user.xdg.origin.url", HOST.to_string())]
    );
    // The pairs can be set as they are (what runner::serve::mark_origin does
    // with the same names, values and order).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Invoice-cp1.odt");
    std::fs::write(&file, b"x").unwrap();
    for (name, value) in linux_origin_xattrs(HOST, REFERRER) {
        xattr::set(&file, name, value.as_bytes()).unwrap();
        assert_eq!(xattr::get(&file, name).unwrap().unwrap(), value.as_bytes());
    }
}

/// An ntfs-3g FUSE mount, unmounted when dropped (also when a test fails).
struct NtfsMount {
    dir: PathBuf,
}

impl NtfsMount {
    fn new(image: &Path, dir: PathBuf, streams: &str) -> NtfsMount {
        std::fs::create_dir(&dir).unwrap();
        let guard = NtfsMount { dir };
        let option = format!("streams_interface={streams}");
        run_ok(
            Command::new("ntfs-3g")
                .arg("-o")
                .arg(option)
                .arg(image)
                .arg(&guard.dir),
        );
        assert!(guard.is_mounted(), "{} is not mounted", guard.dir.display());
        guard
    }

    fn is_mounted(&self) -> bool {
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        let dir = self.dir.to_string_lossy();
        mounts
            .lines()
            .any(|line| line.split(' ').nth(1) == Some(&*dir))
    }
}

impl Drop for NtfsMount {
    fn drop(&mut self) {
        for attempt in 0..20 {
            if !self.is_mounted() {
                return;
            }
            let mut cmd = Command::new("fusermount");
            cmd.arg("-u");
            if attempt == 19 {
                cmd.arg("-z");
            }
            let _ = cmd.arg(&self.dir).status();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

fn ntfs_tools_ready() -> bool {
    if !crate::testing::require_root() {
        return false;
    }
    ["mkntfs", "ntfs-3g", "fusermount"]
        .iter()
        .all(|tool| require_tool(tool))
}

#[test]
fn zone_identifier_lands_in_a_real_ntfs_stream() {
    if !ntfs_tools_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("volume.ntfs");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    run_ok(Command::new("mkntfs").args(["-F", "-f", "-q"]).arg(&image));
    let name = "Setup-cp0123456789.exe";
    let content = b"MZ chainproof benign stage placeholder\n";
    let expected = zone_identifier(HOST, REFERRER).unwrap();

    let windows = NtfsMount::new(&image, dir.path().join("mnt-windows"), "windows");
    let file = windows.dir.join(name);
    std::fs::write(&file, content).unwrap();
    write_zone_identifier(&file, HOST, REFERRER).unwrap();
    let stream = std::fs::read(zone_stream_path(&file)).unwrap();
    assert_eq!(stream, expected.as_bytes());
    assert_eq!(std::fs::read(&file).unwrap(), content);
    // ntfs-3g lists the file's named streams, NUL separated, in this xattr.
    let list = xattr::get(&file, "ntfs.streams.list").unwrap().unwrap();
    let names: Vec<&[u8]> = list.split(|b| *b == 0).filter(|n| !n.is_empty()).collect();
    assert_eq!(names, [ZONE_STREAM.as_bytes()], "{list:?}");
    // The stream is not a directory entry of its own.
    let entries: Vec<_> = std::fs::read_dir(&windows.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, [name]);
    drop(windows);

    // Independent reader: the same volume with streams shown as user xattrs.
    let xattrs = NtfsMount::new(&image, dir.path().join("mnt-xattr"), "xattr");
    let file = xattrs.dir.join(name);
    let value = xattr::get(&file, "user.Zone.Identifier").unwrap().unwrap();
    assert_eq!(value, expected.as_bytes());
    let parsed = parse_zone_identifier(std::str::from_utf8(&value).unwrap()).unwrap();
    assert_eq!(parsed.host_url.as_deref(), Some(HOST));
    assert_eq!(std::fs::read(&file).unwrap(), content);
    let mount_dir = xattrs.dir.clone();
    drop(xattrs);
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    assert!(!mounts.contains(&*mount_dir.to_string_lossy()), "{mounts}");
}
