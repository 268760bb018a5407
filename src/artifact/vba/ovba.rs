//! The MS-OVBA compressed container (MS-OVBA section 2.4.1): the run-length
//! / LZ77 scheme VBA uses for the `dir` stream and for module source.
//!
//! A container is the signature byte `0x01` followed by chunks. Each chunk
//! encodes up to 4096 bytes of the input and starts with a little-endian
//! 16-bit header: bits 0–11 hold the chunk's size in bytes (header included)
//! minus 3, bits 12–14 the signature `0b011`, bit 15 whether the chunk is
//! compressed. A compressed chunk is a series of token sequences: a flag
//! byte, then up to eight tokens, each a literal byte (flag bit 0) or a
//! 16-bit copy token (flag bit 1). A copy token refers back into the same
//! chunk; how its 16 bits split between offset and length depends on how far
//! into the chunk the token starts (at least 4 offset bits, growing to 12 as
//! the position grows). A chunk whose compressed form would be larger than
//! 4098 bytes is stored raw instead: header `0x3FFF` and exactly 4096 bytes.
//!
//! [`compress`] is greedy: at each position it takes the longest match (3
//! bytes or more, overlaps included, the nearest one on a tie) starting at
//! a position where an earlier token of the chunk started. Looking only at
//! token starts is what Office's own compressor does: it reproduces the
//! specification's worked example (MS-OVBA 3.2.2) byte for byte, where a
//! search of every earlier position would pick other, equally long matches.
//! Raw chunks always hold 4096 bytes, so the specification pads a short
//! final chunk that had to be stored raw with zero bytes; [`decompress`]
//! returns that padding. It can only happen to a final chunk of more than
//! about 3640 bytes with almost no repeated 3-byte sequence, never to text
//! such as VBA source or a `dir` stream.

#[cfg(test)]
mod tests;

/// Bytes of input each chunk encodes (all but the last chunk hold exactly
/// this many).
pub const CHUNK_LEN: usize = 4096;

/// The first byte of every compressed container.
pub const SIGNATURE: u8 = 0x01;

/// Largest chunk size (header included) the 12-bit size field can express.
const MAX_CHUNK_SIZE: usize = CHUNK_LEN + 2;

/// Header of a raw chunk: size field 4095, signature `0b011`, flag 0.
const RAW_HEADER: u16 = 0x3FFF;

/// Signature bits and the compressed flag of a compressed chunk's header.
const COMPRESSED_HEADER: u16 = 0xB000;

/// No earlier position with the same 3-byte hash.
const NONE: u16 = u16::MAX;

/// Why a container could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("read byte {offset} of the compressed container: {reason}")]
pub struct DecompressError {
    /// Offset in the container where the problem was found.
    pub offset: usize,
    /// What was wrong there.
    pub reason: &'static str,
}

/// Compresses `data` into an MS-OVBA compressed container.
///
/// Deterministic; an empty input gives the lone signature byte.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 16);
    out.push(SIGNATURE);
    for chunk in data.chunks(CHUNK_LEN) {
        compress_chunk(chunk, &mut out);
    }
    out
}

/// Decompresses an MS-OVBA compressed container.
///
/// A raw chunk yields all of its 4096 bytes (see the module documentation
/// about padding); a compressed chunk that is cut short by the end of the
/// input yields what it holds up to there, as the specification prescribes.
pub fn decompress(container: &[u8]) -> Result<Vec<u8>, DecompressError> {
    let fail = |offset, reason| Err(DecompressError { offset, reason });
    if container.first() != Some(&SIGNATURE) {
        return fail(0, "the signature byte is not 0x01");
    }
    let mut out = Vec::with_capacity(container.len() * 2);
    let mut pos = 1;
    while pos < container.len() {
        let Some(header) = container.get(pos..pos + 2) else {
            return fail(pos, "the chunk header is cut short");
        };
        let header = u16::from_le_bytes([header[0], header[1]]);
        if (header >> 12) & 0b111 != 0b011 {
            return fail(pos, "the chunk signature is not 0b011");
        }
        let size = usize::from(header & 0x0FFF) + 3;
        if header & 0x8000 == 0 {
            if size != MAX_CHUNK_SIZE {
                return fail(pos, "a raw chunk does not declare 4096 bytes");
            }
            let Some(raw) = container.get(pos + 2..pos + MAX_CHUNK_SIZE) else {
                return fail(pos, "a raw chunk holds fewer than 4096 bytes");
            };
            out.extend_from_slice(raw);
        } else {
            let end = container.len().min(pos + size);
            decompress_chunk(container, pos + 2, end, &mut out)?;
        }
        pos += size;
    }
    Ok(out)
}

/// Decodes the token sequences in `container[start..end]`, appending to
/// `out`.
fn decompress_chunk(
    container: &[u8],
    start: usize,
    end: usize,
    out: &mut Vec<u8>,
) -> Result<(), DecompressError> {
    let chunk_start = out.len();
    let mut pos = start;
    while pos < end {
        let flags = container[pos];
        pos += 1;
        for bit in 0..8 {
            if pos >= end {
                break;
            }
            if flags & (1 << bit) == 0 {
                out.push(container[pos]);
                pos += 1;
            } else {
                if pos + 2 > end {
                    return Err(DecompressError {
                        offset: pos,
                        reason: "a copy token is cut short",
                    });
                }
                let token = u16::from_le_bytes([container[pos], container[pos + 1]]);
                let (offset, length) = unpack_copy_token(token, out.len() - chunk_start);
                if offset > out.len() - chunk_start {
                    return Err(DecompressError {
                        offset: pos,
                        reason: "a copy token points before the start of its chunk",
                    });
                }
                let from = out.len() - offset;
                for i in 0..length {
                    out.push(out[from + i]);
                }
                pos += 2;
            }
            if out.len() - chunk_start > CHUNK_LEN {
                return Err(DecompressError {
                    offset: pos,
                    reason: "a chunk decompresses to more than 4096 bytes",
                });
            }
        }
    }
    Ok(())
}

/// Number of offset bits of a copy token that starts `position` bytes into
/// its chunk: `max(ceil(log2(position)), 4)`.
fn offset_bits(position: usize) -> u32 {
    let ceil_log2 = usize::BITS - position.saturating_sub(1).leading_zeros();
    ceil_log2.max(4)
}

/// Longest match a copy token can express at `position`.
fn max_length(position: usize) -> usize {
    (0xFFFF_usize >> offset_bits(position)) + 3
}

/// Packs `offset` (1-based, backwards) and `length` (3 or more) into a copy
/// token for `position`.
fn pack_copy_token(offset: usize, length: usize, position: usize) -> u16 {
    let bits = offset_bits(position);
    let packed = ((offset - 1) << (16 - bits)) | (length - 3);
    // Both fields fit by construction: offset <= position <= 2^bits and
    // length <= max_length(position).
    (packed & 0xFFFF) as u16
}

/// Splits a copy token found `position` bytes into its chunk into
/// `(offset, length)`.
fn unpack_copy_token(token: u16, position: usize) -> (usize, usize) {
    let bits = offset_bits(position);
    let length_mask = 0xFFFF_u16 >> bits;
    let length = usize::from(token & length_mask) + 3;
    let offset = usize::from(token >> (16 - bits)) + 1;
    (offset, length)
}

/// Hash of the 3 bytes at the start of `bytes`, for the match chains.
fn hash3(bytes: &[u8]) -> usize {
    ((usize::from(bytes[0]) << 4) ^ (usize::from(bytes[1]) << 2) ^ usize::from(bytes[2])) & 0x0FFF
}

/// Compresses one chunk (at most 4096 bytes), appending it to `out`.
fn compress_chunk(chunk: &[u8], out: &mut Vec<u8>) {
    let chunk_start = out.len();
    out.extend_from_slice(&[0, 0]);
    // Hash chains over the 3-byte prefixes at earlier token starts, newest
    // first.
    let mut head = vec![NONE; 0x1000];
    let mut previous = vec![NONE; chunk.len()];
    let mut pos = 0;
    while pos < chunk.len() {
        let flags_at = out.len();
        out.push(0);
        let mut flags = 0u8;
        for bit in 0..8 {
            if pos >= chunk.len() {
                break;
            }
            let (offset, length) = longest_match(chunk, pos, &head, &previous);
            if pos + 3 <= chunk.len() {
                let h = hash3(&chunk[pos..]);
                previous[pos] = head[h];
                // pos < 4096, so it fits.
                head[h] = pos as u16;
            }
            if length >= 3 {
                let token = pack_copy_token(offset, length, pos);
                out.extend_from_slice(&token.to_le_bytes());
                flags |= 1 << bit;
                pos += length;
            } else {
                out.push(chunk[pos]);
                pos += 1;
            }
        }
        out[flags_at] = flags;
    }
    let size = out.len() - chunk_start;
    if size > MAX_CHUNK_SIZE {
        // Compression did not help: store the chunk raw, padded to 4096.
        out.truncate(chunk_start);
        out.extend_from_slice(&RAW_HEADER.to_le_bytes());
        out.extend_from_slice(chunk);
        out.resize(chunk_start + MAX_CHUNK_SIZE, 0);
        return;
    }
    // size - 3 <= 4095 here, so it fits the 12-bit field.
    let header = COMPRESSED_HEADER | (size - 3) as u16;
    out[chunk_start..chunk_start + 2].copy_from_slice(&header.to_le_bytes());
}

/// The longest earlier match for `chunk[pos..]`, as `(offset, length)`;
/// the nearest wins a tie. Length 0 when there is none of 3 bytes or more.
fn longest_match(chunk: &[u8], pos: usize, head: &[u16], previous: &[u16]) -> (usize, usize) {
    if pos + 3 > chunk.len() {
        return (0, 0);
    }
    let limit = max_length(pos).min(chunk.len() - pos);
    let (mut best_offset, mut best_length) = (0, 0);
    let mut candidate = head[hash3(&chunk[pos..])];
    while candidate != NONE {
        let start = usize::from(candidate);
        let length = (0..limit)
            .take_while(|&i| chunk[start + i] == chunk[pos + i])
            .count();
        if length > best_length {
            (best_offset, best_length) = (pos - start, length);
            if length == limit {
                break;
            }
        }
        candidate = previous[start];
    }
    (best_offset, best_length)
}
