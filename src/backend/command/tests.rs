//! The command backend against real programs: the shipped example script,
//! and small `sh` scripts that fail, print garbage, hang or answer for the
//! wrong run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::*;
use crate::backend::ErrorKind;
use crate::backend::conformance::run;
use crate::record::{ScenarioRun, Verdict, test_records};

const TOKEN: &str = "cp00000000aa";
const OTHER: &str = "cp00000000bb";

fn sh(script: &str) -> CommandConfig {
    CommandConfig {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        timeout: Duration::from_secs(10),
        env: BTreeMap::new(),
    }
}

fn verdicts(run: &ScenarioRun, answer: &RunAnswer) -> Vec<Verdict> {
    let v = crate::verify::decide(
        run,
        None,
        Ok(answer.clone()),
        "command",
        OffsetDateTime::now_utc(),
    );
    let mut all: Vec<Verdict> = v.hops.iter().map(|h| h.verdict).collect();
    all.push(v.chain.verdict);
    all
}

/// The error the program gives for `runs`, as data.
async fn fails(config: CommandConfig, runs: &[ScenarioRun]) -> BackendError {
    let backend = Command::new("lab-cmd", &config).unwrap_or_else(|e| panic!("{e}"));
    match backend.query(Query { runs }).await {
        Err(e) => e,
        Ok(a) => panic!("an error expected, got {a:?}"),
    }
}

async fn ask(config: CommandConfig, runs: &[ScenarioRun]) -> Result<Vec<RunAnswer>, String> {
    let backend = Command::new("lab-cmd", &config).map_err(|e| e.to_string())?;
    backend
        .query(Query { runs })
        .await
        .map_err(|e| e.to_string())
}

/// `python3`, or `None` outside CI when it is missing (the test then says
/// so); under `CI` a missing interpreter fails the test.
fn python() -> Option<PathBuf> {
    crate::testing::require_tool("python3").then(|| "python3".into())
}

fn example(events: &Path, alerts: &Path) -> Option<CommandConfig> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/command-backend.py");
    Some(CommandConfig {
        program: python()?,
        args: vec![script.to_string_lossy().into_owned()],
        timeout: Duration::from_secs(20),
        env: BTreeMap::from([
            (
                "CHAINPROOF_EVENTS".into(),
                events.to_string_lossy().into_owned(),
            ),
            (
                "CHAINPROOF_ALERTS".into(),
                alerts.to_string_lossy().into_owned(),
            ),
        ]),
    })
}

#[tokio::test]
async fn the_example_script_answers_each_run_from_its_exports() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (events, alerts) = (
        dir.path().join("events.jsonl"),
        dir.path().join("alerts.jsonl"),
    );
    let lines = [
        format!(
            r#"{{"EventID":1,"UtcTime":"2026-11-26 10:00:00.100","ProcessId":10,"ParentProcessId":1,"Image":"/w/program/soffice.bin","CommandLine":"soffice /d/{TOKEN}.odt"}}"#
        ),
        format!(
            r#"{{"EventID":1,"UtcTime":"2026-11-26 10:00:00.200","ProcessId":"11","ParentProcessId":10,"Image":"/usr/bin/dash","CommandLine":"sh -c \"touch '/d/{TOKEN} x'\""}}"#
        ),
        // Another run's process, with the pid of this run's second hop.
        format!(
            r#"{{"EventID":1,"ProcessId":11,"Image":"/usr/bin/dash","CommandLine":"sh {OTHER}"}}"#
        ),
        String::new(),
        r#"{"EventID":1,"ProcessId":12,"Image":"/usr/bin/true","CommandLine":"unrelated"}"#.into(),
    ];
    std::fs::write(&events, lines.join("\n")).map_err(|e| e.to_string())?;
    let alert = format!(
        r#"{{"rule_id":"r-1","rule_title":"Office Spawns Shell","level":"high","tags":["attack.t1204.002"],"time":"2026-11-26T10:00:01Z","fields":{{"ProcessId":11,"Image":"/usr/bin/dash","CommandLine":"sh {}"}}}}"#,
        TOKEN.to_uppercase()
    );
    std::fs::write(&alerts, alert).map_err(|e| e.to_string())?;
    let Some(config) = example(&events, &alerts) else {
        return Ok(());
    };
    let mut other = run(OTHER);
    other.hops[0].pid = Some(99);
    let runs = [run(TOKEN), other];
    let answers = ask(config.clone(), &runs).await?;
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].events.len(), 2);
    assert_eq!(
        answers[0].events[0].at.map(|t| t.unix_timestamp()),
        Some(
            OffsetDateTime::new_utc(
                time::macros::date!(2026 - 11 - 26),
                time::macros::time!(10:00:00)
            )
            .unix_timestamp()
        )
    );
    assert_eq!(
        verdicts(&runs[0], &answers[0]),
        [Verdict::Observed, Verdict::Alerted, Verdict::Alerted]
    );
    assert_eq!(
        verdicts(&runs[1], &answers[1]),
        [Verdict::Missed, Verdict::Observed, Verdict::Missed]
    );
    let backend = Command::new("lab-cmd", &config).map_err(|e| e.to_string())?;
    backend.check().await.map_err(|e| e.to_string())?;
    let mut unset = config;
    unset.env.insert("CHAINPROOF_EVENTS".into(), String::new());
    let err = ask(unset, &runs).await.err().unwrap_or_default();
    assert!(
        err.contains("lab-cmd") && err.contains("set CHAINPROOF_EVENTS"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn the_program_reads_the_batch_and_its_env() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let seen = dir.path().join("stdin.json");
    let mut config = sh(&format!(
        r#"cat > "$SEEN"; printf '{{"version":1,"runs":[{{"token":"{TOKEN}"}}]}}'"#
    ));
    config
        .env
        .insert("SEEN".into(), seen.to_string_lossy().into_owned());
    let answers = ask(config, &[run(TOKEN)]).await?;
    assert_eq!(answers.len(), 1);
    let input: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&seen).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    assert_eq!(input["version"], 1);
    assert_eq!(input["runs"][0]["token"], TOKEN);
    assert_eq!(input["runs"][0]["platform"], "linux");
    Ok(())
}

#[tokio::test]
async fn answers_go_to_runs_by_token_not_by_order() -> Result<(), String> {
    // The program answers the second run first, with hits for it only.
    let answer = format!(
        r#"{{"version":1,"runs":[{{"token":"{OTHER}","events":[{{"category":"process_creation","fields":{{"ProcessId":10,"Image":"/w/program/soffice.bin"}}}}]}},{{"token":"{TOKEN}"}}]}}"#
    );
    let runs = [run(TOKEN), run(OTHER)];
    let answers = ask(
        sh(&format!("cat >/dev/null; printf '%s' '{answer}'")),
        &runs,
    )
    .await?;
    assert_eq!(
        verdicts(&runs[0], &answers[0]),
        [Verdict::Missed, Verdict::Missed, Verdict::Missed]
    );
    assert_eq!(verdicts(&runs[1], &answers[1])[0], Verdict::Observed);
    // An answer for a token that was not asked for is an error, not a miss.
    let stray = format!(r#"{{"version":1,"runs":[{{"token":"{TOKEN}"}},{{"token":"{OTHER}"}}]}}"#);
    let err = ask(sh(&format!("printf '%s' '{stray}'")), &runs[..1])
        .await
        .err()
        .unwrap_or_default();
    assert!(
        err.contains("lab-cmd") && err.contains("not asked for"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_program_is_an_error_quoting_its_stderr() {
    let err = ask(
        sh("echo 'connecting to lake' >&2; echo 'HTTP 401 from the lake API' >&2; exit 1"),
        &[run(TOKEN)],
    )
    .await
    .err()
    .unwrap_or_default();
    assert!(
        err.contains("lab-cmd") && err.contains("exit status: 1"),
        "{err}"
    );
    assert!(
        err.contains("connecting to lake | HTTP 401 from the lake API"),
        "{err}"
    );
    let err = ask(sh("kill -9 $$"), &[run(TOKEN)])
        .await
        .err()
        .unwrap_or_default();
    assert!(err.contains("signal: 9"), "{err}");
    let mut missing = sh("");
    missing.program = "/nonexistent/chainproof-backend".into();
    let err = ask(missing, &[run(TOKEN)]).await.err().unwrap_or_default();
    assert!(
        err.contains("start program /nonexistent/chainproof-backend"),
        "{err}"
    );
}

#[tokio::test]
async fn garbage_on_stdout_is_an_error_not_a_miss() {
    for out in ["hello", "", r#"{"version":1,"runs":[]"#] {
        let e = fails(sh(&format!("printf '%s' '{out}'")), &[run(TOKEN)]).await;
        assert!(
            matches!(&e.kind, ErrorKind::Malformed { source_name, .. } if source_name.starts_with("answer")),
            "{out}: {e:?}"
        );
    }
}

#[tokio::test]
async fn a_program_past_its_timeout_is_killed_with_its_children() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let pidfile = dir.path().join("child.pid");
    let mut config = sh(r#"sleep 30 & echo $! > "$PIDFILE"; wait"#);
    config.timeout = Duration::from_millis(800);
    config
        .env
        .insert("PIDFILE".into(), pidfile.to_string_lossy().into_owned());
    let start = Instant::now();
    let e = fails(config, &[run(TOKEN)]).await;
    assert!(
        matches!(e.kind, ErrorKind::Timeout { limit: Some(d), .. } if d == Duration::from_millis(800)),
        "{e:?}"
    );
    assert!(e.to_string().contains("did not answer within 800ms"), "{e}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let pid = std::fs::read_to_string(&pidfile).map_err(|e| e.to_string())?;
    let stat = Path::new("/proc").join(pid.trim()).join("stat");
    let gone = || {
        std::fs::read_to_string(&stat)
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|rest| rest.trim_start().starts_with('Z'))
            })
            .unwrap_or(true)
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    while !gone() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gone(),
        "the program's child {} outlived the timeout",
        pid.trim()
    );
    Ok(())
}

#[tokio::test]
async fn a_program_that_ignores_a_large_input_still_answers() -> Result<(), String> {
    let mut big = run(TOKEN);
    big.truth.processes = (0..20_000)
        .map(|pid| crate::record::ProcessTruth {
            command_line: Some(format!("{TOKEN} {pid}")),
            ..test_records::process(pid, 1, "/usr/bin/long-image-name-to-fill-the-pipe")
        })
        .collect();
    let answer = format!(r#"{{"version":1,"runs":[{{"token":"{TOKEN}"}}]}}"#);
    let answers = ask(sh(&format!("printf '%s' '{answer}'")), &[big]).await?;
    assert_eq!(answers.len(), 1);
    Ok(())
}

#[tokio::test]
async fn check_needs_a_valid_empty_answer_and_profiles_are_validated() -> Result<(), String> {
    let ok = Command::new(
        "lab-cmd",
        &sh(r#"cat >/dev/null; echo '{"version":1,"runs":[]}'"#),
    )
    .map_err(|e| e.to_string())?;
    assert_eq!(ok.check().await, Ok(()));
    let bad = Command::new("lab-cmd", &sh("echo '{}'")).map_err(|e| e.to_string())?;
    let err = bad.check().await.err();
    assert!(
        matches!(
            err.as_ref().map(|e| &e.kind),
            Some(ErrorKind::Malformed { .. })
        ),
        "{err:?}"
    );
    let mut empty = sh("");
    empty.program = PathBuf::new();
    let mut zero = sh("");
    zero.timeout = Duration::ZERO;
    let mut env = sh("");
    env.env.insert("A=B".into(), "x".into());
    for (config, want) in [
        (empty, "`program` is empty"),
        (zero, "`timeout`"),
        (env, "`A=B`"),
    ] {
        let err = Command::new("lab-cmd", &config)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("lab-cmd") && err.contains(want), "{err}");
    }
    Ok(())
}

#[test]
fn a_profile_parses_with_defaults_and_rejects_unknown_keys() {
    let yaml = "program: /opt/chainproof/s1-backend\nargs: [--site, lab]\nenv: {S1_CONSOLE: https://s1.lab.example}\n";
    let cfg: Result<CommandConfig, _> = serde_yaml_ng::from_str(yaml);
    let cfg = cfg.map_err(|e| e.to_string());
    assert_eq!(cfg.as_ref().map(|c| c.timeout), Ok(Duration::from_secs(60)));
    assert_eq!(cfg.as_ref().map(|c| c.args.len()), Ok(2));
    let typo: Result<CommandConfig, _> = serde_yaml_ng::from_str("program: x\nargv: []\n");
    assert!(typo.is_err());
}
