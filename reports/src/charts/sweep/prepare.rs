//! The sweep charts' data: which swept keys go on which axis, which slice of the grid a
//! chart shows, and its values, from the points of a [`SweepResult`]. Pure functions, unit
//! tested; the parent module draws what they return.
//!
//! **Which charts** ([`chart_names`], [`sweep_charts`]):
//!
//! | swept keys | charts (file stems) |
//! |---|---|
//! | 2 or more | `heatmap-loss`, `heatmap-p99`, `heatmap-memory`: each metric over the two keys with the most values; `curves-loss`: loss against a duration key, one line per value of another key |
//! | 1 | `curves-loss`, `curves-p99`, `curves-memory`: each metric against the key |
//! | 0 (a grid of one point) | none |
//!
//! **Slices.** A chart shows at most two keys of the grid. Every other key is held at the
//! recommended point's value, or, when no point meets the targets, at its first value (the
//! values of point 0), and the chart says so in its subtitle.
//!
//! **Axes.** Heatmap rows and columns, and curve lines, are in increasing value (false before
//! true), whatever the order the values were listed in. The curves' horizontal key is the
//! first fault window's length or end (`receiver.fault[N].length`, `.end`), else the first
//! key whose values are durations, else the first key that is not a boolean, else the first
//! key. The lines are the other key with the most values (the earlier on a tie), at most
//! [`MAX_LINES`] of its values.

use super::{Curves, Heatmap, ValueUnit};
use crate::charts::{DrawResult, Figure, Target};
#[cfg(test)]
use crate::sweep::distinct_values;
use crate::sweep::{PointRow, SweepResult};
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};

/// Most lines on a curves chart: the number of distinct line colours.
pub const MAX_LINES: usize = 7;

/// Most values of a whole-number key that get a tick each on a curves chart.
const MAX_LABELLED: usize = 12;

/// What a swept key's values are, as the scenario schema says (the CLI knows it from the
/// `scenarios` crate; this crate does not depend on it).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Whole numbers (`max_shards`).
    Integer,
    /// Numbers (`probability`).
    Number,
    /// Durations; the numeric value is in seconds.
    Duration,
    /// Sizes; the numeric value is in bytes.
    Size,
    /// Booleans; `false` is 0 and `true` is 1.
    Bool,
}

impl ParamKind {
    fn unit(self) -> ValueUnit {
        match self {
            ParamKind::Duration => ValueUnit::Seconds,
            ParamKind::Size => ValueUnit::Bytes,
            ParamKind::Integer | ParamKind::Number | ParamKind::Bool => ValueUnit::Count,
        }
    }
}

/// A swept key and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct SweptKey {
    /// The key, as in `sweep.csv` (`remote_write.queue_config.max_shards`).
    pub key: String,
    /// Its kind.
    pub kind: ParamKind,
    /// Its distinct values in grid order ([`crate::sweep::distinct_values`]): the label as in
    /// `sweep.csv` (`1h30m`) and the number it stands for (5400).
    pub values: Vec<(String, f64)>,
}

impl SweptKey {
    /// The number a label stands for.
    fn number(&self, label: &str) -> Option<f64> {
        self.values.iter().find(|v| v.0 == label).map(|v| v.1)
    }

    /// Labels in increasing value; equal values keep grid order.
    fn ascending(&self) -> Vec<String> {
        let mut v = self.values.clone();
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
        v.into_iter().map(|v| v.0).collect()
    }
}

/// A key as charts show it: without the `remote_write.` every `queue_config` key starts with.
pub fn display_key(key: &str) -> &str {
    key.strip_prefix("remote_write.").unwrap_or(key)
}

/// A key as legends show it: its last part, with its table when that is an array element
/// (`capacity`, `fault[0].length`).
pub fn short_key(key: &str) -> &str {
    let mut parts = key.rsplitn(3, '.');
    let last = parts.next().unwrap_or(key);
    match parts.next() {
        Some(table) if table.contains('[') => &key[key.len() - last.len() - table.len() - 1..],
        _ => last,
    }
}

/// A metric of the sweep charts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Metric {
    /// `loss_fraction`.
    Loss,
    /// `delivery_latency_p99_seconds`.
    P99,
    /// `queue_memory_bytes_peak`.
    Memory,
}

impl Metric {
    /// Every metric, in chart order.
    pub const ALL: [Metric; 3] = [Metric::Loss, Metric::P99, Metric::Memory];

    /// Its value in a row (the mean over replications).
    pub fn of(self, row: &PointRow) -> f64 {
        match self {
            Metric::Loss => row.loss_fraction,
            Metric::P99 => row.delivery_latency_p99_seconds,
            Metric::Memory => row.queue_memory_bytes_peak,
        }
    }

    /// How its values are written.
    pub fn unit(self) -> ValueUnit {
        match self {
            Metric::Loss => ValueUnit::Fraction,
            Metric::P99 => ValueUnit::Seconds,
            Metric::Memory => ValueUnit::Bytes,
        }
    }

    /// Chart title.
    pub fn title(self) -> &'static str {
        match self {
            Metric::Loss => "Loss: share of samples that never reached the receiver",
            Metric::P99 => "p99 delivery latency: sample timestamp to accepted write",
            Metric::Memory => "Peak queue memory: shard queues and send buffers (estimate)",
        }
    }

    /// Name in captions.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Loss => "Loss",
            Metric::P99 => "p99 delivery latency",
            Metric::Memory => "Peak queue memory",
        }
    }

    /// Short name, in the file stems.
    pub fn slug(self) -> &'static str {
        match self {
            Metric::Loss => "loss",
            Metric::P99 => "p99",
            Metric::Memory => "memory",
        }
    }

    /// What a reader should know to read it, if anything.
    fn caveat(self) -> Option<&'static str> {
        match self {
            Metric::P99 => Some("delivered samples only: a backlog lost instead of sent late does not raise it"),
            Metric::Loss | Metric::Memory => None,
        }
    }

    /// Axis description.
    fn axis_label(self) -> &'static str {
        match self {
            Metric::Loss => "samples lost, share of those appended",
            Metric::P99 => "p99 delivery latency",
            Metric::Memory => "peak queue memory",
        }
    }
}

/// A sweep chart of either kind.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepFigure {
    /// One metric over two keys.
    Heatmap(Heatmap),
    /// A metric against one key.
    Curves(Curves),
}

impl Figure for SweepFigure {
    fn size(&self) -> (u32, u32) {
        match self {
            SweepFigure::Heatmap(h) => h.size(),
            SweepFigure::Curves(c) => c.size(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, target: Target) -> DrawResult<DB> {
        match self {
            SweepFigure::Heatmap(h) => h.draw(root, target),
            SweepFigure::Curves(c) => c.draw(root, target),
        }
    }
}

/// A chart with its file stem and a caption for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepChart {
    /// File stem: `NAME.png` and `NAME.svg`.
    pub name: String,
    /// One sentence saying what the chart shows.
    pub caption: String,
    /// The chart.
    pub figure: SweepFigure,
}

/// The file stems of the charts of a sweep over `keys` keys, in order (see the module docs).
pub fn chart_names(keys: usize) -> Vec<String> {
    match keys {
        0 => Vec::new(),
        1 => Metric::ALL.iter().map(|m| format!("curves-{}", m.slug())).collect(),
        _ => {
            let mut v: Vec<String> = Metric::ALL.iter().map(|m| format!("heatmap-{}", m.slug())).collect();
            v.push("curves-loss".into());
            v
        }
    }
}

/// The heatmaps' keys `(x, y)`: the two with the most values, the one with more across (the
/// earlier on a tie). `None` with fewer than two keys.
pub fn heatmap_keys(keys: &[SweptKey]) -> Option<(usize, usize)> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[b].values.len().cmp(&keys[a].values.len()).then(a.cmp(&b)));
    match order[..] {
        [x, y, ..] => Some((x, y)),
        _ => None,
    }
}

/// Whether `key` is `receiver.fault[N].length` or `receiver.fault[N].end`.
fn is_fault_span(key: &str) -> bool {
    key.starts_with("receiver.fault[") && (key.ends_with("].length") || key.ends_with("].end"))
}

/// The curves' keys: the horizontal one and the one drawn as lines (see the module docs).
/// `None` without keys.
pub fn curve_keys(keys: &[SweptKey]) -> Option<(usize, Option<usize>)> {
    let x = (0..keys.len())
        .find(|&i| is_fault_span(&keys[i].key))
        .or_else(|| (0..keys.len()).find(|&i| keys[i].kind == ParamKind::Duration))
        .or_else(|| (0..keys.len()).find(|&i| keys[i].kind != ParamKind::Bool))
        .or(if keys.is_empty() { None } else { Some(0) })?;
    let lines = (0..keys.len())
        .filter(|&i| i != x)
        .min_by(|&a, &b| keys[b].values.len().cmp(&keys[a].values.len()).then(a.cmp(&b)));
    Some((x, lines))
}

/// Up to `max` of `n` values in increasing order: evenly spread, the first and the last
/// always, and `keep` (the recommended point's) in place of its nearest pick.
pub fn spread(n: usize, max: usize, keep: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    if max < 3 {
        return if max == 0 { Vec::new() } else { vec![keep.min(n - 1)] };
    }
    let mut picks: Vec<usize> = (0..max).map(|i| (i * (n - 1) + (max - 1) / 2) / (max - 1)).collect();
    if keep < n && !picks.contains(&keep) {
        // Never the first or the last pick: keep is strictly between them.
        let nearest = (1..max - 1).min_by_key(|&i| (picks[i].abs_diff(keep), i)).expect("max >= 3");
        picks[nearest] = keep;
    }
    picks.sort_unstable();
    picks.dedup();
    picks
}

/// What a chart knows about the grid: the keys and the point the slices are taken at.
struct Grid<'a> {
    result: &'a SweepResult,
    keys: &'a [SweptKey],
    recommended: Option<usize>,
    /// The recommended point, else point 0.
    anchor: usize,
}

impl Grid<'_> {
    /// The points that agree with the anchor on every key but `free`.
    fn slice<'b>(&'b self, free: &'b [usize]) -> impl Iterator<Item = &'b crate::sweep::SweepPoint> + 'b {
        let anchor = &self.result.points[self.anchor];
        self.result
            .points
            .iter()
            .filter(move |p| (0..self.keys.len()).all(|k| free.contains(&k) || p.params[k] == anchor.params[k]))
    }

    /// "other swept keys held at ...", or nothing when every key is shown.
    fn held_note(&self, free: &[usize]) -> Option<String> {
        let anchor = &self.result.points[self.anchor];
        let held: Vec<String> = (0..self.keys.len())
            .filter(|k| !free.contains(k))
            .map(|k| format!("{} = {}", display_key(&self.keys[k].key), anchor.params[k]))
            .collect();
        if held.is_empty() {
            return None;
        }
        let (other, at) =
            if held.len() == 1 { ("the other swept key", "its") } else { ("the other swept keys", "their") };
        Some(match self.recommended {
            Some(_) => format!("{other} held at the recommended point: {}", held.join(", ")),
            None => format!("{other} held at {at} first value (no point meets every target): {}", held.join(", ")),
        })
    }

    /// "means over K seeds per point", for more than one replication.
    fn means_note(&self) -> Option<String> {
        let k = self.result.points.first().map_or(1, |p| p.row.replications);
        (k > 1).then(|| format!("values are means over {k} seeds per point (sweep.csv has the confidence intervals)"))
    }
}

/// The heatmap of `metric` over [`heatmap_keys`], the recommended point (an index into
/// `result.points`) outlined. `None` with fewer than two keys.
pub fn heatmap(result: &SweepResult, keys: &[SweptKey], recommended: Option<usize>, metric: Metric) -> Option<Heatmap> {
    let g = grid(result, keys, recommended)?;
    let (xk, yk) = heatmap_keys(keys)?;
    let (xs, ys) = (keys[xk].ascending(), keys[yk].ascending());
    let mut cells = vec![vec![None; xs.len()]; ys.len()];
    let at = |labels: &[String], v: &str| labels.iter().position(|l| l == v);
    for p in g.slice(&[xk, yk]) {
        if let (Some(x), Some(y)) = (at(&xs, &p.params[xk]), at(&ys, &p.params[yk])) {
            cells[y][x] = Some(metric.of(&p.row));
        }
    }
    let marked = recommended.and_then(|r| {
        let p = &result.points[r];
        Some((at(&xs, &p.params[xk])?, at(&ys, &p.params[yk])?))
    });
    let mut notes: Vec<String> = Vec::new();
    notes.extend(g.held_note(&[xk, yk]));
    if recommended.is_none() {
        notes.push("no point meets every target, so none is outlined".into());
    }
    notes.extend(g.means_note());
    notes.extend(metric.caveat().map(String::from));
    Some(Heatmap {
        title: metric.title().into(),
        unit: metric.unit(),
        x_key: display_key(&keys[xk].key).into(),
        x_values: xs,
        y_key: display_key(&keys[yk].key).into(),
        y_values: ys,
        cells,
        marked,
        from_zero: metric == Metric::Loss,
        notes,
    })
}

/// `metric` against the [`curve_keys`] horizontal key, one line per value of the other key
/// (at most [`MAX_LINES`]), the recommended point ringed. `None` without keys.
pub fn curves(result: &SweepResult, keys: &[SweptKey], recommended: Option<usize>, metric: Metric) -> Option<Curves> {
    let g = grid(result, keys, recommended)?;
    let (xk, lk) = curve_keys(keys)?;
    let x = &keys[xk];
    let anchor = &result.points[g.anchor];
    let (lines, shown_of): (Vec<Option<String>>, Option<usize>) = match lk {
        Some(lk) => {
            let all = keys[lk].ascending();
            let keep = all.iter().position(|l| *l == anchor.params[lk]).unwrap_or(0);
            let picks = spread(all.len(), MAX_LINES, keep);
            let shown_of = (picks.len() < all.len()).then_some(all.len());
            (picks.into_iter().map(|i| Some(all[i].clone())).collect(), shown_of)
        }
        None => (vec![None], None),
    };
    let free: Vec<usize> = std::iter::once(xk).chain(lk).collect();
    let mut series = Vec::with_capacity(lines.len());
    let mut marked = None;
    for (si, line) in lines.iter().enumerate() {
        let mut pts: Vec<(f64, f64, usize)> = g
            .slice(&free)
            .filter(|p| line.as_ref().is_none_or(|l| lk.is_some_and(|lk| p.params[lk] == *l)))
            .filter_map(|p| Some((x.number(&p.params[xk])?, metric.of(&p.row), point_of(result, p))))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(r) = recommended
            && let Some(i) = pts.iter().position(|p| p.2 == r)
        {
            marked = Some((si, i));
        }
        let label = match (line, lk) {
            (Some(l), Some(lk)) => format!("{} = {l}", short_key(&keys[lk].key)),
            _ => String::new(),
        };
        series.push((label, pts.into_iter().map(|p| (p.0, p.1)).collect()));
    }
    let mut subtitle: Vec<String> = Vec::new();
    if let Some(lk) = lk {
        let mut s = format!("one line per {}", display_key(&keys[lk].key));
        if let Some(n) = shown_of {
            s += &format!(" ({} of its {n} values)", lines.len());
        }
        subtitle.push(s);
    }
    subtitle.extend(g.held_note(&free));
    subtitle.push(match recommended {
        Some(r) => {
            let p = &result.points[r];
            let at: Vec<String> =
                free.iter().map(|&k| format!("{} = {}", display_key(&keys[k].key), p.params[k])).collect();
            format!("ringed: the recommended point, {} ({})", at.join(", "), metric.unit().format(metric.of(&p.row)))
        }
        None => "no point meets every target, so none is ringed".into(),
    });
    subtitle.extend(g.means_note());
    subtitle.extend(metric.caveat().map(String::from));
    // A geometric grid (capacity 2500, 5000, 10000, ...) goes on a log axis, labelled at
    // the values run (at most MAX_LABELLED of them); booleans, and a few whole numbers (no
    // tick at 1.5 shards), are labelled at their values.
    let numbers: Vec<f64> = x.values.iter().map(|v| v.1).collect();
    let x_log = x.kind != ParamKind::Bool && super::is_geometric(&numbers);
    let sorted = || {
        let mut v: Vec<(f64, String)> = x.values.iter().map(|v| (v.1, v.0.clone())).collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let x_labels = match x.kind {
        ParamKind::Bool => x.values.iter().map(|v| (v.1, v.0.clone())).collect(),
        _ if x_log => {
            let v = sorted();
            spread(v.len(), MAX_LABELLED, 0).into_iter().map(|i| v[i].clone()).collect()
        }
        ParamKind::Integer if x.values.len() <= MAX_LABELLED => sorted(),
        _ => Vec::new(),
    };
    let x_name = display_key(&x.key);
    Some(Curves {
        title: match metric {
            Metric::Loss => format!("Loss vs {x_name}"),
            Metric::P99 => format!("p99 delivery latency vs {x_name}"),
            Metric::Memory => format!("Peak queue memory vs {x_name}"),
        },
        x_key: x_name.into(),
        x_unit: x.kind.unit(),
        y_label: metric.axis_label().into(),
        y_unit: metric.unit(),
        series,
        subtitle,
        x_labels,
        marked,
        x_log,
        // Loss starts (or stops) where a setting stops (or starts) keeping up: a step, not a ramp.
        steps: metric == Metric::Loss,
        jumps: Vec::new(),
    })
}

/// Index of `p` in `result.points`.
fn point_of(result: &SweepResult, p: &crate::sweep::SweepPoint) -> usize {
    // Points are sorted by grid index.
    result.points.binary_search_by_key(&p.index, |q| q.index).expect("a point of the result")
}

fn grid<'a>(result: &'a SweepResult, keys: &'a [SweptKey], recommended: Option<usize>) -> Option<Grid<'a>> {
    assert_eq!(keys.len(), result.params.len(), "one SweptKey per swept key");
    if result.points.is_empty() {
        return None;
    }
    Some(Grid { result, keys, recommended, anchor: recommended.unwrap_or(0) })
}

/// Every chart of a sweep, named as [`chart_names`] says; `recommended` is an index into
/// `result.points` (from [`crate::sweep::recommend`]), `None` when no point meets the
/// targets.
pub fn sweep_charts(result: &SweepResult, keys: &[SweptKey], recommended: Option<usize>) -> Vec<SweepChart> {
    let mut out = Vec::new();
    let names = chart_names(keys.len());
    let shown =
        |mark: &str| if recommended.is_some() { format!(", the recommended point {mark}") } else { String::new() };
    if keys.len() >= 2 {
        for m in Metric::ALL {
            if let Some(h) = heatmap(result, keys, recommended, m) {
                let held = heatmap_keys(keys)
                    .and_then(|(x, y)| grid(result, keys, recommended)?.held_note(&[x, y]))
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                let caption = format!("{} over {} × {}{held}{}", m.name(), h.x_key, h.y_key, shown("outlined"));
                out.push(SweepChart {
                    name: format!("heatmap-{}", m.slug()),
                    caption,
                    figure: SweepFigure::Heatmap(h),
                });
            }
        }
        if let Some(c) = curves(result, keys, recommended, Metric::Loss) {
            let caption = format!("{}, {}{}", c.title, c.subtitle[0], shown("ringed"));
            out.push(SweepChart { name: "curves-loss".into(), caption, figure: SweepFigure::Curves(c) });
        }
    } else {
        for m in Metric::ALL {
            if let Some(c) = curves(result, keys, recommended, m) {
                let caption = format!("{}{}", c.title, shown("ringed"));
                out.push(SweepChart { name: format!("curves-{}", m.slug()), caption, figure: SweepFigure::Curves(c) });
            }
        }
    }
    debug_assert!(
        out.is_empty() || out.iter().map(|c| &c.name).eq(names.iter()),
        "chart_names lists what sweep_charts draws"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SweepPoint;

    fn key(key: &str, kind: ParamKind, values: &[(&str, f64)]) -> SweptKey {
        SweptKey { key: key.into(), kind, values: values.iter().map(|(l, v)| (l.to_string(), *v)).collect() }
    }

    const SHARDS: &str = "remote_write.queue_config.max_shards";
    const CAP: &str = "remote_write.queue_config.capacity";
    const LEN: &str = "receiver.fault[0].length";

    /// The full grid of `keys` (last varying fastest), with loss = the sum of the value
    /// indices / 100 and memory = the point index.
    fn result(keys: &[SweptKey]) -> SweepResult {
        let n: usize = keys.iter().map(|k| k.values.len()).product();
        let points = (0..n)
            .map(|i| {
                let mut rest = i;
                let mut idx = vec![0; keys.len()];
                for (k, key) in keys.iter().enumerate().rev() {
                    idx[k] = rest % key.values.len();
                    rest /= key.values.len();
                }
                SweepPoint {
                    index: i as u64,
                    params: keys.iter().zip(&idx).map(|(k, &j)| k.values[j].0.clone()).collect(),
                    row: PointRow {
                        replications: 1,
                        loss_fraction: idx.iter().sum::<usize>() as f64 / 100.0,
                        queue_memory_bytes_peak: i as f64,
                        delivery_latency_p99_seconds: 1.0,
                        ..PointRow::default()
                    },
                }
            })
            .collect();
        SweepResult { params: keys.iter().map(|k| k.key.clone()).collect(), points, ..Default::default() }
    }

    fn shards() -> SweptKey {
        key(SHARDS, ParamKind::Integer, &[("2", 2.0), ("4", 4.0), ("8", 8.0)])
    }
    /// Listed out of order on purpose.
    fn capacity() -> SweptKey {
        key(CAP, ParamKind::Integer, &[("5000", 5000.0), ("2500", 2500.0)])
    }
    fn length() -> SweptKey {
        key(LEN, ParamKind::Duration, &[("30m", 1800.0), ("1h", 3600.0)])
    }

    #[test]
    fn keys_are_shortened_for_display() {
        assert_eq!(display_key(SHARDS), "queue_config.max_shards");
        assert_eq!(display_key(LEN), LEN);
        assert_eq!(short_key(SHARDS), "max_shards");
        assert_eq!(short_key(LEN), "fault[0].length");
        assert_eq!(short_key("duration"), "duration");
    }

    #[test]
    fn chart_names_follow_the_number_of_keys() {
        assert!(chart_names(0).is_empty());
        assert_eq!(chart_names(1), ["curves-loss", "curves-p99", "curves-memory"]);
        assert_eq!(chart_names(3), ["heatmap-loss", "heatmap-p99", "heatmap-memory", "curves-loss"]);
        let keys = [shards()];
        let names: Vec<String> = sweep_charts(&result(&keys), &keys, Some(0)).into_iter().map(|c| c.name).collect();
        assert_eq!(names, chart_names(1));
    }

    #[test]
    fn distinct_values_are_in_grid_order() {
        let keys = [shards(), capacity()];
        let r = result(&keys);
        assert_eq!(distinct_values(&r, 0), ["2", "4", "8"]);
        assert_eq!(distinct_values(&r, 1), ["5000", "2500"]);
    }

    #[test]
    fn heatmap_axes_are_the_keys_with_most_values_in_increasing_order() {
        let keys = [capacity(), shards()];
        assert_eq!(heatmap_keys(&keys), Some((1, 0)), "more values across");
        assert_eq!(heatmap_keys(&keys[..1]), None);
        let r = result(&keys);
        // Point 4: capacity 2500 (index 1), max_shards 4 (index 1).
        let h = heatmap(&r, &keys, Some(4), Metric::Loss).unwrap();
        assert_eq!(h.x_key, "queue_config.max_shards");
        assert_eq!(h.x_values, ["2", "4", "8"]);
        assert_eq!(h.y_values, ["2500", "5000"], "sorted, though listed 5000 first");
        // Row 0 is capacity 2500 (value index 1): loss = (1 + x) / 100.
        assert_eq!(h.cells[0], [Some(0.01), Some(0.02), Some(0.03)]);
        assert_eq!(h.cells[1], [Some(0.0), Some(0.01), Some(0.02)]);
        assert_eq!(h.marked, Some((1, 0)));
        assert!(h.notes.is_empty(), "{:?}", h.notes);
        let none = heatmap(&r, &keys, None, Metric::Memory).unwrap();
        assert_eq!(none.marked, None);
        assert_eq!(none.notes, ["no point meets every target, so none is outlined"]);
        assert_eq!(none.cells[1][0], Some(0.0), "memory = point index");
    }

    #[test]
    fn a_third_key_is_held_at_the_recommended_point_or_its_first_value() {
        let keys = [length(), shards(), capacity()];
        let r = result(&keys);
        assert_eq!(heatmap_keys(&keys), Some((1, 0)), "max_shards (3 values), then the first of the 2-value keys");
        // Point 11 = length 1h, max_shards 8, capacity 2500.
        assert_eq!(r.points[11].params, ["1h", "8", "2500"]);
        let h = heatmap(&r, &keys, Some(11), Metric::Memory).unwrap();
        assert_eq!(h.y_key, "receiver.fault[0].length");
        assert_eq!(h.notes, ["the other swept key held at the recommended point: queue_config.capacity = 2500"]);
        // Memory is the point index: the slice has capacity 2500 (odd points).
        assert_eq!(h.cells[0], [Some(1.0), Some(3.0), Some(5.0)]);
        assert_eq!(h.cells[1], [Some(7.0), Some(9.0), Some(11.0)]);
        assert_eq!(h.marked, Some((2, 1)));
        let h = heatmap(&r, &keys, None, Metric::Memory).unwrap();
        assert_eq!(
            h.notes,
            [
                "the other swept key held at its first value (no point meets every target): queue_config.capacity = 5000",
                "no point meets every target, so none is outlined"
            ]
        );
        assert_eq!(h.cells[0], [Some(0.0), Some(2.0), Some(4.0)]);
    }

    #[test]
    fn curves_run_along_the_fault_length_with_a_line_per_value_of_another_key() {
        let keys = [shards(), length(), capacity()];
        assert_eq!(curve_keys(&keys), Some((1, Some(0))), "fault length across, max_shards as lines");
        let r = result(&keys);
        // Point 5 = max_shards 4, length 30m, capacity 2500.
        assert_eq!(r.points[5].params, ["4", "30m", "2500"]);
        let c = curves(&r, &keys, Some(5), Metric::Loss).unwrap();
        assert_eq!(c.title, "Loss vs receiver.fault[0].length");
        assert_eq!(c.x_unit, ValueUnit::Seconds);
        let labels: Vec<&str> = c.series.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(labels, ["max_shards = 2", "max_shards = 4", "max_shards = 8"]);
        // capacity held at 2500 (value index 1): loss = (shards + length + 1) / 100.
        assert_eq!(c.series[1].1, [(1800.0, 0.02), (3600.0, 0.03)]);
        assert_eq!(c.marked, Some((1, 0)));
        assert_eq!(
            c.subtitle,
            [
                "one line per queue_config.max_shards",
                "the other swept key held at the recommended point: queue_config.capacity = 2500",
                "ringed: the recommended point, receiver.fault[0].length = 30m, queue_config.max_shards = 4 (2%)",
            ]
        );
    }

    #[test]
    fn curve_axes_fall_back_to_any_duration_then_a_number() {
        let d = key("remote_write.queue_config.batch_send_deadline", ParamKind::Duration, &[("5s", 5.0)]);
        let b = key("remote_write.queue_config.retry_on_http_429", ParamKind::Bool, &[("false", 0.0), ("true", 1.0)]);
        assert_eq!(curve_keys(&[shards(), d.clone()]), Some((1, Some(0))));
        assert_eq!(
            curve_keys(&[b.clone(), shards(), capacity()]),
            Some((1, Some(0))),
            "not across; lines tie, the first"
        );
        assert_eq!(curve_keys(std::slice::from_ref(&b)), Some((0, None)));
        assert_eq!(curve_keys(&[]), None);
        let keys = [b];
        let c = curves(&result(&keys), &keys, Some(1), Metric::Loss).unwrap();
        assert_eq!(c.x_labels, [(0.0, "false".to_string()), (1.0, "true".to_string())]);
        assert_eq!(c.series, [(String::new(), vec![(0.0, 0.0), (1.0, 0.01)])], "one unlabelled line");
        assert_eq!(c.marked, Some((0, 1)));
    }

    #[test]
    fn many_line_values_are_thinned_keeping_the_ends_and_the_recommendation() {
        assert_eq!(spread(5, 7, 0), [0, 1, 2, 3, 4]);
        assert_eq!(spread(10, 7, 0), [0, 2, 3, 5, 6, 8, 9]);
        assert_eq!(spread(10, 7, 1), [0, 1, 3, 5, 6, 8, 9]);
        assert_eq!(spread(10, 7, 4), [0, 2, 4, 5, 6, 8, 9]);
        assert_eq!(spread(20, 7, 19), [0, 3, 6, 10, 13, 16, 19]);
        assert_eq!(spread(20, 2, 5), [5]);
        let values = (1..=10).map(|i| (format!("{}", i * 1000), f64::from(i * 1000))).collect();
        let keys = [shards(), SweptKey { key: CAP.into(), kind: ParamKind::Integer, values }];
        let c = curves(&result(&keys), &keys, Some(4), Metric::Loss).unwrap();
        assert_eq!(c.series.len(), MAX_LINES);
        assert_eq!(c.subtitle[0], "one line per queue_config.capacity (7 of its 10 values)");
        assert_eq!(c.series[2].0, "capacity = 5000", "point 4 has capacity 5000");
        assert_eq!(c.marked, Some((2, 0)));
    }

    #[test]
    fn replicated_sweeps_say_the_values_are_means() {
        let keys = [shards(), capacity()];
        let mut r = result(&keys);
        for p in &mut r.points {
            p.row.replications = 3;
        }
        let h = heatmap(&r, &keys, Some(0), Metric::Memory).unwrap();
        assert_eq!(h.notes, ["values are means over 3 seeds per point (sweep.csv has the confidence intervals)"]);
    }
}
