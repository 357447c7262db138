//! `rwsim validate`: check scenario files without running them.

use super::{CliError, source};
use crate::cli::ValidateArgs;
use scenarios::sweep::Grid;
use std::process::ExitCode;

pub fn run(a: ValidateArgs) -> Result<ExitCode, CliError> {
    let mut bad = 0;
    for s in &a.scenarios {
        match check(s) {
            Ok((sc, points)) => println!(
                "{}: ok ({}, {}, {}{})",
                s,
                sc.name,
                sim_core::config::SenderMode::describe(sc.config.sender.mode.name(), sc.config.profile.as_str()),
                sc.config.duration,
                match points {
                    0 => String::new(),
                    n => format!(", [sweep] of {n} valid point{}", if n == 1 { "" } else { "s" }),
                }
            ),
            Err(e) => {
                bad += 1;
                eprintln!("rwsim: error: {e}");
            }
        }
    }
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// Loads a scenario and, if it has a `[sweep]` table, every point of its grid; returns the
/// scenario and the number of points (0 without a table).
fn check(arg: &str) -> Result<(scenarios::Scenario, u64), CliError> {
    let src = source(arg)?;
    let sc = src.load()?;
    sc.config.validate().map_err(|e| CliError::Sim(sc.origin.clone(), e.into()))?;
    if sc.sweep.is_empty() {
        return Ok((sc, 0));
    }
    let grid = Grid::new(&sc.sweep, Vec::new()).map_err(|e| CliError::Usage(format!("{}: [sweep]: {e}", sc.origin)))?;
    let prepared = src.prepare()?;
    for i in 0..grid.len() {
        let set = grid.point(i);
        prepared.config_with(&set).map_err(|e| {
            let shown: Vec<String> = set.iter().map(|o| o.to_string()).collect();
            CliError::Point(i, shown.join(", "), Box::new(e))
        })?;
    }
    Ok((sc, grid.len()))
}
