//! macOS: disk images through `hdiutil`.

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
    }
}
