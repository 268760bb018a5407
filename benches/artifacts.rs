//! Building every artifact kind: the harness's own cost before a chain can
//! start. Builds each kind for the platform that opens it, with a stage
//! program of this binary's size (about 25 MB) for the kinds that embed it,
//! and prints the median of repeated builds and the output size.
//!
//! Run with `cargo bench --bench artifacts`. The target is under 250 ms per
//! document and under 1 s per disk image (release build).

use std::time::{Duration, Instant};

use chainproof::artifact::ArtifactKind;
use chainproof::artifact::build::{Input, build};
use chainproof::vocab::Platform;

const ROUNDS: usize = 7;

fn platform_of(kind: ArtifactKind) -> Platform {
    match kind {
        ArtifactKind::OdtMacro | ArtifactKind::DesktopEntry | ArtifactKind::Script => {
            Platform::Linux
        }
        ArtifactKind::Command | ArtifactKind::AppleScript | ArtifactKind::Dmg => Platform::Macos,
        _ => Platform::Windows,
    }
}

fn main() {
    let stage = std::fs::read(std::env::current_exe().unwrap_or_default()).unwrap_or_default();
    let stage = if stage.len() < 20_000_000 {
        // A release bench binary is small; use a stage-sized payload.
        let mut s = stage;
        s.resize(25_000_000, 0x90);
        s
    } else {
        stage
    };
    let argv: Vec<String> = [
        r"C:\Windows\System32\cmd.exe",
        "/c",
        r#"echo cp0123456789>"C:\t\chainproof-cp0123456789\proof-cp0123456789.txt""#,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let posix: Vec<String> = ["/bin/sh", "-c", "touch /tmp/w/proof-cp0123456789.txt"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    println!("{:<14} {:>12} {:>14}", "kind", "median", "bytes");
    for kind in ArtifactKind::ALL {
        let platform = platform_of(kind);
        let command = if platform == Platform::Windows {
            &argv
        } else {
            &posix
        };
        let name = format!("Invoice-cp0123456789.{}", kind.extension());
        // An archive holds a launcher, as the shipped archive scenarios do.
        let member = kind.is_archive().then(|| {
            Box::new(Input {
                kind: ArtifactKind::DesktopEntry,
                platform,
                file_name: "Invoice-cp0123456789.pdf.desktop",
                executable: None,
                command: Some(command),
                link: None,
                token: "cp0123456789",
                workdir: "/tmp/chainproof-cp0123456789",
                stage: None,
                member: None,
                protect: None,
            })
        });
        let input = Input {
            kind,
            platform,
            file_name: &name,
            executable: kind.is_disk_image().then_some("Setup-cp0123456789.exe"),
            command: Some(command),
            link: None,
            token: "cp0123456789",
            workdir: r"C:\t\chainproof-cp0123456789",
            stage: Some(&stage),
            member,
            protect: None,
        };
        let mut times: Vec<Duration> = Vec::with_capacity(ROUNDS);
        let mut size = 0;
        for _ in 0..ROUNDS {
            let start = Instant::now();
            match build(&input) {
                Ok(bytes) => size = bytes.len(),
                Err(e) => {
                    println!("{kind:?}: {e}");
                    break;
                }
            }
            times.push(start.elapsed());
        }
        times.sort();
        if let Some(median) = times.get(times.len() / 2) {
            let kind_name = serde_json::to_string(&kind).unwrap_or_default();
            println!(
                "{:<14} {:>9.2} ms {:>14}",
                kind_name.trim_matches('"'),
                median.as_secs_f64() * 1000.0,
                size
            );
        }
    }
}
