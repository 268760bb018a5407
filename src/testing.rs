//! Test prerequisites: what a test needs from the host (root, a tool on
//! `PATH`, the shared corpus beside the project) and what happens when it is
//! missing.
//!
//! One rule for every test: under CI a missing prerequisite fails the test,
//! naming it (CI must provide it: `ci/test` installs the packages and runs
//! as root); elsewhere the test says `skipped: <test> needs <what>` on
//! stderr and returns, so a developer without LibreOffice can still run the
//! rest. A test that skipped silently could pass whatever the code does.
//!
//! "Under CI" means what it means to insta, so snapshot tests and these
//! checks agree: `CI` set to anything but empty, `0` or `false`.
//!
//! This file is self-contained (no `crate::` paths): the integration test
//! binaries compile it too, by `#[path]`, so they cannot drift from the
//! library's tests.

use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Whether the tests run under CI (insta's reading of `CI`).
pub(crate) fn in_ci() -> bool {
    !matches!(
        std::env::var("CI").ok().as_deref(),
        None | Some("" | "0" | "false")
    )
}

/// The running test's name: libtest runs each test on a thread named after it.
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string()
}

/// Whether the test can go on: `present` is whether `what` is there. When it
/// is not, panics under CI and otherwise says the test was skipped.
pub(crate) fn require(present: bool, what: impl Display) -> bool {
    if present {
        return true;
    }
    let test = test_name();
    assert!(
        !in_ci(),
        "{test} needs {what}, which CI must provide (ci/test)"
    );
    eprintln!("skipped: {test} needs {what}");
    false
}

/// Whether the test runs as root; see [`require`]. Unix only: no test
/// needs an administrator on Windows.
#[cfg(unix)]
pub(crate) fn require_root() -> bool {
    require(nix::unistd::geteuid().is_root(), "root")
}

/// Whether the program `name` is an executable file on `PATH`; see
/// [`require`].
pub(crate) fn require_tool(name: &str) -> bool {
    require(on_path(name).is_some(), format_args!("{name} on PATH"))
}

/// Whether `path` exists; see [`require`].
pub(crate) fn require_path(path: &Path) -> bool {
    require(path.exists(), path.display())
}

/// `../shared/<rel>` beside the crate (public corpora and samples), or
/// `None` after [`require`] when it is missing.
pub(crate) fn require_shared(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    require_path(&path).then_some(path)
}

/// The first executable file called `name` in a `PATH` folder.
fn on_path(name: &str) -> Option<PathBuf> {
    let executable = |m: std::fs::Metadata| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            m.is_file() && m.permissions().mode() & 0o111 != 0
        }
        #[cfg(not(unix))]
        {
            m.is_file()
        }
    };
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(executable))
}

/// The smallest PE file a parser takes for an image of `machine`
/// (0x8664 x86-64, 0xaa64 arm64, 0x14c i386): headers only, no sections.
/// For tests of format checks, which read headers and nothing else.
pub(crate) fn tiny_pe(machine: u16, dll: bool) -> Vec<u8> {
    let mut b = vec![0u8; 0x80];
    b[..2].copy_from_slice(b"MZ");
    b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    b.extend_from_slice(b"PE\0\0");
    let characteristics: u16 = if dll { 0x2022 } else { 0x0022 };
    // COFF header: machine, no sections, no symbols, a PE32+ optional header.
    b.extend_from_slice(&machine.to_le_bytes());
    b.extend_from_slice(&[0u8; 14]);
    b.extend_from_slice(&240u16.to_le_bytes());
    b.extend_from_slice(&characteristics.to_le_bytes());
    let mut opt = vec![0u8; 240];
    opt[..2].copy_from_slice(&0x20bu16.to_le_bytes());
    opt[32..36].copy_from_slice(&0x1000u32.to_le_bytes()); // section alignment
    opt[36..40].copy_from_slice(&0x200u32.to_le_bytes()); // file alignment
    opt[68..70].copy_from_slice(&3u16.to_le_bytes()); // console subsystem
    opt[108..112].copy_from_slice(&16u32.to_le_bytes()); // data directories
    b.extend_from_slice(&opt);
    b.resize(0x200, 0);
    b
}

/// The smallest Mach-O executable header for `cputype` (0x0100_0007
/// x86-64, 0x0100_000c arm64): no load commands.
pub(crate) fn tiny_macho(cputype: u32) -> Vec<u8> {
    let mut b = Vec::new();
    for field in [0xfeed_facf_u32, cputype, 3, 2, 0, 0, 0, 0] {
        b.extend_from_slice(&field.to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_present_prerequisite_lets_the_test_go_on() {
        assert!(require(true, "nothing"));
        assert!(require_path(Path::new(env!("CARGO_MANIFEST_DIR"))));
    }

    #[test]
    fn a_missing_prerequisite_fails_under_ci_and_skips_elsewhere() {
        let missing = || require_tool("chainproof-no-such-tool");
        if in_ci() {
            let err = std::panic::catch_unwind(missing).expect_err("must fail under CI");
            let text = err.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(
                text.contains("a_missing_prerequisite_fails_under_ci_and_skips_elsewhere")
                    && text.contains("chainproof-no-such-tool on PATH"),
                "{text}"
            );
        } else {
            assert!(!missing());
        }
    }
}
