//! Defender for Office 365's mail tables (`EmailEvents`, one row per
//! message and recipient, and `EmailAttachmentInfo`, one row per
//! attachment and recipient), read by the `defender` backend when its
//! profile sets `mail_evidence`: the query that finds a batch's messages
//! and their conversion to events the mail hop matches on
//! (`InternetMessageId`).
//!
//! Column names are those of the advanced hunting schema reference
//! (`advanced-hunting-emailevents-table`,
//! `advanced-hunting-emailattachmentinfo-table`). A run's Message-ID holds
//! its token, and so may its subject: either finds the message.

use time::OffsetDateTime;

use super::device::INGESTION;
use super::kql::{self, KqlError};
use super::table::{Row, put, text, time_of};
use crate::telemetry::{Category, Event};

/// The value of `SourceTable` on a mail row: set by [`events`], read by
/// [`is_mail_row`], so one round's events answer can hold device and mail
/// rows side by side.
pub const SOURCE: &str = "EmailEvents";

/// Columns of `EmailEvents` a mail row carries, in the event's names.
const MAIL_COLUMNS: [&str; 8] = [
    "NetworkMessageId",
    "InternetMessageId",
    "SenderFromAddress",
    "RecipientEmailAddress",
    "Subject",
    "DeliveryAction",
    "DeliveryLocation",
    "AttachmentCount",
];

/// Messages of the window whose `InternetMessageId` or `Subject` holds
/// any of `tokens`, each with its attachments' names and SHA-256
/// (`EmailAttachmentInfo`, joined on the message and the recipient, since
/// both tables hold one row per recipient; a left outer join keeps a
/// message whose attachments the table does not list). One row per
/// message, recipient and attachment.
pub fn events(
    time: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    tokens: &[&str],
) -> Result<String, KqlError> {
    let window = kql::between(time, from, to)?;
    let time = kql::column(time)?;
    let columns = MAIL_COLUMNS.join(", ");
    Ok(format!(
        "EmailEvents\n\
         | where {window}\n\
         | where {}\n\
         | project {time}, SourceTable = \"{SOURCE}\", {columns}, {INGESTION}\n\
         | join kind=leftouter (EmailAttachmentInfo\n\
         | where {window}\n\
         | project NetworkMessageId, RecipientEmailAddress, \
         AttachmentFileName = FileName, AttachmentSHA256 = SHA256) \
         on NetworkMessageId, RecipientEmailAddress\n\
         | project {time}, SourceTable, {columns}, AttachmentFileName, AttachmentSHA256, \
         IngestionTime\n\
         | order by {time} asc",
        kql::any_column_contains(&["InternetMessageId", "Subject"], tokens)?,
    ))
}

/// True for a row of the mail query ([`events`]).
pub fn is_mail_row(row: &Row) -> bool {
    text(row, "SourceTable").as_deref() == Some(SOURCE)
}

/// A mail row as an event: category `Other` (no Sigma log source is a
/// message arriving), with the message's columns under their schema
/// names, so `InternetMessageId` ties it to the mail hop; `at` is the
/// row's `Timestamp` (when the service recorded the message) and
/// `arrived` its ingestion time.
pub fn mail_event(row: &Row, time: &str) -> Event {
    let mut fields = Row::new();
    for key in MAIL_COLUMNS
        .iter()
        .chain(&["AttachmentFileName", "AttachmentSHA256"])
    {
        put(&mut fields, key, text(row, key));
    }
    Event {
        category: Category::Other,
        arrived: time_of(row, "IngestionTime"),
        at: time_of(row, time),
        hop: None,
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::microsoft::fixture::row;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn the_mail_query_searches_message_ids_and_subjects_and_joins_attachments()
    -> Result<(), KqlError> {
        let q = events(
            "Timestamp",
            datetime!(2026-11-26 10:00 UTC),
            datetime!(2026-11-26 10:20 UTC),
            &["cp0000000001", r#"x" or 1==1"#],
        )?;
        assert!(q.starts_with("EmailEvents\n| where Timestamp between (datetime(2026-11-26T10:00:00Z) .. datetime(2026-11-26T10:20:00Z))\n"), "{q}");
        assert!(q.contains(r#"((InternetMessageId contains "cp0000000001" or InternetMessageId contains "x\" or 1==1") or (Subject contains "cp0000000001""#), "{q}");
        assert!(
            q.contains("| join kind=leftouter (EmailAttachmentInfo\n"),
            "{q}"
        );
        assert!(
            q.contains("AttachmentSHA256 = SHA256) on NetworkMessageId, RecipientEmailAddress\n"),
            "{q}"
        );
        assert!(q.contains("IngestionTime = ingestion_time()"), "{q}");
        assert!(q.ends_with("| order by Timestamp asc"), "{q}");
        assert!(
            events(
                "Time stamp",
                datetime!(2026-11-26 10:00 UTC),
                datetime!(2026-11-26 10:20 UTC),
                &["t"]
            )
            .is_err()
        );
        Ok(())
    }

    #[test]
    fn a_mail_row_keeps_its_message_id_and_times() {
        let r = row(json!({
            "Timestamp": "2026-11-26T10:00:01.5Z", "SourceTable": "EmailEvents",
            "NetworkMessageId": "5c3c5f2e-8a1b-4d8e-9c51-08dcb0f5a1e2",
            "InternetMessageId": "<64db894213d2d179.cp00000000aa@fastfreight-delivery.example>",
            "SenderFromAddress": "billing@fastfreight-delivery.example",
            "RecipientEmailAddress": "lab@contoso.example", "Subject": "Invoice",
            "DeliveryAction": "Delivered", "DeliveryLocation": "Inbox/folder",
            "AttachmentCount": 1, "AttachmentFileName": "invoice.docm",
            "AttachmentSHA256": "ab12", "IngestionTime": "2026-11-26T10:02:00Z"
        }));
        assert!(is_mail_row(&r));
        let e = mail_event(&r, "Timestamp");
        assert_eq!(e.category, Category::Other);
        assert_eq!(
            e.fields["InternetMessageId"],
            json!("<64db894213d2d179.cp00000000aa@fastfreight-delivery.example>")
        );
        assert_eq!(e.fields["AttachmentCount"], json!("1"));
        assert_eq!(e.fields["AttachmentSHA256"], json!("ab12"));
        assert_eq!(e.at, Some(datetime!(2026-11-26 10:00:01.5 UTC)));
        assert_eq!(e.arrived, Some(datetime!(2026-11-26 10:02 UTC)));
        assert!(!is_mail_row(&row(
            json!({"SourceTable": "DeviceFileEvents"})
        )));
    }
}
