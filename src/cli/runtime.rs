//! The tokio runtime a command's async work runs on, and the stop signals
//! listened to on it: built in one place so every command that runs
//! scenarios starts listening the same way, before it touches the host.

use tokio::runtime::Runtime;
use tokio::sync::watch;

use super::error::CliError;

/// A multi-threaded runtime; failing to build one is a runtime error (3).
pub fn build() -> Result<Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

/// A runtime, and the stop signals ([`crate::stop::listen`]) already
/// registered on it: call it before anything touches the host. The
/// receiver is the cancellation value handed to the pipeline.
pub fn with_stop() -> Result<(Runtime, watch::Receiver<bool>), CliError> {
    let rt = build()?;
    let stop = {
        let _entered = rt.enter();
        crate::stop::listen()
    };
    Ok((rt, stop))
}
