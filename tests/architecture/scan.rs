//! Reading the library's sources as the architecture check sees them: test
//! files dropped, the rest reduced to production code ([`crate::code`]),
//! and every path that names another top-level module (or a confined crate)
//! collected with its file and line: `crate::x`, `super::…::x` climbing to
//! the root, `use crate::{x, y}`, `clap::…`. Doc links and prose in
//! comments are not arrows and are not counted.

use std::collections::BTreeSet;
use std::path::Path;

use crate::code::{blank, matching, strip_test_items, top_level_terms};

/// One source file, its path relative to `src/` with `/` separators.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// One reference from code in `file` (module `from`) to module `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ref {
    pub file: String,
    pub line: usize,
    pub from: String,
    pub to: String,
}

/// Every `.rs` file below `dir`, sorted by path.
pub fn read_tree(dir: &Path) -> std::io::Result<Vec<Source>> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Source>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(Source {
                path: rel.join("/"),
                text: std::fs::read_to_string(&path)?,
            });
        }
    }
    Ok(())
}

/// Files that are test code by name: `tests.rs`, `*_tests.rs`, `test_*.rs`,
/// or anything under a `tests/` folder.
pub fn is_test_file(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().unwrap_or_default();
    name == "tests.rs"
        || name.ends_with("_tests.rs")
        || name.starts_with("test_")
        || parts.contains(&"tests")
}

/// The top-level module a file belongs to (`stage.rs` → `stage`,
/// `replay/input/json.rs` → `replay`); `None` for the crate roots.
pub fn top_module(path: &str) -> Option<String> {
    let first = path.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The module path of a file inside the crate (`replay/input/json.rs` →
/// `[replay, input, json]`, `replay/mod.rs` → `[replay]`).
fn module_path(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path.split('/').map(str::to_string).collect();
    if let Some(last) = parts.pop() {
        let stem = last.strip_suffix(".rs").unwrap_or(&last).to_string();
        if !matches!(stem.as_str(), "mod" | "lib" | "main") {
            parts.push(stem);
        }
    }
    parts
}

/// References from production code of `sources` to the top-level modules
/// `modules` and to the confined `crates`, self-references dropped.
pub fn references(
    sources: &[Source],
    modules: &BTreeSet<String>,
    crates: &BTreeSet<String>,
) -> Vec<Ref> {
    let mut cleaned = Vec::new();
    let mut test_files: BTreeSet<String> = BTreeSet::new();
    for s in sources {
        let (code, mods) = strip_test_items(&blank(&s.text));
        // The folder holding the files of this file's child modules.
        let dir = match s.path.as_str() {
            "lib.rs" | "main.rs" => String::new(),
            p => p
                .strip_suffix("/mod.rs")
                .unwrap_or_else(|| p.trim_end_matches(".rs"))
                .to_string(),
        };
        for m in mods {
            let base = if dir.is_empty() {
                m
            } else {
                format!("{dir}/{m}")
            };
            test_files.insert(format!("{base}.rs"));
            test_files.insert(format!("{base}/"));
        }
        cleaned.push((s, code));
    }
    let excluded = |p: &str| {
        is_test_file(p)
            || test_files.contains(p)
            || test_files
                .iter()
                .any(|t| t.ends_with('/') && p.starts_with(t.as_str()))
    };
    let mut out = Vec::new();
    for (s, code) in cleaned {
        let Some(from) = top_module(&s.path) else {
            continue;
        };
        if excluded(&s.path) {
            continue;
        }
        for (line, to) in paths_in(&code, &module_path(&s.path), modules, crates) {
            if to != from {
                out.push(Ref {
                    file: s.path.clone(),
                    line,
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `(line, name)` of every path in `code` that starts at the crate root
/// (`crate::x`, `$crate::x`, `super::…::x` climbing to the root, `use
/// crate::{x, y::z}`) naming one of `modules`, or that starts with one of
/// `crates` (`clap::ValueEnum`). `at` is the file's module path.
///
/// A `super::` inside an inline `mod m { … }` is resolved as if it were at
/// the file's level: no production code climbs out of an inline module to
/// the crate root today, and the cost of a mistake is a false alarm.
fn paths_in(
    code: &str,
    at: &[String],
    modules: &BTreeSet<String>,
    crates: &BTreeSet<String>,
) -> Vec<(usize, String)> {
    let c: Vec<char> = code.chars().collect();
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < c.len() {
        if c[i] == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        let starts_word = i == 0 || !(ident(c[i - 1]) || c[i - 1] == ':');
        if !starts_word || !ident(c[i]) {
            i += 1;
            continue;
        }
        let word: String = c[i..].iter().take_while(|&&ch| ident(ch)).collect();
        let mut j = i + word.len();
        let mut segments = vec![word.clone()];
        while c.get(j) == Some(&':') && c.get(j + 1) == Some(&':') {
            j += 2;
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            if c.get(j) == Some(&'{') {
                let end = matching(&c, j).unwrap_or(c.len());
                let group: String = c[j + 1..end].iter().collect();
                let heads = group_heads(&group);
                let names: Vec<String> = heads.iter().map(|(_, n)| n.clone()).collect();
                if crates.contains(&segments[0]) {
                    out.push((line, segments[0].clone()));
                } else if let Some(found) = root_names(&segments, at, &names) {
                    // Each name of a group is reported on its own line.
                    let line_of = |name: &str| {
                        heads
                            .iter()
                            .find(|(_, n)| n == name)
                            .map_or(line, |(offset, _)| {
                                line + group[..*offset].matches('\n').count()
                            })
                    };
                    for name in found.into_iter().filter(|n| modules.contains(n)) {
                        out.push((line_of(&name), name));
                    }
                }
                segments.clear();
                break;
            }
            let seg: String = c[j..].iter().take_while(|&&ch| ident(ch)).collect();
            if seg.is_empty() {
                break;
            }
            j += seg.len();
            segments.push(seg);
        }
        if segments.len() >= 2 {
            let name = if crates.contains(&segments[0]) {
                Some(segments[0].clone())
            } else {
                root_names(
                    &segments[..segments.len() - 1],
                    at,
                    &segments[segments.len() - 1..],
                )
                .and_then(|v| v.into_iter().next())
                .filter(|n| modules.contains(n))
            };
            if let Some(name) = name {
                out.push((line, name));
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// The first segment after the crate root, for a path whose leading
/// segments are `prefix` followed by each of `next`: `crate` (or `$crate`)
/// is the root; `super` climbs one level from the file's module `at`.
/// `None` when the path does not reach the root.
fn root_names(prefix: &[String], at: &[String], next: &[String]) -> Option<Vec<String>> {
    let first = prefix.first()?;
    let rest: &[String] = if first == "crate" {
        &prefix[1..]
    } else if first == "super" {
        let ups = prefix.iter().take_while(|s| *s == "super").count();
        if ups < at.len() {
            return None;
        }
        &prefix[ups..]
    } else {
        return None;
    };
    Some(match rest.first() {
        Some(top) => vec![top.clone()],
        None => next.to_vec(),
    })
}

/// The first identifier of each comma-separated term of a `use` group,
/// with its byte offset in `group`.
fn group_heads(group: &str) -> Vec<(usize, String)> {
    top_level_terms(group)
        .into_iter()
        .filter_map(|(start, term)| {
            let trimmed = term.trim_start();
            let offset = start + term.len() - trimmed.len();
            let name: String = trimmed
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && name != "self").then_some((offset, name))
        })
        .collect()
}
