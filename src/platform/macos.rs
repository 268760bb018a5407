//! macOS: disk images through `hdiutil`, documents opened with `open` as a
//! double-click does, and `eslogger` for ground truth where it exists.

use super::{Argv, argv};

/// Attaches `image` read-only at `mount_point`, hidden from the Finder.
pub fn hdiutil_attach(image: &str, mount_point: &str) -> Argv {
    argv(&[
        "/usr/bin/hdiutil",
        "attach",
        "-readonly",
        "-nobrowse",
        "-noautoopen",
        "-mountpoint",
        mount_point,
        image,
    ])
}

/// Detaches the image again (forcing it, as cleanup must finish).
pub fn hdiutil_detach(mount_point: &str) -> Argv {
    argv(&["/usr/bin/hdiutil", "detach", "-force", mount_point])
}

/// Opens a file with its default application, as the Finder does.
pub fn open(path: &str) -> Argv {
    argv(&["/usr/bin/open", path])
}

/// Endpoint Security events for ground truth (macOS 13+, root, and the
/// terminal needs Full Disk Access): process exec, fork and exit as JSON.
pub fn eslogger() -> Argv {
    argv(&[
        "/usr/bin/eslogger",
        "exec",
        "fork",
        "exit",
        "--format",
        "json",
    ])
}

/// Whether this macOS version has eslogger (13 Ventura and later).
pub fn has_eslogger(product_version: &str) -> bool {
    product_version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|major| major >= 13)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_carry_their_paths_as_single_arguments() {
        let a = hdiutil_attach(
            "/T/chainproof-cp1/Downloads/My Invoice-cp1.dmg",
            "/Volumes/x y",
        );
        assert_eq!(
            a.last().map(String::as_str),
            Some("/T/chainproof-cp1/Downloads/My Invoice-cp1.dmg")
        );
        assert!(a.contains(&"-readonly".to_string()) && a.contains(&"/Volumes/x y".to_string()));
        assert_eq!(hdiutil_detach("/Volumes/x")[3], "/Volumes/x");
        assert_eq!(open("/a b")[1], "/a b");
        assert_eq!(eslogger()[1..4], ["exec", "fork", "exit"]);
    }

    #[test]
    fn eslogger_from_ventura_on() {
        assert!(has_eslogger("13.0") && has_eslogger("15.1.1"));
        assert!(!has_eslogger("12.6") && !has_eslogger(""));
    }
}
