//! `rwsim report FILE|DIR`: report.md and report.html for a run or a sweep.
//!
//! A directory is recognised by what it holds: `summary.json` (from `rwsim run --out`),
//! `sweep.csv` (from `rwsim sweep --out` or `rwsim merge --out`) or `compare.json` (from
//! `rwsim compare --out`). A scenario file is run
//! first into `--out` (default `report-NAME/`): once, or, when it has a `[sweep]` table,
//! as the whole sweep with the targets given here.

use super::sweep_dir::{self, recommended, swept_keys};
use super::{CliError, io_err, load};
use crate::cli::{ReportArgs, RunArgs, SweepArgs};
use reports::charts::run::{Dashboard, RunCharts, RunSeries};
use reports::report::{Image, Report};
use reports::sweep::{SweepResult, SweepSummary};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(a: ReportArgs) -> Result<ExitCode, CliError> {
    let input = Path::new(&a.input);
    let targets_given =
        a.targets.max_loss != "0" || a.targets.max_p99_latency.is_some() || a.targets.max_memory.is_some();
    let dir = if input.is_dir() {
        if a.out.is_some() || a.seed.is_some() || targets_given {
            return Err(CliError::Usage(format!(
                "{}: a directory is reported as it is; --out, --seed and the targets apply to a scenario file \
                 (a sweep directory keeps its targets in sweep.json: run the sweep again to change them)",
                a.input
            )));
        }
        input.to_path_buf()
    } else {
        let scenario = load(&a.input)?;
        let dir = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("report-{}", scenario.name)));
        if scenario.sweep.is_empty() {
            if targets_given {
                return Err(CliError::Usage(format!(
                    "{}: the targets apply to a scenario with a [sweep] table; this one has none",
                    a.input
                )));
            }
            super::run::execute(&RunArgs {
                scenario: a.input.clone(),
                seed: a.seed,
                json: false,
                out: Some(dir.clone()),
                openmetrics: None,
                start: None,
                set: Vec::new(),
                literal: false,
            })?;
        } else {
            if a.seed.is_some() {
                return Err(CliError::Usage(format!(
                    "{}: --seed applies to a single run; this scenario has a [sweep] table, whose points take \
                     seeds derived from the file's seed (edit `seed` in the file to change them)",
                    a.input
                )));
            }
            super::sweep::execute(&SweepArgs {
                scenario: a.input.clone(),
                set: Vec::new(),
                replications: 1,
                threads: None,
                partition: None,
                out: dir.clone(),
                timing: false,
                targets: a.targets.clone(),
            })?;
        }
        dir
    };
    if dir.join("compare.json").is_file() && !dir.join("summary.json").is_file() && !dir.join(sweep_dir::CSV).is_file()
    {
        report_compare_dir(&dir)?;
        println!("rwsim: wrote {} and {}", dir.join("report.md").display(), dir.join("report.html").display());
        return Ok(ExitCode::SUCCESS);
    }
    match (dir.join("summary.json").is_file(), dir.join(sweep_dir::CSV).is_file()) {
        (true, true) => {
            return Err(CliError::Usage(format!(
                "{}: holds both a run (summary.json) and a sweep (sweep.csv); write them to different directories",
                dir.display()
            )));
        }
        (false, true) => report_sweep_dir(&dir)?,
        _ => report_run_dir(&dir)?,
    }
    println!("rwsim: wrote {} and {}", dir.join("report.md").display(), dir.join("report.html").display());
    Ok(ExitCode::SUCCESS)
}

/// Reads what `rwsim compare --out DIR` wrote and writes the report next to it.
fn report_compare_dir(dir: &Path) -> Result<(), CliError> {
    let json = dir.join("compare.json");
    let text = fs::read_to_string(&json).map_err(io_err(&json))?;
    let cmp: analysis::compare::Comparison = serde_json::from_str(&text)
        .map_err(|e| invalid(&json, format!("not a compare.json of `rwsim compare`: {e}")))?;
    let png_path = dir.join("compare.png");
    let images = if png_path.is_file() {
        vec![Image {
            title: "Each sender's lag (top) and share of the data lost so far (bottom); receiver faults shaded".into(),
            file: "compare.png".into(),
            png: fs::read(&png_path).map_err(io_err(&png_path))?,
        }]
    } else {
        Vec::new()
    };
    let blocks = reports::compare::document(&cmp, (!images.is_empty()).then_some(0));
    let md = dir.join("report.md");
    fs::write(&md, reports::report::render_markdown(&blocks, &images)).map_err(io_err(&md))?;
    let html = dir.join("report.html");
    let title = format!("rwsim compare: {}", cmp.scenario);
    fs::write(&html, reports::report::render_html(&title, &blocks, &images)).map_err(io_err(&html))?;
    Ok(())
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> CliError {
    CliError::Io(path.display().to_string(), std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string()))
}

/// Reads what `rwsim run --out DIR` wrote and writes the report next to it. A missing
/// dashboard is drawn again from timeseries.csv.
fn report_run_dir(dir: &Path) -> Result<(), CliError> {
    let need = |name: &str| -> Result<PathBuf, CliError> {
        let p = dir.join(name);
        if p.is_file() {
            Ok(p)
        } else {
            let partial = fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.starts_with("sweep-part-") && n.ends_with(".csv")
            });
            Err(CliError::Usage(if partial {
                format!(
                    "{}: holds partitions of a sweep (sweep-part-*.csv) but no sweep.csv; join them with \
                     `rwsim merge {}/sweep-part-*.csv --out DIR --scenario FILE`, then report on DIR",
                    dir.display(),
                    dir.display()
                )
            } else {
                format!(
                    "{}: no {name} here; report on a directory written by `rwsim run SCENARIO --out DIR` or \
                     `rwsim sweep SCENARIO --out DIR`, or on a scenario file",
                    dir.display()
                )
            }))
        }
    };
    let summary = need("summary.json")?;
    let text = fs::read_to_string(&summary).map_err(io_err(&summary))?;
    let output: reports::json::RunOutput = serde_json::from_str(&text)
        .map_err(|e| invalid(&summary, format!("not a summary.json of `rwsim run`: {e}")))?;
    let (result, robust) = (output.result, output.robust);
    // With the --set flags its header lists, if it could not take them in its values.
    let scenario = scenarios::load_pinned(&need("scenario.toml")?)?;
    let png_path = dir.join("dashboard.png");
    if !png_path.is_file() {
        let csv = need("timeseries.csv")?;
        let file = fs::File::open(&csv).map_err(io_err(&csv))?;
        // The length that ran is in summary.json; the time axis follows it even if
        // scenario.toml was edited since.
        let mut config = scenario.config.clone();
        config.duration = sim_core::time::SimDuration::from_secs_f64(result.simulated_seconds);
        // Row by row into the bounded downsample: a year of rows never sits in memory.
        let mut series = RunSeries::new(result.simulated_seconds);
        reports::csv::for_each(std::io::BufReader::new(file), |r| series.push(r)).map_err(|e| invalid(&csv, e))?;
        let dash = Dashboard::for_run(&RunCharts {
            config: &config,
            result: &result,
            series: &series,
            description: scenario.description.as_deref(),
            incidents: reports::charts::run::incident_windows(&result),
            headline: Some(reports::summary::headline(&result, robust.as_ref())),
        });
        super::run::write_figure(dir, "dashboard", &dash)?;
    }
    let png = fs::read(&png_path).map_err(io_err(&png_path))?;
    let origin = scenario_origin(&scenario.source).unwrap_or(scenario.origin.clone());
    let rep = Report {
        config: &scenario.config,
        description: scenario.description.as_deref(),
        origin: &origin,
        result: &result,
        robust: robust.as_ref(),
        images: vec![Image {
            title: format!(
                "Run dashboard of {}: throughput, pending samples, lag, shards, responses and losses over time (dashboard.svg has the same as a vector image)",
                result.scenario
            ),
            file: "dashboard.png".into(),
            png,
        }],
    };
    let md = dir.join("report.md");
    fs::write(&md, reports::report::markdown(&rep)).map_err(io_err(&md))?;
    let html = dir.join("report.html");
    fs::write(&html, reports::report::html(&rep)).map_err(io_err(&html))?;
    Ok(())
}

/// Reads what `rwsim sweep --out DIR` (or `rwsim merge`) wrote and writes the report next
/// to it: the targets come from sweep.json and the scenario from sweep-scenario.toml, each
/// checked against the sweep's `sweep_id`; missing charts are drawn again from sweep.csv.
fn report_sweep_dir(dir: &Path) -> Result<(), CliError> {
    let csv = dir.join(sweep_dir::CSV);
    let file = fs::File::open(&csv).map_err(io_err(&csv))?;
    let result: SweepResult = reports::sweep::read_csv(std::io::BufReader::new(file))
        .map_err(|e| CliError::Merge(format!("{}: {e}", csv.display())))?;
    let Some(first) = result.points.first() else {
        return Err(CliError::Merge(format!("{}: no points", csv.display())));
    };
    let id = first.row.sweep_id.clone();
    if result.points.len() as u64 != first.row.grid_points
        || result.points.iter().enumerate().any(|(i, p)| p.index != i as u64)
    {
        return Err(CliError::Merge(format!(
            "{}: has {} of the {} points of its grid; report on the sweep.csv that `rwsim merge` writes",
            csv.display(),
            result.points.len(),
            first.row.grid_points
        )));
    }
    let json = dir.join(sweep_dir::JSON);
    let targets = if json.is_file() {
        let text = fs::read_to_string(&json).map_err(io_err(&json))?;
        let summary: SweepSummary = serde_json::from_str(&text)
            .map_err(|e| invalid(&json, format!("not a sweep.json of `rwsim sweep`: {e}")))?;
        if summary.sweep_id != id {
            return Err(CliError::Merge(format!(
                "{}: is of sweep {}, but sweep.csv is of sweep {id}: the directory mixes two sweeps",
                json.display(),
                summary.sweep_id
            )));
        }
        summary.targets
    } else {
        // A sweep.csv alone (e.g. from an older rwsim): the default targets.
        reports::sweep::Targets::default()
    };
    let scenario_path = dir.join(sweep_dir::SCENARIO);
    let scenario = if scenario_path.is_file() {
        let src = scenarios::Source::read(&scenario_path)?;
        let got = super::sweep::sweep_id_of_result(&src.text, &result);
        if got != id {
            return Err(CliError::Merge(format!(
                "{}: is not the scenario of sweep.csv (its sweep_id would be {got}, not {id}); remove it or \
                 restore the file that was swept",
                scenario_path.display()
            )));
        }
        Some(src.load()?)
    } else {
        None
    };
    let keys = swept_keys(&result)?;
    let charts = reports::charts::sweep::sweep_charts(&result, &keys, recommended(&result, &targets));
    let mut images = Vec::with_capacity(charts.len());
    for chart in &charts {
        let png_path = dir.join(format!("{}.png", chart.name));
        if !png_path.is_file() {
            super::run::write_figure(dir, &chart.name, &chart.figure)?;
        }
        images.push(Image {
            title: format!("{} ({}.svg is the same as a vector image)", chart.caption, chart.name),
            file: format!("{}.png", chart.name),
            png: fs::read(&png_path).map_err(io_err(&png_path))?,
        });
    }
    let levers_path = dir.join(sweep_dir::LEVERS);
    let levers: Option<analysis::levers::Levers> = if levers_path.is_file() {
        let text = fs::read_to_string(&levers_path).map_err(io_err(&levers_path))?;
        Some(
            serde_json::from_str(&text)
                .map_err(|e| invalid(&levers_path, format!("not a levers.json of `rwsim sweep`: {e}")))?,
        )
    } else {
        None
    };
    let origin = dir.display().to_string();
    let rep = reports::report::sweep::SweepReport {
        levers: levers.as_ref(),
        result: &result,
        targets: &targets,
        config: scenario.as_ref().map(|s| &s.config),
        description: scenario.as_ref().and_then(|s| s.description.as_deref()),
        origin: &origin,
        images,
    };
    let md = dir.join("report.md");
    fs::write(&md, reports::report::sweep::markdown(&rep)).map_err(io_err(&md))?;
    let html = dir.join("report.html");
    fs::write(&html, reports::report::sweep::html(&rep)).map_err(io_err(&html))?;
    Ok(())
}

/// Where a pinned scenario.toml was copied from (its first comment line says so).
fn scenario_origin(source: &str) -> Option<String> {
    let first = source.lines().next()?;
    let rest = first.split(", copied from ").nth(1)?;
    Some(rest.split(" by rwsim").next()?.to_string())
}
