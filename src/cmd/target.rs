//! `rwsim target`: a fixed workload for a real Prometheus to scrape.

use super::CliError;
use crate::cli::ExporterArgs;
use live::log;
use live::target::{TargetOptions, Values, Workload};
use std::process::ExitCode;

pub fn run(a: ExporterArgs) -> Result<ExitCode, CliError> {
    // clap only lets the documented names through.
    let values = Values::parse(&a.values).unwrap_or(Values::Cycle);
    let workload = Workload { series: a.series, targets: a.targets, values, seed: a.seed };
    let opts = TargetOptions { listen: a.listen, workload };
    live::target::run(opts, live::http::termination(), |addr| {
        log!(
            "rwsim target: listening on {addr}: {} series ({} values, seed {}) over {} target(s) at /metrics/0 … /metrics/{}",
            a.series,
            values.name(),
            a.seed,
            a.targets,
            a.targets - 1
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
