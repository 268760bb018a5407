use super::*;
use crate::vocab::{Fidelity, Platform};

/// Before each step that leaves something outside the run directory
/// acts, the journal on disk already names it, so `chainproof cleanup`
/// could undo it after a crash at that point; the entry passes the
/// journal's own check.
#[test]
fn each_effect_is_on_disk_before_its_step_acts() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let journal = Journal::under(dir.path());
    let token = "cp0123456789";
    let workdir = dir.path().join(format!("chainproof-{token}"));
    let loaded = crate::scenario::load_paths(&[]).map_err(|e| format!("{e:?}"))?;
    let mut checked = 0;
    for (id, fidelity) in [
        ("iso-exec", None),
        ("macro-doc-shell", Some(Fidelity::Real)),
    ] {
        let scenario = &loaded
            .iter()
            .find(|l| l.scenario.id == id)
            .ok_or("no scenario")?
            .scenario;
        let plan = super::super::plan::make(
            scenario,
            Platform::Linux,
            fidelity,
            token,
            &workdir.display().to_string(),
            "u",
        )
        .map_err(|e| format!("{e:?}"))?;
        let mut entry = Entry {
            token: token.into(),
            scenario: id.into(),
            workdir: workdir.clone(),
            mount_point: None,
            harness_pid: std::process::id(),
            harness_start_ticks: None,
            office_since_unix: None,
            registry_keys: Vec::new(),
        };
        journal.write(&entry).map_err(|e| e.to_string())?;
        for step in plan.acting() {
            journal_effects(step, &mut entry, &journal).map_err(|(_, e)| e)?;
            let (on_disk, refused) = journal.entries().map_err(|e| e.to_string())?;
            assert!(refused.is_empty(), "{refused:?}");
            assert_eq!(on_disk, vec![entry.clone()]);
            for effect in step.effects() {
                checked += 1;
                match effect {
                    Effect::Mount { handle } => {
                        assert_eq!(on_disk[0].mount_point, Some(PathBuf::from(handle)));
                    }
                    Effect::OfficeSockets => assert!(on_disk[0].office_since_unix.is_some()),
                    Effect::RegistryKey(k) => assert!(on_disk[0].registry_keys.contains(&k)),
                }
            }
        }
    }
    assert_eq!(checked, 2, "a mount and the office's sockets");
    Ok(())
}
