//! # scenarios: TOML scenario files → a validated [`SimConfig`]
//!
//! A scenario file describes one simulation run: the Prometheus version, the scrape
//! workload, the `remote_write` entry (with Prometheus's own key names, so values can be
//! pasted from a `prometheus.yml`), TSDB flags, and a receiver with latency and fault
//! windows. The full schema is in `docs/scenario.md`.
//!
//! ## Map
//! - [`load_file`], [`load_str`], [`load_builtin`]: text → [`Scenario`], or a
//!   [`ScenarioError`] that names the file, line, column and dotted key to fix.
//! - [`library`]: the bundled scenarios (`scenarios/library/*.toml`).
//! - [`raw`]: the file as written (serde structs, unknown keys rejected).
//! - [`units`]: the duration (`"1h30m"`) and size (`"128MiB"`) syntaxes.
//!
//! Loading goes in three steps: the TOML is parsed and every key's position indexed; the
//! tables are deserialized into [`raw::ScenarioFile`]; that is converted over the defaults of
//! the chosen Prometheus version and checked with [`SimConfig::validate`]. Every error of every
//! step is reported at the position of the key it concerns.
//!
//! ## Example
//! ```
//! let text = r#"
//! duration = "2h"
//! [workload]
//! series = 100000
//! [remote_write.queue_config]
//! capacity = 0
//! "#;
//! let err = scenarios::load_str(text, "bad.toml").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "bad.toml:6:12: remote_write.queue_config.capacity: must be at least 1 (it is the per-shard buffer in samples)"
//! );
//!
//! let ok = scenarios::load_str(&text.replace("capacity = 0", "capacity = 5000"), "ok.toml").unwrap();
//! assert_eq!(ok.name, "ok");
//! assert_eq!(ok.config.remote_write.queue.capacity, 5000);
//! assert_eq!(ok.config.remote_write.queue.max_shards, 50, "the Prometheus 3.x default");
//! ```
#![warn(missing_docs)]

mod convert;
mod error;
mod hints;
mod library;
pub mod raw;
mod spans;
pub mod units;

pub use error::{ErrorKind, ScenarioError};
pub use library::{BuiltinScenario, library, load_builtin};

use sim_core::config::SimConfig;
use std::path::Path;

/// A loaded and validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// `name` from the file; default: the file stem, or the built-in scenario's name.
    pub name: String,
    /// `description` from the file, if any.
    pub description: Option<String>,
    /// The validated configuration; its `name` equals [`Scenario::name`].
    pub config: SimConfig,
    /// Where it came from: the file path as given, or `<builtin:NAME>`.
    pub origin: String,
    /// `remote_write.name` (Prometheus's `remote_name` label), if set. Not part of the model.
    pub remote_name: Option<String>,
    /// `remote_write.url`, if set. Not part of the model.
    pub url: Option<String>,
    /// The TOML text it was loaded from, comments included.
    pub source: String,
}

/// Reads and loads a scenario file. The default name is the file stem (`outage.toml` →
/// `outage`); errors name the path as given.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        origin: origin.clone(),
        line: 0,
        column: 0,
        key: String::new(),
        message: format!("cannot read the scenario file: {e}"),
        kind: ErrorKind::Io,
    })?;
    convert::load(&text, &origin, &default_name(&origin))
}

/// Loads a scenario from text. `origin` is used in errors and for the default name: the stem
/// of a path (`"scenarios/outage.toml"` → `outage`) or `NAME` of `"<builtin:NAME>"`.
pub fn load_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    convert::load(text, origin, &default_name(origin))
}

fn default_name(origin: &str) -> String {
    if let Some(name) = origin
        .strip_prefix("<builtin:")
        .and_then(|r| r.strip_suffix('>'))
    {
        return name.to_string();
    }
    match Path::new(origin).file_stem() {
        Some(stem) if !stem.is_empty() => stem.to_string_lossy().into_owned(),
        _ => "scenario".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_come_from_the_origin() {
        assert_eq!(default_name("scenarios/outage.toml"), "outage");
        assert_eq!(default_name("<builtin:default>"), "default");
        assert_eq!(default_name(""), "scenario");
        assert_eq!(default_name("<stdin>"), "<stdin>");
    }
}
