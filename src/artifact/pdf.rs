//! PDF documents whose catalog opens with a Launch action, and the
//! negative controls' documents that open with no action at all.
//!
//! [`build`] writes a PDF 1.7 file (ISO 32000-1) by hand: the header and a
//! binary comment line, seven objects (catalog, page tree, one US Letter page
//! whose content stream draws an invoice line ([`PAGE_TEXT`]) in
//! Helvetica, the font, the action, the content stream, the document
//! information dictionary with `/Title`), a cross-reference table with the
//! exact byte offsets, and the trailer with a deterministic `/ID` (a hash of
//! the body). The catalog's `/OpenAction` is the Launch action (§12.6.4.5):
//!
//! ```text
//! << /Type /Action /S /Launch /F (program)
//!    /Win << /F (program) /P (parameters) /D (directory) /O (open) >>
//!    /NewWindow true >>
//! ```
//!
//! `/D` is left out when the directory is empty. That is the Windows form:
//! Table 203 makes `/Win` a Windows-specific dictionary (Table 204), and
//! names `/Unix` and `/Mac` as the UNIX and Mac OS entries while leaving
//! their content undefined. So a Linux document carries
//! `/Unix << /F (program) /P (parameters) >>` and a macOS one the same
//! dictionary under both `/Mac` (the spec's entry for the platform) and
//! `/Unix`: readers that run launch actions off Windows (xpdf and the
//! poppler readers derived from it, evince and okular among them) read the
//! `/Unix` dictionary as if it had `/Win`'s shape, its `/F` the program and
//! its `/P` the parameters, and read it only when the action has no `/F` of
//! its own, so these documents leave the action's `/F` out; `/D` and `/O`
//! are Windows keys and are not written. Never a shell in `/Win` on a
//! platform that has no Windows. The launch strings are byte
//! strings that Windows viewers read in the ANSI code page, so only
//! printable ASCII is accepted there; `\`, `(` and `)` are escaped. The title
//! is a text string: ASCII goes in a literal string (control characters as
//! escapes such as `\n` or `\007`), anything else makes it a UTF-16BE hex
//! string with a byte order mark.
//!
//! [`build_link`] writes the same file without `/OpenAction` and without any
//! Launch action: object 5 is an ordinary link annotation on the page with a
//! URI action, which a reader follows only on the user's click. pdfid counts
//! `/OpenAction 0` and `/Launch 0` on it.
//!
//! [`read_launch`] follows `startxref`, the cross-reference table(s) and the
//! trailer's `/Root` to the catalog's `/OpenAction` (inline or indirect) and
//! reads the `/Win`, `/Unix` or `/Mac` dictionary, in that order (or,
//! without one, the action's `/F`);
//! [`read_link`] reads the first page's link annotation.
//! Cross-reference streams and object streams (PDF 1.5 compression) are not
//! supported.

mod object;

use sha2::{Digest, Sha256};

use crate::artifact::scripts::FormatError;
use object::{Document, Obj};

const FORMAT: &str = "pdf";

/// The text drawn on the page.
pub const PAGE_TEXT: &str = "Northwind Supplies - Invoice INV-2024-0417 - EUR 1,284.50";

/// What a Launch action starts: its launch parameters (ISO 32000-1
/// Table 204) in the dictionary of the platform it is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    /// The application to start (`/F` of the platform's dictionary; on
    /// Windows also the action's `/F`).
    pub program: String,
    /// The parameter string passed to the application (`/P`).
    pub parameters: String,
    /// The default directory (`/Win /D`); empty leaves the key out. Windows
    /// only: the other dictionaries have no such key.
    pub directory: String,
    /// The platform dictionary that carries it.
    pub on: LaunchOn,
}

/// Which of a Launch action's platform dictionaries (Table 203) holds the
/// launch parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LaunchOn {
    /// `/Win`, with the action's own `/F` beside it.
    #[default]
    Windows,
    /// `/Unix` alone.
    Unix,
    /// `/Mac`, and the same dictionary under `/Unix`.
    Mac,
}

/// Builds the document titled `title` whose OpenAction is `launch`.
pub fn build(title: &str, launch: &Launch) -> Result<Vec<u8>, FormatError> {
    if launch.program.is_empty() {
        return Err(FormatError::EmptyCommand { format: FORMAT });
    }
    let program = launch_string("the program", &launch.program)?;
    let parameters = launch_string("the parameters", &launch.parameters)?;
    let action = match launch.on {
        LaunchOn::Windows => {
            let mut win = format!("<< /F {program} /P {parameters}");
            if !launch.directory.is_empty() {
                win.push_str(&format!(
                    " /D {}",
                    launch_string("the directory", &launch.directory)?
                ));
            }
            win.push_str(" /O (open) >>");
            format!("<< /Type /Action /S /Launch /F {program} /Win {win} /NewWindow true >>")
        }
        // No action-level /F: a reader that finds one uses it and never
        // reads the platform dictionary, losing the parameters.
        LaunchOn::Unix => format!(
            "<< /Type /Action /S /Launch /Unix << /F {program} /P {parameters} >> /NewWindow true >>"
        ),
        LaunchOn::Mac => {
            let dict = format!("<< /F {program} /P {parameters} >>");
            format!("<< /Type /Action /S /Launch /Mac {dict} /Unix {dict} /NewWindow true >>")
        }
    };
    let content = format!("BT\n/F1 16 Tf\n72 720 Td\n({PAGE_TEXT}) Tj\nET");
    Ok(write(
        "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        "",
        action,
        &content,
        title,
    ))
}

/// Builds the document titled `title` that does nothing when opened: no
/// `/OpenAction`, no `/AA`, no Launch action anywhere. Its page shows `uri`
/// as text under an ordinary link annotation (§12.5.6.5) whose URI action
/// (§12.6.4.7) a reader follows only when the user clicks it, handing the
/// address to the desktop's browser. This is how a legitimate invoice or
/// brochure carries its payment or web link, so a rule that flags
/// `/OpenAction` or `/Launch` (pdfid's counts) stays quiet on it.
pub fn build_link(title: &str, uri: &str) -> Result<Vec<u8>, FormatError> {
    if uri.is_empty() {
        return Err(FormatError::EmptyCommand { format: FORMAT });
    }
    // A URI is 7-bit ASCII (§12.6.4.7); the same check as launch strings.
    let target = launch_string("the link", uri)?;
    let content = format!(
        "BT\n/F1 16 Tf\n72 720 Td\n({PAGE_TEXT}) Tj\nET\n\
         BT\n/F1 12 Tf\n0 0 1 rg\n72 686 Td\n{target} Tj\nET"
    );
    Ok(write(
        "<< /Type /Catalog /Pages 2 0 R >>",
        " /Annots [5 0 R]",
        format!(
            "<< /Type /Annot /Subtype /Link /Rect [72 680 540 702] /Border [0 0 0] \
             /A << /Type /Action /S /URI /URI {target} >> >>"
        ),
        &content,
        title,
    ))
}

/// The file around its catalog, its page's extra keys, object 5 (the
/// action or the annotation) and its content stream: seven objects, the
/// cross-reference table with exact offsets and a trailer whose `/ID` is a
/// hash of the body.
fn write(catalog: &str, page_extra: &str, fifth: String, content: &str, title: &str) -> Vec<u8> {
    let objects = [
        catalog.to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << /F1 4 0 R >> >> /Contents 6 0 R{page_extra} >>"
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        fifth,
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
        // The producer LibreOffice's PDF export writes (the ODT lures are
        // LibreOffice documents too); naming this harness would be a
        // fingerprint a rule could learn.
        format!(
            "<< /Title {} /Creator (Writer) /Producer (LibreOffice 7.4) >>",
            text_string(title)
        ),
    ];
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", index + 1).as_bytes());
    }
    let id = hex::encode_upper(&Sha256::digest(&out)[..16]);
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        // Each entry is exactly 20 bytes, ending in space and line feed.
        tail.push_str(&format!("{offset:010} 00000 n \n"));
    }
    tail.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R /ID [<{id}> <{id}>] >>\n\
         startxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.extend_from_slice(tail.as_bytes());
    out
}

/// Reads back the Launch action the document's catalog opens with.
pub fn read_launch(bytes: &[u8]) -> Result<Launch, FormatError> {
    let doc = Document::open(bytes)?;
    let catalog = doc.resolve_dict(doc.root()?, "the catalog")?;
    let action = Obj::get(&catalog, b"OpenAction").ok_or_else(|| malformed("no /OpenAction"))?;
    let action = doc.resolve_dict(action, "the open action")?;
    if Obj::get(&action, b"S") != Some(&Obj::Name(b"Launch".to_vec())) {
        return Err(malformed("the open action is not a launch action"));
    }
    let field = |dict: &[(Vec<u8>, Obj)], key: &[u8]| -> Result<String, FormatError> {
        match Obj::get(dict, key) {
            None => Ok(String::new()),
            Some(value) => match doc.resolve(value)? {
                Obj::Str(raw) => decode_string(&raw),
                // A file specification dictionary names its file in /F.
                Obj::Dict(spec) if key == b"F" => match Obj::get(&spec, b"F") {
                    Some(Obj::Str(raw)) => decode_string(raw),
                    _ => Err(malformed("a file specification without /F")),
                },
                _ => Err(malformed("a launch parameter that is not a string")),
            },
        }
    };
    let platform = [
        (&b"Win"[..], LaunchOn::Windows),
        (b"Unix", LaunchOn::Unix),
        (b"Mac", LaunchOn::Mac),
    ]
    .into_iter()
    .find_map(|(key, on)| Obj::get(&action, key).map(|d| (d, on)));
    let launch = match platform {
        Some((dict, on)) => {
            let dict = doc.resolve_dict(dict, "the launch parameters")?;
            Launch {
                program: field(&dict, b"F")?,
                parameters: field(&dict, b"P")?,
                directory: match on {
                    LaunchOn::Windows => field(&dict, b"D")?,
                    LaunchOn::Unix | LaunchOn::Mac => String::new(),
                },
                // A /Unix dictionary beside /Mac is the macOS form.
                on: if on == LaunchOn::Unix && Obj::get(&action, b"Mac").is_some() {
                    LaunchOn::Mac
                } else {
                    on
                },
            }
        }
        None => Launch {
            program: field(&action, b"F")?,
            ..Launch::default()
        },
    };
    if launch.program.is_empty() {
        return Err(malformed("the launch action names no program"));
    }
    Ok(launch)
}

/// The address of the first page's first link annotation with a URI
/// action, or `None` when it has none: what a reader opens in the browser
/// when the user clicks the link.
pub fn read_link(bytes: &[u8]) -> Result<Option<String>, FormatError> {
    let doc = Document::open(bytes)?;
    let catalog = doc.resolve_dict(doc.root()?, "the catalog")?;
    let pages = Obj::get(&catalog, b"Pages").ok_or_else(|| malformed("no /Pages"))?;
    let pages = doc.resolve_dict(pages, "the page tree")?;
    let Some(Obj::Array(kids)) = Obj::get(&pages, b"Kids")
        .map(|k| doc.resolve(k))
        .transpose()?
    else {
        return Err(malformed("a page tree without /Kids"));
    };
    let page = kids.first().ok_or_else(|| malformed("no page"))?;
    let page = doc.resolve_dict(page, "the first page")?;
    let Some(Obj::Array(annots)) = Obj::get(&page, b"Annots")
        .map(|a| doc.resolve(a))
        .transpose()?
    else {
        return Ok(None);
    };
    for annot in &annots {
        let annot = doc.resolve_dict(annot, "an annotation")?;
        if Obj::get(&annot, b"Subtype") != Some(&Obj::Name(b"Link".to_vec())) {
            continue;
        }
        let Some(action) = Obj::get(&annot, b"A") else {
            continue;
        };
        let action = doc.resolve_dict(action, "a link's action")?;
        if let Some(uri) = Obj::get(&action, b"URI") {
            return match doc.resolve(uri)? {
                Obj::Str(raw) => decode_string(&raw).map(Some),
                _ => Err(malformed("a /URI that is not a string")),
            };
        }
    }
    Ok(None)
}

fn malformed(detail: impl Into<String>) -> FormatError {
    FormatError::Malformed {
        format: FORMAT,
        detail: detail.into(),
    }
}

/// A literal string for a launch parameter: printable ASCII only.
fn launch_string(field: &str, value: &str) -> Result<String, FormatError> {
    if !value.chars().all(|c| matches!(c, ' '..='~')) {
        return Err(FormatError::Unencodable {
            format: FORMAT,
            field: field.to_owned(),
            value: value.to_owned(),
            reason: "launch strings hold printable ascii only",
        });
    }
    Ok(literal(value.as_bytes()))
}

/// `(bytes)` with `\`, `(`, `)` escaped, and control bytes as escapes so
/// that no reader normalises a line end.
fn literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('(');
    for &b in bytes {
        match b {
            b'\\' | b'(' | b')' => {
                out.push('\\');
                out.push(char::from(b));
            }
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b' '..=b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push(')');
    out
}

/// A text string: literal if it is ASCII, else UTF-16BE hex with a BOM.
fn text_string(text: &str) -> String {
    if text.is_ascii() {
        return literal(text.as_bytes());
    }
    let mut hex = String::from("<FEFF");
    for unit in text.encode_utf16() {
        hex.push_str(&format!("{unit:04X}"));
    }
    hex.push('>');
    hex
}

/// A string object's bytes as text: UTF-16BE after a byte order mark,
/// otherwise ASCII (anything else would depend on the viewer's code page).
fn decode_string(raw: &[u8]) -> Result<String, FormatError> {
    if let Some(body) = raw.strip_prefix(&[0xFE, 0xFF]) {
        if body.len() % 2 != 0 {
            return Err(malformed("an odd-length utf-16 string"));
        }
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        return String::from_utf16(&units).map_err(|_| malformed("an invalid utf-16 string"));
    }
    if !raw.is_ascii() {
        return Err(malformed("a launch string that is not ascii"));
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}

#[cfg(test)]
mod tests;
