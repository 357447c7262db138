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
//! - [`Source`]: a scenario's text, loaded once or once per sweep point with
//!   [`sweep::Override`]s applied before validation.
//! - [`sweep`]: sweep axes (`[sweep]` table, `--set KEY=VALUES`) and their grid.
//! - [`library`]: the bundled scenarios (`scenarios/library/*.toml`).
//! - [`raw`]: the file as written (serde structs, unknown keys rejected).
//! - [`units`]: the duration (`"1h30m"`) and size (`"128MiB"`) syntaxes.
//! - [`import`]: a `prometheus.yml`, Operator resource or Helm values → scenario files with
//!   the provenance of every value (`rwsim import`, and `rwsim calibrate`'s starting point).
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

pub mod compare;
mod convert;
mod error;
mod hints;
pub mod import;
mod library;
mod pin;
pub mod raw;
mod spans;
pub mod sweep;
pub mod units;
pub mod vmagent;

pub use error::{ErrorKind, ScenarioError};
pub use library::{BuiltinScenario, builtin_source, library, load_builtin};
pub use pin::Pinned;

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
    /// The axes of the file's `[sweep]` table, in file order (empty without one). Only
    /// `rwsim sweep` uses them; [`Scenario::config`] is the scenario as written.
    pub sweep: Vec<sweep::Axis>,
    /// Provenance: the dotted keys the file or a `--set` gives a value, sorted (`[sweep]`
    /// excluded), e.g. `tsdb.wal_bytes_per_sample`, `receiver.fault[0].start`. Everything
    /// else is a default; see [`Scenario::is_set`].
    pub keys_set: Vec<String>,
    /// The `--set` overrides it was loaded with ([`Source::load_with`]), in the order given;
    /// [`Scenario::pinned_source`] writes them into the file.
    pub set: Vec<sweep::Override>,
}

/// A scenario's text and where it came from, to load once or, with overrides, once per
/// sweep point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The file path as given, or `<builtin:NAME>`.
    pub origin: String,
    /// The TOML text.
    pub text: String,
}

impl Source {
    /// Reads a scenario file.
    pub fn read(path: &Path) -> Result<Source, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            origin: origin.clone(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read the scenario file: {e}"),
            kind: ErrorKind::Io,
        })?;
        Ok(Source { origin, text })
    }

    /// Text with an origin for errors and the default name (see [`load_str`]).
    pub fn from_text(text: impl Into<String>, origin: impl Into<String>) -> Source {
        Source { origin: origin.into(), text: text.into() }
    }

    /// Loads and validates the scenario as written.
    pub fn load(&self) -> Result<Scenario, ScenarioError> {
        self.load_with(&[])
    }

    /// Loads it with `overrides` applied to the parsed document before conversion and
    /// validation. An error about an overridden key points at the key in the file (or its
    /// table) and says which value the override gave it.
    ///
    /// ```
    /// use scenarios::sweep::Override;
    /// let src = scenarios::Source::from_text(
    ///     "duration = \"2h\"\n[workload]\nseries = 1000\n[[receiver.fault]]\nstart = \"1h\"\nend = \"70m\"\nstatus = 503\n",
    ///     "outage.toml",
    /// );
    /// let long = Override::from_flag("receiver.fault[0].length=30m").unwrap();
    /// let s = src.load_with(&[long]).unwrap();
    /// assert_eq!(s.config.receiver.faults[0].end.to_string(), "1h30m");
    /// let too_long = Override::from_flag("receiver.fault[0].length=2h").unwrap();
    /// assert_eq!(
    ///     src.load_with(&[too_long]).unwrap_err().to_string(),
    ///     "outage.toml:6:7: receiver.fault[0].end: 3h is after the end of the run (2h); \
    ///      --set sets it to start + length = 1h + 2h = 3h (receiver.fault[0].length = 2h)"
    /// );
    /// ```
    pub fn load_with(&self, overrides: &[sweep::Override]) -> Result<Scenario, ScenarioError> {
        convert::load(&self.text, &self.origin, &default_name(&self.origin), overrides, None)
    }

    /// Loads it for one sender of `rwsim compare` (see [`compare`]): the file's workload,
    /// receiver and events with that sender and its defaults.
    pub fn load_for_sender(&self, sender: compare::SenderChoice) -> Result<Scenario, ScenarioError> {
        convert::load(&self.text, &self.origin, &default_name(&self.origin), &[], Some(sender))
    }
}

/// A [`Source`] parsed once, to load many points of its sweep grid: loading a point with
/// [`Source::load_with`] parses the whole file again, `[sweep]` table included, which made
/// validating a grid quadratic in the size of that table.
pub struct Prepared<'s> {
    src: &'s Source,
    /// The document without its `[sweep]` table (a point's scenario has no axes).
    doc: toml::Spanned<toml::de::DeTable<'s>>,
    /// Positions in the file as written, `[sweep]` left out.
    index: spans::SpanIndex,
    name: String,
}

impl Source {
    /// Parses the text once for [`Prepared::config_with`].
    pub fn prepare(&self) -> Result<Prepared<'_>, ScenarioError> {
        let mut doc = convert::parse(&self.text, &self.origin)?;
        // Spans are offsets in the text, so the index of what is left is the same; without
        // the table, it has no entry per swept value to search for every point.
        doc.get_mut().remove("sweep");
        let index = spans::SpanIndex::build(&doc);
        Ok(Prepared { src: self, doc, index, name: default_name(&self.origin) })
    }
}

impl Prepared<'_> {
    /// The validated configuration with `overrides` applied: the same configuration and
    /// the same errors as [`Source::load_with`], without re-reading the file.
    pub fn config_with(&self, overrides: &[sweep::Override]) -> Result<SimConfig, ScenarioError> {
        let src = self.src;
        convert::load_doc(&src.text, &src.origin, &self.name, self.doc.clone(), &self.index, overrides, false, None)
            .map(|s| s.config)
    }
}

/// Reads and loads a scenario file. The default name is the file stem (`outage.toml` →
/// `outage`); errors name the path as given.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    Source::read(path)?.load()
}

/// Loads a scenario from text. `origin` is used in errors and for the default name: the stem
/// of a path (`"scenarios/outage.toml"` → `outage`) or `NAME` of `"<builtin:NAME>"`.
pub fn load_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    convert::load(text, origin, &default_name(origin), &[], None)
}

/// Loads the `scenario.toml` of a run directory as the run had it: with the `--set` flags its
/// header lists when they could not be written into its values (see
/// [`Scenario::pinned_source`]); any other file as [`load_file`] does.
pub fn load_pinned(path: &Path) -> Result<Scenario, ScenarioError> {
    let src = Source::read(path)?;
    let mut set = Vec::new();
    for (line, flag) in pin::flags_needed(&src.text) {
        let o = sweep::Override::from_flag(flag).map_err(|e| ScenarioError {
            origin: src.origin.clone(),
            line,
            column: 1,
            key: e.key.clone(),
            message: format!("the --set flag listed in the header does not parse: {}", e.message),
            kind: ErrorKind::Schema,
        })?;
        set.push(o);
    }
    src.load_with(&set)
}

impl Scenario {
    /// Whether the user gave `key` a value (in the file or with `--set`), rather than leaving
    /// it to its default. A model constant the user set is not varied by the robust answer.
    ///
    /// ```
    /// let s = scenarios::load_str("duration = \"1h\"\n[workload]\nseries = 10\n[tsdb]\nwal_bytes_per_sample = 9.2\n", "x.toml").unwrap();
    /// assert!(s.is_set("tsdb.wal_bytes_per_sample"));
    /// assert!(!s.is_set("workload.wire_bytes_per_sample"));
    /// ```
    pub fn is_set(&self, key: &str) -> bool {
        self.keys_set.binary_search_by(|k| k.as_str().cmp(key)).is_ok()
    }

    /// The text of `scenario.toml`, which `rwsim run --out` saves next to the outputs: the
    /// source with `name`, `seed` and `start` pinned to the values that ran (the command line
    /// may override seed and start; those keys, if present at the top level, are commented
    /// out, and the run's values written first), and the `--set` values written in, each
    /// marked with a comment. Loading it gives the same configuration under any file name:
    /// that is checked, and when the `--set` values cannot be written in faithfully the file
    /// is the source with the flags listed in its header, and [`Pinned::note`] says so.
    pub fn pinned_source(&self) -> Pinned {
        pin::pinned(self)
    }
}

/// A TOML basic string.
pub(crate) fn toml_string(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o += "\\\"",
            '\\' => o += "\\\\",
            c if c.is_control() => o += &format!("\\u{:04X}", c as u32),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn default_name(origin: &str) -> String {
    if let Some(name) = origin.strip_prefix("<builtin:").and_then(|r| r.strip_suffix('>')) {
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
    fn pinned_source_reloads_to_the_same_run() {
        let mut sc = load_builtin("outage-short").unwrap();
        sc.config.seed = 42;
        sc.config.clock.start_unix_nanos = 1_767_225_600_000_000_000; // 2026-01-01
        let text = sc.pinned_source().text;
        assert!(text.contains("name = \"outage-short\"\nseed = 42\nstart = \"2026-01-01T00:00:00Z\"\n"));
        let again = load_str(&text, "out/scenario.toml").unwrap();
        assert_eq!(again.name, "outage-short");
        assert_eq!(again.config.seed, 42);
        assert_eq!(again.config.clock, sc.config.clock);
        assert_eq!(again.config.receiver.faults, sc.config.receiver.faults);
        assert_eq!(again.description, sc.description);
    }

    #[test]
    fn provenance_names_the_keys_of_the_file_and_of_overrides() {
        let src = Source::from_text(
            "duration = \"4h\"\n[workload]\nseries = 10\n[[receiver.fault]]\nstart = \"1h\"\nend = \"2h\"\nstatus = 503\n\
             [sweep]\n\"tsdb.wal_bytes_per_sample\" = [6, 9]\n",
            "x.toml",
        );
        let s = src.load().unwrap();
        assert!(s.is_set("workload.series") && s.is_set("receiver.fault[0].start"));
        assert!(!s.is_set("tsdb.wal_bytes_per_sample"), "a [sweep] key is not a value of the run");
        assert!(!s.is_set("sender.request_overhead"));
        let set = [
            sweep::Override::from_flag("sender.request_overhead=5ms").unwrap(),
            sweep::Override::from_flag("receiver.fault[0].length=30m").unwrap(),
        ];
        let s = src.load_with(&set).unwrap();
        assert!(s.is_set("sender.request_overhead"));
        assert!(s.is_set("receiver.fault[0].end"));
    }

    #[test]
    fn default_names_come_from_the_origin() {
        assert_eq!(default_name("scenarios/outage.toml"), "outage");
        assert_eq!(default_name("<builtin:default>"), "default");
        assert_eq!(default_name(""), "scenario");
        assert_eq!(default_name("<stdin>"), "<stdin>");
    }
}
