//! The WAL's segment timeline and the truncation algorithm (§3, §11.2), shared by every sender.
//!
//! Segments are tracked by the WAL position (sample count) at which each one starts. A
//! segment rolls when it has taken `wal_segment_size / wal_bytes_per_sample` samples, and a
//! new one is also started at every truncation attempt. Truncation deletes "the lower two
//! thirds" of the closed segments — whether or not remote write has read them.
//!
//! Memory does not grow with the number of segments: size roll-overs between two forced
//! starts (a truncation, a process start) are evenly spaced, so each such stretch is kept as
//! one arithmetic run (first index, start, count), and only the runs still on disk are
//! kept. A year of a billion series at 1000 WAL bytes per sample (1.6e10 segments) is a
//! handful of runs.

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

/// Consecutive segments `index .. index + count` starting at `start`, one capacity apart:
/// every segment but a run's last is full (a size roll-over started the next one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    index: u64,
    start: u64,
    count: u64,
}

impl Run {
    fn last(&self) -> u64 {
        self.index + self.count - 1
    }
}

/// The segment files on disk.
#[derive(Clone, Debug)]
pub struct Wal {
    /// Samples that fit in one segment.
    capacity: u64,
    /// The segments on disk, oldest first; never empty (the last run holds the active segment).
    runs: VecDeque<Run>,
    /// Every segment ever created (for `prometheus_tsdb_wal_segment_current`).
    created: u64,
}

impl Wal {
    /// A fresh WAL: segment 0 at position 0. `capacity` is in samples and at least 1.
    pub fn new(segment_bytes: u64, bytes_per_sample: f64) -> Self {
        let capacity = ((segment_bytes as f64 / bytes_per_sample).floor() as u64).max(1);
        Wal { capacity, runs: VecDeque::from([Run { index: 0, start: 0, count: 1 }]), created: 1 }
    }

    /// A WAL that starts empty with segment 0 at write position `pos` (a data directory
    /// lost with its pod: `wal_persisted = false`).
    pub fn starting_at(segment_bytes: u64, bytes_per_sample: f64, pos: u64) -> Self {
        let mut w = Wal::new(segment_bytes, bytes_per_sample);
        w.runs[0].start = pos;
        w
    }

    fn last_run(&self) -> &Run {
        self.runs.back().expect("the WAL always has an active segment")
    }

    /// Opens a segment at `head` after the active one (a forced start, not a roll-over).
    fn push_segment(&mut self, head: u64) -> u64 {
        let index = self.current() + 1;
        self.runs.push_back(Run { index, start: head, count: 1 });
        self.created += 1;
        index
    }

    /// Starts a new segment at write position `head` (`wlog.NewSize` at every process start
    /// opens the segment after the last one).
    pub fn new_segment(&mut self, head: u64) {
        self.roll_to(head);
        self.push_segment(head);
    }

    /// Samples per segment.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Materialises size roll-overs up to write position `head`: the active segment's run
    /// grows to cover `head`, in O(1).
    pub fn roll_to(&mut self, head: u64) {
        let cap = self.capacity;
        let run = self.runs.back_mut().expect("the WAL always has an active segment");
        if head < run.start {
            return;
        }
        let need = (head - run.start) / cap + 1;
        if need > run.count {
            self.created += need - run.count;
            run.count = need;
        }
    }

    /// Start of segment `index` of run `r`.
    fn start_in(&self, r: &Run, index: u64) -> u64 {
        r.start + (index - r.index) * self.capacity
    }

    /// The run holding segment `index`, if it is on disk.
    fn run_of_index(&self, index: u64) -> Option<&Run> {
        let i = self.runs.partition_point(|r| r.last() < index);
        self.runs.get(i).filter(|r| r.index <= index)
    }

    /// The segment holding position `pos` (call [`Wal::roll_to`] first), or `None` if it was
    /// deleted. Empty segments share a start with their successor; the newest such wins.
    pub fn segment_of(&self, pos: u64) -> Option<u64> {
        let first = self.runs.front()?;
        if pos < first.start {
            return None;
        }
        let i = self.runs.partition_point(|r| r.start <= pos);
        let r = &self.runs[i - 1];
        Some(r.index + ((pos - r.start) / self.capacity).min(r.count - 1))
    }

    /// WAL position where segment `index` ends (the start of the next one), if it is closed.
    pub fn end_of(&self, index: u64) -> Option<u64> {
        if index < self.runs.front()?.index {
            return None;
        }
        let next = index.checked_add(1)?;
        let r = self.run_of_index(next)?;
        Some(self.start_in(r, next))
    }

    /// The oldest segment on disk.
    pub fn oldest(&self) -> Segment {
        let r = self.runs.front().expect("the WAL always has an active segment");
        Segment { index: r.index, start: r.start }
    }

    /// Index of the newest segment (`prometheus_tsdb_wal_segment_current`).
    pub fn current(&self) -> u64 {
        self.last_run().last()
    }

    /// Oldest and newest segment index on disk.
    pub fn range(&self) -> (u64, u64) {
        (self.oldest().index, self.current())
    }

    /// Segments created so far.
    pub fn created(&self) -> u64 {
        self.created
    }

    /// Runs of segments kept in memory (not segments: see the module documentation).
    pub fn runs_kept(&self) -> usize {
        self.runs.len()
    }

    /// `Head.truncateWAL` → `WL.Truncate` with the write head at `head` (§11.2 steps 3–11).
    pub fn truncate(&mut self, head: u64) -> Truncation {
        self.roll_to(head);
        let first = self.oldest().index;
        let last_active = self.current();
        // Step 4: always start a new segment.
        let new_segment = self.push_segment(head);
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
        self.delete_through(k);
        Truncation { new_segment, deleted: Some((first, k)) }
    }

    /// Deletes every segment up to index `k` (never the active one).
    fn delete_through(&mut self, k: u64) {
        while self.runs.front().is_some_and(|r| r.last() <= k) {
            self.runs.pop_front();
        }
        let cap = self.capacity;
        if let Some(r) = self.runs.front_mut()
            && r.index <= k
        {
            let gone = k + 1 - r.index;
            r.index += gone;
            r.start += gone * cap;
            r.count -= gone;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_with(first: u64, last: u64) -> Wal {
        let mut w = Wal::new(10 << 20, 1.0);
        w.runs = (first..=last).map(|i| Run { index: i, start: i * 100, count: 1 }).collect();
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
        w.runs.push_back(Run { index: 62, start: 6200, count: 1 });
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

    /// The segment list kept one entry per segment (the model before runs), as the oracle.
    struct PerSegment {
        cap: u64,
        segs: VecDeque<Segment>,
    }

    impl PerSegment {
        fn roll_to(&mut self, head: u64) {
            while let Some(&l) = self.segs.back()
                && l.start + self.cap <= head
            {
                self.segs.push_back(Segment { index: l.index + 1, start: l.start + self.cap });
            }
        }
        fn push(&mut self, head: u64) {
            self.roll_to(head);
            let index = self.segs.back().unwrap().index + 1;
            self.segs.push_back(Segment { index, start: head });
        }
        fn segment_of(&self, pos: u64) -> Option<u64> {
            if pos < self.segs.front()?.start {
                return None;
            }
            let i = self.segs.partition_point(|s| s.start <= pos);
            Some(self.segs[i - 1].index)
        }
        fn truncate(&mut self, head: u64) -> Option<(u64, u64)> {
            self.roll_to(head);
            let first = self.segs.front().unwrap().index;
            let last_active = self.segs.back().unwrap().index;
            self.push(head);
            let last = last_active.checked_sub(1)?;
            let k = first + last.checked_sub(first)? * 2 / 3;
            if last <= first || k <= first {
                return None;
            }
            while self.segs.front().is_some_and(|s| s.index <= k) {
                self.segs.pop_front();
            }
            Some((first, k))
        }
    }

    #[test]
    fn runs_answer_like_one_entry_per_segment() {
        // Writes of varied sizes, process starts and truncations, checked against the
        // per-segment list after every step: same segments, same lookups, same deletions.
        let mut w = Wal::new(10 << 20, 100_000.0); // 104 samples per segment
        let cap = w.capacity();
        let mut o = PerSegment { cap, segs: VecDeque::from([Segment { index: 0, start: 0 }]) };
        let mut head = 0u64;
        let mut x = 12345u64;
        for step in 0..3000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            head += match (x >> 33) % 4 {
                0 => 0,
                1 => (x >> 40) % 7,
                2 => (x >> 40) % (3 * cap),
                _ => (x >> 40) % (40 * cap),
            };
            match (x >> 20) % 5 {
                0 => assert_eq!(w.truncate(head).deleted, o.truncate(head), "step {step}"),
                1 => {
                    w.new_segment(head);
                    o.push(head);
                }
                _ => {
                    w.roll_to(head);
                    o.roll_to(head);
                }
            }
            assert_eq!(w.range(), (o.segs.front().unwrap().index, o.segs.back().unwrap().index), "step {step}");
            assert_eq!(w.oldest(), *o.segs.front().unwrap());
            let lo = o.segs.front().unwrap().start.saturating_sub(3);
            for pos in (lo..=head).step_by(((head - lo) / 50).max(1) as usize) {
                assert_eq!(w.segment_of(pos), o.segment_of(pos), "step {step} pos {pos}");
            }
            for s in o.segs.iter().take(5).chain(o.segs.iter().rev().take(5)) {
                let next = o.segs.iter().find(|n| n.index == s.index + 1).map(|n| n.start);
                assert_eq!(w.end_of(s.index), next, "step {step} segment {}", s.index);
            }
        }
        assert!(w.runs_kept() < 40, "{} runs kept", w.runs_kept());
    }

    #[test]
    fn a_year_of_a_billion_series_keeps_a_few_runs() {
        // 1e9 series every 15s at 1000 WAL bytes per sample fill 7,451 segments of 128MiB per
        // scrape: 1.6e10 segments over a year without a truncation. The model keeps one run.
        let mut w = Wal::new(128 << 20, 1000.0);
        let per_scrape = 1_000_000_000u64;
        let scrapes = 366 * 24 * 240u64;
        for s in 1..=scrapes {
            w.roll_to(s * per_scrape);
        }
        assert!(w.created() > 600_000_000, "{} segments", w.created());
        assert_eq!(w.runs_kept(), 1);
        assert_eq!(w.segment_of(scrapes * per_scrape), Some(w.current()));
    }
}
