//! Fleet records: several run records (one per host) merged into one, so the
//! matrix reads hosts × scenarios × hops (`chainproof merge`).
//!
//! Each scenario of the merged record names the host it ran on
//! ([`ScenarioRun::host`]); the record's own [`Host`] is a synthetic one that
//! describes the fleet. The schema stays `chainproof.run/v1`: a single-host
//! record simply leaves every scenario's `host` out.

use std::collections::BTreeSet;

use super::{Host, RuleSet, RunRecord, SCHEMA, ScenarioRun};

/// Why records could not be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// No record was given.
    #[error("merge run records: no record given")]
    Empty,
    /// The same run of the same host was given twice (a file given twice).
    #[error("merge run records: run {run_id} of host {host} is given twice")]
    Duplicate {
        /// Host name of the record.
        host: String,
        /// Run id of the record.
        run_id: String,
    },
}

/// Merges `records` into one fleet record, scenarios in the order given.
///
/// The result has a new `run_id`, the earliest start and the latest end, a
/// synthetic host (`fleet of N hosts`, the first record's platform, the
/// common OS or `mixed`, no kernel or user, privileged only when every record
/// was), the union of the rule sources with the largest rule count, and every
/// scenario with its `host` set to its record's host name (a scenario that
/// already names a host, from an earlier merge, keeps it).
///
/// Fails on empty input and when two records share host name and run id.
pub fn merge(records: Vec<RunRecord>) -> Result<RunRecord, MergeError> {
    let first = records.first().ok_or(MergeError::Empty)?;
    let platform = first.host.platform;
    let os = first.host.os.clone();
    let mut started_at = first.started_at;
    let mut finished_at = first.finished_at;
    let mut seen = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let mut common_os = Some(os);
    let mut privileged = true;
    // An emulated host (`wine`) taints the fleet: its chains test the
    // harness, not a sensor, and the merged record must not hide that.
    let mut environments: BTreeSet<String> = BTreeSet::new();
    let mut rules = RuleSet {
        sources: Vec::new(),
        count: 0,
        load: None,
        blind: Vec::new(),
    };
    // A rule is blind on the fleet's data only when it is blind on every
    // host's: one host whose backend holds its fields lets it fire.
    let mut blind: Option<Vec<crate::record::BlindRule>> = None;
    let mut loads = Vec::new();
    let mut scenarios = Vec::new();
    let mut targets_not_run = Vec::new();
    for record in records {
        if !seen.insert((record.host.name.clone(), record.run_id.clone())) {
            return Err(MergeError::Duplicate {
                host: record.host.name,
                run_id: record.run_id,
            });
        }
        started_at = started_at.min(record.started_at);
        finished_at = finished_at.max(record.finished_at);
        if common_os.as_deref() != Some(record.host.os.as_str()) {
            common_os = None;
        }
        privileged &= record.host.privileged;
        environments.extend(record.host.environment.clone());
        blind = Some(match blind {
            None => record.rules.blind.clone(),
            Some(so_far) => so_far
                .into_iter()
                .filter(|b| record.rules.blind.iter().any(|r| r.rule == b.rule))
                .collect(),
        });
        for source in record.rules.sources {
            if !rules.sources.contains(&source) {
                rules.sources.push(source);
            }
        }
        rules.count = rules.count.max(record.rules.count);
        // One load for the fleet only when every host loaded the same; a
        // mix would be a summary of no host's rules.
        loads.push(record.rules.load);
        if record.scenarios.is_empty() {
            hosts.insert(record.host.name.clone());
        }
        for mut run in record.scenarios {
            let host = run.host.get_or_insert_with(|| record.host.name.clone());
            hosts.insert(host.clone());
            scenarios.push(run);
        }
        targets_not_run.extend(record.targets_not_run);
    }
    if loads.windows(2).all(|w| w[0] == w[1]) {
        rules.load = loads.into_iter().next().flatten();
    }
    rules.blind = blind.unwrap_or_default();
    let n = hosts.len();
    Ok(RunRecord {
        schema: SCHEMA.to_string(),
        run_id: crate::token::new(),
        chainproof_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        finished_at,
        host: Host {
            name: format!("fleet of {n} host{}", if n == 1 { "" } else { "s" }),
            platform,
            os: common_os.unwrap_or_else(|| "mixed".to_string()),
            kernel: String::new(),
            user: String::new(),
            privileged,
            environment: (!environments.is_empty())
                .then(|| environments.into_iter().collect::<Vec<_>>().join(", ")),
        },
        rules,
        scenarios,
        targets_not_run,
    })
}

/// The host `run` ran on: its own `host`, else the record's.
pub fn host_of<'a>(record: &'a RunRecord, run: &'a ScenarioRun) -> &'a str {
    run.host.as_deref().unwrap_or(&record.host.name)
}

/// The name that tells a scenario run apart in comparisons (`gate`,
/// `diff`): its id, prefixed `host/` in a fleet record, so one host's cell
/// is never compared with another's.
pub fn scoped_id(run: &ScenarioRun) -> String {
    match &run.host {
        Some(host) => format!("{host}/{}", run.id),
        None => run.id.clone(),
    }
}

/// Whether the record is a fleet record (its scenarios name their hosts,
/// as `merge` and remote runs write them, even for one host): reports then
/// show a host column.
pub fn is_fleet(record: &RunRecord) -> bool {
    record.scenarios.iter().any(|s| s.host.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::matrix::Matrix;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const BASELINE: &str = include_str!("../../ci/baseline/run.json");

    fn record(host: &str, run_id: &str) -> Result<RunRecord, serde_json::Error> {
        let mut r: RunRecord = serde_json::from_str(BASELINE)?;
        r.host.name = host.into();
        r.run_id = run_id.into();
        Ok(r)
    }

    #[test]
    fn a_fleet_keeps_the_rule_load_only_when_every_host_had_the_same() -> TestResult {
        let load = crate::record::RuleLoad {
            files: 4,
            loaded: 3,
            ..Default::default()
        };
        let mut a = record("lab-a", "cpaaaaaaaaaa")?;
        let mut b = record("lab-b", "cpbbbbbbbbbb")?;
        a.rules.load = Some(load.clone());
        b.rules.load = Some(load.clone());
        let same = merge(vec![a.clone(), b.clone()])?;
        assert_eq!(same.rules.load, Some(load));
        b.rules.load = None;
        assert_eq!(merge(vec![a, b])?.rules.load, None);
        Ok(())
    }

    #[test]
    fn a_rule_is_blind_on_a_fleet_only_when_blind_on_every_host() -> TestResult {
        let blind = |rule: &str| crate::record::BlindRule {
            rule: rule.into(),
            title: rule.into(),
            missing: vec!["ParentImage".into()],
        };
        let mut a = record("lab-a", "cpaaaaaaaaaa")?;
        let mut b = record("lab-b", "cpbbbbbbbbbb")?;
        a.rules.blind = vec![blind("r1"), blind("r2")];
        b.rules.blind = vec![blind("r2"), blind("r3")];
        assert_eq!(merge(vec![a, b])?.rules.blind, [blind("r2")]);
        Ok(())
    }

    #[test]
    fn two_hosts_make_six_rows_with_a_host_column() -> TestResult {
        let a = record("lab-a", "cpaaaaaaaaaa")?;
        let mut b = record("lab-b", "cpbbbbbbbbbb")?;
        b.started_at -= time::Duration::hours(1);
        b.finished_at += time::Duration::hours(1);
        b.host.privileged = false;
        b.rules.sources.push("rules/extra".into());
        b.rules.count = 9;
        let (start, end) = (b.started_at, b.finished_at);
        let fleet = merge(vec![a, b])?;
        assert_eq!(fleet.scenarios.len(), 6);
        let hosts: Vec<&str> = fleet
            .scenarios
            .iter()
            .map(|s| s.host.as_deref().unwrap_or("?"))
            .collect();
        assert_eq!(
            hosts,
            ["lab-a", "lab-a", "lab-a", "lab-b", "lab-b", "lab-b"]
        );
        assert_eq!((fleet.started_at, fleet.finished_at), (start, end));
        assert_eq!(fleet.host.name, "fleet of 2 hosts");
        assert_eq!(fleet.host.os, "Debian GNU/Linux 12 (bookworm)");
        assert!(!fleet.host.privileged);
        assert_eq!(fleet.rules.count, 9);
        assert_eq!(
            fleet.rules.sources,
            ["<embedded>/detections", "rules/extra"]
        );
        assert!(crate::token::is_token(&fleet.run_id));
        assert_eq!(fleet.schema, SCHEMA);
        assert!(is_fleet(&fleet));

        let m = Matrix::of(&fleet);
        assert_eq!(m.headers()[0], "host");
        assert_eq!(m.rows.len(), 6);
        assert_eq!(m.cells(&m.rows[3])[..2], ["lab-b", "macro-doc-shell"]);
        let table = crate::report::matrix::table(&m);
        assert!(
            table.contains("lab-a") && table.contains("lab-b"),
            "{table}"
        );
        Ok(())
    }

    #[test]
    fn junit_and_html_name_the_host_of_each_chain_in_a_fleet() -> TestResult {
        let fleet = merge(vec![
            record("lab-a", "cpaaaaaaaaaa")?,
            record("lab-b", "cpbbbbbbbbbb")?,
        ])?;
        let junit = crate::report::junit::render(&fleet);
        for host in ["lab-a", "lab-b"] {
            let suite = format!("name=\"{host}: macro-doc-shell (linux)\"");
            assert_eq!(junit.matches(&suite).count(), 1, "{suite}:\n{junit}");
            assert!(junit.contains(&format!("name=\"host\" value=\"{host}\"")));
            let html = crate::report::html::render(&fleet, &[]);
            assert!(html.contains(&format!("<h2>Chain macro-doc-shell on {host} ")));
        }
        // A single-host record keeps its names.
        let single = crate::report::junit::render(&record("lab-a", "cpaaaaaaaaaa")?);
        assert!(
            single.contains("name=\"macro-doc-shell (linux)\""),
            "{single}"
        );
        Ok(())
    }

    #[test]
    fn targets_not_run_show_in_the_summary_html_and_junit_and_survive_a_merge() -> TestResult {
        let mut fleet = merge(vec![record("lab-a", "cpaaaaaaaaaa")?])?;
        fleet.targets_not_run.push(crate::record::TargetNotRun {
            name: "lab-<b>".into(),
            url: "ssh://root@lab-b".into(),
            step: "connect".into(),
            reason: "unreachable: Connection refused".into(),
        });
        let table = crate::report::render(&fleet, crate::report::Format::Table);
        assert!(table.contains("; 1 target NOT RUN"), "{table}");
        let html = crate::report::html::render(&fleet, &[]);
        assert!(html.contains("<h3>Targets not run</h3>"));
        assert!(html.contains("<td>lab-&lt;b&gt;</td>") && html.contains("Connection refused"));
        let junit = crate::report::junit::render(&fleet);
        assert!(junit.contains("type=\"target-connect\""), "{junit}");
        assert!(junit.contains("errors=\"1\""), "{junit}");
        // Kept through JSON and a second merge.
        let json = crate::report::render(&fleet, crate::report::Format::Json);
        let back: RunRecord = serde_json::from_str(&json)?;
        let again = merge(vec![back, record("lab-c", "cpcccccccccc")?])?;
        assert_eq!(again.targets_not_run, fleet.targets_not_run);
        // A record without any leaves the field out.
        let single = crate::report::render(
            &record("lab-a", "cpaaaaaaaaaa")?,
            crate::report::Format::Json,
        );
        assert!(!single.contains("targets_not_run"));
        Ok(())
    }

    #[test]
    fn gate_and_diff_compare_each_host_with_itself() -> TestResult {
        let before = merge(vec![
            record("lab-a", "cpaaaaaaaaaa")?,
            record("lab-b", "cpbbbbbbbbbb")?,
        ])?;
        // lab-b loses every alert; lab-a is unchanged.
        let mut b2 = record("lab-b", "cpbcbcbcbcbc")?;
        for s in &mut b2.scenarios {
            if let Some(v) = &mut s.verification {
                v.alerts.clear();
                for h in &mut v.hops {
                    if h.verdict == crate::record::Verdict::Alerted {
                        h.verdict = crate::record::Verdict::Observed;
                        h.grade = None;
                    }
                }
                if v.chain.verdict == crate::record::Verdict::Alerted {
                    v.chain.verdict = crate::record::Verdict::Observed;
                    v.chain.grade = None;
                }
            }
        }
        let after = merge(vec![record("lab-a", "cpacacacacac")?, b2])?;
        let changes = crate::history::diff(&before, &after);
        assert!(!changes.is_empty());
        assert!(
            changes.iter().all(|c| c.scenario.starts_with("lab-b/")),
            "{changes:?}"
        );
        let gate = crate::gate::compare(&before, &after, &crate::gate::Policy::default());
        assert!(!gate.regressions.is_empty());
        assert!(
            gate.regressions
                .iter()
                .all(|c| c.scenario.starts_with("lab-b/")),
            "{:?}",
            gate.regressions
        );
        // `ignore` names scenario ids and covers every host.
        let ids: Vec<String> = before.scenarios.iter().map(|s| s.id.clone()).collect();
        let policy = crate::gate::Policy {
            ignore: ids,
            ..crate::gate::Policy::default()
        };
        assert!(
            crate::gate::compare(&before, &after, &policy)
                .regressions
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn the_os_is_mixed_when_hosts_differ_and_hosts_survive_a_second_merge() -> TestResult {
        let a = record("lab-a", "cpaaaaaaaaaa")?;
        let mut b = record("lab-b", "cpbbbbbbbbbb")?;
        b.host.os = "Fedora 41".into();
        let fleet = merge(vec![a, b])?;
        assert_eq!(fleet.host.os, "mixed");
        let c = record("lab-c", "cpcccccccccc")?;
        let bigger = merge(vec![fleet, c])?;
        assert_eq!(bigger.host.name, "fleet of 3 hosts");
        assert_eq!(bigger.scenarios[0].host.as_deref(), Some("lab-a"));
        assert_eq!(bigger.scenarios[8].host.as_deref(), Some("lab-c"));
        Ok(())
    }

    #[test]
    fn a_record_given_twice_and_empty_input_are_refused() -> TestResult {
        let a = record("lab-a", "cpaaaaaaaaaa")?;
        assert_eq!(
            merge(vec![a.clone(), a.clone()]),
            Err(MergeError::Duplicate {
                host: "lab-a".into(),
                run_id: "cpaaaaaaaaaa".into()
            })
        );
        assert_eq!(merge(Vec::new()), Err(MergeError::Empty));
        // Another run of the same host is not a duplicate.
        let again = record("lab-a", "cpababababab")?;
        assert_eq!(merge(vec![a, again])?.scenarios.len(), 6);
        Ok(())
    }

    #[test]
    fn a_single_host_record_has_no_host_column_and_a_merged_one_has() -> TestResult {
        let a = record("lab-a", "cpaaaaaaaaaa")?;
        assert!(!is_fleet(&a));
        let before = crate::report::matrix::table(&Matrix::of(&a));
        assert!(!before.contains("host"), "{before}");
        assert_eq!(Matrix::of(&a).headers()[0], "scenario");
        // A merge of one record (a remote run of one target) names its host.
        let merged = merge(vec![a.clone()])?;
        assert!(is_fleet(&merged));
        assert_eq!(Matrix::of(&merged).headers()[0], "host");
        // A scenario without a host leaves the field out of the record.
        assert!(
            serde_json::to_value(&a)?["scenarios"][0]
                .get("host")
                .is_none()
        );
        Ok(())
    }
}
