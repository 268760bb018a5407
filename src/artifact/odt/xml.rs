//! Just enough XML for the documents this module writes: escaping on the way
//! out; on the way back, finding a start tag's attributes and an element's
//! text. It is not a general XML parser (no DTD entities, no CDATA): it reads
//! what [`super::build`] writes and what LibreOffice writes for the same parts.

/// Escapes text for element content (attribute values written by this module
/// are constants; a parser would fold a literal tab or line feed in one).
///
/// Characters XML 1.0 cannot hold at all (controls other than tab, line feed
/// and carriage return, U+FFFE, U+FFFF) become U+FFFD: they only occur in
/// human-readable parts, never in the macro source, which spells them with
/// `Chr()`. Line ends are written as references so a parser keeps them.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() && u32::from(c) < 0x20 => out.push('\u{fffd}'),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Resolves the predefined entities and character references.
pub(crate) fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after
            .find(';')
            .ok_or_else(|| format!("unterminated reference near {:?}", truncate(after)))?;
        let name = &after[..semi];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown reference &{name};"))?
            }
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn truncate(text: &str) -> &str {
    text.char_indices()
        .nth(20)
        .map_or(text, |(i, _)| &text[..i])
}

/// The attributes of every start tag named `tag`, unescaped, in order.
pub(crate) fn start_tags(doc: &str, tag: &str) -> Result<Vec<Vec<(String, String)>>, String> {
    let open = format!("<{tag}");
    let mut found = Vec::new();
    let mut rest = doc;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        rest = after;
        // `<tagx` is another element.
        if !after.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            continue;
        }
        let end = after
            .find('>')
            .ok_or_else(|| format!("unterminated <{tag}>"))?;
        found.push(attributes(after[..end].trim_end_matches('/'))?);
        rest = &after[end + 1..];
    }
    Ok(found)
}

fn attributes(mut text: &str) -> Result<Vec<(String, String)>, String> {
    let mut attrs = Vec::new();
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return Ok(attrs);
        }
        let eq = text
            .find('=')
            .ok_or_else(|| format!("attribute without value: {text:?}"))?;
        let name = text[..eq].trim().to_owned();
        let value_part = text[eq + 1..].trim_start();
        let quote = value_part
            .chars()
            .next()
            .filter(|q| *q == '"' || *q == '\'')
            .ok_or_else(|| format!("unquoted value of {name}"))?;
        let close = value_part[1..]
            .find(quote)
            .ok_or_else(|| format!("unterminated value of {name}"))?;
        attrs.push((name, unescape(&value_part[1..=close])?));
        text = &value_part[close + 2..];
    }
}

/// The unescaped text content of the first element named `tag`, which must
/// hold only text.
pub(crate) fn element_text(doc: &str, tag: &str) -> Result<String, String> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let start = doc
        .find(&open)
        .ok_or_else(|| format!("no <{tag}> element"))?;
    let after = &doc[start + open.len()..];
    let gt = after
        .find('>')
        .ok_or_else(|| format!("unterminated <{tag}>"))?;
    if after[..gt].ends_with('/') {
        return Ok(String::new());
    }
    let body = &after[gt + 1..];
    let end = body.find(&close).ok_or_else(|| format!("no </{tag}>"))?;
    let body = &body[..end];
    if body.contains('<') {
        return Err(format!("<{tag}> holds markup, expected plain text"));
    }
    // XML parsers turn literal CR LF and lone CR into LF.
    unescape(&body.replace("\r\n", "\n").replace('\r', "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_unescape_round_trip() {
        for text in ["", "a<b>&\"c'", "tab\tnl\ncr\r", "日本 😀"] {
            assert_eq!(unescape(&escape(text)).unwrap(), text);
        }
        assert_eq!(escape("a\u{1}b\u{ffff}"), "a\u{fffd}b\u{fffd}");
        assert_eq!(unescape("&#65;&#x42;&#x1F600;").unwrap(), "AB😀");
        assert!(unescape("&bogus;").is_err());
        assert!(unescape("a & b").is_err());
    }

    #[test]
    fn finds_tags_and_text() {
        let doc = "<r><a:b x=\"1&amp;2\" y='z'/><a:bc q=\"no\"/><a:b\n  x=\"3\">t</a:b>\
                   <m:t k=\"v\">line1\r\nline2 &lt;3</m:t></r>";
        let tags = start_tags(doc, "a:b").unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!(
            tags[0],
            vec![("x".into(), "1&2".into()), ("y".into(), "z".into())]
        );
        assert_eq!(tags[1], vec![("x".into(), "3".into())]);
        assert_eq!(element_text(doc, "m:t").unwrap(), "line1\nline2 <3");
        assert!(element_text(doc, "r").is_err());
        assert!(element_text(doc, "none").is_err());
    }
}
