//! Plans of shipped scenarios on each platform, built on any host: the
//! steps, their order, a cleanup for every effect, templates rendered.

use super::*;
use crate::scenario::Scenario;

mod delivery;
mod shown;

pub(super) const TOKEN: &str = "cp0123456789";

pub(super) fn scenario(id: &str) -> Scenario {
    let loaded = crate::scenario::load_paths(&[]).unwrap_or_else(|e| panic!("{e:?}"));
    loaded
        .into_iter()
        .find(|l| l.scenario.id == id)
        .unwrap_or_else(|| panic!("no shipped scenario {id}"))
        .scenario
}

pub(super) fn planned(id: &str, platform: Platform, fidelity: Option<Fidelity>) -> Plan {
    make(
        &scenario(id),
        platform,
        fidelity,
        TOKEN,
        &workdir(platform, TOKEN),
        "alice",
    )
    .unwrap_or_else(|e| panic!("{id} on {platform}: {e:?}"))
}

/// A short name per step, to compare orders.
pub(super) fn kinds(plan: &Plan) -> Vec<&'static str> {
    plan.steps
        .iter()
        .map(|s| match s {
            Step::CreateRunDir { .. } => "create",
            Step::StageProgram { .. } => "stand-in",
            Step::BuildArtifact(_) => "build",
            Step::Serve { .. } => "serve",
            Step::Download { .. } => "download",
            Step::Copy { .. } => "copy",
            Step::SendMail(_) => "mail",
            Step::Extract(_) => "extract",
            Step::MarkOrigin { .. } => "mark",
            Step::MakeExecutable { .. } => "chmod",
            Step::StageFile { .. } => "stage-file",
            Step::Mount(_) => "mount",
            Step::Profile(_) => "profile",
            Step::Open(_) => "open",
            Step::Receive(_) => "receive",
            Step::Wait { .. } => "wait",
            Step::Stop { .. } => "stop",
            Step::Collect { .. } => "collect",
            Step::Clean { .. } => "clean",
        })
        .collect()
}

pub(super) fn open_step(plan: &Plan) -> &OpenStep {
    plan.steps
        .iter()
        .find_map(|s| match s {
            Step::Open(o) => Some(o),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{}: no open step", plan.scenario))
}

fn undo(plan: &Plan) -> Vec<&Undo> {
    plan.finishing()
        .iter()
        .flat_map(|s| match s {
            Step::Stop { undo } | Step::Clean { undo } => undo.iter().collect(),
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn steps_come_in_the_order_a_run_takes_them() {
    let http = ["create", "build", "serve", "download", "mark"];
    let end = ["wait", "stop", "collect", "clean"];
    let cases: [(&str, Platform, Option<Fidelity>, &[&str]); 8] = [
        ("macro-doc-shell", Platform::Linux, None, &["open"]),
        (
            "macro-doc-shell",
            Platform::Linux,
            Some(Fidelity::Real),
            &["profile", "open"],
        ),
        (
            "macro-doc-shell",
            Platform::Windows,
            Some(Fidelity::Real),
            &["profile", "open"],
        ),
        ("iso-exec", Platform::Linux, None, &["mount", "open"]),
        ("iso-exec", Platform::Windows, None, &["mount", "open"]),
        ("iso-exec", Platform::Macos, None, &["mount", "open"]),
        (
            "shortcut-script",
            Platform::Linux,
            None,
            &["stage-file", "open"],
        ),
        (
            "executable-download",
            Platform::Linux,
            None,
            &["chmod", "open"],
        ),
    ];
    for (id, platform, fidelity, middle) in cases {
        let want: Vec<&str> = http.iter().chain(middle).chain(&end).copied().collect();
        let plan = planned(id, platform, fidelity);
        assert_eq!(kinds(&plan), want, "{id} on {platform}");
    }
    // Windows runs any .exe: no chmod there.
    let win = planned("executable-download", Platform::Windows, None);
    assert!(!kinds(&win).contains(&"chmod"), "{:?}", kinds(&win));
}

#[test]
fn every_effect_of_every_shipped_plan_has_its_undo() {
    let loaded = crate::scenario::load_paths(&[]).unwrap_or_else(|e| panic!("{e:?}"));
    let mut effects_seen = 0;
    for l in &loaded {
        for platform in Platform::ALL {
            for fidelity in [Fidelity::Emulated, Fidelity::Real] {
                let Ok(plan) = make(&l.scenario, platform, Some(fidelity), TOKEN, "/w", "u") else {
                    continue;
                };
                let undo = undo(&plan);
                for effect in plan.effects() {
                    effects_seen += 1;
                    assert!(
                        undo.iter().any(|u| u.undoes(&effect)),
                        "{} on {platform}: nothing undoes {effect:?}",
                        plan.scenario
                    );
                }
                assert!(undo.contains(&&Undo::EndProcesses), "{}", plan.scenario);
                assert_eq!(
                    undo.last(),
                    Some(&&Undo::RemoveRunDir("/w".into())),
                    "{}: the run directory goes last",
                    plan.scenario
                );
                assert_eq!(plan.finishing().len(), 3, "{}", plan.scenario);
                assert!(plan.acting().iter().all(|s| !s.finishes()));
            }
        }
    }
    // Mounts, Trusted Locations, .reg keys and office sockets were all seen.
    assert!(effects_seen >= 8, "{effects_seen}");
}

#[test]
fn every_template_is_rendered() {
    let loaded = crate::scenario::load_paths(&[]).unwrap_or_else(|e| panic!("{e:?}"));
    for l in &loaded {
        for platform in Platform::ALL {
            for fidelity in [Fidelity::Emulated, Fidelity::Real] {
                let Ok(plan) = make(&l.scenario, platform, Some(fidelity), TOKEN, "/w", "u") else {
                    continue;
                };
                // A rendered plan holds no `{name}` but in the opener's
                // templates, kept to render again once a drive letter is known.
                let mut steps = plan.steps.clone();
                for step in &mut steps {
                    if let Step::Open(OpenStep {
                        program: Program::Real { template, .. },
                        ..
                    }) = step
                    {
                        template.clear();
                    }
                }
                let rest = format!("{steps:?}{:?}", plan.chain).replace(r"<drive>:", "");
                for name in crate::scenario::template::KNOWN {
                    assert!(
                        !rest.contains(&format!("{{{name}}}")),
                        "{} on {platform}: {{{name}}} left in {rest}",
                        plan.scenario
                    );
                }
                assert!(rest.contains(TOKEN), "{}", plan.scenario);
            }
        }
    }
}

#[test]
fn real_and_emulated_openers_differ_as_the_scenario_says() {
    let emulated = planned("macro-doc-shell", Platform::Linux, Some(Fidelity::Emulated));
    match &open_step(&emulated).program {
        Program::Stage {
            name,
            path,
            args,
            starts,
        } => {
            assert_eq!(name, "soffice.bin");
            assert_eq!(path, "/tmp/chainproof-cp0123456789/program/soffice.bin");
            assert_eq!(
                args[1],
                "/tmp/chainproof-cp0123456789/Downloads/Invoice-cp0123456789.odt"
            );
            assert_eq!(*starts, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emulated.opener, "soffice.bin");
    assert!(open_step(&emulated).env.is_empty());
    let real = planned("macro-doc-shell", Platform::Linux, Some(Fidelity::Real));
    let open = open_step(&real);
    match &open.program {
        Program::Real { argv, .. } => assert_eq!(
            argv[4],
            "-env:UserInstallation=file:///tmp/chainproof-cp0123456789/profile"
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        open.env
            .contains(&("HOME".into(), "/tmp/chainproof-cp0123456789/home".into()))
    );
    assert_eq!(real.effects(), vec![Effect::OfficeSockets]);
    // By association, the emulated application starts the first step itself.
    let script = planned("script-double-click", Platform::Linux, None);
    match &open_step(&script).program {
        Program::Stage {
            starts: Some(argv), ..
        } => assert_eq!(argv, &script.chain[0]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn mounts_differ_by_platform() {
    let linux = planned("iso-exec", Platform::Linux, None);
    let m = linux.mount().unwrap_or_else(|| panic!("no mount"));
    assert_eq!(
        m.at,
        MountAt::Dir("/tmp/chainproof-cp0123456789/media/Invoice-cp0123456789".into())
    );
    assert_eq!(
        m.handle,
        "/tmp/chainproof-cp0123456789/media/Invoice-cp0123456789"
    );
    let mac = planned("iso-exec", Platform::Macos, None);
    assert_eq!(
        mac.mount().map(|m| &m.at),
        Some(&MountAt::Dir("/Volumes/chainproof-cp0123456789".into()))
    );
    // Windows picks the drive letter; unmounting goes by the image.
    let win = planned("vhd-exec", Platform::Windows, None);
    let m = win.mount().unwrap_or_else(|| panic!("no mount"));
    assert_eq!(m.at, MountAt::DriveLetter);
    assert_eq!(m.handle, m.image);
    assert!(m.needs_admin);
    assert!(
        !planned("iso-exec", Platform::Windows, None)
            .mount()
            .is_some_and(|m| m.needs_admin)
    );
}

#[test]
fn windows_registry_effects_are_journaled_and_undone() {
    let reg = planned("reg-import", Platform::Windows, None);
    let key = r"HKCU\Software\chainproof\cp0123456789".to_string();
    assert_eq!(reg.effects(), vec![Effect::RegistryKey(key.clone())]);
    assert!(undo(&reg).contains(&&Undo::DeleteRegistryKey(key)));
    let word = planned("macro-doc-shell", Platform::Windows, Some(Fidelity::Real));
    let trusted = r"HKCU\Software\Microsoft\Office\16.0\Word\Security\Trusted Locations\chainproof-cp0123456789";
    assert_eq!(word.effects(), vec![Effect::RegistryKey(trusted.into())]);
    // Trusted Locations exist only on Windows.
    let mut s = scenario("macro-doc-shell");
    s.variants.linux = s.variants.windows.clone();
    assert!(matches!(
        make(&s, Platform::Linux, Some(Fidelity::Real), TOKEN, "/w", "u"),
        Err(Skip::NotHere(Fidelity::Real, _))
    ));
}

#[test]
fn a_negative_control_plans_like_an_attack() {
    let control = planned("control-office-helper", Platform::Linux, None);
    assert!(control.artifact().is_some_and(|a| a.carried.is_none()));
    assert!(control.effects().is_empty());
    assert!(matches!(
        make(
            &scenario("reg-import"),
            Platform::Linux,
            None,
            TOKEN,
            "/w",
            "u"
        ),
        Err(Skip::NoVariant)
    ));
    assert!(matches!(
        make(
            &scenario("iso-exec"),
            Platform::Linux,
            Some(Fidelity::Emulated),
            TOKEN,
            "/w",
            "u"
        ),
        Err(Skip::NoOpener(Some(Fidelity::Emulated)))
    ));
}

#[test]
fn plans_print_one_numbered_line_per_action() {
    let cases = [
        ("macro-doc-shell", Platform::Linux, Some(Fidelity::Real)),
        ("macro-doc-shell", Platform::Windows, Some(Fidelity::Real)),
        ("macro-doc-shell", Platform::Macos, None),
        ("shortcut-script", Platform::Linux, None),
        ("shortcut-script", Platform::Windows, None),
        ("iso-exec", Platform::Linux, None),
        ("iso-exec", Platform::Windows, None),
        ("iso-exec", Platform::Macos, None),
        ("script-double-click", Platform::Linux, None),
        ("control-office-helper", Platform::Windows, None),
        ("reg-import", Platform::Windows, None),
        ("mail-zip-shortcut", Platform::Linux, None),
        ("mail-macro-doc", Platform::Windows, None),
        ("zip-iso", Platform::Linux, Some(Fidelity::Real)),
    ];
    for (id, platform, fidelity) in cases {
        let fid = fidelity.map_or("default", |f| match f {
            Fidelity::Real => "real",
            Fidelity::Emulated => "emulated",
        });
        let text = render(&planned(id, platform, fidelity));
        insta::assert_snapshot!(format!("{id}-{platform}-{fid}"), text);
    }
}

#[test]
fn windows_plan_names_the_windows_mechanisms() -> Result<(), String> {
    let loaded = crate::scenario::load_paths(&[]).map_err(|e| format!("{e:?}"))?;
    let text: String = loaded
        .iter()
        .map(|l| plan(&l.scenario, Platform::Windows, None, TOKEN))
        .collect();
    for want in [
        "WINWORD.EXE",
        "Zone.Identifier",
        "Mount-DiskImage",
        "explorer.exe",
        "cmd.exe",
        TOKEN,
    ] {
        assert!(text.contains(want), "windows plan lacks {want}:\n{text}");
    }
    let mac: String = loaded
        .iter()
        .map(|l| plan(&l.scenario, Platform::Macos, None, TOKEN))
        .collect();
    for want in [
        "'Microsoft Word'",
        "com.apple.quarantine",
        "hdiutil",
        "osascript",
    ] {
        assert!(mac.contains(want), "macos plan lacks {want}:\n{mac}");
    }
    Ok(())
}
