//! Output fitted to the terminal: `COLUMNS` (or the terminal) sets the
//! width `list`, `run --dry-run` and the matrix are laid out for; into a
//! pipe with `COLUMNS` unset, the output is full width as it always was.

use assert_cmd::Command;

use crate::common::*;

/// The widest line of `text` in terminal columns (wide characters count
/// two), as a terminal shows it.
fn widest(text: &str) -> usize {
    text.lines()
        .map(tabled::grid::util::string::get_string_width)
        .max()
        .unwrap_or(0)
}

fn chainproof(args: &[&str], columns: Option<&str>) -> Result<String, Box<dyn std::error::Error>> {
    let mut c = Command::cargo_bin("chainproof")?;
    c.args(args);
    match columns {
        Some(n) => c.env("COLUMNS", n),
        None => c.env_remove("COLUMNS"),
    };
    Ok(stdout_ok(c))
}

#[test]
fn list_and_dry_runs_fit_80_columns_and_a_pipe_keeps_full_width() -> TestResult {
    for args in [
        &["list"][..],
        &["run", "--dry-run"],
        &["run", "--dry-run", "--platform", "windows"],
        &["run", "--dry-run", "--platform", "macos"],
    ] {
        let narrow = chainproof(args, Some("80"))?;
        assert!(widest(&narrow) <= 80, "{args:?}:\n{narrow}");
        let full = chainproof(args, None)?;
        assert!(widest(&full) > 120, "{args:?}: a pipe is not narrowed");
        // Nothing is dropped: as many visible characters, only laid out
        // again (run tokens differ from one call to the next, not their
        // length; a word longer than a line is broken, so words are not
        // compared).
        let visible = |s: &str| s.chars().filter(|c| !c.is_whitespace()).count();
        if args == ["list"] {
            let ids = scenario_ids(&full);
            assert!(ids.len() > 10, "{full}");
            for id in &ids {
                assert!(
                    narrow
                        .lines()
                        .any(|l| l.split('│').nth(1).is_some_and(|c| c.trim() == id)),
                    "{id} not whole in the narrow list:\n{narrow}"
                );
            }
        } else {
            assert_eq!(visible(&narrow), visible(&full), "{args:?}");
        }
    }
    Ok(())
}

#[test]
fn list_at_a_width_it_fits_in_or_with_a_bad_columns_is_unchanged() -> TestResult {
    let full = chainproof(&["list"], None)?;
    for columns in ["500", "abc", "0", ""] {
        assert_eq!(
            chainproof(&["list"], Some(columns))?,
            full,
            "COLUMNS={columns:?}"
        );
    }
    let at120 = chainproof(&["list"], Some("120"))?;
    assert!(widest(&at120) <= 120 && at120 != full, "{at120}");
    Ok(())
}

/// The scenario ids in the first column of the full-width list.
fn scenario_ids(list: &str) -> Vec<String> {
    list.lines()
        .skip(3)
        .filter_map(|l| l.split('│').nth(1))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}
