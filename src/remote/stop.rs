//! Stopping a remote run: a stop signal on the controller (SIGINT, SIGTERM,
//! SIGHUP, SIGQUIT — the one list of [`crate::stop`]) sets a flag;
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

/// Turns the stop signals ([`crate::stop::signals`]: SIGINT, SIGTERM,
/// SIGHUP, SIGQUIT) into a stop request for the rest of the process. The
/// listener runs on `rt`'s workers, so the synchronous fleet code sees the
/// request while it waits for ssh clients.
pub fn install(rt: &tokio::runtime::Runtime) {
    let _entered = rt.enter();
    let mut signalled = crate::stop::listen();
    rt.spawn(async move {
        crate::stop::requested(&mut signalled).await;
        request();
    });
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
