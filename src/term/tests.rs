use super::*;

#[test]
fn hostile_characters_are_shown_escaped_and_the_rest_is_kept() {
    let cases: &[(&str, &str)] = &[
        ("plain title", "plain title"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        (
            "\u{1b}]0;pwned\u{7}\u{1b}[31mRED",
            "\\x1b]0;pwned\\x07\\x1b[31mRED",
        ),
        ("nul\0byte", "nul\\x00byte"),
        ("del\u{7f}", "del\\x7f"),
        ("c1 csi\u{9b}2J", "c1 csi\\u{9b}2J"),
        ("cr\rover", "cr\\x0dover"),
        ("crlf\r\nline\r\n", "crlf\r\nline\r\n"),
        ("cr at end\r", "cr at end\\x0d"),
        ("\r\r\n", "\\x0d\r\n"),
        ("invoice\u{202e}fdp.exe", "invoice\\u{202e}fdp.exe"),
        ("iso\u{2066}late\u{2069}", "iso\\u{2066}late\\u{2069}"),
        (
            "marks \u{200e}\u{200f}\u{61c}",
            "marks \\u{200e}\\u{200f}\\u{61c}",
        ),
        ("zero\u{200b}width\u{feff}", "zero\\u{200b}width\\u{feff}"),
        ("line\u{2028}sep", "line\\u{2028}sep"),
        ("ünïcödé → ok 日本", "ünïcödé → ok 日本"),
    ];
    for (input, want) in cases {
        assert_eq!(safe(input), *want, "input {input:?}");
        assert!(
            !safe(input).replace("\r\n", "\n").chars().any(is_hostile),
            "raw hostile character left in {input:?}"
        );
    }
}

#[test]
fn clean_text_is_borrowed() {
    assert!(matches!(safe("no escapes here"), Cow::Borrowed(_)));
    assert!(matches!(json_safe("{\"a\": 1}\n"), Cow::Borrowed(_)));
}

#[test]
fn json_gets_unicode_escapes_that_keep_its_meaning() -> Result<(), serde_json::Error> {
    let title = "a\u{202e}b\u{1b}c\u{9b}d\u{7f}e\u{feff}f";
    let json = serde_json::to_string_pretty(&serde_json::json!({ "title": title }))?;
    let cleaned = json_safe(&json);
    assert!(!cleaned.chars().any(is_hostile), "{cleaned}");
    // serde's own escape of ESC is kept, not doubled.
    assert!(cleaned.contains("b\\u001bc"), "{cleaned}");
    assert!(cleaned.contains("a\\u202eb"), "{cleaned}");
    let back: serde_json::Value = serde_json::from_str(&cleaned)?;
    assert_eq!(back["title"], title);
    Ok(())
}

/// A writer that fails every write with `kind`.
struct Failing(std::io::ErrorKind);

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::from(self.0))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn fresh() -> Stream {
    Stream {
        closed: AtomicBool::new(false),
        failed: AtomicBool::new(false),
        name: "stdout",
    }
}

#[test]
fn a_closed_pipe_stops_writing_quietly() {
    let s = fresh();
    let got = write_to(&s, &mut Failing(std::io::ErrorKind::BrokenPipe), b"x\n");
    assert_eq!(got, Some(Failure::Closed));
    assert!(s.closed.load(Ordering::SeqCst));
    assert!(
        !s.failed.load(Ordering::SeqCst),
        "a closed pipe is no failure"
    );
    // Later writes are not even tried.
    let mut sink = Vec::new();
    assert_eq!(write_to(&s, &mut sink, b"more"), None);
    assert!(sink.is_empty());
}

#[test]
fn a_full_disk_is_said_once_and_fails_the_command() {
    let s = fresh();
    let got = write_to(&s, &mut Failing(std::io::ErrorKind::StorageFull), b"x\n");
    let Some(Failure::Failed(message)) = got else {
        panic!("want a failure, got {got:?}");
    };
    assert!(
        message.starts_with("error: failed to write to stdout: "),
        "{message}"
    );
    assert!(s.failed.load(Ordering::SeqCst));
    assert_eq!(
        write_to(&s, &mut Failing(std::io::ErrorKind::StorageFull), b"y"),
        None,
        "said once"
    );
}

#[test]
fn a_working_stream_gets_every_byte() {
    let s = fresh();
    let mut sink = Vec::new();
    assert_eq!(write_to(&s, &mut sink, b"one\n"), None);
    assert_eq!(write_to(&s, &mut sink, b"two\n"), None);
    assert_eq!(sink, b"one\ntwo\n");
}
