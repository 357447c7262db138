//! Prometheus in server mode (§11): the TSDB head owns the WAL, and head compaction decides
//! when it is truncated — every block range, whatever remote write has read.

use super::{Check, CheckInput};
use crate::time::SimTime;

/// Head block bounds and the compaction trigger (§11.1), in Unix milliseconds.
#[derive(Clone, Debug)]
pub struct Head {
    /// Block range R in ms.
    range_ms: u64,
    /// `head.MinTime`, set by the first sample.
    pub min_ms: Option<u64>,
    last_truncation_ms: Option<u64>,
}

/// What one head compaction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compaction {
    /// Blocks written (`head_truncations_total` increments).
    pub blocks: u64,
    /// `maxt` of the last block: the WAL truncation mint.
    pub truncate_at_ms: u64,
    /// Whether `truncateWAL` went ahead (mint newer than the last truncation).
    pub truncates_wal: bool,
}

impl Head {
    /// An empty head with block range `range_ms`.
    pub fn new(range_ms: u64) -> Self {
        Head { range_ms, min_ms: None, last_truncation_ms: None }
    }

    /// Compaction becomes possible once a sample is newer than this (`MaxTime − MinTime > 1.5R`).
    pub fn compactable_after_ms(&self) -> Option<u64> {
        self.min_ms.map(|m| m + self.range_ms / 2 * 3)
    }

    /// After a compaction truncated the head at `truncate_at_ms`, the head's `MinTime`
    /// becomes its oldest remaining sample (`oldest_ms`, the first at or after the truncation
    /// point), unless that is already inside the appendable window, which starts half a block
    /// range before the newest sample (`tsdb/head.go: truncateSeriesAndChunkDiskMapper`,
    /// `appendableMinValidTime`). The next compaction is 1.5 R after it, so with sparse
    /// samples it comes up to one scrape interval after the block boundary + 1.5 R.
    pub fn settle(&mut self, truncate_at_ms: u64, oldest_ms: Option<u64>, newest_ms: u64) {
        let appendable = truncate_at_ms.max(newest_ms.saturating_sub(self.range_ms / 2));
        if let Some(oldest) = oldest_ms.filter(|&o| o > truncate_at_ms) {
            self.min_ms = Some(oldest.min(appendable));
        }
    }

    /// `DB.Compact` with the newest sample at `max_ms`: write aligned blocks while the head is
    /// compactable, then truncate the WAL once at the last block's end.
    ///
    /// The blocks are counted, not written one by one: a 1ms block range behind 15s scrapes
    /// writes 15,000 blocks per compaction, and looping over them took minutes over a year.
    pub fn compact(&mut self, max_ms: u64) -> Option<Compaction> {
        let (r, threshold) = (self.range_ms, self.range_ms / 2 * 3);
        let min = self.min_ms?;
        if max_ms.saturating_sub(min) <= threshold {
            return None;
        }
        // The first block ends at the boundary after `min`; every later one is compactable
        // while its start (a boundary) is below `max_ms − 1.5R`.
        let first_end = min / r * r + r;
        let later = (max_ms - threshold).saturating_sub(first_end).div_ceil(r);
        let (blocks, maxt) = (1 + later, first_end + later * r);
        self.min_ms = Some(maxt);
        let truncates_wal = self.last_truncation_ms.is_none_or(|l| maxt > l);
        if truncates_wal {
            self.last_truncation_ms = Some(maxt);
        }
        Some(Compaction { blocks, truncate_at_ms: maxt, truncates_wal })
    }
}

/// The server's retention: head compaction, checked when the first sample past the
/// compaction threshold is committed (`dbAppender.Commit` nudges the compactor).
#[derive(Clone, Debug)]
pub(crate) struct Server {
    pub(crate) head: Head,
}

impl Server {
    pub(crate) fn new(range_ms: u64) -> Self {
        Server { head: Head::new(range_ms) }
    }

    /// When the head becomes compactable: the commit of the first sample stamped after the
    /// threshold.
    pub(crate) fn next_check(&self, input: &CheckInput) -> Option<SimTime> {
        let thr_ms = self.head.compactable_after_ms()?;
        let thr = input.clock.from_unix_millis(thr_ms);
        let p = input.wl.stamped_by(thr);
        let at = input.wl.commit_time_of(p);
        (at != SimTime::NEVER).then(|| at.max(input.now))
    }

    /// `DB.Compact`: write the due blocks, truncate the head's memory, then the WAL once.
    pub(crate) fn check(&mut self, input: &CheckInput) -> Check {
        if input.committed == 0 {
            return Check::Idle;
        }
        let max_ms = input.clock.unix_millis(input.wl.timestamp_of(input.committed - 1));
        let Some(c) = self.head.compact(max_ms) else { return Check::Idle };
        // The oldest sample left in the head: the first stamped at or after the cut.
        let cut = input.clock.from_unix_millis(c.truncate_at_ms);
        let first = cut.nanos().checked_sub(1).map_or(0, |t| input.wl.stamped_by(SimTime(t)));
        let oldest = (first < input.committed).then(|| input.clock.unix_millis(input.wl.timestamp_of(first)));
        self.head.settle(c.truncate_at_ms, oldest, max_ms);
        if c.truncates_wal {
            Check::Truncate {
                what: format!("head compaction (blocks up to {})", input.clock.from_unix_millis(c.truncate_at_ms)),
            }
        } else {
            Check::Idle
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_restarts_at_its_oldest_remaining_sample() {
        let r = 120_000;
        let mut h = Head::new(r);
        h.min_ms = Some(5_851);
        let c = h.compact(5_851 + r * 3 / 2 + 1_000).unwrap();
        assert_eq!(c.truncate_at_ms, r);
        // One sample a second at ...851 ms: the oldest left is 120.851 s, not the boundary.
        h.settle(c.truncate_at_ms, Some(r + 851), 5_851 + r * 3 / 2 + 1_000);
        assert_eq!(h.min_ms, Some(r + 851));
        assert_eq!(h.compactable_after_ms(), Some(r + 851 + r * 3 / 2));
        // A sample stamped past the start of the appendable window (newest − R/2) cannot
        // move MinTime beyond that start.
        h.settle(r, Some(r + 50_000), r + 100_000);
        assert_eq!(h.min_ms, Some(r + 40_000));
    }

    #[test]
    fn compaction_is_aligned_and_truncates_once() {
        let r = 7_200_000;
        let mut h = Head::new(r);
        h.min_ms = Some(r * 10 + 1234);
        assert_eq!(h.compactable_after_ms(), Some(r * 10 + 1234 + r * 3 / 2));
        assert_eq!(h.compact(r * 11 + r / 2), None);
        let c = h.compact(r * 11 + r / 2 + 1235).unwrap();
        assert_eq!(c, Compaction { blocks: 1, truncate_at_ms: r * 11, truncates_wal: true });
        assert_eq!(h.min_ms, Some(r * 11));
        // A head that fell far behind writes several blocks but truncates once.
        let c = h.compact(r * 15).unwrap();
        assert_eq!(c.blocks, 3);
        assert_eq!(c.truncate_at_ms, r * 14);
    }

    #[test]
    fn counted_blocks_match_writing_them_one_by_one() {
        let one_by_one = |range: u64, min: u64, max: u64| {
            let (mut m, mut blocks, mut maxt) = (min, 0, 0);
            while max.saturating_sub(m) > range / 2 * 3 {
                maxt = m / range * range + range;
                m = maxt;
                blocks += 1;
            }
            (blocks > 0).then_some((blocks, maxt))
        };
        let mut x = 99u64;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let range = [1, 2, 3, 7, 1000, 7_200_000][(x >> 60) as usize % 6];
            let min = (x >> 20) % (50 * range);
            let max = min + (x >> 40) % (20 * range);
            let mut h = Head::new(range);
            h.min_ms = Some(min);
            let got = h.compact(max).map(|c| (c.blocks, c.truncate_at_ms));
            assert_eq!(got, one_by_one(range, min, max), "range {range} min {min} max {max}");
        }
    }
}
