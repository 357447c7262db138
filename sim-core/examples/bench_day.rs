//! `bench-1m-24h`'s workload on the engine alone, for profilers: builds in seconds (only
//! sim-core), where the `rwsim` binary takes minutes to link.
//!
//! ```text
//! cargo build --release -p sim-core --example bench_day
//! valgrind --tool=callgrind target/release/examples/bench_day 24      # instructions
//! perf record -g target/release/examples/bench_day 24                 # time
//! FULL=1 target/release/examples/bench_day 4 3 > after.txt            # every result field
//! ```
//!
//! Arguments: simulated hours (default 24) and seed (default 1). The outage is 06:00–09:00
//! as in the scenario; runs shorter than 12 h put it at a quarter to a half of the run.
//! `FULL=1` prints the whole `RunResult`, to compare runs byte for byte before and after an
//! engine change.

use sim_core::config::{FaultWindow, Latency, Response, SimConfig};
use sim_core::profile::Profile;
use sim_core::time::SimDuration;

fn main() {
    let arg = |i: usize, default: u64| std::env::args().nth(i).map_or(default, |s| s.parse().expect("a number"));
    let (hours, seed) = (arg(1, 24), arg(2, 1));
    let mut c = SimConfig::baseline(Profile::V3);
    c.name = "bench-1m-24h".into();
    c.seed = seed;
    c.duration = SimDuration::from_hours(hours);
    c.workload.series = 1_000_000;
    c.workload.targets = 1000;
    c.receiver.latency =
        Latency::LogNormal { median: SimDuration::from_millis(30), p99: SimDuration::from_millis(250) };
    let (start, end) = if hours < 12 {
        (SimDuration::from_mins(hours * 15), SimDuration::from_mins(hours * 30))
    } else {
        (SimDuration::from_hours(6), SimDuration::from_hours(9))
    };
    c.receiver.faults.push(FaultWindow {
        start,
        end,
        response: Response::Status(500),
        probability: 1.0,
        retry_after: None,
        latency: None,
    });
    let r = sim_core::simulate(&c, &mut ()).expect("a valid configuration");
    if std::env::var_os("FULL").is_some() {
        println!("{r:#?}");
    }
    println!(
        "events {} delivered {} lost to WAL truncation {} max lag {} s",
        r.events_processed, r.samples.delivered, r.samples.dropped.wal_truncation, r.lag_seconds.max
    );
}
