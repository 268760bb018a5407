//! The fleet playbook `deploy/ansible/chainproof.yml`, run by a real
//! `ansible-playbook` inside the lab's controller namespace against the real
//! sshd of [`SshLab`] (host-key checking on, the fixture's known_hosts): it
//! installs the binary, runs two chains, fetches each run folder intact (the
//! bundle still verifies), removes it from the endpoint, and the fetched
//! records merge into one fleet matrix.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::common::{entries, host, read_json, token_processes, tokens};
use super::sshlab::{self, PORT, SshLab};

const SCENARIOS: [&str; 2] = ["macro-doc-shell", "shortcut-script"];

/// `ansible-playbook` on PATH (ci/test installs ansible-core from PyPI).
fn ansible_available() -> bool {
    super::common::require_tool("ansible-playbook")
}

/// Ends ansible's ssh ControlPersist masters (ANSIBLE_SSH_CONTROL_PATH_DIR)
/// before the lab stops sshd, also when the test fails.
struct Masters<'a>(&'a SshLab);

impl Drop for Masters<'_> {
    fn drop(&mut self) {
        for socket in entries(&self.0.path("ansible-cp")) {
            let _ = self
                .0
                .in_controller("ssh")
                .arg("-o")
                .arg(format!("ControlPath={}", socket.display()))
                .args(["-O", "exit", "lab"])
                .output();
        }
    }
}

fn chainproof(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chainproof"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("chainproof {args:?}: {e}"))
}

/// A chainproof config whose lab guard allows any host.
fn lab_config(dir: &Path) -> PathBuf {
    let path = dir.join("chainproof.yaml");
    std::fs::write(&path, "lab:\n  allow: [\"*\"]\n").unwrap_or_else(|e| panic!("config: {e}"));
    path
}

/// Writes an inventory of `hosts`, all this lab's target, and runs the
/// playbook on it inside the controller namespace. `ssh_args` is appended to
/// the `-F ssh_config` that trusts the lab's host key.
fn playbook(lab: &SshLab, hosts: &[&str], ssh_args: &str) -> Output {
    let tmp = lab.dir.path();
    let inventory: String = hosts
        .iter()
        .map(|name| {
            format!(
                "{name} ansible_host={} ansible_port={PORT} ansible_user=root \
                 ansible_ssh_common_args='-F {}{ssh_args}' \
                 ansible_python_interpreter=/usr/bin/python3\n",
                lab.target_addr,
                lab.path("ssh_config").display()
            )
        })
        .collect();
    let inventory_path = lab.path(&format!("inventory-{}.ini", hosts.join("-")));
    std::fs::write(&inventory_path, inventory).unwrap_or_else(|e| panic!("inventory: {e}"));
    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/ansible/chainproof.yml");
    let var = |name: &str, value: &Path| format!("{name}={}", value.display());
    let scenarios = serde_json::json!({ "chainproof_scenarios": SCENARIOS }).to_string();
    lab.in_controller("ansible-playbook")
        .current_dir(tmp)
        // One host at a time: the inventory hosts are one machine, and
        // chains must not overlap on it.
        .args(["-f", "1", "-i"])
        .arg(&inventory_path)
        .arg(&playbook)
        .arg("-e")
        .arg(var(
            "chainproof_binary",
            Path::new(env!("CARGO_BIN_EXE_chainproof")),
        ))
        .arg("-e")
        .arg(var("chainproof_dir", &tmp.join("remote")))
        .arg("-e")
        .arg(var("chainproof_fetch_dir", &tmp.join("fetched")))
        .arg("-e")
        .arg(var("chainproof_work_root", &tmp.join("work")))
        // A config with a lab guard that lets this host run; the playbook
        // removes it from the endpoint after the run (it may hold secrets).
        .arg("-e")
        .arg(var("chainproof_config", &lab_config(tmp)))
        .args(["-e", &scenarios])
        // Everything ansible writes stays in the lab folder, none in ~/.ansible
        // (2.19 puts ssh control sockets in ~/.ansible/cp despite ANSIBLE_HOME).
        .env("LC_ALL", "C.UTF-8")
        .env("ANSIBLE_HOME", tmp.join("ansible-home"))
        .env("ANSIBLE_LOCAL_TEMP", tmp.join("ansible-local"))
        .env("ANSIBLE_REMOTE_TMP", tmp.join("ansible-remote"))
        .env("ANSIBLE_SSH_CONTROL_PATH_DIR", tmp.join("ansible-cp"))
        .env("ANSIBLE_NOCOLOR", "1")
        // ansible's default ssh_args; `Masters` ends the masters.
        .env(
            "ANSIBLE_SSH_ARGS",
            "-C -o ControlMaster=auto -o ControlPersist=60s",
        )
        .output()
        .unwrap_or_else(|e| panic!("ansible-playbook: {e}"))
}

#[test]
fn the_playbook_runs_two_hosts_and_fetches_records_that_verify_and_merge() {
    if !sshlab::available() || !ansible_available() {
        return;
    }
    let _host = host();
    let lab = SshLab::start();
    let _masters = Masters(&lab);
    let tmp = lab.dir.path();
    let (remote, fetched, work) = (tmp.join("remote"), tmp.join("fetched"), tmp.join("work"));

    // Host-key checking is on: a host whose key is not known is unreachable
    // (exit 4) and nothing is installed.
    let stranger = playbook(&lab, &["lab-stranger"], " -o UserKnownHostsFile=/dev/null");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stranger.stdout),
        String::from_utf8_lossy(&stranger.stderr)
    );
    assert_eq!(stranger.status.code(), Some(4), "{text}");
    for want in ["UNREACHABLE!", "Host key verification failed"] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    assert!(!remote.exists());

    // Two inventory hosts, one machine: two records from one playbook run.
    let out = playbook(&lab, &["lab-a", "lab-b"], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ansible-playbook failed ({}):\n{stdout}\n{}\nsshd: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        lab.sshd_log()
    );
    let mut records = Vec::new();
    for name in ["lab-a", "lab-b"] {
        let runs = entries(&fetched.join(name));
        assert_eq!(runs.len(), 1, "{name}: one fetched run folder: {runs:?}");
        let record = read_json(&runs[0].join("run.json"));
        let ids: Vec<&str> = record["scenarios"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["id"].as_str())
            .collect();
        assert_eq!(ids, SCENARIOS, "{name}");
        for token in tokens(&record) {
            assert!(token_processes(&token).is_empty(), "{token} still runs");
        }
        let verify = chainproof(&["bundle".as_ref(), "verify".as_ref(), runs[0].as_os_str()]);
        assert!(
            verify.status.success(),
            "{name}: bundle verify: {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
        records.push((runs[0].join("run.json"), record));
    }

    // The endpoint keeps the binary, the run history and an empty journal;
    // the run folders were fetched and removed, the run directories cleaned,
    // the config removed.
    let mode = std::fs::metadata(remote.join("bin/chainproof"))
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
        .unwrap_or_else(|e| panic!("installed binary: {e}"));
    assert_eq!(mode, 0o755);
    assert_eq!(
        entries(&remote),
        [remote.join("bin"), remote.join("reports")]
    );
    let reports = remote.join("reports");
    assert_eq!(
        entries(&reports),
        [reports.join(".journal"), reports.join("history.jsonl")]
    );
    assert_eq!(entries(&reports.join(".journal")), Vec::<PathBuf>::new());
    assert_eq!(
        entries(&work),
        Vec::<PathBuf>::new(),
        "run directories left"
    );

    // Both inventory hosts are this one machine, so both records carry its
    // host name and a merge would show one host twice; name the second
    // record after its inventory host so the merge shows two hosts.
    let real = records[0].1["host"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!real.is_empty() && real != "lab-b");
    assert_eq!(records[1].1["host"]["name"], real.as_str());
    let mut b = records[1].1.clone();
    b["host"]["name"] = "lab-b".into();
    let b_path = tmp.join("lab-b.json");
    let text = serde_json::to_string_pretty(&b).unwrap_or_else(|e| panic!("json: {e}"));
    std::fs::write(&b_path, text).unwrap_or_else(|e| panic!("write: {e}"));
    let merged = chainproof(&[
        "merge".as_ref(),
        records[0].0.as_os_str(),
        b_path.as_os_str(),
    ]);
    let matrix = String::from_utf8_lossy(&merged.stdout);
    assert!(merged.status.success(), "merge: {matrix}");
    for host in [real.as_str(), "lab-b"] {
        assert!(matrix.contains(host), "{host} missing:\n{matrix}");
    }
    for id in SCENARIOS {
        assert_eq!(matrix.matches(id).count(), 2, "{id}:\n{matrix}");
    }
}
