//! The scenarios bundled into the binary (`scenarios/library/*.toml`).

use crate::error::{ErrorKind, ScenarioError};
use crate::{Scenario, Source, load_str};

/// A scenario file compiled into the crate.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BuiltinScenario {
    /// Its name, the file stem (`outage-short`).
    pub name: &'static str,
    /// The TOML text.
    pub source: &'static str,
}

impl BuiltinScenario {
    /// `<builtin:NAME>`, the origin used in errors.
    pub fn origin(&self) -> String {
        format!("<builtin:{}>", self.name)
    }

    /// Loads and validates it.
    pub fn load(&self) -> Result<Scenario, ScenarioError> {
        load_str(self.source, &self.origin())
    }
}

macro_rules! builtin {
    ($name:literal) => {
        BuiltinScenario { name: $name, source: include_str!(concat!("../library/", $name, ".toml")) }
    };
}

/// Sorted by name.
static LIBRARY: [BuiltinScenario; 23] = [
    builtin!("agent-outage"),
    builtin!("alloy-outage"),
    builtin!("bench-1m-24h"),
    builtin!("body-too-large-as-500"),
    builtin!("cardinality-spike"),
    builtin!("compare-senders"),
    builtin!("default"),
    builtin!("ingester-oom-crashloop"),
    builtin!("network-partition"),
    builtin!("object-storage-outage"),
    builtin!("outage-short"),
    builtin!("outage-wal-loss"),
    builtin!("proxy-timeout-slow-upstream"),
    builtin!("rejected-400"),
    builtin!("rejects-400"),
    builtin!("reload-during-backlog"),
    builtin!("restart-during-outage"),
    builtin!("ring-unready-rollout"),
    builtin!("sender-oom-catchup"),
    builtin!("slow-receiver"),
    builtin!("sweep-outage"),
    builtin!("tenant-throttled-429"),
    builtin!("throttled-429"),
];

/// The bundled scenarios, sorted by name.
pub fn library() -> &'static [BuiltinScenario] {
    &LIBRARY
}

/// Loads the bundled scenario `name` (as listed by [`library`]).
pub fn load_builtin(name: &str) -> Result<Scenario, ScenarioError> {
    builtin_source(name)?.load()
}

/// The text of the bundled scenario `name`, with origin `<builtin:NAME>`.
pub fn builtin_source(name: &str) -> Result<Source, ScenarioError> {
    match LIBRARY.iter().find(|b| b.name == name) {
        Some(b) => Ok(Source::from_text(b.source, b.origin())),
        None => {
            let names: Vec<&str> = LIBRARY.iter().map(|b| b.name).collect();
            Err(ScenarioError {
                origin: format!("<builtin:{name}>"),
                line: 0,
                column: 0,
                key: String::new(),
                message: format!("no built-in scenario has this name; the library has: {}", names.join(", ")),
                kind: ErrorKind::Io,
            })
        }
    }
}
