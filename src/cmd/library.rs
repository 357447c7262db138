//! `rwsim scenarios`: the bundled scenario library, and `--show NAME` to start from one.

use super::CliError;
use crate::cli::ScenariosArgs;
use std::io::Write;
use std::process::ExitCode;

pub fn run(a: ScenariosArgs) -> Result<ExitCode, CliError> {
    let mut stdout = std::io::stdout().lock();
    if let Some(name) = &a.show {
        // `builtin:NAME`, as `run` takes it, is accepted too.
        let bare = name.strip_prefix("builtin:").unwrap_or(name);
        let Some(b) = scenarios::library().iter().find(|b| b.name == bare) else {
            let names: Vec<&str> = scenarios::library().iter().map(|b| b.name).collect();
            return Err(CliError::Usage(format!(
                "--show {name}: no bundled scenario has this name; the library has: {}",
                names.join(", ")
            )));
        };
        // A closed pipe (`| head`) is not an error worth reporting.
        let _ = stdout.write_all(b.source.as_bytes());
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    for b in scenarios::library() {
        let sc = scenarios::load_builtin(b.name)?;
        let about = sc.description.as_deref().unwrap_or("").lines().next().unwrap_or("");
        text.push_str(&format!("builtin:{:<28} {about}\n", b.name));
    }
    text.push_str(
        "\nRun one: rwsim run builtin:NAME. Start your own from one: rwsim scenarios --show NAME > mine.toml\n",
    );
    let _ = stdout.write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}
