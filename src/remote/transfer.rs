//! Files to and from a target: the harness (copied once per version and
//! checked by hash), scenario files, and the run folder fetched back as a
//! tar stream that may hold only plain files and folders.

use std::io::{Read, Seek, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use super::ssh::{Ssh, SshError, check, quote, tail};
use super::target::Target;

/// SHA-256 of a file, hex.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

fn local(what: &str, e: impl std::fmt::Display) -> SshError {
    SshError::Spawn {
        program: what.to_string(),
        message: e.to_string(),
    }
}

/// The SHA-256 of `exe` on the target, or `None` when it is not there.
fn remote_sha256(ssh: &Ssh, target: &Target, exe: &str) -> Result<Option<String>, SshError> {
    let cmd = format!(
        "if [ -x {exe} ]; then {{ sha256sum {exe} 2>/dev/null || shasum -a 256 {exe}; }}; \
         else echo absent; fi"
    );
    let out = ssh.exec(target, &cmd, None)?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .split_whitespace()
        .next()
        .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase))
}

/// Puts `harness` (whose SHA-256 is `sha`) at `exe` unless the target has
/// those exact bytes there already; `Ok(true)` when it copied.
pub fn ensure_harness(
    ssh: &Ssh,
    target: &Target,
    dir: &str,
    exe: &str,
    harness: &Path,
    sha: &str,
) -> Result<bool, SshError> {
    let copied = if remote_sha256(ssh, target, exe)?.as_deref() == Some(sha) {
        false
    } else {
        let file =
            std::fs::File::open(harness).map_err(|e| local(&harness.display().to_string(), e))?;
        // A private part file per upload: two sessions never write one file.
        let upload = format!(
            "umask 077 && mkdir -p {dir}/bin && cat > {exe}.part.$$ && chmod 700 {exe}.part.$$ \
             && mv -f {exe}.part.$$ {exe}"
        );
        ssh.exec(target, &upload, Some(file))?;
        if remote_sha256(ssh, target, exe)?.as_deref() != Some(sha) {
            return Err(SshError::Remote {
                code: 0,
                stderr: format!(
                    "{exe} on the target does not have the harness's SHA-256 after the copy"
                ),
            });
        }
        true
    };
    let out = ssh.exec(target, &format!("{exe} --version"), None)?;
    if !String::from_utf8_lossy(&out.stdout).starts_with("chainproof ") {
        return Err(SshError::Remote {
            code: 0,
            stderr: format!(
                "{exe} --version printed {:?}, not chainproof's version",
                tail(&out.stdout, 80)
            ),
        });
    }
    Ok(copied)
}

/// Writes each (name, text) into `<run_dir>/scenarios/` on the target.
pub fn send_scenarios(
    ssh: &Ssh,
    target: &Target,
    run_dir: &str,
    files: &[(String, String)],
) -> Result<(), SshError> {
    ssh.exec(target, &format!("mkdir -p {run_dir}/scenarios"), None)?;
    for (name, text) in files {
        let mut tmp = tempfile::tempfile().map_err(|e| local("a temporary file", e))?;
        tmp.write_all(text.as_bytes())
            .and_then(|_| tmp.rewind())
            .map_err(|e| local("a temporary file", e))?;
        let put = format!("cat > {run_dir}/scenarios/{}", quote(name));
        ssh.exec(target, &put, Some(tmp))?;
    }
    Ok(())
}

/// Unpacks a tar stream into `dest`, accepting only plain files and
/// folders with relative paths inside it: a symlink, hard link, device or
/// `..` from a target never reaches the controller's disk.
pub fn unpack(stream: impl Read, dest: &Path) -> Result<(), String> {
    let mut archive = tar::Archive::new(stream);
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for entry in entries {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            return Err(format!(
                "{} is a {kind:?}, not a file or folder",
                path.display()
            ));
        }
        if path.is_absolute()
            || path.components().any(|c| {
                !matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            })
        {
            return Err(format!(
                "{} would land outside the run folder",
                path.display()
            ));
        }
        let inside = entry
            .unpack_in(dest)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if !inside {
            return Err(format!(
                "{} would land outside the run folder",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Streams `remote` (a `tar -cf -` of `folder`) into `dest`, through a
/// staging folder beside it; stderr goes to a file, so a talkative target
/// cannot block the stream. A stop request ends ssh.
pub fn fetch(
    ssh: &Ssh,
    target: &Target,
    remote: &str,
    folder: &str,
    dest: &Path,
) -> Result<(), String> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(parent)
        .map_err(|e| format!("cannot create a folder in {}: {e}", parent.display()))?;
    let mut errors = tempfile::tempfile().map_err(|e| format!("a temporary file: {e}"))?;
    let err_out = errors
        .try_clone()
        .map_err(|e| format!("a temporary file: {e}"))?;
    let mut child = ssh
        .command(target, remote)
        .stderr(Stdio::from(err_out))
        .spawn()
        .map_err(|e| format!("cannot start ssh: {e}"))?;
    let stdout = child.stdout.take();
    let child = Arc::new(Mutex::new(child));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (child, done) = (Arc::clone(&child), Arc::clone(&done));
        let stop = ssh.stop.clone();
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if super::stop::requested(&stop) {
                    if let Ok(mut c) = child.lock() {
                        let _ = c.kill();
                    }
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
        })
    };
    let unpacked = match stdout {
        Some(out) => unpack(out, staging.path()),
        None => Err("no output pipe".into()),
    };
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = watcher.join();
    let status = child
        .lock()
        .map_err(|_| "ssh's handle was poisoned".to_string())?
        .wait()
        .map_err(|e| format!("ssh failed: {e}"))?;
    if super::stop::requested(&ssh.stop) {
        return Err("interrupted".into());
    }
    let mut stderr = Vec::new();
    let _ = errors
        .rewind()
        .and_then(|_| errors.read_to_end(&mut stderr));
    check(std::process::Output {
        status,
        stdout: Vec::new(),
        stderr,
    })
    .map_err(|e| e.to_string())?;
    unpacked.map_err(|e| format!("the fetched archive was refused: {e}"))?;
    std::fs::rename(staging.path().join(folder), dest)
        .map_err(|e| format!("the fetched archive has no folder {folder} ({e}); nothing was kept"))
}

/// The folder a target's files go in, as a shell word: `~/x` becomes
/// `"$HOME"/x`; empty, `-…` and other `~` forms are refused.
pub fn remote_dir(dir: &str) -> Result<String, String> {
    let bad = |why: &str| format!("--remote-dir `{dir}`: {why}");
    if dir.trim().is_empty() {
        return Err(bad("empty"));
    }
    if dir.starts_with('-') {
        return Err(bad("a folder cannot start with `-`"));
    }
    if dir.contains(['\n', '\r', '\0']) {
        return Err(bad("a line break is not allowed"));
    }
    if dir == "~" {
        return Ok("\"$HOME\"".into());
    }
    if let Some(rest) = dir.strip_prefix("~/") {
        return Ok(format!("\"$HOME\"/{}", quote(rest)));
    }
    if dir.starts_with('~') {
        return Err(bad(
            "only `~/` is understood (relative paths start in the login's home)",
        ));
    }
    Ok(quote(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap_or_default()
    }

    fn header(kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h
    }

    #[test]
    fn plain_files_unpack_and_links_or_escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ok = tar_with(|b| {
            let mut h = header(tar::EntryType::Directory, 0);
            let _ = b.append_data(&mut h, "run/", std::io::empty());
            let mut h = header(tar::EntryType::Regular, 2);
            let _ = b.append_data(&mut h, "run/run.json", &b"{}"[..]);
        });
        unpack(&ok[..], dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            std::fs::read(dir.path().join("run/run.json")).unwrap_or_default(),
            b"{}"
        );

        let symlink = tar_with(|b| {
            let mut h = header(tar::EntryType::Symlink, 0);
            let _ = b.append_link(&mut h, "run/matrix.csv", "/root/.ssh/authorized_keys");
        });
        let err = unpack(&symlink[..], dir.path()).err().unwrap_or_default();
        assert!(err.contains("not a file or folder"), "{err}");
        let hardlink = tar_with(|b| {
            let mut h = header(tar::EntryType::Link, 0);
            let _ = b.append_link(&mut h, "run/x", "/etc/passwd");
        });
        assert!(unpack(&hardlink[..], dir.path()).is_err());
        // `..` written into the raw header (the builder itself refuses it).
        let escape = tar_with(|b| {
            let mut h = header(tar::EntryType::Regular, 1);
            let name = b"run/../../evil";
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_cksum();
            let _ = b.append(&h, &b"x"[..]);
        });
        let err = unpack(&escape[..], dir.path()).err().unwrap_or_default();
        assert!(err.contains("outside"), "{err}");
        assert!(
            !dir.path()
                .parent()
                .unwrap_or(dir.path())
                .join("evil")
                .exists()
        );
    }

    #[test]
    fn remote_dirs_become_safe_shell_words() {
        assert_eq!(remote_dir(".chainproof").as_deref(), Ok(".chainproof"));
        assert_eq!(
            remote_dir("~/lab dir").as_deref(),
            Ok("\"$HOME\"/'lab dir'")
        );
        assert_eq!(remote_dir("/opt/cp").as_deref(), Ok("/opt/cp"));
        for bad in ["", " ", "-rf", "~root/x", "a\nb"] {
            assert!(remote_dir(bad).is_err(), "{bad:?}");
        }
    }
}
