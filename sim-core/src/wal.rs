//! The WAL's segment timeline and the truncation algorithm (§3, §11.2), shared by every sender.
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

    /// A WAL that starts empty with segment 0 at write position `pos` (a data directory
    /// lost with its pod: `wal_persisted = false`).
    pub fn starting_at(segment_bytes: u64, bytes_per_sample: f64, pos: u64) -> Self {
        let mut w = Wal::new(segment_bytes, bytes_per_sample);
        w.segments[0].start = pos;
        w
    }

    /// Starts a new segment at write position `head` (`wlog.NewSize` at every process start
    /// opens the segment after the last one).
    pub fn new_segment(&mut self, head: u64) {
        self.roll_to(head);
        let index = self.current() + 1;
        self.segments.push_back(Segment { index, start: head });
        self.created += 1;
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

    /// The oldest segment on disk.
    pub fn oldest(&self) -> Segment {
        *self.segments.front().expect("the WAL always has an active segment")
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
}
