//! `rwsim serve`: the scenario's receiver as a real remote-write endpoint.

use super::{CliError, load};
use crate::cli::ServeArgs;
use live::books::BookLimits;
use live::log;
use live::serve::{ModelSettings, ServeOptions, ServerLimits};
use std::process::ExitCode;
use std::time::Duration;

pub fn run(a: ServeArgs) -> Result<ExitCode, CliError> {
    let scenario = load(&a.scenario)?;
    let cfg = &scenario.config;
    cfg.validate().map_err(|e| CliError::Sim(scenario.origin.clone(), e.into()))?;
    let model = ModelSettings {
        receiver: cfg.receiver.clone(),
        seed: a.seed.unwrap_or(cfg.seed),
        run: cfg.duration,
        client_timeout: cfg.remote_write.remote_timeout,
    };
    let opts = ServeOptions {
        listen: a.listen,
        limits: ServerLimits {
            max_body_bytes: a.max_body_bytes,
            max_samples_per_request: a.max_samples_per_request,
            max_connections: a.max_connections,
            header_read_timeout: Duration::from_secs(a.header_read_timeout_seconds),
            body_read_timeout: Duration::from_secs(a.body_read_timeout_seconds),
            ..ServerLimits::default()
        },
        books: BookLimits { dedup_window: Duration::from_secs(a.dedup_window_seconds), ..BookLimits::default() },
        out_dir: Some(a.out.clone()),
    };
    // Said at start, with the absolute path: the default is the current directory.
    let out = std::path::absolute(&a.out).unwrap_or_else(|_| a.out.clone());
    let (csv, timestamps) = (out.join("serve.csv"), out.join("serve_timestamps.csv"));
    let name = scenario.name.clone();
    let report = live::serve::run(opts, model, live::http::termination(), |addr| {
        log!("rwsim serve: listening on {addr}: receiver of scenario {name}; its clock starts now");
        log!(
            "rwsim serve: at SIGINT/SIGTERM it writes {} and {} (choose the directory with --out)",
            csv.display(),
            timestamps.display()
        );
    })?;
    let t = &report.totals;
    log!(
        "rwsim serve: stopped after {:.1}s: {} samples accepted ({} unique, {} duplicates), {} rejected; wrote {} and {}",
        report.uptime.as_secs_f64(),
        t.samples_accepted,
        t.samples_unique(),
        t.samples_duplicate,
        t.samples_rejected,
        csv.display(),
        timestamps.display()
    );
    Ok(ExitCode::SUCCESS)
}
