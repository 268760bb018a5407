//! Converts the kernel's two process clocks to wall-clock nanoseconds since the Unix epoch.
//!
//! The process connector stamps events with `CLOCK_MONOTONIC`; `/proc/<pid>/stat` gives the
//! start time in clock ticks of `CLOCK_BOOTTIME`. We measure each clock's offset to the wall
//! clock once, at capture start, instead of using `btime` from `/proc/stat`: `btime` is whole
//! seconds, which would put /proc start times up to a second away from the connector's
//! nanosecond stamps and break merging the two sources by pid + start time.

use super::sys;

/// Offsets from the kernel's clocks to the wall clock, measured once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clocks {
    /// Wall clock minus `CLOCK_MONOTONIC`.
    mono_to_wall: i128,
    /// Wall clock minus `CLOCK_BOOTTIME`.
    boot_to_wall: i128,
    /// Nanoseconds per clock tick (`1e9 / _SC_CLK_TCK`).
    tick_ns: i128,
}

impl Clocks {
    /// Measures the offsets now. Falls back to 100 Hz ticks (the value on every Linux
    /// architecture) and zero offsets if a clock cannot be read, which never happens on Linux.
    pub(crate) fn measure() -> Self {
        let offset = |clock: fn() -> Option<i128>| {
            // Bracket the kernel clock by two wall readings to halve the read latency error.
            let (before, kernel, after) = (sys::realtime_ns(), clock(), sys::realtime_ns());
            match (before, kernel, after) {
                (Some(b), Some(k), Some(a)) => b + (a - b) / 2 - k,
                _ => 0,
            }
        };
        let hz = sys::clock_ticks_per_second().unwrap_or(100);
        Self {
            mono_to_wall: offset(sys::monotonic_ns),
            boot_to_wall: offset(sys::boottime_ns),
            tick_ns: 1_000_000_000 / i128::from(hz.max(1)),
        }
    }

    /// Builds clocks from known offsets, for tests.
    #[cfg(test)]
    pub(crate) fn fixed(mono_to_wall: i128, boot_to_wall: i128, tick_ns: i128) -> Self {
        Self {
            mono_to_wall,
            boot_to_wall,
            tick_ns,
        }
    }

    /// Wall-clock nanoseconds of a connector `timestamp_ns`.
    pub(crate) fn monotonic_to_wall(&self, ts_ns: u64) -> i128 {
        self.mono_to_wall + i128::from(ts_ns)
    }

    /// Wall-clock nanoseconds of a `/proc/<pid>/stat` start time in ticks since boot.
    pub(crate) fn ticks_to_wall(&self, ticks: u64) -> i128 {
        self.boot_to_wall + i128::from(ticks) * self.tick_ns
    }

    /// Length of one clock tick: the resolution of start times read from /proc.
    pub(crate) fn tick_ns(&self) -> i128 {
        self.tick_ns
    }

    /// Current wall-clock time in nanoseconds since the Unix epoch.
    pub(crate) fn now_wall(&self) -> i128 {
        sys::realtime_ns().unwrap_or_default()
    }

    /// Current `CLOCK_BOOTTIME` in clock ticks, comparable with stat start times.
    pub(crate) fn now_boot_ticks(&self) -> u64 {
        let boot = sys::boottime_ns().unwrap_or_default();
        u64::try_from(boot / self.tick_ns.max(1)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_apply_offsets_and_tick_length() {
        let clocks = Clocks::fixed(1_000, 2_000, 10_000_000);
        assert_eq!(clocks.monotonic_to_wall(5), 1_005);
        assert_eq!(clocks.ticks_to_wall(3), 2_000 + 30_000_000);
        assert_eq!(clocks.tick_ns(), 10_000_000);
    }

    #[test]
    fn measured_clocks_agree_with_the_wall_clock() {
        let clocks = Clocks::measure();
        let now = clocks.now_wall();
        let via_boot = clocks.ticks_to_wall(clocks.now_boot_ticks());
        // Truncation to ticks loses at most one tick; allow some scheduling slack on top.
        assert!((now - via_boot).abs() < clocks.tick_ns() + 50_000_000);
    }
}
