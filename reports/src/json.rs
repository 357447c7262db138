//! The `--json` output: [`sim_core::result::RunResult`] as one pretty-printed object.

use sim_core::result::RunResult;

/// Renders the result as JSON (stable key order, same bytes for the same result).
pub fn render(result: &RunResult) -> String {
    let mut s = serde_json::to_string_pretty(result).expect("RunResult serialises: no maps with non-string keys");
    s.push('\n');
    s
}
