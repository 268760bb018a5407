//! What a plan shows and carries for a platform: the negative controls'
//! PDF link without a command, and command lines quoted as each platform's
//! shell or CreateProcess receives them.

use super::*;

/// The PDF controls carry no command: the document opens with no action,
/// its link is the browser's address, and the application before the
/// browser starts it as a reader hands a clicked link to the browser.
#[test]
fn the_pdf_controls_carry_a_link_and_no_command() {
    for (id, platform, url) in [
        (
            "control-pdf-browser",
            Platform::Linux,
            "https://www.example.com/brochure?ref=cp0123456789",
        ),
        (
            "control-pdf-browser",
            Platform::Windows,
            "https://www.example.com/brochure?ref=cp0123456789",
        ),
        (
            "control-mail-pdf",
            Platform::Linux,
            "https://pay.northwind-supplies.example/invoice?ref=cp0123456789",
        ),
        (
            "control-mail-pdf",
            Platform::Windows,
            "https://pay.northwind-supplies.example/invoice?ref=cp0123456789",
        ),
    ] {
        let plan = planned(id, platform, None);
        let artifact = plan.artifact().unwrap();
        assert_eq!(artifact.carried, None, "{id} {platform}");
        assert_eq!(artifact.link.as_deref(), Some(url), "{id} {platform}");
        let starts_browser = |argv: &[String]| argv.last().is_some_and(|a| a == url);
        let opener = matches!(&open_step(&plan).program,
            Program::Stage { starts: Some(argv), .. } if starts_browser(argv));
        let stand_in = plan.steps.iter().any(|s| {
            matches!(s, Step::StageProgram { does: StandInDoes::Starts(argv), .. } if starts_browser(argv))
        });
        assert!(
            opener || stand_in,
            "{id} {platform}: nobody starts the browser"
        );
        assert!(
            !plan.steps.iter().any(|s| matches!(
                s,
                Step::StageProgram {
                    does: StandInDoes::ReadsArtifact,
                    ..
                }
            )),
            "{id} {platform}: a stand-in reads a command from the pdf"
        );
    }
}

/// A Windows dry run shows each command line as CreateProcess receives it
/// (cmd.exe's `/c` text as written), not in POSIX single quotes; Linux keeps
/// shell quoting.
#[test]
fn dry_runs_quote_command_lines_for_the_platform() {
    let windows = render(&planned("macro-doc-shell", Platform::Windows, None));
    let proof = r"%TEMP%\chainproof-cp0123456789\proof-cp0123456789.txt";
    let cmd = format!(
        r#"C:\Windows\System32\cmd.exe /c echo cp0123456789>"{proof}" & C:\Windows\System32\findstr.exe /m cp0123456789 "{proof}""#
    );
    assert!(windows.contains(&format!("carrying: {cmd}\n")), "{windows}");
    assert!(!windows.contains("/c '"), "{windows}");
    let back = crate::artifact::cmdline::windows_split(&cmd);
    assert_eq!(back[..2], ["C:\\Windows\\System32\\cmd.exe", "/c"]);
    let linux = render(&planned("macro-doc-shell", Platform::Linux, None));
    assert!(linux.contains("/bin/sh -c '"), "{linux}");
}
