//! `vbaProject.bin`: the VBA project storage (MS-OVBA section 2.2) in a
//! version 3 compound file (MS-CFB, 512-byte sectors).
//!
//! Streams written: `PROJECT` (the text project properties), `PROJECTwm`
//! (module name map), `VBA/_VBA_PROJECT` (the 7-byte header whose version
//! 0xFFFF makes Office compile the project from source, there being no
//! performance cache), `VBA/dir` (the compressed project information,
//! references and module records) and the module stream, whose source starts
//! at offset 0.

use std::io::{Cursor, Read, Write};
use std::time::{Duration, SystemTime};

use cfb::{CompoundFile, Version};

use super::ovba;
use super::source::decode_cp1252;
use super::{Host, VbaError};

/// The per-run identity of a project: its `ID` in the `PROJECT` stream and
/// the seeds of the `CMG`, `DPB` and `GC` encryptions. Office draws both at
/// random for each new project, so one pinned value in every document would
/// be a fingerprint a rule could learn instead of the technique. They are
/// drawn from a hash of the run's command line (which holds the run token),
/// so a document rebuilt for the same run is byte-identical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    /// A version-4 GUID in braces and upper-case hex, as Office writes it
    /// (eight, four, four, four and twelve digits).
    pub(super) id: String,
    /// Seeds of `CMG`, `DPB` and `GC`.
    seeds: [u8; 3],
}

impl Identity {
    /// The identity drawn from `seed` (the run's command line).
    pub(super) fn drawn_from(seed: &str) -> Self {
        use sha2::{Digest, Sha256};
        let hash = Sha256::digest(format!("vba project {seed}").as_bytes());
        let mut g = [0u8; 16];
        g.copy_from_slice(&hash[..16]);
        // RFC 9562: version 4 (random), variant 10.
        g[6] = (g[6] & 0x0F) | 0x40;
        g[8] = (g[8] & 0x3F) | 0x80;
        let h = hex::encode_upper(g);
        Self {
            id: format!(
                "{{{}-{}-{}-{}-{}}}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            ),
            seeds: [hash[16], hash[17], hash[18]],
        }
    }
}

/// Name of the VBA project.
const PROJECT_NAME: &str = "VBAProject";

/// Code page of every MBCS string in the project.
const CODE_PAGE: u16 = 1252;

/// Locale of the project (en-US).
const LCID: u32 = 0x409;

/// `SysKind` 1: 32-bit Windows.
const SYS_KIND_WIN32: u32 = 1;

/// `_VBA_PROJECT`: reserved 0x61CC, version 0xFFFF, reserved 0x00, 0x0000.
const VBA_PROJECT_HEADER: [u8; 7] = [0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x00, 0x00];

/// The registered reference to OLE Automation every Office project carries.
const STDOLE_LIBID: &str = "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\\Windows\\System32\\stdole2.tlb#OLE Automation";

/// Creation and modification time of the `VBA` storage: 2024-01-01T00:00:00Z.
const PINNED_UNIX_SECONDS: u64 = 1_704_067_200;

/// Builds `vbaProject.bin` with one document module holding `source`
/// (already encoded in code page 1252).
pub(super) fn build(host: Host, source: &[u8], identity: &Identity) -> Result<Vec<u8>, VbaError> {
    let module = host.module_name();
    let fail = |stream: &str| {
        let stream = stream.to_owned();
        move |source| VbaError::CfbWrite { stream, source }
    };
    let mut file = CompoundFile::create_with_version(Version::V3, Cursor::new(Vec::new()))
        .map_err(fail("the compound file header"))?;
    file.create_storage("/VBA").map_err(fail("VBA"))?;
    let streams: [(String, Vec<u8>); 5] = [
        (
            "/PROJECT".to_owned(),
            project_stream(module, identity).into_bytes(),
        ),
        ("/PROJECTwm".to_owned(), projectwm_stream(module)),
        ("/VBA/_VBA_PROJECT".to_owned(), VBA_PROJECT_HEADER.to_vec()),
        ("/VBA/dir".to_owned(), ovba::compress(&dir_stream(module))),
        (format!("/VBA/{module}"), ovba::compress(source)),
    ];
    for (path, data) in &streams {
        let name = path.trim_start_matches('/');
        let mut stream = file.create_stream(path).map_err(fail(name))?;
        stream.write_all(data).map_err(fail(name))?;
    }
    let pinned = SystemTime::UNIX_EPOCH + Duration::from_secs(PINNED_UNIX_SECONDS);
    file.set_created_time("/VBA", pinned).map_err(fail("VBA"))?;
    file.set_modified_time("/VBA", pinned)
        .map_err(fail("VBA"))?;
    file.flush().map_err(fail("the compound file"))?;
    Ok(file.into_inner().into_inner())
}

/// The `PROJECT` stream: project properties, host extender and workspace.
fn project_stream(module: &str, identity: &Identity) -> String {
    let (id, seeds) = (&identity.id, identity.seeds);
    let lines = [
        format!("ID=\"{id}\""),
        format!("Document={module}/&H00000000"),
        format!("Name=\"{PROJECT_NAME}\""),
        "HelpContextID=\"0\"".to_owned(),
        "VersionCompatible32=\"393222000\"".to_owned(),
        // Not protected, no password, visible.
        format!("CMG=\"{}\"", encrypt(id, seeds[0], &[0, 0, 0, 0])),
        format!("DPB=\"{}\"", encrypt(id, seeds[1], &[0])),
        format!("GC=\"{}\"", encrypt(id, seeds[2], &[0xFF])),
        String::new(),
        "[Host Extender Info]".to_owned(),
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000".to_owned(),
        String::new(),
        "[Workspace]".to_owned(),
        format!("{module}=0, 0, 0, 0, C"),
    ];
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    text
}

/// MS-OVBA "Data Encryption" (section 2.4.3) of `data` with `seed` for the
/// project `id`, as the upper-case hex the `PROJECT` stream stores.
pub(super) fn encrypt(id: &str, seed: u8, data: &[u8]) -> String {
    const VERSION: u8 = 2;
    let project_key = id.bytes().fold(0u8, u8::wrapping_add);
    let version_enc = seed ^ VERSION;
    let key_enc = seed ^ project_key;
    let mut out = vec![seed, version_enc, key_enc];
    let (mut plain1, mut enc1, mut enc2) = (project_key, key_enc, version_enc);
    let ignored_len = usize::from((seed & 6) / 2);
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes();
    let ignored = std::iter::repeat_n(0u8, ignored_len);
    for byte in ignored.chain(length).chain(data.iter().copied()) {
        let byte_enc = byte ^ enc2.wrapping_add(plain1);
        out.push(byte_enc);
        (enc2, enc1, plain1) = (enc1, byte_enc, byte);
    }
    out.iter().map(|b| format!("{b:02X}")).collect()
}

/// The `PROJECTwm` stream: the module's MBCS name, its UTF-16 name, and the
/// terminator.
fn projectwm_stream(module: &str) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(module.as_bytes());
    out.push(0);
    out.extend(utf16(module));
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

/// UTF-16LE bytes of `text`.
fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Appends one dir record: id, 32-bit size, data.
fn record(out: &mut Vec<u8>, id: u16, data: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(data);
}

/// The decompressed `dir` stream (MS-OVBA section 2.3.4.2) for one document
/// module named `module`.
fn dir_stream(module: &str) -> Vec<u8> {
    let mut d = Vec::new();
    // PROJECTINFORMATION
    record(&mut d, 0x0001, &SYS_KIND_WIN32.to_le_bytes());
    record(&mut d, 0x0002, &LCID.to_le_bytes());
    record(&mut d, 0x0014, &LCID.to_le_bytes());
    record(&mut d, 0x0003, &CODE_PAGE.to_le_bytes());
    record(&mut d, 0x0004, PROJECT_NAME.as_bytes());
    record(&mut d, 0x0005, b"");
    record(&mut d, 0x0040, b"");
    record(&mut d, 0x0006, b"");
    record(&mut d, 0x003D, b"");
    record(&mut d, 0x0007, &0u32.to_le_bytes());
    record(&mut d, 0x0008, &0u32.to_le_bytes());
    // PROJECTVERSION: its "size" field is a reserved 4 followed by 6 bytes.
    d.extend_from_slice(&0x0009u16.to_le_bytes());
    d.extend_from_slice(&4u32.to_le_bytes());
    d.extend_from_slice(&1u32.to_le_bytes());
    d.extend_from_slice(&0u16.to_le_bytes());
    record(&mut d, 0x000C, b"");
    record(&mut d, 0x003C, b"");
    // PROJECTREFERENCES: stdole, by name and as a registered type library.
    record(&mut d, 0x0016, b"stdole");
    record(&mut d, 0x003E, &utf16("stdole"));
    let mut registered = Vec::new();
    let libid_len = u32::try_from(STDOLE_LIBID.len()).unwrap_or(u32::MAX);
    registered.extend_from_slice(&libid_len.to_le_bytes());
    registered.extend_from_slice(STDOLE_LIBID.as_bytes());
    registered.extend_from_slice(&[0; 6]);
    record(&mut d, 0x000D, &registered);
    // PROJECTMODULES: count, cookie, then the one MODULE.
    d.extend_from_slice(&0x000Fu16.to_le_bytes());
    d.extend_from_slice(&2u32.to_le_bytes());
    d.extend_from_slice(&1u16.to_le_bytes());
    record(&mut d, 0x0013, &0xFFFFu16.to_le_bytes());
    record(&mut d, 0x0019, module.as_bytes());
    record(&mut d, 0x0047, &utf16(module));
    record(&mut d, 0x001A, module.as_bytes());
    record(&mut d, 0x0032, &utf16(module));
    record(&mut d, 0x001C, b"");
    record(&mut d, 0x0048, b"");
    record(&mut d, 0x0031, &0u32.to_le_bytes());
    record(&mut d, 0x001E, &0u32.to_le_bytes());
    record(&mut d, 0x002C, &0xFFFFu16.to_le_bytes());
    // MODULETYPE 0x0022: a document (or class) module.
    record(&mut d, 0x0022, b"");
    record(&mut d, 0x002B, b"");
    record(&mut d, 0x0010, b"");
    d
}

/// One module as the `dir` stream describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ModuleInfo {
    /// Module name.
    pub name: String,
    /// Name of the stream in the `VBA` storage.
    pub stream: String,
    /// Where the compressed source starts in that stream.
    pub offset: u32,
}

/// Reads the code page and the modules out of a decompressed `dir` stream.
pub(super) fn parse_dir(dir: &[u8]) -> Result<(u16, Vec<ModuleInfo>), VbaError> {
    let bad = |detail: String| VbaError::Dir { detail };
    let mut code_page = CODE_PAGE;
    let mut modules: Vec<ModuleInfo> = Vec::new();
    let mut pos = 0;
    loop {
        let Some(head) = dir.get(pos..pos + 6) else {
            return Err(bad(format!(
                "the records end at byte {pos} without a terminator"
            )));
        };
        let id = u16::from_le_bytes([head[0], head[1]]);
        let size = u32::from_le_bytes([head[2], head[3], head[4], head[5]]);
        // PROJECTVERSION's size field is reserved (4); its data is 6 bytes.
        let len = if id == 0x0009 { 6 } else { size as usize };
        let Some(data) = dir.get(pos + 6..pos + 6 + len) else {
            return Err(bad(format!("record 0x{id:04X} at byte {pos} is cut short")));
        };
        let text = |data: &[u8]| decode(code_page, data);
        let current = modules.last_mut();
        match (id, current) {
            (0x0003, _) if len == 2 => code_page = u16::from_le_bytes([data[0], data[1]]),
            (0x0010, _) => return Ok((code_page, modules)),
            (0x0019, _) => modules.push(ModuleInfo {
                name: text(data),
                stream: String::new(),
                offset: 0,
            }),
            (0x0047, Some(m)) => m.name = from_utf16(data),
            (0x001A, Some(m)) => m.stream = text(data),
            (0x0032, Some(m)) => m.stream = from_utf16(data),
            (0x0031, Some(m)) if len == 4 => {
                m.offset = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
            }
            _ => {}
        }
        pos += 6 + len;
    }
}

/// Decodes MBCS text in `code_page` (1252, or 65001 for UTF-8; any other
/// code page is read as 1252).
fn decode(code_page: u16, data: &[u8]) -> String {
    if code_page == 65001 {
        String::from_utf8_lossy(data).into_owned()
    } else {
        decode_cp1252(data)
    }
}

/// Decodes UTF-16LE (an odd trailing byte is ignored).
fn from_utf16(data: &[u8]) -> String {
    let units: Vec<u16> = data
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Reads one stream of a compound file.
fn read_stream<F: Read + std::io::Seek>(
    file: &mut CompoundFile<F>,
    path: &str,
) -> Result<Vec<u8>, VbaError> {
    let fail = |source| VbaError::CfbRead {
        stream: path.trim_start_matches('/').to_owned(),
        source,
    };
    let mut data = Vec::new();
    file.open_stream(path)
        .map_err(fail)?
        .read_to_end(&mut data)
        .map_err(fail)?;
    Ok(data)
}

/// The source of every module of a `vbaProject.bin`, in `dir` order.
pub(super) fn module_sources(project_bin: &[u8]) -> Result<Vec<(ModuleInfo, String)>, VbaError> {
    let mut file =
        CompoundFile::open(Cursor::new(project_bin)).map_err(|source| VbaError::CfbRead {
            stream: "the compound file header".to_owned(),
            source,
        })?;
    let dir = ovba::decompress(&read_stream(&mut file, "/VBA/dir")?).map_err(|source| {
        VbaError::Decompress {
            stream: "VBA/dir".to_owned(),
            source,
        }
    })?;
    let (code_page, modules) = parse_dir(&dir)?;
    let mut sources = Vec::with_capacity(modules.len());
    for module in modules {
        let path = format!("/VBA/{}", module.stream);
        let data = read_stream(&mut file, &path)?;
        let compressed = data.get(module.offset as usize..).unwrap_or_default();
        let source = ovba::decompress(compressed).map_err(|source| VbaError::Decompress {
            stream: path.trim_start_matches('/').to_owned(),
            source,
        })?;
        sources.push((module, decode(code_page, &source)));
    }
    Ok(sources)
}
