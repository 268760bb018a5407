//! A linear pre-parse check of YAML nesting depth.
//!
//! The YAML scanner under serde_yaml_ng re-examines every open flow level
//! for each token, so a document of N nested `[`/`{` costs N² steps: 50,000
//! nested flow mappings (250 KB) take 19 s to be refused, 500 KB over 200 s.
//! [`check`] counts nesting in one pass and refuses a text deeper than
//! [`MAX_DEPTH`] before the parser sees it, naming the line and column where
//! the limit is passed.
//!
//! Depth is the number of open flow collections plus the number of block
//! indentation levels, where each `- ` of a block sequence adds one more
//! level for its item (so `- - x` is three deep).
//! Quoted scalars, block scalars (`|`, `>`) and comments are skipped, so a
//! `[` or an indented line inside them counts for nothing. The scan is
//! deliberately simple and errs towards counting: it recognises a quote, a
//! flow opener or a block scalar only where a YAML value can start, as the
//! parser does, so `it's` or `a[1]` in a plain scalar open nothing.

mod parse;

pub use parse::{YamlError, location, parse};

/// Deepest nesting accepted. The shipped scenarios, configs and Sigma rules
/// nest at most 8 levels; the margin leaves room for hand-written files.
pub const MAX_DEPTH: usize = 64;

/// Where and why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("nesting deeper than {limit} levels (the limit for any YAML file the harness reads)")]
pub struct TooDeep {
    /// 1-based line where the limit was passed.
    pub line: usize,
    /// 1-based column (in characters) where the limit was passed.
    pub column: usize,
    /// The limit, [`MAX_DEPTH`].
    pub limit: usize,
}

/// Refuses `text` when it nests deeper than [`MAX_DEPTH`].
pub fn check(text: &str) -> Result<(), TooDeep> {
    check_with(text, MAX_DEPTH)
}

/// The field a `serde_path_to_error` path names, for messages: `(document)`
/// at the root, and for a syntax error, whose path ends in an unknown step
/// (`?`), the nearest key reached; never `?`.
pub fn field_name(path: &str) -> String {
    let known: Vec<&str> = path
        .split('.')
        .take_while(|segment| !segment.starts_with('?'))
        .filter(|segment| !segment.is_empty())
        .collect();
    if known.is_empty() {
        "(document)".to_string()
    } else {
        known.join(".")
    }
}

fn check_with(text: &str, limit: usize) -> Result<(), TooDeep> {
    let mut s = Scan {
        limit,
        indents: Vec::new(),
        flow: 0,
        quote: None,
        block_scalar: None,
    };
    for (i, line) in text.split('\n').enumerate() {
        s.line(i + 1, line.strip_suffix('\r').unwrap_or(line))?;
    }
    Ok(())
}

struct Scan {
    limit: usize,
    /// Columns of the open block levels, increasing.
    indents: Vec<usize>,
    /// Open flow collections.
    flow: usize,
    /// Inside a quoted scalar that continues on the next line.
    quote: Option<char>,
    /// Inside a block scalar whose parent line is indented this much.
    block_scalar: Option<usize>,
}

impl Scan {
    fn too_deep(&self, line: usize, column: usize) -> Result<(), TooDeep> {
        if self.indents.len() + self.flow > self.limit {
            return Err(TooDeep {
                line,
                column: column + 1,
                limit: self.limit,
            });
        }
        Ok(())
    }

    fn line(&mut self, number: usize, line: &str) -> Result<(), TooDeep> {
        let chars: Vec<char> = line.chars().collect();
        let indent = chars.iter().take_while(|c| **c == ' ').count();
        let blank = chars[indent..]
            .iter()
            .all(|c| c.is_whitespace() || *c == '#')
            || chars.get(indent) == Some(&'#');
        if let Some(parent) = self.block_scalar {
            if blank || indent > parent {
                return Ok(());
            }
            self.block_scalar = None;
        }
        let mut i = 0;
        let mut value_start = true;
        if self.quote.is_none() && self.flow == 0 {
            if blank {
                return Ok(());
            }
            // A new block line: close the levels it is left of, open its own.
            while self.indents.last().is_some_and(|&top| top > indent) {
                self.indents.pop();
            }
            if self.indents.last().is_none_or(|&top| top < indent) {
                self.indents.push(indent);
                self.too_deep(number, indent)?;
            }
            i = indent;
            // Each `- ` of a compact sequence (`- - - x`) is one more level.
            while chars.get(i) == Some(&'-') && chars.get(i + 1).is_none_or(|c| *c == ' ') {
                i += 1;
                while chars.get(i) == Some(&' ') {
                    i += 1;
                }
                if i < chars.len() {
                    self.indents.push(i);
                    self.too_deep(number, i)?;
                }
            }
        }
        while i < chars.len() {
            let c = chars[i];
            if let Some(q) = self.quote {
                i = self.in_quote(&chars, i, q);
                value_start = false;
                continue;
            }
            let before_space = i == 0 || chars[i - 1] == ' ' || chars[i - 1] == '\t';
            match c {
                '#' if before_space => break,
                '"' | '\'' if value_start => {
                    self.quote = Some(c);
                    i += 1;
                    continue;
                }
                '[' | '{' if value_start || self.flow > 0 => {
                    self.flow += 1;
                    self.too_deep(number, i)?;
                    value_start = true;
                }
                ']' | '}' if self.flow > 0 => {
                    self.flow -= 1;
                    value_start = false;
                }
                ',' if self.flow > 0 => value_start = true,
                '|' | '>' if value_start && self.flow == 0 => {
                    self.block_scalar = Some(indent);
                    break;
                }
                ':' if self.flow > 0 || chars.get(i + 1).is_none_or(|n| *n == ' ') => {
                    value_start = true;
                }
                '-' | '?' if value_start && chars.get(i + 1).is_none_or(|n| *n == ' ') => {}
                // An anchor, alias or tag leaves the value still to come.
                '&' | '*' | '!' if value_start => {
                    while i < chars.len() && chars[i] != ' ' {
                        i += 1;
                    }
                    continue;
                }
                ' ' | '\t' => {}
                _ => value_start = false,
            }
            i += 1;
        }
        Ok(())
    }

    /// Consumes a quoted scalar from `i`; returns where scanning resumes.
    fn in_quote(&mut self, chars: &[char], mut i: usize, q: char) -> usize {
        while i < chars.len() {
            match chars[i] {
                '\\' if q == '"' => i += 2,
                '\'' if q == '\'' && chars.get(i + 1) == Some(&'\'') => i += 2,
                c if c == q => {
                    self.quote = None;
                    return i + 1;
                }
                _ => i += 1,
            }
        }
        chars.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_error(text: &str, limit: usize) -> Option<(usize, usize)> {
        check_with(text, limit).err().map(|e| (e.line, e.column))
    }

    #[test]
    fn flow_nesting_is_counted_where_it_passes_the_limit() {
        assert_eq!(depth_error("a: [[[1]]]\n", 3), Some((1, 6)));
        assert_eq!(depth_error("a: [[1]]\n", 3), None);
        assert_eq!(depth_error("a: {b: {c: {d: 1}}}\n", 3), Some((1, 12)));
        assert_eq!(depth_error("a:\n  - [1, [2]]\n", 3), Some((2, 5)));
        let hostile = format!("x: {}", "{a: ".repeat(100_000));
        assert_eq!(depth_error(&hostile, MAX_DEPTH), Some((1, 256)));
    }

    #[test]
    fn block_indentation_and_compact_sequences_are_counted() {
        assert_eq!(
            depth_error("a:\n  b:\n    c:\n      d: 1\n", 3),
            Some((4, 7))
        );
        assert_eq!(depth_error("a:\n  b:\n    c: 1\nd:\n  e: 1\n", 3), None);
        assert_eq!(depth_error("- - - - x\n", 3), Some((1, 7)));
    }

    #[test]
    fn quotes_comments_and_block_scalars_open_nothing() {
        for text in [
            "a: '[[[[['\n",
            "a: \"{{{{{\\\"[[[\"\n",
            "a: 'it''s [[[['\n",
            "a: x # [[[[[\n",
            "a: it's [[[[[ plain\n",
            "a: b[[[[[\n",
            "a: |\n  [[[[[\n      deep\n          deeper\n            deepest\nb: 1\n",
            "a: \"multi\n  [[[[[ line\"\nb: 1\n",
        ] {
            assert_eq!(depth_error(text, 3), None, "{text:?}");
        }
        // After a block scalar ends, counting resumes.
        assert_eq!(depth_error("a: >\n  x\nb: [[[[1]]]]\n", 3), Some((3, 6)));
        // A quote inside a plain scalar does not hide what follows.
        assert_eq!(depth_error("a: it's\nb: [[[[1]]]]\n", 3), Some((2, 6)));
    }

    #[test]
    fn field_names_never_say_question_mark() {
        for (path, want) in [
            (".", "(document)"),
            ("?", "(document)"),
            ("variants.linux.?", "variants.linux"),
            ("variants.?.chain", "variants"),
            ("variants.linux.chain[0].run", "variants.linux.chain[0].run"),
        ] {
            assert_eq!(field_name(path), want, "{path}");
        }
    }

    /// Every SigmaHQ rule passes the rule limits (the corpus lies beside
    /// the project as `../shared/sigmahq`; CI must have it).
    #[test]
    fn the_sigmahq_corpus_passes() {
        let Some(root) = crate::testing::require_shared("sigmahq") else {
            return;
        };
        let mut stack = vec![root];
        let mut files = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yml") {
                    let text = crate::intake::read_text(&path, crate::intake::Kind::Rule);
                    let text = text.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    assert_eq!(check(&text), Ok(()), "{}", path.display());
                    files += 1;
                }
            }
        }
        assert!(files > 3000, "only {files} rules found");
    }

    #[test]
    fn shipped_yaml_passes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in ["scenarios", "detections", "examples", "ci"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if !matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                ) {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                assert_eq!(check_with(&text, 10), Ok(()), "{}", path.display());
            }
        }
    }
}
