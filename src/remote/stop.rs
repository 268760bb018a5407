//! Stopping a remote run: SIGINT or SIGTERM on the controller sets a flag;
//! running ssh clients are ended, no target or step starts after it, and
//! the targets' runs already started are told to stop and clean up.

use std::io::Read;
use std::process::{Child, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::ssh::SshError;

static STOP: AtomicBool = AtomicBool::new(false);

/// Whether a stop was requested.
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Requests a stop (what the signal handler does).
pub fn request() {
    STOP.store(true, Ordering::SeqCst);
}

#[cfg(unix)]
extern "C" fn on_signal(_: libc::c_int) {
    // An atomic store is async-signal-safe.
    STOP.store(true, Ordering::SeqCst);
}

/// Turns SIGINT and SIGTERM into a stop request for the rest of the process.
pub fn install() {
    #[cfg(unix)]
    {
        use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
        let action = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        for sig in [Signal::SIGINT, Signal::SIGTERM] {
            // SAFETY: the handler only stores to an atomic.
            let _ = unsafe { sigaction(sig, &action) };
        }
    }
}

/// Waits for `child`, collecting its output; ends it on a stop request.
pub fn wait(mut child: Child) -> Result<Output, SshError> {
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if requested() => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(SshError::Interrupted);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(25)),
            Err(e) => {
                break Err(SshError::Spawn {
                    program: "ssh".into(),
                    message: e.to_string(),
                });
            }
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(Output {
        status: status?,
        stdout,
        stderr,
    })
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    #[test]
    fn output_is_collected_in_full() {
        let child = std::process::Command::new("sh")
            .args(["-c", "head -c 200000 /dev/zero; echo err >&2"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("sh: {e}"));
        let out = wait(child).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.stdout.len(), 200_000);
        assert_eq!(out.stderr, b"err\n");
    }
}
