//! Running the program: stdin written while stdout and stderr are drained
//! (so a program that answers before it has read everything cannot
//! deadlock), everything under one timeout, and on expiry the program's
//! whole process group killed — a wrapper script's children included.
//!
//! Output is bounded: stdout beyond [`MAX_ANSWER`] is discarded and makes the
//! call fail; of stderr only the last [`STDERR_KEPT`] bytes are kept, for
//! error messages.

use std::path::Path;
use std::process::{ExitStatus, Stdio};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::CommandConfig;
use crate::backend::ErrorKind;

/// Largest answer accepted on stdout.
pub const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// How much of the end of stderr is kept.
pub const STDERR_KEPT: usize = 4 * 1024;

/// How many characters of stderr an error message quotes.
const STDERR_QUOTED: usize = 400;

/// The program as error messages name it.
pub fn describe(program: &Path) -> String {
    format!("program {}", program.display())
}

/// What a stream yielded: the kept bytes and whether any were dropped.
struct Drained {
    bytes: Vec<u8>,
    dropped: bool,
}

/// Reads `r` to its end, keeping the first `cap` bytes (`head`) or the last.
async fn drain(
    r: Option<impl AsyncRead + Unpin>,
    cap: usize,
    head: bool,
) -> std::io::Result<Drained> {
    let mut out = Drained {
        bytes: Vec::new(),
        dropped: false,
    };
    let Some(mut r) = r else {
        return Ok(out);
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(out);
        }
        out.bytes.extend_from_slice(&buf[..n]);
        if out.bytes.len() > cap {
            out.dropped = true;
            if head {
                out.bytes.truncate(cap);
            } else {
                let extra = out.bytes.len() - cap;
                out.bytes.drain(..extra);
            }
        }
    }
}

/// The last lines of stderr on one line, for a message.
fn stderr_excerpt(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    let clean: Vec<char> = joined.chars().filter(|c| !c.is_control()).collect();
    if clean.is_empty() {
        return "no stderr".into();
    }
    let skip = clean.len().saturating_sub(STDERR_QUOTED);
    let tail: String = clean[skip..].iter().collect();
    if skip > 0 {
        format!("stderr: …{tail}")
    } else {
        format!("stderr: {tail}")
    }
}

/// Kills the process group the program leads (it was started as its leader).
#[cfg(windows)]
fn kill_group(pid: Option<u32>) {
    // Windows has no process groups to signal; end the program itself.
    if let Some(pid) = pid {
        let _ = crate::platform::host::kill(pid, true);
    }
}

/// Kills the process group the program leads (it was started as its leader).
#[cfg(unix)]
fn kill_group(pid: Option<u32>) {
    let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) else {
        return;
    };
    // The group may already be gone; nothing else can be done about an error.
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// Kills the program's process group when dropped while armed: when the
/// verification that runs it is cancelled (a stop request), the program
/// and its children go too, not only the leader `kill_on_drop` reaches.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0.take());
    }
}

/// Runs the program with `input` on stdin; returns its stdout when it exits 0.
pub async fn run(cfg: &CommandConfig, input: Vec<u8>) -> Result<Vec<u8>, ErrorKind> {
    let failed = ErrorKind::Program;
    let who = describe(&cfg.program);
    let mut cmd = tokio::process::Command::new(&cfg.program);
    cmd.args(&cfg.args)
        .envs(&cfg.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| failed(format!("start {who}: {e}")))?;
    let pid = child.id();
    let mut guard = GroupGuard(pid);
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        let write = async {
            let Some(mut stdin) = stdin else {
                return Ok(());
            };
            let written = stdin.write_all(&input).await;
            drop(stdin);
            match written {
                // A program may answer without reading its input.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            }
        };
        let (written, out, err) = tokio::join!(
            write,
            drain(stdout, MAX_ANSWER, true),
            drain(stderr, STDERR_KEPT, false)
        );
        (written, out, err, child.wait().await)
    };
    let outcome = tokio::time::timeout(cfg.timeout, work).await;
    let Ok((written, out, err, status)) = outcome else {
        kill_group(guard.0.take());
        // Reaps the leader; kill_on_drop covers the case where this fails.
        let _ = child.kill().await;
        return Err(ErrorKind::Timeout {
            what: who,
            limit: Some(cfg.timeout),
            attempts: None,
        });
    };
    // The leader was reaped: its group id may be reused, so never kill it now.
    guard.0 = None;
    let stderr = err.map(|d| d.bytes).unwrap_or_default();
    let status: ExitStatus = status.map_err(|e| failed(format!("wait for {who}: {e}")))?;
    if !status.success() {
        return Err(failed(format!(
            "{who} failed ({status}); {}",
            stderr_excerpt(&stderr)
        )));
    }
    written.map_err(|e| failed(format!("write the query to {who}: {e}")))?;
    let out = out.map_err(|e| failed(format!("read the answer of {who}: {e}")))?;
    if out.dropped {
        return Err(failed(format!(
            "{who} answered more than {} MiB",
            MAX_ANSWER / (1024 * 1024)
        )));
    }
    Ok(out.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_quoted_from_its_end_on_one_line() {
        assert_eq!(stderr_excerpt(b""), "no stderr");
        assert_eq!(
            stderr_excerpt(b"Traceback:\n  line 3\n\nKeyError: 'x'\n"),
            "stderr: Traceback: | line 3 | KeyError: 'x'"
        );
        let long = format!("{}END", "a".repeat(1000));
        let got = stderr_excerpt(long.as_bytes());
        assert!(
            got.starts_with("stderr: …") && got.ends_with("END"),
            "{got}"
        );
        assert_eq!(
            got.chars().count(),
            "stderr: …".chars().count() + STDERR_QUOTED
        );
        assert_eq!(
            stderr_excerpt(b"bell\x07 \x1b[31mred"),
            "stderr: bell [31mred"
        );
    }

    #[tokio::test]
    async fn drain_keeps_the_head_or_the_tail() -> std::io::Result<()> {
        let data: &[u8] = b"0123456789";
        let head = drain(Some(data), 4, true).await?;
        assert_eq!((head.bytes.as_slice(), head.dropped), (&b"0123"[..], true));
        let tail = drain(Some(data), 4, false).await?;
        assert_eq!((tail.bytes.as_slice(), tail.dropped), (&b"6789"[..], true));
        let all = drain(Some(data), 64, true).await?;
        assert_eq!((all.bytes.as_slice(), all.dropped), (data, false));
        Ok(())
    }
}
