//! [`ScenarioError`]: what is wrong with a scenario, and where.

use std::fmt;

/// What kind of problem a [`ScenarioError`] reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read, or no built-in scenario has that name.
    Io,
    /// The text is not valid TOML.
    Syntax,
    /// Valid TOML that does not fit the schema: an unknown or missing key, a value of the
    /// wrong type, or a duration or size that does not parse.
    Schema,
    /// Well-formed values that cannot be simulated, such as `min_shards > max_shards` or a
    /// fault window after the end of the run.
    Invalid,
}

/// A scenario that cannot be loaded, with the place to fix it.
///
/// Displays as `ORIGIN:LINE:COLUMN: KEY: MESSAGE`, for example
///
/// ```text
/// scenarios/bad.toml:12:12: remote_write.queue_config.capacity: must be at least 1 (it is the per-shard buffer in samples)
/// ```
///
/// The position points at the offending value, or at the key or table header when the value
/// is missing. `LINE:COLUMN` is left out when there is no position ([`ErrorKind::Io`]) and
/// `KEY` when the error concerns no single key (TOML syntax errors, I/O errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file path as given, or `<builtin:NAME>`.
    pub origin: String,
    /// 1-based line; 0 when there is no position.
    pub line: usize,
    /// 1-based column in characters; 0 when there is no position.
    pub column: usize,
    /// Dotted scenario key such as `remote_write.queue_config.capacity` or
    /// `receiver.fault[1].end` (arrays 0-based); empty when no key applies.
    pub key: String,
    /// What is wrong and, where possible, what is expected.
    pub message: String,
    /// The class of problem.
    pub kind: ErrorKind,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}
