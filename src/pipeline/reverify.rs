//! Re-verification of a recorded run (`chainproof verify`): the same steps
//! as [`super::prepare`] (config read once, scenarios, one rule set, the
//! backend built and checked through [`super::verifier`]), then the record
//! judged again with the expectations it ran with and rewritten.
//!
//! Nothing runs on the host, so no lab guard applies; a scenario whose
//! text differs from the one recorded is refused ([`crate::verify::Mismatch`])
//! unless the record's folder keeps the text that ran.

use std::path::{Path, PathBuf};

use tokio::sync::watch;

use super::{Choice, PipelineError, Progress, config_ref, read_config};
use crate::record::RunRecord;
use crate::verifier;
use crate::verify::{Expectations, Polling};

/// What `chainproof verify` asks for.
#[derive(Debug, Clone)]
pub struct ReverifyRequest {
    /// The run.json to verify.
    pub record: PathBuf,
    /// Scenario files or folders; empty means the built-in set.
    pub scenarios: Vec<PathBuf>,
    /// Sigma rule folders; empty means the shipped rules.
    pub rules: Vec<PathBuf>,
    /// The config file with backend profiles.
    pub config: Option<PathBuf>,
    /// The backend profile's name; `None` is `local`.
    pub backend: Option<String>,
    /// Recorded telemetry to verify against instead of a backend.
    pub telemetry: Vec<PathBuf>,
    /// How long to poll the backend.
    pub polling: Polling,
    /// Where to write the reports; `None` rewrites the record's own folder.
    pub out: Option<PathBuf>,
}

/// A record verified again.
#[derive(Debug)]
pub struct Reverified {
    /// The record with its new verdicts.
    pub record: RunRecord,
    /// Where it was written.
    pub folder: PathBuf,
    /// Which expectations judged each scenario.
    pub expectations: Expectations,
    /// What the bundle rewrite wants the user to know (a signature that
    /// no longer holds), if anything.
    pub note: Option<String>,
}

/// Verifies `request.record` again and rewrites its reports. `stop` ends
/// the backend check and the verification.
pub async fn reverify(
    request: ReverifyRequest,
    progress: &dyn Progress,
    stop: &mut watch::Receiver<bool>,
) -> Result<Reverified, PipelineError> {
    let mut record = crate::report::read_record(&request.record).map_err(PipelineError::Record)?;
    let now = crate::scenario::load_paths(&request.scenarios).map_err(PipelineError::Scenarios)?;
    let folder_of_record = request.record.parent().unwrap_or(Path::new("."));
    let bundle = crate::remote::central::bundled_scenarios(folder_of_record);
    let expectations = crate::verify::expectations(&record, &now, &bundle)?;
    let rules = verifier::load_rules(&request.rules, progress)?;
    let config = read_config(request.config.as_deref())?;
    let choice = Choice {
        profile: verifier::profile(config_ref(&config), request.backend.as_deref())?,
        rules: request.rules.clone(),
        telemetry: request.telemetry.clone(),
        // The runs happened: what the sensor holds now is what it held.
        before_runs: false,
    };
    let verifier = choice.check(rules, progress, stop).await?;
    let exchanges = crate::verify::again(
        &mut record,
        &expectations.scenarios,
        &verifier.backend,
        &verifier.rule_set,
        &verifier.polling(&request.polling),
        stop,
    )
    .await;
    let folder = match &request.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| PipelineError::Folder {
                path: dir.clone(),
                source,
            })?;
            dir.clone()
        }
        None => folder_of_record.to_path_buf(),
    };
    let note =
        crate::bundle::rewrite(&folder, &record, &exchanges).map_err(PipelineError::Write)?;
    Ok(Reverified {
        record,
        folder,
        expectations,
        note,
    })
}
