//! Windows: disk images through `Mount-DiskImage`, the temporary Office
//! Trusted Location a real-fidelity macro run needs, and the registry value
//! a `.reg` scenario writes — each with its undo.

use super::{Argv, argv};

/// PowerShell, as every command here starts it.
const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
/// reg.exe.
const REG: &str = r"C:\Windows\System32\reg.exe";

/// A PowerShell single-quoted string literal.
pub fn ps_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn powershell(script: &str) -> Argv {
    argv(&[
        POWERSHELL,
        "-NoProfile",
        "-NonInteractive",
        "-Command",
        script,
    ])
}

/// Whether mounting this image needs an administrator: Windows mounts ISO
/// images for any user, VHDs only for administrators.
pub fn mount_needs_admin(image: &str) -> bool {
    image.to_ascii_lowercase().ends_with(".vhd") || image.to_ascii_lowercase().ends_with(".vhdx")
}

/// Mounts `image` read-only and prints its drive letter.
pub fn mount_disk_image(image: &str) -> Argv {
    let storage = if mount_needs_admin(image) {
        "VHD"
    } else {
        "ISO"
    };
    powershell(&format!(
        "$ErrorActionPreference = 'Stop'; (Mount-DiskImage -ImagePath {} -StorageType {storage} -Access ReadOnly -PassThru | Get-Volume).DriveLetter",
        ps_quote(image)
    ))
}

/// Dismounts `image` (also after a crash: the journal keeps the path).
pub fn dismount_disk_image(image: &str) -> Argv {
    powershell(&format!(
        "Dismount-DiskImage -ImagePath {}",
        ps_quote(image)
    ))
}

/// Prints `True` when `image` is attached (mounted).
pub fn disk_image_attached(image: &str) -> Argv {
    powershell(&format!(
        "(Get-DiskImage -ImagePath {}).Attached",
        ps_quote(image)
    ))
}

/// The Office applications a Trusted Location is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeApp {
    /// Microsoft Word.
    Word,
    /// Microsoft Excel.
    Excel,
}

impl OfficeApp {
    /// The application for an opener image name (`WINWORD.EXE`, `EXCEL.EXE`).
    pub fn for_image(image: &str) -> Option<OfficeApp> {
        match image.to_ascii_uppercase().as_str() {
            "WINWORD.EXE" => Some(OfficeApp::Word),
            "EXCEL.EXE" => Some(OfficeApp::Excel),
            _ => None,
        }
    }

    fn key_name(self) -> &'static str {
        match self {
            OfficeApp::Word => "Word",
            OfficeApp::Excel => "Excel",
        }
    }
}

/// The registry key of the run's temporary Trusted Location (Office 2016
/// and later, including Microsoft 365, keep settings under version 16.0).
pub fn trusted_location_key(app: OfficeApp, token: &str) -> String {
    format!(
        r"HKCU\Software\Microsoft\Office\16.0\{}\Security\Trusted Locations\chainproof-{token}",
        app.key_name()
    )
}

/// Commands that make `dir` a Trusted Location for `app`: Office then runs
/// the document's macros although the file carries the Mark-of-the-Web.
/// A deliberate, reversible choice: [`trusted_location_remove`] undoes it.
pub fn trusted_location_add(app: OfficeApp, token: &str, dir: &str) -> Vec<Argv> {
    let key = trusted_location_key(app, token);
    let path = format!("{}\\", dir.trim_end_matches('\\'));
    let description = format!("chainproof run {token} (temporary; removed at cleanup)");
    vec![
        argv(&[
            REG, "add", &key, "/v", "Path", "/t", "REG_SZ", "/d", &path, "/f",
        ]),
        argv(&[
            REG,
            "add",
            &key,
            "/v",
            "AllowSubfolders",
            "/t",
            "REG_DWORD",
            "/d",
            "1",
            "/f",
        ]),
        argv(&[
            REG,
            "add",
            &key,
            "/v",
            "Description",
            "/t",
            "REG_SZ",
            "/d",
            &description,
            "/f",
        ]),
    ]
}

/// The command that removes the run's Trusted Location again.
pub fn trusted_location_remove(app: OfficeApp, token: &str) -> Argv {
    argv(&[REG, "delete", &trusted_location_key(app, token), "/f"])
}

/// The key a `.reg` scenario's file writes for run `token`.
pub fn reg_key(token: &str) -> String {
    format!(r"HKCU\Software\chainproof\{token}")
}

/// Every registry key a run may create, and so the only keys a cleanup
/// from the journal may delete.
pub fn run_registry_keys(token: &str) -> Vec<String> {
    vec![
        reg_key(token),
        trusted_location_key(OfficeApp::Word, token),
        trusted_location_key(OfficeApp::Excel, token),
    ]
}

/// The command that tells whether `key` exists (exit 0).
pub fn reg_query(key: &str) -> Argv {
    argv(&[REG, "query", key])
}

/// The command that deletes `key` (one of [`run_registry_keys`]).
pub fn reg_delete(key: &str) -> Argv {
    argv(&[REG, "delete", key, "/f"])
}

/// The command that removes what a `.reg` scenario wrote.
pub fn reg_cleanup(token: &str) -> Argv {
    reg_delete(&reg_key(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_location_is_made_and_undone_under_one_key() {
        let add = trusted_location_add(
            OfficeApp::Word,
            "cp0123456789",
            r"C:\Users\u\AppData\Local\Temp\chainproof-cp0123456789",
        );
        let key = r"HKCU\Software\Microsoft\Office\16.0\Word\Security\Trusted Locations\chainproof-cp0123456789";
        assert!(add.iter().all(|a| a[1] == "add" && a[2] == key));
        assert_eq!(
            add[0][8],
            r"C:\Users\u\AppData\Local\Temp\chainproof-cp0123456789\"
        );
        assert_eq!(
            trusted_location_remove(OfficeApp::Word, "cp0123456789")[2],
            key
        );
        assert_eq!(OfficeApp::for_image("excel.exe"), Some(OfficeApp::Excel));
        assert_eq!(OfficeApp::for_image("AcroRd32.exe"), None);
    }

    #[test]
    fn mount_commands_quote_the_path_for_powershell() {
        let m = mount_disk_image(r"C:\T\chainproof-cp1\Downloads\It's-cp1.iso");
        assert!(
            m[4].contains(r"-ImagePath 'C:\T\chainproof-cp1\Downloads\It''s-cp1.iso'"),
            "{m:?}"
        );
        assert!(m[4].contains("-StorageType ISO"));
        assert!(mount_disk_image(r"C:\x.vhd")[4].contains("-StorageType VHD"));
        assert!(mount_needs_admin(r"C:\x.VHD") && !mount_needs_admin(r"C:\x.iso"));
        assert!(dismount_disk_image(r"C:\x.iso")[4].ends_with("'C:\\x.iso'"));
        assert!(disk_image_attached(r"C:\x.iso")[4].ends_with("'C:\\x.iso').Attached"));
    }

    #[test]
    fn cleanup_touches_only_the_runs_key() {
        assert_eq!(
            reg_cleanup("cp0123456789")[2],
            r"HKCU\Software\chainproof\cp0123456789"
        );
    }
}
