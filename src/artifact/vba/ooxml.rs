//! The Open Packaging Convention parts (ECMA-376) of the macro-enabled Word
//! document and Excel workbook, in the order they go into the zip.
//!
//! `[Content_Types].xml` comes first and the host's main part third, which
//! is where `file(1)` looks to tell Word from Excel.

use super::{BODY_MARKER, Host};

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n";
const NS_RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const REL_OFFICE_DOCUMENT: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";
const REL_CORE: &str =
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties";
const REL_APP: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties";
const REL_WORKSHEET: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet";
const REL_STYLES: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles";

/// Relationship type from the main part to `vbaProject.bin`.
pub(super) const REL_VBA_PROJECT: &str =
    "http://schemas.microsoft.com/office/2006/relationships/vbaProject";

/// Content type of `vbaProject.bin` (the default for the `bin` extension).
pub(super) const VBA_PROJECT_CONTENT_TYPE: &str = "application/vnd.ms-office.vbaProject";

/// Creation and modification time in `docProps/core.xml`.
const PINNED_W3CDTF: &str = "2024-01-01T00:00:00Z";

/// Content type of the host's main part.
pub(super) fn main_content_type(host: Host) -> &'static str {
    match host {
        Host::Word => "application/vnd.ms-word.document.macroEnabled.main+xml",
        Host::Excel => "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    }
}

/// Path of `vbaProject.bin` in the package.
pub(super) fn vba_project_part(host: Host) -> &'static str {
    match host {
        Host::Word => "word/vbaProject.bin",
        Host::Excel => "xl/vbaProject.bin",
    }
}

/// One `<Relationship>` element.
fn relationship(id: &str, kind: &str, target: &str) -> String {
    format!("<Relationship Id=\"{id}\" Type=\"{kind}\" Target=\"{target}\"/>")
}

/// A relationships part holding `items`.
fn relationships(items: &[String]) -> String {
    format!(
        "{XML_DECL}<Relationships xmlns=\"{NS_RELS}\">{}</Relationships>",
        items.concat()
    )
}

/// Every XML part of the package, in zip order, with `vbaProject.bin`'s
/// place marked by `None`.
pub(super) fn parts(host: Host) -> Vec<(&'static str, Option<String>)> {
    let main = match host {
        Host::Word => "word/document.xml",
        Host::Excel => "xl/workbook.xml",
    };
    let mut overrides = vec![(format!("/{main}"), main_content_type(host))];
    if host == Host::Excel {
        overrides.extend([
            (
                "/xl/worksheets/sheet1.xml".to_owned(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
            ),
            (
                "/xl/styles.xml".to_owned(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
            ),
        ]);
    }
    overrides.extend([
        (
            "/docProps/core.xml".to_owned(),
            "application/vnd.openxmlformats-package.core-properties+xml",
        ),
        (
            "/docProps/app.xml".to_owned(),
            "application/vnd.openxmlformats-officedocument.extended-properties+xml",
        ),
    ]);
    let content_types = format!(
        "{XML_DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Default Extension=\"bin\" ContentType=\"{VBA_PROJECT_CONTENT_TYPE}\"/>{}</Types>",
        overrides
            .iter()
            .map(|(part, kind)| format!("<Override PartName=\"{part}\" ContentType=\"{kind}\"/>"))
            .collect::<String>()
    );
    let package_rels = relationships(&[
        relationship("rId1", REL_OFFICE_DOCUMENT, main),
        relationship("rId2", REL_CORE, "docProps/core.xml"),
        relationship("rId3", REL_APP, "docProps/app.xml"),
    ]);
    let mut parts = vec![
        ("[Content_Types].xml", Some(content_types)),
        ("_rels/.rels", Some(package_rels)),
    ];
    match host {
        Host::Word => parts.extend([
            ("word/document.xml", Some(word_document())),
            (
                "word/_rels/document.xml.rels",
                Some(relationships(&[relationship(
                    "rId1",
                    REL_VBA_PROJECT,
                    "vbaProject.bin",
                )])),
            ),
        ]),
        Host::Excel => parts.extend([
            ("xl/workbook.xml", Some(workbook())),
            (
                "xl/_rels/workbook.xml.rels",
                Some(relationships(&[
                    relationship("rId1", REL_WORKSHEET, "worksheets/sheet1.xml"),
                    relationship("rId2", REL_STYLES, "styles.xml"),
                    relationship("rId3", REL_VBA_PROJECT, "vbaProject.bin"),
                ])),
            ),
            ("xl/worksheets/sheet1.xml", Some(worksheet())),
            ("xl/styles.xml", Some(spreadsheet_styles())),
        ]),
    }
    parts.extend([
        (vba_project_part(host), None),
        ("docProps/core.xml", Some(core_properties())),
        ("docProps/app.xml", Some(app_properties(host))),
    ]);
    parts
}

/// `word/document.xml`: one paragraph on a Letter page.
fn word_document() -> String {
    format!(
        "{XML_DECL}<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body><w:p><w:r><w:t>{BODY_MARKER}</w:t></w:r></w:p>\
         <w:sectPr><w:pgSz w:w=\"12240\" w:h=\"15840\"/>\
         <w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\" w:left=\"1440\" \
         w:header=\"720\" w:footer=\"720\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    )
}

/// `xl/workbook.xml`: one sheet; `codeName` ties the workbook to the
/// `ThisWorkbook` document module.
fn workbook() -> String {
    format!(
        "{XML_DECL}<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
         <workbookPr codeName=\"ThisWorkbook\"/>\
         <sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    )
}

/// `xl/worksheets/sheet1.xml`: the marker text in A1.
fn worksheet() -> String {
    format!(
        "{XML_DECL}<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
         <sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>{BODY_MARKER}</t></is></c></row>\
         </sheetData></worksheet>"
    )
}

/// `xl/styles.xml`: the minimal style sheet (one font, fill, border, format).
fn spreadsheet_styles() -> String {
    format!(
        "{XML_DECL}<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
         <fonts count=\"1\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font></fonts>\
         <fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>\
         <fill><patternFill patternType=\"gray125\"/></fill></fills>\
         <borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
         <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
         <cellXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/></cellXfs>\
         <cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
         </styleSheet>"
    )
}

/// `docProps/core.xml` with pinned dates.
fn core_properties() -> String {
    format!(
        "{XML_DECL}<cp:coreProperties \
         xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
         xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <dc:title>Invoice INV-2024-0417</dc:title><dc:creator>Accounts Payable</dc:creator>\
         <cp:lastModifiedBy>Accounts Payable</cp:lastModifiedBy>\
         <dcterms:created xsi:type=\"dcterms:W3CDTF\">{PINNED_W3CDTF}</dcterms:created>\
         <dcterms:modified xsi:type=\"dcterms:W3CDTF\">{PINNED_W3CDTF}</dcterms:modified>\
         </cp:coreProperties>"
    )
}

/// `docProps/app.xml`.
fn app_properties(host: Host) -> String {
    let application = match host {
        Host::Word => "Microsoft Office Word",
        Host::Excel => "Microsoft Excel",
    };
    format!(
        "{XML_DECL}<Properties \
         xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" \
         xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">\
         <Application>{application}</Application><DocSecurity>0</DocSecurity></Properties>"
    )
}
