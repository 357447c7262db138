//! `rwsim report FILE|DIR`: report.md and report.html for one run.

use super::{CliError, io_err, load};
use crate::cli::{ReportArgs, RunArgs};
use reports::charts::run::{Dashboard, RunCharts};
use reports::report::{Image, Report};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(a: ReportArgs) -> Result<ExitCode, CliError> {
    let input = Path::new(&a.input);
    let dir = if input.is_dir() {
        if a.out.is_some() || a.seed.is_some() {
            return Err(CliError::Usage(format!(
                "{}: a run directory is reported as it is; --out and --seed apply to a scenario file",
                a.input
            )));
        }
        input.to_path_buf()
    } else {
        let scenario = load(&a.input)?;
        let dir = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("report-{}", scenario.name)));
        super::run::execute(&RunArgs {
            scenario: a.input.clone(),
            seed: a.seed,
            json: false,
            out: Some(dir.clone()),
            openmetrics: None,
            start: None,
            set: Vec::new(),
        })?;
        dir
    };
    report_dir(&dir)?;
    println!("rwsim: wrote {} and {}", dir.join("report.md").display(), dir.join("report.html").display());
    Ok(ExitCode::SUCCESS)
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> CliError {
    CliError::Io(path.display().to_string(), std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string()))
}

/// Reads what `rwsim run --out DIR` wrote and writes the report next to it. A missing
/// dashboard is drawn again from timeseries.csv.
fn report_dir(dir: &Path) -> Result<(), CliError> {
    let need = |name: &str| -> Result<PathBuf, CliError> {
        let p = dir.join(name);
        if p.is_file() {
            Ok(p)
        } else {
            Err(CliError::Usage(format!(
                "{}: no {name} here; report on a directory written by `rwsim run SCENARIO --out DIR`, or on a scenario file",
                dir.display()
            )))
        }
    };
    let summary = need("summary.json")?;
    let text = fs::read_to_string(&summary).map_err(io_err(&summary))?;
    let result: sim_core::result::RunResult = serde_json::from_str(&text)
        .map_err(|e| invalid(&summary, format!("not a summary.json of `rwsim run`: {e}")))?;
    let scenario = scenarios::load_file(&need("scenario.toml")?)?;
    let png_path = dir.join("dashboard.png");
    if !png_path.is_file() {
        let csv = need("timeseries.csv")?;
        let file = fs::File::open(&csv).map_err(io_err(&csv))?;
        let rows = reports::csv::read(std::io::BufReader::new(file)).map_err(|e| invalid(&csv, e))?;
        let dash = Dashboard::for_run(&RunCharts {
            config: &scenario.config,
            result: &result,
            rows: &rows,
            description: scenario.description.as_deref(),
            incidents: reports::charts::run::incident_windows(&result),
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
        images: vec![Image {
            title: format!(
                "Run dashboard of {}: throughput, pending samples, lag, shards, responses and losses over time (dashboard.svg has the same as a vector image)",
                result.scenario
            ),
            file: "dashboard.png".into(),
            png,
        }],
        recommendation: Vec::new(),
    };
    let md = dir.join("report.md");
    fs::write(&md, reports::report::markdown(&rep)).map_err(io_err(&md))?;
    let html = dir.join("report.html");
    fs::write(&html, reports::report::html(&rep)).map_err(io_err(&html))?;
    Ok(())
}

/// Where a pinned scenario.toml was copied from (its first comment line says so).
fn scenario_origin(source: &str) -> Option<String> {
    let first = source.lines().next()?;
    let rest = first.split(", copied from ").nth(1)?;
    Some(rest.split(" by rwsim").next()?.to_string())
}
