use time::OffsetDateTime;

use super::*;
use crate::record::{HopTruth, Question, Verdict, test_records};
use crate::vocab::HopKind;

fn verified(
    id: &str,
    backend: &str,
    untied: UntiedAnswers,
    visibility: Vec<HopVisibility>,
) -> ScenarioRun {
    let mut v = test_records::verification(vec![], test_records::chain(Verdict::Observed, None));
    v.backend = backend.into();
    v.untied = untied;
    v.visibility = visibility;
    ScenarioRun {
        hops: vec![HopTruth {
            pid: Some(11),
            ..test_records::hop(2, HopKind::Spawn, "spawn dash")
        }],
        verification: Some(v),
        ..test_records::scenario(id)
    }
}

fn untied(count: usize, sample: &[&str]) -> UntiedAnswers {
    UntiedAnswers {
        count,
        sample: sample.iter().map(|s| s.to_string()).collect(),
    }
}

fn seen(answered: Vec<Question>, unanswered: Vec<Question>) -> Vec<HopVisibility> {
    vec![HopVisibility {
        index: 2,
        events: 1,
        answered,
        unanswered,
    }]
}

#[test]
fn untied_rows_are_the_most_of_one_round_never_added_up_across_runs() {
    let mut r = test_records::record(vec![
        verified("a", "splunk", untied(12, &["{\"n\":1}"]), vec![]),
        verified("b", "splunk", untied(12, &["{\"n\":1}"]), vec![]),
        verified("c", "splunk", untied(3, &["{\"n\":2}"]), vec![]),
    ]);
    assert_eq!(
        readiness_untied(&r),
        untied(12, &["{\"n\":1}", "{\"n\":2}"])
    );
    assert_eq!(
        untied_line(&r).as_deref(),
        Some(
            "12 answers matched the search but named no run (the most in one round); sample in run.json"
        )
    );
    for s in &mut r.scenarios {
        if let Some(v) = s.verification.as_mut() {
            v.untied = UntiedAnswers::default();
        }
    }
    assert_eq!(untied_line(&r), None);
}

fn readiness_untied(r: &RunRecord) -> UntiedAnswers {
    super::untied(r)
}

#[test]
fn containment_is_said_with_the_products_word_the_hop_and_an_honest_time() {
    let run = verified("a", "defender", UntiedAnswers::default(), vec![]);
    let c = |state, ms, confirmed| Containment {
        state,
        hop: Some(2),
        by: Some("Prevented".into()),
        at: Some(OffsetDateTime::UNIX_EPOCH),
        time_to_containment_ms: ms,
        confirmed_by_harness: confirmed,
        responses: vec![],
    };
    assert_eq!(
        containment_text(&c(ContainmentState::Blocked, None, Some(true)), &run),
        "blocked at hop 2 (spawn dash) by the product: Prevented; confirmed by the harness \
         (the hop never ran); time to containment unknown (the product gives no time for it, \
         or the hop has none)"
    );
    assert_eq!(
        containment_text(&c(ContainmentState::Contained, Some(750), None), &run),
        "contained at hop 2 (spawn dash) by the product: Prevented; time to containment 750 ms \
         (from the product's own time)"
    );
    assert!(
        containment_text(&c(ContainmentState::Blocked, None, Some(false)), &run)
            .contains("NOT confirmed")
    );
}

#[test]
fn visibility_is_summarised_per_backend_and_shown_in_the_terminal_summary() {
    use Question::*;
    let mut r = test_records::record(vec![
        verified(
            "a",
            "splunk",
            untied(1, &["{}"]),
            seen(vec![User, Parent], vec![Hash]),
        ),
        verified(
            "b",
            "splunk",
            UntiedAnswers::default(),
            seen(vec![Parent], vec![User, Hash]),
        ),
        verified("c", "local", UntiedAnswers::default(), vec![]),
    ]);
    assert_eq!(
        visibility_by_backend(&r),
        [(
            "splunk".to_string(),
            "holds parent; partly user (1 of 2 hops); never hash".to_string()
        )]
    );
    if let Some(v) = r.scenarios[0].verification.as_mut() {
        v.containment = Some(Containment {
            state: ContainmentState::AlertedOnly,
            hop: None,
            by: None,
            at: None,
            time_to_containment_ms: None,
            confirmed_by_harness: None,
            responses: vec![],
        });
    }
    let table = crate::report::render(&r, crate::report::Format::Table);
    for want in [
        "1 answer matched the search but named no run",
        "containment of alerted chains: 0 blocked, 0 contained, 1 alerted only",
        "visibility, backend splunk: its data holds parent",
    ] {
        assert!(table.contains(want), "{want} not in:\n{table}");
    }
    let md = crate::report::render(&r, crate::report::Format::Md);
    assert!(
        md.contains("Visibility, backend splunk: its data holds parent"),
        "{md}"
    );
    assert!(
        md.contains("| spawn dash | 1 | user, parent | hash |"),
        "{md}"
    );
    assert!(md.contains("- containment: alerted only"), "{md}");
    let html = crate::report::render(&r, crate::report::Format::Html);
    assert!(html.contains("<td class=\"ans yes\">yes</td>"), "{html}");
    assert!(html.contains("1 answer matched the search but named no run"));
}

#[test]
fn an_emulated_host_is_said_first_in_every_report_and_a_real_one_says_nothing() {
    let mut r = test_records::record(Vec::new());
    r.host.platform = crate::vocab::Platform::Windows;
    assert_eq!(environment_line(&r), None);
    assert!(!crate::report::markdown::render(&r).contains("environment:"));
    r.host.environment = Some("wine".into());
    let line = environment_line(&r).unwrap_or_default();
    assert!(
        line.starts_with("environment: wine")
            && line.contains("does not validate a Windows sensor"),
        "{line}"
    );
    assert_eq!(terminal(&r).first(), Some(&line));
    assert!(crate::report::markdown::render(&r).contains("**environment: wine"));
    assert!(crate::report::html::render(&r, &[]).contains("<strong>environment: wine"));
}
