//! Sweep results on paper: the `sweep.csv` contract, `sweep.json`, and the text `rwsim sweep`
//! and `rwsim merge` print — the grid, the Pareto front over settings, the recommendation
//! with what to paste (a `queue_config:` block, a `remote_write` key, command-line flags;
//! for Alloy a `prometheus.remote_write` component, for vmagent its flags), and, when nothing
//! meets the targets, the levers besides `queue_config`.
//!
//! The analysis — rows and their statistics, the Pareto front, the noise-aware
//! recommendation, the budget per setting — is [`analysis::sweep`], re-exported here. The
//! same result renders the same bytes, so a sweep run in one go and one merged from
//! partitions print and write identical output.

use analysis::levers::{How, Levers};
use analysis::settings::{Role, Sender, flag_assignment, role, role_for};
pub use analysis::stats::{CONFIDENCE, LOSS_TIE_ABS, LOSS_TIE_REL, Stat};
pub use analysis::sweep::{
    PointRow, Recommendation, RunMetrics, SweepMeta, SweepPoint, SweepResult, Target, Targets, candidates_of,
    condition_keys, distinct_values, fill_budgets, is_setting, length_key, pareto_front, prometheus_duration,
    recommend, recommended_row, setting_groups, worst_row,
};
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};
use std::io::{Read, Write};

use crate::summary::{bytes, secs};

/// Rows of the Pareto table printed before "... and N more".
pub const PARETO_LINES: usize = 30;

/// `loss ≤ 0%`, `p99 delivery latency ≤ 30s`, ...
pub fn describe(targets: &Targets, t: Target) -> String {
    match t {
        Target::Loss => format!("loss ≤ {}", percent(targets.max_loss)),
        Target::P99 => format!("p99 delivery latency ≤ {}", secs(targets.max_p99_seconds.unwrap_or(0.0))),
        Target::Memory => format!("peak queue memory ≤ {}", bytes(targets.max_memory_bytes.unwrap_or(0))),
    }
}

/// A `sweep.csv` that cannot be read or joined.
#[derive(Debug)]
pub enum SweepCsvError {
    /// The CSV layer failed (I/O or malformed CSV).
    Csv(csv::Error),
    /// The file is CSV but not a sweep.csv, or does not fit the others.
    Content(String),
}

impl fmt::Display for SweepCsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepCsvError::Csv(e) => e.fmt(f),
            SweepCsvError::Content(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SweepCsvError {}

impl From<csv::Error> for SweepCsvError {
    fn from(e: csv::Error) -> Self {
        SweepCsvError::Csv(e)
    }
}

/// The fields of a row, as `write_csv` writes them.
fn row_record(row: &PointRow) -> Result<csv::StringRecord, csv::Error> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    w.serialize(row)?;
    let bytes = w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    let mut rd = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes.as_slice());
    Ok(rd.records().next().transpose()?.unwrap_or_default())
}

/// The column names of [`PointRow`], in order.
pub fn row_columns() -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(PointRow::default()).expect("PointRow serialises to CSV");
    let bytes = w.into_inner().expect("in-memory writer");
    let text = String::from_utf8(bytes).expect("CSV is UTF-8");
    let header = text.lines().next().expect("a header line");
    header.split(',').map(str::to_string).collect()
}

/// The last column of a `sweep.csv` whose sender is not a Prometheus server: `agent`,
/// `alloy` or `vmagent` on every line, so that `rwsim merge` and `rwsim report` spell the
/// recommendation for it. A server's file has no such column (files of earlier versions
/// read as a server's).
pub const SENDER_COLUMN: &str = "sender";

/// Writes `sweep.csv`: a header (`point`, the swept keys, then [`row_columns`], then
/// [`SENDER_COLUMN`] for a sender other than a Prometheus server) and one line per point.
pub fn write_csv<W: Write>(result: &SweepResult, w: W) -> Result<W, csv::Error> {
    let mut out = csv::WriterBuilder::new().has_headers(false).from_writer(w);
    let mut header = vec!["point".to_string()];
    header.extend(result.params.iter().cloned());
    header.extend(row_columns());
    let sender = (!result.sender.is_server()).then_some(result.sender.name());
    if sender.is_some() {
        header.push(SENDER_COLUMN.to_string());
    }
    out.write_record(&header)?;
    for p in &result.points {
        out.write_field(p.index.to_string())?;
        for v in &p.params {
            out.write_field(v)?;
        }
        match sender {
            None => out.serialize(&p.row)?,
            Some(name) => {
                // `serialize` ends the line: the row's fields go through a record first.
                let mut fields = row_record(&p.row)?;
                fields.push_field(name);
                out.write_record(&fields)?;
            }
        }
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Reads a `sweep.csv` written by [`write_csv`].
pub fn read_csv<R: Read>(r: R) -> Result<SweepResult, SweepCsvError> {
    let mut rd = csv::ReaderBuilder::new().has_headers(true).from_reader(r);
    let mut header = rd.headers()?.clone();
    let with_sender = header.iter().next_back() == Some(SENDER_COLUMN);
    if with_sender {
        header.truncate(header.len() - 1);
    }
    let mut cols = row_columns();
    // Files of rwsim before the outage budget column read as if it were empty.
    if header.iter().next_back() != cols.last().map(String::as_str) {
        cols.pop();
    }
    let n_params = header.len().checked_sub(1 + cols.len()).filter(|_| {
        header.get(0) == Some("point")
            && header.iter().skip(header.len() - cols.len()).eq(cols.iter().map(String::as_str))
    });
    let Some(n_params) = n_params else {
        return Err(SweepCsvError::Content(
            "not a sweep.csv of this rwsim version: expected the columns point, the swept keys, then \
             replications, seed, ... grid_points"
                .into(),
        ));
    };
    let params: Vec<String> = header.iter().skip(1).take(n_params).map(str::to_string).collect();
    let row_header = csv::StringRecord::from(cols);
    let mut points = Vec::new();
    let mut sender = None;
    for rec in rd.records() {
        let mut rec = rec?;
        if with_sender {
            let line = rec.position().map_or(0, |p| p.line());
            let name = rec.get(rec.len().saturating_sub(1)).unwrap_or_default();
            let s = Sender::from_name(name).ok_or_else(|| {
                SweepCsvError::Content(format!(
                    "line {line}: sender {name:?} is not one of server, agent, alloy, vmagent"
                ))
            })?;
            if sender.is_some_and(|first| first != s) {
                return Err(SweepCsvError::Content(format!(
                    "line {line}: sender {name:?} differs from the lines above"
                )));
            }
            sender = Some(s);
            rec.truncate(rec.len() - 1);
        }
        let index: u64 = rec[0].parse().map_err(|_| {
            SweepCsvError::Content(format!(
                "line {}: point {:?} is not a point index",
                rec.position().map_or(0, |p| p.line()),
                &rec[0]
            ))
        })?;
        let tail: csv::StringRecord = rec.iter().skip(1 + n_params).collect();
        let row: PointRow = tail.deserialize(Some(&row_header))?;
        points.push(SweepPoint { index, params: rec.iter().skip(1).take(n_params).map(str::to_string).collect(), row });
    }
    Ok(SweepResult { params, points, sender: sender.unwrap_or_default() })
}

/// Joins the points of partial results into one, sorted by index, and checks that they
/// belong to the same sweep and cover every point of its grid exactly once. `names` label
/// the parts in errors (file paths).
pub fn merge(parts: Vec<(String, SweepResult)>) -> Result<SweepResult, SweepCsvError> {
    let content = |m: String| Err(SweepCsvError::Content(m));
    let mut params: Option<(String, Vec<String>)> = None;
    let mut sender: Option<(String, Sender)> = None;
    let mut id: Option<(String, String, u64)> = None;
    let mut points: Vec<(SweepPoint, usize)> = Vec::new();
    let names: Vec<String> = parts.iter().map(|(n, _)| n.clone()).collect();
    for (i, (name, part)) in parts.into_iter().enumerate() {
        match &params {
            None => params = Some((name.clone(), part.params.clone())),
            Some((first, p)) if *p != part.params => {
                return content(format!(
                    "{name} sweeps {} but {first} sweeps {}: they are not parts of one sweep",
                    part.params.join(", "),
                    p.join(", ")
                ));
            }
            Some(_) => {}
        }
        match &sender {
            None => sender = Some((name.clone(), part.sender)),
            Some((first, s)) if *s != part.sender => {
                return content(format!(
                    "{name} is a sweep of {} but {first} of {}: they are not parts of one sweep",
                    part.sender.name(),
                    s.name()
                ));
            }
            Some(_) => {}
        }
        for p in part.points {
            match &id {
                None => {
                    id = Some((name.clone(), p.row.sweep_id.clone(), p.row.grid_points));
                }
                Some((first, sid, _)) if *sid != p.row.sweep_id => {
                    return content(format!(
                        "{name} has sweep_id {} but {first} has {sid}: they come from different \
                         scenarios, grids or replication counts",
                        p.row.sweep_id
                    ));
                }
                Some(_) => {}
            }
            points.push((p, i));
        }
    }
    let Some((_, _, grid_points)) = id else {
        return content("no points in any of the files".into());
    };
    points.sort_by_key(|(p, _)| p.index);
    for w in points.windows(2) {
        if w[0].0.index == w[1].0.index {
            return content(format!(
                "point {} is in both {} and {}: was a partition run twice?",
                w[0].0.index, names[w[0].1], names[w[1].1]
            ));
        }
    }
    let present: Vec<u64> = points.iter().map(|(p, _)| p.index).collect();
    if let Some(bad) = present.iter().find(|&&i| i >= grid_points) {
        return content(format!("point {bad} is outside the grid of {grid_points} points"));
    }
    if present.len() as u64 != grid_points {
        let missing: Vec<u64> = (0..grid_points).filter(|i| present.binary_search(i).is_err()).collect();
        let shown: Vec<String> = missing.iter().take(10).map(u64::to_string).collect();
        let more = if missing.len() > 10 { format!(" and {} more", missing.len() - 10) } else { String::new() };
        return content(format!(
            "{} of the {grid_points} points are missing (points {}{more}): did every partition finish?",
            missing.len(),
            shown.join(", ")
        ));
    }
    Ok(SweepResult {
        params: params.map(|(_, p)| p).unwrap_or_default(),
        points: points.into_iter().map(|(p, _)| p).collect(),
        sender: sender.map(|(_, s)| s).unwrap_or_default(),
    })
}

/// A fraction as a percentage with enough digits to tell 0 from a small loss.
pub fn percent(f: f64) -> String {
    if f == 0.0 {
        "0%".into()
    } else if f >= 0.001 {
        format!("{:.2}%", f * 100.0)
    } else {
        format!("{:.2e}%", f * 100.0)
    }
}

/// Display names of the swept keys: the last dotted part when that is unambiguous.
pub fn short_names(params: &[String]) -> Vec<String> {
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    let shorts: Vec<String> = params.iter().map(|k| last(k)).collect();
    let unique = shorts.iter().enumerate().all(|(i, s)| !shorts[..i].contains(s));
    if unique { shorts } else { params.to_vec() }
}

/// `key = value, key = value` of a point (or "the scenario as written" without keys).
pub fn assignments(result: &SweepResult, p: &SweepPoint) -> String {
    if result.params.is_empty() {
        return "the scenario as written".into();
    }
    result.params.iter().zip(&p.params).map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
}

/// `loss 0%, p99 delivery latency 1h41m, peak queue memory 10.1 MiB`.
pub fn metrics_line(r: &PointRow) -> String {
    format!(
        "loss {}, p99 delivery latency {}, peak queue memory {}",
        percent(r.loss_fraction),
        secs(r.delivery_latency_p99_seconds),
        bytes(r.queue_memory_bytes_peak.round() as u64)
    )
}

/// The `queue_config:` block of a point, in `prometheus.yml` spelling, indented by `indent`.
pub fn queue_config_yaml(r: &PointRow, indent: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{indent}queue_config:");
    let mut kv = |k: &str, v: &dyn fmt::Display| {
        let _ = writeln!(o, "{indent}  {k}: {v}");
    };
    kv("capacity", &r.capacity);
    kv("max_shards", &r.max_shards);
    kv("min_shards", &r.min_shards);
    kv("max_samples_per_send", &r.max_samples_per_send);
    kv("batch_send_deadline", &r.batch_send_deadline);
    kv("min_backoff", &r.min_backoff);
    kv("max_backoff", &r.max_backoff);
    kv("retry_on_http_429", &r.retry_on_http_429);
    // Added in v2.50.0: a 2.42 config must not have the key at all.
    if r.prometheus != "2.42" {
        kv("sample_age_limit", &r.sample_age_limit);
    }
    o
}

/// Why the recommendation was chosen among `candidates` qualifying candidates.
pub fn why(result: &SweepResult, candidates: usize) -> String {
    let (n, noun) = candidates_of(result);
    let conditions = condition_keys(result);
    if conditions.is_empty() {
        return format!(
            "the least peak queue memory of the {candidates} of {n} {noun} that meet every target \
             (memory that cannot be told apart goes to the lower p99 latency, then the lower loss, then the \
             least memory as measured, then the earlier point)"
        );
    }
    let per = result.points.len() / n.max(1);
    format!(
        "the least worst-case peak queue memory of the {candidates} of {n} {noun} that meet every target \
         under all {per} swept conditions ({}); the metrics shown are its worst case \
         (memory that cannot be told apart goes to the lower p99 latency, then the lower loss, then the \
         least memory as measured, then the earlier point)",
        conditions.join(", ")
    )
}

/// `key = value, ...` of the setting a point belongs to: the swept setting keys only when
/// conditions are swept too (the recommendation holds for all of them).
pub fn setting_assignments(result: &SweepResult, p: &SweepPoint) -> String {
    if condition_keys(result).is_empty() {
        return assignments(result, p);
    }
    let set: Vec<String> =
        result.params.iter().zip(&p.params).filter(|(k, _)| is_setting(k)).map(|(k, v)| format!("{k} = {v}")).collect();
    let conditions = condition_keys(result).join(", ");
    if set.is_empty() {
        format!("the scenario's own settings, for every swept {conditions}")
    } else {
        format!("{}, for every swept {conditions}", set.join(", "))
    }
}

/// A swept key and its values in grid order, as `sweep.json` lists them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridKey {
    /// The key, e.g. `remote_write.queue_config.max_shards`.
    pub key: String,
    /// Its values in scenario syntax, in grid order.
    pub values: Vec<String>,
}

/// `sweep.json`, written next to `sweep.csv` by `rwsim sweep` and `rwsim merge`: the
/// targets the recommendation was made against (which `sweep.csv` does not hold, and
/// `rwsim report DIR` needs), the outcome, and the chart files. Field order is the file's.
/// Every point is named by its grid index (the `point` column of `sweep.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// Scenario name.
    pub scenario: String,
    /// `"2.42"` or `"3.x"`.
    pub prometheus: String,
    /// The sending program when it is not a Prometheus server (absent for a server).
    #[serde(default, skip_serializing_if = "Sender::is_server")]
    pub sender: Sender,
    /// See [`PointRow::sweep_id`].
    pub sweep_id: String,
    /// Points in the grid.
    pub grid_points: u64,
    /// Replications per point.
    pub replications: u32,
    /// The swept keys and their values.
    pub grid: Vec<GridKey>,
    /// The recommendation's targets.
    pub targets: Targets,
    /// The Pareto front ([`pareto_front`]), in the order of the printed table.
    pub pareto_front: Vec<u64>,
    /// The outcome ([`recommend`]); `null` for an empty sweep.
    pub recommendation: Option<Recommendation>,
    /// File stems of the charts next to it (`NAME.png`, `NAME.svg`).
    pub charts: Vec<String>,
}

impl SweepSummary {
    /// The summary of a whole sweep.
    pub fn new(result: &SweepResult, targets: &Targets, charts: Vec<String>) -> SweepSummary {
        let first = result.points.first().map(|p| &p.row);
        let grid_index = |i: usize| result.points[i].index as usize;
        SweepSummary {
            scenario: first.map(|r| r.scenario.clone()).unwrap_or_default(),
            prometheus: first.map(|r| r.prometheus.clone()).unwrap_or_default(),
            sender: result.sender,
            sweep_id: first.map(|r| r.sweep_id.clone()).unwrap_or_default(),
            grid_points: first.map_or(0, |r| r.grid_points),
            replications: first.map_or(0, |r| r.replications),
            grid: (0..result.params.len())
                .map(|i| GridKey {
                    key: result.params[i].clone(),
                    values: distinct_values(result, i).into_iter().map(str::to_string).collect(),
                })
                .collect(),
            targets: targets.clone(),
            pareto_front: pareto_front(result).into_iter().map(|i| result.points[i].index).collect(),
            recommendation: recommend(result, targets).map(|r| match r {
                Recommendation::Chosen { point, candidates } => {
                    Recommendation::Chosen { point: grid_index(point), candidates }
                }
                Recommendation::NoneMeets { met_by, closest } => {
                    Recommendation::NoneMeets { met_by, closest: grid_index(closest) }
                }
            }),
            charts,
        }
    }

    /// The file's text: pretty-printed JSON and a newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a SweepSummary serialises");
        s.push('\n');
        s
    }
}

/// A budget in seconds as text: `1h30m`, `< 30m` for 0 (even the shortest swept length
/// loses data), `-` when unknown.
pub fn budget_text(result: &SweepResult, b: Option<f64>) -> String {
    match b {
        None => "-".into(),
        Some(s) if s > 0.0 => secs(s),
        Some(_) => {
            let shortest = length_key(result).and_then(|k| {
                distinct_values(result, k)
                    .into_iter()
                    .filter_map(analysis::sweep::duration_seconds)
                    .min_by(f64::total_cmp)
            });
            format!("< {}", shortest.map_or("-".into(), secs))
        }
    }
}

/// What to change to apply the setting of point `p`: the block to paste (`None` when no
/// swept key goes into one) and the command-line flags of the swept flag keys, both in the
/// sender's own spelling ([`SweepResult::sender`]). For a Prometheus server or agent the
/// block is `remote_write` YAML (`queue_config:` when a queue key is swept, `remote_timeout`
/// when it is); for Alloy it is a `prometheus.remote_write` component ([`alloy_block`]);
/// vmagent has flags only. Only swept settings are printed; the rest stay as the scenario
/// has them.
pub fn to_apply(result: &SweepResult, p: &SweepPoint, indent: &str) -> (Option<String>, Vec<String>) {
    let sender = result.sender;
    let mut queue = false;
    let mut rw = Vec::new();
    let mut flags = Vec::new();
    for (k, v) in result.params.iter().zip(&p.params) {
        match role_for(sender, k) {
            Role::QueueConfig(_) => queue = true,
            Role::RemoteWrite(name) => rw.push(format!("{indent}{name}: {v}\n")),
            // A swept vmagent value is already in vmagent's spelling (its units included).
            Role::Flag(flag) if sender == Sender::Vmagent => flags.push(format!("{flag}={v}")),
            Role::Flag(flag) => flags.push(flag_assignment(flag, v)),
            Role::AlloyWal(_) | Role::Constant | Role::Condition => {}
        }
    }
    if sender == Sender::Alloy {
        return (alloy_block(result, p, indent), flags);
    }
    let mut yaml = rw.concat();
    if queue {
        yaml.push_str(&queue_config_yaml(&p.row, indent));
    }
    ((!yaml.is_empty()).then_some(yaml), flags)
}

/// A value in Alloy's configuration syntax: durations are strings (`"5s"`, read with Go's
/// `time.ParseDuration`), numbers and booleans bare.
fn alloy_value(v: &str) -> String {
    let bare = v == "true" || v == "false" || (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
    if bare { v.to_string() } else { format!("{v:?}") }
}

/// `name = value` lines of one Alloy block, with the `=` aligned as `alloy fmt` does.
fn alloy_attributes(o: &mut String, indent: &str, attrs: &[(&str, String)]) {
    let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in attrs {
        let _ = writeln!(o, "{indent}{k:<width$} = {v}");
    }
}

/// The setting of point `p` as Grafana Alloy's `prometheus.remote_write` component (the
/// attribute names of Alloy's `EndpointOptions`, `QueueOptions` and `WALOptions`): the
/// swept `remote_timeout` and the whole `queue_config` block in the `endpoint` block, the
/// swept `wal` attributes in the `wal` block. A `queue_config` block Alloy is given starts
/// from Alloy's defaults, so every key is written, as for Prometheus. The component's label
/// and the endpoint's `url` are the user's own: the block says so in a comment.
pub fn alloy_block(result: &SweepResult, p: &SweepPoint, indent: &str) -> Option<String> {
    let mut timeout = None;
    let mut queue = false;
    let mut wal = Vec::new();
    for (k, v) in result.params.iter().zip(&p.params) {
        match role_for(Sender::Alloy, k) {
            Role::QueueConfig(_) => queue = true,
            Role::RemoteWrite(name) => timeout = Some((name, alloy_value(v))),
            Role::AlloyWal(name) => wal.push((name, alloy_value(v))),
            Role::Flag(_) | Role::Constant | Role::Condition => {}
        }
    }
    if timeout.is_none() && !queue && wal.is_empty() {
        return None;
    }
    let r = &p.row;
    let mut o = String::new();
    let _ = writeln!(o, "{indent}prometheus.remote_write \"default\" {{");
    if timeout.is_some() || queue {
        let _ = writeln!(o, "{indent}  endpoint {{");
        let _ = writeln!(o, "{indent}    // url and the other attributes of your endpoint stay as they are");
        alloy_attributes(&mut o, &format!("{indent}    "), timeout.as_slice());
        if queue {
            let _ = writeln!(o, "{indent}    queue_config {{");
            let d = |s: &str| format!("{s:?}");
            alloy_attributes(
                &mut o,
                &format!("{indent}      "),
                &[
                    ("capacity", r.capacity.to_string()),
                    ("max_shards", r.max_shards.to_string()),
                    ("min_shards", r.min_shards.to_string()),
                    ("max_samples_per_send", r.max_samples_per_send.to_string()),
                    ("batch_send_deadline", d(&r.batch_send_deadline)),
                    ("min_backoff", d(&r.min_backoff)),
                    ("max_backoff", d(&r.max_backoff)),
                    ("retry_on_http_429", r.retry_on_http_429.to_string()),
                    ("sample_age_limit", d(&r.sample_age_limit)),
                ],
            );
            let _ = writeln!(o, "{indent}    }}");
        }
        let _ = writeln!(o, "{indent}  }}");
    }
    if !wal.is_empty() {
        let _ = writeln!(o, "{indent}  wal {{");
        alloy_attributes(&mut o, &format!("{indent}    "), &wal);
        let _ = writeln!(o, "{indent}  }}");
    }
    let _ = writeln!(o, "{indent}}}");
    Some(o)
}

/// Where the block of [`to_apply`] goes, in words (without the colon).
pub fn paste_where(result: &SweepResult, row: &PointRow) -> String {
    match result.sender {
        Sender::Alloy => "Set in your Grafana Alloy configuration (v1.18; the prometheus.remote_write component's \
                          label, url and other attributes stay yours)"
            .into(),
        _ => format!("Paste into the remote_write entry of prometheus.yml (Prometheus {})", row.prometheus),
    }
}

/// The program the flags of [`to_apply`] are given to: "Prometheus", "Prometheus in agent
/// mode", "vmagent" (Alloy's swept settings have no flags).
pub fn flags_of(sender: Sender) -> &'static str {
    match sender {
        // Agent mode itself is `--agent` in 3.x and a feature flag in 2.x.
        Sender::Agent => "Prometheus in agent mode (--agent; --enable-feature=agent before 3.0)",
        Sender::Vmagent => "vmagent",
        Sender::Server | Sender::Alloy => "Prometheus",
    }
}

/// The sender of a sweep in words for headers: "Prometheus 3.x" for a server (as always),
/// "Prometheus 3.x in agent mode", "Grafana Alloy on Prometheus 3.x code", "VictoriaMetrics
/// vmagent".
pub fn sender_words(result: &SweepResult, row: &PointRow) -> String {
    match result.sender {
        Sender::Alloy => format!("Grafana Alloy on Prometheus {} code", row.prometheus),
        s => sim_core::config::SenderMode::describe(s.name(), &row.prometheus),
    }
}

/// The report printed by `rwsim sweep` and `rwsim merge`: the grid, the Pareto front and
/// the recommendation.
pub fn render(result: &SweepResult, targets: &Targets) -> String {
    let mut o = String::new();
    let Some(first) = result.points.first() else {
        let _ = writeln!(o, "rwsim sweep: no points");
        return o;
    };
    let n = result.points.len();
    let k = first.row.replications;
    let _ = writeln!(
        o,
        "rwsim sweep: {} ({}), {n} point{} × {k} replication{}",
        first.row.scenario,
        sender_words(result, &first.row),
        if n == 1 { "" } else { "s" },
        if k == 1 { "" } else { "s" },
    );
    for (i, key) in result.params.iter().enumerate() {
        let distinct = distinct_values(result, i);
        let shown = if distinct.len() <= 8 {
            distinct.join(", ")
        } else {
            format!(
                "{}, {}, ..., {} ({} values)",
                distinct[0],
                distinct[1],
                distinct[distinct.len() - 1],
                distinct.len()
            )
        };
        let what = match role(key) {
            Role::Constant => "  (a model constant: a condition, not a setting)",
            Role::Condition => "  (a condition)",
            _ => "",
        };
        let _ = writeln!(o, "  {key}: {shown}{what}");
    }
    if k > 1 {
        let _ = writeln!(
            o,
            "  metrics are means over {k} seeds per point; sweep.csv has their {:.0}% confidence intervals",
            CONFIDENCE * 100.0
        );
    }

    let conditions = condition_keys(result);
    let front = pareto_front(result);
    let (total, noun) = candidates_of(result);
    let budgets = first.row.outage_budget_seconds.is_some();
    let _ = writeln!(
        o,
        "\nPareto front over loss, peak queue memory and p99 delivery latency (all minimised): {} of {total} {noun}",
        front.len()
    );
    if !conditions.is_empty() {
        let _ = writeln!(
            o,
            "  each setting at its worst case over the swept {} (conditions are not options)",
            conditions.join(", ")
        );
    }
    let shown: Vec<usize> =
        (0..result.params.len()).filter(|&i| conditions.is_empty() || is_setting(&result.params[i])).collect();
    let names = short_names(&result.params);
    let mut header = format!("  {:>6}", "point");
    for &i in &shown {
        let _ = write!(header, "  {:>12}", names[i]);
    }
    let _ = write!(header, "  {:>10}  {:>12}  {:>12}", "loss", "queue memory", "p99 latency");
    if budgets {
        let _ = write!(header, "  {:>13}", "outage budget");
    }
    let _ = writeln!(o, "{header}");
    for &i in front.iter().take(PARETO_LINES) {
        let p = &result.points[i];
        let w = recommended_row(result, i);
        let mut line = format!("  {:>6}", p.index);
        for &j in &shown {
            let _ = write!(line, "  {:>12}", p.params[j]);
        }
        let _ = write!(
            line,
            "  {:>10}  {:>12}  {:>12}",
            percent(w.loss_fraction),
            bytes(w.queue_memory_bytes_peak.round() as u64),
            secs(w.delivery_latency_p99_seconds)
        );
        if budgets {
            let _ = write!(line, "  {:>13}", budget_text(result, p.row.outage_budget_seconds));
        }
        let _ = writeln!(o, "{line}");
    }
    if front.len() > PARETO_LINES {
        let _ = writeln!(o, "  ... and {} more on the front (see sweep.csv)", front.len() - PARETO_LINES);
    }
    if budgets {
        let _ = writeln!(
            o,
            "  outage budget: the longest swept {} that loses nothing (nor any shorter one), at this grid's \
             resolution; `rwsim budget` searches it to the minute",
            result.params[length_key(result).expect("budgets come from a swept length")]
        );
    }

    let active = targets.active();
    let wanted: Vec<String> = active.iter().map(|&t| describe(targets, t)).collect();
    let _ = writeln!(o, "\nTargets: {}", wanted.join(", "));
    if k > 1 {
        let _ = writeln!(
            o,
            "  checked against the upper end of each {:.0}% confidence interval; settings whose intervals \
             overlap count as equal and the cheaper one is preferred",
            CONFIDENCE * 100.0
        );
    } else {
        let _ = writeln!(
            o,
            "  single run per point, noisy: p99 latency and peak memory vary with the seed, and loss within {} \
             points (or {:.0}%) of another counts as equal; compare with --replications 3 or more for \
             confidence intervals",
            LOSS_TIE_ABS * 100.0,
            LOSS_TIE_REL * 100.0
        );
    }
    match recommend(result, targets) {
        Some(Recommendation::Chosen { point, candidates }) => {
            let p = &result.points[point];
            let w = recommended_row(result, point);
            let _ = writeln!(o, "\nRecommendation: point {}: {}", p.index, setting_assignments(result, p));
            let _ = writeln!(o, "  {}", metrics_line(&w));
            if let Some(b) = w.outage_budget_seconds {
                let _ = writeln!(o, "  outage budget {}", budget_text(result, Some(b)));
            }
            let _ = writeln!(o, "  why: {}", why(result, candidates));
            let (yaml, flags) = to_apply(result, p, "      ");
            if let Some(yaml) = yaml {
                let _ = writeln!(o, "\n  {}:\n", paste_where(result, &p.row));
                o.push_str(&yaml.replace("\n      ", "\n    ").replacen("      ", "    ", 1));
            }
            if !flags.is_empty() {
                let _ = writeln!(o, "\n  Start {} with:\n", flags_of(result.sender));
                for f in &flags {
                    let _ = writeln!(o, "    {f}");
                }
            }
            if to_apply(result, p, "").0.is_none() && flags.is_empty() {
                let _ = writeln!(o, "\n  Nothing to change: the scenario's own settings meet the targets.");
            }
        }
        Some(Recommendation::NoneMeets { met_by, closest }) => {
            let whole = if noun == "settings" { " under every swept condition" } else { "" };
            let _ = writeln!(o, "\nNo recommendation: no {} meets every target{whole}.", &noun[..noun.len() - 1]);
            for (t, count) in &met_by {
                let _ = writeln!(o, "  {}: met by {count} of {total} {noun}{whole}", describe(targets, *t));
            }
            if result.points.iter().all(|p| p.row.loses_data()) {
                let best = result
                    .points
                    .iter()
                    .min_by(|a, b| a.row.loss_fraction.total_cmp(&b.row.loss_fraction).then(a.index.cmp(&b.index)))
                    .expect("non-empty");
                let _ = writeln!(
                    o,
                    "  Every point of this grid loses data (the least: {} at point {}): no setting swept here \
                     keeps this scenario loss-free.",
                    percent(best.row.loss_fraction),
                    best.index
                );
            }
            let c = &result.points[closest];
            let _ = writeln!(
                o,
                "  Closest: point {}: {}\n    {}\n    (the lowest loss; losses within the noise count as equal, and \
                 the cheaper setting is named)",
                c.index,
                setting_assignments(result, c),
                metrics_line(&recommended_row(result, closest))
            );
        }
        None => {}
    }
    let _ = writeln!(o, "\n{}", loss_note(result.sender));
    o
}

/// What the loss counts, for the sender: WAL truncation for the senders with Prometheus's
/// WAL, the disk queue and kills for vmagent.
pub fn loss_note(sender: Sender) -> &'static str {
    match sender {
        Sender::Vmagent => {
            "Loss counts every sample that never reached the receiver: failed (400, 409, 415 in current \
             versions) and dropped: the oldest blocks of a full disk queue (vm_persistentqueue_blocks_dropped_total) \
             and what a kill loses."
        }
        _ => {
            "Loss counts every sample that never reached the receiver: failed (4xx, 429 without retry) and \
             dropped, including samples deleted by WAL truncation, which no Prometheus metric reports."
        }
    }
}

/// A lever as the user applies it, in the sender's spelling: `start Prometheus with
/// --flag=value`, `queue_config: key: value` (prometheus.yml), `queue_config { key = value }`
/// and `wal { key = value }` (Alloy), `start vmagent with -flag=value`.
pub fn lever_words(sender: Sender, how: &How) -> String {
    match (sender, how) {
        (_, How::Flag(f)) => format!("start {} with {f}", flags_of(sender)),
        (Sender::Alloy, How::QueueConfig { key, value }) => {
            format!("queue_config {{ {key} = {} }} in the endpoint block", alloy_value(value))
        }
        (_, How::QueueConfig { key, value }) => format!("queue_config: {key}: {value}"),
        (_, How::AlloyWal { key, value }) => format!("wal {{ {key} = {value} }} in prometheus.remote_write"),
        (_, How::Series(n)) => format!("scrape {} series", crate::summary::count(*n)),
        (_, How::Receiver(w)) => w.clone(),
    }
}

/// The WAL levers a sender does not have, in words (`None` for a Prometheus server, which
/// has them all), so that their absence from the list is explained rather than silent.
pub fn levers_it_lacks(sender: Sender) -> Option<&'static str> {
    match sender {
        Sender::Server => None,
        Sender::Agent => Some("agent mode has no block range: its WAL is truncated by a timer, tried instead"),
        Sender::Alloy => Some(
            "Alloy has no setting for the WAL segment size (fixed at 128 MiB) and no block range: its wal block's \
             truncate_frequency and max_keepalive_time are tried instead",
        ),
        Sender::Vmagent => Some(
            "vmagent has no WAL and no queue_config: only its disk-queue cap (when set), the workload and the \
             receiver are tried",
        ),
    }
}

/// The levers besides the swept settings, each evaluated by running it (printed after
/// [`render`] when nothing meets the targets); `closest` is the worst case of the closest
/// setting without them.
pub fn render_levers(l: &Levers, targets: &Targets, closest: &PointRow) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\nWhat else would meet the targets: the closest setting with one change, run under every swept \
         condition ({} runs):",
        l.runs
    );
    if let Some(b) = &l.budget {
        let worst = b.worst.budget_seconds.map_or_else(|| format!("more than {}", secs(b.max_length_seconds)), secs);
        let best = b.best.budget_seconds.map_or_else(|| format!("more than {}", secs(b.max_length_seconds)), secs);
        let _ = writeln!(
            o,
            "  - shorter outages: as it is, the setting survives an outage of {} ({}) of up to {worst} when it \
             starts {} after a {}, {best} at best; the longest it has to survive here is {}. Page before the budget runs \
             out (alert on {}).",
            b.window,
            b.kind,
            secs(b.worst.phase_seconds),
            b.reference,
            secs(b.scenario_length_seconds),
            match l.sender {
                Sender::Vmagent => {
                    "vmagent_remotewrite_pending_data_bytes nearing -remoteWrite.maxDiskUsagePerURL, or on its \
                     growth"
                }
                _ => {
                    "prometheus_remote_storage_highest_timestamp_in_seconds - \
                     prometheus_remote_storage_queue_highest_sent_timestamp_seconds"
                }
            }
        );
    }
    if let Some(none) = levers_it_lacks(l.sender) {
        let _ = writeln!(o, "  ({none})");
    }
    for lever in &l.levers {
        let what = lever_words(l.sender, &lever.how);
        let verdict = if lever.meets {
            "meets the targets".to_string()
        } else if closest.loss_fraction > 0.0 && lever.loss_fraction < 0.01 * closest.loss_fraction {
            format!("nearly: loss {} → {}", percent(closest.loss_fraction), percent(lever.loss_fraction))
        } else {
            "not enough".to_string()
        };
        let mut cost = Vec::new();
        if let Some(m) = lever.cost.memory_bytes {
            cost.push(format!("about {} more memory", bytes(m)));
        }
        if let Some(d) = lever.cost.disk_bytes {
            cost.push(format!("about {} more disk", bytes(d)));
        }
        let _ = writeln!(
            o,
            "  - {what}: {verdict} (worst case: {})",
            metrics_line(&PointRow {
                loss_fraction: lever.loss_fraction,
                delivery_latency_p99_seconds: lever.delivery_latency_p99_seconds,
                queue_memory_bytes_peak: lever.queue_memory_bytes_peak as f64,
                ..PointRow::default()
            })
        );
        let cost = if cost.is_empty() { String::new() } else { format!("{}; ", cost.join(", ")) };
        let _ = writeln!(o, "      cost: {cost}{}", lever.cost.note);
    }
    if !l.levers.iter().any(|x| x.meets) {
        let wanted: Vec<String> = targets.active().iter().map(|&t| describe(targets, t)).collect();
        let _ = writeln!(o, "  None of these alone meets {}.", wanted.join(", "));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::time::SimDuration;

    fn row(loss: f64, mem: f64, p99: f64) -> PointRow {
        PointRow {
            replications: 1,
            loss_fraction: loss,
            queue_memory_bytes_peak: mem,
            delivery_latency_p99_seconds: p99,
            appended: 1000,
            failed: (loss * 1000.0) as u64,
            prometheus: "3.x".into(),
            ..PointRow::default()
        }
    }

    fn result(rows: Vec<PointRow>) -> SweepResult {
        SweepResult {
            params: vec!["remote_write.queue_config.capacity".into()],
            points: rows
                .into_iter()
                .enumerate()
                .map(|(i, row)| SweepPoint { index: i as u64, params: vec![(i * 1000).to_string()], row })
                .collect(),
            sender: Default::default(),
        }
    }

    #[test]
    fn pareto_front_keeps_only_undominated_points() {
        let r = result(vec![
            row(0.0, 100.0, 10.0), // 0: front
            row(0.0, 200.0, 10.0), // 1: dominated by 0
            row(0.0, 200.0, 5.0),  // 2: front (better p99)
            row(0.1, 50.0, 5.0),   // 3: front (least memory)
            row(0.1, 50.0, 5.0),   // 4: equal to 3: neither dominates
            row(0.2, 60.0, 6.0),   // 5: dominated by 3
        ]);
        assert_eq!(pareto_front(&r), vec![0, 2, 3, 4]);
    }

    #[test]
    fn recommendation_takes_least_memory_then_p99_then_loss_then_order() {
        let r = result(vec![
            row(0.0, 300.0, 10.0),
            row(0.0, 100.0, 20.0),
            row(0.0, 100.0, 10.0),
            row(0.0, 100.0, 10.0),
            row(0.5, 10.0, 1.0),
        ]);
        let t = Targets::default();
        assert_eq!(recommend(&r, &t), Some(Recommendation::Chosen { point: 2, candidates: 4 }));
        let t = Targets { max_p99_seconds: Some(15.0), max_memory_bytes: Some(200), ..Targets::default() };
        assert_eq!(recommend(&r, &t), Some(Recommendation::Chosen { point: 2, candidates: 2 }));
        let t = Targets { max_p99_seconds: Some(0.5), ..Targets::default() };
        match recommend(&r, &t) {
            Some(Recommendation::NoneMeets { met_by, closest }) => {
                assert_eq!(met_by, vec![(Target::Loss, 4), (Target::P99, 0)]);
                assert_eq!(closest, 2, "meets loss; then lowest p99, least memory");
            }
            other => panic!("{other:?}"),
        }
    }

    /// capacity (a setting) × outage length (a condition): the cheap setting is loss-free only
    /// at the short outage; the recommendation must hold for every swept outage.
    #[test]
    fn recommendation_holds_across_swept_conditions() {
        let point = |i: u64, cap: &str, len: &str, row: PointRow| SweepPoint {
            index: i,
            params: vec![cap.into(), len.into()],
            row,
        };
        let r = SweepResult {
            params: vec!["remote_write.queue_config.capacity".into(), "receiver.fault[0].length".into()],
            points: vec![
                point(0, "2500", "1h", row(0.0, 100.0, 10.0)),
                point(1, "2500", "3h", row(0.2, 100.0, 10.0)),
                point(2, "10000", "1h", row(0.0, 300.0, 12.0)),
                point(3, "10000", "3h", row(0.0, 400.0, 20.0)),
            ],
            sender: Default::default(),
        };
        assert_eq!(setting_groups(&r), vec![vec![0, 1], vec![2, 3]]);
        let rec = recommend(&r, &Targets::default());
        assert_eq!(rec, Some(Recommendation::Chosen { point: 2, candidates: 1 }), "not point 0, cheap at 1h only");
        let worst = recommended_row(&r, 2);
        assert_eq!((worst.queue_memory_bytes_peak, worst.delivery_latency_p99_seconds), (400.0, 20.0));
        let text = render(&r, &Targets::default());
        assert!(text.contains("capacity = 10000, for every swept receiver.fault[0].length"), "{text}");
        assert!(text.contains("1 of 2 settings that meet every target under all 2 swept conditions"), "{text}");
        // Nothing meets a 15 s p99 in its worst case, although point 2 alone would.
        let t = Targets { max_p99_seconds: Some(15.0), ..Targets::default() };
        let text = render(&r, &t);
        assert!(text.contains("No recommendation: no setting meets every target under every swept condition."));
        assert!(!text.contains("queue_config:"));
    }

    #[test]
    fn all_lossy_grid_says_so_and_recommends_nothing() {
        let r = result(vec![row(0.2, 100.0, 10.0), row(0.1, 200.0, 10.0)]);
        let text = render(&r, &Targets::default());
        assert!(text.contains("No recommendation: no point meets every target."), "{text}");
        assert!(text.contains("Every point of this grid loses data (the least: 10.00% at point 1)"));
        assert!(!text.contains("queue_config:"));
    }

    #[test]
    fn yaml_uses_prometheus_spelling_and_omits_keys_the_version_lacks() {
        let mut r = row(0.0, 1.0, 1.0);
        r.capacity = 5000;
        r.batch_send_deadline = prometheus_duration(SimDuration::from_secs(5));
        r.min_backoff = prometheus_duration(SimDuration::from_millis(30));
        r.sample_age_limit = prometheus_duration(SimDuration::ZERO);
        let y = queue_config_yaml(&r, "");
        assert!(y.starts_with("queue_config:\n  capacity: 5000\n"), "{y}");
        assert!(y.contains("  batch_send_deadline: 5s\n  min_backoff: 30ms\n"));
        assert!(y.contains("sample_age_limit: 0s"));
        r.prometheus = "2.42".into();
        assert!(!queue_config_yaml(&r, "").contains("sample_age_limit"));
        assert_eq!(prometheus_duration(SimDuration::from_millis(90_500)), "1m30s500ms");
    }

    #[test]
    fn csv_round_trips_byte_for_byte() {
        let mut rows = vec![row(0.0, 100.0, 10.0), row(0.25, 200.5, 1e-7)];
        rows[1].loss_fraction_ci_low = Some(0.1);
        rows[1].loss_fraction_ci_high = Some(0.4);
        let r = result(rows);
        let bytes = write_csv(&r, Vec::new()).unwrap();
        let back = read_csv(bytes.as_slice()).unwrap();
        assert_eq!(back, r);
        assert_eq!(write_csv(&back, Vec::new()).unwrap(), bytes);
        let header = String::from_utf8(bytes).unwrap();
        assert!(header.starts_with("point,remote_write.queue_config.capacity,replications,seed,"));
    }

    #[test]
    fn merge_checks_the_parts_fit() {
        let mut r = result(vec![row(0.0, 1.0, 1.0), row(0.0, 2.0, 1.0), row(0.0, 3.0, 1.0)]);
        for p in &mut r.points {
            p.row.grid_points = 3;
            p.row.sweep_id = "abc".into();
        }
        let part = |keep: &[u64]| SweepResult {
            params: r.params.clone(),
            points: r.points.iter().filter(|p| keep.contains(&p.index)).cloned().collect(),
            sender: Default::default(),
        };
        let merged = merge(vec![("b".into(), part(&[1])), ("a".into(), part(&[0, 2]))]).unwrap();
        assert_eq!(merged, r);
        let e = merge(vec![("a".into(), part(&[0, 2]))]).unwrap_err().to_string();
        assert!(e.contains("1 of the 3 points are missing (points 1)"), "{e}");
        let e = merge(vec![("a".into(), part(&[0, 1])), ("b".into(), part(&[1, 2]))]).unwrap_err().to_string();
        assert!(e.contains("point 1 is in both a and b"), "{e}");
        let mut other = part(&[1]);
        other.points[0].row.sweep_id = "def".into();
        let e = merge(vec![("a".into(), part(&[0, 2])), ("b".into(), other)]).unwrap_err().to_string();
        assert!(e.contains("different"), "{e}");
    }

    /// An Alloy sweep of a queue key and a `wal` attribute: the recommendation is Alloy's
    /// `prometheus.remote_write` component with the point's values, in Alloy's syntax (strings
    /// for durations, bare numbers and booleans), never prometheus.yml.
    #[test]
    fn an_alloy_recommendation_is_an_alloy_component() {
        let mut r = result(vec![row(0.2, 100.0, 10.0), row(0.0, 200.0, 10.0)]);
        r.sender = Sender::Alloy;
        r.params = vec!["remote_write.queue_config.capacity".into(), "sender.alloy.truncate_frequency".into()];
        for (p, v) in r.points.iter_mut().zip(["2h", "4h"]) {
            p.params = vec!["2500".into(), v.into()];
            p.row.capacity = 2500;
            p.row.max_shards = 50;
            p.row.batch_send_deadline = "5s".into();
            p.row.retry_on_http_429 = true;
            p.row.sample_age_limit = "0s".into();
        }
        let text = render(&r, &Targets::default());
        assert!(text.contains("sender.alloy.truncate_frequency = 4h"), "{text}");
        assert!(text.contains("Grafana Alloy"), "{text}");
        assert!(!text.contains("queue_config:") && !text.contains("prometheus.yml"), "{text}");
        let block = &text[text.find("prometheus.remote_write \"default\" {").expect(&text)..];
        let block = &block[..block.find("\n    }\n").expect("the component closes") + 7];
        for line in [
            "      endpoint {",
            "        queue_config {",
            "          capacity             = 2500\n",
            "          max_shards           = 50\n",
            "          batch_send_deadline  = \"5s\"\n",
            "          retry_on_http_429    = true\n",
            "          sample_age_limit     = \"0s\"\n",
            "      wal {\n        truncate_frequency = \"4h\"\n      }",
        ] {
            assert!(block.contains(line), "{line:?} in\n{block}");
        }
        // Balanced braces: a block that Alloy parses as a whole.
        assert_eq!(block.matches('{').count(), block.matches('}').count(), "{block}");
        // A `wal` key alone gives a wal block and no endpoint.
        r.params.remove(0);
        for p in &mut r.points {
            p.params.remove(0);
        }
        let (paste, flags) = to_apply(&r, &r.points[1], "");
        let paste = paste.expect("a block");
        assert!(paste.starts_with("prometheus.remote_write \"default\" {\n  wal {\n"), "{paste}");
        assert!(!paste.contains("endpoint"), "{paste}");
        assert!(flags.is_empty());
    }

    /// vmagent's swept flags are printed with its own names and units; an agent's segment
    /// size is the agent's flag.
    #[test]
    fn vmagent_and_agent_flags_are_their_own() {
        let mut r = result(vec![row(0.2, 100.0, 10.0), row(0.0, 200.0, 10.0)]);
        r.sender = Sender::Vmagent;
        r.params = vec!["vmagent.remoteWrite.queues".into(), "vmagent.remoteWrite.maxDiskUsagePerURL".into()];
        r.points[0].params = vec!["2".into(), "1GiB".into()];
        r.points[1].params = vec!["8".into(), "500MB".into()];
        let text = render(&r, &Targets::default());
        assert!(
            text.contains(
                "Start vmagent with:\n\n    -remoteWrite.queues=8\n    -remoteWrite.maxDiskUsagePerURL=500MB\n"
            ),
            "{text}"
        );
        assert!(!text.contains("queue_config") && !text.contains("prometheus.yml"), "{text}");
        assert!(text.contains("(VictoriaMetrics vmagent)"), "{text}");
        r.sender = Sender::Agent;
        r.params = vec!["tsdb.wal_segment_size".into()];
        r.points[0].params = vec!["128MiB".into()];
        r.points[1].params = vec!["256MiB".into()];
        let text = render(&r, &Targets::default());
        assert!(text.contains(
            "Start Prometheus in agent mode (--agent; --enable-feature=agent before 3.0) with:\n\n    \
             --storage.agent.wal-segment-size=256MB"
        ));
        assert!(!text.contains("--storage.tsdb"), "{text}");
    }

    /// The sender travels in sweep.csv (a last column, for any sender but a server) and in
    /// sweep.json, so `rwsim merge` and `rwsim report` spell the recommendation for it.
    #[test]
    fn the_sender_round_trips_through_the_files() {
        let mut r = result(vec![row(0.0, 100.0, 10.0), row(0.1, 200.0, 10.0)]);
        let server = String::from_utf8(write_csv(&r, Vec::new()).unwrap()).unwrap();
        assert!(!server.contains("sender"), "a server's file is unchanged");
        assert!(!SweepSummary::new(&r, &Targets::default(), vec![]).to_json().contains("sender"));
        r.sender = Sender::Alloy;
        let bytes = write_csv(&r, Vec::new()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.lines().next().unwrap().ends_with(",outage_budget_seconds,sender"), "{text}");
        assert!(text.lines().skip(1).all(|l| l.ends_with(",alloy")), "{text}");
        let back = read_csv(bytes.as_slice()).unwrap();
        assert_eq!(back, r);
        let json = SweepSummary::new(&r, &Targets::default(), vec![]).to_json();
        assert!(json.contains("\"sender\": \"alloy\""), "{json}");
        let e = merge(vec![
            ("a".into(), r.clone()),
            ("b".into(), {
                r.sender = Sender::Agent;
                r
            }),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("b is a sweep of agent but a of alloy"), "{e}");
    }

    /// A sweep of a TSDB flag: the recommendation is the flag, printed as a flag, with no
    /// `queue_config:` block of unchanged defaults.
    #[test]
    fn a_swept_flag_is_recommended_as_a_flag() {
        let mut r = result(vec![row(0.2, 100.0, 10.0), row(0.0, 100.0, 10.0)]);
        r.params = vec!["tsdb.wal_segment_size".into()];
        r.points[0].params = vec!["128MiB".into()];
        r.points[1].params = vec!["268435456".into()];
        let text = render(&r, &Targets::default());
        assert!(text.contains("Recommendation: point 1: tsdb.wal_segment_size = 268435456"), "{text}");
        assert!(text.contains("Start Prometheus with:\n\n    --storage.tsdb.wal-segment-size=256MB"), "{text}");
        assert!(!text.contains("queue_config:"), "no paste block of defaults: {text}");
        // With a queue key swept too, both: the YAML and the flag.
        r.params.insert(0, "remote_write.queue_config.capacity".into());
        for p in &mut r.points {
            p.params.insert(0, "5000".into());
        }
        let text = render(&r, &Targets::default());
        assert!(text.contains("queue_config:\n      capacity:"), "{text}");
        assert!(text.contains("--storage.tsdb.wal-segment-size=256MB"), "{text}");
    }

    /// Settings whose losses differ by less than the noise are equal, and the cheaper one is
    /// named: not 200 shards for a 0.07-point difference.
    #[test]
    fn a_difference_below_the_noise_does_not_pick_the_dearest() {
        // One run per point: 33.17% against 33.10% is within the tolerance.
        let r = result(vec![row(0.3317, 6.5e6, 2.7), row(0.3310, 117.5e6, 2.7)]);
        match recommend(&r, &Targets::default()) {
            Some(Recommendation::NoneMeets { closest, .. }) => assert_eq!(closest, 0, "the cheaper setting"),
            other => panic!("{other:?}"),
        }
        // A real difference still wins.
        let r = result(vec![row(0.3317, 6.5e6, 2.7), row(0.20, 117.5e6, 2.7)]);
        assert!(matches!(recommend(&r, &Targets::default()), Some(Recommendation::NoneMeets { closest: 1, .. })));
        // With replications, overlapping intervals are a tie, even for a larger gap of means.
        let ci = |loss: f64, mem: f64, lo: f64, hi: f64| PointRow {
            replications: 3,
            loss_fraction_ci_low: Some(lo),
            loss_fraction_ci_high: Some(hi),
            ..row(loss, mem, 2.7)
        };
        let r = result(vec![ci(0.30, 6.5e6, 0.26, 0.34), ci(0.28, 117.5e6, 0.25, 0.31)]);
        assert!(matches!(recommend(&r, &Targets::default()), Some(Recommendation::NoneMeets { closest: 0, .. })));
        let r = result(vec![ci(0.30, 6.5e6, 0.29, 0.31), ci(0.20, 117.5e6, 0.19, 0.21)]);
        assert!(matches!(recommend(&r, &Targets::default()), Some(Recommendation::NoneMeets { closest: 1, .. })));
        // Among settings that meet the targets, memory whose intervals overlap is a tie that
        // the lower p99 decides.
        let t = |mem: f64, lo: f64, hi: f64, p99: f64| PointRow {
            replications: 3,
            queue_memory_bytes_peak_ci_low: Some(lo),
            queue_memory_bytes_peak_ci_high: Some(hi),
            ..row(0.0, mem, p99)
        };
        let r = result(vec![t(100.0, 90.0, 110.0, 30.0), t(105.0, 95.0, 115.0, 10.0)]);
        assert_eq!(recommend(&r, &Targets::default()), Some(Recommendation::Chosen { point: 1, candidates: 2 }));
        assert!(render(&r, &Targets::default()).contains("overlap count as equal"));
        assert!(render(&result(vec![row(0.0, 1.0, 1.0)]), &Targets::default()).contains("single run per point, noisy"));
    }

    #[test]
    fn a_tie_on_every_metric_goes_to_the_least_memory_as_measured_not_the_earlier_point() {
        // Replicated points whose memory, p99 and loss intervals all overlap: the earlier
        // point once won, though it was off the Pareto front of the estimates.
        let t = |mem: f64, lo: f64, hi: f64| PointRow {
            replications: 2,
            queue_memory_bytes_peak_ci_low: Some(lo),
            queue_memory_bytes_peak_ci_high: Some(hi),
            delivery_latency_p99_seconds_ci_low: Some(6000.0),
            delivery_latency_p99_seconds_ci_high: Some(6100.0),
            ..row(0.0, mem, 6060.0)
        };
        let r = result(vec![t(15.5e6, 6.2e6, 26.3e6), t(14.9e6, 13.4e6, 17.9e6)]);
        assert_eq!(pareto_front(&r), vec![1]);
        assert_eq!(recommend(&r, &Targets::default()), Some(Recommendation::Chosen { point: 1, candidates: 2 }));
    }

    /// Outage lengths are conditions: the front lists settings at their worst case, never an
    /// outage length as an option; with the length swept, each setting gets its budget.
    #[test]
    fn conditions_are_not_options_and_settings_get_a_budget() {
        let point = |i: u64, cap: &str, len: &str, row: PointRow| SweepPoint {
            index: i,
            params: vec![cap.into(), len.into()],
            row,
        };
        let mut r = SweepResult {
            params: vec!["remote_write.queue_config.capacity".into(), "receiver.fault[0].length".into()],
            points: vec![
                point(0, "2500", "30m", row(0.0, 100.0, 10.0)),
                point(1, "2500", "1h", row(0.0, 100.0, 10.0)),
                point(2, "2500", "2h", row(0.2, 100.0, 10.0)),
                point(3, "10000", "30m", row(0.0, 300.0, 12.0)),
                point(4, "10000", "1h", row(0.0, 300.0, 12.0)),
                point(5, "10000", "2h", row(0.0, 400.0, 20.0)),
            ],
            sender: Default::default(),
        };
        // Point 0 alone (no loss at 30m, least memory) would dominate every other point.
        assert_eq!(pareto_front(&r), vec![3, 0], "one entry per setting, at its worst case");
        fill_budgets(&mut r);
        let b: Vec<Option<f64>> = r.points.iter().map(|p| p.row.outage_budget_seconds).collect();
        assert_eq!(b, vec![Some(3600.0), Some(3600.0), Some(3600.0), Some(7200.0), Some(7200.0), Some(7200.0)]);
        let text = render(&r, &Targets::default());
        assert!(text.contains("outage budget"), "{text}");
        assert!(text.contains("2h00m") && text.contains("1h00m"), "{text}");
        let header = text.lines().find(|l| l.contains("p99 latency")).unwrap();
        assert!(!header.contains("length"), "the condition is not a column of the front: {header}");
        // The column round-trips, and a file without it (an older rwsim) still reads.
        let bytes = write_csv(&r, Vec::new()).unwrap();
        assert_eq!(read_csv(bytes.as_slice()).unwrap(), r);
        let old: String = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
            .collect();
        let back = read_csv(old.as_bytes()).unwrap();
        assert!(back.points.iter().all(|p| p.row.outage_budget_seconds.is_none()));
    }
}
