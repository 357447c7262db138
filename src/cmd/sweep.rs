//! `rwsim sweep`: every point of a grid of scenario variants, in parallel, deterministically.
//!
//! The grid comes from the scenario's `[sweep]` table and `--set`. Each point is loaded by
//! the `scenarios` crate with its values applied before validation, and every point is
//! validated before any runs, so a bad point fails in a second with its key and value.
//! Replication `r` of point `p` runs with seed [`point_seed`]`(scenario seed, p, r)`.
//!
//! Runs are independent tasks collected with an indexed `par_iter().map().collect()`, so the
//! output is the same bytes for any thread count. Wall-clock time is only read for the
//! progress bar and `--timing`, never by the model.

use super::sweep_dir::{self, SweepFiles, closest_row};
use super::{CliError, io_err, set_err, source, thread_pool};
use crate::cli::{SweepArgs, TargetArgs};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use reports::sweep::{PointRow, RunMetrics, SweepMeta, SweepPoint, SweepResult, Targets};
use scenarios::sweep::{Axis, Grid};
use sim_core::config::SimConfig;
use std::fs::{self, File};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Most replications per point.
pub const MAX_REPLICATIONS: u32 = 1000;
/// Most runs (points × replications) in one sweep: a limit on the work one command starts.
pub const MAX_RUNS: u64 = 1_000_000;

/// SplitMix64's finaliser: a bijective, well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of replication `rep` of grid point `point`: SplitMix64 applied to the
/// scenario seed, then the point index, then the replication, kept to 63 bits (a seed a
/// scenario file can hold). Depends on nothing else, so a point gets the same seeds in a
/// full run, in any partition, and on any number of threads.
pub fn point_seed(scenario_seed: u64, point: u64, rep: u32) -> u64 {
    mix(mix(mix(scenario_seed) ^ point) ^ u64::from(rep)) & (u64::MAX >> 1)
}

/// FNV-1a, 64 bits: a stable hash for [`sweep_id`].
fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// Identifies a sweep: the scenario text, the grid (keys and values) and the replication
/// count. Partitions of one sweep share it; `rwsim merge` refuses files that do not.
pub fn sweep_id(text: &str, grid: &Grid, replications: u32) -> String {
    let axes: Vec<(String, Vec<String>)> =
        grid.axes().iter().map(|a| (a.key.to_string(), a.values.iter().map(|v| v.to_string()).collect())).collect();
    sweep_id_of(text, &axes, replications)
}

/// [`sweep_id`] from the keys and the values (in scenario syntax, in grid order), as a
/// `sweep.csv` holds them.
pub fn sweep_id_of(text: &str, axes: &[(String, Vec<String>)], replications: u32) -> String {
    let mut h = fnv1a(text.as_bytes(), 0xCBF2_9CE4_8422_2325);
    for (key, values) in axes {
        h = fnv1a(format!("\0{key}={}", values.join(",")).as_bytes(), h);
    }
    h = fnv1a(format!("\0replications={replications}").as_bytes(), h);
    format!("{h:016x}")
}

/// [`sweep_id_of`] the scenario `text` with the grid and replications of a whole `result`.
pub fn sweep_id_of_result(text: &str, result: &SweepResult) -> String {
    let axes: Vec<(String, Vec<String>)> = (0..result.params.len())
        .map(|i| {
            let values = reports::sweep::distinct_values(result, i).into_iter().map(str::to_string).collect();
            (result.params[i].clone(), values)
        })
        .collect();
    sweep_id_of(text, &axes, result.points.first().map_or(1, |p| p.row.replications))
}

/// `I/N` with `0 <= I < N`.
fn partition(arg: &str) -> Result<(u64, u64), CliError> {
    let bad = |why: &str| {
        CliError::Usage(format!(
            "--partition {arg}: {why}; write I/N with 0 <= I < N, e.g. --partition 0/4 ... --partition 3/4"
        ))
    };
    let (i, n) = arg.split_once('/').ok_or_else(|| bad("expected I/N"))?;
    let i: u64 = i.trim().parse().map_err(|_| bad("I is not a whole number"))?;
    let n: u64 = n.trim().parse().map_err(|_| bad("N is not a whole number"))?;
    if n == 0 {
        return Err(bad("N must be at least 1"));
    }
    if i >= n {
        return Err(bad("I must be below N (partitions are numbered from 0)"));
    }
    Ok((i, n))
}

/// The recommendation targets from the command line.
pub fn targets(a: &TargetArgs) -> Result<Targets, CliError> {
    let s = a.max_loss.trim();
    let max_loss = match s.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|x| x / 100.0),
        None => s.parse::<f64>(),
    }
    .ok()
    .filter(|x| (0.0..=1.0).contains(x))
    .ok_or_else(|| {
        CliError::Usage(format!("--max-loss {s}: expected a fraction from 0 to 1 (0.001) or a percentage (0.1%)"))
    })?;
    let max_p99_seconds = match &a.max_p99_latency {
        Some(d) => Some(
            scenarios::units::parse_duration(d)
                .map_err(|e| CliError::Usage(format!("--max-p99-latency: {e}")))?
                .as_secs_f64(),
        ),
        None => None,
    };
    let max_memory_bytes = match &a.max_memory {
        Some(m) => Some(scenarios::units::parse_size(m).map_err(|e| CliError::Usage(format!("--max-memory: {e}")))?),
        None => None,
    };
    Ok(Targets { max_loss, max_p99_seconds, max_memory_bytes })
}

/// Creates `path`'s directory and the file, before any work starts.
pub fn create(dir: &Path, name: &str) -> Result<(PathBuf, File), CliError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let path = dir.join(name);
    let file = File::create(&path).map_err(io_err(&path))?;
    Ok((path, file))
}

/// Writes `result` as CSV to an opened file.
pub fn write(result: &SweepResult, path: &Path, file: File) -> Result<(), CliError> {
    let mut w = reports::sweep::write_csv(result, BufWriter::new(file))
        .map_err(|e| CliError::Io(path.display().to_string(), e.into()))?;
    w.flush().map_err(io_err(path))
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
fn progress(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {elapsed} elapsed, ETA {eta}")
            .expect("valid template"),
    );
    bar
}

/// One run's outcome, with the time spent in `simulate` (for `--timing` only).
type RunOutcome = Result<(RunMetrics, Duration), CliError>;

pub fn run(a: SweepArgs) -> Result<ExitCode, CliError> {
    let text = execute(&a)?;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// Runs the sweep and writes its files into `a.out`: the CSV, and for a whole grid the
/// summary, the scenario text and the charts (see [`super::sweep_dir`]). Returns what
/// `rwsim sweep` prints: the report, or for a partition where its file went.
pub fn execute(a: &SweepArgs) -> Result<String, CliError> {
    let started = Instant::now();
    let src = source(&a.scenario)?;
    let base = src.load()?;
    let flags = a.set.iter().map(|s| Axis::from_flag(s).map_err(set_err(s))).collect::<Result<Vec<_>, _>>()?;
    let grid = Grid::new(&base.sweep, flags).map_err(|e| CliError::Usage(e.to_string()))?;
    let k = a.replications;
    if !(1..=MAX_REPLICATIONS).contains(&k) {
        return Err(CliError::Usage(format!("--replications {k}: must be from 1 to {MAX_REPLICATIONS}")));
    }
    let points = grid.len();
    if points * u64::from(k) > MAX_RUNS {
        return Err(CliError::Usage(format!(
            "{points} points × {k} replications = {} runs, more than the limit of {MAX_RUNS}; \
             use fewer points or replications",
            points * u64::from(k)
        )));
    }
    let (part, parts) = match &a.partition {
        Some(p) => partition(p)?,
        None => (0, 1),
    };
    let targets = targets(&a.targets)?;
    let (pool, threads) = thread_pool(a.threads)?;

    // Open the outputs before the long part, so a bad path fails at once. A partition
    // writes only its CSV; `rwsim merge` writes the rest.
    let name = if parts == 1 { sweep_dir::CSV.to_string() } else { format!("sweep-part-{part}-of-{parts}.csv") };
    let (path, file) = create(&a.out, &name)?;
    let files = if parts == 1 { Some(SweepFiles::open(&a.out, grid.axes().len(), true)?) } else { None };

    // Every point of the grid, in every partition, is loaded and validated before any run:
    // a bad point fails the same way wherever it would have run.
    let mine: Vec<u64> = (0..points).filter(|i| i % parts == part).collect();
    let prepared = src.prepare()?;
    let loaded: Vec<Result<Option<SimConfig>, CliError>> = pool.install(|| {
        (0..points)
            .into_par_iter()
            .map(|i| {
                let set = grid.point(i);
                match prepared.config_with(&set) {
                    Ok(cfg) => Ok((i % parts == part).then_some(cfg)),
                    Err(e) => Err(CliError::Point(i, assignments(&set), Box::new(e))),
                }
            })
            .collect()
    });
    let mut configs: Vec<SimConfig> = Vec::with_capacity(mine.len());
    for r in loaded {
        if let Some(cfg) = r? {
            configs.push(cfg);
        }
    }

    let tasks: Vec<(usize, u32)> = (0..configs.len()).flat_map(|p| (0..k).map(move |r| (p, r))).collect();
    let bar = progress(tasks.len() as u64);
    let origin = &src.origin;
    let outcomes: Vec<RunOutcome> = pool.install(|| {
        tasks
            .par_iter()
            .map(|&(p, r)| {
                let mut cfg = configs[p].clone();
                cfg.seed = point_seed(base.config.seed, mine[p], r);
                let t0 = Instant::now();
                let result = sim_core::simulate(&cfg, &mut ());
                let spent = t0.elapsed();
                bar.inc(1);
                let what = || format!("{origin} (sweep point {}, seed {})", mine[p], cfg.seed);
                let result = result.map_err(|e| CliError::Sim(what(), e))?;
                if !result.conservation_ok {
                    return Err(CliError::Conservation(what()));
                }
                Ok((RunMetrics::from_result(&result), spent))
            })
            .collect()
    });
    bar.finish_and_clear();

    let meta = SweepMeta {
        scenario: base.name.clone(),
        sweep_id: sweep_id(&src.text, &grid, k),
        grid_points: points,
        prometheus: base.config.profile.to_string(),
    };
    let mut simulated = Duration::ZERO;
    let mut outcomes = outcomes.into_iter();
    let mut result = SweepResult {
        params: grid.axes().iter().map(|a| a.key.to_string()).collect(),
        points: Vec::with_capacity(configs.len()),
        sender: analysis::settings::Sender::of(&base.config.sender.mode),
    };
    for (p, cfg) in configs.iter().enumerate() {
        let mut runs = Vec::with_capacity(k as usize);
        for _ in 0..k {
            let (m, spent) = outcomes.next().expect("one outcome per task")?;
            simulated += spent;
            runs.push(m);
        }
        let index = mine[p];
        result.points.push(SweepPoint {
            index,
            params: grid.point(index).iter().map(|o| o.value.to_string()).collect(),
            row: PointRow::new(&meta, point_seed(base.config.seed, index, 0), &cfg.remote_write.queue, &runs),
        });
    }
    if parts == 1 {
        reports::sweep::fill_budgets(&mut result);
    }
    write(&result, &path, file)?;
    if let Some(files) = files {
        files.write(&result, &targets, Some(&src.text))?;
    }

    let text = if parts == 1 {
        let mut text = reports::sweep::render(&result, &targets);
        let levers = sweep_dir::levers(&src, &result, &targets, &a.out)?;
        say_wrote(&a.out, grid.axes().len(), levers.is_some());
        if let Some(l) = levers {
            text.push_str(&reports::sweep::render_levers(&l, &targets, &closest_row(&result, &targets)));
        }
        text
    } else {
        format!(
            "partition {part}/{parts}: wrote {} of the {points} points to {}\n\
             Once every partition has finished: rwsim merge {} --out DIR\n",
            result.points.len(),
            path.display(),
            a.out.join(format!("sweep-part-*-of-{parts}.csv")).display()
        )
    };
    if a.timing {
        let wall = started.elapsed().as_secs_f64();
        let runs = tasks.len();
        eprintln!(
            "rwsim: timing: {runs} runs of {} points on {threads} thread{}: wall {wall:.3} s, {:.4} s per run, \
             {:.1} runs/s; simulate() {:.3} s summed over runs ({:.1}% of wall × threads)",
            result.points.len(),
            if threads == 1 { "" } else { "s" },
            wall / runs.max(1) as f64,
            runs as f64 / wall,
            simulated.as_secs_f64(),
            100.0 * simulated.as_secs_f64() / (wall * threads as f64),
        );
    }
    Ok(text)
}

/// Says on stderr which files a whole sweep wrote into `dir` (stdout carries its report).
fn say_wrote(dir: &Path, keys: usize, levers: bool) {
    let charts = reports::charts::sweep::chart_names(keys).join(", ");
    eprintln!(
        "rwsim: wrote {}: {}, {}, {}{}, and the charts {charts} (.png and .svg)",
        dir.join("").display(),
        sweep_dir::CSV,
        sweep_dir::JSON,
        sweep_dir::SCENARIO,
        if levers { format!(", {}", sweep_dir::LEVERS) } else { String::new() },
    );
}

/// `key = value, key = value` for errors.
fn assignments(set: &[scenarios::sweep::Override]) -> String {
    if set.is_empty() {
        return "the scenario as written".into();
    }
    set.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_depend_only_on_scenario_seed_point_and_replication() {
        let s = point_seed(1, 0, 0);
        assert_eq!(s, point_seed(1, 0, 0));
        assert_ne!(s, point_seed(1, 1, 0));
        assert_ne!(s, point_seed(1, 0, 1));
        assert_ne!(s, point_seed(2, 0, 0));
        assert_ne!(point_seed(1, 1, 0), point_seed(1, 0, 1), "point and rep do not commute");
        assert!(point_seed(u64::MAX, u64::MAX, u32::MAX) < 1 << 63);
        // A fixed value: changing the derivation changes every sweep's results.
        assert_eq!(point_seed(1, 0, 0), 3_569_668_903_477_806_787);
    }

    #[test]
    fn partitions_are_zero_based_i_of_n() {
        assert_eq!(partition("0/4").unwrap(), (0, 4));
        assert_eq!(partition("3/4").unwrap(), (3, 4));
        for bad in ["4/4", "1/0", "x/2", "2", "-1/2"] {
            assert!(partition(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loss_targets_take_fractions_or_percentages() {
        let t = |s: &str| {
            targets(&TargetArgs {
                max_loss: s.into(),
                max_p99_latency: Some("30s".into()),
                max_memory: Some("64MiB".into()),
            })
        };
        assert_eq!(t("0.001").unwrap().max_loss, 0.001);
        assert!((t("0.1%").unwrap().max_loss - 0.001).abs() < 1e-15);
        assert_eq!(t("0").unwrap().max_p99_seconds, Some(30.0));
        assert_eq!(t("0").unwrap().max_memory_bytes, Some(64 << 20));
        assert!(t("2").is_err());
        assert!(t("lots").is_err());
    }
}
