//! How much of a chain of very short processes the capture sees, and what it
//! costs: the Linux process connector and /proc scanner (benches/capture/linux.rs).
//!
//! Run with `cargo bench --bench capture` (as root for the connector on older kernels).

#[cfg(target_os = "linux")]
include!("capture/linux.rs");

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("the capture bench measures the Linux process connector; nothing to do here");
}
