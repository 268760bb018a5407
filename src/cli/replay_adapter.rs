//! TEMPORARY adapter, to be deleted when `crate::replay::run` (the
//! streaming evaluator) lands: the whole-input `replay::replay` of before,
//! fed by `replay::input::stream` and turned into the model's alerts,
//! chains and summary, so the output formats and `--fail-on` work now.
//!
//! It keeps every event in memory, as the old path did; only the call in
//! `offline::replay` names it.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde_json::Value;

use super::progress::Meter;
use crate::detect::Rules;
use crate::replay::ReplayError;
use crate::replay::model::{Alert, Chain, Mapped, Node, Origin, Sink, Summary};
use crate::scenario::Platform;
use crate::telemetry::Event;

/// What of a mapped record the old evaluator does not keep.
struct Meta {
    host: Option<String>,
    origin: Origin,
    input: usize,
}

/// Reads `paths`, evaluates them with `rules` and hands alerts (in event
/// order) then chains to `sink`.
pub fn run(
    paths: &[PathBuf],
    rules: &Rules,
    sink: &mut dyn Sink,
    meter: &Meter,
) -> Result<Summary, ReplayError> {
    let mut events: Vec<(Event, Platform)> = Vec::new();
    let mut meta: Vec<Meta> = Vec::new();
    let inputs = crate::replay::input::stream(paths, &mut |m: Mapped| {
        meta.push(Meta {
            host: m.host,
            origin: m.origin,
            input: m.input,
        });
        events.push((m.event, m.platform));
        if events.len().is_multiple_of(256) {
            meter.set(events.len() as u64, None);
        }
    })?;
    meter.set(events.len() as u64, None);
    let result = crate::replay::replay(&events, rules);
    let mut chain_of: HashMap<usize, u64> = HashMap::new();
    let chains: Vec<Chain> = result
        .chains
        .iter()
        .zip(1u64..)
        .map(|(c, id)| {
            for e in c.nodes.iter().filter_map(|n| n.event) {
                chain_of.insert(e, id);
            }
            chain(c, id, &events, &meta)
        })
        .collect();
    let mut alerts = result.alerts;
    alerts.sort_by_key(|(i, _)| *i);
    let name = |input: usize| {
        inputs
            .get(input)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    for (i, hit) in &alerts {
        let (event, platform) = &events[*i];
        let m = &meta[*i];
        sink.alert(&Alert {
            rule_id: hit.rule_id.clone(),
            title: hit.title.clone(),
            level: hit.level.clone(),
            tags: hit.tags.clone(),
            logsource: format!("{platform}/{}", event.category.sigma_name()),
            origin: m.origin,
            host: m.host.clone(),
            time: event.at,
            pid: number(event, "ProcessId"),
            image: text(event, "Image"),
            command_line: text(event, "CommandLine"),
            chain: chain_of.get(i).copied(),
            input: name(m.input),
        });
    }
    for c in &chains {
        sink.chain(c);
    }
    Ok(Summary {
        inputs,
        events: events.len() as u64,
        alerts: alerts.len() as u64,
        by_rule: result
            .by_rule
            .into_iter()
            .map(|(t, n)| (t, n as u64))
            .collect::<BTreeMap<_, _>>(),
        chains: chains.len() as u64,
        alerted_chains: chains.iter().filter(|c| c.alerted()).count() as u64,
        state: Default::default(),
    })
}

fn chain(c: &crate::replay::Chain, id: u64, events: &[(Event, Platform)], meta: &[Meta]) -> Chain {
    let host = c
        .nodes
        .iter()
        .find_map(|n| n.event.and_then(|e| meta[e].host.clone()));
    Chain {
        id,
        host,
        root: c.root.clone(),
        nodes: c
            .nodes
            .iter()
            .map(|n| Node {
                image: n.image.clone(),
                command_line: n.command_line.clone(),
                pid: n.pid,
                depth: n.depth,
                started: n.event.and_then(|e| events[e].0.at),
                sources: n.event.map(|e| vec![meta[e].origin]).unwrap_or_default(),
                alerts: n.alerts.clone(),
            })
            .collect(),
    }
}

fn text(event: &Event, key: &str) -> Option<String> {
    event
        .fields
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A pid as a number, a decimal string or a `0x` hex string (Security 4688).
fn number(event: &Event, key: &str) -> Option<u64> {
    match event.fields.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => s.parse().ok(),
        },
        _ => None,
    }
}
