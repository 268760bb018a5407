//! The coverage matrix: one row per scenario run, one cell per hop; in a
//! fleet record (scenarios from several hosts, see `chainproof merge`) a
//! `host` column comes first.

use tabled::builder::Builder;
use tabled::settings::Style;

use crate::record::{RunRecord, Verdict};
// The counts and the verdict cell text are the record's (history compares
// and stores them too); the matrix shows them.
pub use crate::record::summary::{Summary, cell};

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Host the scenario ran on (the record's host unless the scenario names one).
    pub host: String,
    /// Scenario id.
    pub scenario: String,
    /// Platform.
    pub platform: String,
    /// Fidelity, or `-`.
    pub fidelity: String,
    /// Cell text per hop column, with the hop label; a row without a
    /// `mail` hop has an empty first cell when the matrix has that column.
    pub hops: Vec<(String, String)>,
    /// The hop index each cell of `hops` shows (`None` for a padding cell).
    pub indices: Vec<Option<usize>>,
    /// Chain verdict text.
    pub chain: String,
    /// First alert time, e.g. `412ms`, or `-`.
    pub time_to_alert: String,
}

/// The matrix of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Rows in record order.
    pub rows: Vec<Row>,
    /// Most hops any row has.
    pub width: usize,
    /// Whether the rows come from more than one host: a `host` column then
    /// comes first.
    pub by_host: bool,
    /// Whether any chain came by mail: a `mail` column then comes before
    /// `file`.
    pub mail: bool,
    /// Counts over the chains.
    pub summary: Summary,
}

impl Matrix {
    /// Builds the matrix of `record`.
    pub fn of(record: &RunRecord) -> Matrix {
        let is_mail = |h: &crate::record::HopTruth| h.kind == crate::vocab::HopKind::Mail;
        let mail = record.scenarios.iter().any(|s| s.hops.iter().any(is_mail));
        let rows: Vec<Row> = record
            .scenarios
            .iter()
            .map(|s| {
                let v = s.verification.as_ref();
                let mut hops: Vec<(String, String)> = Vec::new();
                let mut indices = Vec::new();
                if mail && !s.hops.first().is_some_and(is_mail) {
                    hops.push((String::new(), "-".into()));
                    indices.push(None);
                }
                for h in &s.hops {
                    let hv = v.and_then(|v| v.hops.iter().find(|x| x.index == h.index));
                    let text = hv.map_or("unverified".to_string(), |hv| cell(hv.verdict, hv.grade));
                    hops.push((h.label.clone(), text));
                    indices.push(Some(h.index));
                }
                let tta = v
                    .and_then(|v| v.hops.iter().filter_map(|h| h.time_to_alert_ms).min())
                    .map_or("-".to_string(), |ms| format!("{ms}ms"));
                Row {
                    host: crate::record::merge::host_of(record, s).to_string(),
                    scenario: s.id.clone(),
                    platform: s.platform.to_string(),
                    fidelity: s
                        .fidelity
                        .map_or("-".into(), |f| format!("{f:?}").to_lowercase()),
                    hops,
                    indices,
                    chain: v.map_or("unverified".into(), |v| {
                        if s.negative_control {
                            return control_cell(&v.chain);
                        }
                        let text = cell(v.chain.verdict, v.chain.grade);
                        // Why a chain is not alerted or observed belongs next to it.
                        match &v.chain.reason {
                            Some(r) if v.chain.verdict != Verdict::Alerted => {
                                format!("{text}\n{}", short(r))
                            }
                            _ => text,
                        }
                    }),
                    time_to_alert: tta,
                }
            })
            .collect();
        let width = rows.iter().map(|r| r.hops.len()).max().unwrap_or(0);
        Matrix {
            rows,
            width,
            by_host: crate::record::merge::is_fleet(record),
            mail,
            summary: Summary::of(record),
        }
    }

    /// Column headers: hop positions named by their kind (after `host` in a
    /// fleet matrix).
    pub fn headers(&self) -> Vec<String> {
        let mut h = if self.by_host {
            vec!["host".to_string()]
        } else {
            Vec::new()
        };
        h.extend(["scenario".to_string(), "platform".into(), "fidelity".into()]);
        let first = usize::from(self.mail);
        for i in 0..self.width {
            h.push(match i.checked_sub(first) {
                None => "mail".into(),
                Some(0) => "file".into(),
                Some(1) => "open".into(),
                Some(n) => format!("spawn {}", n - 1),
            });
        }
        h.extend(["chain".to_string(), "time to alert".into()]);
        h
    }

    /// Cells of a row, padded to the matrix width; hop cells carry their label.
    pub fn cells(&self, row: &Row) -> Vec<String> {
        let mut c = if self.by_host {
            vec![row.host.clone()]
        } else {
            Vec::new()
        };
        c.extend([
            row.scenario.clone(),
            row.platform.clone(),
            row.fidelity.clone(),
        ]);
        for i in 0..self.width {
            c.push(row.hops.get(i).map_or("-".to_string(), |(label, text)| {
                if i <= usize::from(self.mail) {
                    text.clone()
                } else {
                    format!("{text}\n{label}")
                }
            }));
        }
        c.extend([row.chain.clone(), row.time_to_alert.clone()]);
        c
    }
}

/// The chain cell of a negative control: a false positive when anything
/// alerted, else `no alert (control)` (or why it could not be told).
fn control_cell(chain: &crate::record::ChainVerdict) -> String {
    match chain.verdict {
        _ if chain.false_positive => format!(
            "FALSE POSITIVE\n{}",
            short(chain.reason.as_deref().unwrap_or(""))
        ),
        Verdict::Observed => "no alert (control)".to_string(),
        _ => format!(
            "{} (control)\n{}",
            chain.verdict.as_str(),
            short(chain.reason.as_deref().unwrap_or(""))
        ),
    }
}

/// The first 60 characters of a reason, on one line.
fn short(reason: &str) -> String {
    let one_line: String = reason
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// The matrix as a terminal table, full width.
pub fn table(m: &Matrix) -> String {
    table_for(m, None)
}

/// The matrix as a terminal table for `width` columns (`None`: no limit,
/// see [`crate::term::width`]). The wide layout when it fits; else a narrow
/// one — the scenario cell also holds host, platform and fidelity, the
/// chain cell the first alert's time — wrapped by tabled to fit.
pub fn table_for(m: &Matrix, width: Option<usize>) -> String {
    use crate::term::width;
    let safe = |c: &str| crate::term::safe(c).into_owned();
    let mut b = Builder::default();
    b.push_record(m.headers());
    for row in &m.rows {
        b.push_record(m.cells(row).iter().map(|c| safe(c)));
    }
    let mut t = b.build();
    t.with(Style::rounded());
    if width.is_none_or(|w| w >= width::NARROW) && width::fits(t.total_width(), width) {
        return format!("{t}\n{}\n", m.summary.line());
    }
    let mut b = Builder::default();
    let headers = m.headers();
    let hops = &headers[headers.len() - 2 - m.width..headers.len() - 2];
    b.push_record(
        std::iter::once("scenario".to_string())
            .chain(hops.iter().cloned())
            .chain(std::iter::once("chain".to_string())),
    );
    for row in &m.rows {
        let cells = m.cells(row);
        let first = cells.len() - 2 - m.width;
        let mut scenario = format!("{}\n{} · {}", row.scenario, row.platform, row.fidelity);
        if m.by_host {
            scenario = format!("{}\n{scenario}", row.host);
        }
        let mut chain = row.chain.clone();
        if row.time_to_alert != "-" {
            chain.push_str(&format!("\nfirst alert {}", row.time_to_alert));
        }
        b.push_record(
            std::iter::once(scenario)
                .chain(cells[first..first + m.width].iter().cloned())
                .chain(std::iter::once(chain))
                .map(|c| safe(&c)),
        );
    }
    let mut t = b.build();
    t.with(Style::modern_rounded());
    width::fit(&mut t, width);
    format!("{t}\n{}\n", width::wrap_lines(&m.summary.line(), width))
}
