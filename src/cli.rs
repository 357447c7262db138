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
    /// List the bundled scenarios, or print one's TOML to start from (`--show NAME`).
    Scenarios(ScenariosArgs),
    /// Write report.md and report.html (charts embedded) for a run or a sweep.
    Report(ReportArgs),
    /// The outage budget: the longest outage of the scenario's kind that loses nothing, in
    /// the worst and the best phase against the block boundaries, and data lost against
    /// outage length.
    Budget(BudgetArgs),
    /// Measure simulator speed and memory on a scenario (default: bench-1m-24h).
    Bench(BenchArgs),
    /// Run a grid of scenario variants in parallel; write sweep.csv, print the Pareto front
    /// and a queue_config recommendation.
    Sweep(SweepArgs),
    /// One workload and receiver through several senders (Prometheus, agent mode, Alloy,
    /// vmagent), each with its defaults unless the file sets them: a side-by-side table of
    /// lost time, delivered, lag, memory, disk and catch-up, and a chart of lag and loss.
    Compare(CompareArgs),
    /// Join the partial CSVs of a partitioned sweep into the sweep.csv of a single run.
    Merge(MergeArgs),
    /// Run a real remote-write receiver that answers as the scenario's `[receiver]` does.
    Serve(ServeArgs),
    /// Serve a /metrics page with a fixed number of series, for a real Prometheus to scrape.
    Target(ExporterArgs),
    /// Write a scenario per remote_write entry of a prometheus.yml, Prometheus Operator
    /// resource or kube-prometheus-stack Helm values, each value with where it came from.
    Import(ImportArgs),
    /// Measure a running Prometheus (config, flags, its own metrics) and write a ready
    /// scenario per remote_write entry, with a calibration table.
    Calibrate(Box<CalibrateArgs>),
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
    /// Set a scenario key to one value, e.g. `remote_write.queue_config.capacity=5000`
    /// (repeatable; same keys as `rwsim sweep --set`). Reproduces one sweep point together
    /// with `--seed`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run the scenario exactly as written, once. By default a scenario with an outage is
    /// also run over the outage's start within a block range, other seeds and the plausible
    /// values of the model constants it does not set, for the best, median and worst case.
    #[arg(long)]
    pub literal: bool,
}

#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// Scenario file or `builtin:NAME` with a `[[receiver.fault]]` window (or an incident
    /// with an end): its first one is the outage whose length is varied.
    pub scenario: String,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Set a scenario key to one value (repeatable), as `rwsim run --set`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print the budget as one JSON object instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Write budget.json and the chart (budget.png, budget.svg) into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Phases of the outage's start over one block range.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub phases: usize,
    /// Spacing of the outage lengths tried (default: a quarter of the block range).
    #[arg(long, value_name = "DURATION")]
    pub step: Option<String>,
    /// Longest outage tried (default: 16 steps).
    #[arg(long, value_name = "DURATION")]
    pub max_length: Option<String>,
    /// Resolution of the budget (the step must be a multiple of it).
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub resolution: String,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A scenario file (or `builtin:NAME`) to run and report on — with a `[sweep]` table,
    /// the whole sweep is run — or a directory written by `rwsim run --out DIR`,
    /// `rwsim sweep --out DIR` or `rwsim merge --out DIR`, reported as it is.
    pub input: String,
    /// For a scenario: where to write the run's (or sweep's) files and the report (default:
    /// `report-NAME` in the current directory). A directory input is reported in place.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// For a scenario without `[sweep]`: override its seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// For a scenario with `[sweep]`: the recommendation's targets.
    #[command(flatten)]
    pub targets: TargetArgs,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Scenario file or `builtin:NAME`; its `[sweep]` table, if any, defines the grid.
    pub scenario: String,
    /// Sweep a key over a list (`KEY=2500,5000`) or an inclusive range (`KEY=10..200:10`,
    /// `KEY=30m..6h:30m`). Repeatable; replaces the same key of the file's `[sweep]` table.
    #[arg(long = "set", value_name = "KEY=VALUES")]
    pub set: Vec<String>,
    /// Seeds per grid point; metrics get a mean and a 95% confidence interval.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub replications: u32,
    /// Worker threads (default: RAYON_NUM_THREADS, else one per core). Results do not
    /// depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Run only the points whose index modulo N is I (0 <= I < N), for spreading a sweep
    /// over machines; join the parts with `rwsim merge`.
    #[arg(long, value_name = "I/N")]
    pub partition: Option<String>,
    /// Directory for sweep.csv, sweep.json, sweep-scenario.toml and the charts
    /// (heatmap-*.png/svg, curves-*.png/svg), created if missing; a partition writes only
    /// its sweep-part-I-of-N.csv.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Print wall time, runs per second and the time spent in the simulator to stderr.
    #[arg(long)]
    pub timing: bool,
    #[command(flatten)]
    pub targets: TargetArgs,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Scenario file or `builtin:NAME` (e.g. `builtin:compare-senders`).
    pub scenario: String,
    /// Senders, comma-separated: prometheus (the file's version), prometheus-2.42,
    /// prometheus-3.x, agent, alloy, vmagent (the version in the file's `[vmagent]` table, default current),
    /// vmagent-1.79, vmagent-current.
    #[arg(long, value_name = "LIST", default_value = "prometheus-3.x,agent,alloy,vmagent")]
    pub senders: String,
    /// Override the scenario's seed (the same for every sender).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the comparison as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write compare.md, compare.json and the chart (compare.png, compare.svg) here;
    /// `rwsim report DIR` then includes the comparison.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: RAYON_NUM_THREADS, else one per core). Results do not
    /// depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The partial CSVs (`sweep-part-I-of-N.csv`), in any order.
    #[arg(required = true, value_name = "CSV")]
    pub parts: Vec<PathBuf>,
    /// Directory for the merged sweep.csv, sweep.json and charts, created if missing.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// The swept scenario file (or `builtin:NAME`), exactly as swept: copied to
    /// sweep-scenario.toml for `rwsim report DIR`, after checking it against the parts.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
    #[command(flatten)]
    pub targets: TargetArgs,
}

/// Targets of the recommendation.
#[derive(Clone, Debug, Args)]
pub struct TargetArgs {
    /// Largest acceptable loss, as a fraction (`0.001`) or a percentage (`0.1%`). The
    /// default, 0, accepts no lost sample.
    #[arg(long, value_name = "FRACTION", default_value = "0")]
    pub max_loss: String,
    /// Largest acceptable p99 delivery latency, e.g. `30s` (default: no limit).
    #[arg(long, value_name = "DURATION")]
    pub max_p99_latency: Option<String>,
    /// Largest acceptable peak queue memory, e.g. `256MiB` (default: no limit).
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScenariosArgs {
    /// Print this bundled scenario's TOML (comments included) instead of the list, e.g.
    /// `rwsim scenarios --show outage-wal-loss > mine.toml`.
    #[arg(long, value_name = "NAME")]
    pub show: Option<String>,
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
    /// Scenario file or `builtin:NAME`: its `[receiver]` (latency, faults, incidents, limits)
    /// runs in real time from server start; remote_write.remote_timeout is the client timeout.
    pub scenario: String,
    /// Address to listen on; port 0 picks a free one (printed on stderr).
    #[arg(long, default_value = "127.0.0.1:9201")]
    pub listen: SocketAddr,
    /// Write serve.csv (per second) and serve_timestamps.csv (unique samples per timestamp
    /// second) into this directory at SIGINT/SIGTERM (created at start; the default is the
    /// current directory, and the start-up lines say where).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Largest request body in bytes (1 KiB to 32 MiB); larger gets 413.
    #[arg(long, default_value_t = 8 << 20)]
    pub max_body_bytes: u64,
    /// Most series, and most samples, in one request (1 to 4,194,304); more gets 413.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_samples_per_request: u64,
    /// Most open connections (1 to 65,536; each carries one request at a time).
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Duplicates are detected for samples within this many seconds of the newest one (1 to
    /// 604,800).
    #[arg(long, default_value_t = 1800)]
    pub dedup_window_seconds: u64,
    /// Seconds a client has to send its request headers before the connection is closed (1
    /// to 3600).
    #[arg(long, default_value_t = 10)]
    pub header_read_timeout_seconds: u64,
    /// Seconds a client has to send its whole body (1 to 3600); slower gets 408.
    #[arg(long, default_value_t = 30)]
    pub body_read_timeout_seconds: u64,
}

#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// Series exposed across all targets (1 to 1,000,000).
    #[arg(long)]
    pub series: u64,
    /// Split the series over this many targets (1 to --series), served at /metrics/0 …
    /// /metrics/{N-1}.
    #[arg(long, default_value_t = 1)]
    pub targets: u32,
    /// Address to listen on; port 0 picks a free one (printed on stderr).
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: SocketAddr,
    /// Values of the series: `cycle` (small integers, the fidelity recordings' workload),
    /// `counter` (monotonic, varying increments), `gauge` (random full-precision),
    /// `constant`, `histogram` (classic: cumulative `_bucket{le}`, `_sum`, `_count`) or
    /// `mix` (28 % histogram series, 40 % counters, 20 % gauges, 12 % constants: a node
    /// exporter plus an application).
    #[arg(long, default_value = "cycle", value_parser = ["cycle", "counter", "gauge", "constant", "histogram", "mix"])]
    pub values: String,
    /// Seed of the values (the series' names do not depend on it).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A prometheus.yml, a Prometheus Operator `Prometheus` resource (YAML, several
    /// documents allowed) or kube-prometheus-stack Helm values.
    pub file: PathBuf,
    /// Prometheus's command-line flags, e.g. "--storage.tsdb.wal-segment-size=64MB
    /// --storage.remote.flush-deadline=2m".
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub flags: Option<String>,
    /// A file with Prometheus's flags: a command line, one flag per line, or an environment
    /// file such as Debian's /etc/default/prometheus (ARGS="...").
    #[arg(long, value_name = "FILE")]
    pub flags_file: Option<PathBuf>,
    /// Only this remote_write entry: its name, its URL or its index (0, 1, ...).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// The Prometheus version (e.g. 2.42.0, v2.45.0, 3.5.0): picks the model and the
    /// queue_config defaults. Default: the Operator's spec.version or the Helm image tag,
    /// else 3.x (with a warning).
    #[arg(long, value_name = "VERSION")]
    pub prometheus_version: Option<String>,
    /// The scraped series, if known (else an assumption, marked in the file).
    #[arg(long, value_name = "N")]
    pub series: Option<u64>,
    /// The scrape targets, if known (else counted from static_configs, or assumed).
    #[arg(long, value_name = "N")]
    pub targets: Option<u32>,
    /// Length of the simulated run (default: 6h, or 3 block ranges if longer).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Directory for the scenario files (NAME.toml), created if missing.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Overwrite existing scenario files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Base URL of the running Prometheus, e.g. http://localhost:9090 (with its route
    /// prefix, if any).
    #[arg(long, value_name = "URL", required_unless_present = "from", conflicts_with = "from")]
    pub prometheus: Option<String>,
    /// Calibrate from the answers saved by an earlier `--save FILE`, without a network.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Save every answer of the Prometheus API (no credentials) to FILE, for `--from`.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// How far back to measure (PromQL over Prometheus's own metrics); when Prometheus does
    /// not scrape itself, how long to sample its /metrics (Ctrl-C ends early). Default: 6h,
    /// or the window of the --from file.
    #[arg(long, value_name = "DURATION")]
    pub window: Option<String>,
    /// Interval between samples of /metrics when Prometheus does not scrape itself
    /// (default: window / 60, between 1s and 15s).
    #[arg(long, value_name = "DURATION")]
    pub sample_every: Option<String>,
    /// Only this remote_write entry: its name, its URL or its index (0, 1, ...).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// Label matchers of Prometheus's own series when it scrapes itself, e.g.
    /// '{job="prometheus",instance="prom-0:9090"}' (default: found by matching
    /// process_start_time_seconds of /metrics).
    #[arg(long, value_name = "MATCHERS")]
    pub selector: Option<String>,
    /// The client's share of each request (network round trip, TLS), if known: subtracted
    /// from the measured request durations before the receiver latency is fitted, and
    /// written as sender.request_overhead.
    #[arg(long, value_name = "DURATION")]
    pub request_overhead: Option<String>,
    /// Length of the scenario's run (default: 6h, or 3 block ranges if longer).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Run each calibrated scenario without a fault and compare its steady state with the
    /// live one (shards, desired shards, pending, batch duration, bytes/s).
    #[arg(long)]
    pub check: bool,
    /// Directory for the scenario files (NAME.toml), created if missing.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Overwrite existing scenario files.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// How to reach a protected Prometheus.
#[derive(Clone, Debug, Default, Args)]
pub struct AuthArgs {
    /// Send `Authorization: Bearer TOKEN`, the token read from FILE.
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<PathBuf>,
    /// Basic auth user name (the password from --basic-auth-password-file).
    #[arg(long, value_name = "USER", requires = "basic_auth_password_file")]
    pub basic_auth_user: Option<String>,
    /// File holding the basic auth password.
    #[arg(long, value_name = "FILE", requires = "basic_auth_user")]
    pub basic_auth_password_file: Option<PathBuf>,
    /// An extra request header, e.g. 'X-Scope-OrgID: tenant-1' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// PEM file of the CA(s) that sign the server's certificate (https), instead of the
    /// bundled Mozilla roots.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS, with --key-file.
    #[arg(long, value_name = "FILE", requires = "key_file")]
    pub cert_file: Option<PathBuf>,
    /// Client key (PEM) for mutual TLS, with --cert-file.
    #[arg(long, value_name = "FILE", requires = "cert_file")]
    pub key_file: Option<PathBuf>,
    /// Do not verify the server's certificate (testing only).
    #[arg(long)]
    pub insecure_skip_verify: bool,
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
