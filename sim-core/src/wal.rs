//! The WAL's segment timeline, head compaction, and the truncation algorithm (§3, §11).
//!
//! Segments are tracked by the WAL position (sample count) at which each one starts. A
//! segment rolls when it has taken `wal_segment_size / wal_bytes_per_sample` samples, and a
//! new one is also started at every truncation attempt. Truncation deletes "the lower two
//! thirds" of the closed segments — whether or not remote write has read them.

use std::collections::VecDeque;

/// One WAL segment file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The 8-digit file number.
    pub index: u64,
    /// WAL position of its first sample.
    pub start: u64,
}

/// What one `truncateWAL` call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Index of the segment started by this call.
    pub new_segment: u64,
    /// Segments `F..=K` deleted, if any; `checkpoint.K` was written.
    pub deleted: Option<(u64, u64)>,
}

/// The segment files on disk.
#[derive(Clone, Debug)]
pub struct Wal {
    /// Samples that fit in one segment.
    capacity: u64,
    segments: VecDeque<Segment>,
    /// Every segment ever created (for `prometheus_tsdb_wal_segment_current`).
    created: u64,
}

impl Wal {
    /// A fresh WAL: segment 0 at position 0. `capacity` is in samples and at least 1.
    pub fn new(segment_bytes: u64, bytes_per_sample: f64) -> Self {
        let capacity = ((segment_bytes as f64 / bytes_per_sample).floor() as u64).max(1);
        Wal { capacity, segments: VecDeque::from([Segment { index: 0, start: 0 }]), created: 1 }
    }

    /// Samples per segment.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Materialises size roll-overs up to write position `head`.
    pub fn roll_to(&mut self, head: u64) {
        loop {
            let last = *self.segments.back().expect("the WAL always has an active segment");
            let end = last.start + self.capacity;
            if end > head {
                return;
            }
            self.segments.push_back(Segment { index: last.index + 1, start: end });
            self.created += 1;
        }
    }

    /// The segment holding position `pos` (call [`Wal::roll_to`] first), or `None` if it was
    /// deleted. Empty segments share a start with their successor; the newest such wins.
    pub fn segment_of(&self, pos: u64) -> Option<u64> {
        let first = self.segments.front()?;
        if pos < first.start {
            return None;
        }
        let i = self.segments.partition_point(|s| s.start <= pos);
        Some(self.segments[i - 1].index)
    }

    /// WAL position where segment `index` ends (the start of the next one), if it is closed.
    pub fn end_of(&self, index: u64) -> Option<u64> {
        let first = self.segments.front()?.index;
        let i = index.checked_sub(first)? as usize + 1;
        self.segments.get(i).map(|s| s.start)
    }

    /// Index of the newest segment (`prometheus_tsdb_wal_segment_current`).
    pub fn current(&self) -> u64 {
        self.segments.back().map_or(0, |s| s.index)
    }

    /// Oldest and newest segment index on disk.
    pub fn range(&self) -> (u64, u64) {
        (self.segments.front().map_or(0, |s| s.index), self.current())
    }

    /// Segments created so far.
    pub fn created(&self) -> u64 {
        self.created
    }

    /// `Head.truncateWAL` → `WL.Truncate` with the write head at `head` (§11.2 steps 3–11).
    pub fn truncate(&mut self, head: u64) -> Truncation {
        self.roll_to(head);
        let first = self.segments.front().expect("active segment").index;
        let last_active = self.current();
        // Step 4: always start a new segment.
        let new_segment = last_active + 1;
        self.segments.push_back(Segment { index: new_segment, start: head });
        self.created += 1;
        // Step 5-8: the previously active segment is never checkpointed.
        let Some(last) = last_active.checked_sub(1) else {
            return Truncation { new_segment, deleted: None };
        };
        if last <= first {
            return Truncation { new_segment, deleted: None };
        }
        let k = first + (last - first) * 2 / 3;
        if k <= first {
            return Truncation { new_segment, deleted: None };
        }
        // Step 10: delete F..=K.
        while self.segments.front().is_some_and(|s| s.index <= k) {
            self.segments.pop_front();
        }
        Truncation { new_segment, deleted: Some((first, k)) }
    }
}

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
    pub fn compact(&mut self, max_ms: u64) -> Option<Compaction> {
        let mut blocks = 0;
        let mut maxt = 0;
        while let Some(min) = self.min_ms {
            if max_ms.saturating_sub(min) <= self.range_ms / 2 * 3 {
                break;
            }
            maxt = min / self.range_ms * self.range_ms + self.range_ms;
            self.min_ms = Some(maxt);
            blocks += 1;
        }
        if blocks == 0 {
            return None;
        }
        let truncates_wal = self.last_truncation_ms.is_none_or(|l| maxt > l);
        if truncates_wal {
            self.last_truncation_ms = Some(maxt);
        }
        Some(Compaction { blocks, truncate_at_ms: maxt, truncates_wal })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_with(first: u64, last: u64) -> Wal {
        let mut w = Wal::new(10 << 20, 1.0);
        w.segments = (first..=last).map(|i| Segment { index: i, start: i * 100 }).collect();
        w
    }

    fn indices(w: &Wal) -> (u64, u64) {
        w.range()
    }

    #[test]
    fn one_checkpoint_per_compact_call() {
        // §14.6: segments 0..60 (60 active) → K = 39, segments 40..61.
        let mut w = wal_with(0, 60);
        let t = w.truncate(6100);
        assert_eq!(t, Truncation { new_segment: 61, deleted: Some((0, 39)) });
        assert_eq!(indices(&w), (40, 61));
        // Then 40..62 → K = 54, segments 55..63.
        w.segments.push_back(Segment { index: 62, start: 6200 });
        let t = w.truncate(6300);
        assert_eq!(t.deleted, Some((40, 54)));
        assert_eq!(indices(&w), (55, 63));
    }

    #[test]
    fn low_volume_deletes_two_segments_every_second_truncation() {
        let mut w = Wal::new(10 << 20, 1.0);
        let mut deleted = Vec::new();
        for i in 1..=8u64 {
            deleted.push(w.truncate(i * 10).deleted);
        }
        assert_eq!(
            deleted,
            [None, None, None, Some((0, 1)), None, Some((2, 3)), None, Some((4, 5))],
            "§14.6 derived low-volume sequence"
        );
        assert_eq!(indices(&w), (6, 8));
    }

    #[test]
    fn ten_segments_per_cycle() {
        // §14.6: deletions 0–5, then 6–14, 15–23, 24–33, 34–43.
        let mut w = Wal::new(10 << 20, 1.0);
        let cap = w.capacity();
        let mut head = 0;
        let mut got = Vec::new();
        for _ in 0..6 {
            // One truncation roll plus nine size roll-overs per cycle.
            head += 9 * cap + cap / 2;
            w.roll_to(head);
            if let Some(d) = w.truncate(head).deleted {
                got.push(d);
            }
        }
        assert_eq!(got[..5], [(0, 5), (6, 14), (15, 23), (24, 33), (34, 43)]);
    }

    #[test]
    fn segment_lookup_and_ends() {
        let mut w = Wal::new(10 << 20, 1.0);
        let cap = w.capacity();
        w.roll_to(2 * cap + 5);
        assert_eq!(w.current(), 2);
        assert_eq!(w.segment_of(cap - 1), Some(0));
        assert_eq!(w.segment_of(cap), Some(1));
        assert_eq!(w.end_of(0), Some(cap));
        assert_eq!(w.end_of(2), None, "the active segment has no end yet");
    }

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
}
