//! End-to-end tests of the `rwsim` binary: what a user types and what they see.

mod cli;
mod determinism;
mod incidents;
mod library;
mod serve;

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

/// The `rwsim` binary of this build.
pub fn rwsim() -> Command {
    Command::cargo_bin("rwsim").expect("rwsim is built")
}

/// Path of a bundled scenario file.
pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/library").join(format!("{name}.toml"))
}

/// Runs `rwsim run FILE --json [extra]` and parses the forecast.
pub fn run_json(file: &std::path::Path, extra: &[&str]) -> Value {
    let out = rwsim().arg("run").arg(file).arg("--json").args(extra).output().expect("rwsim runs");
    assert!(out.status.success(), "rwsim failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON object")
}

/// A fresh temporary directory under the target dir (no extra crates needed).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
