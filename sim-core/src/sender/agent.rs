//! Prometheus in agent mode (§19): no TSDB head and no compaction; a timer truncates the WAL
//! (`tsdb/agent/db.go: DB.run`, `DB.truncate`, the same in 2.42 and 3.x).
//!
//! Every `--storage.agent.wal-truncate-frequency` after the process started, the agent takes
//! `ts = LowestSentTimestamp − min-time`, floored at 0 and raised to `now − max-time`, and
//! truncates: it starts a new segment and deletes the lower two thirds of the closed ones,
//! exactly as a server's head compaction does (§11.2). `ts` only decides which idle series
//! are dropped and which samples are copied into the checkpoint, which remote write never
//! reads (§4.1): the retention flags do not change which segments are deleted, so they
//! protect no unsent data.

use super::{Check, CheckInput};
use crate::config::AgentWal;
use crate::time::{NANOS_PER_MILLI, SimDuration, SimTime};

/// The agent's WAL options after `tsdb/agent/db.go: validateOptions`, with the ages in
/// milliseconds as `agent.Options` holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentOptions {
    /// `TruncateFrequency`.
    pub truncate_frequency: SimDuration,
    /// `MinWALTime`, ms.
    pub min_wal_time_ms: i64,
    /// `MaxWALTime`, ms.
    pub max_wal_time_ms: i64,
}

/// Whole milliseconds of a duration (`durationToInt64Millis`), saturating.
pub(crate) fn millis(d: SimDuration) -> i64 {
    i64::try_from(d.nanos() / NANOS_PER_MILLI).unwrap_or(i64::MAX)
}

impl AgentOptions {
    /// `validateOptions`: a value ≤ 0 takes its default; if min > max then max = min; if
    /// max is below the truncation period then max = the period. Nothing is refused.
    pub fn from_flags(f: &AgentWal) -> Self {
        let d = AgentWal::default();
        let or_default = |v: SimDuration, def: SimDuration| if v.nanos() == 0 { def } else { v };
        let truncate_frequency = or_default(f.wal_truncate_frequency, d.wal_truncate_frequency);
        let min_wal_time_ms = millis(or_default(f.retention_min_time, d.retention_min_time));
        let mut max_wal_time_ms = millis(or_default(f.retention_max_time, d.retention_max_time));
        if min_wal_time_ms > max_wal_time_ms {
            max_wal_time_ms = min_wal_time_ms;
        }
        max_wal_time_ms = max_wal_time_ms.max(millis(truncate_frequency));
        AgentOptions { truncate_frequency, min_wal_time_ms, max_wal_time_ms }
    }
}

/// Which rule set the truncation timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsRule {
    /// `LowestSentTimestamp − min`, floored at 0.
    LowestSent,
    /// Raised to `now − max`: the max-age cap (also whenever nothing has been sent yet).
    MaxAge,
}

/// Steps 2–3 of `DB.run` (and of Alloy's `Component.Run`): the truncation timestamp in Unix
/// ms from `LowestSentTimestamp`, the current time and the two ages.
pub fn truncation_ts(lowest_sent_ms: i64, now_ms: i64, min_ms: i64, max_ms: i64) -> (i64, TsRule) {
    let ts = lowest_sent_ms.saturating_sub(min_ms).max(0);
    let cap = now_ms.saturating_sub(max_ms);
    if ts < cap { (cap, TsRule::MaxAge) } else { (ts, TsRule::LowestSent) }
}

/// `ts` relative to now, for the timeline: "now − 2h05m".
pub(crate) fn ago(ts_ms: i64, now_ms: i64) -> String {
    let back = now_ms.saturating_sub(ts_ms);
    match u64::try_from(back) {
        Ok(ms) => format!("now − {}", SimDuration::from_millis(ms)),
        Err(_) => format!("now + {}", SimDuration::from_millis(back.unsigned_abs())),
    }
}

/// The inputs of a tick in Unix ms: (`LowestSentTimestamp`, now).
pub(crate) fn tick_inputs(input: &CheckInput) -> (i64, i64) {
    let lowest = i64::try_from(input.lowest_sent_ms).unwrap_or(i64::MAX);
    let now = i64::try_from(input.clock.unix_millis(input.now)).unwrap_or(i64::MAX);
    (lowest, now)
}

/// The truncation timer: Go's `time.After(period)`, armed when the loop starts and re-armed
/// after every tick, so ticks fall at process start + k × period (truncations take no time in
/// the model), not on multiples of the period in Unix time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticker {
    period: SimDuration,
    next: SimTime,
}

impl Ticker {
    pub(crate) fn new(period: SimDuration) -> Self {
        Ticker { period, next: SimTime::ZERO + period }
    }

    /// The process (re)started at `now`: the loop starts again with a fresh timer.
    pub(crate) fn restart(&mut self, now: SimTime) {
        self.next = now.saturating_add(self.period);
    }

    pub(crate) fn next(&self) -> SimTime {
        self.next
    }

    /// Whether the timer fires at `now`; if so, re-arms it.
    pub(crate) fn fire(&mut self, now: SimTime) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now.saturating_add(self.period);
        true
    }
}

/// The agent's truncation loop.
#[derive(Clone, Debug)]
pub(crate) struct Agent {
    opts: AgentOptions,
    ticker: Ticker,
}

impl Agent {
    pub(crate) fn new(flags: &AgentWal) -> Self {
        let opts = AgentOptions::from_flags(flags);
        Agent { opts, ticker: Ticker::new(opts.truncate_frequency) }
    }

    pub(crate) fn on_process_start(&mut self, now: SimTime) {
        self.ticker.restart(now);
    }

    pub(crate) fn next_check(&self) -> Option<SimTime> {
        Some(self.ticker.next())
    }

    /// A tick of `DB.run`: always `DB.truncate` (whose segment arithmetic is the server's).
    pub(crate) fn check(&mut self, input: &CheckInput) -> Check {
        if !self.ticker.fire(input.now) {
            return Check::Idle;
        }
        let (lowest, now) = tick_inputs(input);
        let o = &self.opts;
        let (ts, rule) = truncation_ts(lowest, now, o.min_wal_time_ms, o.max_wal_time_ms);
        let why = match rule {
            TsRule::LowestSent => "lowest sent − retention.min-time",
            TsRule::MaxAge if lowest == 0 => "the retention.max-time cap; nothing sent yet",
            TsRule::MaxAge => "the retention.max-time cap",
        };
        Check::Truncate { what: format!("agent WAL truncation (ts = {}: {why})", ago(ts, now)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(f: SimDuration, min: SimDuration, max: SimDuration) -> AgentOptions {
        AgentOptions::from_flags(&AgentWal {
            wal_truncate_frequency: f,
            retention_min_time: min,
            retention_max_time: max,
        })
    }

    const H: u64 = 3_600_000;

    #[test]
    fn validate_options_normalises_as_upstream() {
        // D.2 item 1.
        let (z, h, m) = (SimDuration::ZERO, SimDuration::from_hours, SimDuration::from_mins);
        let o = flags(z, z, z);
        assert_eq!((o.truncate_frequency, o.min_wal_time_ms, o.max_wal_time_ms), (h(2), 300_000, 4 * H as i64));
        let o = flags(h(6), z, z);
        assert_eq!((o.truncate_frequency, o.min_wal_time_ms, o.max_wal_time_ms), (h(6), 300_000, 6 * H as i64));
        let o = flags(h(2), h(10), h(4));
        assert_eq!((o.truncate_frequency, o.min_wal_time_ms, o.max_wal_time_ms), (h(2), 10 * H as i64, 10 * H as i64));
        // Unchanged when consistent.
        let o = flags(m(10), m(1), h(1));
        assert_eq!((o.truncate_frequency, o.min_wal_time_ms, o.max_wal_time_ms), (m(10), 60_000, H as i64));
    }

    #[test]
    fn truncation_timestamp_follows_lowest_sent_then_the_cap() {
        // D.2 item 2.
        let (min, max) = (300_000, 4 * H as i64);
        assert_eq!(truncation_ts(1_000_000, 2_000_000, min, max), (700_000, TsRule::LowestSent));
        // No queue (or none has sent): lowest 0, so ts = now − max.
        let now = 1_704_067_200_000;
        assert_eq!(truncation_ts(0, now, min, max), (now - max, TsRule::MaxAge));
        // Floored at 0 before the cap applies.
        assert_eq!(truncation_ts(100_000, 1_000_000, min, max), (0, TsRule::LowestSent));
    }

    #[test]
    fn ticks_are_relative_to_the_process_start() {
        let mut t = Ticker::new(SimDuration::from_hours(2));
        assert_eq!(t.next(), SimTime::ZERO + SimDuration::from_hours(2));
        assert!(!t.fire(SimTime::ZERO + SimDuration::from_hours(1)));
        assert!(t.fire(SimTime::ZERO + SimDuration::from_hours(2)));
        assert_eq!(t.next(), SimTime::ZERO + SimDuration::from_hours(4));
        // A restart at 03:10 re-arms the timer for 05:10, whatever was pending.
        t.restart(SimTime::ZERO + SimDuration::from_mins(190));
        assert_eq!(t.next(), SimTime::ZERO + SimDuration::from_mins(310));
        assert_eq!(ago(1_000, 7_201_000), "now − 2h");
    }
}
