//! `rwsim run`: one scenario, one forecast.

use super::{CliError, io_err, set_err, source};
use crate::cli::RunArgs;
use reports::csv::CsvRows;
use scenarios::sweep::Override;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::process::ExitCode;

pub fn run(a: RunArgs) -> Result<ExitCode, CliError> {
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
    let cfg = &scenario.config;
    // Open every output before the run, so a bad path fails in a second, not after it.
    let mut csv = None;
    let mut summary_path = None;
    if let Some(dir) = &a.out {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join("timeseries.csv");
        let file = File::create(&path).map_err(io_err(&path))?;
        csv = Some((path, CsvRows::new(BufWriter::new(file))));
        summary_path = Some(dir.join("summary.json"));
    }
    let result = match &mut csv {
        Some((_, rows)) => sim_core::simulate(cfg, rows),
        None => sim_core::simulate(cfg, &mut ()),
    }
    .map_err(|e| CliError::Sim(scenario.origin.clone(), e))?;
    if let Some((path, rows)) = csv {
        let mut w = rows.finish().map_err(|e| CliError::Io(path.display().to_string(), e.into()))?;
        w.flush().map_err(io_err(&path))?;
    }
    let json = reports::json::render(&result);
    if let Some(path) = &summary_path {
        fs::write(path, &json).map_err(io_err(path))?;
    }
    let out = if a.json { json } else { reports::summary::render(&result) };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(out.as_bytes());
    if !result.conservation_ok {
        eprintln!("rwsim: error: sample conservation was violated: this is a bug, please report it");
        return Ok(ExitCode::from(70));
    }
    Ok(ExitCode::SUCCESS)
}
