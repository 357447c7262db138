//! `rwsim scenarios`: the bundled scenario library.

use super::CliError;
use std::process::ExitCode;

pub fn run() -> Result<ExitCode, CliError> {
    for b in scenarios::library() {
        let sc = scenarios::load_builtin(b.name)?;
        let about = sc.description.as_deref().unwrap_or("").lines().next().unwrap_or("");
        println!("builtin:{:<28} {about}", b.name);
    }
    Ok(ExitCode::SUCCESS)
}
