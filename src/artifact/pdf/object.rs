//! A small reader of PDF objects (ISO 32000-1 §7.3) and of classic
//! cross-reference tables (§7.5.4), enough to walk from the trailer to the
//! catalog's OpenAction.

use std::collections::{HashMap, HashSet};

use super::malformed;
use crate::artifact::scripts::FormatError;

/// How deep arrays and dictionaries may nest, and how many references a
/// lookup may follow, before the input is treated as hostile.
const MAX_DEPTH: usize = 32;

/// Most cross-reference sections followed through `/Prev`.
const MAX_SECTIONS: usize = 64;

/// A dictionary: its entries in file order.
pub(super) type Dict = Vec<(Vec<u8>, Obj)>;

/// A direct PDF object.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Obj {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Name(Vec<u8>),
    Str(Vec<u8>),
    Array(Vec<Obj>),
    Dict(Dict),
    Ref(u32, u16),
}

impl Obj {
    /// The value of `key` in `dict`.
    pub(super) fn get<'a>(dict: &'a [(Vec<u8>, Obj)], key: &[u8]) -> Option<&'a Obj> {
        dict.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// A parsed file: where each object starts, and the newest trailer.
pub(super) struct Document<'a> {
    bytes: &'a [u8],
    offsets: HashMap<u32, usize>,
    trailer: Dict,
}

impl<'a> Document<'a> {
    /// Reads the header, `startxref`, and every cross-reference section.
    pub(super) fn open(bytes: &'a [u8]) -> Result<Self, FormatError> {
        if !bytes.starts_with(b"%PDF-") {
            return Err(malformed("no %PDF- header"));
        }
        let at = bytes
            .windows(b"startxref".len())
            .rposition(|w| w == b"startxref")
            .ok_or_else(|| malformed("no startxref"))?;
        let mut lexer = Lexer::at(bytes, at + b"startxref".len());
        let mut next = Some(lexer.offset()?);
        let mut doc = Document {
            bytes,
            offsets: HashMap::new(),
            trailer: Dict::new(),
        };
        let mut seen = HashSet::new();
        while let Some(offset) = next.take() {
            if !seen.insert(offset) || seen.len() > MAX_SECTIONS {
                return Err(malformed("a loop in the /Prev chain"));
            }
            let trailer = doc.read_section(offset)?;
            if let Some(Obj::Int(prev)) = Obj::get(&trailer, b"Prev") {
                next = Some(usize::try_from(*prev).map_err(|_| malformed("a negative /Prev"))?);
            }
            if doc.trailer.is_empty() {
                doc.trailer = trailer;
            }
        }
        Ok(doc)
    }

    /// Reads one `xref` section at `offset`, keeping entries already known
    /// from newer sections; returns its trailer.
    fn read_section(&mut self, offset: usize) -> Result<Dict, FormatError> {
        let mut lexer = Lexer::at(self.bytes, offset);
        if lexer.keyword() != b"xref" {
            return Err(malformed(
                "startxref does not point at an xref table (xref streams are not supported)",
            ));
        }
        loop {
            let save = lexer.pos;
            if lexer.keyword() == b"trailer" {
                return match lexer.object(0)? {
                    Obj::Dict(dict) => Ok(dict),
                    _ => Err(malformed("the trailer is not a dictionary")),
                };
            }
            lexer.pos = save;
            let first = lexer.offset()?;
            let count = lexer.offset()?;
            for index in 0..count {
                let at = lexer.offset()?;
                lexer.offset()?;
                let kind = lexer.keyword();
                let number = first
                    .checked_add(index)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| malformed("an object number out of range"))?;
                match kind {
                    b"n" => {
                        self.offsets.entry(number).or_insert(at);
                    }
                    b"f" => {}
                    _ => return Err(malformed("a bad cross-reference entry")),
                }
            }
        }
    }

    /// The trailer's `/Root` (the catalog, normally a reference).
    pub(super) fn root(&self) -> Result<&Obj, FormatError> {
        Obj::get(&self.trailer, b"Root").ok_or_else(|| malformed("no /Root in the trailer"))
    }

    /// `obj` with references followed to a direct object (null if the
    /// object is not in the table, as the standard says).
    pub(super) fn resolve(&self, obj: &Obj) -> Result<Obj, FormatError> {
        let mut current = obj.clone();
        for _ in 0..MAX_DEPTH {
            let Obj::Ref(number, _) = current else {
                return Ok(current);
            };
            let Some(&at) = self.offsets.get(&number) else {
                return Ok(Obj::Null);
            };
            let mut lexer = Lexer::at(self.bytes, at);
            let found = lexer.offset()?;
            lexer.offset()?;
            if found != number as usize || lexer.keyword() != b"obj" {
                return Err(malformed(format!("object {number} is not at its offset")));
            }
            current = lexer.object(0)?;
        }
        Err(malformed("too many nested references"))
    }

    /// `obj`, resolved, as a dictionary.
    pub(super) fn resolve_dict(&self, obj: &Obj, what: &str) -> Result<Dict, FormatError> {
        match self.resolve(obj)? {
            Obj::Dict(dict) => Ok(dict),
            _ => Err(malformed(format!("{what} is not a dictionary"))),
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delimiter(b: u8) -> bool {
    b"()<>[]{}/%".contains(&b)
}

struct Lexer<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn at(b: &'a [u8], pos: usize) -> Self {
        Lexer {
            b,
            pos: pos.min(b.len()),
        }
    }

    fn next_byte(&mut self) -> Result<u8, FormatError> {
        let b = *self
            .b
            .get(self.pos)
            .ok_or_else(|| malformed("an unexpected end of file"))?;
        self.pos += 1;
        Ok(b)
    }

    fn skip_space(&mut self) {
        while let Some(&b) = self.b.get(self.pos) {
            if b == b'%' {
                while self
                    .b
                    .get(self.pos)
                    .is_some_and(|&c| c != b'\n' && c != b'\r')
                {
                    self.pos += 1;
                }
            } else if is_space(b) {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    /// The run of regular characters after any white space.
    fn keyword(&mut self) -> &'a [u8] {
        self.skip_space();
        self.regular()
    }

    /// The run of regular characters at the current position.
    fn regular(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self
            .b
            .get(self.pos)
            .is_some_and(|&c| !is_space(c) && !is_delimiter(c))
        {
            self.pos += 1;
        }
        &self.b[start..self.pos]
    }

    /// A non-negative integer token (offsets, counts, object numbers).
    fn offset(&mut self) -> Result<usize, FormatError> {
        let at = self.pos;
        std::str::from_utf8(self.keyword())
            .ok()
            .filter(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| malformed(format!("no number after byte {at}")))
    }

    fn object(&mut self, depth: usize) -> Result<Obj, FormatError> {
        if depth > MAX_DEPTH {
            return Err(malformed("objects nested too deeply"));
        }
        self.skip_space();
        let start = self.pos;
        match self.b.get(self.pos) {
            None => Err(malformed("an unexpected end of file")),
            Some(b'/') => {
                self.pos += 1;
                Ok(Obj::Name(decode_name(self.regular())?))
            }
            Some(b'(') => {
                self.pos += 1;
                self.literal().map(Obj::Str)
            }
            Some(b'<') if self.b.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let mut dict = Dict::new();
                loop {
                    self.skip_space();
                    if self.b[self.pos..].starts_with(b">>") {
                        self.pos += 2;
                        return Ok(Obj::Dict(dict));
                    }
                    let Obj::Name(key) = self.object(depth + 1)? else {
                        return Err(malformed("a dictionary key that is not a name"));
                    };
                    let value = self.object(depth + 1)?;
                    dict.push((key, value));
                }
            }
            Some(b'<') => {
                self.pos += 1;
                self.hex().map(Obj::Str)
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    if self.b.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        return Ok(Obj::Array(items));
                    }
                    items.push(self.object(depth + 1)?);
                }
            }
            Some(_) => {
                let token = self.keyword();
                match token {
                    b"true" => return Ok(Obj::Bool(true)),
                    b"false" => return Ok(Obj::Bool(false)),
                    b"null" => return Ok(Obj::Null),
                    _ => {}
                }
                let text = std::str::from_utf8(token).unwrap_or_default();
                if !text.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c)) {
                    return Err(malformed(format!("an unexpected token at byte {start}")));
                }
                if let Ok(number) = text.parse::<u32>() {
                    let save = self.pos;
                    let generation = std::str::from_utf8(self.keyword()).map(str::parse::<u16>);
                    if let Ok(Ok(generation)) = generation
                        && self.keyword() == b"R"
                    {
                        return Ok(Obj::Ref(number, generation));
                    }
                    self.pos = save;
                }
                if let Ok(int) = text.parse::<i64>() {
                    return Ok(Obj::Int(int));
                }
                text.parse::<f64>()
                    .map(Obj::Real)
                    .map_err(|_| malformed(format!("a bad number at byte {start}")))
            }
        }
    }

    /// A literal string's bytes; the opening `(` is already consumed.
    fn literal(&mut self) -> Result<Vec<u8>, FormatError> {
        let mut out = Vec::new();
        let mut nesting = 0usize;
        loop {
            let b = match self.next_byte()? {
                b'\\' => match self.next_byte()? {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 8,
                    b'f' => 12,
                    d @ b'0'..=b'7' => {
                        let mut value = u32::from(d - b'0');
                        for _ in 0..2 {
                            let Some(&o @ b'0'..=b'7') = self.b.get(self.pos) else {
                                break;
                            };
                            value = value * 8 + u32::from(o - b'0');
                            self.pos += 1;
                        }
                        // High-order overflow is ignored (§7.3.4.2).
                        (value & 0xFF) as u8
                    }
                    // A backslash before a line end continues the line.
                    b'\r' => {
                        self.skip_line_feed();
                        continue;
                    }
                    b'\n' => continue,
                    other => other,
                },
                b'(' => {
                    nesting += 1;
                    b'('
                }
                b')' if nesting == 0 => return Ok(out),
                b')' => {
                    nesting -= 1;
                    b')'
                }
                // Any unescaped line end reads as a line feed.
                b'\r' => {
                    self.skip_line_feed();
                    b'\n'
                }
                b => b,
            };
            out.push(b);
        }
    }

    fn skip_line_feed(&mut self) {
        self.pos += usize::from(self.b.get(self.pos) == Some(&b'\n'));
    }

    /// A hexadecimal string's bytes; the opening `<` is already consumed.
    fn hex(&mut self) -> Result<Vec<u8>, FormatError> {
        let rest = &self.b[self.pos..];
        let end = rest
            .iter()
            .position(|&c| c == b'>')
            .ok_or_else(|| malformed("an unterminated hex string"))?;
        let nibbles: Vec<u8> = rest[..end]
            .iter()
            .filter(|&&c| !is_space(c))
            .map(|&c| char::from(c).to_digit(16).map(|d| d as u8))
            .collect::<Option<_>>()
            .ok_or_else(|| malformed("a bad digit in a hex string"))?;
        self.pos += end + 1;
        // An odd last digit is followed by an implied 0.
        let pair = |p: &[u8]| p[0] << 4 | p.get(1).copied().unwrap_or(0);
        Ok(nibbles.chunks(2).map(pair).collect())
    }
}

/// A name's bytes with `#xx` escapes decoded.
fn decode_name(raw: &[u8]) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'#' {
            let byte = raw
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| malformed("a bad #xx escape in a name"))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Ok(out)
}
