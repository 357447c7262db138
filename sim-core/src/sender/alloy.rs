//! Grafana Alloy's `prometheus.remote_write` (§19): the agent's truncation loop
//! (`internal/component/prometheus/remotewrite/remote_write.go: Component.Run`) over Alloy's
//! own WAL storage (`internal/static/metrics/wal/wal.go: Storage.Truncate`, the same segment
//! arithmetic), with one extra rule: a tick whose timestamp equals that of the last executed
//! truncation is skipped entirely — no series GC, no new segment, no checkpoint.
//!
//! While every queue is stalled, `LowestSentTimestamp` does not move, so ticks are skipped
//! until `now − max_keepalive_time` passes `lowest sent − min_keepalive_time`. The keepalive
//! settings matter only through that rule; they never decide which segments are deleted.

use super::agent::{Ticker, TsRule, ago, millis, tick_inputs, truncation_ts};
use super::{Check, CheckInput};
use crate::config::AlloyWal;
use crate::time::SimTime;

/// The truncation loop of one `prometheus.remote_write` component.
#[derive(Clone, Debug)]
pub(crate) struct Alloy {
    min_ms: i64,
    max_ms: i64,
    ticker: Ticker,
    /// `lastTs` of `Component.Run` and when that truncation ran; `None` at start (Go's
    /// `math.MinInt64`), so the first tick always truncates.
    last: Option<(i64, SimTime)>,
}

impl Alloy {
    /// `wal` must have passed `WALOptions.Validate` (see [`crate::config::SimConfig::validate`]).
    pub(crate) fn new(wal: &AlloyWal) -> Self {
        Alloy {
            min_ms: millis(wal.min_keepalive_time),
            max_ms: millis(wal.max_keepalive_time),
            ticker: Ticker::new(wal.truncate_frequency),
            last: None,
        }
    }

    /// `Run` starts again: a fresh timer, and `lastTs` is a local of `Run`, so it resets too.
    pub(crate) fn on_process_start(&mut self, now: SimTime) {
        self.ticker.restart(now);
        self.last = None;
    }

    pub(crate) fn next_check(&self) -> Option<SimTime> {
        Some(self.ticker.next())
    }

    pub(crate) fn check(&mut self, input: &CheckInput) -> Check {
        if !self.ticker.fire(input.now) {
            return Check::Idle;
        }
        let (lowest, now) = tick_inputs(input);
        let (ts, rule) = truncation_ts(lowest, now, self.min_ms, self.max_ms);
        if let Some((last_ts, at)) = self.last
            && last_ts == ts
        {
            return Check::Skip {
                what: format!(
                    "Alloy: not truncating the WAL, remote_write timestamp is unchanged (ts = {}, as at the \
                     truncation at {at})",
                    ago(ts, now)
                ),
            };
        }
        self.last = Some((ts, input.now));
        let why = match rule {
            TsRule::LowestSent => "lowest sent − min_keepalive_time",
            TsRule::MaxAge if lowest == 0 => "the max_keepalive_time cap; nothing sent yet",
            TsRule::MaxAge => "the max_keepalive_time cap",
        };
        Check::Truncate { what: format!("Alloy WAL truncation (ts = {}: {why})", ago(ts, now)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::profile::Profile;
    use crate::time::SimDuration;
    use crate::workload::Workload;

    fn tick(a: &mut Alloy, c: &SimConfig, wl: &Workload, t: SimTime, lowest_sent_ms: u64) -> Check {
        a.check(&CheckInput { now: t, wl, clock: &c.clock, committed: 0, lowest_sent_ms })
    }

    #[test]
    fn unchanged_timestamp_skips_the_tick() {
        // D.2 item 6: two consecutive ticks with the same ts; the second does nothing.
        let c = SimConfig::baseline(Profile::V3);
        let wl = Workload::new(&c.workload, 1);
        let mut a = Alloy::new(&AlloyWal::default());
        let at = |h: u64| SimTime::ZERO + SimDuration::from_hours(h);
        let sent = c.clock.unix_millis(at(1));
        assert_eq!(a.next_check(), Some(at(2)));
        assert!(matches!(tick(&mut a, &c, &wl, at(2), sent), Check::Truncate { .. }));
        let second = tick(&mut a, &c, &wl, at(4), sent);
        let Check::Skip { what } = second else { panic!("{second:?}") };
        assert!(what.contains("remote_write timestamp is unchanged"), "{what}");
        assert!(what.contains("at 02:00:00"), "{what}");
        // Still frozen at 6h and 8h (the cap, now − 8h, is older than 1h − 5m); at 10h it
        // passes the frozen timestamp and truncations resume.
        assert!(matches!(tick(&mut a, &c, &wl, at(6), sent), Check::Skip { .. }));
        assert!(matches!(tick(&mut a, &c, &wl, at(8), sent), Check::Skip { .. }));
        let r = tick(&mut a, &c, &wl, at(10), sent);
        let Check::Truncate { what } = r else { panic!("{r:?}") };
        assert!(what.contains("ts = now − 8h: the max_keepalive_time cap"), "{what}");
        // After a restart the first tick truncates again, and the timer counts from the start.
        a.on_process_start(at(11));
        assert_eq!(a.next_check(), Some(at(13)));
        assert!(matches!(tick(&mut a, &c, &wl, at(13), 0), Check::Truncate { .. }));
    }
}
