//! Cron expressions (parsed by `croner`), evaluated in UTC on `time`'s
//! [`OffsetDateTime`] through a small adapter.

use std::cmp::Ordering;

use croner::errors::CronError;
use croner::{CivilDate, CivilDateTime, CivilTime, Cron, CronDateTime, Resolution, Weekday};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A parsed cron expression: five fields, or six with seconds first.
#[derive(Debug, Clone)]
pub struct CronExpr {
    text: String,
    cron: Cron,
}

impl CronExpr {
    /// Parses `text` (e.g. `0 * * * *`, `*/10 * * * * *`).
    pub fn parse(text: &str) -> Result<CronExpr, String> {
        let cron: Cron = text
            .parse()
            .map_err(|e: CronError| format!("cron expression `{text}`: {e}"))?;
        Ok(CronExpr {
            text: text.to_string(),
            cron,
        })
    }

    /// The expression as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first matching instant strictly after `t` (UTC, whole seconds).
    pub fn after(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        let from = Utc(t.to_offset(UtcOffset::UTC).replace_nanosecond(0).ok()?);
        self.cron
            .find_next_occurrence(&from, false)
            .ok()
            .map(|u| u.0)
    }
}

/// `OffsetDateTime` in UTC, as croner sees it.
#[derive(Debug, Clone, Copy)]
struct Utc(OffsetDateTime);

impl CronDateTime for Utc {
    fn to_civil(&self) -> CivilDateTime {
        let t = self.0;
        CivilDateTime::new(
            CivilDate::from_parts_unchecked(
                t.year(),
                u32::from(u8::from(t.month())),
                t.day().into(),
            ),
            CivilTime::from_parts_unchecked(t.hour().into(), t.minute().into(), t.second().into()),
        )
    }

    fn civil_weekday(&self) -> Weekday {
        Weekday::from_days_from_sunday(self.0.weekday().number_days_from_sunday().into())
    }

    fn resolve_civil(&self, civil: CivilDateTime) -> Result<Resolution<Self>, CronError> {
        let month = u8::try_from(civil.month())
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(CronError::InvalidDate)?;
        let day = u8::try_from(civil.day()).map_err(|_| CronError::InvalidDate)?;
        let date = Date::from_calendar_date(civil.year(), month, day)
            .map_err(|_| CronError::InvalidDate)?;
        let hms = |v: u32| u8::try_from(v).map_err(|_| CronError::InvalidTime);
        let time = Time::from_hms(
            hms(civil.hour())?,
            hms(civil.minute())?,
            hms(civil.second())?,
        )
        .map_err(|_| CronError::InvalidTime)?;
        Ok(Resolution::Single(Utc(
            PrimitiveDateTime::new(date, time).assume_utc()
        )))
    }

    fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        self.0
            .checked_add(time::Duration::seconds(seconds))
            .map(Utc)
    }

    fn cmp_instant(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn next_occurrences_in_utc() -> Result<(), String> {
        let hourly = CronExpr::parse("0 * * * *")?;
        assert_eq!(
            hourly.after(datetime!(2026-03-01 10:15:30.5 UTC)),
            Some(datetime!(2026-03-01 11:00:00 UTC))
        );
        // Strictly after: a slot is never returned twice.
        assert_eq!(
            hourly.after(datetime!(2026-03-01 11:00:00 UTC)),
            Some(datetime!(2026-03-01 12:00:00 UTC))
        );
        let seconds = CronExpr::parse("*/10 * * * * *")?;
        assert_eq!(
            seconds.after(datetime!(2026-12-31 23:59:55 UTC)),
            Some(datetime!(2027-01-01 00:00:00 UTC))
        );
        let monday = CronExpr::parse("30 2 * * 1")?;
        // 2026-03-01 is a Sunday.
        assert_eq!(
            monday.after(datetime!(2026-03-01 00:00 +02:00)),
            Some(datetime!(2026-03-02 02:30:00 UTC))
        );
        assert!(CronExpr::parse("61 * * * *").is_err());
        assert!(CronExpr::parse("every hour").is_err());
        Ok(())
    }
}
