//! The tokio runtime a command's async work runs on, and the stop signals
//! listened to on it: built in one place so every command that runs
//! scenarios starts listening the same way, before it touches the host.

use tokio::runtime::Runtime;
use tokio::sync::watch;

use super::fail;
use crate::exit;

/// A multi-threaded runtime; failing to build one is a runtime error (3).
pub fn build() -> Result<Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(&e, exit::RUNTIME))
}

/// A runtime, and the stop signals ([`crate::stop::listen`]) already
/// registered on it: call it before anything touches the host.
pub fn with_stop() -> Result<(Runtime, watch::Receiver<bool>), u8> {
    let rt = build()?;
    let stop = {
        let _entered = rt.enter();
        crate::stop::listen()
    };
    Ok((rt, stop))
}
