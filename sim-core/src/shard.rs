//! One shard's queue: a channel of `slots` full batches plus one partial batch (§6).
//!
//! Samples are held as run-length [`Span`]s of WAL positions, never one by one, so a shard
//! holding a million samples costs a few words. The watcher's share of every read is one span
//! and consecutive spans merge, so a queue holds a handful of spans at most.

use crate::time::mul_div;
use std::collections::VecDeque;

/// `count` samples spread evenly over WAL positions `[lo, hi)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First WAL position covered.
    pub lo: u64,
    /// One past the last WAL position covered.
    pub hi: u64,
    /// Samples in the span.
    pub count: u64,
}

impl Span {
    /// Splits off the first `take` samples (`0 < take < count`), assuming even density.
    fn split_front(&mut self, take: u64) -> Span {
        let cut = self.lo + mul_div(self.hi - self.lo, take, self.count);
        let front = Span { lo: self.lo, hi: cut.max(self.lo + 1).min(self.hi), count: take };
        self.lo = front.hi.min(self.hi - 1);
        self.count -= take;
        front
    }

    /// Joins a later span onto this one.
    fn absorb(&mut self, later: Span) {
        self.hi = self.hi.max(later.hi);
        self.count += later.count;
    }
}

/// A shard's queue in Prometheus's capacity model.
#[derive(Clone, Debug)]
pub struct ShardQueue {
    spans: VecDeque<Span>,
    queued: u64,
    /// Full batches in the channel.
    full: u64,
    /// A partial batch pushed into the channel by `FlushAndShutdown` (0 if none).
    tail: u64,
    msps: u64,
    slots: u64,
}

impl ShardQueue {
    /// An empty queue with `slots` batch slots of `msps` samples.
    pub fn new(msps: u64, slots: u64) -> Self {
        ShardQueue { spans: VecDeque::new(), queued: 0, full: 0, tail: 0, msps, slots }
    }

    /// Samples in the channel and the partial batch.
    pub fn queued(&self) -> u64 {
        self.queued
    }

    /// Samples in the partial batch.
    pub fn partial(&self) -> u64 {
        self.queued - self.full * self.msps - self.tail
    }

    /// Batches ready in the channel.
    pub fn ready_batches(&self) -> u64 {
        self.full + u64::from(self.tail > 0)
    }

    /// Samples `queue.Append` still accepts before it returns false: the channel's free slots
    /// plus the partial batch up to `MSPS − 1` (the item that would complete a batch into a full
    /// channel is taken back out).
    pub fn room(&self) -> u64 {
        if self.tail > 0 {
            return 0;
        }
        (self.slots - self.full) * self.msps + (self.msps - 1 - self.partial().min(self.msps - 1))
    }

    /// Enqueues `span` (the caller has checked [`ShardQueue::room`]); completed batches move
    /// into the channel.
    pub fn push(&mut self, span: Span) {
        if span.count == 0 {
            return;
        }
        debug_assert!(span.count <= self.room(), "enqueue beyond room: {} > {}", span.count, self.room());
        match self.spans.back_mut() {
            Some(last) if last.hi >= span.lo => last.absorb(span),
            _ => self.spans.push_back(span),
        }
        self.queued += span.count;
        let partial = self.partial();
        // Most pushes leave the partial batch short of a batch: skip the division then.
        if partial >= self.msps {
            self.full += (partial / self.msps).min(self.slots - self.full);
        }
    }

    fn cut(&mut self, mut n: u64) -> Span {
        let mut out: Option<Span> = None;
        while n > 0 {
            let front = self.spans.front_mut().expect("cut within queued samples");
            let piece =
                if front.count <= n { self.spans.pop_front().expect("front exists") } else { front.split_front(n) };
            n -= piece.count;
            match &mut out {
                Some(o) => o.absorb(piece),
                None => out = Some(piece),
            }
        }
        let s = out.expect("cut of at least one sample");
        self.queued -= s.count;
        s
    }

    /// The shard loop receiving from the channel: the next full (or flushed) batch, if any.
    pub fn take_ready(&mut self) -> Option<Span> {
        if self.full > 0 {
            self.full -= 1;
            return Some(self.cut(self.msps));
        }
        if self.tail > 0 {
            let n = self.tail;
            self.tail = 0;
            return Some(self.cut(n));
        }
        None
    }

    /// The flush timer (`queue.Batch`): a ready batch if there is one, else the partial batch.
    pub fn take_on_timer(&mut self) -> Option<Span> {
        if let Some(b) = self.take_ready() {
            return Some(b);
        }
        let p = self.partial();
        (p > 0).then(|| self.cut(p))
    }

    /// `FlushAndShutdown`: pushes the partial batch into the channel if a slot is free.
    /// Returns true once nothing is left outside the channel.
    pub fn flush_partial(&mut self) -> bool {
        let p = self.partial();
        if p == 0 || self.tail > 0 {
            return true;
        }
        if self.full < self.slots {
            self.tail = p;
            return true;
        }
        false
    }

    /// The queued samples as spans of WAL positions, oldest first (what a hard shutdown
    /// discards).
    pub fn spans(&self) -> impl Iterator<Item = Span> + '_ {
        self.spans.iter().copied()
    }

    /// Hard shutdown: empties the queue and returns how many samples it held.
    pub fn clear(&mut self) -> u64 {
        let n = self.queued;
        self.spans.clear();
        self.queued = 0;
        self.full = 0;
        self.tail = 0;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(lo: u64, hi: u64, count: u64) -> Span {
        Span { lo, hi, count }
    }

    #[test]
    fn capacity_model_matches_spec_section_6() {
        // v2.42 defaults: 5 slots of 500 → at most 2500 + 499 queued before Append fails.
        let mut q = ShardQueue::new(500, 5);
        assert_eq!(q.room(), 2999);
        q.push(span(0, 2999, 2999));
        assert_eq!(q.room(), 0);
        assert_eq!(q.ready_batches(), 5);
        assert_eq!(q.partial(), 499);
        // Taking one batch frees exactly one batch of room; the partial is not yet promoted.
        let b = q.take_ready().unwrap();
        assert_eq!(b.count, 500);
        assert_eq!(q.room(), 500);
        q.push(span(2999, 3000, 1));
        assert_eq!(q.ready_batches(), 5, "the item completing the partial batch moves it into the channel");
        assert_eq!(q.partial(), 0);
    }

    #[test]
    fn timer_takes_full_batch_first_then_partial() {
        let mut q = ShardQueue::new(10, 2);
        q.push(span(0, 13, 13));
        assert_eq!(q.take_on_timer().unwrap().count, 10);
        assert_eq!(q.take_on_timer().unwrap().count, 3);
        assert_eq!(q.take_on_timer(), None);
    }

    #[test]
    fn spans_split_proportionally_and_conserve_samples() {
        let mut q = ShardQueue::new(4, 100);
        // Within one shard set every share has the same density (1/n of positions).
        q.push(span(0, 100, 10));
        q.push(span(100, 200, 10));
        let a = q.take_ready().unwrap();
        assert_eq!((a.lo, a.count), (0, 4));
        assert!(a.hi <= 41 && a.hi >= 39, "{a:?}");
        let mut total = a.count;
        while let Some(b) = q.take_on_timer() {
            total += b.count;
            assert!(b.lo < b.hi);
        }
        assert_eq!(total, 20);
        assert_eq!(q.queued(), 0);
    }

    #[test]
    fn flush_waits_for_a_free_slot() {
        let mut q = ShardQueue::new(10, 1);
        q.push(span(0, 15, 15));
        assert!(!q.flush_partial(), "channel full: partial stays");
        q.take_ready().unwrap();
        assert!(q.flush_partial());
        assert_eq!(q.room(), 0, "a flushed queue accepts nothing");
        assert_eq!(q.take_ready().unwrap().count, 5);
    }
}
