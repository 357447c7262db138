//! `rwsim`: forecast what a Prometheus remote-write queue will do, from a scenario file.
//!
//! A small `main`: parse the command line, run one subcommand, print one error.

mod cli;
mod cmd;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Run(a) => cmd::run::run(a),
        cli::Command::Validate(a) => cmd::validate::run(a),
        cli::Command::Report(a) => cmd::report::run(a),
        cli::Command::Scenarios(a) => cmd::library::run(a),
        cli::Command::Budget(a) => cmd::budget::run(a),
        cli::Command::Bench(a) => cmd::bench::run(a),
        cli::Command::Sweep(a) => cmd::sweep::run(a),
        cli::Command::Compare(a) => cmd::compare::run(a),
        cli::Command::Merge(a) => cmd::merge::run(a),
        cli::Command::Serve(a) => cmd::serve::run(a),
        cli::Command::Target(a) => cmd::target::run(a),
        cli::Command::Import(a) => cmd::import::run(a),
        cli::Command::Calibrate(a) => cmd::calibrate::run(*a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rwsim: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
