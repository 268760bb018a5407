//! ZIP containers of recordings, entry by entry: each entry is its own
//! input, sniffed like a file; text entries stream straight from the
//! decompressor, EVTX and nested ZIP entries (which need to seek) are read
//! into memory one at a time. Nesting and the bytes entries expand to are
//! bounded (a ZIP holding itself, a decompression bomb). An entry that is
//! not telemetry (a README beside the recording) is refused and counted,
//! like a file in a folder.

use std::io::{BufRead, BufReader, Read, Seek};

use super::{Ctx, Fail, ReadError, format_err, json, read_seekable, settle};

/// How deep ZIPs may nest in ZIPs. A recording is zipped once, at times
/// twice; without a bound a ZIP that holds itself (a "quine") recurses until
/// the stack overflows.
pub const ZIP_DEPTH_LIMIT: usize = 4;

/// The most the entries of one ZIP, nested ones included, may expand to:
/// the size of a telemetry file. A decompression bomb is refused at this
/// point instead of filling memory.
pub const ZIP_EXPANDED_LIMIT: u64 = 1 << 30;

pub(super) fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

fn bomb(name: &str) -> Fail {
    Fail::Broken(format_err(
        name,
        format!(
            "ZIP entries expand to more than {} MiB (a decompression bomb?); \
             unzip it and replay the files",
            ZIP_EXPANDED_LIMIT >> 20
        ),
    ))
}

/// Reads every entry of the ZIP `reader`, which is `depth` ZIPs deep (1 for
/// a ZIP file).
pub(super) fn read<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    name: &str,
    reader: R,
    depth: usize,
) -> Result<(), Fail> {
    let zip_err = |e: zip::result::ZipError| Fail::Broken(format_err(name, format!("ZIP: {e}")));
    let mut archive = zip::ZipArchive::new(reader).map_err(zip_err)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        if entry.is_dir() {
            continue;
        }
        let inner = format!("{name}!{}", entry.name());
        let input = ctx.begin(inner.clone());
        let left = ctx.zip_left;
        let mut limited = BufReader::with_capacity(1 << 16, (&mut entry).take(left));
        let result = read_entry(ctx, input, &inner, &mut limited, depth);
        let rest = limited.get_ref().limit();
        ctx.zip_left = rest;
        // An entry cut at the budget reads as malformed: say what it is.
        if rest == 0 {
            let more = entry
                .read(&mut [0u8; 1])
                .map_err(|e| Fail::Broken(read_err(&inner, &e)))?;
            if more > 0 {
                return Err(bomb(&inner));
            }
        }
        match settle(ctx, input, &inner, result, false) {
            Ok(()) => {}
            Err(e) => return Err(Fail::Broken(e)),
        }
    }
    Ok(())
}

fn read_err(name: &str, e: &std::io::Error) -> ReadError {
    format_err(name, format!("read ZIP entry: {e}"))
}

fn read_entry<R: Read>(
    ctx: &mut Ctx<'_>,
    input: usize,
    name: &str,
    entry: &mut BufReader<R>,
    depth: usize,
) -> Result<(), Fail> {
    let head = entry
        .fill_buf()
        .map_err(|e| Fail::Broken(read_err(name, &e)))?;
    let nested = is_zip(head);
    if nested && depth >= ZIP_DEPTH_LIMIT {
        return Err(Fail::Broken(format_err(
            name,
            format!("ZIPs nested more than {ZIP_DEPTH_LIMIT} deep; unzip the outer ones"),
        )));
    }
    if nested || head.starts_with(b"ElfFile\0") {
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| Fail::Broken(read_err(name, &e)))?;
        let len = data.len() as u64;
        return read_seekable(ctx, input, name, std::io::Cursor::new(data), len, depth);
    }
    json::read_text(ctx, input, name, entry)
}
