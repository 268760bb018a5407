use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// The headers of every chunk of a container.
fn chunk_headers(container: &[u8]) -> Vec<u16> {
    let mut headers = Vec::new();
    let mut pos = 1;
    while pos < container.len() {
        let header = u16::from_le_bytes([container[pos], container[pos + 1]]);
        headers.push(header);
        pos += usize::from(header & 0x0FFF) + 3;
    }
    assert_eq!(pos, container.len(), "chunks must tile the container");
    headers
}

/// Asserts the round trip; a final chunk stored raw comes back zero-padded.
fn assert_round_trip(data: &[u8]) {
    let container = compress(data);
    let back = decompress(&container).unwrap();
    let headers = chunk_headers(&container);
    assert_eq!(headers.len(), data.len().div_ceil(CHUNK_LEN));
    for h in &headers {
        assert!(*h == 0x3FFF || h & 0xF000 == 0xB000, "header {h:04X}");
    }
    let tail = data.len() % CHUNK_LEN;
    if headers.last() == Some(&0x3FFF) && tail != 0 {
        // Only a final chunk that compression cannot shrink is stored raw.
        assert!(tail > 3600, "a {tail}-byte final chunk was stored raw");
        assert_eq!(back.len(), data.len() - tail + CHUNK_LEN);
        assert_eq!(&back[..data.len()], data);
        assert!(back[data.len()..].iter().all(|b| *b == 0));
    } else {
        assert_eq!(back, data, "len {}", data.len());
    }
}

#[test]
fn ovba_matches_the_specification_examples() {
    // MS-OVBA 3.2.1: no compression possible.
    let plain = b"abcdefghijklmnopqrstuv.";
    let expected = hex(
        "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E",
    );
    assert_eq!(compress(plain), expected);
    assert_eq!(decompress(&expected).unwrap(), plain);
    // MS-OVBA 3.2.2: normal compression.
    let text = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa";
    let expected = hex(
        "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 \
         30 6D 6E 6F 70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C",
    );
    assert_eq!(decompress(&expected).unwrap(), text);
    assert_eq!(compress(text), expected);
}

#[test]
fn ovba_round_trips_edge_inputs() {
    assert_eq!(compress(&[]), vec![0x01]);
    assert_eq!(decompress(&[0x01]).unwrap(), Vec::<u8>::new());
    for len in [1, 2, 3, 4, 16, 17, 4095, 4096, 4097, 8192, 8193, 20_000] {
        assert_round_trip(&vec![0u8; len]);
        assert_round_trip(&b"abc".repeat(len / 3 + 1)[..len]);
    }
    // Long runs compress far below their size.
    assert!(compress(&vec![b'a'; 4096]).len() < 100);
    let text = "Attribute VB_Name = \"ThisDocument\"\r\n".repeat(500);
    assert_round_trip(text.as_bytes());
    assert!(compress(text.as_bytes()).len() < text.len() / 10);
}

#[test]
fn ovba_round_trips_random_inputs() {
    let mut rng = StdRng::seed_from_u64(0x0BA_0001);
    for round in 0..300 {
        let len = match round % 3 {
            0 => rng.random_range(0..300),
            1 => rng.random_range(0..5000),
            _ => rng.random_range(4000..13_000),
        };
        let alphabet: u8 = [2, 4, 26, 255][round % 4];
        let data: Vec<u8> = (0..len).map(|_| rng.random_range(0..=alphabet)).collect();
        assert_round_trip(&data);
    }
    // Incompressible data: every full chunk stored raw, exact round trip.
    let data: Vec<u8> = (0..3 * CHUNK_LEN).map(|_| rng.random::<u8>()).collect();
    let container = compress(&data);
    assert_eq!(chunk_headers(&container), vec![0x3FFF; 3]);
    assert_eq!(decompress(&container).unwrap(), data);
    // Short incompressible tail: stored compressed (literals only).
    let short: Vec<u8> = (0..1000).map(|_| rng.random::<u8>()).collect();
    assert_eq!(chunk_headers(&compress(&short))[0] & 0xF000, 0xB000);
    assert_round_trip(&short);
}

#[test]
fn ovba_rejects_malformed_containers() {
    assert!(decompress(&[]).is_err());
    assert!(decompress(&[0x02, 0x00, 0xB0]).is_err());
    // Chunk signature 0b000 instead of 0b011.
    assert!(decompress(&[0x01, 0x00, 0x80, 0x00, 0x61]).is_err());
    // Raw chunk with fewer than 4096 bytes.
    assert!(decompress(&[0x01, 0xFF, 0x3F, 0x61, 0x62]).is_err());
    // Copy token as the first token of a chunk (nothing to copy from).
    let err = decompress(&[0x01, 0x02, 0xB0, 0x01, 0x00, 0x00]).unwrap_err();
    assert!(err.to_string().contains("before the start"), "{err}");
    // Header cut short.
    assert!(decompress(&[0x01, 0x02]).is_err());
}

#[test]
fn copy_token_split_depends_on_position() {
    for position in 1..=16 {
        assert_eq!(offset_bits(position), 4, "{position}");
    }
    assert_eq!(offset_bits(17), 5);
    assert_eq!(offset_bits(32), 5);
    assert_eq!(offset_bits(33), 6);
    assert_eq!(offset_bits(2048), 11);
    assert_eq!(offset_bits(2049), 12);
    assert_eq!(offset_bits(4095), 12);
    assert_eq!(max_length(1), 4098);
    assert_eq!(max_length(4095), 18);
    for position in 1..CHUNK_LEN {
        for (offset, length) in [(1, 3), (position, 3), (1, max_length(position))] {
            let token = pack_copy_token(offset, length, position);
            assert_eq!(unpack_copy_token(token, position), (offset, length));
        }
    }
}
