//! Third-party checks of the built documents: oletools' `olevba`,
//! LibreOffice, `file(1)` and Python's `olefile`.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::artifact::testutil::{kill_tree, run_ok};
use crate::testing::require_tool;

use super::{build_docm, build_xlsm};

/// A unique token the checks look for in tool output.
const TOKEN: &str = "cp0123456789";

/// The command line every document here carries.
fn command_line() -> String {
    format!("cmd.exe /c echo \"{TOKEN}\" > %TEMP%\\chainproof-{TOKEN}.txt")
}

/// Writes both documents into `dir`; returns `(path, what file(1) says)`.
fn write_documents(dir: &Path) -> [(PathBuf, &'static str); 2] {
    let line = command_line();
    let docm = dir.join("lure-word.docm");
    std::fs::write(&docm, build_docm(&line).unwrap()).unwrap();
    let xlsm = dir.join("lure-excel.xlsm");
    std::fs::write(&xlsm, build_xlsm(&line).unwrap()).unwrap();
    [
        (docm, "Microsoft Word 2007+"),
        (xlsm, "Microsoft Excel 2007+"),
    ]
}

#[test]
fn olevba_extracts_the_macro() {
    if !require_tool("olevba") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (path, _) in write_documents(dir.path()) {
        // `-c` prints the source only; the exit status is 0 for a clean read.
        let out = run_ok(Command::new("olevba").arg("-c").arg(&path));
        let text = String::from_utf8_lossy(&out.stdout);
        let expected = format!("Shell \"cmd.exe /c echo \"\"{TOKEN}\"\" > %TEMP%");
        assert!(text.contains(&expected), "{}:\n{text}", path.display());
        assert!(text.contains("Refreshes the invoice fields"), "{text}");

        // The JSON analysis flags the auto-run handlers and the Shell call.
        let out = run_ok(Command::new("olevba").arg("-j").arg(&path));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("olevba -j output is not JSON ({e}): {out:?}"));
        // Entries: meta information, log messages, then the file's report.
        let report = json
            .as_array()
            .and_then(|a| a.iter().find(|r| r.get("macros").is_some()))
            .unwrap_or_else(|| panic!("no file report in {json}"));
        let macros = report["macros"].as_array().unwrap();
        assert_eq!(macros.len(), 1, "{report}");
        assert!(macros[0]["code"].as_str().unwrap().contains(TOKEN));
        let analysis = report["analysis"].as_array().unwrap();
        let keyword = |kind: &str, name: &str| {
            analysis
                .iter()
                .any(|a| a["type"] == kind && a["keyword"].as_str() == Some(name))
        };
        assert!(keyword("Suspicious", "Shell"), "{analysis:?}");
        let opener = if path.extension().unwrap() == "docm" {
            ["AutoOpen", "Document_Open"]
        } else {
            ["Auto_Open", "Workbook_Open"]
        };
        for name in opener {
            assert!(keyword("AutoExec", name), "{name}: {analysis:?}");
        }
    }
}

#[test]
fn file_identifies_word_and_excel() {
    if !require_tool("file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (path, kind) in write_documents(dir.path()) {
        let out = run_ok(Command::new("file").arg(&path));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(kind), "{text}");
    }
}

#[test]
fn olefile_reads_a_v3_compound_file_with_512_byte_sectors() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (path, _) in write_documents(dir.path()) {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let part = if path.extension().unwrap() == "docm" {
            "word/vbaProject.bin"
        } else {
            "xl/vbaProject.bin"
        };
        let mut bin = Vec::new();
        archive
            .by_name(part)
            .unwrap()
            .read_to_end(&mut bin)
            .unwrap();
        let bin_path = dir.path().join("vbaProject.bin");
        std::fs::write(&bin_path, &bin).unwrap();
        let script = "import sys, olefile\n\
                      ole = olefile.OleFileIO(sys.argv[1])\n\
                      print(ole.dll_version, ole.sector_size, ole.mini_sector_size)\n\
                      print(sorted('/'.join(e) for e in ole.listdir()))\n";
        let out = run_ok(Command::new("python3").args(["-c", script]).arg(&bin_path));
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("3 512 64"), "{text}");
        let module = if part.starts_with("word") {
            "ThisDocument"
        } else {
            "ThisWorkbook"
        };
        assert_eq!(
            lines.next().unwrap(),
            format!("['PROJECT', 'PROJECTwm', 'VBA/{module}', 'VBA/_VBA_PROJECT', 'VBA/dir']")
        );
    }
}

/// Runs `soffice --headless --convert-to <format>` on `path` with a
/// throw-away profile under `work`, waiting up to 120 s; returns the
/// converted file, checked to exist and be non-empty.
fn convert(path: &Path, format: &str, work: &Path) -> PathBuf {
    let out_dir = work.join(format);
    let mut child = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            work.join("profile").display()
        ))
        .args(["--headless", "--convert-to", format, "--outdir"])
        .arg(&out_dir)
        .arg(path)
        .env("TMPDIR", work)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            kill_tree(&mut child, work);
            panic!("soffice did not convert {} within 120 s", path.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = child.wait_with_output().unwrap();
    let converted = out_dir.join(path.with_extension(format).file_name().unwrap());
    let size = std::fs::metadata(&converted).map_or(0, |m| m.len());
    // soffice exits 0 even when it cannot load the file: check the output.
    assert!(
        status.success() && size > 0,
        "{} -> {} ({size} bytes), {status}\nstdout: {}\nstderr: {}",
        path.display(),
        converted.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    converted
}

#[test]
fn libreoffice_converts_both_to_pdf() {
    if !require_tool("soffice") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (path, _) in write_documents(dir.path()) {
        let pdf = convert(&path, "pdf", dir.path());
        assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    }
}

#[test]
fn libreoffice_imports_the_vba_project() {
    if !require_tool("soffice") {
        return;
    }
    // Saving as OpenDocument keeps the imported VBA as a Basic library,
    // which shows LibreOffice parsed the dir stream and the module.
    let dir = tempfile::tempdir().unwrap();
    for ((path, _), (format, module)) in write_documents(dir.path())
        .into_iter()
        .zip([("odt", "ThisDocument"), ("ods", "ThisWorkbook")])
    {
        let converted = convert(&path, format, dir.path());
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&converted).unwrap()).unwrap();
        let mut xml = String::new();
        archive
            .by_name(&format!("Basic/VBAProject/{module}.xml"))
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert!(xml.contains("script:moduleType=\"document\""), "{xml}");
        assert!(xml.contains("Option VBASupport 1"), "{xml}");
        assert!(xml.contains(TOKEN), "{xml}");
    }
}
