//! The stop signals: which signals ask chainproof to stop, and the one
//! listener every command that can be stopped uses (`run`, `schedule`, a
//! remote run's controller), so they all agree.
//!
//! SIGINT (Ctrl-C), SIGTERM (systemd, `kill`), SIGHUP (the terminal or SSH
//! session went away) and SIGQUIT (Ctrl-\) all mean the same: stop what is
//! running, clean it up, write the record, exit 130. Once the listener is in
//! place, none of them kills the process, so it must be installed before
//! anything touches the host; a signal before that ends a process that has
//! started nothing.
//!
//! Cancellation is passed to the work as a [`watch::Receiver<bool>`] that
//! turns `true` once; this module holds no state of its own.

use tokio::sync::watch;

/// The stop signals (raw numbers, so tokio's and nix's types both derive
/// from this one list).
#[cfg(unix)]
pub fn signals() -> [i32; 4] {
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT]
}

/// Starts listening for the [stop signals](signals): the handlers are in
/// place when this returns, and the receiver turns `true` at the first
/// signal. Call it inside a tokio runtime (multi-threaded, so the listener
/// runs while the caller blocks).
pub fn listen() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    let signalled = register();
    tokio::spawn(async move {
        signalled.await;
        let _ = tx.send(true);
    });
    rx
}

/// A receiver that never turns `true`: for work that is not stoppable by
/// signal (a `verify` of a record, whose in-place rewrite a half-done
/// verification must not replace).
pub fn never() -> watch::Receiver<bool> {
    watch::channel(false).1
}

/// Resolves once `stop` is `true`; never when its sender is gone without
/// having sent it.
pub async fn requested(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Registers the handlers now; the future completes at the first signal.
#[cfg(unix)]
fn register() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let mut streams = Vec::new();
    let mut failed = false;
    for raw in signals() {
        match signal(SignalKind::from_raw(raw)) {
            Ok(s) => streams.push(s),
            Err(_) => failed = true,
        }
    }
    async move {
        if failed {
            // Without a handler a signal keeps its default action: it kills
            // the process, as before the listener. Still stop on Ctrl-C.
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
        let waits = streams.iter_mut().map(|s| Box::pin(s.recv()));
        let _ = futures_select_all(waits).await;
    }
}

/// Registers the Ctrl-C handler now (Windows has no SIGTERM, SIGHUP or
/// SIGQUIT); the future completes at Ctrl-C. Without a handler Ctrl-C keeps
/// its default action and ends the process.
#[cfg(windows)]
fn register() -> impl std::future::Future<Output = ()> + Send + 'static {
    let ctrl_c = tokio::signal::windows::ctrl_c();
    async move {
        match ctrl_c {
            Ok(mut s) => {
                let _ = s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
}

/// The first of `futures` to complete.
#[cfg(unix)]
async fn futures_select_all<F>(futures: impl Iterator<Item = F>) -> F::Output
where
    F: std::future::Future + Unpin,
{
    let mut all: Vec<F> = futures.collect();
    std::future::poll_fn(move |cx| {
        for f in all.iter_mut() {
            if let std::task::Poll::Ready(v) = std::pin::Pin::new(f).poll(cx) {
                return std::task::Poll::Ready(v);
            }
        }
        std::task::Poll::Pending
    })
    .await
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    #[test]
    fn hangup_and_quit_stop_like_interrupt_and_terminate() {
        let all = signals();
        for want in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
            assert!(all.contains(&want), "{want} is not a stop signal");
        }
    }

    #[tokio::test]
    async fn a_dropped_sender_never_requests_a_stop() {
        let mut stop = never();
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(20), requested(&mut stop)).await;
        assert!(waited.is_err(), "never() must not resolve");
    }
}
