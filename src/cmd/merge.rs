//! `rwsim merge`: join the partial CSVs of a partitioned sweep.
//!
//! The merged `sweep.csv` and the printed report are the bytes a single `rwsim sweep` of the
//! same grid writes and prints: rows are re-rendered from the parsed values, sorted by
//! point, after checking that the parts come from one sweep and cover every point once.

use super::CliError;
use super::sweep::{create, targets, write};
use crate::cli::MergeArgs;
use std::fs::File;
use std::io::{BufReader, Write};
use std::process::ExitCode;

pub fn run(a: MergeArgs) -> Result<ExitCode, CliError> {
    let targets = targets(&a.targets)?;
    let out = a.out.join("sweep.csv");
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
    let (path, file) = create(&a.out, "sweep.csv")?;
    write(&result, &path, file)?;
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
