//! Resharding: the EWMA rates and the desired-shards decision (§9).
//!
//! Every 10 s the queue ticks its EWMAs and computes how many shards would carry the input
//! plus 5 % of the backlog per second, given the measured time per sample. The result is
//! ignored within ±30 % of the current count, and a downshard is refused while the queue is
//! more than 10 s behind.

use crate::profile::{Profile, ReshardSendGate};
use crate::time::SimDuration;

/// EWMA smoothing factor (`storage/remote/ewma.go`, `queue_manager.go: ewmaWeight`).
pub const EWMA_ALPHA: f64 = 0.2;
/// EWMA tick and reshard interval (`shardUpdateDuration`).
pub const SHARD_UPDATE_DURATION: SimDuration = SimDuration::from_secs(10);
/// Tolerance band around the current count (`shardToleranceFraction`).
pub const SHARD_TOLERANCE_FRACTION: f64 = 0.3;
/// Fraction of the backlog to catch up per second (`integralGain` in older code).
pub const BACKLOG_CATCHUP: f64 = 0.05;

/// `ewmaRate`: events counted between ticks, turned into a smoothed per-second rate.
#[derive(Clone, Debug, Default)]
pub struct Ewma {
    events: u64,
    rate: f64,
    init: bool,
}

impl Ewma {
    /// Add `n` events.
    pub fn incr(&mut self, n: u64) {
        self.events += n;
    }
    /// Close the 10 s interval: `rate += α·(instant − rate)`, or `rate = instant` the first
    /// time there were events.
    pub fn tick(&mut self) {
        let inst = self.events as f64 / SHARD_UPDATE_DURATION.as_secs_f64();
        self.events = 0;
        if self.init {
            self.rate += EWMA_ALPHA * (inst - self.rate);
        } else if inst > 0.0 {
            self.init = true;
            self.rate = inst;
        }
    }
    /// The smoothed rate per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// Inputs of one desired-shards computation, already ticked.
#[derive(Clone, Copy, Debug)]
pub struct ShardInputs {
    /// Current shard count (`numShards`).
    pub current: u32,
    /// `dataIn` rate, samples/s (process-wide).
    pub in_rate: f64,
    /// `dataOut` rate, samples/s.
    pub out_rate: f64,
    /// `dataDropped` rate, samples/s.
    pub dropped_rate: f64,
    /// `dataOutDuration` rate in seconds of sending per second.
    pub out_duration: f64,
    /// `highestRecv − highestSent`, whole seconds.
    pub delay_secs: f64,
    /// `min_shards`.
    pub min_shards: u32,
    /// `max_shards`.
    pub max_shards: u32,
}

/// Result of [`desired_shards`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// The raw float exported as `shards_desired`; `None` when `outRate ≤ 0` (gauge untouched).
    pub raw: Option<f64>,
    /// The shard count to move to (equal to `current` when nothing should change).
    pub shards: u32,
}

/// `calculateDesiredShards` after the EWMA ticks (§9.2 steps 2–11).
pub fn desired_shards(i: &ShardInputs) -> Decision {
    let kept_ratio = i.out_rate / (i.dropped_rate + i.out_rate);
    let pending = i.delay_secs * i.in_rate * kept_ratio;
    if i.out_rate <= 0.0 {
        return Decision { raw: None, shards: i.current };
    }
    let time_per_sample = i.out_duration / i.out_rate;
    let raw = time_per_sample * (i.in_rate * kept_ratio + BACKLOG_CATCHUP * pending);
    let cur = f64::from(i.current);
    let lower = cur * (1.0 - SHARD_TOLERANCE_FRACTION);
    let upper = cur * (1.0 + SHARD_TOLERANCE_FRACTION);
    let desired = raw.ceil();
    if lower <= desired && desired <= upper {
        return Decision { raw: Some(raw), shards: i.current };
    }
    // Go converts with int(); a NaN or huge float saturates here instead.
    let n = if desired.is_nan() { i.current } else { desired.clamp(0.0, f64::from(u32::MAX)) as u32 };
    if n < i.current && i.delay_secs > 10.0 {
        return Decision { raw: Some(raw), shards: i.current };
    }
    Decision { raw: Some(raw), shards: n.clamp(i.min_shards, i.max_shards) }
}

/// `shouldReshard` (§9.3): may a change from `current` to `desired` be applied now?
#[derive(Clone, Copy, Debug)]
pub struct Gate {
    /// Unix seconds of the last completed batch (any outcome), 0 if none yet.
    pub last_send_unix: u64,
    /// Unix seconds now.
    pub now_unix: u64,
    /// Unix seconds of `now − threshold`, truncated as Go does.
    pub min_send_unix: u64,
    /// v2.51+: resharding is disabled until this Unix second.
    pub disable_until_unix: u64,
}

/// Why a reshard was not applied.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The last send completed too long ago ("Skipping resharding, last successful send was
    /// beyond threshold").
    NoRecentSend,
    /// A recoverable error disabled resharding (v2.51+).
    DisabledAfterRetry,
}

impl Gate {
    /// Evaluates the gate; `Ok` means the reshard may proceed.
    pub fn check(&self, profile: Profile) -> Result<(), Skip> {
        if self.last_send_unix < self.min_send_unix {
            return Err(Skip::NoRecentSend);
        }
        if profile.reshard_disable_on_retry() && self.now_unix < self.disable_until_unix {
            return Err(Skip::DisabledAfterRetry);
        }
        Ok(())
    }
}

/// How long ago the last send may have completed for a reshard to be allowed.
pub fn send_gate_threshold(profile: Profile, batch_send_deadline: SimDuration) -> SimDuration {
    match profile.reshard_send_gate() {
        ReshardSendGate::TwiceBatchDeadline => SimDuration(batch_send_deadline.nanos().saturating_mul(2)),
        ReshardSendGate::TenSeconds => SHARD_UPDATE_DURATION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row of §14.1: (name, prev, in, out, dropped, outDuration, backlog, expected).
    type Row = (&'static str, u32, f64, f64, f64, f64, f64, u32);

    /// §14.1 `TestCalculateDesiredShardsDetail`.
    const DETAIL: &[Row] = &[
        ("nothing in or out 1", 1, 0.0, 0.0, 0.0, 0.0, 0.0, 1),
        ("nothing in or out 10", 10, 0.0, 0.0, 0.0, 0.0, 0.0, 10),
        ("steady throughput", 1, 10.0, 10.0, 0.0, 1.0, 0.0, 1),
        ("scale down", 10, 10.0, 10.0, 0.0, 5.0, 0.0, 5),
        ("scale down constrained", 7, 10.0, 10.0, 0.0, 5.0, 0.0, 7),
        ("scale up", 1, 10.0, 10.0, 0.0, 10.0, 0.0, 10),
        ("scale up constrained", 8, 10.0, 10.0, 0.0, 10.0, 0.0, 8),
        ("backlogged 20s", 2, 10.0, 10.0, 0.0, 2.0, 20.0, 4),
        ("backlogged 90s", 4, 10.0, 10.0, 0.0, 4.0, 90.0, 22),
        ("backlog reduced", 22, 10.0, 20.0, 0.0, 4.0, 10.0, 3),
        ("backlog eliminated", 3, 10.0, 10.0, 0.0, 2.0, 0.0, 2),
        ("slight slowdown", 1, 10.0, 10.0, 0.0, 1.2, 0.0, 2),
        ("bigger slowdown", 1, 10.0, 10.0, 0.0, 1.4, 0.0, 2),
        ("speed up", 2, 10.0, 10.0, 0.0, 1.2, 0.0, 2),
        ("speed up more", 2, 10.0, 10.0, 0.0, 0.9, 0.0, 1),
        ("marginal decision A", 3, 10.0, 10.0, 0.0, 2.01, 0.0, 3),
        ("marginal decision B", 3, 10.0, 10.0, 0.0, 1.99, 0.0, 2),
    ];

    /// Seeds each EWMA with one tick's worth of events, exactly like the Go test.
    fn ewma_at(rate_per_sec: f64) -> Ewma {
        let mut e = Ewma::default();
        e.incr((rate_per_sec * 10.0).round() as u64);
        e.tick();
        e
    }

    #[test]
    fn desired_shards_test_vectors_both_versions() {
        for max_shards in [200, 50] {
            for &(name, prev, inr, out, dropped, dur, backlog, want) in DETAIL {
                // dataOutDuration counts nanoseconds, as in Go.
                let mut d = Ewma::default();
                d.incr((dur * 10.0 * 1e9).round() as u64);
                d.tick();
                let got = desired_shards(&ShardInputs {
                    current: prev,
                    in_rate: ewma_at(inr).rate(),
                    out_rate: ewma_at(out).rate(),
                    dropped_rate: ewma_at(dropped).rate(),
                    out_duration: d.rate() / 1e9,
                    delay_secs: backlog,
                    min_shards: 1,
                    max_shards,
                });
                assert_eq!(got.shards, want, "{name} (max_shards {max_shards})");
            }
        }
    }

    /// §14.2: the derived trajectory of `TestCalculateDesiredShards` (v2.42: 1→75→11; v3: 1→19→3).
    #[test]
    fn scenario_trajectory_matches_derivation() {
        for (msps, max_shards, want) in [(500u64, 200u32, [75u32, 75, 11, 11]), (2000, 50, [19, 19, 3, 3])] {
            let start = 1_700_000_000.0f64;
            let (mut din, mut dout, mut ddur, ddrop) =
                (Ewma::default(), Ewma::default(), Ewma::default(), Ewma::default());
            let mut shards = 1u32;
            let mut pending: u64 = 0;
            let mut highest_sent = 0.0f64;
            let mut seen = Vec::new();
            let mut t = 0u64;
            while t <= 15 * 60 {
                pending += 500_000;
                din.incr(500_000);
                din.tick();
                let highest_recv = start + t as f64;
                if t >= 120 {
                    let sent = (u64::from(shards) * msps * 100).min(pending);
                    pending -= sent;
                    dout.incr(sent);
                    ddur.incr(u64::from(shards) * 10 * 1_000_000_000);
                    highest_sent = start + t as f64 - (pending / 50_000) as f64;
                }
                dout.tick();
                ddur.tick();
                let mut dd = ddrop.clone();
                dd.tick();
                let dec = desired_shards(&ShardInputs {
                    current: shards,
                    in_rate: din.rate(),
                    out_rate: dout.rate(),
                    dropped_rate: dd.rate(),
                    out_duration: ddur.rate() / 1e9,
                    delay_secs: highest_recv - highest_sent,
                    min_shards: 1,
                    max_shards,
                });
                if t < 120 {
                    assert_eq!(dec.shards, 1, "no output yet at t={t}");
                } else if seen.len() < 4 {
                    seen.push(dec.shards);
                }
                shards = dec.shards;
                t += 10;
            }
            assert_eq!(seen, want, "msps {msps}");
            assert_eq!(pending, 0);
        }
    }

    #[test]
    fn gate_matches_should_reshard_tests() {
        // §14.3 v2.42: last send 15 s ago with 2×5 s threshold: refused; just now: allowed.
        let now = 1_700_000_000u64;
        let g = |last: u64, disable: u64| Gate {
            last_send_unix: last,
            now_unix: now,
            min_send_unix: now - 10,
            disable_until_unix: disable,
        };
        assert_eq!(g(now - 15, 0).check(Profile::V2_42), Err(Skip::NoRecentSend));
        assert_eq!(g(now, 0).check(Profile::V2_42), Ok(()));
        // v3: a recoverable error with Retry-After 1 s disables resharding for 2 s.
        assert_eq!(g(now, now + 2).check(Profile::V3), Err(Skip::DisabledAfterRetry));
        assert_eq!(g(now, now + 2).check(Profile::V2_42), Ok(()), "v2.42 has no such rule");
        assert_eq!(g(now, now).check(Profile::V3), Ok(()));
    }
}
