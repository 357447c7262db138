//! sim-core as a library: how long may the receiver be down before data is lost?
//!
//! Builds a scenario in code (300k series every 15 s, Prometheus 3.x defaults), injects a 503
//! outage of growing length starting at 01:00, runs each, and prints what the WAL truncation
//! path costs. Run with `cargo run --release --example outage_budget`.

use sim_core::config::{FaultWindow, Latency, Response, SimConfig};
use sim_core::profile::Profile;
use sim_core::time::SimDuration;

fn main() {
    let mut base = SimConfig::baseline(Profile::V3);
    base.name = "outage-budget".into();
    base.duration = SimDuration::from_hours(12);
    base.workload.series = 300_000;
    base.workload.targets = 300;
    base.receiver.latency =
        Latency::LogNormal { median: SimDuration::from_millis(40), p99: SimDuration::from_millis(400) };

    println!("outage   lost to WAL truncation   delivered   max lag");
    let mut previous_loss = 0;
    for minutes in [15u64, 30, 60, 90, 120, 180, 240] {
        let mut cfg = base.clone();
        cfg.receiver.faults.push(FaultWindow {
            start: SimDuration::from_hours(1),
            end: SimDuration::from_hours(1) + SimDuration::from_mins(minutes),
            response: Response::Status(503),
            probability: 1.0,
            retry_after: None,
            latency: None,
        });
        let r = sim_core::simulate(&cfg, &mut ()).expect("a valid scenario runs");
        assert!(r.conservation_ok, "every sample is accounted for");
        let s = &r.samples;
        let lost = s.dropped.wal_truncation;
        println!(
            "{:>4}m   {:>12} ({:>5.2}%)   {:>6.2}%   {:>7.0}s",
            minutes,
            lost,
            lost as f64 * 100.0 / s.appended as f64,
            s.delivered as f64 * 100.0 / s.appended as f64,
            r.lag_seconds.max
        );
        // 5xx is retried forever: nothing is ever counted as failed.
        assert_eq!(s.failed, 0);
        // A longer outage never loses less.
        assert!(lost >= previous_loss);
        previous_loss = lost;
        if minutes <= 60 {
            assert_eq!(lost, 0, "an hour of outage fits in the WAL at this volume");
        }
    }
    assert!(previous_loss > 0, "four hours of outage outlive the WAL");
}
