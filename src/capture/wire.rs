//! Byte-level format of the netlink process connector: parses the datagrams the kernel sends
//! and builds the `PROC_CN_MCAST_LISTEN` / `PROC_CN_MCAST_IGNORE` requests.
//!
//! Layouts (all fields in host byte order, as netlink always is):
//!
//! ```text
//! nlmsghdr   (linux/netlink.h)   len u32 | type u16 | flags u16 | seq u32 | pid u32   = 16 bytes
//! cn_msg     (linux/connector.h) idx u32 | val u32 | seq u32 | ack u32 | len u16 | flags u16
//!                                = 20 bytes, followed by `len` bytes of data
//! proc_event (linux/cn_proc.h)   what u32 | cpu u32 | timestamp_ns u64 | event_data union
//!   fork: parent_pid, parent_tgid, child_pid, child_tgid            (4 × i32 at 16..32)
//!   exec: process_pid, process_tgid                                  (2 × i32 at 16..24)
//!   uid:  process_pid, process_tgid, ruid, euid                      (4 × u32 at 16..32)
//!   exit: process_pid, process_tgid, exit_code, exit_signal, ...     (4 × u32 at 16..32)
//!   none (ack): err u32                                              (at 16..20)
//! ```
//!
//! Parsing never panics: a truncated message, a length that points past the datagram or an
//! event type we do not know is skipped. Thread-level events (a thread created, a thread
//! exiting) are dropped here, so the rest of the module only sees processes.

/// Connector index of the process events channel (`CN_IDX_PROC`), also its multicast group.
pub(crate) const CN_IDX_PROC: u32 = 1;
/// Connector value of the process events channel (`CN_VAL_PROC`).
const CN_VAL_PROC: u32 = 1;
/// `PROC_CN_MCAST_LISTEN`.
pub(crate) const MCAST_LISTEN: u32 = 1;
/// `PROC_CN_MCAST_IGNORE`.
pub(crate) const MCAST_IGNORE: u32 = 2;

const NLMSG_HDRLEN: usize = 16;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const CN_MSG_LEN: usize = 20;

const PROC_EVENT_NONE: u32 = 0x0000_0000;
const PROC_EVENT_FORK: u32 = 0x0000_0001;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
const PROC_EVENT_UID: u32 = 0x0000_0004;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// One process-level event from the connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// The kernel's answer to a LISTEN/IGNORE request: `ack` is the request's ack + 1.
    Ack { ack: u32, err: u32 },
    /// A new process (not a thread): `parent` is the forking process's tgid.
    Fork { parent: u32, child: u32, ts_ns: u64 },
    /// A process called execve.
    Exec { pid: u32, ts_ns: u64 },
    /// A process changed its user ids.
    Uid { pid: u32, euid: u32, ts_ns: u64 },
    /// A process (its thread-group leader) exited; `status` is in wait(2) format.
    Exit { pid: u32, status: u32, ts_ns: u64 },
    /// The kernel reported that netlink messages were dropped.
    Overrun,
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    let bytes: [u8; 2] = buf.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_ne_bytes(bytes))
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_ne_bytes(bytes))
}

fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = buf.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_ne_bytes(bytes))
}

/// Parses every netlink message in one received datagram, appending the events to `out`.
pub(crate) fn parse_datagram(buf: &[u8], out: &mut Vec<Event>) {
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let (Some(len), Some(kind)) = (u32_at(rest, 0), u16_at(rest, 4)) else {
            return;
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len < NLMSG_HDRLEN || len > rest.len() {
            return;
        }
        match kind {
            NLMSG_DONE => out.extend(parse_cn_msg(&rest[NLMSG_HDRLEN..len])),
            NLMSG_OVERRUN => out.push(Event::Overrun),
            _ => {}
        }
        // Messages are padded to 4 bytes (NLMSG_ALIGN).
        let next = len.saturating_add(3) & !3;
        rest = rest.get(next..).unwrap_or_default();
    }
}

/// Parses a `cn_msg` carrying a `proc_event`; `None` for other connectors or bad lengths.
fn parse_cn_msg(msg: &[u8]) -> Option<Event> {
    if u32_at(msg, 0)? != CN_IDX_PROC || u32_at(msg, 4)? != CN_VAL_PROC {
        return None;
    }
    let ack = u32_at(msg, 12)?;
    let data_len = usize::from(u16_at(msg, 16)?);
    let data = msg.get(CN_MSG_LEN..CN_MSG_LEN.checked_add(data_len)?)?;
    parse_proc_event(data, ack)
}

/// Parses one `proc_event`; `None` for thread-level events and unknown or short events.
fn parse_proc_event(ev: &[u8], ack: u32) -> Option<Event> {
    let what = u32_at(ev, 0)?;
    let ts_ns = u64_at(ev, 8)?;
    match what {
        PROC_EVENT_NONE => Some(Event::Ack {
            ack,
            err: u32_at(ev, 16)?,
        }),
        PROC_EVENT_FORK => {
            let (parent, child_pid, child) = (u32_at(ev, 20)?, u32_at(ev, 24)?, u32_at(ev, 28)?);
            (child_pid == child).then_some(Event::Fork {
                parent,
                child,
                ts_ns,
            })
        }
        PROC_EVENT_EXEC => Some(Event::Exec {
            pid: u32_at(ev, 20)?,
            ts_ns,
        }),
        PROC_EVENT_UID => Some(Event::Uid {
            pid: u32_at(ev, 20)?,
            euid: u32_at(ev, 28)?,
            ts_ns,
        }),
        PROC_EVENT_EXIT => {
            let (pid, tgid, status) = (u32_at(ev, 16)?, u32_at(ev, 20)?, u32_at(ev, 24)?);
            (pid == tgid).then_some(Event::Exit {
                pid: tgid,
                status,
                ts_ns,
            })
        }
        _ => None,
    }
}

/// Builds a multicast control request (`op` is [`MCAST_LISTEN`] or [`MCAST_IGNORE`]).
///
/// `ack` is echoed back (plus one) in the kernel's [`Event::Ack`], which lets us tell our
/// answer from those to other listeners: the ack is multicast to every listener.
pub(crate) fn mcast_request(op: u32, seq: u32, ack: u32, port: u32) -> [u8; 40] {
    let mut msg = [0u8; 40];
    let mut put = |at: usize, bytes: &[u8]| msg[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, &40u32.to_ne_bytes());
    put(4, &NLMSG_DONE.to_ne_bytes());
    put(8, &seq.to_ne_bytes());
    put(12, &port.to_ne_bytes());
    put(16, &CN_IDX_PROC.to_ne_bytes());
    put(20, &CN_VAL_PROC.to_ne_bytes());
    put(24, &seq.to_ne_bytes());
    put(28, &ack.to_ne_bytes());
    put(32, &4u16.to_ne_bytes());
    put(36, &op.to_ne_bytes());
    msg
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
