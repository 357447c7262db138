//! The files of a sweep directory, written by `rwsim sweep --out DIR` (a whole grid) and
//! `rwsim merge --out DIR`, read by `rwsim report DIR`:
//!
//! | file | what |
//! |---|---|
//! | `sweep.csv` | one row per point ([`reports::sweep::PointRow`]) |
//! | `sweep.json` | targets, Pareto front, recommendation, chart names ([`reports::sweep::SweepSummary`]) |
//! | `sweep-scenario.toml` | the scenario text exactly as swept (its hash is part of `sweep_id`) |
//! | `heatmap-*.png/svg`, `curves-*.png/svg` | the charts ([`reports::charts::sweep::chart_names`]) |
//! | `levers.json` | when no setting meets the targets and the scenario is known: the levers besides the swept settings, each evaluated by running it ([`analysis::levers::Levers`]) |
//!
//! Every file is opened (created, truncated) before the sweep runs, so a bad directory fails
//! at once; everything written depends only on the points, never on threads or timing.

use super::run::{Opened, create_figure, write_figure_to};
use super::{CliError, io_err};
use analysis::levers::Levers;
use reports::charts::sweep::{ParamKind, SweptKey, chart_names, sweep_charts};
use reports::sweep::{Recommendation, SweepResult, SweepSummary, Targets, distinct_values, setting_groups};
use scenarios::sweep::{Override, SetBy};
use scenarios::sweep::{SweepKey, Value, ValueKind, parse_values};
use std::io::Write;
use std::path::Path;

/// The points, one row each.
pub const CSV: &str = "sweep.csv";
/// The summary: targets, Pareto front, recommendation.
pub const JSON: &str = "sweep.json";
/// The scenario text as swept.
pub const SCENARIO: &str = "sweep-scenario.toml";
/// The levers evaluated when nothing met the targets.
pub const LEVERS: &str = "levers.json";

/// The files of a sweep directory besides `sweep.csv`, opened.
pub struct SweepFiles {
    json: Opened,
    scenario: Option<Opened>,
    /// `(name, png, svg)`, in [`chart_names`] order.
    charts: Vec<(String, Opened, Opened)>,
}

impl SweepFiles {
    /// Creates `dir` and the files of a sweep over `keys` keys: the summary, the charts, and
    /// with `scenario` the scenario copy.
    pub fn open(dir: &Path, keys: usize, scenario: bool) -> Result<SweepFiles, CliError> {
        let json = super::sweep::create(dir, JSON)?;
        let scenario = if scenario { Some(super::sweep::create(dir, SCENARIO)?) } else { None };
        let charts = chart_names(keys)
            .into_iter()
            .map(|name| {
                let (png, svg) = create_figure(dir, &name)?;
                Ok((name, png, svg))
            })
            .collect::<Result<Vec<_>, CliError>>()?;
        Ok(SweepFiles { json, scenario, charts })
    }

    /// Writes the summary, the charts and the scenario text (`scenario_text` must be given
    /// when the files were opened with `scenario`).
    pub fn write(self, result: &SweepResult, targets: &Targets, scenario_text: Option<&str>) -> Result<(), CliError> {
        let keys = swept_keys(result)?;
        let charts = sweep_charts(result, &keys, recommended(result, targets));
        assert_eq!(charts.len(), self.charts.len(), "the charts drawn are the charts opened");
        for (chart, (name, png, svg)) in charts.iter().zip(self.charts) {
            assert_eq!(chart.name, name);
            write_figure_to(&chart.figure, png, svg)?;
        }
        let summary = SweepSummary::new(result, targets, charts.into_iter().map(|c| c.name).collect());
        let (path, mut file) = self.json;
        file.write_all(summary.to_json().as_bytes()).map_err(io_err(&path))?;
        if let Some((path, mut file)) = self.scenario {
            let text = scenario_text.expect("the scenario text of a sweep that writes it");
            file.write_all(text.as_bytes()).map_err(io_err(&path))?;
        }
        Ok(())
    }
}

/// When no setting meets the targets: the levers besides the swept settings, evaluated on
/// the closest setting under every swept condition (each point loaded from the scenario
/// text with its values and run with its replication-0 seed), written to `levers.json` in
/// `dir`. `None` (and no file) when a setting meets them. A `levers.json` of an earlier sweep
/// in `dir` is removed either way.
pub fn levers(
    src: &scenarios::Source,
    result: &SweepResult,
    targets: &Targets,
    dir: &Path,
) -> Result<Option<Levers>, CliError> {
    let path = dir.join(LEVERS);
    if path.is_file() {
        std::fs::remove_file(&path).map_err(io_err(&path))?;
    }
    let Some(Recommendation::NoneMeets { closest, .. }) = reports::sweep::recommend(result, targets) else {
        return Ok(None);
    };
    let group = setting_groups(result).into_iter().find(|g| g.contains(&closest)).expect("every point has a group");
    let mut configs = Vec::with_capacity(group.len());
    for &i in &group {
        let p = &result.points[i];
        let set = result
            .params
            .iter()
            .zip(&p.params)
            .map(|(k, v)| Override::from_flag(&format!("{k}={v}")).map(|o| Override { by: SetBy::Sweep, ..o }))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CliError::Merge(format!("{CSV}: point {}: {}", p.index, e.message)))?;
        let mut cfg = src.load_with(&set)?.config;
        cfg.seed = p.row.seed;
        configs.push(cfg);
    }
    let l = analysis::levers::evaluate(&configs, targets).map_err(|e| CliError::Sim(src.origin.clone(), e))?;
    let mut text = serde_json::to_string_pretty(&l).expect("levers serialise");
    text.push('\n');
    std::fs::write(&path, text).map_err(io_err(&path))?;
    Ok(Some(l))
}

/// The worst case of the closest setting when none meets the targets (default otherwise).
pub fn closest_row(result: &SweepResult, targets: &Targets) -> reports::sweep::PointRow {
    match reports::sweep::recommend(result, targets) {
        Some(Recommendation::NoneMeets { closest, .. }) => reports::sweep::recommended_row(result, closest),
        _ => reports::sweep::PointRow::default(),
    }
}

/// The recommended point (an index into `result.points`), if any point meets the targets.
pub fn recommended(result: &SweepResult, targets: &Targets) -> Option<usize> {
    match reports::sweep::recommend(result, targets) {
        Some(Recommendation::Chosen { point, .. }) => Some(point),
        _ => None,
    }
}

/// The swept keys of a result with their kinds and values as numbers, from the scenario
/// schema. A key or value this version cannot read (a `sweep.csv` edited by hand, or from
/// another version) is an error naming it.
pub fn swept_keys(result: &SweepResult) -> Result<Vec<SweptKey>, CliError> {
    let bad = |what: String| CliError::Merge(format!("{CSV}: {what}; was it written by this version of rwsim?"));
    result
        .params
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let key = SweepKey::parse(k).map_err(|e| bad(format!("column {k}: {}", e.message)))?;
            let kind = match key.kind() {
                ValueKind::Integer => ParamKind::Integer,
                ValueKind::Number => ParamKind::Number,
                ValueKind::Duration => ParamKind::Duration,
                ValueKind::Size | ValueKind::VmSize => ParamKind::Size,
                ValueKind::Bool => ParamKind::Bool,
            };
            let values = distinct_values(result, i)
                .into_iter()
                .map(|label| match parse_values(&key, label).map_err(|e| e.message)?.as_slice() {
                    [v] => Ok((label.to_string(), number(*v))),
                    _ => Err(format!("{label:?} is not one value")),
                })
                .collect::<Result<Vec<_>, String>>()
                .map_err(|e| bad(format!("column {k}: {e}")))?;
            Ok(SweptKey { key: k.clone(), kind, values })
        })
        .collect()
}

/// The number a swept value stands for: seconds, bytes, 0 or 1 for booleans.
fn number(v: Value) -> f64 {
    match v {
        Value::Integer(n) | Value::Size(n) | Value::VmSize(n) => n as f64,
        Value::Number(x) => x,
        Value::Duration(d) => d.as_secs_f64(),
        Value::Bool(b) => f64::from(u8::from(b)),
    }
}
