//! The engine's per-event building blocks, one at a time: the event queue, the shard
//! min-trees, the workload's arrival function, the receiver's answer (with its latency
//! draw) and the latency histogram. `cargo bench -p sim-core --bench hot_paths`.
//!
//! Each is measured at the sizes of `bench-1m-24h` (1,000 targets, 1,005,000 samples per
//! 15 s, tens of shards, a few dozen pending events); `benches/engine.rs` measures them
//! together, as events per second of a whole run.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::config::{Latency, ReceiverConfig, SimConfig, WorkloadConfig};
use sim_core::event::EventQueue;
use sim_core::fault::{Request, Sampler};
use sim_core::histogram::Histogram;
use sim_core::mintree::MinTree;
use sim_core::profile::Profile;
use sim_core::receiver::Receiver;
use sim_core::rng::{Rng, Stream};
use sim_core::time::{SimDuration, SimTime};
use sim_core::workload::Workload;
use std::hint::black_box;

const OPS: u64 = 10_000;

fn workload() -> WorkloadConfig {
    let mut w = SimConfig::baseline(Profile::V3).workload;
    w.series = 1_000_000;
    w.targets = 1000;
    w
}

fn receiver() -> ReceiverConfig {
    let mut r = SimConfig::baseline(Profile::V3).receiver;
    r.latency = Latency::LogNormal { median: SimDuration::from_millis(30), p99: SimDuration::from_millis(250) };
    r
}

/// A pseudo-random sequence, the same on every run.
fn steps(n: u64) -> Vec<u64> {
    let mut rng = Rng::new(7, Stream::Workload);
    (0..n).map(|_| rng.below(1 << 20)).collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("hot_paths");
    g.throughput(Throughput::Elements(OPS));
    let jitter = steps(OPS);

    // A queue holding 48 events (a few per shard plus the ticks), one pop and one push per
    // event, as in the steady state of the engine.
    g.bench_function("event_queue_pop_push_48", |b| {
        b.iter_batched_ref(
            || {
                let mut q = EventQueue::new();
                for (i, j) in jitter.iter().take(48).enumerate() {
                    q.push(SimTime(*j), i as u32);
                }
                q
            },
            |q| {
                for j in &jitter {
                    let (t, e) = q.pop().expect("never empty");
                    q.push(SimTime(t.nanos() + j), e);
                }
            },
            BatchSize::SmallInput,
        )
    });

    g.bench_function("mintree_set_min_50", |b| {
        let mut t = MinTree::new(50);
        b.iter(|| {
            for (i, j) in jitter.iter().enumerate() {
                t.set(i % 50, *j);
                black_box(t.min());
            }
        })
    });

    let w = Workload::new(&workload(), 1);
    g.bench_function("workload_timestamp_of", |b| {
        b.iter(|| {
            let mut p = 0u64;
            for j in &jitter {
                p += j;
                black_box(w.timestamp_of(p));
            }
        })
    });
    g.bench_function("workload_committed_by", |b| {
        b.iter(|| {
            let mut t = 0u64;
            for j in &jitter {
                t += j * 50;
                black_box(w.committed_by(SimTime(t)));
            }
        })
    });

    let sampler = Sampler::new(&receiver().latency);
    g.bench_function("latency_sample_lognormal", |b| {
        let mut rng = Rng::new(1, Stream::ReceiverLatency);
        b.iter(|| {
            for _ in 0..OPS {
                black_box(sampler.sample(&mut rng));
            }
        })
    });

    g.bench_function("receiver_handle_2000_samples", |b| {
        let mut rx = Receiver::new(&receiver(), 1, SimDuration::from_hours(24));
        let mut batch = 0;
        b.iter(|| {
            for j in &jitter {
                batch += 1;
                let req = Request {
                    batch,
                    attempt: 0,
                    samples: 2000,
                    bytes: 2000 * 25,
                    client_timeout: SimDuration::from_secs(30),
                };
                black_box(rx.handle(&req, SimTime(batch * 1_000_000 + j)));
                rx.batch_done(batch);
            }
        })
    });

    g.bench_function("histogram_add", |b| {
        let mut h = Histogram::default();
        b.iter(|| {
            for j in &jitter {
                h.add(30_000_000 + j * 64, 500);
            }
            black_box(h.count())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
