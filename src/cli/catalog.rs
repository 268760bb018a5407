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

/// `chainproof list`: a table of scenarios by platform.
pub fn list(paths: &[PathBuf]) -> Result<u8, CliError> {
    let loaded = load(paths)?;
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
    for l in &loaded {
        let s = &l.scenario;
        let mut row = vec![s.id.clone(), s.technique.clone()];
        for p in Platform::ALL {
            row.push(match s.variants.get(p) {
                None => "-".to_string(),
                Some(v) => [
                    v.open.emulated.as_ref().map(|_| "emulated"),
                    v.open.real.as_ref().map(|_| "real"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("+"),
            });
        }
        row.push(if s.expect.no_alert {
            "negative control".to_string()
        } else {
            "attack".to_string()
        });
        row.push(s.title.clone());
        // Cell by cell, so the table's widths count the escapes it shows.
        b.push_record(row.iter().map(|c| crate::term::safe(c).into_owned()));
    }
    let mut t = b.build();
    t.with(tabled::settings::Style::rounded());
    outln!("{t}");
    Ok(exit::OK)
}
