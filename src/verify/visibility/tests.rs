use serde_json::json;

use super::*;
use crate::record::test_records;

use Question::*;

fn event(category: Category, fields: serde_json::Value) -> Event {
    Event {
        category,
        arrived: None,
        at: None,
        hop: None,
        fields: fields.as_object().cloned().unwrap_or_default(),
    }
}

/// The file, the opener (pid 10) and a shell (pid 11) it started; the
/// ground truth holds both processes.
fn run() -> ScenarioRun {
    let file = HopTruth {
        path: Some("/home/lab/Downloads/a.odt".into()),
        ..test_records::hop(0, HopKind::File, "file")
    };
    let open = HopTruth {
        pid: Some(10),
        ..test_records::hop(1, HopKind::Open, "open")
    };
    let shell = HopTruth {
        pid: Some(11),
        parent_pid: Some(10),
        ..test_records::hop(2, HopKind::Spawn, "spawn")
    };
    let mut r = ScenarioRun {
        hops: vec![file, open, shell],
        ..test_records::scenario("s")
    };
    r.truth.processes = vec![
        test_records::process(10, 1, "/usr/bin/soffice.bin"),
        test_records::process(11, 10, "/usr/bin/dash"),
    ];
    r
}

fn answer(events: Vec<Event>) -> RunAnswer {
    RunAnswer {
        events,
        ..RunAnswer::default()
    }
}

fn row(v: &[HopVisibility], index: usize) -> (usize, Vec<Question>, Vec<Question>) {
    let r = v
        .iter()
        .find(|h| h.index == index)
        .unwrap_or_else(|| panic!("no row for hop {index}"));
    (r.events, r.answered.clone(), r.unanswered.clone())
}

#[test]
fn each_question_is_answered_only_by_the_fields_of_the_hops_own_events() {
    let events = vec![
        // The file: its path and origin, no user, host or hash.
        event(
            Category::FileEvent,
            json!({"TargetFilename": "/home/lab/Downloads/a.odt", "OriginUrl": "http://127.0.0.1/a.odt"}),
        ),
        // The opener: everything but a hash, and an empty user.
        event(
            Category::ProcessCreation,
            json!({"ProcessId": 10, "ParentProcessId": 1, "Image": "/usr/bin/soffice.bin",
                   "CommandLine": "soffice a.odt", "User": " ", "host": "lab-01"}),
        ),
        // The shell: a Hashes field, but no parent and no command line.
        event(
            Category::ProcessCreation,
            json!({"ProcessId": 11, "Image": "/usr/bin/dash", "User": "lab",
                   "Computer": "lab-01", "Hashes": "SHA256=ab"}),
        ),
    ];
    let v = of(&run(), &answer(events));
    assert_eq!(
        row(&v, 0),
        (1, vec![FilePath, OriginUrl], vec![User, Host, Hash])
    );
    // The opener's child is seen only if an event names pid 10 as parent:
    // the shell's event does not, so children are not answered.
    assert_eq!(
        row(&v, 1),
        (
            1,
            vec![Host, FilePath, Parent, CommandLine],
            vec![User, Hash, Children]
        )
    );
    // The shell had no child in the ground truth: not asked.
    assert_eq!(
        row(&v, 2),
        (
            1,
            vec![User, Host, FilePath, Hash],
            vec![Parent, CommandLine]
        )
    );
}

#[test]
fn a_child_is_an_observed_process_whose_parent_is_the_hop() {
    let events = vec![
        event(
            Category::ProcessCreation,
            json!({"ProcessId": 10, "ParentProcessId": 1}),
        ),
        event(
            Category::ProcessCreation,
            json!({"ProcessId": 11, "ParentProcessId": 10}),
        ),
    ];
    let v = of(&run(), &answer(events));
    assert!(row(&v, 1).1.contains(&Children));
    // An exec in place (same pid) is the hop itself, not a child.
    let events = vec![event(
        Category::ProcessCreation,
        json!({"ProcessId": 10, "ParentProcessId": 10}),
    )];
    assert!(row(&of(&run(), &answer(events)), 1).2.contains(&Children));
}

#[test]
fn no_telemetry_answers_nothing_and_a_hop_that_never_ran_is_not_asked() {
    let mut r = run();
    r.hops[2].happened = false;
    let v = of(&r, &answer(vec![]));
    assert_eq!(v.len(), 2);
    let (events, answered, unanswered) = row(&v, 1);
    assert_eq!((events, answered.len()), (0, 0));
    assert_eq!(unanswered.len(), 7);
}

#[test]
fn the_sentence_says_what_a_backend_holds_always_partly_and_never() {
    let rows = [
        HopVisibility {
            index: 1,
            events: 1,
            answered: vec![Parent, CommandLine, Host],
            unanswered: vec![Hash],
        },
        HopVisibility {
            index: 2,
            events: 1,
            answered: vec![Parent, CommandLine],
            unanswered: vec![Hash, Host],
        },
        HopVisibility {
            index: 0,
            events: 0,
            answered: vec![],
            unanswered: vec![OriginUrl],
        },
    ];
    let t = tally(&rows);
    assert_eq!(
        t.iter()
            .map(|t| (t.question, t.asked, t.answered))
            .collect::<Vec<_>>(),
        [
            (Host, 2, 1),
            (Hash, 2, 0),
            (OriginUrl, 1, 0),
            (Parent, 2, 2),
            (CommandLine, 2, 2)
        ]
    );
    assert_eq!(
        sentence(&t),
        "holds parent and command line; partly host (1 of 2 hops); never hash and origin URL"
    );
    assert_eq!(sentence(&[]), "no hop to ask about");
}
