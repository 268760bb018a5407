//! macOS application bundles: the shape a downloaded Mac program really has
//! (`Name.app/Contents/Info.plist`, `Contents/MacOS/<exe>`), not a bare
//! binary, which Finder would only open in Terminal.
//!
//! [`files`] lays out a bundle around the stage program as paths and bytes;
//! a container that can hold folders and modes (the [`super::dmg`] image, a
//! ZIP) stores them. The executable is marked executable (0755 where the
//! container keeps modes): LaunchServices refuses a bundle whose
//! `CFBundleExecutable` is not. Pure and deterministic; nothing here writes
//! to disk. The bundle is unsigned, as most lures are: what Gatekeeper does
//! with it on a real Mac is the detection the scenario measures.

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    /// Path from the folder that holds the bundle, `/` between parts,
    /// starting with `<name>.app/`.
    pub path: String,
    /// Contents.
    pub data: Vec<u8>,
    /// Whether the file gets mode 0755 (else 0644).
    pub executable: bool,
}

/// The path of the bundle's program from the folder holding the bundle:
/// what a launcher (LaunchServices, or the plan's opener) starts.
pub fn executable_path(exe: &str) -> String {
    format!("{exe}.app/Contents/MacOS/{exe}")
}

/// A reverse-DNS bundle identifier from the program's name: lower case,
/// `a-z 0-9 -` (what `CFBundleIdentifier` allows besides the dots). It names
/// no tool, so a rule cannot learn the harness instead of the technique.
pub fn identifier(exe: &str) -> String {
    let part: String = exe
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let part = part.trim_matches('-');
    let part = if part.is_empty() { "app" } else { part };
    format!("com.{part}.installer")
}

/// The bundle's `Info.plist` (XML property list, version 1.0) naming `exe`
/// as its program, display name and bundle name.
pub fn info_plist(exe: &str) -> String {
    let name = xml_escape(exe);
    let id = identifier(exe);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleDevelopmentRegion</key>
	<string>en</string>
	<key>CFBundleDisplayName</key>
	<string>{name}</string>
	<key>CFBundleExecutable</key>
	<string>{name}</string>
	<key>CFBundleIdentifier</key>
	<string>{id}</string>
	<key>CFBundleInfoDictionaryVersion</key>
	<string>6.0</string>
	<key>CFBundleName</key>
	<string>{name}</string>
	<key>CFBundlePackageType</key>
	<string>APPL</string>
	<key>CFBundleShortVersionString</key>
	<string>2.4.1</string>
	<key>CFBundleVersion</key>
	<string>241</string>
	<key>LSMinimumSystemVersion</key>
	<string>11.0</string>
	<key>NSHighResolutionCapable</key>
	<true/>
</dict>
</plist>
"#
    )
}

/// The files of `<exe>.app` holding `program` as its executable: the
/// property list, `PkgInfo` (type `APPL`, no creator code) and the program.
pub fn files(exe: &str, program: Vec<u8>) -> Vec<BundleFile> {
    let contents = format!("{exe}.app/Contents");
    vec![
        BundleFile {
            path: format!("{contents}/Info.plist"),
            data: info_plist(exe).into_bytes(),
            executable: false,
        },
        BundleFile {
            path: format!("{contents}/PkgInfo"),
            data: b"APPL????".to_vec(),
            executable: false,
        },
        BundleFile {
            path: executable_path(exe),
            data: program,
            executable: true,
        },
    ]
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python's plistlib, a third-party reader, parses the property list
    /// and sees the keys LaunchServices needs.
    #[test]
    fn plistlib_reads_the_info_plist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Info.plist");
        std::fs::write(&path, info_plist("Setup-cp0123 & <x>")).unwrap();
        let script = "import plistlib,sys,json\n\
                      d=plistlib.load(open(sys.argv[1],'rb'))\n\
                      print(json.dumps(d,sort_keys=True))";
        if !crate::testing::require_tool("python3") {
            return;
        }
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(d["CFBundleExecutable"], "Setup-cp0123 & <x>");
        assert_eq!(d["CFBundleName"], "Setup-cp0123 & <x>");
        assert_eq!(d["CFBundlePackageType"], "APPL");
        assert_eq!(d["CFBundleIdentifier"], "com.setup-cp0123----x.installer");
        assert_eq!(d["NSHighResolutionCapable"], true);
    }

    #[test]
    fn the_bundle_holds_the_program_executable_at_its_path() {
        let files = files("Setup-cp1", b"prog".to_vec());
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "Setup-cp1.app/Contents/Info.plist",
                "Setup-cp1.app/Contents/PkgInfo",
                "Setup-cp1.app/Contents/MacOS/Setup-cp1",
            ]
        );
        let exe: Vec<_> = files.iter().filter(|f| f.executable).collect();
        assert_eq!(exe.len(), 1);
        assert_eq!(exe[0].path, executable_path("Setup-cp1"));
        assert_eq!(exe[0].data, b"prog");
    }

    #[test]
    fn identifiers_are_reverse_dns_and_name_no_tool() {
        assert_eq!(identifier("Setup-CP01"), "com.setup-cp01.installer");
        assert_eq!(identifier("..."), "com.app.installer");
        assert!(!identifier("Setup-cp1").contains("chainproof"));
    }
}
