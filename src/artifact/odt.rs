//! OpenDocument Text with a LibreOffice Basic macro that runs on open.
//!
//! [`build`] writes a real `.odt`: a zip whose first entry is the stored,
//! uncompressed `mimetype`, then `META-INF/manifest.xml`, `content.xml`,
//! `styles.xml`, `meta.xml`, `settings.xml` and the document's Basic library
//! (`Basic/script-lc.xml`, `Basic/Standard/script-lb.xml`,
//! `Basic/Standard/Module1.xml`). `content.xml` binds the macro
//! `Standard.Module1.AutoOpen` to the document's OnLoad event (`dom:load`);
//! the macro calls `Shell(program, 0, params)` once. The body looks like an
//! invoice lure and says it is a chainproof benign test document
//! ([`BODY_MARKER`]).
//!
//! `Shell()` splits its command line with its own rules, not a shell's; the
//! private `shell` submodule documents the rules measured against
//! LibreOffice 7.4. In short, [`build`] rejects only an empty argv, an
//! empty program, a NUL anywhere, and an argument that holds both `"` and
//! `'` (`Shell()` has no escape character); every other argv, including
//! `-c` followed by a script with spaces, `;`, `>` and single quotes, reaches
//! the program exactly. [`read_shell_command`] is the inverse an emulated
//! opener uses: it follows the OnLoad binding to the macro and splits its
//! `Shell()` call the way LibreOffice does. It returns the program token as
//! written; LibreOffice itself resolves a bare name through `PATH`, turns a
//! `file://` URL into a path, and passes the resolved absolute path as
//! `argv[0]`.
//!
//! Opening for real: [`soffice_args`] with a profile from
//! [`write_throwaway_profile`] (macro security level 0, "low"). `--headless`
//! *does* fire OnLoad: on the reference machine (2 cores, LibreOffice 7.4) the
//! macro's command ran 1.2 to 1.3 s after `soffice` started when idle and
//! 1.7 to 2.2 s under load, with a fresh profile; no X server, Xvfb or
//! `--invisible` is needed. `soffice --convert-to` never runs macros, even
//! with that profile. The started process is a grandchild of `soffice`
//! (`soffice` script → `oosplash` → `soffice.bin` → program). LibreOffice
//! does not exit on its own after the macro: the runner kills it (SIGTERM is
//! not cleaner than SIGKILL: neither removes the document lock, see
//! [`lock_file_path`], nor the `OSL_PIPE_*` socket it leaves in `/tmp`). Set
//! `TMPDIR` to a run directory to keep its other temporary files there.

mod basic;
mod parts;
mod shell;
// These tests run host tools (Unix).
#[cfg(test)]
#[cfg(unix)]
mod tests;
mod xml;

use std::io::{Cursor, Read, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::artifact::ArtifactError;

/// Text every built document's body contains, so a conversion or a screenshot
/// can be recognised as a chainproof test document.
pub const BODY_MARKER: &str = "chainproof benign test document";

/// The script URL bound to OnLoad: a Basic macro stored in the document.
pub const MACRO_URL: &str =
    "vnd.sun.star.script:Standard.Module1.AutoOpen?language=Basic&location=document";

/// The namespace LibreOffice needs declared to resolve `ooo:script`.
pub const NS_OOO: &str = "http://openoffice.org/2004/office";

/// Program name of the LibreOffice launcher.
pub const SOFFICE: &str = "soffice";

const CONTENT: &str = "content.xml";

/// Whether `Shell()` can carry `command` exactly: what [`build`] refuses,
/// checked without building, so `validate` refuses it as `run` would.
pub fn check_command(command: &[String]) -> Result<(), ArtifactError> {
    shell::encode(command).map(|_| ())
}

/// Builds the `.odt` whose OnLoad macro runs `command[0]` with `command[1..]`.
///
/// Deterministic: the same argv gives the same bytes.
pub fn build(command: &[String]) -> Result<Vec<u8>, ArtifactError> {
    let line = shell::encode(command)?;
    let shown = if line.params.is_empty() {
        line.program.clone()
    } else {
        format!("{} {}", line.program, line.params)
    };
    let source = format!(
        "REM chainproof benign test macro: simulates ATT&CK T1204.002 (User Execution:\n\
         REM Malicious File) by starting one harmless test command when the document opens.\n\
         Sub AutoOpen\n    Dim nPid As Long\n    nPid = Shell({}, 0, {})\nEnd Sub\n",
        basic::string_expr(&line.program),
        basic::string_expr(&line.params),
    );
    let entries: [(&str, String); 8] = [
        ("META-INF/manifest.xml", parts::manifest()),
        (CONTENT, parts::content(MACRO_URL, &shown)),
        ("styles.xml", parts::styles()),
        ("meta.xml", parts::meta()),
        ("settings.xml", parts::settings()),
        ("Basic/script-lc.xml", parts::script_lc().to_owned()),
        (
            "Basic/Standard/script-lb.xml",
            parts::script_lb().to_owned(),
        ),
        ("Basic/Standard/Module1.xml", parts::module(&source)),
    ];

    // A fixed timestamp (the zip epoch, 1980-01-01) keeps the bytes stable.
    let options = SimpleFileOptions::default().last_modified_time(zip::DateTime::default());
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut add = |name: &str, data: &[u8], method| {
        let write_err = |source| ArtifactError::ZipWrite {
            entry: name.to_owned(),
            source,
        };
        zip.start_file(name, options.compression_method(method))
            .map_err(write_err)?;
        zip.write_all(data)
            .map_err(|e| write_err(zip::result::ZipError::Io(e)))
    };
    add(
        "mimetype",
        parts::MIMETYPE.as_bytes(),
        CompressionMethod::Stored,
    )?;
    for (name, text) in &entries {
        add(name, text.as_bytes(), CompressionMethod::Deflated)?;
    }
    let cursor = zip.finish().map_err(|source| ArtifactError::ZipWrite {
        entry: "central directory".to_owned(),
        source,
    })?;
    Ok(cursor.into_inner())
}

/// Reads back the argv LibreOffice would start when opening `bytes`.
///
/// Follows the OnLoad (`dom:load`) binding in `content.xml` to a Basic macro
/// stored in the document, finds the first `Shell()` call in that Sub and
/// splits its command line with LibreOffice's rules.
pub fn read_shell_command(bytes: &[u8]) -> Result<Vec<String>, ArtifactError> {
    let mut archive =
        ZipArchive::new(Cursor::new(bytes)).map_err(|source| ArtifactError::ZipRead {
            entry: String::new(),
            source,
        })?;
    let content = read_entry(&mut archive, CONTENT)?;
    let (library, module, macro_name) = onload_macro(&content)?;
    let module_entry = format!("Basic/{library}/{module}.xml");
    let module_xml = read_entry(&mut archive, &module_entry)?;
    let source =
        xml::element_text(&module_xml, "script:module").map_err(|detail| ArtifactError::Xml {
            entry: module_entry.clone(),
            detail,
        })?;
    let args = basic::shell_call_args(&source, &macro_name)?.ok_or_else(|| {
        ArtifactError::NoShellCall {
            macro_name: macro_name.clone(),
        }
    })?;
    if args.len() > 4 {
        return Err(ArtifactError::Basic {
            offset: 0,
            detail: format!("shell() takes at most 4 arguments, got {}", args.len()),
        });
    }
    let mut args = args.into_iter();
    let program = args
        .next()
        .map(basic::Value::into_utf16)
        .unwrap_or_default();
    let params = args.nth(1).map(basic::Value::into_utf16);
    shell::split(&program, params.as_deref())
}

fn read_entry(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<String, ArtifactError> {
    let mut file = archive
        .by_name(name)
        .map_err(|source| ArtifactError::ZipRead {
            entry: name.to_owned(),
            source,
        })?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|source| ArtifactError::EntryIo {
            entry: name.to_owned(),
            source,
        })?;
    String::from_utf8(bytes).map_err(|source| ArtifactError::NotUtf8 {
        entry: name.to_owned(),
        source,
    })
}

/// Library, module and Sub of the document macro bound to OnLoad.
fn onload_macro(content: &str) -> Result<(String, String, String), ArtifactError> {
    let xml_err = |detail| ArtifactError::Xml {
        entry: CONTENT.to_owned(),
        detail,
    };
    let roots = xml::start_tags(content, "office:document-content").map_err(xml_err)?;
    let declares_ooo = roots
        .first()
        .is_some_and(|attrs| attrs.iter().any(|(k, v)| k == "xmlns:ooo" && v == NS_OOO));
    if !declares_ooo {
        // LibreOffice drops the binding silently in this case.
        return Err(ArtifactError::NoOnLoadBinding);
    }
    let listeners = xml::start_tags(content, "script:event-listener").map_err(xml_err)?;
    let get = |attrs: &[(String, String)], key: &str| {
        attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    listeners
        .iter()
        .filter(|attrs| get(attrs, "script:event-name").as_deref() == Some("dom:load"))
        .filter(|attrs| get(attrs, "script:language").as_deref() == Some("ooo:script"))
        .find_map(|attrs| parse_macro_url(&get(attrs, "xlink:href")?))
        .ok_or(ArtifactError::NoOnLoadBinding)
}

/// Splits `vnd.sun.star.script:Lib.Module.Sub?language=Basic&location=document`.
fn parse_macro_url(url: &str) -> Option<(String, String, String)> {
    let rest = url.strip_prefix("vnd.sun.star.script:")?;
    let (name, query) = rest.split_once('?')?;
    let mut language = None;
    let mut location = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("language", v)) => language = Some(v),
            Some(("location", v)) => location = Some(v),
            _ => {}
        }
    }
    if language != Some("Basic") || location != Some("document") {
        return None;
    }
    let mut names = name.splitn(3, '.');
    let (library, module, sub) = (names.next()?, names.next()?, names.next()?);
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    (plain(library) && plain(module) && plain(sub))
        .then(|| (library.to_owned(), module.to_owned(), sub.to_owned()))
}

/// Writes a LibreOffice user profile under `dir` whose macro security level is
/// 0 ("low": run every macro without asking).
///
/// Pass `dir` to [`soffice_args`]; LibreOffice fills in the rest of the
/// profile on first start. Use a fresh directory per run.
pub fn write_throwaway_profile(dir: &Path) -> Result<(), ArtifactError> {
    let user = dir.join("user");
    std::fs::create_dir_all(&user).map_err(|source| ArtifactError::Write {
        path: user.clone(),
        source,
    })?;
    let xcu = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
        <oor:items xmlns:oor=\"http://openoffice.org/2001/registry\" \
        xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" \
        xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n\
        <item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\">\
        <prop oor:name=\"MacroSecurityLevel\" oor:op=\"fuse\"><value>0</value></prop></item>\n\
        </oor:items>\n";
    let path = user.join("registrymodifications.xcu");
    std::fs::write(&path, xcu).map_err(|source| ArtifactError::Write { path, source })
}

/// Arguments for `soffice` that open `doc` headless with the profile in
/// `profile_dir` (see [`write_throwaway_profile`]), so its OnLoad macro runs.
///
/// `--norestore` skips crash recovery and `--nolockcheck` the check for
/// another instance using the profile; both could otherwise stall an
/// unattended run. Both paths are made absolute (a relative document path
/// starting with `-` would be taken for an option).
pub fn soffice_args(profile_dir: &Path, doc: &Path) -> Vec<String> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (profile, doc) = (absolute(profile_dir), absolute(doc));
    vec![
        "--headless".to_owned(),
        "--norestore".to_owned(),
        "--nolockcheck".to_owned(),
        format!("-env:UserInstallation={}", file_url(&profile)),
        doc.to_string_lossy().into_owned(),
    ]
}

/// The lock file LibreOffice keeps next to an open document,
/// `.~lock.<file name>#`.
///
/// A killed LibreOffice leaves it behind, and a stale lock makes the next
/// headless open of the same path exit silently without running the macro
/// (`--nolockcheck` is about the profile, not documents): delete it, or open
/// each run's document in a fresh directory. `None` if `doc` has no file name.
pub fn lock_file_path(doc: &Path) -> Option<std::path::PathBuf> {
    let name = doc.file_name()?;
    let mut lock = std::ffi::OsString::from(".~lock.");
    lock.push(name);
    lock.push("#");
    Some(doc.with_file_name(lock))
}

/// A `file://` URL for an absolute path, percent-encoding all but unreserved
/// characters and `/`.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    let text = path.to_string_lossy().replace('\\', "/");
    // A Windows path (C:/…) takes a third slash: file:///C:/…
    if !text.starts_with('/') {
        url.push('/');
    }
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}
