//! LibreOffice Basic: writing string expressions and reading back the
//! arguments of a `Shell()` call.
//!
//! A Basic string literal is `"..."` with `"` doubled, and cannot span lines.
//! Characters that are invisible, line breaks, or not allowed in XML 1.0 are
//! written as `Chr(n)` instead and joined with `&` (`Chr` accepts 0..=65535
//! and yields one UTF-16 unit; `ChrW` is *not* usable: LibreOffice 7.4 raises
//! an error for it outside VBA mode). Characters outside the BMP are written
//! literally, which LibreOffice passes through intact.
//!
//! The reader understands what the writer produces and a little more: string
//! literals, decimal numbers, `Chr`/`Chr$` calls, `&` and `+` concatenation,
//! parentheses, `'` and `REM` comments and `_` line continuations. It is not
//! a Basic interpreter: variables or other functions are reported as errors
//! rather than guessed at.

use crate::artifact::ArtifactError;

/// Writes `text` as a Basic string expression.
pub(crate) fn string_expr(text: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut literal = String::new();
    for c in text.chars() {
        if needs_chr(c) {
            if !literal.is_empty() {
                parts.push(format!("\"{}\"", std::mem::take(&mut literal)));
            }
            parts.push(format!("Chr({})", u32::from(c)));
        } else if c == '"' {
            literal.push_str("\"\"");
        } else {
            literal.push(c);
        }
    }
    if !literal.is_empty() || parts.is_empty() {
        parts.push(format!("\"{literal}\""));
    }
    parts.join(" & ")
}

fn needs_chr(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// A value of the tiny expression language: a string or a number.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// UTF-16, as Basic holds strings (`Chr` may build surrogate pairs).
    Str(Vec<u16>),
    /// A whole number.
    Num(i64),
}

impl Value {
    /// The value as Basic converts it to a string.
    pub(crate) fn into_utf16(self) -> Vec<u16> {
        match self {
            Value::Str(s) => s,
            Value::Num(n) => n.to_string().encode_utf16().collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(Vec<u16>),
    Num(i64),
    Punct(char),
    Newline,
}

fn syntax(offset: usize, detail: impl Into<String>) -> ArtifactError {
    ArtifactError::Basic {
        offset,
        detail: detail.into(),
    }
}

fn lex(source: &str) -> Result<Vec<(usize, Tok)>, ArtifactError> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_line = |mut i: usize| {
        while i < chars.len() && chars[i] != '\n' {
            i += 1;
        }
        i
    };
    while let Some(&c) = chars.get(i) {
        let start = i;
        match c {
            '\n' => {
                out.push((start, Tok::Newline));
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '\'' => i = skip_line(i),
            '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        Some('"') if chars.get(i + 1) == Some(&'"') => {
                            text.push('"');
                            i += 2;
                        }
                        Some('"') => break,
                        Some('\n') | None => return Err(syntax(start, "unterminated string")),
                        Some(&c) => {
                            text.push(c);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push((start, Tok::Str(text.encode_utf16().collect())));
            }
            c if c.is_ascii_digit() => {
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let digits: String = chars[start..i].iter().collect();
                let n = digits
                    .parse()
                    .map_err(|_| syntax(start, "number out of range"))?;
                out.push((start, Tok::Num(n)));
            }
            c if c.is_alphabetic() || c == '_' => {
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                if chars.get(i) == Some(&'$') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let rest_blank = || {
                    let end = skip_line(i);
                    chars[i..end].iter().all(|c| c.is_whitespace())
                };
                if word.eq_ignore_ascii_case("rem") {
                    i = skip_line(i);
                } else if word == "_" && rest_blank() {
                    // Line continuation: swallow the line break too.
                    i = skip_line(i) + 1;
                } else {
                    out.push((start, Tok::Ident(word)));
                }
            }
            c => {
                out.push((start, Tok::Punct(c)));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Finds the first `Shell(...)` call inside `Sub <macro_name>` and evaluates
/// its arguments.
///
/// Returns `Ok(None)` when the Sub exists but holds no `Shell()` call.
pub(crate) fn shell_call_args(
    source: &str,
    macro_name: &str,
) -> Result<Option<Vec<Value>>, ArtifactError> {
    let toks = lex(source)?;
    let is_ident = |t: Option<&(usize, Tok)>, word: &str| matches!(t, Some((_, Tok::Ident(w))) if w.eq_ignore_ascii_case(word));
    let body_start = (0..toks.len())
        .find(|&i| {
            let at_line_start = i == 0 || toks[i - 1].1 == Tok::Newline;
            at_line_start && is_ident(toks.get(i), "sub") && is_ident(toks.get(i + 1), macro_name)
        })
        .ok_or_else(|| syntax(source.chars().count(), format!("no sub named {macro_name}")))?;
    let mut i = body_start + 2;
    while i < toks.len() {
        if is_ident(toks.get(i), "end") && is_ident(toks.get(i + 1), "sub") {
            return Ok(None);
        }
        if is_ident(toks.get(i), "shell") && matches!(toks.get(i + 1), Some((_, Tok::Punct('(')))) {
            let mut parser = Parser {
                toks: &toks,
                pos: i + 2,
                end: source.chars().count(),
            };
            return parser.call_args().map(Some);
        }
        i += 1;
    }
    Err(syntax(
        source.chars().count(),
        format!("sub {macro_name} has no end sub"),
    ))
}

struct Parser<'a> {
    toks: &'a [(usize, Tok)],
    pos: usize,
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(o, _)| *o)
    }

    fn expect(&mut self, c: char) -> Result<(), ArtifactError> {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            Ok(())
        } else {
            Err(syntax(self.offset(), format!("expected {c:?}")))
        }
    }

    /// Arguments after `Shell(`, through the closing parenthesis.
    fn call_args(&mut self) -> Result<Vec<Value>, ArtifactError> {
        let mut args = vec![self.expr()?];
        while self.peek() == Some(&Tok::Punct(',')) {
            self.pos += 1;
            args.push(self.expr()?);
        }
        self.expect(')')?;
        Ok(args)
    }

    fn expr(&mut self) -> Result<Value, ArtifactError> {
        let mut value = self.term()?;
        while let Some(Tok::Punct(op @ ('&' | '+'))) = self.peek().cloned() {
            let at = self.offset();
            self.pos += 1;
            let rhs = self.term()?;
            value = match (op, value, rhs) {
                ('+', Value::Num(a), Value::Num(b)) => {
                    Value::Num(a.checked_add(b).ok_or_else(|| syntax(at, "overflow"))?)
                }
                ('+', Value::Str(mut a), Value::Str(b)) => {
                    a.extend(b);
                    Value::Str(a)
                }
                ('+', _, _) => return Err(syntax(at, "+ mixes a number and a string")),
                (_, a, b) => {
                    let mut a = a.into_utf16();
                    a.extend(b.into_utf16());
                    Value::Str(a)
                }
            };
        }
        Ok(value)
    }

    fn term(&mut self) -> Result<Value, ArtifactError> {
        let at = self.offset();
        let tok = self.peek().cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Str(s)) => Ok(Value::Str(s)),
            Some(Tok::Num(n)) => Ok(Value::Num(n)),
            Some(Tok::Punct('-')) => match self.term()? {
                Value::Num(n) => Ok(Value::Num(-n)),
                Value::Str(_) => Err(syntax(at, "cannot negate a string")),
            },
            Some(Tok::Punct('(')) => {
                let value = self.expr()?;
                self.expect(')')?;
                Ok(value)
            }
            Some(Tok::Ident(name))
                if name.eq_ignore_ascii_case("chr") || name.eq_ignore_ascii_case("chr$") =>
            {
                self.expect('(')?;
                let code = self.expr()?;
                self.expect(')')?;
                match code {
                    Value::Num(n) => u16::try_from(n)
                        .map(|unit| Value::Str(vec![unit]))
                        .map_err(|_| syntax(at, format!("chr({n}) is outside 0..=65535"))),
                    Value::Str(_) => Err(syntax(at, "chr() of a string")),
                }
            }
            Some(other) => Err(syntax(at, format!("unsupported expression {other:?}"))),
            None => Err(syntax(at, "unexpected end of module")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::Str(text.encode_utf16().collect())
    }

    #[test]
    fn string_expr_escapes() {
        let table = [
            ("", "\"\""),
            ("plain", "\"plain\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("a\nb", "\"a\" & Chr(10) & \"b\""),
            ("\t", "Chr(9)"),
            ("x\r\n", "\"x\" & Chr(13) & Chr(10)"),
            ("é😀", "\"é😀\""),
            ("\u{2028}", "Chr(8232)"),
        ];
        for (text, expected) in table {
            assert_eq!(string_expr(text), expected, "{text:?}");
        }
    }

    #[test]
    fn reads_back_what_it_writes() {
        let texts = [
            "",
            "a \"b\" 'c'",
            "x\ny\tz\u{7}",
            "日本 😀 \u{feff}",
            "\"\"\"\"",
        ];
        for text in texts {
            let source = format!(
                "REM header\nSub AutoOpen\n  Dim n As Long\n  n = Shell(\"/bin/p\", 0, {})\nEnd Sub\n",
                string_expr(text)
            );
            let args = shell_call_args(&source, "AutoOpen").unwrap().unwrap();
            assert_eq!(args, vec![s("/bin/p"), Value::Num(0), s(text)], "{source}");
        }
    }

    #[test]
    fn understands_hand_written_basic() {
        let source = "' comment with Shell(\"no\")\nsub Other\n Shell(\"/wrong\")\nend sub\n\
                      SUB AutoOpen ' here\n  rem Shell(\"/no\")\n  \
                      x = SHELL(\"/bin/\" + \"sh\", 1 + 1, \"-c \" & _\n    Chr$(34) & 4 & Chr(34))\nEnd Sub";
        let args = shell_call_args(source, "autoopen").unwrap().unwrap();
        assert_eq!(args, vec![s("/bin/sh"), Value::Num(2), s("-c \"4\"")]);
    }

    #[test]
    fn reports_what_it_cannot_read() {
        let cases = [
            (
                "Sub AutoOpen\n Shell(cmd)\nEnd Sub",
                "unsupported expression",
            ),
            ("Sub AutoOpen\n Shell(\"x)\nEnd Sub", "unterminated string"),
            (
                "Sub AutoOpen\n Shell(Chr(70000))\nEnd Sub",
                "outside 0..=65535",
            ),
            ("Sub AutoOpen\n Shell(\"x\"", "expected ')'"),
            ("Sub Other\nEnd Sub", "no sub named AutoOpen"),
            ("Sub AutoOpen\n x = 1\n", "no end sub"),
        ];
        for (source, needle) in cases {
            match shell_call_args(source, "AutoOpen") {
                Err(ArtifactError::Basic { detail, .. }) => {
                    assert!(detail.contains(needle), "{source:?}: {detail}")
                }
                other => panic!("{source:?}: {other:?}"),
            }
        }
        assert_eq!(
            shell_call_args("Sub AutoOpen\nEnd Sub", "AutoOpen").unwrap(),
            None
        );
    }
}
