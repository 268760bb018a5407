//! The XML parts of the OpenDocument Text file, as text.
//!
//! Everything here is constant except the body's command line and the macro
//! source, so the document is byte-for-byte reproducible. Dates in `meta.xml`
//! are fixed for the same reason.

use super::xml::escape;

const NS_OFFICE: &str = "urn:oasis:names:tc:opendocument:xmlns:office:1.0";
const ODF_VERSION: &str = "1.3";

/// The media type, stored uncompressed as the archive's first entry.
pub(crate) const MIMETYPE: &str = "application/vnd.oasis.opendocument.text";

/// `META-INF/manifest.xml`: every part and its media type.
pub(crate) fn manifest() -> String {
    let mut entries = format!(
        " <manifest:file-entry manifest:full-path=\"/\" manifest:version=\"{ODF_VERSION}\" \
         manifest:media-type=\"{MIMETYPE}\"/>\n"
    );
    for path in [
        "content.xml",
        "styles.xml",
        "meta.xml",
        "settings.xml",
        "Basic/script-lc.xml",
        "Basic/Standard/script-lb.xml",
        "Basic/Standard/Module1.xml",
    ] {
        entries.push_str(&format!(
            " <manifest:file-entry manifest:full-path=\"{path}\" manifest:media-type=\"text/xml\"/>\n"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" \
         manifest:version=\"{ODF_VERSION}\">\n{entries}</manifest:manifest>\n"
    )
}

/// `content.xml`: the OnLoad binding and an invoice-looking body that says
/// what the document really is.
///
/// The `ooo` namespace must be declared: the listener's language is
/// `ooo:script`, and LibreOffice silently drops a binding whose prefix it
/// cannot resolve. `dom:load` is the ODF name of the OnLoad event.
pub(crate) fn content(macro_url: &str, command_line: &str) -> String {
    let paragraphs = [
        "Northwind Office Supplies Ltd. · Accounts Receivable · 14 Harbour Road",
        "Invoice date: 17 April 2024 · Customer no. 20931 · Due: 1 May 2024",
        "Toner cartridges (12) and copier paper (40 reams): EUR 1,284.50 incl. VAT.",
        "This invoice is protected. If the amounts do not show, click \u{201c}Enable \
         Content\u{201d} in the yellow bar above.",
    ];
    let mut body =
        String::from("   <text:h text:outline-level=\"1\">Invoice INV-2024-0417</text:h>\n");
    for p in paragraphs {
        body.push_str(&format!("   <text:p>{}</text:p>\n", escape(p)));
    }
    body.push_str(&format!(
        "   <text:p>{}: this file is a chainproof purple-team simulation of ATT&amp;CK \
         T1204.002 (User Execution: Malicious File). It is not a real invoice. Its macro \
         only starts this harmless test command: {}</text:p>\n",
        super::BODY_MARKER,
        escape(command_line)
    ));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <office:document-content xmlns:office=\"{NS_OFFICE}\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" \
         xmlns:script=\"urn:oasis:names:tc:opendocument:xmlns:script:1.0\" \
         xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
         xmlns:dom=\"http://www.w3.org/2001/xml-events\" \
         xmlns:ooo=\"{ooo}\" office:version=\"{ODF_VERSION}\">\n \
         <office:scripts>\n  <office:event-listeners>\n   \
         <script:event-listener script:language=\"ooo:script\" script:event-name=\"dom:load\" \
         xlink:type=\"simple\" xlink:href=\"{href}\"/>\n  </office:event-listeners>\n \
         </office:scripts>\n <office:body>\n  <office:text>\n{body}  </office:text>\n \
         </office:body>\n</office:document-content>\n",
        ooo = super::NS_OOO,
        href = escape(macro_url),
    )
}

/// `styles.xml`: a default paragraph style, nothing else.
pub(crate) fn styles() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <office:document-styles xmlns:office=\"{NS_OFFICE}\" \
         xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" \
         xmlns:fo=\"urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0\" \
         office:version=\"{ODF_VERSION}\">\n <office:styles>\n  \
         <style:default-style style:family=\"paragraph\">\n   \
         <style:text-properties fo:font-size=\"11pt\"/>\n  </style:default-style>\n \
         </office:styles>\n</office:document-styles>\n"
    )
}

/// `meta.xml`: title, generator and fixed dates.
pub(crate) fn meta() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <office:document-meta xmlns:office=\"{NS_OFFICE}\" \
         xmlns:meta=\"urn:oasis:names:tc:opendocument:xmlns:meta:1.0\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" office:version=\"{ODF_VERSION}\">\n \
         <office:meta>\n  <meta:generator>LibreOffice/7.4.7.2$Linux_X86_64 LibreOffice_project/40$Build-2</meta:generator>\n  \
         <dc:title>Invoice INV-2024-0417</dc:title>\n  \
         <meta:creation-date>2024-04-17T09:00:00</meta:creation-date>\n  \
         <dc:date>2024-04-17T09:00:00</dc:date>\n </office:meta>\n</office:document-meta>\n"
    )
}

/// `settings.xml`: one view setting (the schema wants at least one set).
pub(crate) fn settings() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <office:document-settings xmlns:office=\"{NS_OFFICE}\" \
         xmlns:config=\"urn:oasis:names:tc:opendocument:xmlns:config:1.0\" \
         office:version=\"{ODF_VERSION}\">\n <office:settings>\n  \
         <config:config-item-set config:name=\"ooo:view-settings\">\n   \
         <config:config-item config:name=\"ViewAreaTop\" config:type=\"long\">0</config:config-item>\n  \
         </config:config-item-set>\n </office:settings>\n</office:document-settings>\n"
    )
}

/// `Basic/script-lc.xml`: the document's Basic library container.
pub(crate) fn script_lc() -> &'static str {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
     <!DOCTYPE library:libraries PUBLIC \"-//OpenOffice.org//DTD OfficeDocument 1.0//EN\" \
     \"libraries.dtd\">\n\
     <library:libraries xmlns:library=\"http://openoffice.org/2000/library\" \
     xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n \
     <library:library library:name=\"Standard\" library:link=\"false\"/>\n\
     </library:libraries>\n"
}

/// `Basic/Standard/script-lb.xml`: the library's single module.
pub(crate) fn script_lb() -> &'static str {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
     <!DOCTYPE library:library PUBLIC \"-//OpenOffice.org//DTD OfficeDocument 1.0//EN\" \
     \"library.dtd\">\n\
     <library:library xmlns:library=\"http://openoffice.org/2000/library\" \
     library:name=\"Standard\" library:readonly=\"false\" library:passwordprotected=\"false\">\n \
     <library:element library:name=\"Module1\"/>\n</library:library>\n"
}

/// `Basic/Standard/Module1.xml`: the macro source, XML-escaped.
pub(crate) fn module(source: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE script:module PUBLIC \"-//OpenOffice.org//DTD OfficeDocument 1.0//EN\" \
         \"module.dtd\">\n\
         <script:module xmlns:script=\"http://openoffice.org/2000/script\" \
         script:name=\"Module1\" script:language=\"StarBasic\" \
         script:moduleType=\"normal\">{}</script:module>\n",
        escape(source)
    )
}
