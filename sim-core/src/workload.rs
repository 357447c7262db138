//! The scrape workload as an exact, closed-form arrival function over WAL positions.
//!
//! A *WAL position* counts samples in the order they were committed: position `p` is the
//! `p`-th sample ever appended. Every target scrapes at a fixed phase within the interval
//! (§2: Prometheus derives it from a hash; here it is drawn from the workload's own random
//! stream) and all samples of one scrape carry the scrape's start time and are committed
//! together `scrape_duration` later.
//!
//! `scrape_duration` may be a distribution: then each scrape (the k-th of a target) draws
//! its own delay, by random access into its own stream, so the same scrape always gets the
//! same delay. The WAL keeps timestamp order: a scrape becomes readable once it *and every
//! earlier-stamped scrape* are committed. That delays a fast scrape behind a slow one by at
//! most the spread of the distribution, which only matters between targets whose phases are
//! that close; per target, commits are in order anyway.
//!
//! Instead of generating scrape events, [`Workload`] answers two questions in
//! `O(log targets)`: how many samples were committed by time `t` ([`Workload::committed_by`]),
//! and when the scrape holding position `p` started ([`Workload::timestamp_of`]). That is what
//! keeps the cost of a run proportional to batches, not to samples or scrapes.

use crate::config::{Latency, WorkloadConfig};
use crate::divisor::Divisor;
use crate::fault::Sampler;
use crate::rng::{Rng, Stream, unit_at};
use crate::time::{NANOS_PER_MILLI, SimDuration, SimTime};

/// Report series Prometheus adds to every scrape (`up`, `scrape_duration_seconds`,
/// `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`, `scrape_series_added`).
pub const REPORT_SERIES_PER_TARGET: u64 = 5;

/// A period of constant series count.
#[derive(Clone, Debug)]
struct Epoch {
    /// Scrapes starting at or after this time use this epoch's sizes.
    start: u64,
    /// Samples per interval across all targets.
    per_interval: u64,
    /// Each target gets `base` samples per scrape, the first `rem` targets in phase order one more.
    base: u64,
    rem: u64,
    /// Samples from scrapes that started before `start` (the epoch's first WAL position).
    first_pos: u64,
    /// `cum(start − 1)` in this epoch's sizing, to rebase the epoch's cumulative function.
    offset: u64,
    /// `per_interval`, `base + 1` and `base` as divisors for [`Workload::scrape_of`] (each at
    /// least 1: a zero is never divided by there).
    per_interval_div: Divisor,
    big_div: Divisor,
    base_div: Divisor,
}

/// Quantile at which a scrape-to-commit distribution is cut: draws beyond it take it, so
/// every scrape commits within a bounded time (a scrape cannot outlast its interval).
pub const COMMIT_DELAY_CAP_QUANTILE: f64 = 0.999;

/// Time from a scrape's start to its commit.
#[derive(Clone, Debug)]
enum Commit {
    /// The same for every scrape (ns).
    Fixed(u64),
    /// Drawn per scrape.
    Random(Box<RandomCommit>),
}

#[derive(Clone, Debug)]
struct RandomCommit {
    sampler: Sampler,
    /// Bounds of a draw (ns): the distribution's minimum and its capped maximum.
    min: u64,
    max: u64,
    seed: u64,
}

/// The smallest and largest scrape-to-commit time of `l` (the maximum cut at
/// [`COMMIT_DELAY_CAP_QUANTILE`]).
pub fn commit_delay_bounds(l: &Latency) -> (SimDuration, SimDuration) {
    let s = Sampler::new(l);
    match l {
        Latency::Fixed(d) => (*d, *d),
        Latency::Uniform { min, max } => (*min, *max),
        _ => (s.at(0.0), s.at(COMMIT_DELAY_CAP_QUANTILE)),
    }
}

/// The arrival function of one scenario's workload.
#[derive(Clone, Debug)]
pub struct Workload {
    interval: u64,
    interval_div: Divisor,
    commit: Commit,
    /// Per-target phases in ns within `[0, interval)`, whole milliseconds, sorted.
    phases: Vec<u64>,
    /// `bucket_first[b]` = number of phases below `b << bucket_shift`: turns the "how many
    /// targets have scraped by offset r" search into a shift and a short scan. Buckets are a
    /// power of two of nanoseconds wide, at most `interval / targets`, so there are between
    /// one and two per target and no division on the hot path.
    bucket_first: Vec<u32>,
    bucket_shift: u32,
    /// Samples per interval from each start time (ns) on, as configured: the series count
    /// and its changes, ignoring when the process is down.
    steps: Vec<(u64, u64)>,
    /// Windows `[start, end)` in which nothing is scraped (the sender process is down, or
    /// not yet scraping after a restart); the last may still be open.
    pauses: Vec<(u64, Option<u64>)>,
    /// `steps` as epochs: what would have been scraped had the process never stopped.
    nominal: Vec<Epoch>,
    /// What is scraped: `steps` with the pauses cut out.
    epochs: Vec<Epoch>,
}

impl Workload {
    /// Builds the arrival function; draws one phase per target from `seed`'s workload stream.
    pub fn new(cfg: &WorkloadConfig, seed: u64) -> Self {
        let interval = cfg.scrape_interval.nanos();
        let mut rng = Rng::new(seed, Stream::Workload);
        let interval_ms = interval / NANOS_PER_MILLI;
        let mut phases: Vec<u64> = (0..cfg.targets).map(|_| rng.below(interval_ms) * NANOS_PER_MILLI).collect();
        phases.sort_unstable();
        let n = u64::from(cfg.targets);
        let extra = if cfg.report_series { REPORT_SERIES_PER_TARGET * n } else { 0 };
        let bucket_shift = (interval / phases.len().max(1) as u64).max(1).ilog2();
        let buckets = interval >> bucket_shift;
        let bucket_first =
            (0..=buckets + 1).map(|b| phases.partition_point(|&p| (p >> bucket_shift) < b) as u32).collect();
        let commit = match &cfg.scrape_duration {
            Latency::Fixed(d) => Commit::Fixed(d.nanos()),
            l => {
                let (min, max) = commit_delay_bounds(l);
                Commit::Random(Box::new(RandomCommit {
                    sampler: Sampler::new(l),
                    min: min.nanos(),
                    max: max.nanos(),
                    seed,
                }))
            }
        };
        let steps: Vec<(u64, u64)> = std::iter::once((0u64, cfg.series))
            .chain(cfg.changes.iter().map(|c| (c.at.nanos(), c.series)))
            .map(|(start, series)| (start, series + extra))
            .collect();
        let mut w = Workload {
            interval,
            interval_div: Divisor::new(interval),
            commit,
            phases,
            bucket_first,
            bucket_shift,
            steps,
            pauses: Vec::new(),
            nominal: Vec::new(),
            epochs: Vec::new(),
        };
        w.nominal = w.build_epochs(&w.steps);
        w.epochs = w.nominal.clone();
        w
    }

    /// Epochs for samples-per-interval steps `(start, per_interval)` in time order.
    fn build_epochs(&self, steps: &[(u64, u64)]) -> Vec<Epoch> {
        let n = self.phases.len() as u64;
        let mut epochs: Vec<Epoch> = Vec::with_capacity(steps.len());
        for &(start, per_interval) in steps {
            let (base, rem) = (per_interval / n, per_interval % n);
            let mut e = Epoch {
                start,
                per_interval,
                base,
                rem,
                first_pos: 0,
                offset: 0,
                per_interval_div: Divisor::new(per_interval.max(1)),
                big_div: Divisor::new(base + 1),
                base_div: Divisor::new(base.max(1)),
            };
            e.first_pos = match epochs.last() {
                None => 0,
                Some(prev) => prev.first_pos + self.cum_in(prev, start - 1) - prev.offset,
            };
            e.offset = if start == 0 { 0 } else { self.cum_in(&e, start - 1) };
            epochs.push(e);
        }
        epochs
    }

    /// The configured samples per interval at scrape time `s` (ns).
    fn nominal_at(&self, s: u64) -> u64 {
        self.steps[self.steps.partition_point(|&(start, _)| start <= s) - 1].1
    }

    /// Rebuilds what is scraped from the configured steps and the pauses.
    fn rebuild(&mut self) {
        let mut steps: Vec<(u64, u64)> = Vec::with_capacity(self.steps.len() + 2 * self.pauses.len());
        let push = |steps: &mut Vec<(u64, u64)>, start: u64, per: u64| match steps.last_mut() {
            Some(last) if last.0 == start => last.1 = per,
            Some(last) if last.1 == per => {}
            _ => steps.push((start, per)),
        };
        let mut events: Vec<(u64, Option<u64>)> = self.steps.iter().map(|&(s, p)| (s, Some(p))).collect();
        for &(a, b) in &self.pauses {
            events.push((a, None));
            if let Some(b) = b {
                events.push((b, Some(u64::MAX)));
            }
        }
        // Time order; at one instant a configured step first, then a pause edge.
        events.sort_by_key(|&(t, p)| (t, p.is_none_or(|p| p == u64::MAX)));
        let mut paused = false;
        for (t, what) in events {
            match what {
                None => {
                    paused = true;
                    push(&mut steps, t, 0);
                }
                Some(u64::MAX) => {
                    paused = false;
                    push(&mut steps, t, self.nominal_at(t));
                }
                Some(per) if !paused => push(&mut steps, t, per),
                Some(_) => {}
            }
        }
        self.epochs = self.build_epochs(&steps);
    }

    /// Nothing is scraped from `at` on (the process stopped scraping), until [`Workload::resume`].
    /// Only the future changes: positions committed before `at` keep their timestamps. If the
    /// last pause was due to end after `at`, it simply goes on.
    pub fn pause(&mut self, at: SimTime) {
        match self.pauses.last_mut() {
            Some(p) if p.1.is_none_or(|end| end > at.nanos()) => p.1 = None,
            _ => self.pauses.push((at.nanos(), None)),
        }
        self.rebuild();
    }

    /// Scraping resumes at `at`: every target scrapes at its first phase at or after it.
    pub fn resume(&mut self, at: SimTime) {
        if let Some(p) = self.pauses.last_mut()
            && p.1.is_none()
        {
            p.1 = Some(at.nanos().max(p.0));
            self.rebuild();
        }
    }

    /// Whether scraping is paused at `t`.
    pub fn paused_at(&self, t: SimTime) -> bool {
        self.pauses.iter().any(|&(a, b)| a <= t.nanos() && b.is_none_or(|b| t.nanos() < b))
    }

    /// Samples stamped at or before `t` had the process never stopped scraping.
    pub fn nominal_stamped_by(&self, t: SimTime) -> u64 {
        let s = t.nanos();
        let e = &self.nominal[self.nominal.partition_point(|e| e.start <= s) - 1];
        e.first_pos + self.cum_in(e, s) - e.offset
    }

    /// Samples that would have been scraped with timestamps in `[a, b)` had the process been
    /// up: what a pause over that window never created.
    pub fn nominal_between(&self, a: SimTime, b: SimTime) -> u64 {
        let by = |t: u64| match t.checked_sub(1) {
            None => 0,
            Some(s) => {
                let e = &self.nominal[self.nominal.partition_point(|e| e.start <= s) - 1];
                e.first_pos + self.cum_in(e, s) - e.offset
            }
        };
        by(b.nanos()).saturating_sub(by(a.nanos()))
    }

    /// Samples of all targets in sorted-phase rank `[0, m)`: the first `rem` get `base + 1`.
    fn prefix(e: &Epoch, m: u64) -> u64 {
        m * e.base + m.min(e.rem)
    }

    /// Samples in scrapes that start at or before `s`, if every scrape used epoch `e`'s sizes.
    fn cum_in(&self, e: &Epoch, s: u64) -> u64 {
        let (q, r) = self.interval_div.div_rem(s);
        q * e.per_interval + Self::prefix(e, self.phases_at_or_before(r))
    }

    /// Number of targets whose phase is `≤ r` (`r < interval`).
    fn phases_at_or_before(&self, r: u64) -> u64 {
        let b = (r >> self.bucket_shift) as usize;
        let mut i = self.bucket_first[b] as usize;
        let stop = self.bucket_first[b + 1] as usize;
        while i < stop && self.phases[i] <= r {
            i += 1;
        }
        i as u64
    }

    fn epoch_for_time(&self, s: u64) -> &Epoch {
        let i = self.epochs.partition_point(|e| e.start <= s);
        &self.epochs[i - 1]
    }

    /// Samples in scrapes that started at or before `s` (ns since start).
    fn started_by(&self, s: u64) -> u64 {
        let e = self.epoch_for_time(s);
        e.first_pos + self.cum_in(e, s) - e.offset
    }

    /// Number of samples committed to the WAL by `t`: the WAL position of the write head.
    pub fn committed_by(&self, t: SimTime) -> u64 {
        let t = t.nanos();
        let rc = match &self.commit {
            Commit::Fixed(d) => return t.checked_sub(*d).map_or(0, |s| self.started_by(s)),
            Commit::Random(rc) => rc,
        };
        let Some(last) = t.checked_sub(rc.min) else { return 0 };
        // Every scrape stamped at or before t − max is committed; those stamped in
        // (t − max, t − min] are, in timestamp order, up to the first still in flight.
        let (mut n, mut s) = match t.checked_sub(rc.max) {
            Some(sure) => (self.started_by(sure), self.scrape_after(Some(sure))),
            None => (0, self.scrape_after(None)),
        };
        loop {
            let ts = s.0 * self.interval + self.phases[s.1 as usize];
            if ts > last {
                return n;
            }
            let size = self.scrape_size(s, ts);
            if size > 0 {
                if ts + self.delay(rc, s) > t {
                    return n;
                }
                n += size;
            }
            s = self.next_scrape(s);
        }
    }

    /// The scrape `(interval index, phase rank)` that follows time `after` (the first scrape
    /// of the run if `None`).
    fn scrape_after(&self, after: Option<u64>) -> (u64, u64) {
        match after {
            None => (0, 0),
            Some(a) => {
                let (k, r) = self.interval_div.div_rem(a);
                self.next_scrape_from(k, self.phases_at_or_before(r))
            }
        }
    }

    fn next_scrape_from(&self, k: u64, rank: u64) -> (u64, u64) {
        if rank < self.phases.len() as u64 { (k, rank) } else { (k + 1, 0) }
    }

    fn next_scrape(&self, (k, rank): (u64, u64)) -> (u64, u64) {
        self.next_scrape_from(k, rank + 1)
    }

    /// Samples in scrape `s`, stamped `ts`.
    fn scrape_size(&self, (_, rank): (u64, u64), ts: u64) -> u64 {
        let e = self.epoch_for_time(ts);
        if e.per_interval == 0 { 0 } else { e.base + u64::from(rank < e.rem) }
    }

    /// The scrape-to-commit time drawn for scrape `s`.
    fn delay(&self, rc: &RandomCommit, (k, rank): (u64, u64)) -> u64 {
        let index = k.saturating_mul(self.phases.len() as u64).saturating_add(rank);
        let d = rc.sampler.at(unit_at(rc.seed, Stream::ScrapeCommit, index)).nanos();
        d.clamp(rc.min, rc.max)
    }

    /// Samples whose timestamp is at or before `ts` (ns since start). Used by the watcher's
    /// start-time filter and by age limits.
    pub fn stamped_by(&self, ts: SimTime) -> u64 {
        self.started_by(ts.nanos())
    }

    /// Scrape start time (the sample timestamp) of WAL position `p`.
    pub fn timestamp_of(&self, p: u64) -> SimTime {
        self.scrape_of(p).map_or(SimTime::NEVER, |(_, ts)| SimTime(ts))
    }

    /// The scrape `(interval index, phase rank)` holding WAL position `p` and its timestamp,
    /// or `None` if `p` is never written.
    fn scrape_of(&self, p: u64) -> Option<((u64, u64), u64)> {
        let i = self.epochs.partition_point(|e| e.first_pos <= p);
        let e = &self.epochs[i - 1];
        if e.per_interval == 0 {
            // The workload went silent for good: this position is never written.
            return None;
        }
        // 0-based index of the sample in epoch e's own cumulative numbering.
        let x = p - e.first_pos + e.offset;
        let (q, r) = e.per_interval_div.div_rem(x);
        let need = r + 1;
        // Smallest m with prefix(m) ≥ need: the sample is in the scrape of phase rank m − 1.
        let big = (e.base + 1) * e.rem;
        let m = if need <= big { e.big_div.div_ceil(need) } else { e.rem + e.base_div.div_ceil(need - big) };
        let ts = q.checked_mul(self.interval)?.checked_add(self.phases[(m - 1) as usize])?;
        Some(((q, m - 1), ts))
    }

    /// Commit time of WAL position `p`: when the watcher can first read it.
    pub fn commit_time_of(&self, p: u64) -> SimTime {
        let rc = match &self.commit {
            Commit::Fixed(d) => return self.timestamp_of(p).saturating_add(SimDuration(*d)),
            Commit::Random(rc) => rc,
        };
        let Some((s, ts)) = self.scrape_of(p) else { return SimTime::NEVER };
        // Readable once every earlier-stamped scrape is committed too: the latest commit
        // among the scrapes stamped within the distribution's spread before it.
        let mut at = ts + self.delay(rc, s);
        let from = ts.saturating_sub(rc.max - rc.min);
        let mut cur = s;
        while let Some(prev) = self.prev_scrape(cur) {
            let pts = prev.0 * self.interval + self.phases[prev.1 as usize];
            if pts < from {
                break;
            }
            if self.scrape_size(prev, pts) > 0 {
                at = at.max(pts + self.delay(rc, prev));
            }
            cur = prev;
        }
        SimTime(at)
    }

    fn prev_scrape(&self, (k, rank): (u64, u64)) -> Option<(u64, u64)> {
        if rank > 0 {
            Some((k, rank - 1))
        } else if k > 0 {
            Some((k - 1, self.phases.len() as u64 - 1))
        } else {
            None
        }
    }

    /// Series (scraped and report series) the head holds at `t` as configured, whether or not
    /// the process is scraping: the series are replayed from the WAL.
    pub fn series_at(&self, t: SimTime) -> u64 {
        self.nominal_at(t.nanos())
    }

    /// Samples per second of the current epoch at `t` (for reports).
    pub fn rate_at(&self, t: SimTime) -> f64 {
        self.epoch_for_time(t.nanos()).per_interval as f64 / (self.interval as f64 / 1e9)
    }

    /// The scrape interval.
    pub fn interval(&self) -> SimDuration {
        SimDuration(self.interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WorkloadChange;
    use proptest::prelude::*;

    fn cfg(series: u64, targets: u32, interval_s: u64, changes: Vec<WorkloadChange>) -> WorkloadConfig {
        WorkloadConfig {
            series,
            scrape_interval: SimDuration::from_secs(interval_s),
            targets,
            scrape_duration: Latency::Fixed(SimDuration::ZERO),
            report_series: true,
            wire_bytes_per_sample: 25.0,
            changes,
        }
    }

    /// Reference: enumerate every scrape explicitly.
    fn brute(w: &Workload, cfg: &WorkloadConfig, t: u64) -> (u64, Vec<u64>) {
        let n = cfg.targets as u64;
        let mut stamps = Vec::new();
        let mut scrapes: Vec<(u64, u64)> = Vec::new();
        for k in 0.. {
            let base_t = k * w.interval;
            if base_t > t {
                break;
            }
            for (rank, &ph) in w.phases.iter().enumerate() {
                let s = base_t + ph;
                if s > t {
                    continue;
                }
                let series =
                    cfg.changes.iter().rev().find(|c| c.at.nanos() <= s).map(|c| c.series).unwrap_or(cfg.series);
                let per = series + 5 * n;
                let size = per / n + u64::from((rank as u64) < per % n);
                scrapes.push((s, size));
            }
        }
        scrapes.sort_by_key(|&(s, _)| s);
        for (s, size) in &scrapes {
            stamps.extend(std::iter::repeat_n(*s, *size as usize));
        }
        (stamps.len() as u64, stamps)
    }

    #[test]
    fn matches_brute_force_with_changes() {
        let c = cfg(
            37,
            7,
            10,
            vec![
                WorkloadChange { at: SimDuration::from_millis(25_300), series: 90 },
                WorkloadChange { at: SimDuration::from_secs(41), series: 3 },
            ],
        );
        let w = Workload::new(&c, 42);
        let horizon = 70_000_000_000u64;
        let (total, stamps) = brute(&w, &c, horizon);
        assert_eq!(w.committed_by(SimTime(horizon)), total);
        for (p, &s) in stamps.iter().enumerate() {
            assert_eq!(w.timestamp_of(p as u64), SimTime(s), "position {p}");
            // Every sample of that scrape is committed at its start time.
            assert!(w.committed_by(SimTime(s)) > p as u64);
            if s > 0 {
                assert!(w.committed_by(SimTime(s - 1)) <= p as u64);
            }
        }
    }

    #[test]
    fn random_commit_times_keep_timestamp_order() {
        let mut c = cfg(37, 7, 1, vec![WorkloadChange { at: SimDuration::from_millis(4_300), series: 90 }]);
        c.scrape_duration = Latency::Uniform { min: SimDuration::from_millis(30), max: SimDuration::from_millis(190) };
        let w = Workload::new(&c, 42);
        let Commit::Random(rc) = &w.commit else { panic!("a distribution") };
        // Every scrape in timestamp order with its size and its own commit time.
        let horizon = 10_000_000_000u64;
        let mut scrapes = Vec::new();
        let mut s = w.scrape_after(None);
        loop {
            let ts = s.0 * w.interval + w.phases[s.1 as usize];
            if ts > horizon {
                break;
            }
            scrapes.push((ts, w.scrape_size(s, ts), ts + w.delay(rc, s)));
            s = w.next_scrape(s);
        }
        assert!(
            scrapes.iter().any(|&(ts, _, c)| c - ts < 60_000_000)
                && scrapes.iter().any(|&(ts, _, c)| c - ts > 160_000_000)
        );
        // Readable once it and every earlier-stamped (non-empty) scrape are committed.
        let mut readable = Vec::new();
        let mut latest = 0;
        for &(_, size, commit) in &scrapes {
            if size > 0 {
                latest = latest.max(commit);
            }
            readable.push(latest);
        }
        for t in (0..horizon).step_by(7_000_003) {
            let want: u64 = scrapes.iter().zip(&readable).filter(|(_, r)| **r <= t).map(|((_, size, _), _)| size).sum();
            assert_eq!(w.committed_by(SimTime(t)), want, "at {t}");
        }
        let mut p = 0;
        for ((_, size, _), r) in scrapes.iter().zip(&readable) {
            for _ in 0..*size {
                assert_eq!(w.commit_time_of(p), SimTime(*r), "position {p}");
                p += 1;
            }
        }
        // The same scrape draws the same delay however it is asked for.
        assert_eq!(Workload::new(&c, 42).committed_by(SimTime(5_123_456_789)), w.committed_by(SimTime(5_123_456_789)));
    }

    #[test]
    fn a_pause_creates_nothing_and_counts_what_it_missed() {
        let c = cfg(37, 7, 10, vec![WorkloadChange { at: SimDuration::from_secs(41), series: 90 }]);
        let nominal = Workload::new(&c, 42);
        let mut w = nominal.clone();
        let (a, b) = (SimTime(25_300_000_000), SimTime(58_000_000_000));
        let before = w.committed_by(a);
        w.pause(a);
        assert_eq!(w.committed_by(SimTime(70_000_000_000)), before, "nothing after the pause while it is open");
        w.resume(b);
        assert!(w.paused_at(SimTime(40_000_000_000)) && !w.paused_at(b));
        for t in (0..90_000_000_000u64).step_by(1_000_000_007) {
            let t = SimTime(t);
            // Scrapes stamped in [a, min(t, b)) were never created.
            let end = SimTime(t.min(b).nanos().saturating_sub(1));
            let missed = nominal.stamped_by(end).saturating_sub(nominal.stamped_by(SimTime(a.nanos() - 1)));
            assert_eq!(w.committed_by(t) + missed, nominal.committed_by(t), "at {t}");
        }
        // Positions keep their timestamps; after the pause the change to 90 series applies.
        let p = w.committed_by(SimTime(60_000_000_000));
        assert!(w.timestamp_of(p - 1) >= b);
        assert_eq!(
            w.nominal_between(a, b),
            nominal.stamped_by(SimTime(b.nanos() - 1)) - nominal.stamped_by(SimTime(a.nanos() - 1))
        );
    }

    #[test]
    fn rate_is_series_over_interval() {
        let w = Workload::new(&cfg(1_000_000, 1000, 15, vec![]), 1);
        let day = SimTime(86_400 * 1_000_000_000);
        let n = w.committed_by(day);
        let expect = (1_000_000 + 5000) * 86_400 / 15;
        assert!(n.abs_diff(expect) <= 1_005_000, "{n} vs {expect}");
    }

    proptest! {
        #[test]
        fn timestamp_inverts_committed(series in 0u64..5000, targets in 1u32..50, t_ms in 0u64..200_000) {
            let c = cfg(series, targets, 15, vec![WorkloadChange { at: SimDuration::from_secs(60), series: series * 2 + 1 }]);
            let w = Workload::new(&c, 9);
            let t = SimTime(t_ms * 1_000_000);
            let n = w.committed_by(t);
            if n > 0 {
                prop_assert!(w.timestamp_of(n - 1) <= t);
            }
            prop_assert!(w.timestamp_of(n) > t);
        }

        /// The bucketed count of phases at or before an offset is the plain binary search.
        #[test]
        fn phase_buckets_count_exactly(targets in 1u32..3000, interval_s in 1u64..600, seed in 0u64..50, r_frac in 0.0f64..1.0) {
            let w = Workload::new(&cfg(1000, targets, interval_s, vec![]), seed);
            let r = ((w.interval as f64 * r_frac) as u64).min(w.interval - 1);
            for r in [0, r, w.interval - 1] {
                prop_assert_eq!(w.phases_at_or_before(r), w.phases.partition_point(|&p| p <= r) as u64);
            }
            for &p in &w.phases {
                prop_assert_eq!(w.phases_at_or_before(p), w.phases.partition_point(|&q| q <= p) as u64);
            }
        }
    }
}
