//! `rwsim budget`: the longest outage of the scenario's kind that loses nothing.

use super::run::write_figure;
use super::{CliError, io_err, set_err, source};
use crate::cli::BudgetArgs;
use analysis::budget::{BudgetError, Options};
use scenarios::sweep::Override;
use std::fs;
use std::io::Write;
use std::process::ExitCode;

pub fn run(a: BudgetArgs) -> Result<ExitCode, CliError> {
    let overrides = a.set.iter().map(|s| Override::from_flag(s).map_err(set_err(s))).collect::<Result<Vec<_>, _>>()?;
    let mut scenario = source(&a.scenario)?.load_with(&overrides)?;
    if let Some(seed) = a.seed {
        scenario.config.seed = seed;
    }
    let cfg = &scenario.config;
    let dur = |flag: &str, v: &str| {
        scenarios::units::parse_duration(v).map_err(|e| CliError::Usage(format!("--{flag} {v}: {e}")))
    };
    let mut opts = Options::for_scenario(cfg);
    opts.phases = a.phases;
    opts.resolution = dur("resolution", &a.resolution)?;
    if let Some(s) = &a.step {
        opts.step = dur("step", s)?;
    } else {
        // The default step, rounded to the resolution.
        let r = opts.resolution.nanos().max(1);
        opts.step = sim_core::time::SimDuration((opts.step.nanos() / r).max(1) * r);
    }
    opts.max_length = match &a.max_length {
        Some(m) => dur("max-length", m)?,
        None => sim_core::time::SimDuration(opts.step.nanos() * 16),
    };
    if !(1..=64).contains(&opts.phases) {
        return Err(CliError::Usage(format!("--phases {}: must be from 1 to 64", opts.phases)));
    }
    if opts.resolution.nanos() == 0 || opts.max_length.nanos() / opts.resolution.nanos() > 100_000 {
        return Err(CliError::Usage(
            "--resolution: must be greater than 0 and at most 100,000 steps of it up to --max-length".into(),
        ));
    }
    if let Some(dir) = &a.out {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let b = analysis::budget::search(cfg, &opts).map_err(|e| match e {
        BudgetError::Sim(e) => CliError::Sim(scenario.origin.clone(), e),
        BudgetError::NoOutage => CliError::Usage(format!("{}: {e}", scenario.origin)),
        BudgetError::Options(m) => CliError::Usage(format!("--step, --max-length, --resolution: {m}")),
    })?;
    let profile = cfg.profile.to_string();
    let of = reports::budget::Of { scenario: &scenario.name, prometheus: &profile, seed: cfg.seed };
    let json = reports::budget::json(&b, &of);
    if let Some(dir) = &a.out {
        let path = dir.join("budget.json");
        fs::write(&path, &json).map_err(io_err(&path))?;
        write_figure(dir, "budget", &reports::budget::chart(&b, &of))?;
        // On stderr, as `run --out` says it: stdout carries the budget (or its JSON) only.
        eprintln!("rwsim: wrote {}: budget.json, budget.png, budget.svg", dir.join("").display());
    }
    let text = if a.json { json } else { reports::budget::render(&b, &of) };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}
