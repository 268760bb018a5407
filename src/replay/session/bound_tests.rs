//! The open state stays bounded however long the input.

use serde_json::json;

use super::tests::{SYSMON_1, record};
use super::*;
use crate::replay::model::Collect;

#[test]
fn open_state_stays_under_the_cap_over_300k_records() {
    let rules = Rules::parse(Vec::new(), Vec::new());
    let options = Options {
        max_open: 1000,
        ..Options::default()
    };
    let mut session = Session::new(&rules, options);
    let mut sink = Collect::default();
    let mut peak = 0;
    for i in 0..150_000u64 {
        let pid = 1000 + 2 * i;
        let parent = json!({"Image": "/usr/bin/bash", "ProcessId": pid});
        let child = json!({"Image": "/usr/bin/id", "ProcessId": pid + 1,
            "ParentProcessId": pid, "ParentImage": "/usr/bin/bash"});
        for f in [parent, child] {
            let second = (i / 100) as i64;
            session.push(
                record(SYSMON_1, Category::ProcessCreation, None, second, f),
                &mut sink,
            );
            peak = peak.max(session.open());
        }
        // Only the counts matter here.
        sink.chains.clear();
    }
    let summary = session.finish(&mut sink);
    assert!(peak <= 1000, "{peak}");
    assert_eq!(summary.state.peak_open, peak);
    assert_eq!((summary.events, summary.chains), (300_000, 150_000));
    assert!(summary.state.evicted >= 149_000, "{summary:#?}");
}
