//! ZIP containers of recordings: every entry is read and sniffed like a
//! file of its own, ZIPs inside included, within a bound on nesting and on
//! the bytes the entries expand to (a ZIP holding itself, a decompression
//! bomb).

use std::io::Read;

use super::{Loaded, ReplayError, format_err, load_bytes};

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

/// Loads every entry of the ZIP `bytes`, `depth` ZIPs deep, expanding at
/// most `left` more bytes.
pub(in crate::replay) fn load_zip(
    name: &str,
    bytes: Vec<u8>,
    out: &mut Loaded,
    depth: usize,
    left: &mut u64,
) -> Result<(), ReplayError> {
    let zip_err = |e: zip::result::ZipError| format_err(name, format!("ZIP: {e}"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zip_err)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        if entry.is_dir() {
            continue;
        }
        let inner = format!("{name}!{}", entry.name());
        let read_err = |e: std::io::Error| format_err(&inner, format!("read ZIP entry: {e}"));
        let mut data = Vec::new();
        (&mut entry)
            .take(*left)
            .read_to_end(&mut data)
            .map_err(read_err)?;
        // Probing for one byte more, rather than reading `left + 1`, keeps
        // the buffer from doubling past the budget at its very end.
        if entry.read(&mut [0u8; 1]).map_err(read_err)? > 0 {
            return Err(format_err(
                &inner,
                format!(
                    "ZIP entries expand to more than {} MiB (a decompression bomb?); \
                     unzip it and replay the files",
                    ZIP_EXPANDED_LIMIT >> 20
                ),
            ));
        }
        *left = left.saturating_sub(u64::try_from(data.len()).unwrap_or(u64::MAX));
        if !is_zip(&data) {
            load_bytes(&inner, data, out)?;
        } else if depth < ZIP_DEPTH_LIMIT {
            load_zip(&inner, data, out, depth + 1, left)?;
        } else {
            return Err(format_err(
                &inner,
                format!("ZIPs nested more than {ZIP_DEPTH_LIMIT} deep; unzip the outer ones"),
            ));
        }
    }
    Ok(())
}
