//! The event queue: a min-heap ordered by `(time, insertion sequence)`.
//!
//! Ties at the same instant are broken by insertion order, so the run never depends on heap
//! internals. Go's `select` picks at random between ready channels; the model replaces that
//! with this fixed order, which is documented at each place where it matters.
//!
//! Some events stand for a timer that, in Prometheus, was armed a moment *after* another
//! one with the same period: the reshard goroutine arms `flush_deadline` after receiving the
//! tick that decided the reshard, so the deadline always fires just after the tick that falls
//! on the same instant (`queue_manager.go: shards.stop`). [`EventQueue::push_late`] schedules
//! such an event after every ordinary event due at the same time.

use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    at: SimTime,
    /// Insertion order; [`LATE`] set for events that follow every ordinary one at `at`.
    seq: u64,
    event: E,
}

/// High bit of the sequence number: sorts a late event after all ordinary events at its time.
const LATE: u64 = 1 << 63;

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest entry first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.cmp(&self.at).then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A deterministic priority queue of timed events.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(1024), next_seq: 0 }
    }
    /// Schedule `event` at `at`. Events at the same time pop in the order they were pushed.
    pub fn push(&mut self, at: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { at, seq, event });
    }
    /// Schedule `event` at `at`, after every ordinary event due at the same instant (late
    /// events among themselves keep their insertion order).
    pub fn push_late(&mut self, at: SimTime, event: E) {
        let seq = self.next_seq | LATE;
        self.next_seq += 1;
        self.heap.push(Entry { at, seq, event });
    }
    /// Remove and return the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.at, e.event))
    }
    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.at)
    }
    /// Number of scheduled events (including ones the caller will discard as stale).
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    /// True if nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_keeps_insertion_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), "b1");
        q.push(SimTime(5), "a");
        q.push(SimTime(10), "b2");
        q.push(SimTime(10), "b3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["a", "b1", "b2", "b3"]);
    }

    #[test]
    fn late_events_follow_ordinary_ones_at_the_same_instant() {
        let mut q = EventQueue::new();
        q.push_late(SimTime(10), "deadline");
        q.push(SimTime(20), "later");
        q.push(SimTime(10), "tick");
        q.push_late(SimTime(10), "deadline2");
        q.push(SimTime(5), "early");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["early", "tick", "deadline", "deadline2", "later"]);
    }
}
