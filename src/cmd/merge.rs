//! `rwsim merge`: join the partial CSVs of a partitioned sweep.
//!
//! The merged directory holds the files a single `rwsim sweep --out DIR` of the same grid
//! writes, byte for byte — `sweep.csv`, `sweep.json` and the charts, plus
//! `sweep-scenario.toml` when `--scenario FILE` gives the scenario (checked against the
//! parts' `sweep_id`) — and the printed report is the same: rows are re-rendered from the
//! parsed values, sorted by point, after checking that the parts come from one sweep and
//! cover every point once.

use super::sweep::{create, sweep_id_of_result, targets, write};
use super::sweep_dir::{self, SweepFiles};
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
    let result = reports::sweep::merge(parts).map_err(|e| CliError::Merge(e.to_string()))?;
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
            Some(src.text)
        }
        None => None,
    };
    let (path, file) = create(&a.out, sweep_dir::CSV)?;
    let files = SweepFiles::open(&a.out, result.params.len(), scenario.is_some())?;
    write(&result, &path, file)?;
    files.write(&result, &targets, scenario.as_deref())?;
    let text = reports::sweep::render(&result, &targets);
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
