//! The two backoffs of the sender (§5, §8.3).
//!
//! - [`SendBackoff`]: between attempts of one batch after a recoverable error. Starts at
//!   `min_backoff`, doubles up to `max_backoff`; a positive Retry-After replaces one sleep and
//!   is not capped, and the next sleep is `min(2·that, max_backoff)`.
//! - [`EnqueueBackoff`]: the WAL watcher retrying a full shard. Starts at 5 ms for samples,
//!   doubles up to `max_backoff`, restarts for every sample, and cannot be interrupted — so
//!   after a long stall the watcher notices free space up to `max_backoff` late.

use crate::time::{SimDuration, SimTime};

/// First enqueue retry sleep for samples and histograms (`queue_manager.go: Append`).
pub const ENQUEUE_FIRST_BACKOFF: SimDuration = SimDuration::from_millis(5);

/// Retry state of one batch.
#[derive(Clone, Debug)]
pub struct SendBackoff {
    next: SimDuration,
    max: SimDuration,
}

impl SendBackoff {
    /// A fresh batch: the first sleep will be `min`.
    pub fn new(min: SimDuration, max: SimDuration) -> Self {
        SendBackoff { next: min, max }
    }
    /// The sleep before the next attempt, given the Retry-After the version honours for this
    /// error (`None` or zero: use the backoff). Advances the state.
    pub fn next_sleep(&mut self, retry_after: Option<SimDuration>) -> SimDuration {
        let sleep = match retry_after {
            Some(ra) if ra.nanos() > 0 => ra,
            _ => self.next,
        };
        self.next = sleep.doubled_capped(self.max);
        sleep
    }
}

/// The watcher's retry schedule while a shard is full, started when the first enqueue failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnqueueBackoff {
    /// Time of the first failed attempt.
    pub since: SimTime,
    /// `max_backoff`.
    pub max: SimDuration,
}

impl EnqueueBackoff {
    /// The first retry at or after `t`, and how many attempts had failed before it (each
    /// failed attempt is one `enqueue_retries_total`).
    pub fn first_retry_at_or_after(&self, t: SimTime) -> (SimTime, u64) {
        let mut at = self.since;
        let mut sleep = ENQUEUE_FIRST_BACKOFF.min(self.max);
        let mut failed = 0u64;
        // Doubling phase: at most 64 steps.
        while at < t && sleep < self.max {
            at += sleep;
            failed += 1;
            sleep = sleep.doubled_capped(self.max);
        }
        if at < t {
            // Linear phase at max_backoff.
            let steps = (t - at).nanos().div_ceil(self.max.nanos().max(1));
            at += SimDuration(steps * self.max.nanos());
            failed += steps;
        }
        (at, failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> SimDuration {
        SimDuration::from_millis(v)
    }

    #[test]
    fn send_backoff_matches_spec_14_4() {
        let mut b = SendBackoff::new(ms(30), ms(5000));
        let sleeps: Vec<u64> = (0..10).map(|_| b.next_sleep(None).nanos() / 1_000_000).collect();
        assert_eq!(sleeps, [30, 60, 120, 240, 480, 960, 1920, 3840, 5000, 5000]);
    }

    #[test]
    fn retry_after_is_uncapped_then_doubles_from_itself() {
        let mut b = SendBackoff::new(ms(30), ms(5000));
        assert_eq!(b.next_sleep(Some(SimDuration::from_secs(120))), SimDuration::from_secs(120));
        assert_eq!(b.next_sleep(None), ms(5000));
        let mut b = SendBackoff::new(ms(30), ms(5000));
        let s: Vec<_> = [1, 0, 0, 0].iter().map(|&ra| b.next_sleep(Some(SimDuration::from_secs(ra)))).collect();
        assert_eq!(s, [ms(1000), ms(2000), ms(4000), ms(5000)]);
    }

    #[test]
    fn enqueue_retries_follow_5ms_doubling() {
        // Sleeps 5, 10, 20, ..., 2560, 5000, 5000 ms: retries at 5, 15, 35, 75, ... ms.
        let b = EnqueueBackoff { since: SimTime(0), max: ms(5000) };
        assert_eq!(b.first_retry_at_or_after(SimTime(0)), (SimTime(0), 0));
        assert_eq!(b.first_retry_at_or_after(SimTime(1)), (SimTime(5_000_000), 1));
        assert_eq!(b.first_retry_at_or_after(SimTime(15_000_000)), (SimTime(15_000_000), 2));
        // 5+10+...+2560 = 5115 ms after 10 failures; then +5000 each.
        assert_eq!(b.first_retry_at_or_after(SimTime(5_115_000_000)), (SimTime(5_115_000_000), 10));
        assert_eq!(b.first_retry_at_or_after(SimTime(5_115_000_001)), (SimTime(10_115_000_000), 11));
        assert_eq!(b.first_retry_at_or_after(SimTime(20_115_000_000)), (SimTime(20_115_000_000), 13));
    }
}
