use super::*;

#[test]
fn file_names_stay_in_their_folder() {
    for bad in [
        "/tmp/x-{token}",
        "../x-{token}",
        "a\\b",
        "..",
        "-rf{token}",
        "a\u{1b}[31m",
        "a%20b",
        "a#b",
    ] {
        assert!(bad_file_name(bad).is_some(), "{bad:?} accepted");
    }
    for ok in [
        "Invoice-{token}.odt",
        "Invoice 2024 {token}.pdf.lnk",
        "Setup-{token}.exe",
    ] {
        assert_eq!(bad_file_name(ok), None, "{ok:?} rejected");
    }
}

#[test]
fn technique_ids() {
    for ok in ["T1204", "T1204.002"] {
        assert!(technique_ok(ok), "{ok}");
    }
    for bad in ["t1204", "T12", "T1204.2", "T1204.0021", "X1204"] {
        assert!(!technique_ok(bad), "{bad}");
    }
}
