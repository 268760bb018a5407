//! The deployment texts `--print-systemd` and `--print-cron` print; the same
//! units ship in `deploy/systemd/`.

/// Where the units expect the binary.
pub const BINARY: &str = "/usr/local/bin/chainproof";
/// The reports folder the units use.
pub const REPORTS: &str = "/var/lib/chainproof/reports";

/// A systemd service running `chainproof schedule` with `schedule_args`
/// (e.g. `--every 1h`) on `reports`.
pub fn systemd_service(schedule_args: &str, reports: &str) -> String {
    format!(
        "\
# chainproof.service: runs chainproof's suite on a schedule, in the foreground.
# Install: copy to /etc/systemd/system/, then
#   systemctl daemon-reload && systemctl enable --now chainproof.service
# Logs: journalctl -u chainproof (one JSON line per event).
[Unit]
Description=chainproof detection validation on a schedule (ATT&CK T1204.002)
Wants=network-online.target
After=network-online.target auditd.service

[Service]
Type=simple
ExecStart={BINARY} schedule {schedule_args} --config /etc/chainproof/chainproof.yaml --reports {reports} --log json
WorkingDirectory=/var/lib/chainproof
StateDirectory=chainproof
Restart=on-failure
RestartSec=30s
# SIGTERM goes to chainproof alone: it ends the chain it started, unmounts and
# removes the run directory, writes the record, and exits 130. The chain's
# processes are its to end; SIGKILL reaches them only after the timeout.
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=180s
# An exit on SIGTERM during a run (130) is a clean stop, not a failure.
SuccessExitStatus=130
# Root is needed: chains mount disk images (FUSE, /dev/fuse), set extended
# attributes, and capture process events over netlink; `--backend auditd`
# reads /var/log/audit. Hardening here never creates a private mount
# namespace: no ProtectSystem=, ProtectHome=, PrivateTmp=, PrivateDevices=.
# With one, run directories under /tmp and image mounts would be private to
# the service: invisible to the host's EDR and real openers, and to
# `chainproof cleanup` after a crash (systemd would also wipe a private /tmp).
PrivateTmp=false
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
UMask=0027

[Install]
WantedBy=multi-user.target
"
    )
}

/// A crontab line: one run per slot (`schedule --max-runs 1`, so the lab
/// guard and the reports folder's lock apply), skipped while another run or
/// a `chainproof schedule` holds the lock.
pub fn crontab_line(cron: &str, reports: &str) -> String {
    format!(
        "# /etc/cron.d/chainproof (system crontab format: the sixth field is the user)\n\
         {cron} root {BINARY} schedule --every 1s --max-runs 1 --config /etc/chainproof/chainproof.yaml --reports {reports} --log json >>/var/log/chainproof.log 2>&1\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_name_the_command_the_config_and_the_reports() {
        let unit = systemd_service("--every 1h", REPORTS);
        assert!(unit.contains(
            "ExecStart=/usr/local/bin/chainproof schedule --every 1h --config /etc/chainproof/chainproof.yaml --reports /var/lib/chainproof/reports"
        ));
        assert!(unit.contains("Type=simple") && unit.contains("Restart=on-failure"));
        assert!(!unit.contains("ProtectSystem=strict"));
        let line = crontab_line("0 * * * *", REPORTS);
        assert!(line.contains(
            "\n0 * * * * root /usr/local/bin/chainproof schedule --every 1s --max-runs 1 --config"
        ));
        assert!(line.contains("--reports /var/lib/chainproof/reports"));
    }
}
