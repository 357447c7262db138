//! `rwsim bench`: how fast and how small the simulator is, measured on a real scenario.
//!
//! Wall-clock time is measured here, at the edge; the model never sees it.

use super::{CliError, load};
use crate::cli::BenchArgs;
use std::process::ExitCode;
use std::time::Instant;

/// Peak resident set size of this process (Linux `VmHWM`), in bytes.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

pub fn run(a: BenchArgs) -> Result<ExitCode, CliError> {
    let mut scenario = load(&a.scenario)?;
    if let Some(d) = &a.duration {
        let d = scenarios::units::parse_duration(d).map_err(|e| CliError::Usage(format!("--duration: {e}")))?;
        scenario.config.duration = d;
    }
    if a.runs == 0 {
        return Err(CliError::Usage("--runs must be at least 1".into()));
    }
    let cfg = &scenario.config;
    let sim = |cfg| sim_core::simulate(cfg, &mut ()).map_err(|e| CliError::Sim(scenario.origin.clone(), e));
    let warm = sim(cfg)?;
    let mut walls = Vec::with_capacity(a.runs as usize);
    for _ in 0..a.runs {
        let t0 = Instant::now();
        let r = sim(cfg)?;
        walls.push(t0.elapsed().as_secs_f64());
        assert_eq!(r.events_processed, warm.events_processed, "runs of one scenario are identical");
    }
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    let events = warm.events_processed as f64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("scenario            {} ({} simulated)", scenario.name, cfg.duration);
    println!("machine             {cores} cores available; the simulation runs on one");
    println!("runs                {} timed after 1 warm-up", a.runs);
    println!("wall (min/median/max) {:.3}s / {:.3}s / {:.3}s", walls[0], median, walls[walls.len() - 1]);
    println!("events              {}", warm.events_processed);
    println!("events/s (median)   {:.2e}", events / median);
    println!("simulated s per wall s (median) {:.0}", cfg.duration.as_secs_f64() / median);
    match peak_rss_bytes() {
        Some(b) => println!("peak RSS            {:.1} MiB", b as f64 / (1 << 20) as f64),
        None => println!("peak RSS            unavailable (no /proc/self/status)"),
    }
    Ok(ExitCode::SUCCESS)
}
