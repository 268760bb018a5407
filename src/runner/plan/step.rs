//! The steps of a [`super::Plan`]: typed, each holding everything needed to
//! execute it and to print it, and each saying which effect outside the run
//! directory it leaves (and so what the journal must hold before it acts).

use std::time::Duration;

use crate::artifact::archive::Encryption;
use crate::artifact::{ArtifactKind, build};
use crate::platform::Argv;
use crate::platform::windows::OfficeApp;
use crate::vocab::Platform;

/// One step of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Create the run directory and its download folder.
    CreateRunDir {
        /// The run directory.
        path: String,
        /// Its download folder, where the artifact lands.
        downloads: String,
    },
    /// Copy the stage program as a stand-in for an application the chain
    /// starts.
    StageProgram {
        /// Its file name (the application's).
        name: String,
        /// Where the copy goes.
        path: String,
        /// What it does when started.
        does: StandInDoes,
    },
    /// Build the artifact's bytes.
    BuildArtifact(ArtifactStep),
    /// Serve the artifact on a fresh loopback port, with a landing page.
    Serve {
        /// The file's name in the URL.
        name: String,
        /// What the landing page says beside the link: an archive's
        /// password, as a lure gives it.
        note: Option<String>,
    },
    /// Download it from that server, as a browser does, and stop the server.
    Download {
        /// The download folder.
        dir: String,
        /// Where the file lands.
        path: String,
    },
    /// Write the artifact in place (delivery by copy).
    Copy {
        /// Where the file lands.
        path: String,
    },
    /// Compose the message carrying the artifact and send it over SMTP;
    /// what arrives is delivered into the run's mailbox.
    SendMail(MailStep),
    /// Extract the archive's member with the host's archive tool.
    Extract(ExtractStep),
    /// Set the origin mark a browser sets on a download.
    MarkOrigin {
        /// The downloaded file.
        path: String,
        /// Which mark.
        mark: OriginMark,
    },
    /// Make the downloaded program executable, as a user does first.
    MakeExecutable {
        /// The file.
        path: String,
    },
    /// Write a benign payload file into the run directory.
    StageFile {
        /// Where.
        path: String,
        /// The template's name in `payloads-benign/`.
        template: String,
        /// The rendered text.
        text: String,
    },
    /// Mount the disk image read-only.
    Mount(MountStep),
    /// Prepare the application's throw-away profile.
    Profile(Profile),
    /// Start the mail client with the message, to save the attachment
    /// before a real opener takes over; it is waited for.
    Receive(OpenStep),
    /// Start the opener with the file.
    Open(OpenStep),
    /// Wait for the chain.
    Wait {
        /// The file the last hop writes, if any.
        proof: Option<String>,
        /// Longest wait.
        timeout: Duration,
    },
    /// End the run: undo what lies outside the run directory, end its
    /// processes. Runs on every path out.
    Stop {
        /// What is undone, in order.
        undo: Vec<Undo>,
    },
    /// Read the ground truth the run left.
    Collect {
        /// The stage programs' report file.
        stage_reports: String,
        /// What watched the processes live.
        live: LiveSource,
    },
    /// Remove the run directory.
    Clean {
        /// What is removed.
        undo: Vec<Undo>,
    },
}

impl Step {
    /// True for the steps that end a run, which run on every path out.
    pub fn finishes(&self) -> bool {
        matches!(
            self,
            Step::Stop { .. } | Step::Collect { .. } | Step::Clean { .. }
        )
    }

    /// The effects outside the run directory this step leaves.
    pub fn effects(&self) -> Vec<Effect> {
        match self {
            Step::Mount(m) => vec![Effect::Mount {
                handle: m.handle.clone(),
            }],
            Step::Profile(Profile::TrustedLocation { key, .. }) => {
                vec![Effect::RegistryKey(key.clone())]
            }
            Step::Profile(Profile::Libreoffice { .. }) => vec![Effect::OfficeSockets],
            Step::Open(o) => o
                .registry_keys
                .iter()
                .map(|k| Effect::RegistryKey(k.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// What a stand-in program does when started.
#[derive(Debug, Clone, PartialEq)]
pub enum StandInDoes {
    /// Starts this command (rendered) itself.
    Starts(Vec<String>),
    /// Starts the command the file it opens carries.
    ReadsArtifact,
    /// Opens its arguments and starts nothing.
    Viewer,
}

impl StandInDoes {
    /// The instruction the copy carries: `None` reads the artifact, an
    /// empty command starts nothing.
    pub fn instruction(&self) -> Option<&[String]> {
        match self {
            StandInDoes::Starts(argv) => Some(argv),
            StandInDoes::ReadsArtifact => None,
            StandInDoes::Viewer => Some(&[]),
        }
    }
}

/// The artifact to build: all of [`build::Input`] but the stage program's
/// bytes, which are read when the step runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactStep {
    /// Format.
    pub kind: ArtifactKind,
    /// The platform that opens it.
    pub platform: Platform,
    /// Its file name, rendered.
    pub name: String,
    /// For disk images, the program inside, rendered.
    pub executable: Option<String>,
    /// The command it carries, rendered.
    pub carried: Option<Vec<String>>,
    /// For a PDF that opens with no action: its link's address, rendered.
    pub link: Option<String>,
    /// For a `.reg` file: the key it writes.
    pub registry_key: Option<String>,
    /// The run token.
    pub token: String,
    /// The run directory as the target sees it.
    pub workdir: String,
    /// For archives: the file inside (its `carried` is this step's).
    pub member: Option<Box<ArtifactStep>>,
    /// For archives: the cipher and the password.
    pub protect: Option<(Encryption, String)>,
}

impl ArtifactStep {
    /// The artifact's bytes include a copy of the stage program (itself or
    /// its member).
    pub fn embeds_stage(&self) -> bool {
        self.kind.embeds_stage() || self.member.as_ref().is_some_and(|m| m.embeds_stage())
    }

    /// The file a user finally opens: an archive's member, else itself.
    pub fn opened(&self) -> &ArtifactStep {
        self.member.as_deref().map_or(self, ArtifactStep::opened)
    }

    /// The builder's input, with the stage program's bytes for kinds that
    /// embed it.
    pub fn input<'a>(&'a self, stage: Option<&'a [u8]>) -> build::Input<'a> {
        build::Input {
            kind: self.kind,
            platform: self.platform,
            file_name: &self.name,
            executable: self.executable.as_deref(),
            command: self.carried.as_deref(),
            link: self.link.as_deref(),
            token: &self.token,
            workdir: &self.workdir,
            stage,
            member: self.member.as_ref().map(|m| Box::new(m.input(stage))),
            protect: self.protect.as_ref().map(|(e, p)| (*e, p.as_str())),
        }
    }
}

/// The origin marks a browser sets, by platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginMark {
    /// Linux: the `user.xdg.origin.url` and `user.xdg.referrer.url` xattrs.
    XdgXattrs,
    /// macOS: the `com.apple.quarantine` xattr.
    Quarantine,
    /// Windows: the `Zone.Identifier` alternate data stream.
    ZoneIdentifier,
}

/// Sending the message that carries the artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct MailStep {
    /// The sender's address.
    pub from: String,
    /// The recipient's address.
    pub to: String,
    /// The subject, rendered.
    pub subject: String,
    /// The body, rendered.
    pub body: String,
    /// The attachment's file name.
    pub attachment: String,
    /// The SMTP server (`host:port`), or `None` for the loopback listener
    /// the harness runs for the one message.
    pub server: Option<String>,
    /// Where the delivered message lands (`{message}`).
    pub mailbox: String,
}

/// Extracting an archive's member with a real tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractStep {
    /// The archive.
    pub archive: String,
    /// The command that extracts it (the password on its command line, as
    /// a user types it).
    pub argv: Vec<String>,
    /// The folder it extracts into.
    pub dest: String,
    /// The member, once extracted (`{member}`).
    pub member: String,
    /// The tool's image name, for its mark policy.
    pub tool: String,
}

/// Where an image is mounted.
#[derive(Debug, Clone, PartialEq)]
pub enum MountAt {
    /// At this folder (created).
    Dir(String),
    /// At the drive letter Windows picks.
    DriveLetter,
}

/// Mounting a disk image read-only.
#[derive(Debug, Clone, PartialEq)]
pub struct MountStep {
    /// The image.
    pub image: String,
    /// Where.
    pub at: MountAt,
    /// What unmounting takes: the mount point, or on Windows the image
    /// (the drive letter may later belong to another volume).
    pub handle: String,
    /// Whether mounting needs an administrator (a VHD on Windows).
    pub needs_admin: bool,
}

/// A throw-away application profile.
#[derive(Debug, Clone, PartialEq)]
pub enum Profile {
    /// A LibreOffice user installation that allows document macros.
    Libreoffice {
        /// Its folder (`{profile}`).
        dir: String,
    },
    /// The run directory as a temporary Office Trusted Location (Windows).
    TrustedLocation {
        /// The application.
        app: OfficeApp,
        /// Its registry key, deleted at cleanup.
        key: String,
        /// The commands that add it.
        add: Vec<Argv>,
        /// The folder trusted.
        dir: String,
    },
}

/// Starting the opener.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenStep {
    /// What is started.
    pub program: Program,
    /// Its working folder.
    pub cwd: String,
    /// Variables set for it besides the token and report file.
    pub env: Vec<(String, String)>,
    /// Folders created for it first.
    pub dirs: Vec<String>,
    /// The stage programs' report file.
    pub report: String,
    /// Its output.
    pub log: String,
    /// Registry keys the chain it starts writes (cleanup deletes them).
    pub registry_keys: Vec<String>,
}

/// The opener.
#[derive(Debug, Clone, PartialEq)]
pub enum Program {
    /// The stage program copied under the application's name.
    Stage {
        /// The application's image name.
        name: String,
        /// Where the copy goes.
        path: String,
        /// Its arguments, rendered.
        args: Vec<String>,
        /// The command it starts itself, by the file's association.
        starts: Option<Vec<String>>,
    },
    /// The host's real application.
    Real {
        /// Its command line as templates (re-rendered once a drive letter
        /// is known).
        template: Vec<String>,
        /// Its command line, rendered with the planned variables.
        argv: Vec<String>,
    },
}

/// How the processes of the run were watched live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveSource {
    /// The netlink process connector and a /proc scan (Linux).
    ProcessConnector,
    /// The OS process table, polled.
    ProcessTable,
}

/// One thing a run leaves outside its run directory.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A mounted image.
    Mount {
        /// See [`MountStep::handle`].
        handle: String,
    },
    /// A registry key.
    RegistryKey(String),
    /// LibreOffice's IPC sockets in /tmp.
    OfficeSockets,
}

/// One thing cleanup undoes.
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// Unmount the image.
    Unmount {
        /// See [`MountStep::handle`].
        handle: String,
        /// How, for people.
        how: String,
    },
    /// End every process carrying the token.
    EndProcesses,
    /// Delete a registry key.
    DeleteRegistryKey(String),
    /// Remove the office's stale IPC sockets.
    OfficeSockets,
    /// Remove the run directory.
    RemoveRunDir(String),
}

impl Undo {
    /// True when this undoes `effect`.
    pub fn undoes(&self, effect: &Effect) -> bool {
        match (self, effect) {
            (Undo::Unmount { handle, .. }, Effect::Mount { handle: h }) => handle == h,
            (Undo::DeleteRegistryKey(k), Effect::RegistryKey(e)) => k == e,
            (Undo::OfficeSockets, Effect::OfficeSockets) => true,
            _ => false,
        }
    }
}
