//! `replay`, `audit-rules` and `gate`: commands that work without running
//! a scenario.

use std::path::PathBuf;

use super::error::CliError;
use super::progress::{Counts, Meter};
use crate::exit;
use crate::replay::fail_on::{FailOn, Watch};
use crate::replay::render::{self, AlertedChains, Finish, Format, RuleReport, Tee};
use crate::report;

/// `replay`'s exit codes, printed under `chainproof replay --help`.
pub const REPLAY_EXIT_CODES: &str = "\
Exit codes:
  0  replayed; no --fail-on condition was met
  1  a --fail-on condition was met (the code `gate` gives a failed gate)
  2  invalid usage: a bad --fail-on spec, an unreadable or malformed
     telemetry input, a rule folder that cannot be read, or --strict with
     a refused rule
  3  output could not be written

--fail-on SPEC (repeatable): `any` (any alert), `level:LEVEL` (an alert of
LEVEL or more severe: informational < low < medium < high < critical),
`rule:ID` (an alert of the rule with that id). See docs/replay.md.";

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("input").required(true).multiple(true))]
pub struct ReplayArgs {
    /// Files or folders of telemetry.
    #[arg(value_name = "TELEMETRY", group = "input")]
    pub paths: Vec<PathBuf>,
    /// Files or folders of telemetry (the same as TELEMETRY; kept for
    /// existing scripts).
    #[arg(long, value_name = "PATH", group = "input")]
    pub telemetry: Vec<PathBuf>,
    /// Sigma rule folders (default: the shipped detections/). Rules that
    /// cannot be loaded are named on stderr and skipped.
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Refuse to run (exit 2) when any rule cannot be loaded.
    #[arg(long)]
    pub strict: bool,
    /// Output on stdout: `table` for people, `json` one document, `ndjson`
    /// one object per line as alerts come (for large inputs). Progress and
    /// warnings go to stderr whatever the format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReplayFormat,
    /// Exit 1 when a condition is met: `any`, `level:<level>` (that level or
    /// higher), `rule:<id>`. Repeatable; any one met fails.
    #[arg(long, value_name = "SPEC", value_parser = parse_fail_on)]
    pub fail_on: Vec<FailOn>,
    /// With `--format json|ndjson`, write every chain, not only those a
    /// rule fired in (the summary counts all of them either way). The
    /// table always shows chains with alerts and the first 20 without.
    #[arg(long)]
    pub all_chains: bool,
    /// Process state: how long and how much of it is kept.
    #[command(flatten)]
    pub state: StateArgs,
}

/// How long a process tree stays open and how many processes at most.
#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// Close a process tree once the telemetry's own clock is this far past
    /// its last event (its chain and held alerts are then written). A
    /// child that starts later than this after its parent's tree closed
    /// gets a parent known only from its own fields.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = super::parse_duration)]
    pub horizon: std::time::Duration,
    /// Most processes kept open at once; past it the least recently active
    /// trees close early, counted as evicted in the summary. Bounds memory
    /// (about 1 KiB per process). Raise it when evictions split chains of
    /// a recording with many processes running at once.
    #[arg(long, value_name = "N", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_open: u64,
}

impl StateArgs {
    /// The session's options.
    pub fn options(&self) -> crate::replay::Options {
        crate::replay::Options {
            horizon: self.horizon,
            max_open: usize::try_from(self.max_open).unwrap_or(usize::MAX),
        }
    }
}

/// `--format` of `replay`; the library's [`Format`] stays free of clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReplayFormat {
    /// Aligned text.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line, streamed.
    Ndjson,
}

impl From<ReplayFormat> for Format {
    fn from(f: ReplayFormat) -> Format {
        match f {
            ReplayFormat::Table => Format::Table,
            ReplayFormat::Json => Format::Json,
            ReplayFormat::Ndjson => Format::Ndjson,
        }
    }
}

fn parse_fail_on(spec: &str) -> Result<FailOn, String> {
    spec.parse::<FailOn>().map_err(|e| e.to_string())
}

/// Runs `replay`: rules loaded (refusals on stderr), telemetry streamed
/// through them into the chosen output, then the `--fail-on` decision.
pub fn replay(args: ReplayArgs) -> Result<u8, CliError> {
    let rules = super::rules::load(&args.rules, args.strict, super::rules::Say::Always)?;
    let paths: Vec<PathBuf> = args.paths.into_iter().chain(args.telemetry).collect();
    let format = Format::from(args.format);
    let mut output = render::output(format, Box::new(Stdout::new(format)), table_options());
    let mut watch = Watch::new(args.fail_on);
    let meter = Meter::new("replay", "events read", None);
    let evaluated = {
        let mut counts = Counts::new(&meter);
        let mut filtered;
        let out: &mut dyn crate::replay::Sink = if format == Format::Table || args.all_chains {
            output.as_mut()
        } else {
            filtered = AlertedChains(output.as_mut());
            &mut filtered
        };
        let mut tee = Tee(vec![out, &mut watch, &mut counts]);
        crate::replay::run(&paths, &rules, args.state.options(), &mut tee)
    };
    meter.done();
    let summary = evaluated.map_err(CliError::Replay)?;
    let report = RuleReport::of(&rules);
    let end = Finish {
        summary: &summary,
        rules: &report,
    };
    output.finish(&end).map_err(CliError::ReplayOutput)?;
    for condition in watch.met() {
        errln!("fail-on {condition}: met");
    }
    Ok(if watch.failed() {
        exit::POLICY
    } else {
        exit::OK
    })
}

/// The table's width: `COLUMNS` or the terminal's (see
/// [`crate::term::width`]); 100 into a pipe, as before `COLUMNS` counted.
fn table_options() -> render::table::Options {
    let width = crate::term::width::columns().unwrap_or(100);
    render::table::Options {
        width,
        ..render::table::Options::default()
    }
}

/// stdout through [`crate::term`], which sanitises again, handles a closed
/// pipe and turns a failed write into exit 3. Buffered: ndjson writes a
/// line per alert, and `term` flushes each write.
struct Stdout {
    json: bool,
    /// Bytes of a character split across two writes.
    carry: Vec<u8>,
}

impl Stdout {
    fn new(format: Format) -> std::io::BufWriter<Stdout> {
        std::io::BufWriter::with_capacity(
            64 * 1024,
            Stdout {
                json: format != Format::Table,
                carry: Vec::new(),
            },
        )
    }
}

impl std::io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The usual case, a buffer of whole characters, is passed on as is.
        let owned;
        let text = match std::str::from_utf8(buf) {
            Ok(text) if self.carry.is_empty() => text,
            _ => {
                owned = whole_chars(&mut self.carry, buf);
                &owned
            }
        };
        if self.json {
            crate::term::out_json(text);
        } else {
            crate::term::out(text);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn audit_rules(install: bool, remove: bool) -> Result<u8, CliError> {
    use crate::backend::auditd::rules;
    let result = match (install, remove) {
        (true, _) => rules::install().map(|added| {
            for r in &added {
                outln!("auditctl {r}");
            }
            outln!(
                "installed {} rule(s), backlog {}",
                added.len(),
                rules::BACKLOG
            );
        }),
        (_, true) => rules::remove().map(|n| outln!("removed {n} chainproof rule(s)")),
        _ => {
            for r in rules::rules() {
                outln!("{r}");
            }
            Ok(())
        }
    };
    result.map_err(CliError::AuditRules)?;
    Ok(exit::OK)
}

pub fn gate(
    baseline: &std::path::Path,
    current: &std::path::Path,
    policy: Option<&std::path::Path>,
) -> Result<u8, CliError> {
    let policy = policy
        .map(crate::gate::load_policy)
        .transpose()
        .map_err(CliError::Policy)?
        .unwrap_or_default();
    let (before, after) = match (report::read_record(baseline), report::read_record(current)) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => return Err(CliError::Record(e)),
    };
    let outcome = crate::gate::compare(&before, &after, &policy);
    crate::term::out(&crate::gate::render(&outcome));
    Ok(if outcome.passed() {
        exit::OK
    } else {
        exit::POLICY
    })
}

/// `carry` and `buf` as text up to the last whole character; the bytes of
/// a character cut by the buffer's edge stay in `carry` for the next write.
fn whole_chars(carry: &mut Vec<u8>, buf: &[u8]) -> String {
    carry.extend_from_slice(buf);
    let valid = match std::str::from_utf8(carry) {
        Ok(text) => text.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        // Not UTF-8 at all: the sinks only write `String`s, so this is a
        // bug; pass it on visibly (as U+FFFD) rather than hold it forever.
        Err(_) => carry.len(),
    };
    let text = String::from_utf8_lossy(&carry[..valid]).into_owned();
    carry.drain(..valid);
    text
}

#[cfg(test)]
mod tests {
    use super::whole_chars;

    #[test]
    fn a_character_cut_by_the_buffer_edge_is_written_whole() {
        let bytes = "a→b".as_bytes();
        let mut carry = Vec::new();
        assert_eq!(whole_chars(&mut carry, &bytes[..2]), "a");
        assert_eq!(carry.len(), 1);
        assert_eq!(whole_chars(&mut carry, &bytes[2..]), "→b");
        assert!(carry.is_empty());
        assert_eq!(whole_chars(&mut carry, b"x\xffy"), "x\u{fffd}y");
    }
}
