//! Engine throughput: events per second on the 1M-series workload of `bench-1m-24h`.
//!
//! `cargo bench -p sim-core --bench engine`. The full 24-hour scenario, with wall time and
//! peak RSS, is `rwsim bench` (see the README for recorded numbers and the machine).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim_core::config::{FaultWindow, Latency, Response, SimConfig};
use sim_core::profile::Profile;
use sim_core::time::SimDuration;
use std::hint::black_box;

/// One simulated hour of 1,000,000 series @15s from 1000 targets, Prometheus 3.x defaults.
fn one_million_series(hours: u64, outage: bool) -> SimConfig {
    let mut c = SimConfig::baseline(Profile::V3);
    c.duration = SimDuration::from_hours(hours);
    c.workload.series = 1_000_000;
    c.workload.targets = 1000;
    c.receiver.latency =
        Latency::LogNormal { median: SimDuration::from_millis(30), p99: SimDuration::from_millis(250) };
    if outage {
        c.receiver.faults.push(FaultWindow {
            start: SimDuration::from_mins(20),
            end: SimDuration::from_mins(40),
            response: Response::Status(500),
            probability: 1.0,
            retry_after: None,
            latency: None,
        });
    }
    c
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    for (name, cfg) in
        [("1m-series-1h-healthy", one_million_series(1, false)), ("1m-series-1h-outage", one_million_series(1, true))]
    {
        let events = sim_core::simulate(&cfg, &mut ()).expect("valid").events_processed;
        g.throughput(Throughput::Elements(events));
        g.bench_function(name, |b| b.iter(|| sim_core::simulate(black_box(&cfg), &mut ()).expect("valid")));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
