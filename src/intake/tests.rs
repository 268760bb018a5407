use super::*;

#[test]
fn regular_files_are_read_whole() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.yaml");
    std::fs::write(&path, "id: x\n")?;
    assert_eq!(
        read_text(&path, Kind::Scenario).ok().as_deref(),
        Some("id: x\n")
    );
    // Through a symbolic link too.
    #[cfg(unix)]
    {
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&path, &link)?;
        assert!(read_text(&link, Kind::Scenario).is_ok());
    }
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_blocking() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let fifo = dir.path().join("pipe.yaml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU)?;
    let err = read_bytes(&fifo, Kind::Scenario)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("is a FIFO, not a regular file (a scenario must be a regular file)")
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn devices_and_folders_are_refused() {
    let err = read_bytes(Path::new("/dev/zero"), Kind::Telemetry).err();
    assert!(
        matches!(
            err,
            Some(IntakeError::NotRegular {
                what: "a device",
                ..
            })
        ),
        "{err:?}"
    );
    let err = read_bytes(Path::new("/"), Kind::Config).err();
    assert!(
        matches!(
            err,
            Some(IntakeError::NotRegular {
                what: "a folder",
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn files_over_the_limit_are_refused() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("big.yaml");
    let limit = usize::try_from(Kind::Scenario.limit()).unwrap_or(usize::MAX);
    std::fs::write(&path, vec![b'#'; limit])?;
    assert!(read_bytes(&path, Kind::Scenario).is_ok());
    std::fs::write(&path, vec![b'#'; limit + 1])?;
    let err = read_bytes(&path, Kind::Scenario)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err,
        Some("larger than 262144 bytes, the limit for a scenario".to_string())
    );
    Ok(())
}

#[test]
fn text_that_is_not_utf8_names_the_byte() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("latin1.yaml");
    std::fs::write(&path, b"id: x\ntitle: caf\xe9\n")?;
    let err = read_text(&path, Kind::Scenario)
        .err()
        .map(|e| e.to_string());
    assert_eq!(err, Some("not UTF-8 at byte 16".to_string()));
    Ok(())
}

#[test]
fn a_streamed_telemetry_file_may_pass_the_read_whole_limit() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("big.jsonl");
    // Sparse: 1 GiB + 1 byte of size, no blocks written.
    std::fs::File::create(&path)?.set_len(Kind::Telemetry.limit() + 1)?;
    let whole = read_bytes(&path, Kind::Telemetry)
        .err()
        .map(|e| e.to_string());
    assert!(
        whole.as_deref().is_some_and(|e| e.contains("larger than")),
        "{whole:?}"
    );
    let opened = open_stream(&path, Kind::TelemetryStream).map_err(std::io::Error::other)?;
    assert_eq!(opened.len, Kind::Telemetry.limit() + 1);
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_by_the_streaming_open_too() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let fifo = dir.path().join("pipe.jsonl");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU)?;
    let err = open_stream(&fifo, Kind::TelemetryStream)
        .err()
        .map(|e| e.to_string());
    assert!(
        err.as_deref().is_some_and(|e| e.contains("a FIFO")),
        "{err:?}"
    );
    Ok(())
}
