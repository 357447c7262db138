//! Seeded random streams, one per model component.
//!
//! Every component (the workload's scrape phases, the receiver's latency, each fault window)
//! draws from its own ChaCha8 stream: the same scenario seed selects the key, and the
//! component's fixed [`Stream`] id selects the ChaCha stream. Adding a component or a fault
//! therefore never shifts the draws of the others.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Stable identifiers of the random streams. Never renumber: that would change every result.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Scrape phase of each target.
    Workload,
    /// Receiver service latency.
    ReceiverLatency,
    /// The i-th `[[receiver.fault]]` window (its probability draws and latency).
    Fault(u32),
    /// Stochastic parts of the receiver's incident models (issue #3).
    Incident(u32),
    /// Answer times of the receiver-wide rate limit's 429s.
    RateLimit,
    /// Scrape-to-commit time of each scrape, read at random positions ([`unit_at`]).
    ScrapeCommit,
    /// Go's random `select` among shards leaving at a hard shutdown.
    ShutdownSelect,
    /// vmagent's retry jitter (current releases).
    VmagentRetry,
}

impl Stream {
    fn id(self) -> u64 {
        match self {
            Stream::Workload => 1,
            Stream::ReceiverLatency => 2,
            Stream::Fault(i) => (1 << 32) | u64::from(i),
            Stream::Incident(i) => (2 << 32) | u64::from(i),
            Stream::RateLimit => 3,
            Stream::ScrapeCommit => 4,
            Stream::ShutdownSelect => 5,
            Stream::VmagentRetry => 6,
        }
    }
}

/// The `index`-th uniform draw in `[0, 1)` of `stream`, by random access into the ChaCha
/// stream: for values that belong to an identity (the k-th scrape of a target) rather than
/// to the order in which the model happens to ask for them.
pub fn unit_at(seed: u64, stream: Stream, index: u64) -> f64 {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream.id());
    // Each f64 draw consumes two 32-bit words.
    r.set_word_pos(u128::from(index) * 2);
    r.random::<f64>()
}

/// A component's private random stream.
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream `stream` of the run seeded by `seed`.
    pub fn new(seed: u64, stream: Stream) -> Self {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream.id());
        Rng(r)
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }
    /// Uniform in `[0, n)`; `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n)
    }
    /// True with probability `p` (clamped to `[0, 1]`). Consumes exactly one draw.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// The underlying generator, for statrs distributions.
    pub fn inner(&mut self) -> &mut ChaCha8Rng {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, Stream::Workload).below(1000)).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]), "same seed and stream repeat");
        let mut w = Rng::new(7, Stream::Workload);
        let mut r = Rng::new(7, Stream::ReceiverLatency);
        let wa: Vec<u64> = (0..8).map(|_| w.below(1 << 40)).collect();
        let ra: Vec<u64> = (0..8).map(|_| r.below(1 << 40)).collect();
        assert_ne!(wa, ra);
        let mut f0 = Rng::new(7, Stream::Fault(0));
        let mut f1 = Rng::new(7, Stream::Fault(1));
        assert_ne!(f0.below(1 << 40), f1.below(1 << 40));
    }
}
