//! Stopping a remote run: the controller's cancellation value (a
//! [`watch::Receiver<bool>`] the caller passes in, usually fed by the stop
//! signals of [`crate::stop::listen`]) turns `true`; running ssh clients are
//! ended, no target or step starts after it, and the targets' runs already
//! started are told to stop and clean up. The sessions run on plain
//! threads, so they look at the value with [`requested`] rather than await
//! it; no state lives in this module.

use std::io::Read;
use std::process::{Child, Output};
use std::time::Duration;

use tokio::sync::watch;

use super::ssh::SshError;

/// Whether `stop` asks to stop now (readable from any thread, without a
/// runtime).
pub fn requested(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow()
}

/// Waits for `child`, collecting its output; ends it once `stop` asks.
pub fn wait(mut child: Child, stop: &watch::Receiver<bool>) -> Result<Output, SshError> {
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
            Ok(None) if requested(stop) => {
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
        let out = wait(child, &crate::stop::never()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.stdout.len(), 200_000);
        assert_eq!(out.stderr, b"err\n");
    }

    /// The value passed in is what ends the client: a stop already asked
    /// for kills a child that would otherwise run for a minute.
    #[test]
    fn a_passed_in_stop_ends_the_child() {
        let child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap_or_else(|e| panic!("sleep: {e}"));
        let (_tx, stop) = watch::channel(true);
        let got = wait(child, &stop);
        assert!(matches!(got, Err(SshError::Interrupted)), "{got:?}");
    }
}
