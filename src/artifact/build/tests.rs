//! The artifact builder's choices per platform: volume ids, launch
//! dictionaries, Windows command lines.

use super::*;

#[test]
fn volume_ids_are_iso_d_characters() {
    let t = "cp0123456789";
    assert_eq!(volume_id("Invoice-cp0123456789.iso", t, 16), "INVOICE");
    assert_eq!(
        volume_id("Order 0412-cp0123456789.vhd", t, 11),
        "ORDER_0412"
    );
    assert_eq!(
        volume_id("Shipment_Notice-cp0123456789.iso", t, 11),
        "SHIPMENT_NO"
    );
    assert_eq!(volume_id("cp0123456789.iso", t, 16), "DISK");
    assert_eq!(volume_id("a.b.iso", t, 16), "A_B");
    assert_eq!(volume_id(&"x".repeat(40), t, 16).len(), 16);
    assert_eq!(volume_id("ab_-cd.iso", t, 3), "AB");
}

/// A Windows PDF's Launch parameters are what cmd.exe itself reads.
#[test]
fn a_windows_pdf_hands_cmd_its_own_command_line() {
    let argv: Vec<String> = [
        r"C:\Windows\System32\cmd.exe",
        "/c",
        r#"echo x>"C:\t\p.txt" & exit"#,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let bytes = build(&Input {
        kind: ArtifactKind::Pdf,
        platform: Platform::Windows,
        file_name: "a-cp1.pdf",
        executable: None,
        command: Some(&argv),
        link: None,
        token: "cp1",
        workdir: r"C:\t",
        stage: None,
        member: None,
        protect: None,
    })
    .unwrap();
    let launch = pdf::read_launch(&bytes).unwrap();
    assert_eq!(launch.program, argv[0]);
    assert_eq!(launch.parameters, r#"/c echo x>"C:\t\p.txt" & exit"#);
    let back = cmdline::windows_split(&format!("\"{}\" {}", launch.program, launch.parameters));
    assert_eq!(back, argv);
}

/// Each platform's PDF puts the command in its own launch dictionary:
/// never `/bin/sh` inside `/Win`.
#[test]
fn each_platform_pdf_uses_its_launch_dictionary() {
    let argv: Vec<String> = ["/bin/sh", "-c", "touch /w/p.txt"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (platform, on, present, absent) in [
        (Platform::Linux, pdf::LaunchOn::Unix, "/Unix <<", "/Win <<"),
        (Platform::Macos, pdf::LaunchOn::Mac, "/Mac <<", "/Win <<"),
        (
            Platform::Windows,
            pdf::LaunchOn::Windows,
            "/Win <<",
            "/Unix",
        ),
    ] {
        let bytes = build(&Input {
            kind: ArtifactKind::Pdf,
            platform,
            file_name: "a-cp1.pdf",
            executable: None,
            command: Some(&argv),
            link: None,
            token: "cp1",
            workdir: "/w",
            stage: None,
            member: None,
            protect: None,
        })
        .unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains(present) && !text.contains(absent),
            "{platform}: {text}"
        );
        let launch = pdf::read_launch(&bytes).unwrap();
        assert_eq!((launch.on, launch.program.as_str()), (on, "/bin/sh"));
    }
}

#[test]
fn windows_arguments_drop_only_the_program() {
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        windows_arguments(&argv(&[
            r"C:\Windows\System32\cmd.exe",
            "/c",
            "echo a & echo b"
        ])),
        "/c echo a & echo b"
    );
    assert_eq!(
        windows_arguments(&argv(&[r"C:\Program Files\x.exe", "a b", "c"])),
        "\"a b\" c"
    );
}
