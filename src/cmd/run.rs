//! `rwsim run`: one scenario, one forecast.

use super::{CliError, io_err, set_err, source};
use crate::cli::RunArgs;
use analysis::robust::Robust;
use reports::charts::run::{Dashboard, RunCharts, RunSeries};
use reports::csv::CsvRows;
use scenarios::sweep::Override;
use sim_core::result::RunResult;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(a: RunArgs) -> Result<ExitCode, CliError> {
    let (result, robust, json, note, budget_applies) = execute(&a)?;
    let out = if a.json {
        json
    } else {
        let mut text = reports::summary::render_with(&result, robust.as_ref(), note.as_deref());
        text.push_str(&next_steps(&a, &result, budget_applies));
        text
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(out.as_bytes());
    if !result.conservation_ok {
        eprintln!("rwsim: error: sample conservation was violated: this is a bug, please report it");
        return Ok(ExitCode::from(70));
    }
    Ok(ExitCode::SUCCESS)
}

/// After a forecast that loses data or ends far behind, where the "what do I change?" answers are: the outage
/// budget and a sweep (which, when no `queue_config` helps, evaluates the levers besides it).
/// The forecast alone says how much is lost, not what would prevent it.
fn next_steps(a: &RunArgs, r: &RunResult, budget_applies: bool) -> String {
    // A run that ends far behind has not lost its backlog yet, but a sweep finds the settings
    // that keep up.
    if r.gaps.samples == 0 && r.behind_at_end().is_none() {
        return String::new();
    }
    // The same scenario as this run: its file and its --set values, quoted for a shell.
    let file: String = std::iter::once(shell_word(&a.scenario))
        .chain(a.set.iter().map(|s| format!("--set {}", shell_word(s))))
        .collect::<Vec<_>>()
        .join(" ");
    let mut o = String::from("\nWhat would help\n");
    if budget_applies {
        o += &format!(
            "  rwsim budget {file}    the longest outage of this kind that loses nothing, at the worst and the best start\n"
        );
    }
    o += &format!(
        "  rwsim sweep {file} --set KEY=VALUES    try settings; when none meets the targets, it also runs the \
         levers besides them (docs/answers.md §4)\n"
    );
    o
}

/// `s` as one shell word: as it is when it needs no quoting, else in single quotes.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:=,+@%".contains(c));
    if plain { s.to_string() } else { format!("'{}'", s.replace('\'', "'\\''")) }
}

/// What `rwsim run` says when it ran the scenario only once, and why.
const LITERAL_NOTE: &str = "--literal: the scenario as written, run once (no best or worst case).";
const NO_OUTAGE_NOTE: &str = "Run once: this scenario has no fault window, incident or sender event, so no outage whose timing \
or constants could change its losses. The model constants' plausible ranges are in docs/scenario.md; set one in the \
file to try another value.";

/// The run's results: the scenario as written, the robust answer when it ran, the JSON, why
/// the robust answer did not run, and whether `rwsim budget` applies (the scenario has an
/// outage to lengthen).
pub type Executed = (RunResult, Option<Robust>, String, Option<String>, bool);

/// Runs the scenario (and, unless `--literal` or it has no fault window or incident, the
/// robust answer) and writes every requested file.
pub fn execute(a: &RunArgs) -> Result<Executed, CliError> {
    let overrides = a.set.iter().map(|s| Override::from_flag(s).map_err(set_err(s))).collect::<Result<Vec<_>, _>>()?;
    for (i, o) in overrides.iter().enumerate() {
        if overrides[..i].iter().any(|p| p.key == o.key) {
            return Err(CliError::Usage(format!("--set {}: the key is set twice; give it once", o.key)));
        }
    }
    let mut scenario = source(&a.scenario)?.load_with(&overrides)?;
    if let Some(seed) = a.seed {
        scenario.config.seed = seed;
    }
    if let Some(start) = &a.start {
        scenario.config.clock.start_unix_nanos =
            scenarios::units::parse_timestamp(start).map_err(|e| CliError::Usage(format!("--start: {e}")))?;
    }
    let cfg = &scenario.config;
    // Open every output before the run, so a bad path fails in a second, not after it.
    let mut csv = None;
    if let Some(dir) = &a.out {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join("timeseries.csv");
        let file = File::create(&path).map_err(io_err(&path))?;
        csv = Some((path, CsvRows::new(BufWriter::new(file))));
    }
    // The OpenMetrics export writes each metric family in turn, so it cannot be written as
    // the rows come: they stream to spill files next to it (a fraction of its size, gone
    // when the run ends), which are read back into it afterwards. Memory stays flat.
    let url = scenario.url.clone().unwrap_or_else(|| format!("rwsim://{}", scenario.name));
    let target = reports::openmetrics::Target {
        job: "rwsim",
        instance: &scenario.name,
        remote_name: scenario.remote_name.as_deref().unwrap_or(&scenario.name),
        url: &url,
        start_unix_millis: cfg.clock.start_unix_nanos / sim_core::time::NANOS_PER_MILLI,
        dropped_reason_label: cfg.profile == sim_core::profile::Profile::V3,
        vmagent: matches!(cfg.sender.mode, sim_core::config::SenderMode::Vmagent(_)),
    };
    let mut openmetrics = match &a.openmetrics {
        Some(path) => {
            let file = BufWriter::new(File::create(path).map_err(io_err(path))?);
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some((path, file, reports::openmetrics::Spill::create(dir, &target).map_err(io_err(path))?))
        }
        None => None,
    };
    // `--out` streams the rows to timeseries.csv and keeps only the dashboard's bounded
    // downsample, so its memory does not grow with the run either.
    let mut series = RunSeries::new(cfg.duration.as_secs_f64());
    // A bar with an ETA on a terminal's stderr (hidden otherwise): it only watches the rows.
    let mut progress = super::progress::RunProgress::new(cfg.duration);
    let mut literal = || match (&mut csv, &mut openmetrics) {
        (Some((_, csv_rows)), Some((_, _, spill))) => {
            sim_core::simulate(cfg, &mut ((csv_rows, (&mut series, spill)), &mut progress))
        }
        (Some((_, csv_rows)), None) => sim_core::simulate(cfg, &mut ((csv_rows, &mut series), &mut progress)),
        (None, Some((_, _, spill))) => sim_core::simulate(cfg, &mut (spill, &mut progress)),
        (None, None) => sim_core::simulate(cfg, &mut progress),
    };
    let robust_wanted = !a.literal
        && (!cfg.receiver.faults.is_empty() || !cfg.receiver.incidents.is_empty() || !cfg.sender.events.is_empty());
    let (result, robust, note) = if robust_wanted {
        let (r, rb) = analysis::robust::analyse(cfg, &|k| scenario.is_set(k), &Default::default(), literal)
            .map_err(|e| CliError::Sim(scenario.origin.clone(), e))?;
        (r, Some(rb), None)
    } else {
        let note = if a.literal { LITERAL_NOTE } else { NO_OUTAGE_NOTE };
        (literal().map_err(|e| CliError::Sim(scenario.origin.clone(), e))?, None, Some(note.to_string()))
    };
    // Clear the bar before anything else goes to the terminal.
    drop(progress);
    if let Some((path, rows)) = csv {
        let mut w = rows.finish().map_err(|e| CliError::Io(path.display().to_string(), e.into()))?;
        w.flush().map_err(io_err(&path))?;
    }
    let json = reports::json::render_with(&result, robust.as_ref());
    if let Some(dir) = &a.out {
        let path = dir.join("summary.json");
        fs::write(&path, &json).map_err(io_err(&path))?;
        let path = dir.join("scenario.toml");
        let pinned = scenario.pinned_source();
        fs::write(&path, &pinned.text).map_err(io_err(&path))?;
        if let Some(note) = pinned.note {
            eprintln!("rwsim: note: {}: {note}", path.display());
        }
        let dash = Dashboard::for_run(&RunCharts {
            config: cfg,
            result: &result,
            series: &series,
            description: scenario.description.as_deref(),
            incidents: reports::charts::run::incident_windows(&result),
            headline: Some(reports::summary::headline(&result, robust.as_ref())),
        });
        write_figure(dir, "dashboard", &dash)?;
    }
    if let Some((path, mut w, spill)) = openmetrics {
        spill.finish(&mut w, &target).and_then(|()| w.flush()).map_err(io_err(path))?;
    }
    say_wrote(a);
    let budget_applies = analysis::budget::has_outage(cfg);
    Ok((result, robust, json, note, budget_applies))
}

/// Says on stderr which files the run wrote (stdout carries the forecast or the JSON only).
fn say_wrote(a: &RunArgs) {
    if let Some(dir) = &a.out {
        eprintln!(
            "rwsim: wrote {}: timeseries.csv, summary.json, scenario.toml, dashboard.png, dashboard.svg",
            dir.join("").display()
        );
    }
    if let Some(path) = &a.openmetrics {
        eprintln!(
            "rwsim: wrote {0} (OpenMetrics; backfill it with `promtool tsdb create-blocks-from openmetrics {0} DIR`)",
            path.display()
        );
    }
}

/// Writes `DIR/NAME.png` and `DIR/NAME.svg`.
pub fn write_figure<F: reports::charts::Figure>(dir: &Path, name: &str, fig: &F) -> Result<(), CliError> {
    let (png, svg) = create_figure(dir, name)?;
    write_figure_to(fig, png, svg)
}

/// An output file, created, and its path for errors.
pub type Opened = (PathBuf, File);

/// Creates (truncates) `DIR/NAME.png` and `DIR/NAME.svg`, to write later.
pub fn create_figure(dir: &Path, name: &str) -> Result<(Opened, Opened), CliError> {
    let open = |ext: &str| -> Result<Opened, CliError> {
        let path = dir.join(format!("{name}.{ext}"));
        let file = File::create(&path).map_err(io_err(&path))?;
        Ok((path, file))
    };
    Ok((open("png")?, open("svg")?))
}

/// Draws `fig` into opened PNG and SVG files.
pub fn write_figure_to<F: reports::charts::Figure>(
    fig: &F,
    (png, file): Opened,
    (svg, mut svg_file): Opened,
) -> Result<(), CliError> {
    let mut w = BufWriter::new(file);
    reports::charts::write_png(fig, &mut w)
        .map_err(|e| CliError::Io(png.display().to_string(), std::io::Error::other(e)))?;
    w.flush().map_err(io_err(&png))?;
    let text = reports::charts::render_svg(fig)
        .map_err(|e| CliError::Io(svg.display().to_string(), std::io::Error::other(e)))?;
    svg_file.write_all(text.as_bytes()).map_err(io_err(&svg))
}
