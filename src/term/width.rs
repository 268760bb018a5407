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
//! The wrapping itself is tabled's (`Width::wrap` with word keeping); this
//! module only decides the width and where a continuation line starts.

use std::ffi::OsStr;

use tabled::Table;
use tabled::settings::Width;
use tabled::settings::peaker::PriorityMax;
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

/// Wraps `table`'s cells so the whole table is at most `width` wide,
/// taking from the widest columns first and breaking between words where a
/// word fits. No-op without a width or when the table already fits.
pub fn fit(table: &mut Table, width: Option<usize>) {
    if let Some(w) = width {
        if table.total_width() > w {
            table.with(
                Width::wrap(w)
                    .priority(PriorityMax::right())
                    .keep_words(true),
            );
        }
    }
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
