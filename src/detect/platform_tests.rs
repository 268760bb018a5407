//! Each shipped rule fires on the chain its scenario produces on its
//! platform, and none fires on the negative controls' legitimate pairs.

use serde_json::json;

use super::Rules;
use crate::telemetry::{Category, Event};
use crate::vocab::Platform;

fn event(image: &str, parent: &str, cmd: &str, parent_cmd: &str) -> Event {
    let fields = json!({
        "Image": image, "ParentImage": parent, "CommandLine": cmd, "ParentCommandLine": parent_cmd,
    });
    Event {
        category: Category::ProcessCreation,
        arrived: None,
        at: None,
        hop: None,
        fields: fields.as_object().cloned().unwrap_or_default(),
    }
}

/// Platform, image, parent image, command line, parent command line, and
/// the rule id that must fire (none for a negative control).
type Case = (
    Platform,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

const CASES: &[Case] = &[
    // Linux
    (
        Platform::Linux,
        "/usr/bin/dash",
        "/w/program/soffice.bin",
        "/bin/sh -c x",
        "soffice.bin --calc /w/Downloads/Budget-cp1.xlsm",
        Some("1f253ed5-3336-42fe-9776-543ad5ca34e3"),
    ),
    (
        Platform::Linux,
        "/usr/bin/dash",
        "/w/program/evince",
        "/bin/sh -c x",
        "evince /w/Downloads/S-cp1.pdf",
        Some("9f8fb91a-700e-40eb-80c0-e63a935c00bb"),
    ),
    (
        Platform::Linux,
        "/usr/bin/dash",
        "/w/program/soffice.bin",
        "/bin/sh -c x",
        "soffice.bin --writer /w/Downloads/L-cp1.rtf",
        Some("5d66fe8f-72ae-44f6-9228-f6d66c5b5fd1"),
    ),
    (
        Platform::Linux,
        "/usr/bin/dash",
        "/w/program/nautilus",
        "/bin/sh /w/Downloads/Setup-cp1.sh",
        "nautilus /w/Downloads/Setup-cp1.sh",
        Some("91ce34b0-1fb9-4117-a4ff-6378d53e53a0"),
    ),
    (
        Platform::Linux,
        "/usr/bin/dash",
        "/w/Downloads/Setup-cp1",
        "/bin/sh -c x",
        "/w/Downloads/Setup-cp1",
        Some("a13d7193-339b-4c7a-8764-93874827cf03"),
    ),
    (
        Platform::Linux,
        "/usr/bin/fuseiso",
        "/usr/bin/chainproof",
        "fuseiso /w/Downloads/I-cp1.img /w/media/I-cp1",
        "chainproof run",
        Some("3126fb64-d5ed-4ce0-8036-304255a91988"),
    ),
    // Linux negative controls
    (
        Platform::Linux,
        "/w/program/lpr",
        "/w/program/soffice.bin",
        "/w/program/lpr -T Report-cp1 /w/Downloads/Report-cp1.txt",
        "soffice.bin --writer /w/Downloads/Report-cp1.txt",
        None,
    ),
    (
        Platform::Linux,
        "/w/program/gedit",
        "/w/program/nautilus",
        "/w/program/gedit /w/Downloads/Notes-cp1.txt",
        "nautilus /w/Downloads/Notes-cp1.txt",
        None,
    ),
    (
        Platform::Linux,
        "/w/program/firefox",
        "/w/program/evince",
        "/w/program/firefox https://www.example.com/?ref=cp1",
        "evince /w/Downloads/B-cp1.pdf",
        None,
    ),
    // Windows
    (
        Platform::Windows,
        r"C:\Windows\System32\cmd.exe",
        r"C:\t\program\WINWORD.EXE",
        "cmd.exe /c echo",
        r"WINWORD.EXE /n C:\t\Downloads\I-cp1.docm",
        Some("0b5111e7-20d9-4560-b970-ea37771a0006"),
    ),
    (
        Platform::Windows,
        r"C:\Windows\System32\cmd.exe",
        r"C:\t\program\AcroRd32.exe",
        "cmd.exe /c echo",
        r"AcroRd32.exe C:\t\Downloads\S-cp1.pdf",
        Some("90e4c435-d457-441e-bc00-8e4660e624d7"),
    ),
    (
        Platform::Windows,
        r"C:\Windows\System32\cmd.exe",
        r"C:\t\program\WINWORD.EXE",
        "cmd.exe /c echo",
        r"WINWORD.EXE /n C:\t\Downloads\L-cp1.rtf",
        Some("cb9399b6-bd1c-4c6b-b2d6-536194810cec"),
    ),
    (
        Platform::Windows,
        r"C:\Windows\System32\wscript.exe",
        r"C:\Windows\explorer.exe",
        r"C:\Windows\System32\wscript.exe C:\t\Downloads\I-cp1.js",
        "explorer.exe",
        Some("6d32ed9a-4b96-4022-b6fa-5a77c9518484"),
    ),
    (
        Platform::Windows,
        r"C:\Windows\System32\mshta.exe",
        r"C:\Windows\explorer.exe",
        r"C:\Windows\System32\mshta.exe C:\t\Downloads\I-cp1.hta",
        "explorer.exe",
        Some("8ad432df-72af-45d5-8d3e-45bc461415aa"),
    ),
    (
        Platform::Windows,
        r"C:\Windows\regedit.exe",
        r"C:\Windows\explorer.exe",
        r"C:\Windows\regedit.exe /s C:\t\Downloads\S-cp1.reg",
        "explorer.exe",
        Some("e8a3258e-570b-4507-ac1d-20ae5f5eea2f"),
    ),
    (
        Platform::Windows,
        r"C:\t\program\rundll32.exe",
        r"C:\t\program\control.exe",
        r"rundll32.exe shell32.dll,Control_RunDLL C:\t\Downloads\U-cp1.cpl",
        r"control.exe C:\t\Downloads\U-cp1.cpl",
        Some("1cad705b-8e1a-494b-987a-e5a98ac8ad58"),
    ),
    (
        Platform::Windows,
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
        r"C:\Windows\explorer.exe",
        r"powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\t\launch-cp1.ps1",
        "explorer.exe",
        Some("dba26a50-e213-4189-ac53-a58f870a1539"),
    ),
    (
        Platform::Windows,
        r"C:\Windows\System32\cmd.exe",
        r"E:\Setup-cp1.exe",
        "cmd.exe /c echo",
        r"E:\Setup-cp1.exe",
        Some("55f42292-6860-4832-a65e-48508b87dfc1"),
    ),
    (
        Platform::Windows,
        r"C:\Windows\System32\cmd.exe",
        r"C:\Users\u\Downloads\Setup-cp1.exe",
        "cmd.exe /c echo",
        "Setup-cp1.exe",
        Some("1c71f256-b91d-47f7-a791-b357a92f72fa"),
    ),
    // Windows negative controls
    (
        Platform::Windows,
        r"C:\t\program\splwow64.exe",
        r"C:\t\program\WINWORD.EXE",
        "splwow64.exe 8192",
        r"WINWORD.EXE /n C:\t\Downloads\R-cp1.txt",
        None,
    ),
    (
        Platform::Windows,
        r"C:\t\program\notepad.exe",
        r"C:\t\program\explorer.exe",
        r"notepad.exe C:\t\Downloads\N-cp1.txt",
        "explorer.exe",
        None,
    ),
    (
        Platform::Windows,
        r"C:\t\program\msedge.exe",
        r"C:\t\program\AcroRd32.exe",
        "msedge.exe https://www.example.com/?ref=cp1",
        r"AcroRd32.exe C:\t\Downloads\B-cp1.pdf",
        None,
    ),
    (
        Platform::Windows,
        r"C:\Windows\System32\cmd.exe",
        r"C:\Windows\System32\services.exe",
        "cmd.exe /c echo",
        "services.exe",
        None,
    ),
    // macOS
    (
        Platform::Macos,
        "/bin/sh",
        "/t/program/Microsoft Word",
        "/bin/sh -c x",
        "Microsoft Word /t/Downloads/I-cp1.docm",
        Some("d9f66835-83b5-42cf-aed1-68c321f70763"),
    ),
    (
        Platform::Macos,
        "/bin/sh",
        "/t/program/Preview",
        "/bin/sh -c x",
        "Preview /t/Downloads/S-cp1.pdf",
        Some("2b02f0a1-4d41-4187-a04d-3735330fc1bd"),
    ),
    (
        Platform::Macos,
        "/bin/sh",
        "/t/program/Terminal",
        "/bin/sh /t/Downloads/Setup-cp1.command",
        "Terminal",
        Some("19b9bcb6-9e5b-4144-9efc-94ca44df28b0"),
    ),
    (
        Platform::Macos,
        "/usr/bin/osascript",
        "/t/program/Finder",
        "/usr/bin/osascript /t/Downloads/I-cp1.applescript",
        "Finder",
        Some("5849056e-e00d-4939-8a54-1125aed793fe"),
    ),
    (
        Platform::Macos,
        "/bin/sh",
        "/Volumes/chainproof-cp1/Setup-cp1",
        "/bin/sh -c x",
        "/Volumes/chainproof-cp1/Setup-cp1",
        Some("3647332a-ee43-4334-86d8-60d7a601f6ba"),
    ),
    (
        Platform::Macos,
        "/bin/sh",
        "/t/Downloads/Setup-cp1",
        "/bin/sh -c x",
        "/t/Downloads/Setup-cp1",
        Some("fbe3a6a5-e0ad-4056-93ce-2cd593fcc988"),
    ),
    // macOS negative controls
    (
        Platform::Macos,
        "/t/program/Microsoft AutoUpdate",
        "/t/program/Microsoft Word",
        "/t/program/Microsoft AutoUpdate",
        "Microsoft Word /t/Downloads/R-cp1.txt",
        None,
    ),
    (
        Platform::Macos,
        "/t/program/TextEdit",
        "/t/program/Finder",
        "/t/program/TextEdit /t/Downloads/N-cp1.txt",
        "Finder",
        None,
    ),
    (
        Platform::Macos,
        "/t/program/Safari",
        "/t/program/Preview",
        "/t/program/Safari https://www.example.com/?ref=cp1",
        "Preview /t/Downloads/B-cp1.pdf",
        None,
    ),
];

#[test]
fn each_platform_rule_fires_on_its_chain_and_never_on_a_control() -> Result<(), super::DetectError>
{
    let rules = Rules::load(&[])?;
    for (platform, image, parent, cmd, parent_cmd, want) in CASES {
        let e = event(image, parent, cmd, parent_cmd);
        let ids: Vec<String> = rules
            .evaluate(&e, *platform)
            .into_iter()
            .filter_map(|h| h.rule_id)
            .collect();
        match want {
            Some(id) => assert!(
                ids.iter().any(|i| i == id),
                "{platform} {image} ← {parent}: {ids:?}, want {id}"
            ),
            None => assert!(
                ids.is_empty(),
                "{platform} control {image} ← {parent} alerted: {ids:?}"
            ),
        }
    }
    Ok(())
}

#[test]
fn rules_of_one_platform_do_not_fire_on_another() -> Result<(), super::DetectError> {
    let rules = Rules::load(&[])?;
    let word = event(
        r"C:\Windows\System32\cmd.exe",
        r"C:\t\WINWORD.EXE",
        "cmd.exe /c x",
        "WINWORD.EXE",
    );
    assert!(rules.evaluate(&word, Platform::Linux).is_empty());
    assert!(!rules.evaluate(&word, Platform::Windows).is_empty());
    Ok(())
}
