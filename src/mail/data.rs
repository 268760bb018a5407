//! The listener's reading of SMTP's line syntax: the DATA section with its
//! dot-unstuffing and end line, and the `<path>` of MAIL FROM / RCPT TO.

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};

/// How a DATA section ended.
pub(super) enum Data {
    /// Within the limit: the unstuffed bytes.
    Message(Vec<u8>),
    /// Over the limit: read to its end and dropped.
    TooLarge,
}

/// The `<path>` after `keyword` (case-insensitive) and the parameters after
/// it; `None` when the syntax is wrong. The null path `<>` gives "".
pub(super) fn path_after<'a>(arg: &'a str, keyword: &str) -> Option<(String, &'a str)> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg.get(keyword.len()..)?.trim_start();
    let rest = rest.strip_prefix('<')?;
    let (path, params) = rest.split_once('>')?;
    Some((path.to_string(), params))
}

/// Reads DATA up to the line holding only `.`: lines end in CRLF only (a
/// bare LF neither ends a line nor starts one, so no reading of the bytes
/// differs from the client's — the defence against "SMTP smuggling"), and a
/// leading `.` of a line is removed (RFC 5321 4.5.2). Returns how it ended
/// and the bytes read from the wire.
pub(super) async fn read_data(
    reader: &mut (impl tokio::io::AsyncBufRead + Unpin),
    max_size: usize,
) -> std::io::Result<(Data, usize)> {
    let mut data = Vec::new();
    let mut too_large = false;
    let mut wire = 0usize;
    let mut at_line_start = true;
    let mut after_cr = false;
    loop {
        let mut chunk = Vec::new();
        let n = (&mut *reader)
            .take(64 * 1024)
            .read_until(b'\n', &mut chunk)
            .await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        wire += n;
        if at_line_start && chunk == b".\r\n" {
            break;
        }
        let body = match chunk.strip_prefix(b".") {
            Some(rest) if at_line_start => rest,
            _ => &chunk[..],
        };
        // A CRLF split across two reads (a line longer than one read) still
        // ends the line.
        at_line_start = chunk.ends_with(b"\r\n") || (after_cr && chunk == b"\n");
        after_cr = chunk.ends_with(b"\r");
        if !too_large && data.len() + body.len() > max_size {
            too_large = true;
            data = Vec::new();
        }
        if !too_large {
            data.extend_from_slice(body);
        }
    }
    let outcome = if too_large {
        Data::TooLarge
    } else {
        Data::Message(data)
    };
    Ok((outcome, wire))
}
