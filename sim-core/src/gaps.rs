//! Loss as time: the sample-timestamp ranges that never reach the receiver.
//!
//! A lost sample is a hole in somebody's dashboard at the sample's timestamp, so every loss
//! the engine books in its ledger is also recorded here as a range of sample timestamps with
//! its reason. A loss of WAL positions `[lo, hi)` covers the timestamps from the scrape of
//! `lo` to that of `hi`; a shard's span holds only its `1/n` share of those positions, so a
//! failed batch is a *partial* loss of its time range, and [`Gap::coverage`] says which share
//! of the samples appended in the range was lost.
//!
//! Ranges of one reason that overlap or lie within one scrape interval of each other merge
//! (a burst of failed batches is one gap). Memory is bounded: past [`GAPS_PER_REASON`] ranges
//! of one reason, the two closest neighbours merge — the merged gap spans both and the time
//! between, and keeps every sample, so the sum over gaps always equals the ledger's losses.

use crate::time::SimTime;
use crate::workload::Workload;
use serde::{Deserialize, Serialize};

/// Ranges kept per reason before the closest neighbours merge.
pub const GAPS_PER_REASON: usize = 256;

/// Why samples never reached the receiver. Each reason is one ledger bucket of the engine;
/// the JSON spelling is the snake_case name.
///
/// Adding a reason (e.g. `restart_skip`, `not_scraped`, `crash` for the sender's own
/// failures) is one variant here plus its two strings below; the gap log, the JSON and the
/// renderers take it from there.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossReason {
    /// The watcher skipped WAL it had not read after truncation deleted its segment
    /// (`restart_watcher`): silent in Prometheus.
    WalTruncation,
    /// Dropped as older than `sample_age_limit` (v3.x), at enqueue or at send.
    TooOld,
    /// A batch answered with a non-recoverable status (4xx, 429 without retry).
    Failed,
    /// Queued or in flight when a reshard's drain hit `flush_deadline`.
    ReshardShutdown,
    /// Unread at the end of the run and certain to be skipped: in WAL segments already
    /// deleted (lost when the watcher restarts), or behind a queue that has stopped (lost
    /// when the next one starts). The run's `unsendable_at_end`.
    UnsendableAtEnd,
    /// Written to the WAL but skipped by a queue's watcher starting at "now" after a process
    /// restart, a kill or a reload that recreated the queue (or held in the queue at a
    /// kill): silent in Prometheus (prometheus#8809).
    RestartSkip,
    /// Never scraped: the sender was down, replaying its WAL, or waiting for its scrape
    /// manager. A hole in the local TSDB too.
    NotScraped,
    /// vmagent: the oldest blocks dropped by the disk cap (`-remoteWrite.maxDiskUsagePerURL`).
    DiskFull,
    /// vmagent: lost when the process was killed (buffers, in-memory queue, in flight).
    SenderCrash,
}

impl LossReason {
    /// The JSON spelling, e.g. `wal_truncation`.
    pub fn as_str(self) -> &'static str {
        match self {
            LossReason::WalTruncation => "wal_truncation",
            LossReason::TooOld => "too_old",
            LossReason::Failed => "failed",
            LossReason::ReshardShutdown => "reshard_shutdown",
            LossReason::UnsendableAtEnd => "unsendable_at_end",
            LossReason::RestartSkip => "restart_skip",
            LossReason::NotScraped => "not_scraped",
            LossReason::DiskFull => "disk_full",
            LossReason::SenderCrash => "sender_crash",
        }
    }

    /// A few words for people: `WAL truncation`, `failed (4xx, 429)`.
    pub fn describe(self) -> &'static str {
        match self {
            LossReason::WalTruncation => "WAL truncation",
            LossReason::TooOld => "too old (sample_age_limit)",
            LossReason::Failed => "failed (4xx, 429)",
            LossReason::ReshardShutdown => "reshard shutdown",
            LossReason::UnsendableAtEnd => "unsent at the end, certain to be skipped",
            LossReason::RestartSkip => "skipped at a sender restart or reload",
            LossReason::NotScraped => "never scraped (sender down)",
            LossReason::DiskFull => "dropped by the disk cap (oldest blocks)",
            LossReason::SenderCrash => "lost at a sender kill",
        }
    }
}

/// One gap: a range of sample timestamps some or all of whose samples were lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Why.
    pub reason: LossReason,
    /// Timestamp of the first lost sample, seconds since the start of the run.
    pub from_seconds: f64,
    /// End of the range (exclusive): the timestamp of the first sample after it.
    pub to_seconds: f64,
    /// `to − from`.
    pub duration_seconds: f64,
    /// Samples lost in the range.
    pub samples: u64,
    /// Share of the samples appended with a timestamp in the range that were lost: 1 for a
    /// WAL-truncation skip, about `1/shards` for one failed batch.
    pub coverage: f64,
}

impl Gap {
    /// `duration × coverage`: the time's worth of data lost.
    pub fn lost_seconds(&self) -> f64 {
        self.duration_seconds * self.coverage
    }
}

/// The gaps of a run (the `gaps` field of `--json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Gaps {
    /// Σ `duration × coverage` over the gaps: how much time's worth of data is missing.
    pub lost_seconds: f64,
    /// Samples in all gaps: exactly `failed + dropped.* + unsendable_at_end`.
    pub samples: u64,
    /// Index into `list` of the gap with the most time lost, if any.
    pub largest: Option<usize>,
    /// Merges forced by the cap of [`GAPS_PER_REASON`] ranges per reason (0 in most runs):
    /// when non-zero, some gaps also span time between losses.
    pub merged_for_cap: u64,
    /// The gaps in time order (then by reason).
    pub list: Vec<Gap>,
}

impl Gaps {
    /// The gap with the most time lost.
    pub fn largest_gap(&self) -> Option<&Gap> {
        self.largest.and_then(|i| self.list.get(i))
    }
}

#[derive(Clone, Copy, Debug)]
struct Range {
    from: SimTime,
    to: SimTime,
    samples: u64,
}

/// The engine's record of losses as time ranges, merged as they come.
#[derive(Clone, Debug)]
pub struct GapLog {
    /// Ranges closer than this merge (one scrape interval).
    tolerance: u64,
    /// Per reason, sorted by `from`, non-overlapping beyond `tolerance`.
    lists: Vec<(LossReason, Vec<Range>)>,
    merged_for_cap: u64,
}

impl GapLog {
    /// An empty log merging ranges within `tolerance_nanos` of each other.
    pub fn new(tolerance_nanos: u64) -> Self {
        GapLog { tolerance: tolerance_nanos, lists: Vec::new(), merged_for_cap: 0 }
    }

    /// Records `count` samples lost among WAL positions `[lo, hi)` (all of them, or a
    /// shard's share).
    pub fn add_positions(&mut self, wl: &Workload, reason: LossReason, lo: u64, hi: u64, count: u64) {
        if count == 0 || hi <= lo {
            return;
        }
        let from = wl.timestamp_of(lo);
        let last = wl.timestamp_of(hi - 1);
        // The first sample after the range, unless `hi` splits a scrape (or nothing follows).
        let next = wl.timestamp_of(hi);
        let to = if next > last && next != SimTime::NEVER { next } else { SimTime(last.nanos() + 1) };
        self.add_range(reason, from, to, count);
    }

    /// Records `samples` lost with timestamps in `[from, to)`: for losses that have no WAL
    /// positions (samples never scraped).
    pub fn add_range(&mut self, reason: LossReason, from: SimTime, to: SimTime, samples: u64) {
        if samples == 0 {
            return;
        }
        let to = to.max(SimTime(from.nanos() + 1));
        let tol = self.tolerance;
        let list = match self.lists.iter().position(|(r, _)| *r == reason) {
            Some(i) => &mut self.lists[i].1,
            None => {
                let i = self.lists.partition_point(|(r, _)| *r < reason);
                self.lists.insert(i, (reason, Vec::new()));
                &mut self.lists[i].1
            }
        };
        let near = |a: &Range, from: SimTime, to: SimTime| {
            from.nanos() <= a.to.nanos().saturating_add(tol) && a.from.nanos() <= to.nanos().saturating_add(tol)
        };
        let mut i = list.partition_point(|r| r.from <= from);
        if i > 0 && near(&list[i - 1], from, to) {
            i -= 1;
            let r = &mut list[i];
            r.to = r.to.max(to);
            r.samples += samples;
        } else if i < list.len() && near(&list[i], from, to) {
            let r = &mut list[i];
            r.from = r.from.min(from);
            r.to = r.to.max(to);
            r.samples += samples;
        } else {
            list.insert(i, Range { from, to, samples });
        }
        // The grown range may now reach its successors.
        while i + 1 < list.len() && near(&list[i], list[i + 1].from, list[i + 1].to) {
            let next = list.remove(i + 1);
            list[i].to = list[i].to.max(next.to);
            list[i].samples += next.samples;
        }
        if list.len() > GAPS_PER_REASON {
            let j = (0..list.len() - 1)
                .min_by_key(|&j| list[j + 1].from.nanos().saturating_sub(list[j].to.nanos()))
                .expect("more than one range");
            let next = list.remove(j + 1);
            list[j].to = list[j].to.max(next.to);
            list[j].samples += next.samples;
            self.merged_for_cap += 1;
        }
    }

    /// Takes back `samples` from the newest range of `reason` and ends it at `at` at the
    /// latest: for losses booked ahead of the write head (a watcher restart skips positions
    /// stamped but not yet committed) when the run ends before they are written.
    pub fn trim_newest(&mut self, reason: LossReason, samples: u64, at: SimTime) {
        let Some((_, list)) = self.lists.iter_mut().find(|(r, _)| *r == reason) else {
            return;
        };
        let Some(i) = (0..list.len()).max_by_key(|&i| list[i].to) else {
            return;
        };
        let r = &mut list[i];
        r.samples = r.samples.saturating_sub(samples);
        r.to = r.to.min(at).max(SimTime(r.from.nanos() + 1));
        if r.samples == 0 {
            list.remove(i);
        }
    }

    /// Samples recorded under `reason`.
    pub fn samples(&self, reason: LossReason) -> u64 {
        self.lists.iter().filter(|(r, _)| *r == reason).flat_map(|(_, l)| l.iter()).map(|r| r.samples).sum()
    }

    /// The summary, with each gap's coverage from the workload: of the samples committed by
    /// the end (`committed`) with a timestamp in the range, the share lost.
    pub fn finish(&self, wl: &Workload, committed: u64) -> Gaps {
        let stamped_before = |t: SimTime| if t.nanos() == 0 { 0 } else { wl.stamped_by(SimTime(t.nanos() - 1)) };
        let mut list: Vec<Gap> = self
            .lists
            .iter()
            .flat_map(|(reason, l)| l.iter().map(move |r| (*reason, *r)))
            .map(|(reason, r)| {
                let appended = stamped_before(r.to).min(committed).saturating_sub(stamped_before(r.from));
                let duration = r.to.saturating_since(r.from).as_secs_f64();
                Gap {
                    reason,
                    from_seconds: r.from.as_secs_f64(),
                    to_seconds: r.to.as_secs_f64(),
                    duration_seconds: duration,
                    samples: r.samples,
                    coverage: if appended == 0 { 1.0 } else { (r.samples as f64 / appended as f64).min(1.0) },
                }
            })
            .collect();
        list.sort_by(|a, b| a.from_seconds.total_cmp(&b.from_seconds).then(a.reason.cmp(&b.reason)));
        let largest = (0..list.len()).max_by(|&a, &b| {
            list[a].lost_seconds().total_cmp(&list[b].lost_seconds()).then(b.cmp(&a)) // earliest wins ties
        });
        Gaps {
            // A fold from +0.0: an empty f64 `sum()` is −0.0, which JSON would print as `-0.0`.
            lost_seconds: list.iter().map(Gap::lost_seconds).fold(0.0, |a, b| a + b),
            samples: list.iter().map(|g| g.samples).sum(),
            largest,
            merged_for_cap: self.merged_for_cap,
            list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WorkloadConfig;
    use crate::time::SimDuration;

    /// 10 targets × 100 samples every 10 s: 100 samples/s, positions dense in time.
    fn workload() -> Workload {
        Workload::new(
            &WorkloadConfig {
                series: 950,
                scrape_interval: SimDuration::from_secs(10),
                targets: 10,
                scrape_duration: crate::config::Latency::Fixed(SimDuration::ZERO),
                report_series: true,
                wire_bytes_per_sample: 20.0,
                changes: Vec::new(),
            },
            1,
        )
    }

    #[test]
    fn a_skip_is_a_full_gap_and_shares_are_partial() {
        let wl = workload();
        let mut log = GapLog::new(SimDuration::from_secs(10).nanos());
        // 100 s of data skipped: positions of [100 s, 200 s).
        let (lo, hi) = (wl.stamped_by(SimTime(99_999_999_999)), wl.stamped_by(SimTime(199_999_999_999)));
        log.add_positions(&wl, LossReason::WalTruncation, lo, hi, hi - lo);
        // A quarter share of [500 s, 600 s), as a failed batch of one shard in four.
        let (a, b) = (wl.stamped_by(SimTime(499_999_999_999)), wl.stamped_by(SimTime(599_999_999_999)));
        log.add_positions(&wl, LossReason::Failed, a, b, (b - a) / 4);
        let g = log.finish(&wl, wl.committed_by(SimTime(1000 * 1_000_000_000)));
        assert_eq!(g.list.len(), 2);
        let skip = &g.list[0];
        assert_eq!(skip.reason, LossReason::WalTruncation);
        assert!((skip.duration_seconds - 100.0).abs() < 10.0, "{skip:?}");
        assert!((skip.coverage - 1.0).abs() < 1e-9, "{skip:?}");
        let failed = &g.list[1];
        assert!((failed.coverage - 0.25).abs() < 0.01, "{failed:?}");
        assert_eq!(g.samples, (hi - lo) + (b - a) / 4);
        assert_eq!(g.largest, Some(0));
        assert!((g.lost_seconds - (skip.duration_seconds + failed.duration_seconds * failed.coverage)).abs() < 1e-9);
    }

    #[test]
    fn neighbours_within_a_scrape_interval_merge_and_the_cap_keeps_every_sample() {
        let wl = workload();
        let s = |x: u64| SimTime(x * 1_000_000_000);
        let mut log = GapLog::new(SimDuration::from_secs(10).nanos());
        log.add_range(LossReason::Failed, s(100), s(101), 5);
        log.add_range(LossReason::Failed, s(105), s(106), 5); // 4 s later: merges
        log.add_range(LossReason::Failed, s(200), s(201), 5); // far: its own gap
        log.add_range(LossReason::TooOld, s(100), s(101), 7); // another reason: its own gap
        let g = log.finish(&wl, u64::MAX);
        assert_eq!(g.list.len(), 3);
        // At equal starts, gaps are in reason order.
        assert_eq!(g.list[0].reason, LossReason::TooOld);
        assert_eq!((g.list[1].from_seconds, g.list[1].to_seconds, g.list[1].samples), (100.0, 106.0, 10));
        assert_eq!(g.samples, 22);

        let mut log = GapLog::new(0);
        let n = GAPS_PER_REASON as u64 + 40;
        for i in (0..n).rev() {
            // Out of order, with one pair much closer than the rest.
            let gap = if i == 7 { 1 } else { 100 };
            log.add_range(LossReason::Failed, s(i * 1000), s(i * 1000 + 1000 - gap), 3);
        }
        let g = log.finish(&wl, u64::MAX);
        assert_eq!(g.list.len(), GAPS_PER_REASON);
        assert_eq!(g.samples, 3 * n, "merging for the cap never drops samples");
        assert_eq!(g.merged_for_cap, 40);
        assert!(g.list.windows(2).all(|w| w[0].to_seconds <= w[1].from_seconds));
    }

    #[test]
    fn trimming_takes_back_from_the_newest_range() {
        let wl = workload();
        let s = |x: u64| SimTime(x * 1_000_000_000);
        let mut log = GapLog::new(0);
        log.add_range(LossReason::WalTruncation, s(10), s(20), 100);
        log.add_range(LossReason::WalTruncation, s(50), s(70), 100);
        log.trim_newest(LossReason::WalTruncation, 40, s(60));
        assert_eq!(log.samples(LossReason::WalTruncation), 160);
        let g = log.finish(&wl, u64::MAX);
        assert_eq!(g.list[1].to_seconds, 60.0);
    }
}
