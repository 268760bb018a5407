//! How the applications a user receives a file with handle it: where an
//! archive tool puts the member it opens, where a mail client saves the
//! attachment it opens, and whether each carries the origin mark over to
//! the file it writes.
//!
//! Pure: paths are built from the run's folders in the target platform's
//! syntax, so the plan (which decides where things land) and the emulated
//! opener (which writes them there) agree, and the Windows and macOS
//! layouts are tested on Linux. The policies are the applications'
//! documented defaults; the run checks the mark on the file itself, so a
//! real tool that behaves otherwise is reported as it behaved.

use crate::vocab::Platform;

/// An archive tool a user opens an archive with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveTool {
    /// Its process image name.
    pub name: &'static str,
    /// Where it runs.
    pub platform: Platform,
    /// Whether it copies the archive's origin mark to what it extracts.
    pub propagates_mark: bool,
    /// Where it extracts a member it opens.
    pub place: ExtractPlace,
    /// What the policy rests on, for reports.
    pub why: &'static str,
}

/// Where an archive tool extracts a member it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractPlace {
    /// `%TEMP%\Temp1_<archive name>\` (Windows Explorer's ZIP folders).
    TempNumbered,
    /// `%TEMP%\7zO<8 hex digits>\` (7-Zip's file manager).
    SevenZipTemp,
    /// `$TMPDIR/.fr-<6 characters>/` (GNOME's file-roller).
    FileRollerTemp,
    /// A folder named after the archive beside it ("Extract Here", Archive
    /// Utility, `unzip -d`).
    BesideArchive,
}

/// Every archive tool chainproof plays or drives.
pub const ARCHIVE_TOOLS: [ArchiveTool; 7] = [
    ArchiveTool {
        name: "explorer.exe",
        platform: Platform::Windows,
        propagates_mark: true,
        place: ExtractPlace::TempNumbered,
        why: "Windows Explorer's ZIP folder extracts the opened member to %TEMP%\\Temp1_<archive>\\ and copies the archive's Zone.Identifier to it",
    },
    ArchiveTool {
        name: "7zFM.exe",
        platform: Platform::Windows,
        propagates_mark: false,
        place: ExtractPlace::SevenZipTemp,
        why: "7-Zip copies the Zone.Identifier stream only when its 'Propagate Zone.Id stream' option is set, which is off by default",
    },
    ArchiveTool {
        name: "file-roller",
        platform: Platform::Linux,
        propagates_mark: false,
        place: ExtractPlace::FileRollerTemp,
        why: "file-roller extracts an opened member to $TMPDIR/.fr-<6 random characters>/ and copies no user.xdg origin attributes",
    },
    ArchiveTool {
        name: "ark",
        platform: Platform::Linux,
        propagates_mark: false,
        place: ExtractPlace::BesideArchive,
        why: "Linux archive tools copy no user.xdg origin attributes to what they extract",
    },
    ArchiveTool {
        name: "unzip",
        platform: Platform::Linux,
        propagates_mark: false,
        place: ExtractPlace::BesideArchive,
        why: "unzip restores the attributes stored in the archive, never the archive file's own",
    },
    ArchiveTool {
        name: "7z",
        platform: Platform::Linux,
        propagates_mark: false,
        place: ExtractPlace::BesideArchive,
        why: "7z (p7zip) restores the attributes stored in the archive, never the archive file's own",
    },
    ArchiveTool {
        name: "Archive Utility",
        platform: Platform::Macos,
        propagates_mark: true,
        place: ExtractPlace::BesideArchive,
        why: "Archive Utility extracts beside the archive and copies com.apple.quarantine to every extracted file",
    },
];

/// The archive tool named `name` (its image name, any letter case).
pub fn archive_tool(name: &str) -> Option<&'static ArchiveTool> {
    ARCHIVE_TOOLS
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name))
}

/// A mail client a user opens a message and its attachment with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailClient {
    /// Its process image name.
    pub name: &'static str,
    /// Where it runs.
    pub platform: Platform,
    /// Whether it marks a saved attachment as coming from outside.
    pub marks_attachment: bool,
    /// What the policy rests on, for reports.
    pub why: &'static str,
}

/// Every mail client chainproof plays.
pub const MAIL_CLIENTS: [MailClient; 3] = [
    MailClient {
        name: "OUTLOOK.EXE",
        platform: Platform::Windows,
        marks_attachment: true,
        why: "Outlook saves an opened attachment under INetCache\\Content.Outlook\\<8 characters>\\ with the Mark-of-the-Web (ZoneId=3)",
    },
    MailClient {
        name: "thunderbird",
        platform: Platform::Linux,
        marks_attachment: false,
        why: "Thunderbird saves an opened attachment to $TMPDIR/mozilla_<user>0/ and sets no user.xdg origin attributes",
    },
    MailClient {
        name: "Mail",
        platform: Platform::Macos,
        marks_attachment: true,
        why: "Mail saves an opened attachment under Mail Downloads/<uuid>/ and quarantines it (com.apple.quarantine)",
    },
];

/// The mail client named `name` (its image name, any letter case).
pub fn mail_client(name: &str) -> Option<&'static MailClient> {
    MAIL_CLIENTS
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

/// The run's folders an application's own folders are placed under, in the
/// platform's path syntax: the run directory stands in for the user's
/// profile, so nothing is written outside it.
#[derive(Debug, Clone, Copy)]
pub struct Folders<'a> {
    /// The platform.
    pub platform: Platform,
    /// The run directory.
    pub workdir: &'a str,
    /// The download folder.
    pub downloads: &'a str,
    /// The run token (the seed of the applications' random folder names).
    pub token: &'a str,
    /// The user's login name.
    pub user: &'a str,
}

impl Folders<'_> {
    fn join(&self, parts: &[&str]) -> String {
        let sep = if self.platform == Platform::Windows {
            "\\"
        } else {
            "/"
        };
        parts.join(sep)
    }

    /// The temporary folder the run's applications are given (`TMPDIR`,
    /// `TEMP`).
    pub fn temp(&self) -> String {
        self.join(&[self.workdir, "tmp"])
    }

    /// The home folder the run's applications are given (`HOME`; on
    /// Windows the profile holding `AppData`).
    pub fn home(&self) -> String {
        self.join(&[self.workdir, "home"])
    }

    /// Where `tool` extracts the member of `archive` (a file name, in the
    /// folder `beside`) it opens.
    pub fn extract_dir(&self, tool: &ArchiveTool, beside: &str, archive: &str) -> String {
        match tool.place {
            ExtractPlace::TempNumbered => self.join(&[&self.temp(), &format!("Temp1_{archive}")]),
            ExtractPlace::SevenZipTemp => {
                self.join(&[&self.temp(), &format!("7zO{}", seeded(self.token, 8, HEX))])
            }
            ExtractPlace::FileRollerTemp => self.join(&[
                &self.temp(),
                &format!(".fr-{}", seeded(self.token, 6, ALNUM)),
            ]),
            ExtractPlace::BesideArchive => {
                let stem = archive.rsplit_once('.').map_or(archive, |(s, _)| s);
                self.join(&[beside, stem])
            }
        }
    }

    /// Where `client` saves an attachment it opens.
    pub fn save_dir(&self, client: &MailClient) -> String {
        match client.platform {
            Platform::Windows => self.join(&[
                &self.home(),
                "AppData",
                "Local",
                "Microsoft",
                "Windows",
                "INetCache",
                "Content.Outlook",
                &seeded(self.token, 8, UPPER_ALNUM),
            ]),
            Platform::Linux => self.join(&[&self.temp(), &format!("mozilla_{}0", self.user)]),
            Platform::Macos => self.join(&[
                &self.home(),
                "Library",
                "Containers",
                "com.apple.mail",
                "Data",
                "Library",
                "Mail Downloads",
                &uuid(self.token),
            ]),
        }
    }

    /// The environment an application is started with so that its own
    /// folders fall inside the run directory.
    pub fn environment(&self) -> Vec<(String, String)> {
        match self.platform {
            Platform::Windows => vec![
                ("TEMP".into(), self.temp()),
                ("TMP".into(), self.temp()),
                ("USERPROFILE".into(), self.home()),
                (
                    "LOCALAPPDATA".into(),
                    self.join(&[&self.home(), "AppData", "Local"]),
                ),
            ],
            Platform::Linux | Platform::Macos => {
                vec![("TMPDIR".into(), self.temp()), ("HOME".into(), self.home())]
            }
        }
    }
}

const HEX: &[u8] = b"0123456789ABCDEF";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `n` characters of `alphabet` drawn from the token: the applications
/// name these folders at random; deriving them from the token lets the
/// plan and the emulated application agree without talking.
fn seeded(token: &str, n: usize, alphabet: &[u8]) -> String {
    // FNV-1a, then a 64-bit LCG: spreads a short token over the alphabet.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in token.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (0..n)
        .map(|_| {
            h = h
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let i = usize::try_from(h >> 33).unwrap_or(0) % alphabet.len();
            char::from(alphabet[i])
        })
        .collect()
}

/// A UUID-shaped name (upper-case hex, 8-4-4-4-12) drawn from `seed`, as
/// macOS names its per-item folders and quarantine events.
pub fn uuid(seed: &str) -> String {
    let hex = seeded(seed, 32, HEX);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folders(platform: Platform) -> Folders<'static> {
        let (workdir, downloads) = match platform {
            Platform::Windows => ("C:\\w", "C:\\w\\Downloads"),
            _ => ("/w", "/w/Downloads"),
        };
        Folders {
            platform,
            workdir,
            downloads,
            token: "cp-0123abcd",
            user: "alice",
        }
    }

    #[test]
    fn each_application_saves_where_it_does_inside_the_run_directory() {
        let w = folders(Platform::Windows);
        let outlook = mail_client("outlook.exe").map(|c| w.save_dir(c));
        let outlook = outlook.unwrap_or_default();
        assert!(
            outlook.starts_with(
                "C:\\w\\home\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\"
            ),
            "{outlook}"
        );
        let last = outlook.rsplit('\\').next().unwrap_or_default();
        assert_eq!(last.len(), 8, "{last}");
        assert!(last.bytes().all(|b| UPPER_ALNUM.contains(&b)), "{last}");
        let l = folders(Platform::Linux);
        let tb = mail_client("thunderbird").map(|c| l.save_dir(c));
        assert_eq!(tb.as_deref(), Some("/w/tmp/mozilla_alice0"));
        let m = folders(Platform::Macos);
        let mail = mail_client("Mail")
            .map(|c| m.save_dir(c))
            .unwrap_or_default();
        assert!(
            mail.starts_with(
                "/w/home/Library/Containers/com.apple.mail/Data/Library/Mail Downloads/"
            ),
            "{mail}"
        );
        assert_eq!(mail.rsplit('/').next().map(str::len), Some(36));
        let explorer =
            archive_tool("explorer.exe").map(|t| w.extract_dir(t, w.downloads, "Invoice.zip"));
        assert_eq!(explorer.as_deref(), Some("C:\\w\\tmp\\Temp1_Invoice.zip"));
        let fr = archive_tool("file-roller").map(|t| l.extract_dir(t, l.downloads, "a.zip"));
        assert!(
            fr.as_deref()
                .is_some_and(|d| d.starts_with("/w/tmp/.fr-") && d.len() == 17),
            "{fr:?}"
        );
        let unzip = archive_tool("unzip")
            .map(|t| l.extract_dir(t, "/w/tmp/mozilla_alice0", "Invoice-cp1.zip"));
        assert_eq!(unzip.as_deref(), Some("/w/tmp/mozilla_alice0/Invoice-cp1"));
    }

    #[test]
    fn random_folder_names_differ_between_runs_and_agree_within_one() {
        let a = seeded("cp-0123abcd", 8, UPPER_ALNUM);
        assert_eq!(a, seeded("cp-0123abcd", 8, UPPER_ALNUM));
        assert_ne!(a, seeded("cp-0123abce", 8, UPPER_ALNUM));
    }

    #[test]
    fn policies_follow_the_documented_defaults() {
        let propagates = |n: &str| archive_tool(n).map(|t| t.propagates_mark);
        assert_eq!(propagates("explorer.exe"), Some(true));
        assert_eq!(propagates("7zFM.exe"), Some(false));
        assert_eq!(propagates("file-roller"), Some(false));
        assert_eq!(propagates("Archive Utility"), Some(true));
        assert_eq!(
            mail_client("thunderbird").map(|c| c.marks_attachment),
            Some(false)
        );
        assert_eq!(
            mail_client("OUTLOOK.EXE").map(|c| c.marks_attachment),
            Some(true)
        );
        assert!(archive_tool("winword.exe").is_none());
    }
}
