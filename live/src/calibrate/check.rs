//! `--check`: the calibrated scenario, run without a fault, against the live queue.
//!
//! With the constants measured, the model's steady state should be the live one: the same
//! shards and desired shards (resharding follows the time per sample, §9.2), about the same
//! pending samples, the same request duration and bytes per second. A mismatch beyond the
//! tolerance points at what was measured wrong, or at what the model leaves out.

use super::measure::LiveState;
use sim_core::config::SimConfig;
use sim_core::observer::RowRecorder;
use sim_core::time::SimDuration;

/// One comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRow {
    /// What is compared.
    pub what: &'static str,
    /// The model's steady-state value.
    pub model: f64,
    /// The live value (mean over the window).
    pub live: f64,
    /// The tolerance, in words.
    pub tolerance: &'static str,
    /// Within tolerance.
    pub ok: bool,
    /// The likely cause of a mismatch.
    pub cause: &'static str,
}

/// Length of the simulated run; the first third is warm-up.
pub const CHECK_RUN: SimDuration = SimDuration::from_mins(30);

/// Runs `cfg` without faults or incidents for [`CHECK_RUN`] and compares its steady state
/// (the last two thirds) with `live`. Quantities the live side lacks are left out.
pub fn check(cfg: &SimConfig, live: &LiveState) -> Result<Vec<CheckRow>, sim_core::SimError> {
    let mut cfg = cfg.clone();
    cfg.duration = CHECK_RUN;
    cfg.receiver.faults.clear();
    cfg.receiver.incidents.clear();
    cfg.workload.changes.clear();
    cfg.output_step = SimDuration::from_secs(10);
    let mut rec = RowRecorder::default();
    sim_core::simulate(&cfg, &mut rec)?;
    let warm = CHECK_RUN.as_secs_f64() / 3.0;
    let rows: Vec<_> = rec.rows.iter().filter(|r| r.t_seconds >= warm).collect();
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else { return Ok(Vec::new()) };
    let n = rows.len() as f64;
    let mean = |f: &dyn Fn(&sim_core::metrics::MetricsRow) -> f64| rows.iter().map(|r| f(r)).sum::<f64>() / n;
    let dt = last.t_seconds - first.t_seconds;
    let model_shards = mean(&|r| f64::from(r.shards));
    let model_desired = mean(&|r| r.shards_desired);
    let model_pending = mean(&|r| r.samples_pending as f64);
    let dcount = (last.sent_batch_duration_seconds_count - first.sent_batch_duration_seconds_count) as f64;
    let model_batch = (last.sent_batch_duration_seconds_sum - first.sent_batch_duration_seconds_sum) / dcount.max(1.0);
    let model_bytes = (last.bytes_total - first.bytes_total) as f64 / dt.max(1.0);
    let rel = |m: f64, l: f64, tol: f64, abs: f64| (m - l).abs() <= abs.max(tol * l.abs());
    let mut out = Vec::new();
    if let Some(l) = live.shards {
        out.push(CheckRow {
            what: "shards",
            model: model_shards,
            live: l,
            tolerance: "±30% or ±1",
            ok: rel(model_shards, l, 0.3, 1.0),
            cause: "the time per sample (the latency fit) or the sample rate; or the live queue kept shards after a \
                    burst (Prometheus downshards only below 70% of the desired count, §9.2)",
        });
    }
    if let Some(l) = live.desired {
        out.push(CheckRow {
            what: "desired shards",
            model: model_desired,
            live: l,
            tolerance: "±30% or ±0.5",
            ok: rel(model_desired, l, 0.3, 0.5),
            cause: "desired = time per sample × rate: the request duration (latency fit, receiver queueing under \
                    load) or the sample rate (rules, write_relabel_configs)",
        });
    }
    if let Some(l) = live.pending {
        out.push(CheckRow {
            what: "pending samples",
            model: model_pending,
            live: l,
            tolerance: "±50% or ±max_samples_per_send",
            ok: rel(model_pending, l, 0.5, f64::from(cfg.remote_write.queue.max_samples_per_send)),
            cause: "how long samples wait for a full batch or batch_send_deadline: the targets' scrape phases \
                    and the shard count",
        });
    }
    if let Some(l) = live.batch_duration_s {
        out.push(CheckRow {
            what: "request duration (s)",
            model: model_batch,
            live: l,
            tolerance: "±20%",
            ok: rel(model_batch, l, 0.2, 0.0005),
            cause: "the latency fit: a receiver whose answer time grows with load (workers, queueing), or failed \
                    attempts in the window",
        });
    }
    if let Some(l) = live.bytes_per_s {
        out.push(CheckRow {
            what: "bytes/s",
            model: model_bytes,
            live: l,
            tolerance: "±10%",
            ok: rel(model_bytes, l, 0.1, 1.0),
            cause: "wire_bytes_per_sample or the sample rate (samples dropped by write_relabel_configs, \
                    exemplars and histograms are not modelled)",
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::profile::Profile;

    #[test]
    fn a_model_agrees_with_its_own_steady_state_and_not_with_a_different_one() {
        let cfg = SimConfig::baseline(Profile::V2_42);
        let first = check(&cfg, &LiveState::default()).unwrap();
        assert!(first.is_empty(), "nothing live to compare");
        // The model's own values, read back: every row agrees.
        let mut rec = RowRecorder::default();
        let mut c = cfg.clone();
        c.duration = CHECK_RUN;
        c.output_step = SimDuration::from_secs(10);
        sim_core::simulate(&c, &mut rec).unwrap();
        let last = rec.rows.last().unwrap();
        let live = LiveState {
            shards: Some(f64::from(last.shards)),
            desired: Some(last.shards_desired),
            pending: None,
            batch_duration_s: Some(
                last.sent_batch_duration_seconds_sum / last.sent_batch_duration_seconds_count as f64,
            ),
            bytes_per_s: Some(last.bytes_total as f64 / last.t_seconds),
        };
        let rows = check(&cfg, &live).unwrap();
        assert_eq!(rows.len(), 4);
        assert!(rows.iter().all(|r| r.ok), "{rows:#?}");
        // A live queue twice as slow per request: the request duration row says so.
        let slow = LiveState { batch_duration_s: live.batch_duration_s.map(|d| d * 2.0), ..live };
        let rows = check(&cfg, &slow).unwrap();
        let bad: Vec<&str> = rows.iter().filter(|r| !r.ok).map(|r| r.what).collect();
        assert_eq!(bad, vec!["request duration (s)"]);
    }
}
