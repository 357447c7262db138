//! `rwsim bench`: how fast and how small the simulator is, measured on a real scenario.
//!
//! Wall-clock time is measured here, at the edge; the model never sees it.

use super::{CliError, load};
use crate::cli::BenchArgs;
use std::process::ExitCode;
use std::time::Instant;

/// Most timed runs `--runs` accepts: the walls are kept to take their median, and a typo
/// such as `--runs 4294967295` must fail at once rather than try to allocate gigabytes.
const MAX_RUNS: u32 = 1000;

/// Peak resident set size of this process (Linux `VmHWM`), in bytes.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `n` with a comma every three digits: `3546237` → `3,546,237`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Checks `--runs` before anything is simulated.
fn check_runs(runs: u32) -> Result<(), CliError> {
    if runs == 0 {
        return Err(CliError::Usage("--runs must be at least 1".into()));
    }
    if runs > MAX_RUNS {
        return Err(CliError::Usage(format!(
            "--runs {runs} is more than {MAX_RUNS}: each run simulates the whole scenario (about a second for \
             bench-1m-24h); 5 to 20 runs give a stable median"
        )));
    }
    Ok(())
}

/// How this binary was built, for the report: a debug build's timings say nothing about the
/// simulator, and a profile-guided build (`scripts/pgo-build.sh` sets `RWSIM_PGO` when it
/// compiles) is faster than a plain release build with the same results.
fn build_kind() -> &'static str {
    if cfg!(debug_assertions) {
        "debug: timings are not representative (build with --release)"
    } else if option_env!("RWSIM_PGO").is_some() {
        "release, profile-guided (scripts/pgo-build.sh)"
    } else {
        "release"
    }
}

/// The report, one `label  value` line each, values aligned.
fn report(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    rows.iter().map(|(l, v)| format!("{l:<width$}  {v}\n")).collect()
}

pub fn run(a: BenchArgs) -> Result<ExitCode, CliError> {
    check_runs(a.runs)?;
    let mut scenario = load(&a.scenario)?;
    if let Some(d) = &a.duration {
        let d = scenarios::units::parse_duration(d).map_err(|e| CliError::Usage(format!("--duration: {e}")))?;
        scenario.config.duration = d;
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
    let events = warm.events_processed;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rss = match peak_rss_bytes() {
        Some(b) => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        None => "unavailable (no /proc/self/status)".into(),
    };
    let rows = [
        ("scenario", format!("{} ({} simulated)", scenario.name, cfg.duration)),
        ("machine", format!("{cores} cores available; the simulation runs on one")),
        ("build", build_kind().to_string()),
        ("runs", format!("{} timed after 1 warm-up", a.runs)),
        ("wall min", format!("{:.3} s", walls[0])),
        ("wall median", format!("{median:.3} s")),
        ("wall max", format!("{:.3} s", walls[walls.len() - 1])),
        ("events", thousands(events)),
        ("events/s (median)", thousands((events as f64 / median) as u64)),
        ("ns per event (median)", format!("{:.0}", median * 1e9 / events.max(1) as f64)),
        ("simulated s per wall s", thousands((cfg.duration.as_secs_f64() / median) as u64)),
        ("peak RSS", rss),
    ];
    print!("{}", report(&rows));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(3_546_237), "3,546,237");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn report_aligns_the_values() {
        let r = report(&[("a", "1".into()), ("longer label", "2".into())]);
        assert_eq!(r, "a             1\nlonger label  2\n");
    }

    #[test]
    fn a_debug_build_says_its_timings_mean_nothing() {
        // `cargo test` builds with debug assertions, like `cargo run` without --release.
        let kind = build_kind();
        assert!(kind.starts_with("debug") && kind.contains("--release"), "{kind}");
    }

    #[test]
    fn runs_are_bounded_with_a_clear_error() {
        assert!(check_runs(5).is_ok());
        for bad in [0, MAX_RUNS + 1, u32::MAX] {
            let Err(CliError::Usage(msg)) = check_runs(bad) else { panic!("--runs {bad} accepted") };
            assert!(msg.contains("--runs"), "{msg}");
        }
    }
}
