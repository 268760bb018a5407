//! The module map of `docs/architecture.md`, parsed, and the check of a
//! source tree against it.
//!
//! The map is two Markdown tables between HTML comments, so the page a
//! reader opens is the very data the test enforces:
//!
//! - `<!-- map:begin -->` … `<!-- map:end -->`: one row per top-level
//!   module, `| layer | module | owns | may use |`. The layer is a number,
//!   or `crate` for an external crate only the modules that list it may
//!   name. "May use" lists modules in backticks and/or says `any lower
//!   layer`.
//! - `<!-- exceptions:begin -->` … `<!-- exceptions:end -->`: arrows the map
//!   forbids but the tree still has, `| from | to | file | removed when |`,
//!   each allowed from that one file only.

use std::collections::{BTreeMap, BTreeSet};

use crate::scan::{Ref, Source, references, top_module};

/// One module's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its layer; `None` for a confined crate.
    pub layer: Option<u32>,
    /// Modules (and confined crates) it names explicitly.
    pub may_use: BTreeSet<String>,
    /// Whether it may use every module of a lower layer.
    pub any_lower: bool,
}

/// A forbidden arrow tolerated from one file until it is removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub from: String,
    pub to: String,
    /// Path from the repository root, e.g. `src/backend/mod.rs`.
    pub file: String,
}

/// The parsed map.
#[derive(Debug, Default)]
pub struct Map {
    pub rows: BTreeMap<String, Row>,
    pub exceptions: Vec<Exception>,
}

/// The names in backticks in a table cell.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The body rows of the table between `<!-- {name}:begin -->` and
/// `<!-- {name}:end -->`, split into trimmed cells.
fn table(doc: &str, name: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let start = doc
        .lines()
        .position(|l| l.trim() == begin)
        .ok_or_else(|| format!("docs/architecture.md has no `{begin}` line"))?;
    let mut rows = Vec::new();
    for (i, line) in doc.lines().enumerate().skip(start + 1) {
        let line = line.trim();
        if line == end {
            // The first two lines are the header and its rule.
            return Ok(rows.into_iter().skip(2).collect());
        }
        if line.starts_with('|') {
            let cells = line
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            rows.push((i + 1, cells));
        }
    }
    Err(format!("docs/architecture.md has no `{end}` line"))
}

impl Map {
    /// Parses the two tables of `doc`.
    pub fn parse(doc: &str) -> Result<Map, String> {
        let mut map = Map::default();
        for (line, cells) in table(doc, "map")? {
            let [layer, module, _owns, may_use] = cells.as_slice() else {
                return Err(format!(
                    "docs/architecture.md:{line}: a map row has 4 cells"
                ));
            };
            let layer = match layer.as_str() {
                "crate" => None,
                n => Some(n.parse().map_err(|_| {
                    format!("docs/architecture.md:{line}: layer `{n}` is not a number or `crate`")
                })?),
            };
            let name = ticked(module)
                .into_iter()
                .next()
                .ok_or_else(|| format!("docs/architecture.md:{line}: no `module` in backticks"))?;
            let row = Row {
                layer,
                may_use: ticked(may_use).into_iter().collect(),
                any_lower: may_use.contains("any lower layer"),
            };
            if map.rows.insert(name.clone(), row).is_some() {
                return Err(format!(
                    "docs/architecture.md:{line}: `{name}` has two rows"
                ));
            }
        }
        for (line, cells) in table(doc, "exceptions")? {
            let names: Vec<String> = cells.iter().take(3).flat_map(|c| ticked(c)).collect();
            let [from, to, file] = names.as_slice() else {
                return Err(format!(
                    "docs/architecture.md:{line}: an exception names `from`, `to` and `file`"
                ));
            };
            map.exceptions.push(Exception {
                from: from.clone(),
                to: to.clone(),
                file: file.clone(),
            });
        }
        Ok(map)
    }

    /// Whether the map lets `from` use `to`.
    fn allows(&self, from: &str, to: &str) -> bool {
        let Some(row) = self.rows.get(from) else {
            return false;
        };
        if row.may_use.contains(to) {
            return true;
        }
        match (row.layer, self.rows.get(to).and_then(|t| t.layer)) {
            (Some(mine), Some(theirs)) => row.any_lower && theirs < mine,
            _ => false,
        }
    }

    /// The map's own defects: a module used that has no row, or an arrow
    /// that does not go to a lower layer (which is what keeps the graph
    /// free of cycles).
    fn defects(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, row) in &self.rows {
            for used in &row.may_use {
                match (row.layer, self.rows.get(used)) {
                    (_, None) => {
                        out.push(format!("map: `{name}` may use `{used}`, which has no row"))
                    }
                    (_, Some(Row { layer: None, .. })) => {}
                    (None, Some(_)) => {
                        out.push(format!("map: crate `{name}` may not use a module"))
                    }
                    (
                        Some(mine),
                        Some(Row {
                            layer: Some(theirs),
                            ..
                        }),
                    ) if *theirs >= mine => out.push(format!(
                        "map: `{name}` (layer {mine}) may use `{used}` (layer {theirs}); \
                             arrows must go to a lower layer"
                    )),
                    _ => {}
                }
            }
        }
        out
    }
}

/// Every arrow of `sources`: references to the modules of the tree and of
/// the map, and to the crates the map confines.
pub fn arrows(map: &Map, sources: &[Source]) -> Vec<Ref> {
    let crates: BTreeSet<String> = map
        .rows
        .iter()
        .filter(|(_, r)| r.layer.is_none())
        .map(|(n, _)| n.clone())
        .collect();
    let modules: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| top_module(&s.path))
        .chain(map.rows.keys().filter(|n| !crates.contains(*n)).cloned())
        .collect();
    references(sources, &modules, &crates)
}

/// Every way `sources` (the files of `src/`) break `map`, one line each,
/// naming the file and line of each forbidden arrow.
pub fn check(map: &Map, sources: &[Source]) -> Vec<String> {
    let mut problems = map.defects();
    let mut seen = BTreeSet::new();
    for s in sources {
        if let Some(m) = top_module(&s.path)
            && seen.insert(m.clone())
            && !map.rows.contains_key(&m)
        {
            problems.push(format!(
                "src/{}: module `{m}` has no row in the map",
                s.path
            ));
        }
    }
    let refs = arrows(map, sources);
    let excepted = |r: &Ref| {
        map.exceptions
            .iter()
            .any(|e| e.from == r.from && e.to == r.to && e.file == format!("src/{}", r.file))
    };
    for r in &refs {
        if !map.allows(&r.from, &r.to) && !excepted(r) {
            problems.push(format!(
                "src/{}:{}: `{}` uses `{}`, which the map does not allow",
                r.file, r.line, r.from, r.to
            ));
        }
    }
    for e in &map.exceptions {
        let used = refs
            .iter()
            .any(|r| r.from == e.from && r.to == e.to && format!("src/{}", r.file) == e.file);
        if !used {
            problems.push(format!(
                "map: the exception `{}` → `{}` in {} no longer occurs; remove it",
                e.from, e.to, e.file
            ));
        }
    }
    problems
}
