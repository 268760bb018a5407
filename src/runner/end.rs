//! The finishing steps of a plan, run on every path out of a scenario —
//! success, failure, timeout, Ctrl-C: end the run (undo what the journal
//! holds, end the processes), collect the ground truth, remove the run
//! directory — and the ground truth they leave.

use std::path::{Path, PathBuf};

use super::journal::{Entry, Journal};
use super::plan::{Plan, Step, Undo};
use super::{State, cleanup, truth};
use crate::capture::{Capture, CaptureReport};
use crate::record::{FileTruth, GroundTruth, Handoff, MountTruth};
use crate::stage;

/// Runs `plan`'s finishing steps in order and returns the ground truth.
pub(super) fn finish(
    plan: &Plan,
    entry: &Entry,
    journal: &Journal,
    capture: Capture,
    state: &mut State,
) -> GroundTruth {
    let mut capture = Some(capture);
    let mut clean = cleanup::Report::default();
    let mut captured = CaptureReport::default();
    let mut stages = Vec::new();
    let mut files = Vec::new();
    let mut handoffs = Vec::new();
    let mut removed = true;
    // The opener is ended below with every process of the run; its handle
    // is not needed for that.
    state.child = None;
    for step in plan.finishing() {
        match step {
            // The journal entry holds every effect the acting steps left
            // (each written before its step acted): undoing what it holds
            // is undoing what the plan did, also after a crash.
            Step::Stop { .. } => clean = cleanup::stop_all(entry),
            Step::Collect { stage_reports, .. } => {
                if let Some(c) = capture.take() {
                    captured = c.stop();
                }
                stages = stage::read_reports(std::path::Path::new(stage_reports));
                files = describe_files(plan, state, &stages);
                handoffs = handed_off(state, &stages, &files);
            }
            Step::Clean { undo } => {
                for u in undo {
                    if let Undo::RemoveRunDir(dir) = u {
                        let dir = PathBuf::from(dir);
                        removed = std::fs::remove_dir_all(&dir).is_ok() || !dir.exists();
                    }
                }
            }
            _ => {}
        }
    }
    if removed && clean.problems.is_empty() {
        let _ = journal.remove(&plan.token);
    }
    let handle = plan.mount().map(|m| PathBuf::from(&m.handle));
    GroundTruth {
        processes: truth::merge(captured.processes, &stages),
        files,
        mount: state.mount.as_ref().map(|(image, mp, method)| MountTruth {
            image: image.display().to_string(),
            mount_point: mp.display().to_string(),
            method: method.to_string(),
            unmounted: clean.unmounted
                && !crate::platform::effects::this_host()
                    .is_mounted(handle.as_deref().unwrap_or(mp)),
        }),
        sources: sources(&captured.sources, !stages.is_empty()),
        warnings: state
            .warnings
            .iter()
            .chain(&captured.warnings)
            .chain(&clean.problems)
            .cloned()
            .collect(),
        removed_outside: clean.removed_outside.clone(),
        mail: state.mail.take(),
        handoffs,
    }
}

/// A file an application wrote, with the marks read from it and the
/// application's image as its writer.
fn written_by(path: &Path, role: &str, writer: &str) -> Option<FileTruth> {
    let marks: Vec<(String, String)> = crate::platform::marks::read(path).into_iter().collect();
    let mut f = truth::file_truth(path, role, &marks)?;
    f.writer = Some(writer.to_string());
    Some(f)
}

/// Whether each file an application wrote from the delivered one carries
/// an origin mark: what the played applications reported writing, and a
/// real tool's extraction. The marks are those `files` read from the files
/// themselves, not read again.
fn handed_off(state: &State, stages: &[stage::StageReport], files: &[FileTruth]) -> Vec<Handoff> {
    let marks = |path: &Path| -> Vec<String> {
        let path = path.display().to_string();
        files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.origin.keys().cloned().collect())
            .unwrap_or_default()
    };
    let handoff =
        |file: &Path, source: Option<&Path>, from: &str, by: &str, emulated, policy: &str| {
            Handoff {
                file: file.display().to_string(),
                from: from.into(),
                by: by.into(),
                emulated,
                source_marked: source.is_some_and(|s| !marks(s).is_empty()),
                marks: marks(file),
                policy: policy.into(),
            }
        };
    let mut out = Vec::new();
    for s in stages {
        let by = Path::new(&s.exe)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for w in &s.wrote {
            let from = if w.role == "extracted" {
                "archive"
            } else {
                "message"
            };
            let source = Path::new(&w.from);
            out.push(handoff(
                Path::new(&w.path),
                Some(source),
                from,
                &by,
                true,
                &w.policy,
            ));
        }
    }
    if let Some((path, tool)) = &state.extracted {
        let archive = state.artifact.as_ref().map(|(a, _)| a.as_path());
        let policy = crate::artifact::handling::archive_tool(tool).map_or("", |t| t.why);
        out.push(handoff(path, archive, "archive", tool, false, policy));
    }
    out
}

fn sources(capture: &[crate::capture::Source], stage: bool) -> Vec<String> {
    let mut all: Vec<String> = capture
        .iter()
        .map(|s| truth::source_name(*s).to_string())
        .collect();
    if stage {
        all.insert(0, "stage-report".into());
    }
    all
}

fn describe_files(plan: &Plan, state: &State, stages: &[stage::StageReport]) -> Vec<FileTruth> {
    let mut files = Vec::new();
    if let Some((path, marks)) = &state.artifact {
        files.extend(truth::file_truth(path, "artifact", marks));
    }
    if let Some(m) = &state.mail {
        files.extend(truth::file_truth(Path::new(&m.mailbox), "message", &[]));
    }
    // What the played applications wrote: a saved attachment is the file
    // the user opens (the artifact, when it came by mail); an extracted
    // member is what the archive handed on. Their marks are read from the
    // files, not taken from the application's word.
    for s in stages {
        for w in &s.wrote {
            let role = match w.role.as_str() {
                "attachment" if state.artifact.is_none() => "artifact",
                other => other,
            };
            let path = Path::new(&w.path);
            files.extend(written_by(path, role, &s.exe));
        }
    }
    if let Some((path, tool)) = &state.extracted {
        let image = crate::platform::effects::which(tool)
            .map_or_else(|| tool.clone(), |p| p.display().to_string());
        files.extend(written_by(path, "extracted", &image));
    }
    for p in &state.payloads {
        files.extend(truth::file_truth(p, "payload", &[]));
    }
    let proof = plan.steps.iter().find_map(|s| match s {
        Step::Wait { proof, .. } => proof.as_ref(),
        _ => None,
    });
    if let Some(p) = proof {
        files.extend(truth::file_truth(std::path::Path::new(p), "proof", &[]));
    }
    files
}
