//! The model constants a user may not know, with the range of values they plausibly take.
//!
//! A forecast must not hang on a default nobody checked: `tsdb.wal_bytes_per_sample` decides
//! how many WAL segments a block range holds, and with it whether a long outage loses data.
//! Each constant a scenario leaves unset is varied over its range by the robust answer
//! ([`crate::robust`]); one the user set is theirs and stays. The ranges and their sources
//! are documented in `docs/scenario.md`.

use sim_core::config::{IncidentKind, SenderMode, SimConfig};
use sim_core::time::SimDuration;

/// How a constant's values are written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A plain number (bytes per sample).
    Number,
    /// A duration, stored in seconds.
    Seconds,
}

/// A model constant with its plausible values.
#[derive(Clone, Copy, Debug)]
pub struct Constant {
    /// The scenario key.
    pub key: &'static str,
    /// How values are written.
    pub unit: Unit,
    /// The values tried besides the scenario's own, low to high.
    pub values: &'static [f64],
    /// Where the range comes from.
    pub source: &'static str,
    get: fn(&SimConfig) -> f64,
    set: fn(&mut SimConfig, f64),
    /// `Some(why)` when the constant cannot change this scenario's losses.
    inert: fn(&SimConfig) -> Option<&'static str>,
}

impl Constant {
    /// The scenario's value.
    pub fn get(&self, cfg: &SimConfig) -> f64 {
        (self.get)(cfg)
    }

    /// `cfg` with the constant at `value`.
    pub fn set(&self, cfg: &mut SimConfig, value: f64) {
        (self.set)(cfg, value)
    }

    /// Why varying it cannot change this scenario's losses, if it cannot.
    pub fn inert(&self, cfg: &SimConfig) -> Option<&'static str> {
        // vmagent has no WAL, shards or resharding: only the bytes of its blocks (with a disk
        // cap or a rate limit) and the client's time per attempt reach its model.
        if let SenderMode::Vmagent(v) = &cfg.sender.mode {
            return match self.key {
                "sender.request_overhead" => None,
                "workload.wire_bytes_per_sample" if v.effective_disk_cap() > 0 || v.rate_limit > 0 => None,
                "workload.wire_bytes_per_sample" => Some(
                    "vmagent's losses depend on block bytes only through a disk cap or a rate limit, and this \
                     scenario has neither",
                ),
                _ => Some("a constant of the Prometheus sender; the vmagent model does not use it"),
            };
        }
        (self.inert)(cfg)
    }
}

fn secs(d: SimDuration) -> f64 {
    d.as_secs_f64()
}

fn has_body_limit(cfg: &SimConfig) -> bool {
    cfg.receiver.incidents.iter().any(|i| matches!(&i.kind, IncidentKind::Proxy(p) if p.max_body_bytes.is_some()))
}

/// Every model constant the robust answer varies, in the order it reports them.
pub const CONSTANTS: [Constant; 6] = [
    Constant {
        key: "tsdb.wal_bytes_per_sample",
        unit: Unit::Number,
        values: &[6.3, 11.4],
        source: "Prometheus 2.42 with WAL compression (the default), measured: 6.3 small integers or \
                 constants, 7.4 classic histograms, 9.2 a realistic mix, 10.5–11 counters, 11.1–11.4 \
                 random gauges; 11–12 with compression off (set it then)",
        get: |c| c.tsdb.wal_bytes_per_sample,
        set: |c, v| c.tsdb.wal_bytes_per_sample = v,
        inert: |_| None,
    },
    Constant {
        key: "sender.request_overhead",
        unit: Unit::Seconds,
        values: &[0.0008, 0.02],
        source: "0.8–4 ms measured against Prometheus 2.42 over loopback, by request size \
                 (docs/fidelity.md); 20 ms covers a TLS proxy or a nearby region (set it for a remote one)",
        get: |c| secs(c.sender.request_overhead),
        set: |c, v| c.sender.request_overhead = SimDuration::from_secs_f64(v),
        inert: |_| None,
    },
    Constant {
        key: "sender.cpu_us_per_sample",
        unit: Unit::Number,
        values: &[1.3, 1.7],
        source: "1.3–1.7 µs per sample measured on Prometheus 2.42 during catch-ups",
        get: |c| c.sender.cpu_per_sample.as_secs_f64() * 1e6,
        set: |c, v| c.sender.cpu_per_sample = SimDuration::from_secs_f64(v / 1e6),
        inert: |_| None,
    },
    Constant {
        key: "sender.cpu_cores",
        unit: Unit::Number,
        values: &[1.0, 8.0],
        source: "the cores Prometheus's remote write gets: from one busy core to a large machine \
                 (set it when known)",
        get: |c| c.sender.cpu_cores,
        set: |c, v| c.sender.cpu_cores = v,
        inert: |_| None,
    },
    Constant {
        key: "sender.reshard_tick_offset",
        unit: Unit::Seconds,
        values: &[5.0],
        source: "the phase between two independent 10 s tickers of Prometheus: anything from 0 to 10 s",
        get: |c| secs(c.sender.reshard_tick_offset),
        set: |c, v| c.sender.reshard_tick_offset = SimDuration::from_secs_f64(v),
        inert: |_| None,
    },
    Constant {
        key: "workload.wire_bytes_per_sample",
        unit: Unit::Number,
        values: &[11.5, 35.0],
        source: "measured on Prometheus 2.42: 11.5 small integers, 19.3 node-exporter data, 23.6 \
                 constants, 27–35 realistic label sets",
        get: |c| c.workload.wire_bytes_per_sample,
        set: |c, v| c.workload.wire_bytes_per_sample = v,
        inert: |c| {
            (!has_body_limit(c)).then_some(
                "only bytes_total, the send-buffer estimate and a proxy's body limit depend on it, and this \
                 scenario has no body limit",
            )
        },
    },
];

/// The constant named `key`.
pub fn constant(key: &str) -> Option<&'static Constant> {
    CONSTANTS.iter().find(|c| c.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::profile::Profile;

    #[test]
    fn every_constant_round_trips_and_its_values_are_valid() {
        for k in &CONSTANTS {
            let mut c = SimConfig::baseline(Profile::V3);
            for &v in k.values {
                k.set(&mut c, v);
                assert!((k.get(&c) - v).abs() < 1e-9, "{}", k.key);
                c.validate().unwrap_or_else(|e| panic!("{}: {e}", k.key));
            }
            assert!(k.values.windows(2).all(|w| w[0] < w[1]), "{}: low to high", k.key);
        }
        assert!(constant("workload.wire_bytes_per_sample").unwrap().inert(&SimConfig::baseline(Profile::V3)).is_some());
    }
}
