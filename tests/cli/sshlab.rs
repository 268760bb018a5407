//! A second host for the remote-run and Ansible tests: a network namespace
//! joined to this host by a veth pair, and a real OpenSSH server (Debian's
//! openssh-server) with a throw-away host key and user key, accepting logins
//! only from the controller's address.
//!
//! By default ([`Side::Host`]) the controller (`chainproof run --target`,
//! `ansible-playbook`) runs inside the namespace and sshd listens on the
//! host side of the veth, where the chains run: the kernel's process-events
//! connector answers only in the initial network namespace, and a chain run
//! in another one loses short-lived processes from its ground truth.
//! [`Side::Namespace`] puts sshd (and so the chains) in the namespace, to
//! test that case. Every packet of a test crosses the veth between the two
//! addresses made here; `Drop` stops sshd and deletes the namespace (which
//! deletes the veth pair).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// sshd's port on the target address (not 22, to exercise `host:port`).
pub const PORT: u16 = 2222;

/// Which side of the veth sshd (the target) is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// sshd on the host side, the controller in the namespace: chains run
    /// where the process connector works.
    Host,
    /// sshd inside the namespace, the controller on the host: chains run
    /// in the namespace, where the connector refuses (ground truth falls
    /// back to scanning /proc).
    Namespace,
}

pub struct SshLab {
    pub dir: tempfile::TempDir,
    pub ns: String,
    /// The target's address (host side of the veth), where sshd listens.
    pub target_addr: String,
    /// The controller's address (namespace side).
    pub controller_addr: String,
    sshd: Option<Child>,
    side: Side,
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (ci/test installs what this needs)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ip(args: &[&str]) {
    run(Command::new("ip").args(args));
}

impl SshLab {
    /// Builds the namespace, the veth pair, the keys and starts sshd.
    /// Needs root, iproute2 and openssh-server (ci/test installs them).
    pub fn start() -> SshLab {
        SshLab::start_on(Side::Host)
    }

    /// As [`SshLab::start`], with sshd on `side`.
    pub fn start_on(side: Side) -> SshLab {
        let k = (std::process::id() % 200 + NEXT.fetch_add(1, Ordering::SeqCst)) % 250 + 1;
        let ns = format!("cp-lab-{}-{k}", std::process::id());
        let (host_if, ns_if) = (format!("cph{k}"), format!("cpn{k}"));
        let (host_addr, ns_addr) = (format!("10.213.{k}.1"), format!("10.213.{k}.2"));
        let (target_addr, controller_addr) = match side {
            Side::Host => (host_addr.clone(), ns_addr.clone()),
            Side::Namespace => (ns_addr.clone(), host_addr.clone()),
        };
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        // Leftovers of an earlier crashed test with the same numbers.
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        let _ = Command::new("ip").args(["link", "del", &host_if]).output();
        ip(&["netns", "add", &ns]);
        let mut lab = SshLab {
            dir,
            ns: ns.clone(),
            target_addr: target_addr.clone(),
            controller_addr: controller_addr.clone(),
            sshd: None,
            side,
        };
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if, "netns", &ns,
        ]);
        ip(&["addr", "add", &format!("{host_addr}/30"), "dev", &host_if]);
        ip(&["link", "set", &host_if, "up"]);
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{ns_addr}/30"),
            "dev",
            &ns_if,
        ]);
        ip(&["-n", &ns, "link", "set", &ns_if, "up"]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        lab.keys_and_sshd();
        lab
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn keys_and_sshd(&mut self) {
        for key in ["host_ed25519", "id_ed25519"] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C"])
                .arg(key)
                .arg("-f")
                .arg(self.path(key)));
        }
        let host_pub = std::fs::read_to_string(self.path("host_ed25519.pub")).unwrap_or_default();
        let known = format!("[{}]:{PORT} {}", self.target_addr, host_pub.trim());
        write(&self.path("known_hosts"), &format!("{known}\n"));
        let user_pub = std::fs::read_to_string(self.path("id_ed25519.pub")).unwrap_or_default();
        write(&self.path("authorized_keys"), &user_pub);
        let d = self.dir.path().display();
        write(
            &self.path("sshd_config"),
            &format!(
                "Port {PORT}\nListenAddress {addr}\nHostKey {d}/host_ed25519\n\
                 PidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nStrictModes no\nUsePAM no\n\
                 Subsystem sftp internal-sftp\nLogLevel ERROR\n\
                 AllowUsers root@{controller}\n",
                addr = self.target_addr,
                controller = self.controller_addr
            ),
        );
        // The client side: the user key, and only the host key made here is
        // trusted (StrictHostKeyChecking stays on).
        write(
            &self.path("ssh_config"),
            &format!(
                "Host *\n  IdentityFile {d}/id_ed25519\n  IdentitiesOnly yes\n  \
                 UserKnownHostsFile {d}/known_hosts\n  GlobalKnownHostsFile /dev/null\n  \
                 LogLevel ERROR\n"
            ),
        );
        // (AllowUsers: logins come only from the controller's address, so
        // a test that passes went through the veth.)
        // sshd's privilege-separation directory (ci/test creates it too).
        let _ = std::fs::create_dir_all("/run/sshd");
        let mut sshd = match self.side {
            Side::Host => Command::new("/usr/sbin/sshd"),
            // `ip netns exec` execs sshd in the namespace: the child is sshd.
            Side::Namespace => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", &self.ns, "/usr/sbin/sshd"]);
                c
            }
        };
        let sshd = sshd
            .args(["-D", "-e", "-f"])
            .arg(self.path("sshd_config"))
            .stderr(
                std::fs::File::create(self.path("sshd.log")).unwrap_or_else(|e| panic!("log: {e}")),
            )
            .spawn()
            .unwrap_or_else(|e| {
                panic!("start /usr/sbin/sshd: {e} (ci/test installs openssh-server)")
            });
        self.sshd = Some(sshd);
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = format!("{}:{PORT}", self.target_addr);
        while TcpStream::connect(&addr).is_err() {
            if let Some(Ok(Some(status))) = self.sshd.as_mut().map(Child::try_wait) {
                panic!("sshd exited ({status}): {}", self.sshd_log());
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on {addr}: {}",
                self.sshd_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn sshd_log(&self) -> String {
        std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }

    /// `ssh://root@<target>:2222`.
    pub fn target(&self) -> String {
        format!("ssh://root@{}:{PORT}", self.target_addr)
    }

    /// A target on the lab's own address where nothing listens.
    pub fn unreachable(&self) -> String {
        format!("ssh://root@{}:{}", self.target_addr, PORT + 1)
    }

    /// `program` run on the controller's side.
    pub fn in_controller(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        match self.side {
            Side::Host => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", &self.ns]).arg(program);
                c
            }
            Side::Namespace => Command::new(program),
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

impl Drop for SshLab {
    fn drop(&mut self) {
        if let Some(mut sshd) = self.sshd.take() {
            let _ = sshd.kill();
            let _ = sshd.wait();
        }
        // Deleting the namespace deletes the veth pair with it.
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

/// Tests that build a lab need root, `ip`, `sshd` and `ssh`: under CI they
/// fail loudly when one is missing.
pub fn available() -> bool {
    super::common::require_root()
        && ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/sbin/ip"]
            .iter()
            .all(|tool| super::common::require(Path::new(tool).exists(), tool))
}

#[test]
fn the_lab_answers_ssh_from_the_controller_only_with_the_keys_made_here() {
    if !available() {
        return;
    }
    let lab = SshLab::start();
    let ssh = |extra: &[&str]| {
        lab.in_controller("ssh")
            .arg("-F")
            .arg(lab.path("ssh_config"))
            .args([
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
                "-p",
                &PORT.to_string(),
            ])
            .args(extra)
            .arg(format!("root@{}", lab.target_addr))
            .arg("echo reached")
            .output()
            .unwrap_or_else(|e| panic!("ssh: {e}"))
    };
    let ok = ssh(&[]);
    assert!(
        ok.status.success(),
        "ssh failed: {} / sshd: {}",
        String::from_utf8_lossy(&ok.stderr),
        lab.sshd_log()
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "reached");
    // An unknown host key is refused, not accepted.
    let strange = ssh(&["-o", "UserKnownHostsFile=/dev/null"]);
    assert_eq!(strange.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&strange.stderr).contains("Host key verification failed"));
}
