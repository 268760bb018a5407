//! When runs start: a fixed interval or a cron expression, plus jitter, and
//! how a run that overran its slot moves the next start.

use std::time::Duration;

use time::OffsetDateTime;

use super::cron::CronExpr;

/// How often to run.
#[derive(Debug, Clone)]
pub enum When {
    /// Every interval, starting when the service starts.
    Every(Duration),
    /// At each match of a cron expression (UTC).
    Cron(Box<CronExpr>),
}

impl When {
    /// The first slot of a service started at `now`: at once for an
    /// interval, the next match for a cron expression.
    fn first(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            When::Every(_) => Some(now),
            When::Cron(c) => c.after(now),
        }
    }

    /// The slot strictly after `slot`.
    fn after(&self, slot: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            When::Every(d) => slot.checked_add(time::Duration::try_from(*d).ok()?),
            When::Cron(c) => c.after(slot),
        }
    }
}

/// One start, as planned and as it will happen.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// The slot on the schedule.
    pub planned: OffsetDateTime,
    /// When the run starts: `max(planned, end of the previous run)` plus
    /// jitter.
    pub start: OffsetDateTime,
    /// How much later than planned the previous run let this one start
    /// (zero when it ended in time; jitter not included).
    pub delayed_by: Duration,
    /// Slots that passed while the previous run was still going; they are
    /// folded into this run rather than run back to back.
    pub skipped: u64,
}

/// The sequence of slots of one service.
#[derive(Debug, Clone)]
pub struct Slots {
    when: When,
    anchor: OffsetDateTime,
    last: Option<OffsetDateTime>,
}

/// At most this many overrun slots are counted one by one.
const MAX_SKIPPED: u64 = 1_000_000;

impl Slots {
    /// The slots of a service started at `anchor`.
    pub fn new(when: When, anchor: OffsetDateTime) -> Slots {
        Slots {
            when,
            anchor,
            last: None,
        }
    }

    /// The next start. `previous_end` is when the previous run ended (none
    /// for the first); `jitter` is the random delay drawn for this start.
    /// Runs never overlap: a run that ended after the next slot delays it,
    /// and the slots that passed meanwhile are skipped, so the service is
    /// back on its schedule after one late run. `None` when the schedule
    /// has no further slot.
    pub fn next(&mut self, previous_end: Option<OffsetDateTime>, jitter: Duration) -> Option<Slot> {
        let planned = match self.last {
            None => self.when.first(self.anchor)?,
            Some(last) => self.when.after(last)?,
        };
        let mut represented = planned;
        let mut skipped = 0;
        let mut begin = planned;
        let mut delayed_by = Duration::ZERO;
        if let Some(end) = previous_end.filter(|end| *end > planned) {
            begin = end;
            delayed_by = (end - planned).try_into().unwrap_or_default();
            while skipped < MAX_SKIPPED {
                match self.when.after(represented) {
                    Some(s) if s <= end => {
                        represented = s;
                        skipped += 1;
                    }
                    _ => break,
                }
            }
        }
        self.last = Some(represented);
        Some(Slot {
            planned,
            start: begin + jitter,
            delayed_by,
            skipped,
        })
    }
}

/// A random delay in `0..=max`.
pub fn jitter(max: Duration) -> Duration {
    use rand::Rng;
    if max.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 10:00:00 UTC);

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn an_interval_starts_at_once_and_keeps_its_grid() -> Result<(), String> {
        let mut slots = Slots::new(When::Every(secs(60)), T0);
        let first = slots.next(None, Duration::ZERO).ok_or("no slot")?;
        assert_eq!((first.planned, first.start), (T0, T0));
        // The first run took 10 s: the next starts on the grid.
        let second = slots
            .next(Some(T0 + secs(10)), Duration::ZERO)
            .ok_or("no slot")?;
        assert_eq!(second.start, T0 + secs(60));
        assert_eq!((second.delayed_by, second.skipped), (Duration::ZERO, 0));
        Ok(())
    }

    #[test]
    fn an_overrun_delays_the_next_start_and_skips_missed_slots() -> Result<(), String> {
        let mut slots = Slots::new(When::Every(secs(60)), T0);
        slots.next(None, Duration::ZERO).ok_or("no slot")?;
        // The run ended at 10:02:30: slot 10:01 starts late, 10:02 is folded in.
        let end = T0 + secs(150);
        let late = slots.next(Some(end), Duration::ZERO).ok_or("no slot")?;
        assert_eq!(late.planned, T0 + secs(60));
        assert_eq!(late.start, end);
        assert_eq!((late.delayed_by, late.skipped), (secs(90), 1));
        // Back on the grid: 10:03, not a burst of catch-up runs.
        let next = slots
            .next(Some(end + secs(5)), Duration::ZERO)
            .ok_or("no slot")?;
        assert_eq!(next.start, T0 + secs(180));
        Ok(())
    }

    #[test]
    fn jitter_is_added_to_the_start_not_the_grid() -> Result<(), String> {
        let mut slots = Slots::new(When::Every(secs(60)), T0);
        let first = slots.next(None, secs(7)).ok_or("no slot")?;
        assert_eq!((first.planned, first.start), (T0, T0 + secs(7)));
        let second = slots.next(Some(T0 + secs(20)), secs(3)).ok_or("no slot")?;
        assert_eq!(second.start, T0 + secs(63));
        for _ in 0..100 {
            assert!(jitter(secs(2)) <= secs(2));
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
        Ok(())
    }

    #[test]
    fn cron_slots_follow_the_expression() -> Result<(), String> {
        let cron = CronExpr::parse("*/15 * * * *")?;
        let mut slots = Slots::new(When::Cron(Box::new(cron)), T0 + secs(1));
        let first = slots.next(None, Duration::ZERO).ok_or("no slot")?;
        assert_eq!(first.start, datetime!(2026-03-01 10:15:00 UTC));
        let end = datetime!(2026-03-01 10:50:00 UTC);
        let late = slots.next(Some(end), Duration::ZERO).ok_or("no slot")?;
        assert_eq!(late.planned, datetime!(2026-03-01 10:30:00 UTC));
        assert_eq!((late.start, late.skipped), (end, 1));
        let next = slots.next(Some(end), Duration::ZERO).ok_or("no slot")?;
        assert_eq!(next.start, datetime!(2026-03-01 11:00:00 UTC));
        Ok(())
    }
}
