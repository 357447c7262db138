//! End-to-end tests of the `rwsim` binary: what a user types and what they see.

mod answers;
mod cli;
mod compare;
mod determinism;
mod import;
mod incidents;
mod library;
mod model_doc;
mod readme;
mod reports;
mod serve;
mod sweep;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The `rwsim` binary of this build.
pub fn rwsim() -> Command {
    Command::cargo_bin("rwsim").expect("rwsim is built")
}

/// Path of a bundled scenario file.
pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/library").join(format!("{name}.toml"))
}

/// Runs `rwsim run FILE --json --literal [extra]` (the scenario as written, once) and parses
/// the forecast.
pub fn run_json(file: &std::path::Path, extra: &[&str]) -> Value {
    let out = rwsim().arg("run").arg(file).arg("--json").arg("--literal").args(extra).output().expect("rwsim runs");
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

/// A number from the forecast JSON.
pub fn n(v: &Value, path: &str) -> f64 {
    v.pointer(path).and_then(Value::as_f64).unwrap_or_else(|| panic!("{path} missing"))
}

/// Samples lost before any answer, all reasons.
pub fn lost(v: &Value) -> f64 {
    n(v, "/samples/dropped/wal_truncation")
        + n(v, "/samples/dropped/too_old")
        + n(v, "/samples/dropped/reshard_shutdown")
}

/// Writes `base + extra` for every case into `dir`, runs `rwsim SUBCOMMAND FILE`, and checks
/// the exit code 2 and that stderr starts with `rwsim: error: FILE:` + the expected text.
pub fn assert_located_errors(dir: &Path, subcommand: &str, base: &str, cases: &[(&str, &str)]) {
    for (i, (extra, want)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad{i}.toml"));
        std::fs::write(&path, format!("{base}{extra}")).unwrap();
        let out = rwsim().arg(subcommand).arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let expected = format!("rwsim: error: {}:{want}", path.display());
        assert!(stderr.starts_with(&expected), "got:  {stderr}\nwant: {expected}");
        assert!(out.stdout.is_empty() || subcommand == "validate");
    }
}
