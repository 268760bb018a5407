//! Sigma log sources as data: one table ([`ROWS`]) says, for every log
//! replay reads (a Windows channel, Sysmon for Linux, auditd, eslogger,
//! chainproof's recordings), which event ids belong to which Sigma
//! categories and service. Every mapped record points at one static slice
//! of [`LogSource`]s built once from its row, instead of allocating its own.
//!
//! Channel names and the service each one stands for follow Sigma's
//! Windows log source taxonomy (the `service:` names SigmaHQ's rules use);
//! Sysmon's event ids follow its category table. Nothing here reads a
//! record: the readers look a record up and attach the slice.

use std::sync::LazyLock;

use rsigma_parser::LogSource;

use crate::telemetry::Category;
use crate::vocab::Platform;

fn source(product: &str, category: Option<&str>, service: Option<&str>) -> LogSource {
    LogSource {
        product: Some(product.to_string()),
        category: category.map(str::to_string),
        service: service.map(str::to_string),
        ..LogSource::default()
    }
}

/// One line of the table: records of `source` (a channel, matched without
/// regard to case, or a pseudo-source such as `auditd`) with event `id`
/// (`None`: any id) and, where `detail` is set, one of those details (the
/// Sysmon 12 `EventType`, the eslogger event type) belong to `categories`
/// and `service`.
#[derive(Debug)]
pub struct Row {
    /// The channel or pseudo-source.
    pub source: &'static str,
    /// The event id, or any.
    pub id: Option<u32>,
    /// Details the row is limited to, or any.
    pub detail: Option<&'static [&'static str]>,
    /// Sigma categories.
    pub categories: &'static [&'static str],
    /// Sigma service.
    pub service: Option<&'static str>,
    /// [`Origin::provider`](crate::telemetry::Origin) of its records.
    pub provider: &'static str,
    /// What chains and the chain analytics see it as.
    pub kind: Category,
}

const fn row(
    source: &'static str,
    id: Option<u32>,
    categories: &'static [&'static str],
    service: Option<&'static str>,
    provider: &'static str,
) -> Row {
    Row {
        source,
        id,
        detail: None,
        categories,
        service,
        provider,
        kind: Category::Other,
    }
}

const fn sysmon(id: u32, categories: &'static [&'static str]) -> Row {
    row(SYSMON, Some(id), categories, Some("sysmon"), "sysmon")
}

const fn service(channel: &'static str, service: &'static str, provider: &'static str) -> Row {
    row(channel, None, &[], Some(service), provider)
}

/// Sysmon's channel on Windows.
pub const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
/// Sysmon for Linux's channel: the same table, product `linux`.
pub const SYSMON_LINUX: &str = "Linux-Sysmon/Operational";
/// The Security channel.
pub const SECURITY: &str = "Security";
/// auditd events (through [`crate::telemetry::auditd`]).
pub const AUDITD: &str = "auditd";
/// Apple's eslogger.
pub const ESLOGGER: &str = "eslogger";
/// chainproof's own recordings.
pub const RECORDING: &str = "chainproof";

const PROCESS: Category = Category::ProcessCreation;
const FILE: Category = Category::FileEvent;

/// The table. Order matters within a source: the first row whose id and
/// detail fit wins, so limited rows come before their fallback.
#[rustfmt::skip] // One row a line: it reads as the table it is.
pub static ROWS: &[Row] = &[
    Row { kind: PROCESS, ..sysmon(1, &["process_creation"]) },
    sysmon(2, &["file_change"]),
    sysmon(3, &["network_connection"]),
    sysmon(4, &["sysmon_status"]),
    sysmon(5, &["process_termination"]),
    sysmon(6, &["driver_load"]),
    sysmon(7, &["image_load"]),
    sysmon(8, &["create_remote_thread"]),
    sysmon(9, &["raw_access_thread"]),
    sysmon(10, &["process_access"]),
    Row { kind: FILE, ..sysmon(11, &["file_event"]) },
    Row { detail: Some(&["CreateKey"]), ..sysmon(12, &["registry_add", "registry_event"]) },
    Row { detail: Some(&["DeleteKey", "DeleteValue"]), ..sysmon(12, &["registry_delete", "registry_event"]) },
    sysmon(12, &["registry_event"]),
    sysmon(13, &["registry_set", "registry_event"]),
    sysmon(14, &["registry_rename", "registry_event"]),
    sysmon(15, &["create_stream_hash"]),
    sysmon(16, &["sysmon_status"]),
    sysmon(17, &["pipe_created"]),
    sysmon(18, &["pipe_created"]),
    sysmon(19, &["wmi_event"]),
    sysmon(20, &["wmi_event"]),
    sysmon(21, &["wmi_event"]),
    sysmon(22, &["dns_query"]),
    sysmon(23, &["file_delete"]),
    sysmon(24, &["clipboard_capture"]),
    sysmon(25, &["process_tampering"]),
    sysmon(26, &["file_delete", "file_delete_detected"]),
    sysmon(27, &["file_block_executable"]),
    sysmon(28, &["file_block_shredding"]),
    sysmon(29, &["file_executable_detected"]),
    sysmon(255, &["sysmon_error"]),
    Row { kind: PROCESS, ..row(SECURITY, Some(4688), &["process_creation"], Some("security"), "security") },
    service(SECURITY, "security", "security"),
    service("System", "system", "system"),
    service("Application", "application", "application"),
    row("Microsoft-Windows-PowerShell/Operational", Some(4103), &["ps_module"], Some("powershell"), "powershell"),
    row("Microsoft-Windows-PowerShell/Operational", Some(4104), &["ps_script"], Some("powershell"), "powershell"),
    service("Microsoft-Windows-PowerShell/Operational", "powershell", "powershell"),
    row("Windows PowerShell", Some(400), &["ps_classic_start"], Some("powershell-classic"), "powershell-classic"),
    row("Windows PowerShell", Some(600), &["ps_classic_provider_start"], Some("powershell-classic"), "powershell-classic"),
    row("Windows PowerShell", Some(800), &["ps_classic_script"], Some("powershell-classic"), "powershell-classic"),
    service("Windows PowerShell", "powershell-classic", "powershell-classic"),
    service("Microsoft-Windows-Windows Defender/Operational", "windefend", "windefend"),
    service("Microsoft-Windows-TaskScheduler/Operational", "taskscheduler", "taskscheduler"),
    service("Microsoft-Windows-WMI-Activity/Operational", "wmi", "wmi"),
    service("Microsoft-Windows-Bits-Client/Operational", "bits-client", "bits-client"),
    service("Microsoft-Windows-CodeIntegrity/Operational", "codeintegrity-operational", "codeintegrity"),
    service("Microsoft-Windows-Windows Firewall With Advanced Security/Firewall", "firewall-as", "firewall"),
    service("Microsoft-Windows-AppLocker/EXE and DLL", "applocker", "applocker"),
    service("Microsoft-Windows-AppLocker/MSI and Script", "applocker", "applocker"),
    service("Microsoft-Windows-AppLocker/Packaged app-Deployment", "applocker", "applocker"),
    service("Microsoft-Windows-AppLocker/Packaged app-Execution", "applocker", "applocker"),
    service("Microsoft-Windows-NTLM/Operational", "ntlm", "ntlm"),
    service("DNS Server", "dns-server", "dns-server"),
    service("Microsoft-Windows-DNS Client Events/Operational", "dns-client", "dns-client"),
    service("Microsoft-Windows-SmbClient/Security", "smbclient-security", "smbclient"),
    service("Microsoft-Windows-SmbClient/Connectivity", "smbclient-connectivity", "smbclient"),
    service("Microsoft-Windows-SMBServer/Connectivity", "smbserver-connectivity", "smbserver"),
    service("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", "terminalservices-localsessionmanager", "terminalservices"),
    service("Microsoft-Windows-AppXDeploymentServer/Operational", "appxdeployment-server", "appx"),
    service("Microsoft-Windows-AppxPackaging/Operational", "appxpackaging-om", "appx"),
    service("Microsoft-Windows-AppModel-Runtime/Admin", "appmodel-runtime", "appx"),
    service("MSExchange Management", "msexchange-management", "msexchange"),
    service("Microsoft-IIS-Configuration/Operational", "iis-configuration", "iis"),
    service("Microsoft-Windows-Security-Mitigations/KernelMode", "security-mitigations", "security-mitigations"),
    service("Microsoft-Windows-Security-Mitigations/UserMode", "security-mitigations", "security-mitigations"),
    service("Microsoft-Windows-Shell-Core/Operational", "shell-core", "shell-core"),
    service("OpenSSH/Operational", "openssh", "openssh"),
    service("Microsoft-ServiceBus-Client", "microsoft-servicebus-client", "servicebus"),
    service("Microsoft-Windows-LSA/Operational", "lsa-server", "lsa"),
    service("Microsoft-Windows-LDAP-Client/Debug", "ldap", "ldap"),
    service("Microsoft-Windows-DriverFrameworks-UserMode/Operational", "driver-framework", "driver-framework"),
    service("Microsoft-Windows-Diagnosis-Scripted/Operational", "diagnosis-scripted", "diagnosis-scripted"),
    service("Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational", "certificateservicesclient-lifecycle-system", "certificateservices"),
    service("Microsoft-Windows-CAPI2/Operational", "capi2", "capi2"),
    service("Microsoft-Windows-PrintService/Admin", "printservice-admin", "printservice"),
    service("Microsoft-Windows-PrintService/Operational", "printservice-operational", "printservice"),
    service("Microsoft-Windows-BitLocker/BitLocker Management", "bitlocker", "bitlocker"),
    service("Microsoft-Windows-VHDMP-Operational", "vhdmp", "vhdmp"),
    service("Microsoft-Windows-DHCP-Server/Operational", "dhcp", "dhcp-server"),
    Row { detail: Some(&["exec"]), kind: PROCESS, ..row(ESLOGGER, None, &["process_creation"], None, "eslogger") },
    Row { detail: Some(&["create", "write", "rename"]), kind: FILE, ..row(ESLOGGER, None, &["file_event"], None, "eslogger") },
    Row { detail: Some(&["exec"]), kind: PROCESS, ..row(AUDITD, None, &["process_creation"], Some("auditd"), "auditd") },
    Row { detail: Some(&["file"]), kind: FILE, ..row(AUDITD, None, &["file_event"], Some("auditd"), "auditd") },
    Row { kind: PROCESS, ..row(RECORDING, Some(1), &["process_creation"], None, "chainproof") },
    Row { kind: FILE, ..row(RECORDING, Some(11), &["file_event"], None, "chainproof") },
];

/// The row for a record of `source` (a Sysmon for Linux record is looked
/// up as Sysmon), `id` and `detail`; `None` when Sigma has no log source
/// for it.
pub fn lookup(
    source: &str,
    id: Option<u32>,
    detail: Option<&str>,
) -> Option<(usize, &'static Row)> {
    let source = if source.eq_ignore_ascii_case(SYSMON_LINUX) {
        SYSMON
    } else {
        source
    };
    ROWS.iter().enumerate().find(|(_, r)| {
        r.source.len() == source.len()
            && r.source.eq_ignore_ascii_case(source)
            && (r.id.is_none() || r.id == id)
            && r.detail
                .is_none_or(|d| detail.is_some_and(|x| d.contains(&x)))
    })
}

/// True when the table knows `channel` at all.
pub fn known_source(channel: &str) -> bool {
    channel.eq_ignore_ascii_case(SYSMON_LINUX)
        || ROWS.iter().any(|r| r.source.eq_ignore_ascii_case(channel))
}

/// Per row, its log sources on each platform (in [`Platform::ALL`] order).
static SOURCES: LazyLock<Vec<[Vec<LogSource>; 3]>> = LazyLock::new(|| {
    ROWS.iter()
        .map(|r| {
            Platform::ALL.map(|p| {
                let product = p.to_string();
                let mut out: Vec<LogSource> = r
                    .categories
                    .iter()
                    .map(|c| source(&product, Some(c), None))
                    .collect();
                if let Some(s) = r.service {
                    out.push(source(&product, None, Some(s)));
                }
                out
            })
        })
        .collect()
});

/// The log sources of row `row` (an index from [`lookup`]) on `platform`.
pub fn of_row(row: usize, platform: Platform) -> &'static [LogSource] {
    let p = Platform::ALL
        .iter()
        .position(|x| *x == platform)
        .unwrap_or(0);
    SOURCES.get(row).map_or(&[], |per| per[p].as_slice())
}

/// A key and the log sources it maps to.
type Entry = ((Platform, Category), [LogSource; 1]);

/// `(platform, category)` → its one log source, for process and file
/// creations.
static BASIC: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for platform in [Platform::Linux, Platform::Macos, Platform::Windows] {
        for category in [Category::ProcessCreation, Category::FileEvent] {
            let product = platform.to_string();
            out.push((
                (platform, category),
                [source(&product, Some(category.sigma_name()), None)],
            ));
        }
    }
    out
});

/// The log source of a process or file creation on `platform`; empty for
/// any other category.
pub fn basic(platform: Platform, category: Category) -> &'static [LogSource] {
    BASIC
        .iter()
        .find(|(key, _)| *key == (platform, category))
        .map_or(&[], |(_, ls)| ls.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ls: &[LogSource]) -> Vec<String> {
        ls.iter()
            .map(|l| {
                format!(
                    "{}/{}",
                    l.product.as_deref().unwrap_or("-"),
                    l.category
                        .as_deref()
                        .or(l.service.as_deref())
                        .unwrap_or("-")
                )
            })
            .collect()
    }

    #[test]
    fn table_rows_give_categories_and_services() {
        type Case<'a> = (
            &'a str,
            Option<u32>,
            Option<&'a str>,
            Platform,
            &'a [&'a str],
        );
        let cases: &[Case<'_>] = &[
            (
                SYSMON,
                Some(1),
                None,
                Platform::Windows,
                &["windows/process_creation", "windows/sysmon"],
            ),
            (
                SYSMON,
                Some(12),
                Some("CreateKey"),
                Platform::Windows,
                &[
                    "windows/registry_add",
                    "windows/registry_event",
                    "windows/sysmon",
                ],
            ),
            (
                SYSMON,
                Some(12),
                Some("DeleteValue"),
                Platform::Windows,
                &[
                    "windows/registry_delete",
                    "windows/registry_event",
                    "windows/sysmon",
                ],
            ),
            (
                SYSMON,
                Some(12),
                None,
                Platform::Windows,
                &["windows/registry_event", "windows/sysmon"],
            ),
            (
                SYSMON,
                Some(26),
                None,
                Platform::Windows,
                &[
                    "windows/file_delete",
                    "windows/file_delete_detected",
                    "windows/sysmon",
                ],
            ),
            (
                SYSMON_LINUX,
                Some(3),
                None,
                Platform::Linux,
                &["linux/network_connection", "linux/sysmon"],
            ),
            (
                "security",
                Some(4688),
                None,
                Platform::Windows,
                &["windows/process_creation", "windows/security"],
            ),
            (
                "Security",
                Some(4624),
                None,
                Platform::Windows,
                &["windows/security"],
            ),
            (
                "Microsoft-Windows-PowerShell/Operational",
                Some(4104),
                None,
                Platform::Windows,
                &["windows/ps_script", "windows/powershell"],
            ),
            (
                "Windows PowerShell",
                Some(400),
                None,
                Platform::Windows,
                &["windows/ps_classic_start", "windows/powershell-classic"],
            ),
            (
                ESLOGGER,
                None,
                Some("exec"),
                Platform::Macos,
                &["macos/process_creation"],
            ),
        ];
        for (source, id, detail, platform, want) in cases {
            let (row, _) =
                lookup(source, *id, *detail).unwrap_or_else(|| panic!("{source} {id:?}"));
            assert_eq!(
                names(of_row(row, *platform)),
                *want,
                "{source} {id:?} {detail:?}"
            );
        }
        assert!(lookup(SYSMON, Some(30), None).is_none());
        assert!(lookup("Microsoft-Windows-Foo/Operational", Some(1), None).is_none());
        assert!(lookup(ESLOGGER, None, Some("exit")).is_none());
    }
}
