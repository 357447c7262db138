//! One vmagent worker's view of the remote: what an answer means for the block
//! (`app/vmagent/remotewrite/client.go: sendBlockHTTP`), how long it sleeps before the next
//! attempt, and the per-URL rate limiter every worker passes before a block's first attempt.

use super::flags::VmVersion;
use crate::rng::Rng;
use crate::time::{SimDuration, SimTime};

/// What the worker does with the block after an answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// 2xx: the block is done.
    Delivered,
    /// 400 and 409 (current: also 415): the block is dropped, `packets_dropped_total` +1,
    /// "like Prometheus does" (the code cites VictoriaMetrics#873 and #1149).
    Dropped,
    /// Anything else (429, 401, 403, 404, 413, 5xx, a transport error, a timeout): retried
    /// forever, with no attempt or age limit.
    Retry,
}

/// Classifies an HTTP status (`sendBlockHTTP`). Unlike Prometheus, 429 and most 4xx retry.
pub fn classify(version: VmVersion, status: u16) -> Disposition {
    match status {
        200..=299 => Disposition::Delivered,
        400 | 409 => Disposition::Dropped,
        415 if version == VmVersion::Current => Disposition::Dropped,
        _ => Disposition::Retry,
    }
}

/// Retry state of one block, fresh for every block.
#[derive(Clone, Debug)]
pub struct Backoff {
    version: VmVersion,
    /// 1.79: `retryDuration` (doubled *before* each sleep). Current: the next base delay.
    d: SimDuration,
    min: SimDuration,
    max: SimDuration,
}

/// 1.79's fixed cap (`client.go`: `if retryDuration > time.Minute`).
const V179_MAX: SimDuration = SimDuration::from_mins(1);
/// Current: jitter is at most `min(d/10, 10 s)` (`lib/timeutil: BackoffTimer`).
const JITTER_CAP: SimDuration = SimDuration::from_secs(10);

impl Backoff {
    /// A block's first retry state.
    pub fn new(version: VmVersion, min: SimDuration, max: SimDuration) -> Self {
        match version {
            VmVersion::V1_79 => Backoff { version, d: SimDuration::from_secs(1), min, max: V179_MAX },
            VmVersion::Current => Backoff { version, d: min, min, max },
        }
    }

    /// The sleep before the next attempt. 1.79 doubles first (2, 4, 8, 16, 32, 60, 60 s, no
    /// jitter, Retry-After ignored). Current sleeps `d + U·min(d/10, 10 s)` with `d` = 1, 2,
    /// 4 … 60 s; a Retry-After of at least one whole second sets `d` to it, clamped to
    /// `[retryMinInterval, retryMaxInterval]`, and the next `d` doubles from there.
    pub fn next_sleep(&mut self, retry_after: Option<SimDuration>, rng: &mut Rng) -> SimDuration {
        match self.version {
            VmVersion::V1_79 => {
                self.d = self.d.doubled_capped(self.max);
                self.d
            }
            VmVersion::Current => {
                if let Some(ra) = retry_after {
                    let whole = SimDuration::from_secs(ra.nanos() / crate::time::NANOS_PER_SEC);
                    if whole.nanos() > 0 {
                        self.d = whole.max(self.min).min(self.max);
                    }
                }
                let base = self.d;
                let cap = SimDuration(base.nanos() / 10).min(JITTER_CAP);
                let jitter = SimDuration((cap.nanos() as f64 * rng.unit()) as u64);
                self.d = base.doubled_capped(self.max);
                SimDuration(base.nanos() + jitter.nanos())
            }
        }
    }
}

/// The per-URL token bucket of `-remoteWrite.rateLimit` (`rateLimiter.register` in 1.79,
/// `lib/ratelimiter: RateLimiter.Register` later), charged once per block with its
/// compressed size before the first attempt. Its mutex is held while it waits, so the
/// workers of a URL queue behind each other: a worker arriving while another waits starts
/// no earlier than that one.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    limit: i64,
    budget: i64,
    deadline: SimTime,
    /// When the mutex is free again.
    free_at: SimTime,
    /// `vmagent_remotewrite_rate_limit_reached_total`.
    pub reached: u64,
}

impl RateLimiter {
    /// A limiter of `limit` bytes per second, idle.
    pub fn new(limit: u64) -> Self {
        RateLimiter { limit: limit as i64, budget: 0, deadline: SimTime::ZERO, free_at: SimTime::ZERO, reached: 0 }
    }

    /// A block of `bytes` asks at `now`; returns when it may be sent.
    pub fn register(&mut self, now: SimTime, bytes: u64) -> SimTime {
        let mut t = now.max(self.free_at);
        while self.budget <= 0 {
            if t < self.deadline {
                t = self.deadline;
                self.reached += 1;
            }
            self.budget += self.limit;
            self.deadline = t + SimDuration::from_secs(1);
        }
        self.budget -= bytes as i64;
        self.free_at = t;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn secs(v: &[SimDuration]) -> Vec<f64> {
        v.iter().map(|d| d.as_secs_f64()).collect()
    }

    /// D.3 vector 1: 1.79 sleeps 2, 4, 8, 16, 32, 60, 60 s (cumulative 182 s), whatever
    /// Retry-After says.
    #[test]
    fn v179_backoff_doubles_from_two_seconds_to_a_minute() {
        let mut rng = Rng::new(1, Stream::VmagentRetry);
        let mut b = Backoff::new(VmVersion::V1_79, SimDuration::from_secs(1), SimDuration::from_mins(1));
        let ra = Some(SimDuration::from_secs(5));
        let s: Vec<SimDuration> = (0..7).map(|_| b.next_sleep(ra, &mut rng)).collect();
        assert_eq!(secs(&s), [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]);
        assert_eq!(s.iter().map(|d| d.as_secs_f64()).sum::<f64>(), 182.0);
    }

    /// D.3 vectors 1 and 2: current's base delays 1 … 60 s, each plus at most a tenth;
    /// Retry-After 120 → 60 s then 60; 5 → 5 then 10; 0.5 → ignored.
    #[test]
    fn current_backoff_jitters_and_clamps_retry_after() {
        let mut rng = Rng::new(1, Stream::VmagentRetry);
        let (min, max) = (SimDuration::from_secs(1), SimDuration::from_mins(1));
        let mut b = Backoff::new(VmVersion::Current, min, max);
        for base in [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0] {
            let s = b.next_sleep(None, &mut rng).as_secs_f64();
            assert!(s >= base && s < base + (base / 10.0).min(10.0), "{s} for base {base}");
        }
        let mut b = Backoff::new(VmVersion::Current, min, max);
        let s = b.next_sleep(Some(SimDuration::from_secs(120)), &mut rng).as_secs_f64();
        assert!((60.0..66.0).contains(&s), "{s}");
        assert!((60.0..66.0).contains(&b.next_sleep(None, &mut rng).as_secs_f64()));
        let mut b = Backoff::new(VmVersion::Current, min, max);
        assert!((5.0..5.5).contains(&b.next_sleep(Some(SimDuration::from_secs(5)), &mut rng).as_secs_f64()));
        assert!((10.0..11.0).contains(&b.next_sleep(None, &mut rng).as_secs_f64()));
        let mut b = Backoff::new(VmVersion::Current, min, max);
        assert!(b.next_sleep(Some(SimDuration::from_millis(500)), &mut rng).as_secs_f64() < 1.1, "0.5 s is ignored");
    }

    /// D.3 vector 2: 429 and 503 retry in both versions, 400 drops, 415 differs.
    #[test]
    fn statuses_are_classified_per_version() {
        for v in [VmVersion::V1_79, VmVersion::Current] {
            assert_eq!(classify(v, 204), Disposition::Delivered);
            assert_eq!(classify(v, 429), Disposition::Retry);
            assert_eq!(classify(v, 503), Disposition::Retry);
            assert_eq!(classify(v, 404), Disposition::Retry);
            assert_eq!(classify(v, 400), Disposition::Dropped);
            assert_eq!(classify(v, 409), Disposition::Dropped);
        }
        assert_eq!(classify(VmVersion::V1_79, 415), Disposition::Retry);
        assert_eq!(classify(VmVersion::Current, 415), Disposition::Dropped);
    }

    /// D.3 vector 8: 1 MB/s, 400 kB blocks from idle: three pass at once, the fourth waits
    /// until one second after the first and counts one `rate_limit_reached_total`.
    #[test]
    fn rate_limiter_follows_the_d3_vector() {
        let mut l = RateLimiter::new(1_000_000);
        let t0 = SimTime(SimDuration::from_secs(10).nanos());
        for _ in 0..3 {
            assert_eq!(l.register(t0, 400_000), t0);
        }
        assert_eq!(l.reached, 0);
        assert_eq!(l.register(t0, 400_000), t0 + SimDuration::from_secs(1));
        assert_eq!(l.reached, 1);
        // The mutex was held: a worker asking meanwhile starts no earlier.
        assert!(l.register(t0 + SimDuration::from_millis(10), 400_000) >= t0 + SimDuration::from_secs(1));
    }
}
