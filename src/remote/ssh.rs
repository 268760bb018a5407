//! The system's OpenSSH client, as users already have it set up (keys,
//! agent, `~/.ssh/config`, known hosts), with three things fixed on the
//! command line, where they override any config: no prompts
//! (`BatchMode=yes`), host keys verified against known hosts and never
//! accepted blindly (`StrictHostKeyChecking=yes`), and a connect timeout.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use super::target::Target;

/// How to call ssh.
#[derive(Debug, Clone)]
pub struct Ssh {
    /// The client program (`ssh` on the PATH).
    pub program: PathBuf,
    /// An ssh config file to use instead of `~/.ssh/config` (`ssh -F`).
    pub config: Option<PathBuf>,
    /// Seconds to wait for the TCP connection.
    pub connect_timeout: u32,
    /// A control socket path: the target's commands share one connection
    /// (one handshake per target instead of one per step).
    pub control: Option<PathBuf>,
    /// The controller's cancellation: once `true`, running clients are
    /// ended and no new step starts.
    pub stop: tokio::sync::watch::Receiver<bool>,
}

impl Default for Ssh {
    fn default() -> Ssh {
        Ssh {
            program: PathBuf::from("ssh"),
            config: None,
            connect_timeout: 10,
            control: None,
            stop: crate::stop::never(),
        }
    }
}

/// Why a command on a target failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    /// ssh itself could not be started.
    #[error("cannot start {program}: {message}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        message: String,
    },
    /// The controller was asked to stop (SIGINT, SIGTERM); ssh was ended.
    #[error("interrupted")]
    Interrupted,
    /// ssh exited 255: no connection, host key not verified, login refused.
    #[error("{0}")]
    Connect(String),
    /// The remote command ran and failed.
    #[error("remote command exited {code}: {stderr}")]
    Remote {
        /// Its exit code (-1 when killed by a signal).
        code: i32,
        /// The end of its stderr.
        stderr: String,
    },
}

/// Quotes `s` for a POSIX shell (the remote login shell runs the command).
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The last `max` characters of `text`, trimmed, on one line.
pub fn tail(text: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(text);
    let text = text.trim();
    let start = text
        .char_indices()
        .rev()
        .nth(max)
        .map(|(i, _)| i)
        .unwrap_or(0);
    text[start..].replace(['\r', '\n'], " / ")
}

/// What ssh's own failure (exit 255) means for the user.
pub fn explain(stderr: &[u8]) -> String {
    let text = tail(stderr, 400);
    let hint = if text.contains("Host key verification failed")
        || text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
    {
        "host key not verified: the target's key is not in known_hosts (or changed); check its \
         fingerprint and add it (ssh-keyscan, then ssh-keygen -lf) — chainproof never accepts \
         an unknown key"
    } else if text.contains("Permission denied") {
        "login refused: no key the target accepts (BatchMode: no password prompt)"
    } else {
        "unreachable"
    };
    if text.is_empty() {
        format!("{hint}: ssh exited 255")
    } else {
        format!("{hint}: {text}")
    }
}

impl Ssh {
    /// `ssh [-F config] <opts> [-l user] [-p port] -- host`, without a
    /// remote command: what every call shares.
    fn base(&self, target: &Target, opts: &[String]) -> Command {
        let mut c = Command::new(&self.program);
        if let Some(cfg) = &self.config {
            c.arg("-F").arg(cfg);
        }
        c.args(opts);
        if let Some(user) = &target.user {
            c.arg("-l").arg(user);
        }
        if let Some(port) = target.port {
            c.arg("-p").arg(port.to_string());
        }
        c.arg("--").arg(&target.host);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// `ssh … -- host sh -c '<remote>'`: the command always runs under
    /// `sh`, whatever the login shell (csh and fish parse the quoting too).
    pub fn command(&self, target: &Target, remote: &str) -> Command {
        let mut opts: Vec<String> = [
            "-T",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ServerAliveInterval=15",
            "-o",
            "ServerAliveCountMax=4",
            "-o",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        opts.push(format!("ConnectTimeout={}", self.connect_timeout));
        if let Some(path) = &self.control {
            // The master goes away at `close`, or by itself 30 s after the
            // last command if the controller died first.
            for o in ["ControlMaster=auto", "ControlPersist=30"] {
                opts.extend(["-o".to_string(), o.to_string()]);
            }
            opts.extend(["-o".into(), format!("ControlPath={}", path.display())]);
        }
        let mut c = self.base(target, &opts);
        c.arg(format!("sh -c {}", quote(remote)));
        c
    }

    /// Runs `remote` on `target`, feeding it `stdin` (a local file) when
    /// given; its output when it exits 0. A stop request ends it.
    pub fn exec(
        &self,
        target: &Target,
        remote: &str,
        stdin: Option<std::fs::File>,
    ) -> Result<Output, SshError> {
        let mut c = self.command(target, remote);
        if let Some(f) = stdin {
            c.stdin(Stdio::from(f));
        }
        let child = c.spawn().map_err(|e| SshError::Spawn {
            program: self.program.display().to_string(),
            message: e.to_string(),
        })?;
        check(super::stop::wait(child, &self.stop)?)
    }

    /// What ssh makes of `target` with the config (`ssh -G`: no
    /// connection): the host name it would connect to.
    pub fn resolve(&self, target: &Target) -> Result<String, String> {
        let mut c = self.base(target, &["-G".to_string()]);
        let out = c
            .output()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        if !out.status.success() {
            return Err(format!(
                "`ssh -G` refused target `{}`: {}",
                target.url,
                tail(&out.stderr, 300)
            ));
        }
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("hostname "))
            .map(|h| h.trim().to_string())
            .ok_or_else(|| format!("`ssh -G` printed no hostname for `{}`", target.url))
    }

    /// Ends the shared connection to `target`, if there is one.
    pub fn close(&self, target: &Target) {
        let Some(path) = &self.control else { return };
        let opts = [
            "-o".to_string(),
            format!("ControlPath={}", path.display()),
            "-O".into(),
            "exit".into(),
        ];
        let _ = self
            .base(target, &opts)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Maps an ssh exit: 0 is the output, 255 is ssh's own failure, anything
/// else is the remote command's.
pub fn check(out: Output) -> Result<Output, SshError> {
    match out.status.code() {
        Some(0) => Ok(out),
        Some(255) => Err(SshError::Connect(explain(&out.stderr))),
        code => Err(SshError::Remote {
            code: code.unwrap_or(-1),
            stderr: tail(&out.stderr, 600),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn quoting_survives_a_posix_shell() {
        for s in [
            "plain",
            "with space",
            "it's",
            "$(id)",
            "a;b|c",
            "",
            "'",
            "\n",
        ] {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", quote(s)))
                .output()
                .unwrap_or_else(|e| panic!("sh: {e}"));
            assert_eq!(String::from_utf8_lossy(&out.stdout), s, "{s:?}");
        }
    }

    #[test]
    fn host_key_and_login_failures_are_told_apart() {
        assert!(explain(b"Host key verification failed.\r\n").starts_with("host key not verified"));
        assert!(explain(b"root@x: Permission denied (publickey).").starts_with("login refused"));
        let e = explain(b"ssh: connect to host 10.0.0.9 port 22: Connection refused\n");
        assert_eq!(
            e,
            "unreachable: ssh: connect to host 10.0.0.9 port 22: Connection refused"
        );
    }

    #[test]
    fn the_command_pins_batch_mode_and_strict_host_keys() {
        let ssh = Ssh {
            config: Some(PathBuf::from("cfg")),
            ..Ssh::default()
        };
        let t = super::super::target::parse("ssh://lab@h:2200").unwrap_or_else(|e| panic!("{e}"));
        let c = ssh.command(&t, "uname -s");
        let args: Vec<String> = c.get_args().map(|a| a.to_string_lossy().into()).collect();
        let joined = args.join(" ");
        assert!(joined.starts_with("-F cfg -T -o BatchMode=yes -o StrictHostKeyChecking=yes"));
        assert!(
            joined.ends_with("-l lab -p 2200 -- h sh -c 'uname -s'"),
            "{joined}"
        );
    }
}
