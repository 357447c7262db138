//! `rwsim merge`: join the partial CSVs of a partitioned sweep.
//!
//! The merged directory holds the files a single `rwsim sweep --out DIR` of the same grid
//! writes, byte for byte — `sweep.csv`, `sweep.json` and the charts, plus
//! `sweep-scenario.toml` when `--scenario FILE` gives the scenario (checked against the
//! parts' `sweep_id`) — and the printed report is the same: rows are re-rendered from the
//! parsed values, sorted by point, after checking that the parts come from one sweep and
//! cover every point once.

use super::sweep::{create, sweep_id_of_result, targets, write};
use super::sweep_dir::{self, SweepFiles, closest_row};
use super::{CliError, source};
use crate::cli::MergeArgs;
use std::fs::File;
use std::io::{BufReader, Write};
use std::process::ExitCode;

pub fn run(a: MergeArgs) -> Result<ExitCode, CliError> {
    let targets = targets(&a.targets)?;
    let out = a.out.join(sweep_dir::CSV);
    let mut parts = Vec::with_capacity(a.parts.len());
    for path in &a.parts {
        let name = path.display().to_string();
        if same_file(path, &out) {
            return Err(CliError::Usage(format!(
                "{name} is also the output ({}): write the merged file elsewhere with --out DIR",
                out.display()
            )));
        }
        let file = File::open(path).map_err(super::io_err(path))?;
        let part =
            reports::sweep::read_csv(BufReader::new(file)).map_err(|e| CliError::Merge(format!("{name}: {e}")))?;
        parts.push((name, part));
    }
    let mut result = reports::sweep::merge(parts).map_err(|e| CliError::Merge(e.to_string()))?;
    reports::sweep::fill_budgets(&mut result);
    let scenario = match &a.scenario {
        Some(arg) => {
            let src = source(arg)?;
            let want = &result.points[0].row.sweep_id;
            let got = sweep_id_of_result(&src.text, &result);
            if got != *want {
                return Err(CliError::Merge(format!(
                    "--scenario {arg}: not the scenario of this sweep: with the parts' grid and replications its \
                     sweep_id would be {got}, the parts have {want}; give the file exactly as it was swept"
                )));
            }
            Some(src)
        }
        None => None,
    };
    let (path, file) = create(&a.out, sweep_dir::CSV)?;
    let files = SweepFiles::open(&a.out, result.params.len(), scenario.is_some())?;
    write(&result, &path, file)?;
    files.write(&result, &targets, scenario.as_ref().map(|s| s.text.as_str()))?;
    let mut text = reports::sweep::render(&result, &targets);
    match &scenario {
        Some(src) => {
            if let Some(l) = sweep_dir::levers(src, &result, &targets, &a.out)? {
                text.push_str(&reports::sweep::render_levers(&l, &targets, &closest_row(&result, &targets)));
            }
        }
        None if {
            let stale = a.out.join(sweep_dir::LEVERS);
            if stale.is_file() {
                std::fs::remove_file(&stale).map_err(super::io_err(&stale))?;
            }
            true
        } && reports::sweep::recommend(&result, &targets)
            .is_some_and(|r| matches!(r, reports::sweep::Recommendation::NoneMeets { .. })) =>
        {
            text.push_str(
                "\nThe levers besides the swept settings are evaluated by running the scenario: give --scenario FILE \
                 (as `rwsim sweep` does).\n",
            );
        }
        None => {}
    }
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// Whether two paths name the same existing file.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
