//! One module per subcommand, and the error type they share.

pub mod bench;
pub mod budget;
pub mod calibrate;
pub mod compare;
pub mod import;
pub mod library;
pub mod merge;
pub mod progress;
pub mod report;
pub mod run;
pub mod serve;
pub mod sweep;
pub mod sweep_dir;
pub mod target;
pub mod validate;

use std::fmt;
use std::path::Path;

/// What can stop a subcommand. Bad input exits 2, anything else 1.
#[derive(Debug)]
pub enum CliError {
    /// The scenario file is missing or invalid.
    Scenario(scenarios::ScenarioError),
    /// The simulation refused to run or stopped.
    Sim(String, sim_core::SimError),
    /// Writing an output failed.
    Io(String, std::io::Error),
    /// A flag value is invalid.
    Usage(String),
    /// A sweep point does not make a valid scenario: its index, its assignments, the error.
    Point(u64, String, Box<scenarios::ScenarioError>),
    /// A sweep.csv cannot be read or joined.
    Merge(String),
    /// A run broke sample conservation: a bug in rwsim.
    Conservation(String),
    /// A live command (serve, target) failed.
    Live(live::LiveError),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Scenario(_) | CliError::Usage(_) | CliError::Point(..) | CliError::Merge(_) => 2,
            CliError::Conservation(_) => 70,
            CliError::Sim(_, sim_core::SimError::Config(_)) => 2,
            CliError::Live(live::LiveError::Usage(_)) => 2,
            CliError::Sim(..) | CliError::Io(..) | CliError::Live(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Scenario(e) => e.fmt(f),
            CliError::Sim(origin, e) => write!(f, "{origin}: {e}"),
            CliError::Io(what, e) => write!(f, "{what}: {e}"),
            CliError::Usage(m) => f.write_str(m),
            CliError::Point(i, set, e) => write!(f, "{e} (at sweep point {i}: {set})"),
            CliError::Merge(m) => f.write_str(m),
            CliError::Conservation(what) => {
                write!(f, "{what}: sample conservation was violated: this is a bug, please report it")
            }
            CliError::Live(e) => e.fmt(f),
        }
    }
}

impl From<live::LiveError> for CliError {
    fn from(e: live::LiveError) -> Self {
        CliError::Live(e)
    }
}

impl From<scenarios::ScenarioError> for CliError {
    fn from(e: scenarios::ScenarioError) -> Self {
        CliError::Scenario(e)
    }
}

/// Loads `arg`: a file path, or `builtin:NAME`.
pub fn load(arg: &str) -> Result<scenarios::Scenario, CliError> {
    Ok(source(arg)?.load()?)
}

/// Reads the text of `arg`: a file path, or `builtin:NAME`.
pub fn source(arg: &str) -> Result<scenarios::Source, CliError> {
    match arg.strip_prefix("builtin:") {
        Some(name) => Ok(scenarios::builtin_source(name)?),
        None => Ok(scenarios::Source::read(Path::new(arg))?),
    }
}

/// A `--set` error, naming the flag as the user typed it.
pub fn set_err(arg: &str) -> impl FnOnce(scenarios::sweep::SweepError) -> CliError + '_ {
    move |e| CliError::Usage(format!("--set {arg}: {}", e.message))
}

/// The pool of `--threads N` runs (all cores when not given), and its size.
pub fn thread_pool(threads: Option<usize>) -> Result<(rayon::ThreadPool, usize), CliError> {
    let threads = match threads {
        Some(0) => return Err(CliError::Usage("--threads must be at least 1".into())),
        Some(n) => n,
        None => rayon::current_num_threads(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::Usage(format!("--threads {threads}: {e}")))?;
    Ok((pool, threads))
}

/// Wraps an I/O error with the path it concerns.
pub fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |e| CliError::Io(path.display().to_string(), e)
}
