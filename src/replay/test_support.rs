//! Tests' view of a replay over events already in memory: every alert and
//! chain kept, and the table as a person would read it.

use super::model::{self, Collect, Mapped};
use super::render::{Finish, Output, RuleReport, table};
use super::{Alert, Chain, Options, Session, Summary, input};
use crate::detect::Rules;
use crate::telemetry::Event;
use crate::vocab::Platform;

/// What the rules said about a recording, kept whole for the text report.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Replay {
    /// Chains in closing order.
    pub chains: Vec<Chain>,
    /// Alerts in emission order.
    pub alerts: Vec<Alert>,
    /// The counts.
    pub summary: Summary,
}

impl Replay {
    /// A replay from what a [`Collect`] sink kept.
    pub(crate) fn new(collected: Collect, summary: Summary) -> Replay {
        Replay {
            chains: collected.chains,
            alerts: collected.alerts,
            summary,
        }
    }
}

/// Evaluates events already in memory (each on its own platform, under
/// its basic log source) with default [`Options`]: for tests and benches
/// of loaded events.
pub(crate) fn replay(events: &[(Event, Platform)], rules: &Rules) -> Replay {
    let mut session = Session::new(rules, Options::default());
    let mut sink = Collect::default();
    for (event, platform) in events {
        let host = event
            .fields
            .get("Computer")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        let m = Mapped {
            logsources: input::logsource::basic(*platform, event.category),
            origin: model::Origin {
                provider: "telemetry",
                id: None,
            },
            event: event.clone(),
            platform: *platform,
            host,
            input: 0,
        };
        session.push(m, &mut sink);
    }
    let summary = session.finish(&mut sink);
    Replay::new(sink, summary)
}

/// The table `replay` prints for `r`, rendered by the CLI's own sink.
pub(crate) fn render_text(r: &Replay) -> String {
    let mut bytes = Vec::new();
    {
        let mut sink = table::Table::new(Box::new(&mut bytes), table::Options::default());
        for alert in &r.alerts {
            model::Sink::alert(&mut sink, alert);
        }
        for chain in &r.chains {
            model::Sink::chain(&mut sink, chain);
        }
        let rules = RuleReport::of(&Rules::parse(Vec::new(), Vec::new()));
        let end = Finish {
            summary: &r.summary,
            rules: &rules,
        };
        sink.finish(&end).expect("write to memory");
    }
    String::from_utf8(bytes).expect("the table is UTF-8")
}
