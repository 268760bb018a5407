//! Table-driven tests of the connector wire format, on hand-built byte buffers.

use super::*;

/// A `proc_event`: header (what, cpu, timestamp) then the union's u32 fields.
fn proc_event(what: u32, ts_ns: u64, fields: &[u32]) -> Vec<u8> {
    let mut ev = Vec::new();
    ev.extend_from_slice(&what.to_ne_bytes());
    ev.extend_from_slice(&0u32.to_ne_bytes());
    ev.extend_from_slice(&ts_ns.to_ne_bytes());
    for field in fields {
        ev.extend_from_slice(&field.to_ne_bytes());
    }
    ev
}

/// A `cn_msg` of connector `idx`/`val` carrying `data`, its `len` field set to `declared`.
fn cn_msg(idx: u32, val: u32, ack: u32, data: &[u8], declared: u16) -> Vec<u8> {
    let mut msg = Vec::new();
    for word in [idx, val, 7, ack] {
        msg.extend_from_slice(&word.to_ne_bytes());
    }
    msg.extend_from_slice(&declared.to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(data);
    msg
}

/// A netlink message of type `kind` around `payload`, padded to 4 bytes.
fn nlmsg(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(NLMSG_HDRLEN + payload.len()).unwrap_or(u32::MAX);
    let mut msg = Vec::new();
    msg.extend_from_slice(&len.to_ne_bytes());
    msg.extend_from_slice(&kind.to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(payload);
    while msg.len() % 4 != 0 {
        msg.push(0);
    }
    msg
}

/// A well-formed datagram with one process event.
fn datagram(what: u32, ts_ns: u64, fields: &[u32]) -> Vec<u8> {
    let ev = proc_event(what, ts_ns, fields);
    let declared = u16::try_from(ev.len()).unwrap_or(u16::MAX);
    nlmsg(
        NLMSG_DONE,
        &cn_msg(CN_IDX_PROC, CN_VAL_PROC, 0, &ev, declared),
    )
}

fn parse(buf: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    parse_datagram(buf, &mut out);
    out
}

#[test]
fn well_formed_events_parse() {
    let cases: Vec<(&str, Vec<u8>, Vec<Event>)> = vec![
        (
            "fork of a process",
            datagram(PROC_EVENT_FORK, 11, &[100, 100, 200, 200]),
            vec![Event::Fork {
                parent: 100,
                child: 200,
                ts_ns: 11,
            }],
        ),
        (
            "fork from a non-leader thread reports the parent tgid",
            datagram(PROC_EVENT_FORK, 12, &[105, 100, 201, 201]),
            vec![Event::Fork {
                parent: 100,
                child: 201,
                ts_ns: 12,
            }],
        ),
        (
            "thread creation is dropped",
            datagram(PROC_EVENT_FORK, 13, &[100, 100, 202, 100]),
            vec![],
        ),
        (
            "exec",
            datagram(PROC_EVENT_EXEC, 14, &[300, 300]),
            vec![Event::Exec {
                pid: 300,
                ts_ns: 14,
            }],
        ),
        (
            "uid change",
            datagram(PROC_EVENT_UID, 15, &[300, 300, 1000, 0]),
            vec![Event::Uid {
                pid: 300,
                euid: 0,
                ts_ns: 15,
            }],
        ),
        (
            "exit of a process with its parent fields",
            datagram(PROC_EVENT_EXIT, 16, &[300, 300, 0x0100, 17, 1, 1]),
            vec![Event::Exit {
                pid: 300,
                status: 0x0100,
                ts_ns: 16,
            }],
        ),
        (
            "exit without the parent fields of older kernels",
            datagram(PROC_EVENT_EXIT, 17, &[301, 301, 9, 17]),
            vec![Event::Exit {
                pid: 301,
                status: 9,
                ts_ns: 17,
            }],
        ),
        (
            "thread exit is dropped",
            datagram(PROC_EVENT_EXIT, 18, &[302, 300, 0, 0]),
            vec![],
        ),
        (
            "ack",
            datagram(PROC_EVENT_NONE, 0, &[1]),
            vec![Event::Ack { ack: 0, err: 1 }],
        ),
        (
            "unknown event type is skipped",
            datagram(0x0000_0200, 19, &[1, 1, 0, 0, 0, 0]),
            vec![],
        ),
        ("overrun", nlmsg(NLMSG_OVERRUN, &[]), vec![Event::Overrun]),
        (
            "two messages in one datagram",
            [
                datagram(PROC_EVENT_EXEC, 20, &[400, 400]),
                datagram(PROC_EVENT_EXEC, 21, &[401, 401]),
            ]
            .concat(),
            vec![
                Event::Exec {
                    pid: 400,
                    ts_ns: 20,
                },
                Event::Exec {
                    pid: 401,
                    ts_ns: 21,
                },
            ],
        ),
    ];
    for (name, buf, want) in cases {
        assert_eq!(parse(&buf), want, "{name}");
    }
}

#[test]
fn malformed_input_is_skipped_without_panicking() {
    let exec = proc_event(PROC_EVENT_EXEC, 1, &[5, 5]);
    let full = datagram(PROC_EVENT_EXEC, 1, &[5, 5]);
    let mut bad_nl_len = full.clone();
    bad_nl_len[0..4].copy_from_slice(&4096u32.to_ne_bytes());
    let mut tiny_nl_len = full.clone();
    tiny_nl_len[0..4].copy_from_slice(&3u32.to_ne_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("shorter than a netlink header", full[..10].to_vec()),
        ("netlink length past the datagram", bad_nl_len),
        ("netlink length below its header", tiny_nl_len),
        (
            "truncated after the netlink header",
            full[..NLMSG_HDRLEN + 8].to_vec(),
        ),
        (
            "cn_msg declares more data than present",
            nlmsg(NLMSG_DONE, &cn_msg(CN_IDX_PROC, CN_VAL_PROC, 0, &exec, 200)),
        ),
        (
            "proc_event shorter than its exec fields",
            nlmsg(
                NLMSG_DONE,
                &cn_msg(CN_IDX_PROC, CN_VAL_PROC, 0, &exec[..20], 20),
            ),
        ),
        (
            "fork event cut before the child tgid",
            datagram(PROC_EVENT_FORK, 1, &[1, 1, 2]),
        ),
        (
            "another connector",
            nlmsg(NLMSG_DONE, &cn_msg(9, 1, 0, &exec, 24)),
        ),
        ("netlink error message", nlmsg(2, &[0; 20])),
    ];
    for (name, buf) in cases {
        assert_eq!(parse(&buf), vec![], "{name}");
        // Every prefix of a bad (or good) buffer must be handled too.
        for cut in 0..buf.len() {
            let mut out = Vec::new();
            parse_datagram(&buf[..cut], &mut out);
        }
    }
}

#[test]
fn listen_request_round_trips_through_the_parser_layouts() {
    let msg = mcast_request(MCAST_LISTEN, 3, 0xabcd, 42);
    assert_eq!(u32_at(&msg, 0), Some(40));
    assert_eq!(u16_at(&msg, 4), Some(NLMSG_DONE));
    assert_eq!(u32_at(&msg, 12), Some(42));
    assert_eq!(u32_at(&msg, 16), Some(CN_IDX_PROC));
    assert_eq!(u32_at(&msg, 20), Some(CN_VAL_PROC));
    assert_eq!(u32_at(&msg, 28), Some(0xabcd));
    assert_eq!(u16_at(&msg, 32), Some(4));
    assert_eq!(u32_at(&msg, 36), Some(MCAST_LISTEN));
    assert_eq!(
        u32_at(&mcast_request(MCAST_IGNORE, 0, 0, 0), 36),
        Some(MCAST_IGNORE)
    );
}
