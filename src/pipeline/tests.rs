use super::*;
use crate::progress::Silent;

fn request(dir: &Path, config: Option<PathBuf>, occasion: Occasion) -> Request {
    Request {
        scenario_ids: Vec::new(),
        scenario_paths: Vec::new(),
        rules: Vec::new(),
        fidelity: None,
        config,
        backend: None,
        reports: dir.join("reports"),
        work_root: Some(dir.join("work")),
        polling: Polling::default(),
        record: false,
        sign: None,
        place: Place::Here(occasion),
    }
}

fn config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("chainproof.yaml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

/// A library caller cannot skip the lab guard: a config whose allow-list
/// does not name this host refuses in `prepare`, before any scenario,
/// rule or backend is touched, and nothing is written.
#[tokio::test]
async fn a_caller_outside_the_allow_list_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let host = crate::platform::host::hostname();
    // A scenario path that does not exist: were it read before the guard,
    // the error would be a scenario error, not the guard's.
    let cases = [
        (
            Some("lab:\n  allow: [no-such-lab-host-*]\n"),
            Occasion::ByHand,
        ),
        (
            Some("lab:\n  allow: [no-such-lab-host-*]\n"),
            Occasion::Scheduled,
        ),
        (Some("backends: {}\n"), Occasion::Scheduled),
        (None, Occasion::Scheduled),
    ];
    for (text, occasion) in cases {
        let path = text.map(|t| config(dir.path(), t));
        let mut req = request(dir.path(), path, occasion);
        req.scenario_paths = vec![dir.path().join("missing.yaml")];
        let got = prepare(req, &Silent, &mut crate::stop::never()).await;
        let err = got
            .err()
            .unwrap_or_else(|| panic!("{text:?} {occasion:?} was allowed"));
        assert!(
            matches!(
                err,
                PipelineError::LabRefused { .. } | PipelineError::LabNeedsConfig { .. }
            ),
            "{text:?} {occasion:?}: {err:?}"
        );
        assert_eq!(err.exit_code(), crate::exit::INVALID);
        if let PipelineError::LabRefused { why, .. } = &err {
            assert!(why.contains(&format!("`{host}`")), "{why}");
        }
        assert!(!dir.path().join("reports").exists(), "a report was written");
        assert!(
            !dir.path().join("work").exists(),
            "a run directory was made"
        );
    }
}

/// The allow-list naming this host lets a caller through to the next step
/// (here the missing scenario file), so the refusal above is the guard's.
#[tokio::test]
async fn a_listed_host_passes_the_guard() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let host = crate::platform::host::hostname();
    let path = config(dir.path(), &format!("lab:\n  allow: [\"{host}\"]\n"));
    for occasion in [Occasion::ByHand, Occasion::Scheduled] {
        let mut req = request(dir.path(), Some(path.clone()), occasion);
        req.scenario_paths = vec![dir.path().join("missing.yaml")];
        let got = prepare(req, &Silent, &mut crate::stop::never()).await;
        assert!(
            matches!(got, Err(PipelineError::Scenarios(_))),
            "{occasion:?}: {got:?}"
        );
    }
}

/// A stop that arrived before `execute` runs nothing and writes nothing.
#[tokio::test]
async fn a_stop_before_execute_writes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let req = request(dir.path(), None, Occasion::ByHand);
    let prepared = prepare(req, &Silent, &mut crate::stop::never())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (_tx, stop) = watch::channel(true);
    let got = execute(prepared, &Silent, stop).await;
    assert_eq!(
        got.err().map(|e| e.exit_code()),
        Some(crate::exit::INTERRUPTED)
    );
    assert!(!dir.path().join("reports").exists());
}
