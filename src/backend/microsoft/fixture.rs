//! Test fixtures shared by the `defender` and `sentinel` conformance tests:
//! a Windows run with a file hop, an open hop and a spawn hop, and the
//! verdicts an answer gives it.

use time::OffsetDateTime;

use crate::backend::RunAnswer;
use crate::backend::conformance::sample_run;
use crate::record::{HopTruth, ScenarioRun, Verdict};
use crate::secret::SecretRef;
use crate::vocab::{HopKind, Platform};

pub const TOKEN: &str = "cp00000000aa";
pub const CLIENT_SECRET: &str = "s3cr3t-client-secret-value";
pub const ACCESS_TOKEN: &str = "eyJ0eXAi.access.token";
pub const DOC: &str = r"C:\Users\lab\Downloads\invoice-cp00000000aa.docm";
pub const WORD: &str = r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE";
pub const CMD: &str = r"C:\Windows\System32\cmd.exe";

/// A JSON object as a result row.
pub fn row(v: serde_json::Value) -> crate::backend::microsoft::table::Row {
    v.as_object().cloned().unwrap_or_default()
}

/// A token answer valid for an hour (or `expires_in` seconds).
pub fn token_answer(expires_in: u64) -> String {
    format!(
        r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"{ACCESS_TOKEN}"}}"#
    )
}

/// The parts of a conformance [`Fixture`](crate::backend::conformance::suite::Fixture)
/// both Microsoft backends share: the app secret, the Windows sample run,
/// and a token request at the start of each round.
macro_rules! microsoft_fixture {
    () => {
        fn secret() -> &'static str {
            $crate::backend::microsoft::fixture::CLIENT_SECRET
        }

        fn issued() -> Option<&'static str> {
            Some($crate::backend::microsoft::fixture::ACCESS_TOKEN)
        }

        fn run(token: &str) -> $crate::record::ScenarioRun {
            $crate::backend::microsoft::fixture::run_with(token)
        }

        fn preamble() -> Vec<$crate::backend::conformance::Answer> {
            vec![$crate::backend::conformance::Answer::ok(
                $crate::backend::microsoft::fixture::token_answer(3599),
            )]
        }

        // Both speak KQL: a quote, a backslash, a pipe and a comment.
        const HOSTILE: &'static str = r#"cp"x\y' | take 1 //"#;

        fn escaped() -> Option<&'static str> {
            Some(r#"contains "cp\"x\\y' | take 1 //""#)
        }

        fn query_text(seen: &$crate::backend::conformance::Seen) -> String {
            $crate::backend::conformance::json_strings(&seen.body)
        }
    };
}
pub(crate) use microsoft_fixture;

/// The client secret as an environment reference, for the shared
/// conformance cases (which build the backend after the profile is made).
pub fn secret_env() -> SecretRef {
    crate::backend::conformance::env_secret("MS_SECRET", CLIENT_SECRET)
}

/// Starts a server playing `script`, builds a backend for its URL with
/// `build` and asks it about the sample run; errors as text.
pub async fn ask<B: crate::backend::Backend>(
    script: Vec<crate::backend::conformance::Answer>,
    build: impl FnOnce(&str) -> Result<B, crate::backend::BackendError>,
) -> (
    Result<Vec<RunAnswer>, String>,
    crate::backend::conformance::Server,
) {
    ask_run(script, run(), build).await
}

/// As [`ask`], about `run`.
pub async fn ask_run<B: crate::backend::Backend>(
    script: Vec<crate::backend::conformance::Answer>,
    run: ScenarioRun,
    build: impl FnOnce(&str) -> Result<B, crate::backend::BackendError>,
) -> (
    Result<Vec<RunAnswer>, String>,
    crate::backend::conformance::Server,
) {
    let server = crate::backend::conformance::Server::start(script).await;
    let got = match build(&server.url) {
        Ok(b) => b
            .query(crate::backend::Query { runs: &[run] })
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    (got, server)
}

/// The verdicts of the sample run from the first answer of `got`.
pub fn verdicts_of(got: &Result<Vec<RunAnswer>, String>) -> Result<Vec<Verdict>, String> {
    let verdicts = crate::backend::conformance::suite::verdicts;
    got.clone().map(|a| verdicts(&run(), &a[0]))
}

/// The sample Windows run with `token` (its document named after it).
pub fn run_with(token: &str) -> ScenarioRun {
    let mut r = run();
    r.token = token.into();
    for h in &mut r.hops {
        h.path = h.path.take().map(|p| p.replace(TOKEN, token));
    }
    r
}

/// Writes the client secret to a file, calls `build` with a reference to
/// it, then removes the file (backends read secrets when built).
pub fn with_secret<T>(build: impl FnOnce(SecretRef) -> T) -> T {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("client-secret");
    std::fs::write(&path, CLIENT_SECRET).unwrap_or_else(|e| panic!("write: {e}"));
    build(SecretRef {
        env: None,
        file: Some(path),
    })
}

fn hop(index: usize, kind: HopKind, pid: Option<u32>, image: &str) -> HopTruth {
    HopTruth {
        index,
        kind,
        label: format!("hop{index}"),
        expected: String::new(),
        pid,
        parent_pid: None,
        image: (!image.is_empty()).then(|| image.to_string()),
        path: (kind == HopKind::File).then(|| DOC.to_string()),
        at: Some(OffsetDateTime::now_utc()),
        happened: true,
        reason: None,
    }
}

/// A completed Windows run: the document (hop 1), Word as pid 10 (hop 2),
/// cmd.exe as pid 11 under it (hop 3).
pub fn run() -> ScenarioRun {
    sample_run(
        TOKEN,
        Platform::Windows,
        vec![
            hop(1, HopKind::File, None, ""),
            hop(2, HopKind::Open, Some(10), WORD),
            hop(3, HopKind::Spawn, Some(11), CMD),
        ],
    )
}

/// Whether `answer` links hop 3 to its parent.
pub fn spawn_linked(run: &ScenarioRun, answer: &RunAnswer, backend: &str) -> Option<bool> {
    let v = crate::verify::decide(
        run,
        None,
        Ok(answer.clone()),
        backend,
        OffsetDateTime::now_utc(),
    );
    v.hops.get(2).and_then(|h| h.linked)
}

/// The Message-ID of the sample run's message (as the record keeps it,
/// without angle brackets; it holds the token).
pub const MESSAGE_ID: &str = "64db894213d2d179.cp00000000aa@fastfreight-delivery.example";
/// Where the sample run's message was delivered on the host.
pub const EML: &str = r"C:\chainproof\work\Mail\Inbox\cp00000000aa.eml";

/// The sample run delivered by email: the message (hop 1), then the
/// document, Word and cmd.exe of [`run`] as hops 2 to 4.
pub fn mail_run() -> ScenarioRun {
    let mut mail = hop(1, HopKind::Mail, None, "");
    mail.expected = MESSAGE_ID.into();
    mail.path = Some(EML.into());
    let mut hops = vec![mail];
    hops.extend(run().hops.into_iter().map(|mut h| {
        h.index += 1;
        h
    }));
    sample_run(TOKEN, Platform::Windows, hops)
}
