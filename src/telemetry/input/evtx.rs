//! EVTX files, record by record from the reader: the evtx crate reads one
//! 64 KiB chunk at a time, so a file of any size is read in bounded
//! memory. A cut file is refused rather than replayed short.

use std::io::{Read, Seek};

use serde_json::Value;

use super::{Ctx, Fail, Skip, format_err, windows};

/// EVTX layout: a 4 KiB file header, then 64 KiB chunks of records.
const EVTX_HEADER: u64 = 4096;
const EVTX_CHUNK: u64 = 65536;

/// Reads the EVTX `reader` of `len` bytes whose first bytes are `head`.
pub(super) fn read<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    input: usize,
    name: &str,
    reader: R,
    len: u64,
    head: &[u8],
) -> Result<(), Fail> {
    let err = |message: String| Fail::Broken(format_err(name, message));
    // The evtx crate skips a chunk it cannot read without a word, so a cut
    // file would replay as "0 events": the header's chunk count says how
    // much must be there.
    let announced = head
        .get(42..44)
        .map_or(0, |b| u64::from(u16::from_le_bytes([b[0], b[1]])));
    let expected = EVTX_HEADER + announced * EVTX_CHUNK;
    let mut parser =
        evtx::EvtxParser::from_read_seek(reader).map_err(|e| err(format!("EVTX: {e}")))?;
    let mut read = 0u64;
    for record in parser.records_json_value() {
        let record = record.map_err(|e| {
            err(format!(
                "EVTX: truncated or corrupt: record {} unreadable ({e}); {read} record(s) read before it",
                read + 1
            ))
        })?;
        read += 1;
        let outcome = match record.data {
            Value::Object(map) => windows::map(map, input),
            _ => Err(Skip::Static("EVTX record not an object")),
        };
        ctx.record(input, outcome);
    }
    if len < expected {
        return Err(err(format!(
            "EVTX: truncated or corrupt: the header announces {announced} chunk(s), \
             {expected} bytes, and the file has {len}; {read} record(s) read before the cut"
        )));
    }
    Ok(())
}
