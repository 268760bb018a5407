//! The few system calls that `nix` 0.30 does not wrap for us: a `NETLINK_CONNECTOR` socket
//! (nix has no `SockProtocol` for protocol 11), `clock_gettime` on the monotonic and boot
//! clocks (behind a nix feature this crate does not enable), `sysconf(_SC_CLK_TCK)` and
//! `sched_setscheduler`.
//!
//! This is the only file of the capture module with `unsafe`; every block is a plain libc call
//! on locals. It must not grow logic: callers get safe values or `io::Error`s.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// `NETLINK_CONNECTOR` from `linux/netlink.h`.
const NETLINK_CONNECTOR: libc::c_int = 11;

/// Opens a close-on-exec netlink datagram socket of the connector family.
pub(crate) fn connector_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes only integers and returns a new descriptor or -1.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            NETLINK_CONNECTOR,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2), is open and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads `clock` in nanoseconds, or `None` if the kernel refuses.
fn clock_ns(clock: libc::clockid_t) -> Option<i128> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec that outlives the call.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0).then(|| i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec))
}

/// Wall-clock time (`CLOCK_REALTIME`) in nanoseconds since the Unix epoch.
pub(crate) fn realtime_ns() -> Option<i128> {
    clock_ns(libc::CLOCK_REALTIME)
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock of the process connector's `timestamp_ns`.
pub(crate) fn monotonic_ns() -> Option<i128> {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// `CLOCK_BOOTTIME` in nanoseconds: the clock of `/proc/<pid>/stat` field 22 (starttime).
pub(crate) fn boottime_ns() -> Option<i128> {
    clock_ns(libc::CLOCK_BOOTTIME)
}

/// Clock ticks per second (`USER_HZ`), the unit of `/proc/<pid>/stat` times.
pub(crate) fn clock_ticks_per_second() -> Option<i64> {
    // SAFETY: sysconf(3) takes an integer name and returns an integer.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then_some(hz)
}

/// Moves the calling thread (not the process) to `SCHED_FIFO` priority 1, the lowest
/// real-time priority. Needs `CAP_SYS_NICE` or an `RLIMIT_RTPRIO` allowance.
pub(crate) fn set_realtime_fifo() -> io::Result<()> {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: `param` is a valid sched_param that outlives the call; pid 0 is this thread.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_are_readable_and_ordered() {
        let mono = monotonic_ns();
        let boot = boottime_ns();
        let wall = realtime_ns();
        assert!(matches!((boot, mono, wall), (Some(_), Some(_), Some(_))));
        // Boot time includes suspend, monotonic does not; both are far below the wall clock.
        assert!(boot >= mono);
        assert!(wall > boot);
        assert!(clock_ticks_per_second().is_some_and(|hz| hz > 0));
    }
}
