//! The field tables of the profiles: for each Sysmon name the product's
//! source paths, first match wins. Data only; [`super::profile`] reads it.
//!
//! ECS names follow the ECS `process`, `file`, `user` and `host` field
//! sets; Winlogbeat keeps Sysmon's own names under `winlog.event_data`
//! (ECS copies as fallbacks); Wazuh lower-camel-cases the Sysmon names
//! under `data.win.eventdata`, and decodes auditd into `data.audit` and
//! file integrity (with who-data) into `syscheck`.

/// One Sysmon name and where a profile may find it, first match wins.
pub struct Field {
    /// The Sysmon-style name.
    pub sysmon: &'static str,
    /// Candidate source paths.
    pub from: &'static [&'static str],
    /// Read as a whole number (pids arrive as numbers or digit strings).
    pub numeric: bool,
}

const fn text_field(sysmon: &'static str, from: &'static [&'static str]) -> Field {
    Field {
        sysmon,
        from,
        numeric: false,
    }
}

const fn number_field(sysmon: &'static str, from: &'static [&'static str]) -> Field {
    Field {
        sysmon,
        from,
        numeric: true,
    }
}

/// Elastic Common Schema.
pub const ECS: &[Field] = &[
    text_field("Image", &["process.executable"]),
    text_field("CommandLine", &["process.command_line"]),
    number_field("ProcessId", &["process.pid"]),
    number_field("ParentProcessId", &["process.parent.pid"]),
    text_field("ParentImage", &["process.parent.executable"]),
    text_field("ParentCommandLine", &["process.parent.command_line"]),
    text_field("User", &["user.name"]),
    text_field("TargetFilename", &["file.path"]),
    text_field("ProcessGuid", &["process.entity_id"]),
    text_field("ParentProcessGuid", &["process.parent.entity_id"]),
    text_field("host", &["host.name"]),
    // ECS `email.*` (a mail gateway's or mail integration's document): the
    // Message-ID under the name the mail hop matches on, the rest under
    // the names Defender's mail rows use.
    text_field("InternetMessageId", &["email.message_id"]),
    text_field("Subject", &["email.subject"]),
    text_field("SenderFromAddress", &["email.from.address"]),
    text_field("RecipientEmailAddress", &["email.to.address"]),
    text_field("AttachmentFileName", &["email.attachments.file.name"]),
    text_field("AttachmentSHA256", &["email.attachments.file.hash.sha256"]),
];

/// Winlogbeat, Sysmon channel.
pub const WINLOGBEAT: &[Field] = &[
    text_field("Image", &["winlog.event_data.Image", "process.executable"]),
    text_field(
        "CommandLine",
        &["winlog.event_data.CommandLine", "process.command_line"],
    ),
    number_field("ProcessId", &["winlog.event_data.ProcessId", "process.pid"]),
    number_field(
        "ParentProcessId",
        &["winlog.event_data.ParentProcessId", "process.parent.pid"],
    ),
    text_field(
        "ParentImage",
        &["winlog.event_data.ParentImage", "process.parent.executable"],
    ),
    text_field(
        "ParentCommandLine",
        &[
            "winlog.event_data.ParentCommandLine",
            "process.parent.command_line",
        ],
    ),
    text_field("User", &["winlog.event_data.User", "user.name"]),
    text_field(
        "TargetFilename",
        &["winlog.event_data.TargetFilename", "file.path"],
    ),
    text_field(
        "ProcessGuid",
        &["winlog.event_data.ProcessGuid", "process.entity_id"],
    ),
    text_field(
        "ParentProcessGuid",
        &[
            "winlog.event_data.ParentProcessGuid",
            "process.parent.entity_id",
        ],
    ),
    text_field("host", &["winlog.computer_name", "host.name"]),
];

/// The Wazuh indexer.
pub const WAZUH: &[Field] = &[
    text_field(
        "Image",
        &[
            "data.win.eventdata.image",
            "data.audit.exe",
            "syscheck.audit.process.name",
        ],
    ),
    text_field("CommandLine", &["data.win.eventdata.commandLine"]),
    number_field(
        "ProcessId",
        &[
            "data.win.eventdata.processId",
            "data.audit.pid",
            "syscheck.audit.process.id",
        ],
    ),
    number_field(
        "ParentProcessId",
        &[
            "data.win.eventdata.parentProcessId",
            "data.audit.ppid",
            "syscheck.audit.process.ppid",
        ],
    ),
    text_field("ParentImage", &["data.win.eventdata.parentImage"]),
    text_field(
        "ParentCommandLine",
        &["data.win.eventdata.parentCommandLine"],
    ),
    text_field(
        "User",
        &["data.win.eventdata.user", "syscheck.audit.user.name"],
    ),
    text_field(
        "TargetFilename",
        &[
            "data.win.eventdata.targetFilename",
            "syscheck.path",
            "data.audit.file.name",
        ],
    ),
    text_field("ProcessGuid", &["data.win.eventdata.processGuid"]),
    text_field(
        "ParentProcessGuid",
        &["data.win.eventdata.parentProcessGuid"],
    ),
    text_field("host", &["agent.name"]),
];

/// auditd argument fields, in order; the Wazuh decoder fills them only for
/// double-quoted arguments.
pub const AUDIT_ARGS: [&str; 8] = [
    "data.audit.execve.a0",
    "data.audit.execve.a1",
    "data.audit.execve.a2",
    "data.audit.execve.a3",
    "data.audit.execve.a4",
    "data.audit.execve.a5",
    "data.audit.execve.a6",
    "data.audit.execve.a7",
];
