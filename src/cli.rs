//! Command-line definition (clap derive).

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
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
    /// Measure simulator speed and memory on a scenario (default: bench-1m-24h).
    Bench(BenchArgs),
    /// Run a real remote-write receiver that answers as the scenario's [receiver] does.
    Serve(ServeArgs),
    /// Serve a /metrics page with a fixed number of series, for a real Prometheus to scrape.
    Target(TargetArgs),
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
    /// Write timeseries.csv and summary.json into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Scenario file or `builtin:NAME`: its [receiver] (latency, faults, incidents, limits)
    /// runs in real time from server start; remote_write.remote_timeout is the client timeout.
    pub scenario: String,
    /// Address to listen on; port 0 picks a free one (printed on stderr).
    #[arg(long, default_value = "127.0.0.1:9201")]
    pub listen: SocketAddr,
    /// Write serve.csv (per second) and serve_timestamps.csv (unique samples per timestamp
    /// second) into this directory at SIGINT/SIGTERM (created at start).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Largest request body in bytes; larger gets 413.
    #[arg(long, default_value_t = 8 << 20)]
    pub max_body_bytes: u64,
    /// Most open connections (each carries one request at a time).
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Duplicates are detected for samples within this many seconds of the newest one.
    #[arg(long, default_value_t = 1800)]
    pub dedup_window_seconds: u64,
    /// Seconds a client has to send its request headers before the connection is closed.
    #[arg(long, default_value_t = 10)]
    pub header_read_timeout_seconds: u64,
    /// Seconds a client has to send its whole body; slower gets 408.
    #[arg(long, default_value_t = 30)]
    pub body_read_timeout_seconds: u64,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Series exposed across all targets (at most 1,000,000).
    #[arg(long)]
    pub series: u64,
    /// Split the series over this many targets, served at /metrics/0 … /metrics/{N-1}.
    #[arg(long, default_value_t = 1)]
    pub targets: u32,
    /// Address to listen on; port 0 picks a free one (printed on stderr).
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: SocketAddr,
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
