//! The deliveries beyond a download: a message sent over SMTP and
//! delivered into the run's mailbox, and a member extracted from an
//! archive by the host's real tool.

use std::path::Path;
use std::time::Duration;

use super::plan::{ExtractStep, MailStep};
use crate::mail;
use crate::record::MailTruth;
use crate::stage;

/// Longest an SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest an archive tool may take to extract one member.
const EXTRACT_TIMEOUT: Duration = Duration::from_secs(60);

/// Composes the message carrying `attachment`, sends it over real SMTP to
/// `m.server` or to a loopback listener run for this one message, and
/// delivers what the listener received into the mailbox (`m.mailbox`) as
/// a mail server's local delivery does.
pub(super) async fn send_mail(
    m: &MailStep,
    attachment: &[u8],
    token: &str,
) -> Result<MailTruth, String> {
    let domain = m.from.rsplit_once('@').map_or("example.com", |(_, d)| d);
    let letter = mail::Letter {
        from: &m.from,
        to: &m.to,
        subject: &m.subject,
        body: &m.body,
        attachment_name: &m.attachment,
        attachment,
        token,
        domain,
    };
    let message = mail::compose(&letter).map_err(|e| format!("compose the message: {e}"))?;
    let sent_at = time::OffsetDateTime::now_utc();
    let (record, data) = match &m.server {
        Some(server) => {
            let record = mail::send(server, &m.from, &m.to, &message, SMTP_TIMEOUT)
                .await
                .map_err(|e| format!("send the message to {server}: {e}"))?;
            // A lab server keeps the message; the mailbox gets the copy sent.
            (record, message.bytes.clone())
        }
        None => {
            // The listener takes the one message it is run for, whatever its
            // size: an image holding a debug build of the stage program is
            // larger than the usual limit (a real mail server's limit is the
            // lab's to test, with `server`).
            let limit = (message.bytes.len() + (1 << 20)).max(mail::DEFAULT_MAX_SIZE);
            let listener = mail::Listener::bind()
                .await
                .map_err(|e| format!("start the loopback SMTP listener: {e}"))?
                .with_max_size(limit);
            let addr = listener.addr().to_string();
            let receiving = tokio::spawn(listener.receive(SMTP_TIMEOUT));
            let sent = mail::send(&addr, &m.from, &m.to, &message, SMTP_TIMEOUT).await;
            let received = receiving
                .await
                .map_err(|e| format!("the loopback SMTP listener: {e}"))?
                .map_err(|e| format!("the loopback SMTP listener: {e}"))?;
            sent.map_err(|e| format!("send the message to {addr}: {e}"))?;
            // The listener's view is the server's: what it was told and
            // answered, and the DATA hashed as received, which is what a
            // mail server's log would hold.
            let record = mail::SmtpRecord::from_received(
                addr,
                &received,
                sent_at,
                time::OffsetDateTime::now_utc(),
            )
            .map_err(|e| format!("read the received message: {e}"))?;
            (record, received.data)
        }
    };
    if record.message_id != message.message_id {
        return Err(format!(
            "the server received Message-ID <{}>, not the one sent (<{}>)",
            record.message_id, message.message_id
        ));
    }
    let mailbox = Path::new(&m.mailbox);
    if let Some(dir) = mailbox.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    }
    std::fs::write(mailbox, &data).map_err(|e| format!("deliver to {}: {e}", m.mailbox))?;
    Ok(MailTruth {
        message_id: message.message_id.clone(),
        from: m.from.clone(),
        to: vec![m.to.clone()],
        subject: m.subject.clone(),
        attachment: m.attachment.clone(),
        attachment_sha256: message.attachment_sha256.clone(),
        server: record.server.clone(),
        queued_as: record.queued_as.clone(),
        transcript: record.transcript.clone(),
        size: record.size,
        sha256: record.sha256.clone(),
        mailbox: m.mailbox.clone(),
        sent_at,
        delivered_at: time::OffsetDateTime::now_utc(),
    })
}

/// Extracts the member with the host's real archive tool, as a user's
/// "Extract Here" does; the tool carries the run token in its
/// environment, so cleanup finds it if it hangs.
pub(super) async fn extract(x: &ExtractStep, token: &str) -> Result<(), String> {
    let (program, args) = x.argv.split_first().ok_or("extract: no command")?;
    std::fs::create_dir_all(&x.dest).map_err(|e| format!("create {}: {e}", x.dest))?;
    let output = tokio::process::Command::new(program)
        .args(args)
        .env(stage::ENV_TOKEN, token)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(EXTRACT_TIMEOUT, output)
        .await
        .map_err(|_| {
            format!(
                "{program} did not finish within {} s",
                EXTRACT_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("start {program}: {e}"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "{program} could not extract {}: {} ({})",
            x.archive,
            output.status,
            err.trim()
        ));
    }
    if !Path::new(&x.member).exists() {
        return Err(format!("{program} exited but {} is not there", x.member));
    }
    Ok(())
}
