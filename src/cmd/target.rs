//! `rwsim target`: a fixed workload for a real Prometheus to scrape.

use super::CliError;
use crate::cli::ExporterArgs;
use live::log;
use live::target::TargetOptions;
use std::process::ExitCode;

pub fn run(a: ExporterArgs) -> Result<ExitCode, CliError> {
    let opts = TargetOptions { listen: a.listen, series: a.series, targets: a.targets };
    live::target::run(opts, live::http::termination(), |addr| {
        log!(
            "rwsim target: listening on {addr}: {} series over {} target(s) at /metrics/0 … /metrics/{}",
            a.series,
            a.targets,
            a.targets - 1
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
