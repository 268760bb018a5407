//! How wide the output may be, and fitting tables and prose lines to it.
//!
//! The one place that answers "how wide is the terminal": every printer
//! (`list`, the coverage matrix, `run --dry-run`, `build`) asks
//! [`columns`] and lays its output out for the answer. The rule:
//!
//! 1. `COLUMNS` set to a positive integer wins, terminal or not, so a user
//!    (or a test) can ask for any width, even into a pipe.
//! 2. Otherwise, when stdout is a terminal, its width.
//! 3. Otherwise (a pipe or a file, `COLUMNS` unset or not a positive
//!    integer) there is no limit: the output is what it always was, full
//!    width, so scripts that parse `list` or the matrix see no change.
//!
//! A `COLUMNS` that is not a positive integer (`abc`, `0`, empty) is ignored
//! as if unset rather than refused: it is often left over from a shell and
//! a wrong width is no reason to fail a command.
//!
//! Line breaking itself is tabled's (`Wrap::wrap`, keeping words); this
//! module decides the width, each table column's share of it, and where a
//! continuation line starts.

use std::ffi::OsStr;

use tabled::Table;
use tabled::grid::config::Position;
use tabled::grid::records::{ExactRecords, PeekableRecords, Records, RecordsMut};
use tabled::settings::width::Wrap;

/// Below this many columns a printer with a wide and a narrow layout uses
/// the narrow one even when the wide one would fit after wrapping: the wide
/// layouts need about this much to keep their short columns whole.
pub const NARROW: usize = 120;

/// The fewest columns output is wrapped to: narrower than this a table's
/// borders alone do not fit, and wrapping prose to a few characters a line
/// makes it unreadable, so lines may then exceed the width.
pub const MIN: usize = 40;

/// The width output should fit, `None` for no limit (see the module doc).
pub fn columns() -> Option<usize> {
    let terminal =
        terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0));
    decide(std::env::var_os("COLUMNS").as_deref(), terminal)
}

/// The rule of [`columns`], from the value of `COLUMNS` and the terminal's
/// width (`None` when stdout is not a terminal).
pub fn decide(env: Option<&OsStr>, terminal: Option<usize>) -> Option<usize> {
    let from_env = env
        .and_then(OsStr::to_str)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0);
    from_env.or(terminal).map(|n| n.max(MIN))
}

/// Whether a table `natural` columns wide fits in `width`.
pub fn fits(natural: usize, width: Option<usize>) -> bool {
    width.is_none_or(|w| natural <= w)
}

/// Wraps `table`'s cells so the whole table is at most `width` wide. Takes
/// from the widest column first, but keeps each column at least as wide as
/// its longest word (an id, a verdict) while any other column can give;
/// only when none can are words broken. No-op without a width or when the
/// table already fits.
///
/// tabled decides nothing here but the line breaks: its table-wide
/// `Width::wrap` re-flows a cell's own line breaks away (it splits on
/// spaces only), and the matrix's cells are several lines (verdict, then
/// label), so the columns' widths are chosen here and each line of a cell
/// is wrapped with tabled's `Wrap::wrap`.
pub fn fit(table: &mut Table, width: Option<usize>) {
    let Some(w) = width else {
        return;
    };
    let total = table.total_width();
    if total <= w {
        return;
    }
    let records = table.get_records();
    let (rows, cols) = (records.count_rows(), records.count_columns());
    let cell = |row, col| records.get_text(Position::new(row, col)).to_string();
    let cells: Vec<Vec<String>> = (0..rows)
        .map(|r| (0..cols).map(|c| cell(r, c)).collect())
        .collect();
    let mut widths = vec![0; cols];
    let mut floors = vec![0; cols];
    for row in &cells {
        for (c, text) in row.iter().enumerate() {
            let lines = text.lines().map(display_width).max().unwrap_or(0);
            let words = text.split_whitespace().map(display_width).max();
            widths[c] = widths[c].max(lines);
            floors[c] = floors[c].max(words.unwrap_or(0));
        }
    }
    let overhead = total - widths.iter().sum::<usize>();
    let natural = widths.clone();
    let mut excess = total - w;
    while excess > 0 {
        let Some(c) = narrowest_next(&floors, &widths) else {
            break;
        };
        widths[c] -= 1;
        excess -= 1;
    }
    debug_assert!(excess > 0 || widths.iter().sum::<usize>() + overhead <= w);
    let records = table.get_records_mut();
    for (r, row) in cells.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            if widths[c] < natural[c] {
                records.set(Position::new(r, c), wrap_cell(text, widths[c]));
            }
        }
    }
}

/// The column to take one more column from: the widest one still wider
/// than its longest word; when every column is down to that, the widest
/// one at all (rightmost on a tie, as tabled's `PriorityMax::right`);
/// `None` when every column is one wide.
fn narrowest_next(floors: &[usize], widths: &[usize]) -> Option<usize> {
    let widest_above = |floor: &dyn Fn(usize) -> usize| {
        (0..widths.len())
            .filter(|&i| widths[i] > floor(i))
            .max_by_key(|&i| widths[i])
    };
    widest_above(&|i| floors[i].max(1)).or_else(|| widest_above(&|_| 1))
}

/// `text` with each of its lines wrapped to `width` by tabled, keeping
/// words whole where they fit and the text's own line breaks.
fn wrap_cell(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        if display_width(line) <= width {
            out.push(line.to_string());
            continue;
        }
        let wrapped = Wrap::wrap(line, width, true);
        out.extend(wrapped.lines().map(|l| l.trim().to_string()));
    }
    out.join("\n")
}

/// `text` with every line longer than `width` wrapped between words, each
/// continuation indented under the line's text: past its leading spaces and
/// a list marker (`12. `, `- `, `note: `), so a numbered step stays one
/// visible item. Unchanged without a width.
pub fn wrap_lines(text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if display_width(body) <= width {
            out.push_str(line);
            continue;
        }
        let indent = hanging_indent(body).min(width / 2);
        let pad = " ".repeat(indent);
        let (head, rest) = body.split_at(indent_bytes(body, indent));
        let wrapped = Wrap::wrap(rest, width - indent, true);
        for (i, piece) in wrapped.lines().enumerate() {
            if i == 0 {
                out.push_str(head);
                out.push_str(piece.trim_end());
            } else {
                out.push_str(&pad);
                out.push_str(piece.trim());
            }
            out.push('\n');
        }
        if end.is_empty() {
            out.pop();
        }
    }
    out
}

/// The columns `text` takes on a terminal (wide characters count two).
pub fn display_width(text: &str) -> usize {
    tabled::grid::util::string::get_string_width(text)
}

/// Where a line's text starts: after leading spaces and one list marker.
fn hanging_indent(line: &str) -> usize {
    let spaces = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[spaces..];
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let marker = if digits > 0 && rest[digits..].starts_with(". ") {
        digits + 2
    } else if rest.starts_with("- ") {
        2
    } else if rest.starts_with("note: ") {
        6
    } else {
        0
    };
    spaces + marker
}

/// The byte offset of the `columns`th character of an ASCII-indented line
/// (the indent found by [`hanging_indent`] is spaces, digits and
/// punctuation, so characters are bytes there).
fn indent_bytes(line: &str, columns: usize) -> usize {
    line.char_indices()
        .nth(columns)
        .map_or(line.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests;
