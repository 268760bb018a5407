//! Remote targets: the suite run on other hosts through the system's
//! OpenSSH client (`chainproof run --target ssh://… / --targets FILE`), the
//! harness copied there once per version, the run folders fetched back and
//! verified on the controller. See `docs/remote.md`.

pub mod central;
pub mod fleet;
pub mod session;
pub mod ssh;
pub mod stop;
pub mod target;
pub mod transfer;
