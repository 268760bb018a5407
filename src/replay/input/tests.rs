//! Tests of the readers: real samples where they exist, small hand-made
//! files where exact counts matter.

use rsigma_parser::LogSource;

use super::logsource::*;
use crate::scenario::Platform;

fn names(ls: &[LogSource]) -> Vec<String> {
    ls.iter()
        .map(|l| {
            format!(
                "{}/{}",
                l.product.as_deref().unwrap_or("-"),
                l.category
                    .as_deref()
                    .or(l.service.as_deref())
                    .unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn table_rows_give_categories_and_services() {
    type Case<'a> = (
        &'a str,
        Option<u32>,
        Option<&'a str>,
        Platform,
        &'a [&'a str],
    );
    let cases: &[Case<'_>] = &[
        (
            SYSMON,
            Some(1),
            None,
            Platform::Windows,
            &["windows/process_creation", "windows/sysmon"],
        ),
        (
            SYSMON,
            Some(12),
            Some("CreateKey"),
            Platform::Windows,
            &[
                "windows/registry_add",
                "windows/registry_event",
                "windows/sysmon",
            ],
        ),
        (
            SYSMON,
            Some(12),
            Some("DeleteValue"),
            Platform::Windows,
            &[
                "windows/registry_delete",
                "windows/registry_event",
                "windows/sysmon",
            ],
        ),
        (
            SYSMON,
            Some(12),
            None,
            Platform::Windows,
            &["windows/registry_event", "windows/sysmon"],
        ),
        (
            SYSMON,
            Some(26),
            None,
            Platform::Windows,
            &[
                "windows/file_delete",
                "windows/file_delete_detected",
                "windows/sysmon",
            ],
        ),
        (
            SYSMON_LINUX,
            Some(3),
            None,
            Platform::Linux,
            &["linux/network_connection", "linux/sysmon"],
        ),
        (
            "security",
            Some(4688),
            None,
            Platform::Windows,
            &["windows/process_creation", "windows/security"],
        ),
        (
            "Security",
            Some(4624),
            None,
            Platform::Windows,
            &["windows/security"],
        ),
        (
            "Microsoft-Windows-PowerShell/Operational",
            Some(4104),
            None,
            Platform::Windows,
            &["windows/ps_script", "windows/powershell"],
        ),
        (
            "Windows PowerShell",
            Some(400),
            None,
            Platform::Windows,
            &["windows/ps_classic_start", "windows/powershell-classic"],
        ),
        (
            ESLOGGER,
            None,
            Some("exec"),
            Platform::Macos,
            &["macos/process_creation"],
        ),
    ];
    for (source, id, detail, platform, want) in cases {
        let (row, _) = lookup(source, *id, *detail).unwrap_or_else(|| panic!("{source} {id:?}"));
        assert_eq!(
            names(of_row(row, *platform)),
            *want,
            "{source} {id:?} {detail:?}"
        );
    }
    assert!(lookup(SYSMON, Some(30), None).is_none());
    assert!(lookup("Microsoft-Windows-Foo/Operational", Some(1), None).is_none());
    assert!(lookup(ESLOGGER, None, Some("exit")).is_none());
}
