//! What counts as production code in a source file: comments and string
//! and char literals blanked, and items under a test-only `#[cfg(…)]`
//! blanked too. Blanking keeps every newline, so line numbers stay those of
//! the file.
//!
//! This is a scanner, not a parser: it knows enough Rust (nested block
//! comments, raw and byte strings, char literals versus lifetimes, bracket
//! nesting, where an attribute's item ends) for the code chainproof has.

/// `text` with comments and string and char literals replaced by spaces
/// (newlines kept). A string that is exactly a `crate::` path (serde's
/// `with = "crate::vocab::duration_text"`) is kept: it is a real reference.
pub fn blank(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = c.clone();
    let wipe = |out: &mut Vec<char>, from: usize, to: usize| {
        for ch in out.iter_mut().take(to).skip(from) {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            let end = (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len());
            wipe(&mut out, i, end);
            i = end;
        } else if c[i] == '/' && next == Some('*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < c.len() && depth > 0 {
                if c[j] == '/' && c.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 1;
                } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 1;
                }
                j += 1;
            }
            wipe(&mut out, i, j);
            i = j;
        } else if let Some(end) = raw_string_end(&c, i).filter(|_| i == 0 || !ident(c[i - 1])) {
            wipe(&mut out, i, end);
            i = end;
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            let body: String = c[i + 1..j.min(c.len())].iter().collect();
            let is_path =
                body.starts_with("crate::") && body.chars().all(|ch| ident(ch) || ch == ':');
            if !is_path {
                wipe(&mut out, i, j + 1);
            }
            i = j + 1;
        } else if c[i] == '\'' {
            // A char literal is `'x'` or `'\…'`; anything else is a lifetime.
            let end = if next == Some('\\') {
                (i + 2..c.len()).find(|&j| c[j] == '\'').map(|j| j + 1)
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    wipe(&mut out, i, end);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// Where a raw string (`r"…"`, `r#"…"#`, `br"…"`) starting at `i` ends.
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = c[j..].iter().take_while(|&&ch| ch == '#').count();
    j += hashes;
    if c.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < c.len() {
        if c[j] == '"'
            && c[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&h| h == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(c.len())
}

/// True for the predicate of a `#[cfg(…)]` that holds only under test:
/// `test`, or `all(…)` with `test` among its terms.
fn is_test_cfg(predicate: &str) -> bool {
    let p: String = predicate.chars().filter(|c| !c.is_whitespace()).collect();
    p == "test"
        || p.strip_prefix("all(")
            .and_then(|rest| rest.strip_suffix(')'))
            .is_some_and(|terms| top_level_terms(terms).iter().any(|(_, t)| *t == "test"))
}

/// The comma-separated terms of `s` outside brackets, with their offsets.
pub fn top_level_terms(s: &str) -> Vec<(usize, &str)> {
    let (mut depth, mut start, mut out) = (0, 0, Vec::new());
    for (i, ch) in s.char_indices() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push((start, &s[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push((start, &s[start..]));
    out
}

/// Blanks every item under a test-only `#[cfg(…)]` in already-blanked
/// `code`; returns the result and the names of test-only `mod x;`
/// declarations (their files are test code too).
pub fn strip_test_items(code: &str) -> (String, Vec<String>) {
    let c: Vec<char> = code.chars().collect();
    let mut out = c.clone();
    let mut test_mods = Vec::new();
    let mut i = 0;
    while let Some(at) = find(&c, i, "#[cfg(") {
        let open = at + "#[cfg".len();
        let close = matching(&c, open).unwrap_or(c.len());
        let predicate: String = c[open + 1..close.min(c.len())].iter().collect();
        if !is_test_cfg(&predicate) {
            i = close;
            continue;
        }
        // Further attributes belong to the same item.
        let mut j = close + 2;
        loop {
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            if c.get(j) == Some(&'#') && c.get(j + 1) == Some(&'[') {
                j = matching(&c, j + 1).map_or(c.len(), |e| e + 1);
            } else {
                break;
            }
        }
        let item_start = j;
        let head: String = c[item_start..(item_start + 200).min(c.len())]
            .iter()
            .collect();
        if let Some(name) = declared_mod(&head) {
            test_mods.push(name);
        }
        // An item ends at `;` or its closing brace; a variant, field, match
        // arm or list element also at its `,`, or before the bracket that
        // closes the list it sits in. (Generics are not tracked, so a comma
        // ends only what cannot have them.)
        let comma_ends = !starts_item(&head);
        let mut depth = 0i32;
        while j < c.len() {
            match c[j] {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' => depth -= 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    j += 1;
                    break;
                }
                ',' if depth == 0 && comma_ends => {
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        for ch in out.iter_mut().take(j).skip(at) {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = j;
    }
    (out.into_iter().collect(), test_mods)
}

/// Whether `head` starts an item (a `fn`, `mod`, `impl`…, after any
/// visibility and qualifiers) rather than a variant, field or expression.
fn starts_item(head: &str) -> bool {
    const KEYWORDS: [&str; 13] = [
        "fn",
        "mod",
        "impl",
        "use",
        "struct",
        "enum",
        "union",
        "trait",
        "type",
        "const",
        "static",
        "macro_rules!",
        "extern",
    ];
    let mut words = head.split_whitespace().peekable();
    while let Some(w) =
        words.next_if(|w| w.starts_with("pub") || matches!(*w, "unsafe" | "async" | "default"))
    {
        // `pub(crate)` may be split as `pub(in` `crate::x)`.
        if w.starts_with("pub(") && !w.ends_with(')') {
            while words.next_if(|w| !w.ends_with(')')).is_some() {}
            words.next();
        }
    }
    words.next().is_some_and(|w| {
        KEYWORDS.iter().any(|k| {
            w == *k
                || (w.starts_with(k)
                    && !w[k.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        })
    })
}

/// `x` when `head` starts with `mod x;` (with any visibility).
fn declared_mod(head: &str) -> Option<String> {
    let mut rest = head.trim_start();
    if let Some(r) = rest.strip_prefix("pub") {
        rest = r.trim_start();
        if rest.starts_with('(') {
            rest = &rest[rest.find(')')? + 1..];
        }
    }
    let rest = rest.trim_start().strip_prefix("mod ")?.trim_start();
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    rest[name.len()..]
        .trim_start()
        .starts_with(';')
        .then_some(name)
}

fn find(c: &[char], from: usize, needle: &str) -> Option<usize> {
    let n: Vec<char> = needle.chars().collect();
    (from..c.len().saturating_sub(n.len() - 1)).find(|&i| c[i..i + n.len()] == n[..])
}

/// Index of the bracket closing the one at `open`.
pub fn matching(c: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, &ch) in c.iter().enumerate().skip(open) {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}
