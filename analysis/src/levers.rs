//! The levers besides `queue_config`: what else would meet the targets when no swept setting
//! does, each evaluated by running it.
//!
//! A lever changes the closest setting's configuration in one way — a flag of the sender
//! (`--storage.tsdb.wal-segment-size`, `--storage.tsdb.min-block-duration`, an agent's
//! `--storage.agent.wal-truncate-frequency`, vmagent's `-remoteWrite.maxDiskUsagePerURL`),
//! an attribute of Alloy's `wal` block, a queue key (`sample_age_limit`), the workload
//! (fewer series) or the receiver (faster) — and is run
//! under every swept condition, like a setting: it is judged by its worst case. The outage
//! budget says how long an outage the setting survives as it is. Each lever carries its cost
//! (memory, disk, freshness, capacity) so a recommendation can weigh it. Only levers the
//! sender has are tried: Alloy has no segment size and no block range, an agent no block
//! range, vmagent no WAL and no `queue_config`.

use crate::budget::{self, Budget};
use crate::phase;
use crate::settings::Sender;
use crate::sweep::{RunMetrics, Targets};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sim_core::SimError;
use sim_core::config::{IncidentKind, Latency, SenderMode, SimConfig};
use sim_core::profile::Profile;
use sim_core::time::SimDuration;

/// Head chunk bytes per sample used for the memory cost of a longer block range (Prometheus's
/// compressed chunks take about 1.3 bytes per sample for typical data).
pub const HEAD_BYTES_PER_SAMPLE: f64 = 1.3;

/// Seeds each lever runs every condition with (the condition's own and derived ones).
pub const LEVER_SEEDS: usize = 3;

/// How a lever is applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// A command-line flag of the sender, e.g. `--storage.tsdb.wal-segment-size=256MB`
    /// (Prometheus) or `-remoteWrite.maxDiskUsagePerURL=0` (vmagent).
    Flag(String),
    /// An attribute of the `wal` block of Alloy's `prometheus.remote_write`, its value in
    /// Alloy syntax (`"4h"`).
    AlloyWal {
        /// The attribute.
        key: String,
        /// The value.
        value: String,
    },
    /// A `queue_config` key and its value in `prometheus.yml` spelling.
    QueueConfig {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Fewer scraped series.
    Series(u64),
    /// A faster receiver, in words (what was doubled or halved).
    Receiver(String),
}

/// What a lever costs besides its effect, as far as the model can say.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Extra memory of the Prometheus process, bytes (estimate).
    pub memory_bytes: Option<u64>,
    /// Extra disk, bytes (estimate).
    pub disk_bytes: Option<u64>,
    /// Data no longer sent once older than this, seconds (`sample_age_limit`).
    pub freshness_seconds: Option<f64>,
    /// What else it costs, in words.
    pub note: String,
}

/// A lever, evaluated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lever {
    /// What it does.
    pub how: How,
    /// Its cost.
    pub cost: Cost,
    /// Worst loss fraction over the conditions with the lever.
    pub loss_fraction: f64,
    /// Worst p99 delivery latency, seconds.
    pub delivery_latency_p99_seconds: f64,
    /// Worst peak queue memory, bytes.
    pub queue_memory_bytes_peak: u64,
    /// Whether its worst case meets every target.
    pub meets: bool,
}

/// Every lever tried, and the outage budget of the setting as it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Levers {
    /// The levers, in the order tried; for levers with several strengths (series, age
    /// limit), the gentlest that meets the targets, else the strongest.
    pub levers: Vec<Lever>,
    /// The outage budget of the closest setting (its first condition), when it has an
    /// outage; its `scenario_length_seconds` is the longest outage among the conditions.
    pub budget: Option<Budget>,
    /// Simulations run.
    pub runs: usize,
    /// The sender the levers are for (absent from the file for a Prometheus server).
    #[serde(default, skip_serializing_if = "Sender::is_server")]
    pub sender: Sender,
}

/// Applies a lever at a strength.
type Apply = for<'a> fn(&'a mut SimConfig, f64);

/// One way to change a configuration, at several strengths (gentlest first).
struct Candidate {
    steps: Vec<(How, Cost, Apply, f64)>,
}

fn samples_per_second(c: &SimConfig) -> f64 {
    let w = &c.workload;
    let per = w.series + if w.report_series { 5 * u64::from(w.targets) } else { 0 };
    per as f64 / w.scrape_interval.as_secs_f64()
}

fn mib(b: u64) -> u64 {
    b / (1 << 20)
}

/// Disk for `span` more of WAL at the scrape's rate, bytes.
fn wal_bytes(c: &SimConfig, span: SimDuration) -> u64 {
    (span.as_secs_f64() * samples_per_second(c) * c.tsdb.wal_bytes_per_sample) as u64
}

/// The steps of a WAL truncation period lever: the period doubled, then tripled. `how`
/// spells the lever for the sender, `also` adds to its cost note; `apply` sets the period.
fn period_steps(
    c: &SimConfig,
    period: SimDuration,
    how: fn(SimDuration) -> How,
    also: &str,
    apply: Apply,
) -> Candidate {
    let step = |k: u64| {
        let new = SimDuration(period.nanos() * k);
        (
            how(new),
            Cost {
                disk_bytes: Some(wal_bytes(c, SimDuration(new.nanos() - period.nanos()))),
                note: format!(
                    "the WAL is truncated every {new} instead of every {period}: up to that much more WAL on \
                     disk, and a longer WAL replay at restart{also}"
                ),
                ..Cost::default()
            },
            apply,
            new.as_secs_f64(),
        )
    };
    Candidate { steps: vec![step(2), step(3)] }
}

/// The WAL levers of `c`'s sender: a Prometheus server's segment size and block range, an
/// agent's segment size and truncation period, Alloy's truncation period and
/// `max_keepalive_time`, vmagent's disk-queue cap.
fn wal_candidates(c: &SimConfig) -> Vec<Candidate> {
    let mut out = Vec::new();
    let seg = c.tsdb.wal_segment_size;
    let max_seg = 256u64 << 20;
    let segment_flag = match c.sender.mode {
        SenderMode::Server => Some("--storage.tsdb.wal-segment-size"),
        SenderMode::Agent(_) => Some("--storage.agent.wal-segment-size"),
        SenderMode::Alloy(_) | SenderMode::Vmagent(_) => None,
    };
    if let Some(flag) = segment_flag.filter(|_| seg < max_seg) {
        out.push(Candidate {
            steps: vec![(
                How::Flag(format!("{flag}={}MB", mib(max_seg))),
                Cost {
                    disk_bytes: Some(2 * (max_seg - seg)),
                    note: format!(
                        "up to two more segments' worth of WAL on disk (segments of {} MiB instead of {} MiB); \
                         no memory; a longer WAL replay at restart; a hidden flag (it works, but --help does not \
                         list it)",
                        mib(max_seg),
                        mib(seg)
                    ),
                    ..Cost::default()
                },
                (|c: &mut SimConfig, v: f64| c.tsdb.wal_segment_size = v as u64) as Apply,
                max_seg as f64,
            )],
        });
    }
    match &c.sender.mode {
        SenderMode::Server => out.push(block_candidate(c)),
        SenderMode::Agent(a) => out.push(period_steps(
            c,
            a.wal_truncate_frequency,
            |d| How::Flag(format!("--storage.agent.wal-truncate-frequency={}", crate::sweep::prometheus_duration(d))),
            "; a hidden flag",
            |c, v| {
                if let SenderMode::Agent(a) = &mut c.sender.mode {
                    a.wal_truncate_frequency = SimDuration::from_secs_f64(v);
                }
            },
        )),
        SenderMode::Alloy(a) => {
            out.push(period_steps(
                c,
                a.truncate_frequency,
                |d| How::AlloyWal {
                    key: "truncate_frequency".into(),
                    value: format!("\"{}\"", crate::sweep::prometheus_duration(d)),
                },
                "",
                |c, v| {
                    if let SenderMode::Alloy(a) = &mut c.sender.mode {
                        a.truncate_frequency = SimDuration::from_secs_f64(v);
                    }
                },
            ));
            let keepalive = |k: u64| {
                let new = SimDuration(a.max_keepalive_time.nanos() * k);
                (
                    How::AlloyWal {
                        key: "max_keepalive_time".into(),
                        value: format!("\"{}\"", crate::sweep::prometheus_duration(new)),
                    },
                    Cost {
                        disk_bytes: Some(wal_bytes(c, SimDuration(new.nanos() - a.max_keepalive_time.nanos()))),
                        note: format!(
                            "while nothing at all is sent, Alloy skips truncations for about {} instead of {} \
                             (max_keepalive_time − min_keepalive_time), and the WAL grows meanwhile; it does not \
                             help while the queue still sends (a slow receiver)",
                            SimDuration(new.nanos().saturating_sub(a.min_keepalive_time.nanos())),
                            SimDuration(a.max_keepalive_time.nanos().saturating_sub(a.min_keepalive_time.nanos()))
                        ),
                        ..Cost::default()
                    },
                    (|c: &mut SimConfig, v: f64| {
                        if let SenderMode::Alloy(a) = &mut c.sender.mode {
                            a.max_keepalive_time = SimDuration::from_secs_f64(v);
                        }
                    }) as Apply,
                    new.as_secs_f64(),
                )
            };
            out.push(Candidate { steps: vec![keepalive(2), keepalive(3)] });
        }
        SenderMode::Vmagent(v) if v.max_disk_usage_per_url > 0 => {
            let cap = v.max_disk_usage_per_url;
            let disk = |k: u64| {
                let new = cap.saturating_mul(k);
                (
                    How::Flag(format!(
                        "-remoteWrite.maxDiskUsagePerURL={}",
                        sim_core::sender::vmagent::flags::format_vm_bytes(new)
                    )),
                    Cost {
                        disk_bytes: Some(new - cap),
                        note: format!(
                            "a disk queue of up to {} instead of {}",
                            sim_core::sender::vmagent::flags::format_vm_bytes(new),
                            sim_core::sender::vmagent::flags::format_vm_bytes(cap)
                        ),
                        ..Cost::default()
                    },
                    (|c: &mut SimConfig, v: f64| {
                        if let SenderMode::Vmagent(vm) = &mut c.sender.mode {
                            vm.max_disk_usage_per_url = v as u64;
                        }
                    }) as Apply,
                    new as f64,
                )
            };
            let unlimited = (
                How::Flag("-remoteWrite.maxDiskUsagePerURL=0".into()),
                Cost {
                    note: "no cap (0, vmagent's default): the disk queue holds the whole backlog, as large as the \
                           outage makes it"
                        .into(),
                    ..Cost::default()
                },
                (|c: &mut SimConfig, _: f64| {
                    if let SenderMode::Vmagent(vm) = &mut c.sender.mode {
                        vm.max_disk_usage_per_url = 0;
                    }
                }) as Apply,
                0.0,
            );
            out.push(Candidate { steps: vec![disk(4), disk(16), unlimited] });
        }
        SenderMode::Vmagent(_) => {}
    }
    out
}

/// A server's longer block range (`--storage.tsdb.min-block-duration` doubled, then tripled).
fn block_candidate(c: &SimConfig) -> Candidate {
    let r = c.tsdb.min_block_duration;
    let rate = samples_per_second(c);
    let block_step = |k: u64| {
        let new = SimDuration(r.nanos() * k);
        let extra = (new.as_secs_f64() - r.as_secs_f64()) * 1.5 * rate;
        (
            How::Flag(format!("--storage.tsdb.min-block-duration={new}")),
            Cost {
                memory_bytes: Some((extra * HEAD_BYTES_PER_SAMPLE) as u64),
                disk_bytes: Some((extra * c.tsdb.wal_bytes_per_sample) as u64),
                note: format!(
                    "the head holds up to 1.5 × {new} of samples in memory instead of 1.5 × {r}, and the WAL \
                     on disk grows by the same span; a hidden flag (set --storage.tsdb.max-block-duration \
                     to at least the same)"
                ),
                ..Cost::default()
            },
            (|c: &mut SimConfig, v: f64| c.tsdb.min_block_duration = SimDuration::from_secs_f64(v)) as Apply,
            new.as_secs_f64(),
        )
    };
    Candidate { steps: vec![block_step(2), block_step(3)] }
}

/// The levers that apply to `c` (the closest setting, first condition).
fn candidates(c: &SimConfig) -> Vec<Candidate> {
    let mut out = wal_candidates(c);
    // The span a truncation keeps: the block range of a server, the period of a timer.
    let r = match &c.sender.mode {
        SenderMode::Agent(a) => a.wal_truncate_frequency,
        SenderMode::Alloy(a) => a.truncate_frequency,
        _ => c.tsdb.min_block_duration,
    };
    // vmagent has no queue_config (and so no sample_age_limit).
    if c.profile == Profile::V3 && !matches!(c.sender.mode, SenderMode::Vmagent(_)) {
        let age = |frac: f64| {
            let limit = SimDuration::from_secs((r.as_secs_f64() * frac).round() as u64);
            (
                How::QueueConfig { key: "sample_age_limit".into(), value: crate::sweep::prometheus_duration(limit) },
                Cost {
                    freshness_seconds: Some(limit.as_secs_f64()),
                    note: format!(
                        "samples older than {limit} are dropped instead of sent (counted in \
                         prometheus_remote_storage_samples_dropped_total): after an outage the receiver gets \
                         fresh data first and never the older backlog"
                    ),
                    ..Cost::default()
                },
                (|c: &mut SimConfig, v: f64| c.remote_write.queue.sample_age_limit = SimDuration::from_secs_f64(v))
                    as Apply,
                limit.as_secs_f64(),
            )
        };
        out.push(Candidate { steps: vec![age(0.75), age(0.5), age(0.25)] });
    }
    let series = |f: f64| {
        let n = (c.workload.series as f64 * f).round() as u64;
        (
            How::Series(n),
            Cost {
                note: format!(
                    "{} fewer series ({:.0}% of the scrape dropped by relabelling or never exported)",
                    c.workload.series - n,
                    (1.0 - f) * 100.0
                ),
                ..Cost::default()
            },
            (|c: &mut SimConfig, f: f64| {
                c.workload.series = (c.workload.series as f64 * f).round() as u64;
                for ch in &mut c.workload.changes {
                    ch.series = (ch.series as f64 * f).round() as u64;
                }
            }) as Apply,
            f,
        )
    };
    out.push(Candidate { steps: vec![series(0.75), series(0.5)] });
    let rx = &c.receiver;
    let capped = rx.workers.is_some() || rx.worker_throughput.is_some() || rx.rate_limit.is_some();
    let words = if capped {
        "twice the receiver's capacity (workers, per-worker throughput and rate limit doubled)".to_string()
    } else {
        "a receiver answering in half the time".to_string()
    };
    out.push(Candidate {
        steps: vec![(
            How::Receiver(words),
            Cost { note: "receiver capacity (more ingesters, CPU or a higher tenant limit)".into(), ..Cost::default() },
            (|c: &mut SimConfig, _: f64| {
                let rx = &mut c.receiver;
                if rx.workers.is_some() || rx.worker_throughput.is_some() || rx.rate_limit.is_some() {
                    rx.workers = rx.workers.map(|w| w.saturating_mul(2));
                    rx.worker_throughput = rx.worker_throughput.map(|t| t * 2.0);
                    if let Some(l) = &mut rx.rate_limit {
                        l.samples_per_second *= 2.0;
                        l.burst = l.burst.saturating_mul(2);
                    }
                    for inc in &mut rx.incidents {
                        if let IncidentKind::Throttle(t) = &mut inc.kind {
                            t.samples_per_second *= 2.0;
                            t.burst = t.burst.saturating_mul(2);
                        }
                    }
                } else {
                    let half = |d: SimDuration| SimDuration(d.nanos() / 2);
                    rx.latency = match rx.latency.clone() {
                        Latency::Fixed(d) => Latency::Fixed(half(d)),
                        Latency::LogNormal { median, p99 } => {
                            Latency::LogNormal { median: half(median), p99: half(p99) }
                        }
                        Latency::Exponential { mean } => Latency::Exponential { mean: half(mean) },
                        Latency::Uniform { min, max } => Latency::Uniform { min: half(min), max: half(max) },
                    };
                }
            }) as Apply,
            0.0,
        )],
    });
    out
}

/// Evaluates every lever on `conditions` — the closest setting under each swept condition,
/// seeds included — against `targets`: each lever at each strength runs under every
/// condition with [`LEVER_SEEDS`] seeds, and is judged by its worst case. Also searches the setting's outage budget
/// (coarsely: 4 phases, to 5 minutes) when its first condition has an outage.
pub fn evaluate(conditions: &[SimConfig], targets: &Targets) -> Result<Levers, SimError> {
    let Some(first) = conditions.first() else {
        return Ok(Levers { levers: Vec::new(), budget: None, runs: 0, sender: Sender::Server });
    };
    let cands = candidates(first);
    // Every condition with its own seed and two derived ones: a lever must hold whatever the
    // scrape phases and the receiver's draws, not for one lucky seed.
    let seeded: Vec<SimConfig> = conditions
        .iter()
        .flat_map(|c| {
            (0..LEVER_SEEDS).map(move |i| {
                let mut c = c.clone();
                if i > 0 {
                    c.seed = crate::robust::derived_seed(c.seed, i - 1);
                }
                c
            })
        })
        .collect();
    // Every (candidate, step, condition, seed) run, in one parallel batch.
    let jobs: Vec<(usize, usize, SimConfig)> = cands
        .iter()
        .enumerate()
        .flat_map(|(ci, cand)| {
            let seeded = &seeded;
            cand.steps.iter().enumerate().flat_map(move |(si, (_, _, apply, v))| {
                seeded.iter().map(move |c| {
                    let mut c = c.clone();
                    apply(&mut c, *v);
                    (ci, si, c)
                })
            })
        })
        .collect();
    let metrics: Vec<RunMetrics> = jobs
        .par_iter()
        .map(|(_, _, c)| sim_core::simulate(c, &mut ()).map(|r| RunMetrics::from_result(&r)))
        .collect::<Result<_, _>>()?;
    let mut levers = Vec::new();
    for (ci, cand) in cands.iter().enumerate() {
        let mut chosen = None;
        for (si, (how, cost, _, _)) in cand.steps.iter().enumerate() {
            let runs: Vec<&RunMetrics> =
                jobs.iter().zip(&metrics).filter(|((c, s, _), _)| *c == ci && *s == si).map(|(_, m)| m).collect();
            let worst = |f: fn(&RunMetrics) -> f64| runs.iter().map(|m| f(m)).fold(0.0, f64::max);
            let loss = worst(RunMetrics::loss_fraction);
            let p99 = worst(|m| m.delivery_latency_p99_seconds);
            let mem = worst(|m| m.queue_memory_bytes_peak as f64) as u64;
            let lever = Lever {
                how: how.clone(),
                cost: cost.clone(),
                loss_fraction: loss,
                delivery_latency_p99_seconds: p99,
                queue_memory_bytes_peak: mem,
                meets: targets.meets_values(loss, p99, mem as f64),
            };
            let meets = lever.meets;
            chosen = Some(lever);
            if meets {
                break;
            }
        }
        levers.extend(chosen);
    }
    let mut runs = jobs.len();
    let budget = if phase::outage_start(first).is_some() {
        let mut opts = budget::Options::for_scenario(first);
        opts.phases = 4;
        opts.resolution = SimDuration::from_mins(5);
        opts.step = SimDuration((opts.step.nanos() / opts.resolution.nanos()).max(1) * opts.resolution.nanos());
        opts.max_length = SimDuration(opts.step.nanos() * 16);
        match budget::search(first, &opts) {
            Ok(mut b) => {
                runs += b.runs;
                // The setting has to survive every swept condition: when the outage's length
                // is swept, the first condition holds the shortest, not the one to beat.
                if let Some(longest) = conditions.iter().filter_map(budget::outage_length).max() {
                    b.scenario_length_seconds = longest.as_secs_f64();
                }
                Some(b)
            }
            Err(budget::BudgetError::Sim(e)) => return Err(e),
            Err(_) => None,
        }
    } else {
        None
    };
    Ok(Levers { levers, budget, runs, sender: Sender::of(&first.sender.mode) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::config::{FaultWindow, Response};

    /// A WAL too small for the outage: 20-minute blocks and 10 MiB segments at ~6k samples/s,
    /// an outage of 35 minutes. No queue_config keeps the backlog (it is in the WAL), but a
    /// longer block range does: the lever named is the flag, printed as a flag.
    #[test]
    fn a_flag_is_named_when_only_a_flag_helps() {
        let mut c = SimConfig::baseline(Profile::V2_42);
        c.duration = SimDuration::from_mins(150);
        c.workload.series = 60_000;
        c.workload.targets = 20;
        c.workload.scrape_interval = SimDuration::from_secs(10);
        c.tsdb.min_block_duration = SimDuration::from_mins(20);
        c.tsdb.wal_segment_size = 10 << 20;
        c.receiver.faults.push(FaultWindow {
            start: SimDuration::from_mins(35),
            end: SimDuration::from_mins(70),
            response: Response::Status(503),
            probability: 1.0,
            retry_after: None,
            latency: None,
        });
        let base = RunMetrics::from_result(&sim_core::simulate(&c, &mut ()).unwrap());
        assert!(base.loss_fraction() > 0.0, "the scenario as written loses data");
        let mut big = c.clone();
        big.remote_write.queue.capacity = 500_000;
        let big = RunMetrics::from_result(&sim_core::simulate(&big, &mut ()).unwrap());
        assert!(big.loss_fraction() > 0.0, "200 times the capacity does not help: the backlog is in the WAL");
        let l = evaluate(std::slice::from_ref(&c), &Targets::default()).unwrap();
        let block = l.levers.iter().find(|l| matches!(&l.how, How::Flag(f) if f.contains("min-block-duration")));
        let block = block.expect("the block-duration lever is tried");
        assert!(block.meets, "a longer block range keeps the WAL through the outage: {block:?}");
        assert!(matches!(&block.how, How::Flag(f) if f.starts_with("--storage.tsdb.min-block-duration=")));
        assert!(block.cost.memory_bytes.unwrap_or(0) > 0, "and costs head memory");
        assert!(l.budget.is_some(), "the outage budget of the setting as it is");
    }

    /// The same WAL-bound outage in Alloy: no segment-size or block-range flag is run (Alloy
    /// has neither, and the run would be refused), but its `wal` block's attributes are.
    #[test]
    fn alloy_gets_its_wal_block_and_no_prometheus_flags() {
        let mut c = SimConfig::baseline(Profile::V3);
        c.duration = SimDuration::from_hours(3);
        c.workload.series = 20_000;
        c.workload.targets = 20;
        c.sender.mode = SenderMode::Alloy(sim_core::config::AlloyWal {
            truncate_frequency: SimDuration::from_mins(20),
            min_keepalive_time: SimDuration::from_mins(5),
            max_keepalive_time: SimDuration::from_mins(30),
        });
        c.remote_write.queue = sim_core::config::QueueConfig::defaults_for(c.profile, &c.sender.mode);
        c.receiver.faults.push(FaultWindow {
            start: SimDuration::from_mins(30),
            end: SimDuration::from_hours(2),
            response: Response::Status(503),
            probability: 1.0,
            retry_after: None,
            latency: None,
        });
        let l = evaluate(std::slice::from_ref(&c), &Targets::default()).unwrap();
        assert_eq!(l.sender, Sender::Alloy);
        assert!(!l.levers.iter().any(|x| matches!(&x.how, How::Flag(_))), "{:?}", l.levers);
        let period =
            l.levers.iter().find(|x| matches!(&x.how, How::AlloyWal { key, .. } if key == "truncate_frequency"));
        let period = period.expect("the truncation period is tried");
        assert!(period.meets, "a 40m period keeps the WAL through the outage: {period:?}");
        assert_eq!(period.how, How::AlloyWal { key: "truncate_frequency".into(), value: "\"40m\"".into() });
        assert!(l.levers.iter().any(|x| matches!(&x.how, How::AlloyWal { key, .. } if key == "max_keepalive_time")));
    }
}
