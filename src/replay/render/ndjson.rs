//! `--format ndjson`: one JSON object per line, each with a `type`.
//!
//! `alert` lines as alerts are emitted, `chain` lines as chains close, then
//! one `input` line per input, one `rules` line and a final `summary` line
//! (see docs/replay.md). Nothing is retained: memory stays flat however
//! many alerts a replay gives, so this is the format for large inputs.

use std::io::{self, Write};

use serde::Serialize;

use super::{Finish, Guarded, Output, SCHEMA, summary_value};
use crate::replay::model::{Alert, Chain, Sink};

/// The streaming sink.
pub struct Ndjson<'w> {
    out: Guarded<'w>,
    /// Reused for every line: one allocation for the whole stream, not one
    /// per alert.
    buf: Vec<u8>,
}

impl<'w> Ndjson<'w> {
    /// A sink writing lines to `out`.
    pub fn new(out: Box<dyn Write + 'w>) -> Ndjson<'w> {
        Ndjson {
            out: Guarded::new(out),
            buf: Vec::with_capacity(4096),
        }
    }

    /// Writes `value` as one line tagged `"type": kind`.
    fn line<T: Serialize + ?Sized>(&mut self, kind: &str, value: &T) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, value).map_err(io::Error::other)?;
        let body = std::str::from_utf8(&self.buf).map_err(io::Error::other)?;
        let body = crate::term::json_safe(body);
        // The type goes first so `grep '^{"type":"alert"'` and readers that
        // dispatch on the first key work; every value here is an object.
        let rest = body.strip_prefix('{').unwrap_or(&body);
        let sep = if rest.starts_with('}') { "" } else { "," };
        for piece in ["{\"type\":\"", kind, "\"", sep, rest, "\n"] {
            self.out.write(piece);
        }
        Ok(())
    }

    fn line_or_note<T: Serialize + ?Sized>(&mut self, kind: &str, value: &T) {
        if let Err(e) = self.line(kind, value) {
            // A value that cannot be serialised is a bug, not the reader's
            // problem: say it in-band rather than drop the line silently.
            let note = serde_json::json!({ "error": format!("serialise {kind}: {e}") });
            let _ = self.line("error", &note);
        }
    }
}

impl Sink for Ndjson<'_> {
    fn alert(&mut self, alert: &Alert) {
        self.line_or_note("alert", alert);
    }
    fn chain(&mut self, chain: &Chain) {
        self.line_or_note("chain", chain);
    }
}

impl Output for Ndjson<'_> {
    fn finish(&mut self, end: &Finish<'_>) -> io::Result<()> {
        for input in &end.summary.inputs {
            self.line("input", input)?;
        }
        self.line("rules", end.rules)?;
        let mut summary = summary_value(end.summary)?;
        if let Some(map) = summary.as_object_mut() {
            map.insert("schema".into(), SCHEMA.into());
        }
        self.line("summary", &summary)?;
        self.out.finish()
    }
}
