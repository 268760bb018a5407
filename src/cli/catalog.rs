//! `validate` and `list`: the scenario catalogue, printed; nothing runs.

use std::path::PathBuf;

use super::error::{CliError, Cmd};
use crate::exit;
use crate::scenario::Loaded;
use crate::vocab::Platform;

/// The scenarios of `paths`; every error named, then their count.
fn load(paths: &[PathBuf]) -> Result<Vec<Loaded>, CliError> {
    crate::pipeline::scenarios(paths, &[]).map_err(|e| CliError::Pipeline(e, Cmd::Run))
}

/// `chainproof validate`: one `ok` line per scenario, or the errors.
pub fn validate(paths: &[PathBuf]) -> Result<u8, CliError> {
    for l in &load(paths)? {
        outln!("ok  {}  ({})", l.scenario.id, l.source.path.display());
    }
    Ok(exit::OK)
}

/// `chainproof list`: a table of scenarios by platform, fitted to the
/// output's width (see [`crate::term::width`]).
pub fn list(paths: &[PathBuf]) -> Result<u8, CliError> {
    let loaded = load(paths)?;
    outln!("{}", list_table(&loaded, crate::term::width::columns()));
    Ok(exit::OK)
}

/// The `list` table for `width` columns (`None`: no limit). The wide layout
/// (a column per platform, the title last) when it fits; else a narrow one
/// with the same facts in three columns — title under the id, platforms one
/// a line, technique under the type — wrapped by tabled to fit.
fn list_table(loaded: &[Loaded], width: Option<usize>) -> String {
    use crate::term::width;
    let rows: Vec<Facts> = loaded.iter().map(facts).collect();
    let wide = wide_table(&rows);
    if width.is_none_or(|w| w >= width::NARROW) && width::fits(wide.total_width(), width) {
        return wide.to_string();
    }
    let mut b = tabled::builder::Builder::default();
    b.push_record(["scenario", "platforms", "type"]);
    for f in &rows {
        let platforms: Vec<String> = Platform::ALL
            .iter()
            .zip(&f.platforms)
            .filter(|(_, v)| v.as_str() != "-")
            .map(|(p, v)| format!("{p} {v}"))
            .collect();
        b.push_record([
            format!("{}\n{}", f.id, f.title),
            platforms.join("\n"),
            format!("{}\n{}", f.kind, f.technique),
        ]);
    }
    let mut t = b.build();
    t.with(tabled::settings::Style::modern_rounded());
    width::fit(&mut t, width);
    t.to_string()
}

/// What `list` shows of one scenario, each string already made safe so the
/// table's widths count the escapes it shows.
struct Facts {
    id: String,
    technique: String,
    /// Per platform in [`Platform::ALL`] order: `emulated`, `real`,
    /// `emulated+real`, or `-` without a variant.
    platforms: Vec<String>,
    kind: String,
    title: String,
}

fn facts(l: &Loaded) -> Facts {
    let s = &l.scenario;
    let safe = |c: &str| crate::term::safe(c).into_owned();
    Facts {
        id: safe(&s.id),
        technique: safe(&s.technique),
        platforms: Platform::ALL
            .into_iter()
            .map(|p| match s.variants.get(p) {
                None => "-".to_string(),
                Some(v) => [
                    v.open.emulated.as_ref().map(|_| "emulated"),
                    v.open.real.as_ref().map(|_| "real"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("+"),
            })
            .collect(),
        kind: if s.expect.no_alert {
            "negative control".to_string()
        } else {
            "attack".to_string()
        },
        title: safe(&s.title),
    }
}

/// The full-width layout, as `list` always printed it.
fn wide_table(rows: &[Facts]) -> tabled::Table {
    let mut b = tabled::builder::Builder::default();
    b.push_record([
        "scenario",
        "technique",
        "linux",
        "macos",
        "windows",
        "type",
        "title",
    ]);
    for f in rows {
        let mut row = vec![f.id.clone(), f.technique.clone()];
        row.extend(f.platforms.iter().cloned());
        row.extend([f.kind.clone(), f.title.clone()]);
        b.push_record(row);
    }
    let mut t = b.build();
    t.with(tabled::settings::Style::rounded());
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::width::display_width;

    fn widest(text: &str) -> usize {
        text.lines().map(display_width).max().unwrap_or(0)
    }

    #[test]
    fn the_list_fits_the_width_and_keeps_every_scenario() -> Result<(), Box<dyn std::error::Error>>
    {
        let loaded = crate::pipeline::scenarios(&[], &[])?;
        assert!(loaded.len() > 10, "{}", loaded.len());
        let full = list_table(&loaded, None);
        assert!(widest(&full) > 120, "the wide layout is unchanged:\n{full}");
        assert!(full.contains("│ technique │ linux "), "{full}");
        for width in [60, 80, 100, 120, 160] {
            let text = list_table(&loaded, Some(width));
            assert!(widest(&text) <= width, "{width}:\n{text}");
            for l in &loaded {
                let id = &l.scenario.id;
                assert!(
                    text.lines()
                        .any(|line| line.split('│').nth(1).is_some_and(|c| c.trim() == id)),
                    "{width}: {id} not whole in its cell:\n{text}"
                );
            }
        }
        assert_eq!(list_table(&loaded, Some(500)), full);
        Ok(())
    }
}
