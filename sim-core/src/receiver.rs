//! The receiving endpoint: rules (fault windows, rate limit), then a worker pool.
//!
//! A request that passes every rule is ingested. With `max_concurrency` set, it waits in a
//! FIFO for a free worker, so more shards sending at once means longer answers — and a
//! request the client has already given up on still occupies a worker and is still ingested.

use crate::config::ReceiverConfig;
use crate::fault::{RateLimitRule, Request, Rule, Sampler, Verdict, WindowRule};
use crate::rng::{Rng, Stream};
use crate::time::{SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How long a refused connection takes to fail (a SYN answered by RST on a LAN).
pub const REFUSED_AFTER: SimDuration = SimDuration::from_millis(1);

/// What the client gets back, before `remote_timeout` is applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answer {
    /// An HTTP status.
    Status(u16),
    /// No answer ever comes.
    Hang,
    /// The connection is refused.
    Refused,
}

/// The receiver's reply to one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reply {
    /// The answer.
    pub answer: Answer,
    /// When the client receives it, from the moment it was sent.
    pub after: SimDuration,
    /// Retry-After header, if any.
    pub retry_after: Option<SimDuration>,
    /// Whether the receiver stores the samples (even if the client stops waiting).
    pub ingests: bool,
}

/// The receiver model.
pub struct Receiver {
    rules: Vec<Box<dyn Rule>>,
    latency: Sampler,
    rng: Rng,
    /// Times at which each busy worker becomes free (only with `max_concurrency`).
    workers: Option<(usize, BinaryHeap<Reverse<u64>>)>,
}

impl Receiver {
    /// Builds the rules in order: fault windows, then the rate limit.
    pub fn new(cfg: &ReceiverConfig, seed: u64) -> Self {
        let mut rules: Vec<Box<dyn Rule>> = Vec::new();
        for (i, w) in cfg.faults.iter().enumerate() {
            rules.push(Box::new(WindowRule::new(w.clone(), i as u32, seed)));
        }
        if let Some(rl) = &cfg.rate_limit {
            rules.push(Box::new(RateLimitRule::new(rl.clone())));
        }
        Receiver {
            rules,
            latency: Sampler::new(&cfg.latency),
            rng: Rng::new(seed, Stream::ReceiverLatency),
            workers: cfg.max_concurrency.map(|c| (c as usize, BinaryHeap::new())),
        }
    }

    /// Handles a request sent at `now`.
    pub fn handle(&mut self, req: &Request, now: SimTime) -> Reply {
        let verdict = self.rules.iter_mut().map(|r| r.on_request(req, now)).find(|v| *v != Verdict::Pass);
        match verdict {
            Some(Verdict::Respond { status, latency, retry_after }) => {
                let after = latency.unwrap_or_else(|| self.latency.sample(&mut self.rng));
                Reply { answer: Answer::Status(status), after, retry_after, ingests: (200..300).contains(&status) }
            }
            Some(Verdict::Hang) => {
                Reply { answer: Answer::Hang, after: SimDuration::ZERO, retry_after: None, ingests: false }
            }
            Some(Verdict::Refuse) => {
                Reply { answer: Answer::Refused, after: REFUSED_AFTER, retry_after: None, ingests: false }
            }
            Some(Verdict::Pass) | None => {
                let service = self.latency.sample(&mut self.rng);
                let after = match &mut self.workers {
                    None => service,
                    Some((c, busy)) => {
                        // Drop workers that are already free, then wait for the earliest.
                        while busy.peek().is_some_and(|&Reverse(f)| f <= now.nanos()) {
                            busy.pop();
                        }
                        let start =
                            if busy.len() < *c { now.nanos() } else { busy.pop().map_or(now.nanos(), |Reverse(f)| f) };
                        let done = start + service.nanos();
                        busy.push(Reverse(done));
                        SimDuration(done - now.nanos())
                    }
                };
                Reply { answer: Answer::Status(200), after, retry_after: None, ingests: true }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FaultWindow, Latency, Response};

    fn cfg() -> ReceiverConfig {
        ReceiverConfig {
            latency: Latency::Fixed(SimDuration::from_millis(100)),
            max_concurrency: None,
            rate_limit: None,
            ingest_after_client_timeout: true,
            faults: vec![],
        }
    }

    #[test]
    fn fifo_workers_queue_excess_requests() {
        let mut c = cfg();
        c.max_concurrency = Some(2);
        let mut r = Receiver::new(&c, 1);
        let req = Request { samples: 10, bytes: 10 };
        let afters: Vec<u64> = (0..5).map(|_| r.handle(&req, SimTime(0)).after.nanos() / 1_000_000).collect();
        assert_eq!(afters, [100, 100, 200, 200, 300]);
    }

    #[test]
    fn first_matching_window_wins() {
        let mut c = cfg();
        let w = |s: u64, e: u64, resp| FaultWindow {
            start: SimDuration::from_secs(s),
            end: SimDuration::from_secs(e),
            response: resp,
            probability: 1.0,
            retry_after: None,
            latency: None,
        };
        c.faults = vec![w(10, 20, Response::Status(503)), w(0, 30, Response::Timeout)];
        let mut r = Receiver::new(&c, 1);
        let req = Request { samples: 1, bytes: 1 };
        assert_eq!(r.handle(&req, SimTime(15_000_000_000)).answer, Answer::Status(503));
        assert_eq!(r.handle(&req, SimTime(25_000_000_000)).answer, Answer::Hang);
        assert_eq!(r.handle(&req, SimTime(35_000_000_000)).answer, Answer::Status(200));
    }
}
