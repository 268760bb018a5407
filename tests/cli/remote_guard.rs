//! The lab guard of remote runs: refused targets, ssh aliases, a backend
//! that does not answer and bad --remote-dir values all stop the run before
//! any connection (a recording `ssh` on PATH proves it).

use super::remote::{BIN, config, text};

#[test]
fn targets_outside_the_allow_list_are_refused_before_any_connection() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // An `ssh` on the PATH that records any start, except `ssh -G` (which
    // only prints the resolved config and never connects): that one is
    // handed to the real client, so the guard sees real resolution.
    let fake = dir.path().join("bin");
    std::fs::create_dir_all(&fake).unwrap_or_else(|e| panic!("{e}"));
    let marker = dir.path().join("ssh-was-started");
    let script = fake.join("ssh");
    super::common::write_script(
        &script,
        &format!(
            "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -G ] && exec /usr/bin/ssh \"$@\"; done\n\
             touch {}\nexit 255\n",
            marker.display()
        ),
    );
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let inventory = dir.path().join("targets.yaml");
    std::fs::write(
        &inventory,
        "targets:\n  - ssh://lab@lab-linux-01\n  - url: ssh://root@laptop.corp\n    name: laptop\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let cfg = config(dir.path(), "lab-linux-*");
    let run = |args: &[&str], with_config: bool| {
        let mut c = std::process::Command::new(BIN);
        c.env("PATH", &path)
            .arg("run")
            .args(args)
            .arg("--reports")
            .arg(dir.path().join("reports"));
        if with_config {
            c.arg("--config").arg(&cfg);
        }
        c.output().unwrap_or_else(|e| panic!("run: {e}"))
    };
    let out = run(&["--targets", &inventory.display().to_string()], true);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("host `laptop.corp` is not in the config's lab allow-list"),
        "{all}"
    );
    assert!(all.contains("no connection was made"), "{all}");
    let out = run(&["--target", "ssh://lab@lab-linux-01"], false);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("remote runs need --config"),
        "{}",
        text(&out)
    );
    // An allowed name that the ssh config sends elsewhere is refused.
    let ssh_config = dir.path().join("ssh_config");
    std::fs::write(&ssh_config, "Host lab-linux-01\n  HostName laptop.corp\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let cfg_arg = ssh_config.display().to_string();
    let out = run(
        &[
            "--target",
            "ssh://lab@lab-linux-01",
            "--ssh-config",
            &cfg_arg,
        ],
        true,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`lab-linux-01` is an ssh alias for `laptop.corp`"),
        "{}",
        text(&out)
    );
    // A backend that does not answer stops the run before any target.
    let bad_backend = dir.path().join("backend.yaml");
    std::fs::write(
        &bad_backend,
        "lab:\n  allow: [lab-linux-*]\nbackends:\n  siem:\n    kind: splunk\n    \
         url: http://127.0.0.1:9\n    timeout: 1s\n    auth: { type: bearer, token: { env: CP_NO_TOKEN } }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(BIN)
        .env("PATH", &path)
        .env("CP_NO_TOKEN", "x")
        .args([
            "run",
            "--target",
            "ssh://lab@lab-linux-01",
            "--backend",
            "siem",
            "--config",
        ])
        .arg(&bad_backend)
        .arg("--reports")
        .arg(dir.path().join("reports"))
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        !marker.exists(),
        "ssh connected although the backend check failed"
    );
    for bad in ["", "-x", "~root/x"] {
        let arg = format!("--remote-dir={bad}");
        let out = run(&["--target", "ssh://lab@lab-linux-01", &arg], true);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
        assert!(
            text(&out).contains("--remote-dir `"),
            "{bad:?}: {}",
            text(&out)
        );
    }
    // --dry-run lists the allowed targets and connects to none.
    let out = run(&["--dry-run", "--target", "ssh://lab@lab-linux-01"], true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("not contacted")
            && text(&out).contains("dry run: nothing was executed")
    );
    let out = run(&["--dry-run", "--target", "ssh://root@laptop.corp"], true);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = run(&["--target", "ssh://-oProxyCommand=x"], true);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!marker.exists(), "ssh was started for a refused target");
    // A config with a lab section guards a run on this host too.
    let other = dir.path().join("elsewhere");
    std::fs::create_dir_all(&other).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(BIN)
        .args(["run", "macro-doc-shell", "--config"])
        .arg(config(&other, "no-such-lab-host-*"))
        .arg("--reports")
        .arg(dir.path().join("reports"))
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is not in the config's lab allow-list"),
        "{}",
        text(&out)
    );
    assert!(
        !dir.path().join("reports").exists(),
        "a refused run wrote reports"
    );
}
