//! Command-line definition (clap derive).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Deterministic simulator of the Prometheus remote-write path.
///
/// Replays a workload through a model of Prometheus's remote-write sender (WAL, watcher,
/// shards, retries, resharding, WAL truncation) against a receiver with injected faults, and
/// forecasts what is delivered, retried, failed and lost.
#[derive(Debug, Parser)]
#[command(name = "rwsim", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate one scenario and print the forecast.
    Run(RunArgs),
    /// Check scenario files without running them.
    Validate(ValidateArgs),
    /// List the bundled scenarios.
    Scenarios,
    /// Write report.md and report.html (charts embedded) for a run.
    Report(ReportArgs),
    /// Measure simulator speed and memory on a scenario (default: bench-1m-24h).
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file, or `builtin:NAME` for a bundled scenario (see `rwsim scenarios`).
    pub scenario: String,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the forecast as one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write timeseries.csv, summary.json, scenario.toml and the dashboard charts
    /// (dashboard.png, dashboard.svg) into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write the simulated prometheus_remote_storage_* series as OpenMetrics text, for
    /// `promtool tsdb create-blocks-from openmetrics FILE DIR`.
    #[arg(long, value_name = "FILE")]
    pub openmetrics: Option<PathBuf>,
    /// Run as if the scenario started at TIME (RFC 3339 UTC, e.g. 2026-03-01T00:00:00Z),
    /// overriding its `start`; the --openmetrics timestamps follow. Keep it on a multiple of
    /// tsdb.min_block_duration (e.g. midnight) to keep WAL truncations where they were.
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A scenario file (or `builtin:NAME`) to run and report on, or a directory written by
    /// `rwsim run --out DIR` to report on as it is.
    pub input: String,
    /// For a scenario: where to write the run's files and the report (default:
    /// `report-NAME` in the current directory). A directory input is reported in place.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// For a scenario: override its seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (or `builtin:NAME`).
    #[arg(required = true)]
    pub scenarios: Vec<String>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenario file or `builtin:NAME`.
    #[arg(default_value = "builtin:bench-1m-24h")]
    pub scenario: String,
    /// Timed runs after one warm-up run.
    #[arg(long, default_value_t = 5)]
    pub runs: u32,
    /// Override the simulated duration (e.g. `96h`), to show memory does not grow with it.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
