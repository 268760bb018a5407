//! The bench's local HTTP server: one thread per connection, every request
//! counted as it arrives (token requests apart), answered by a vendor's
//! function that is told whether the runs' events are visible yet (they
//! become visible a fixed delay after the server starts, as a SIEM's
//! ingestion lag makes them).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One request as the vendor function sees it.
pub struct Req {
    pub method: String,
    /// Path and query, percent-decoded.
    pub target: String,
    pub body: String,
}

impl Req {
    /// Whether the request names `text` in its target or body.
    pub fn names(&self, text: &str) -> bool {
        self.target.contains(text) || self.body.contains(text)
    }

    /// Every run token (`cp` + 10 hex digits) in the target and body, in
    /// order, repeated as often as they appear.
    pub fn tokens(&self) -> Vec<String> {
        let mut out = tokens(&self.target);
        out.extend(tokens(&self.body));
        out.dedup();
        out
    }
}

/// Tokens `cp` + 10 hex digits in `text`.
pub fn tokens(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i + 12 <= b.len() {
        if &b[i..i + 2] == b"cp" && b[i + 2..i + 12].iter().all(|c| c.is_ascii_hexdigit()) {
            let t = text[i..i + 12].to_string();
            if !out.contains(&t) {
                out.push(t);
            }
            i += 12;
        } else {
            i += 1;
        }
    }
    out
}

/// How a vendor answers: the status and body for `req`, given whether
/// events are visible yet.
pub type Vendor = fn(&Req, bool) -> (u16, String);

/// What the server counted.
#[derive(Default)]
pub struct Counts {
    /// Every request, token requests included.
    pub requests: AtomicUsize,
    /// OAuth token requests.
    pub tokens: AtomicUsize,
    /// Requests that start a round (see [`Server::start`]).
    pub rounds: AtomicUsize,
}

/// A running server.
pub struct Server {
    pub url: String,
    pub counts: Arc<Counts>,
}

impl Server {
    /// Serves `vendor` on 127.0.0.1; events turn visible `delay` after now.
    /// A request for which `starts_round` is true counts as one round.
    pub fn start(vendor: Vendor, starts_round: fn(&Req) -> bool, delay: Duration) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let url = format!(
            "http://{}",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        let start = Instant::now();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counts = shared.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(&stream);
                    loop {
                        let Some(req) = read(&mut reader) else { return };
                        counts.requests.fetch_add(1, Ordering::SeqCst);
                        if req.body.contains("grant_type") {
                            counts.tokens.fetch_add(1, Ordering::SeqCst);
                        }
                        if starts_round(&req) {
                            counts.rounds.fetch_add(1, Ordering::SeqCst);
                        }
                        let (status, text) = vendor(&req, start.elapsed() >= delay);
                        let reply = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\n\r\n{text}",
                            text.len()
                        );
                        let mut s = &stream;
                        if s.write_all(reply.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Server { url, counts }
    }
}

/// One request from a kept-alive connection, or `None` when it closed.
fn read(reader: &mut BufReader<&std::net::TcpStream>) -> Option<Req> {
    let mut first = String::new();
    if reader.read_line(&mut first).ok()? == 0 {
        return None;
    }
    let mut parts = first.split_whitespace();
    let method = parts.next()?.to_string();
    let target = decode(parts.next()?);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    let body = decode(&String::from_utf8_lossy(&body));
    Some(Req {
        method,
        target,
        body,
    })
}

/// Percent- and plus-decoding, so form bodies and query strings read as text.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
