//! The `--json` output: [`sim_core::result::RunResult`] as one pretty-printed object — every
//! field in its place with its meaning, for the scenario as written — with the robust answer
//! beside it as `robust` (`null` when it did not run: `--literal`, or nothing to vary).

use analysis::robust::Robust;
use serde::{Deserialize, Serialize};
use sim_core::result::RunResult;

/// What `rwsim run --json` prints and `summary.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunOutput {
    /// The scenario as written: the fields scripts read (`samples`, `lag_seconds`, ...,
    /// `gaps`).
    #[serde(flatten)]
    pub result: RunResult,
    /// Best, median and worst case over what the user cannot control.
    #[serde(default)]
    pub robust: Option<Robust>,
}

/// Renders the result and the robust answer as JSON (stable key order, same bytes for the
/// same result).
pub fn render_with(result: &RunResult, robust: Option<&Robust>) -> String {
    #[derive(Serialize)]
    struct Borrowed<'a> {
        #[serde(flatten)]
        result: &'a RunResult,
        robust: Option<&'a Robust>,
    }
    let mut s = serde_json::to_string_pretty(&Borrowed { result, robust })
        .expect("RunResult serialises: no maps with non-string keys");
    s.push('\n');
    s
}

/// Renders the result alone as JSON (`robust` is `null`).
pub fn render(result: &RunResult) -> String {
    render_with(result, None)
}
