//! `rwsim validate`: check scenario files without running them.

use super::{CliError, load};
use crate::cli::ValidateArgs;
use std::process::ExitCode;

pub fn run(a: ValidateArgs) -> Result<ExitCode, CliError> {
    let mut bad = 0;
    for s in &a.scenarios {
        match load(s).and_then(|sc| {
            sc.config.validate().map_err(|e| CliError::Sim(sc.origin.clone(), e.into()))?;
            Ok(sc)
        }) {
            Ok(sc) => println!("{}: ok ({}, Prometheus {}, {})", s, sc.name, sc.config.profile, sc.config.duration),
            Err(e) => {
                bad += 1;
                eprintln!("rwsim: error: {e}");
            }
        }
    }
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) })
}
