//! The PDFs `build` writes, read by poppler, qpdf and pdfid: the attack
//! PDFs carry their Launch action in the platform's own launch dictionary,
//! the negative controls' open with no action at all.

use std::path::Path;
use std::process::Command as Std;

use crate::artifacts::{TOKEN, build_all, run, tool};
use crate::common::*;

#[test]
fn pdfs_parse_in_poppler() -> TestResult {
    if !tool("pdfinfo") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    for (id, kind, path) in build_all("linux", dir.path(), "/tmp/chainproof-cp0123456789") {
        if kind == "pdf" {
            let info = run(Std::new("pdfinfo").arg(&path));
            assert!(
                info.contains("Pages:") && info.contains(TOKEN),
                "{id}: {info}"
            );
        }
    }
    Ok(())
}

/// pdfid's count of `keyword` in `path` (`-a`: every name, `/URI` too).
fn pdfid_count(path: &Path, keyword: &str) -> u64 {
    let text = run(Std::new("python3")
        .args(["-m", "pdfid.pdfid", "-a"])
        .arg(path));
    text.lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(keyword)).then(|| words.next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("pdfid does not count {keyword}: {text}"))
}

/// The negative controls' PDFs open with no action, so content-aware rules
/// have nothing to flag; the attack PDF has its Launch action, in the
/// platform's own launch dictionary.
#[test]
fn pdfid_counts_no_launch_and_no_open_action_in_the_control_pdfs() -> TestResult {
    let present = Std::new("python3")
        .args(["-c", "import pdfid.pdfid"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !require(present, "the python module pdfid (ci/python-packages)") || !tool("qpdf") {
        return Ok(());
    }
    for platform in ["linux", "windows", "macos"] {
        let dir = tempfile::tempdir()?;
        let mut seen = Vec::new();
        for (id, kind, path) in build_all(platform, dir.path(), "/tmp/chainproof-cp0123456789") {
            if kind != "pdf" {
                continue;
            }
            let (launch, open) = (
                pdfid_count(&path, "/Launch"),
                pdfid_count(&path, "/OpenAction"),
            );
            if id.starts_with("control-") {
                assert_eq!((launch, open), (0, 0), "{platform} {id}");
                assert!(pdfid_count(&path, "/URI") >= 1, "{platform} {id}");
            } else {
                assert_eq!((launch, open), (1, 1), "{platform} {id}");
                // qpdf's view of the action: each platform's own dictionary.
                let action = run(Std::new("qpdf").arg("--show-object=5").arg(&path));
                let (own, other) = match platform {
                    "windows" => ("/Win <<", "/Unix"),
                    _ => ("/Unix <<", "/Win"),
                };
                assert!(
                    action.contains(own) && !action.contains(other),
                    "{platform} {id}: {action}"
                );
            }
            seen.push(id);
        }
        assert!(
            seen.iter().any(|i| i == "control-pdf-browser")
                && seen.iter().any(|i| i == "pdf-launch"),
            "{platform}: {seen:?}"
        );
    }
    Ok(())
}
