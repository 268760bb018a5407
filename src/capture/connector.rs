//! The process connector source: subscribes to the kernel's process events and feeds them to
//! the tracker from a dedicated thread.
//!
//! The loop's one rule: on an exec event, read `/proc/<pid>` *first*, before taking any lock,
//! because a millisecond process is gone soon after. Everything else (lineage, exits) is
//! exact from the events themselves. A receive timeout lets the thread notice the stop flag;
//! on stop it drains what is already queued (so the exits of the last processes are kept),
//! then unsubscribes.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{self, MsgFlags, NetlinkAddr, sockopt};
use nix::sys::time::{TimeVal, TimeValLike};

use super::wire::{self, Event};
use super::{Shared, procfs, sys};

/// Receive buffer asked for: about 100,000 events of burst before the kernel drops any.
const RCVBUF_BYTES: usize = 8 * 1024 * 1024;
/// How often the thread checks the stop flag when no events arrive.
const RECV_TIMEOUT_MS: i64 = 50;
/// How long `open` waits for the kernel to acknowledge the subscription.
const ACK_WAIT: Duration = Duration::from_millis(500);
/// How often unrelated, long-gone entries are pruned from the tracker.
const PRUNE_EVERY: Duration = Duration::from_secs(1);
/// Upper bound of datagrams read after stop, so a busy machine cannot keep us draining.
const DRAIN_LIMIT: usize = 100_000;

/// Why the connector could not be used (messages read after "failed to").
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectorError {
    /// socket(2) failed.
    #[error("open a NETLINK_CONNECTOR socket")]
    Socket(#[source] std::io::Error),
    /// A socket option could not be set.
    #[error("set the receive timeout of the process connector socket")]
    Timeout(#[source] Errno),
    /// bind(2) to the multicast group failed.
    #[error("join the process events group (needs root or CAP_NET_ADMIN)")]
    Bind(#[source] Errno),
    /// The LISTEN request could not be sent.
    #[error("send PROC_CN_MCAST_LISTEN")]
    Listen(#[source] Errno),
    /// The kernel answered the LISTEN request with an error.
    #[error("subscribe to process events (needs CAP_NET_ADMIN in the initial user namespace)")]
    Refused(#[source] Errno),
    /// The kernel did not answer the LISTEN request.
    #[error(
        "subscribe to process events: no answer from the kernel \
         (needs root or CAP_NET_ADMIN in the initial user namespace)"
    )]
    NoAck,
}

/// A subscribed process connector socket.
pub(crate) struct Connector {
    fd: OwnedFd,
    port: u32,
    /// Events received while waiting for the subscription's ack.
    backlog: Vec<Event>,
}

impl Connector {
    /// Opens the socket, subscribes and waits briefly for the kernel to accept.
    pub(crate) fn open() -> Result<Self, ConnectorError> {
        let fd = sys::connector_socket().map_err(ConnectorError::Socket)?;
        // SO_RCVBUFFORCE ignores the rmem_max cap but needs CAP_NET_ADMIN; SO_RCVBUF is
        // silently capped. A small buffer is not fatal: losses are detected and reported.
        if socket::setsockopt(&fd, sockopt::RcvBufForce, &RCVBUF_BYTES).is_err() {
            let _ = socket::setsockopt(&fd, sockopt::RcvBuf, &RCVBUF_BYTES);
        }
        let timeout = TimeVal::milliseconds(RECV_TIMEOUT_MS);
        socket::setsockopt(&fd, sockopt::ReceiveTimeout, &timeout)
            .map_err(ConnectorError::Timeout)?;
        socket::bind(fd.as_raw_fd(), &NetlinkAddr::new(0, wire::CN_IDX_PROC))
            .map_err(ConnectorError::Bind)?;
        // The kernel gives each netlink socket a unique port id: a natural ack nonce.
        let port = socket::getsockname::<NetlinkAddr>(fd.as_raw_fd())
            .map(|addr| addr.pid())
            .unwrap_or_else(|_| std::process::id());
        let mut conn = Self {
            fd,
            port,
            backlog: Vec::new(),
        };
        conn.request(wire::MCAST_LISTEN)
            .map_err(ConnectorError::Listen)?;
        conn.await_ack()?;
        Ok(conn)
    }

    fn request(&self, op: u32) -> nix::Result<usize> {
        let msg = wire::mcast_request(op, 0, self.port, self.port);
        socket::sendto(
            self.fd.as_raw_fd(),
            &msg,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )
    }

    /// Waits for the ack of our LISTEN. The kernel multicasts an ack only while it has at
    /// least one listener: an accepted LISTEN makes us one, so it is always acked, while a
    /// refused one (no privilege; `bind` succeeds unprivileged) is acked only if someone
    /// else listens. Hence no ack within [`ACK_WAIT`] means refused.
    fn await_ack(&mut self) -> Result<(), ConnectorError> {
        let deadline = Instant::now() + ACK_WAIT;
        let mut buf = vec![0u8; 64 * 1024];
        let mut events = Vec::new();
        while Instant::now() < deadline {
            let Ok(len) = socket::recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) else {
                continue;
            };
            events.clear();
            wire::parse_datagram(buf.get(..len).unwrap_or_default(), &mut events);
            for event in events.drain(..) {
                match event {
                    Event::Ack { ack, err } if ack == self.port.wrapping_add(1) => {
                        return match err {
                            0 => Ok(()),
                            // The kernel sends a positive errno; accept a negative one too.
                            err => Err(ConnectorError::Refused(Errno::from_raw(
                                i32::from_ne_bytes(err.to_ne_bytes()).saturating_abs(),
                            ))),
                        };
                    }
                    Event::Ack { .. } => {}
                    other => self.backlog.push(other),
                }
            }
        }
        Err(ConnectorError::NoAck)
    }

    /// Reads events until the stop flag is set and the queue is drained.
    pub(crate) fn run(mut self, shared: &Shared) {
        raise_priority(shared);
        let backlog = std::mem::take(&mut self.backlog);
        handle(&backlog, shared);
        let mut buf = vec![0u8; 64 * 1024];
        let mut events = Vec::with_capacity(16);
        let mut drained = 0usize;
        let mut last_prune = Instant::now();
        loop {
            if last_prune.elapsed() >= PRUNE_EVERY {
                let now = shared.clocks.now_wall();
                shared.tracker().prune(now);
                last_prune = Instant::now();
            }
            let stopping = shared.stopping();
            let flags = if stopping {
                drained += 1;
                MsgFlags::MSG_DONTWAIT
            } else {
                MsgFlags::empty()
            };
            if drained > DRAIN_LIMIT {
                break;
            }
            match socket::recv(self.fd.as_raw_fd(), &mut buf, flags) {
                Ok(len) => {
                    events.clear();
                    wire::parse_datagram(buf.get(..len).unwrap_or_default(), &mut events);
                    handle(&events, shared);
                }
                Err(Errno::EAGAIN) if stopping => break,
                Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(Errno::ENOBUFS) => shared.tracker().lost += 1,
                Err(err) => {
                    shared.warn(format!(
                        "process connector stopped early: failed to receive events: {err}"
                    ));
                    break;
                }
            }
        }
        // Dropping the socket also unsubscribes; saying so keeps older kernels' listener
        // count right.
        let _ = self.request(wire::MCAST_IGNORE);
    }
}

/// Applies events in order; an exec's /proc read happens before the tracker lock is taken.
fn handle(events: &[Event], shared: &Shared) {
    for event in events {
        match *event {
            Event::Exec { pid, ts_ns } => {
                let details = procfs::read_details(pid, &shared.matcher);
                shared.tracker().exec(pid, ts_ns, details);
            }
            Event::Fork {
                parent,
                child,
                ts_ns,
            } => shared.tracker().fork(parent, child, ts_ns),
            Event::Exit { pid, status, ts_ns } => shared.tracker().exit(pid, status, ts_ns),
            Event::Uid { pid, euid, .. } => shared.tracker().uid(pid, euid),
            Event::Overrun => shared.tracker().lost += 1,
            Event::Ack { .. } => {}
        }
    }
}

/// Puts this reader thread in the lowest real-time class (SCHED_FIFO 1), so
/// it wakes ahead of ordinary work the moment an exec event arrives: the
/// /proc read then beats the exit of a process that lives ~1 ms, also when
/// other work keeps both cores busy. The thread blocks in `recv` between
/// events, and the kernel's RT throttling bounds it under an event flood.
fn raise_priority(shared: &Shared) {
    if let Err(err) = sys::set_realtime_fifo() {
        shared.warn(format!(
            "process connector runs at normal priority (SCHED_FIFO refused: {err}); \
             short-lived processes may lose their image and arguments"
        ));
    }
}
