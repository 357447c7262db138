//! Sweep charts: a heatmap of one metric over two swept keys, with the recommended point
//! marked, and curves of a metric against a swept duration (loss vs outage length), one
//! line per setting. [`prepare`] turns a sweep's points into these values (pure, tested);
//! the drawing here only formats them.

pub mod prepare;

pub use prepare::{MAX_LINES, Metric, ParamKind, SweepChart, SweepFigure, SweptKey, chart_names, sweep_charts};

use super::axis;
use super::draw::{self, Ticked, bold, desc_style, rgb, text, tick_style};
use super::palette::{self, Rgb};
use super::{DrawResult, Figure, Target};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// How a metric's values are written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ValueUnit {
    /// A fraction in `[0, 1]`, written as a percentage (`2.5%`).
    Fraction,
    /// Seconds, written as a duration (`350ms`, `4h`).
    Seconds,
    /// Bytes, written with binary prefixes (`41.6 MiB`).
    Bytes,
    /// A count, with SI prefixes (`1.5k`).
    Count,
}

impl ValueUnit {
    /// A value as text.
    pub fn format(self, v: f64) -> String {
        match self {
            ValueUnit::Fraction => {
                let p = v * 100.0;
                if p == 0.0 {
                    "0%".into()
                } else if p < 0.01 {
                    "<0.01%".into()
                } else {
                    format!("{}%", axis::si(p))
                }
            }
            ValueUnit::Seconds => axis::duration_label(v),
            // `20 MiB` rather than `20.0 MiB` on round ticks.
            ValueUnit::Bytes => crate::summary::bytes(v.max(0.0).round() as u64).replace(".0 ", " "),
            ValueUnit::Count => axis::si(v),
        }
    }
}

/// One metric over two swept keys. `cells[y][x]` is the value at `x_values[x]`,
/// `y_values[y]`; `None` for a point that was not run or had no value.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    /// Title, e.g. `Loss fraction`.
    pub title: String,
    /// How values are written.
    pub unit: ValueUnit,
    /// Horizontal key, e.g. `queue_config.max_shards`.
    pub x_key: String,
    /// Labels of its swept values, left to right.
    pub x_values: Vec<String>,
    /// Vertical key.
    pub y_key: String,
    /// Labels of its swept values, bottom to top.
    pub y_values: Vec<String>,
    /// Values, `cells[y][x]`.
    pub cells: Vec<Vec<Option<f64>>>,
    /// The recommended point `(x, y)`, outlined.
    pub marked: Option<(usize, usize)>,
    /// Colours start at 0 (palest = none: for loss) rather than at the smallest value (for
    /// latency and memory, where the grid's differences matter more than the distance from 0).
    pub from_zero: bool,
    /// Notes under the subtitle (joined with `; ` and wrapped to the width): which slice of
    /// a larger grid this is, why nothing is outlined, how to read the values.
    pub notes: Vec<String>,
}

/// Sequential colour ramp for "higher is worse": pale yellow to dark red (ColorBrewer YlOrRd).
const RAMP: [Rgb; 7] =
    [(255, 255, 204), (255, 237, 160), (254, 217, 118), (254, 178, 76), (253, 141, 60), (227, 26, 28), (128, 0, 38)];

/// Colour at `f` in `[0, 1]` along the ramp (ColorBrewer YlOrRd).
pub fn ramp(f: f64) -> Rgb {
    let f = if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 };
    let x = f * (RAMP.len() - 1) as f64;
    let i = (x.floor() as usize).min(RAMP.len() - 2);
    let t = x - i as f64;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + (f64::from(q) - f64::from(p)) * t).round() as u8;
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// How cell values map to the colour ramp: log10 when the non-zero values span more than
/// two decades (latencies from 300ms to 4h), else linear from 0 (`from_zero`) or from the
/// smallest value. Returns `(lo, hi, log)`.
pub fn color_scale(cells: &[Vec<Option<f64>>], from_zero: bool) -> (f64, f64, bool) {
    let vals: Vec<f64> = cells.iter().flatten().flatten().copied().collect();
    let max = vals.iter().copied().fold(0.0, f64::max);
    let min = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let min_pos = vals.iter().copied().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    if max > 0.0 && min_pos.is_finite() && max / min_pos > 100.0 {
        (min_pos.log10(), max.log10(), true)
    } else if !from_zero && min.is_finite() && min < max {
        (min, max, false)
    } else {
        (0.0, if max > 0.0 { max } else { 1.0 }, false)
    }
}

/// Round ticks of `unit` within `[lo, hi]`: multiples of a step chosen for the span, so a
/// scale from 1h41m to 2h11m gets 1h45m, 1h50m, ..., 2h10m.
pub fn range_ticks(unit: ValueUnit, lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    if lo <= 0.0 {
        return unit_ticks(unit, hi, max_ticks).into_iter().filter(|v| *v <= hi * 1.0001).collect();
    }
    let step = match unit_ticks(unit, hi - lo, max_ticks).get(1) {
        Some(s) if *s > 0.0 => *s,
        _ => return vec![lo],
    };
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Cell labels for `cells`: full ([`ValueUnit::format`]), or for bytes that do not fit,
/// plain numbers in one binary unit (`10.1` for 10.1 MiB), with that unit's name.
fn cell_labels(unit: ValueUnit, cells: &[Vec<Option<f64>>], compact: bool) -> (Vec<Vec<String>>, Option<&'static str>) {
    let mut scale = (1.0, "B");
    if compact && unit == ValueUnit::Bytes {
        let max = cells.iter().flatten().flatten().copied().fold(0.0, f64::max);
        for (i, name) in ["KiB", "MiB", "GiB", "TiB"].into_iter().enumerate() {
            let s = 1024f64.powi(i as i32 + 1);
            if max >= s {
                scale = (s, name);
            }
        }
    }
    let compact = compact && unit == ValueUnit::Bytes;
    let labels = cells
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    Some(v) if compact => axis::trim3(*v / scale.0),
                    Some(v) => unit.format(*v),
                    None => "n/a".to_string(),
                })
                .collect()
        })
        .collect();
    (labels, compact.then_some(scale.1))
}

/// Position of `v` in `[0, 1]` on a colour scale from [`color_scale`].
pub fn scale_pos(v: f64, (lo, hi, log): (f64, f64, bool)) -> f64 {
    let x = if log { if v <= 0.0 { lo } else { v.log10() } } else { v };
    if hi > lo { (x - lo) / (hi - lo) } else { 0.0 }
}

/// Black or white, whichever reads better on `c`.
fn ink_on(c: Rgb) -> Rgb {
    let l = 0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2);
    if l > 140.0 { (20, 20, 20) } else { (255, 255, 255) }
}

/// Smallest and largest size of the values written in the cells.
const CELL_TEXT: (f64, f64) = (13.0, 24.0);

/// `line` in pieces at most `max_w` pixels wide in `style`, broken after `; ` or ` · `
/// (or, for a piece still too wide, after `, `). A piece that cannot be broken is kept whole.
fn wrap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    line: &str,
    style: &TextStyle<'_>,
    max_w: i32,
) -> Result<Vec<String>, DrawingAreaErrorKind<DB::ErrorType>> {
    let width = |s: &str| root.estimate_text_size(s, style).map(|(w, _)| w as i32);
    if width(line)? <= max_w {
        return Ok(vec![line.to_string()]);
    }
    let split = |s: &str, seps: &[&str]| -> Vec<String> {
        let mut out = vec![String::new()];
        let mut rest = s;
        while let Some((i, sep)) = seps.iter().filter_map(|sep| rest.find(sep).map(|i| (i, *sep))).min() {
            out.last_mut().expect("non-empty").push_str(&rest[..i + sep.len()]);
            out.push(String::new());
            rest = &rest[i + sep.len()..];
        }
        out.last_mut().expect("non-empty").push_str(rest);
        out
    };
    let mut atoms = Vec::new();
    for piece in split(line, &["; ", " · "]) {
        if width(&piece)? > max_w { atoms.extend(split(&piece, &[", "])) } else { atoms.push(piece) }
    }
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for atom in atoms {
        let joined = format!("{cur}{atom}");
        if !cur.is_empty() && width(joined.trim_end())? > max_w {
            lines.push(cur.trim_end().trim_end_matches([';', '·']).to_string());
            cur = atom;
        } else {
            cur = joined;
        }
    }
    if !cur.trim_end().is_empty() {
        lines.push(cur.trim_end().to_string());
    }
    Ok(lines)
}

/// Height of a tick label, for spacing the labels of rows.
const TICK_HEIGHT: u32 = 16;

/// Which of `n` axis labels to draw so that labels `widths[i]` wide (pixels) fit at a
/// spacing of `pitch` pixels: every `k`-th from the first, `k` as small as fits.
pub fn thin_labels(widths: &[u32], pitch: f64) -> Vec<usize> {
    let widest = widths.iter().copied().max().unwrap_or(0) as f64 + 12.0;
    let k = if pitch > 0.0 { (widest / pitch).ceil().max(1.0) as usize } else { 1 };
    (0..widths.len()).step_by(k).collect()
}

impl Figure for Heatmap {
    fn size(&self) -> (u32, u32) {
        draw::HEATMAP_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: Target) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (w, h) = self.size();
        let (w, h) = (w as i32, h as i32);
        let top_left = Pos::new(HPos::Left, VPos::Top);
        root.draw_text(&self.title, &bold(30.0, palette::BLACK).pos(top_left), (40, 24))?;
        let (nx, ny) = (self.x_values.len().max(1), self.y_values.len().max(1));
        let (left, right, bottom) = (230, w - 190, h - 120);
        let cw = (right - left) as f64 / nx as f64;
        let scale = color_scale(&self.cells, self.from_zero);
        // Cell values in full, or else as plain numbers in one unit; none at all when even
        // those do not fit at the smallest size (the colour bar still reads).
        let fits = |labels: &[Vec<String>], size: f64| -> Result<bool, DrawingAreaErrorKind<DB::ErrorType>> {
            for l in labels.iter().flatten() {
                if f64::from(root.estimate_text_size(l, &text(size, palette::BLACK))?.0) > cw - 8.0 {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        let (mut labels, mut cell_unit) = cell_labels(self.unit, &self.cells, false);
        if !fits(&labels, CELL_TEXT.0)? {
            (labels, cell_unit) = cell_labels(self.unit, &self.cells, true);
        }
        let show_values = fits(&labels, CELL_TEXT.0)?;

        let mut sub = String::from("lower is better; darker is worse");
        if let Some(u) = cell_unit.filter(|_| show_values) {
            sub += &format!("; cells in {u}");
        }
        if let Some((x, y)) = self.marked
            && let Some(Some(v)) = self.cells.get(y).and_then(|r| r.get(x))
        {
            sub = format!(
                "outlined: recommended point, {} = {}, {} = {} ({}) · {sub}",
                self.x_key,
                self.x_values.get(x).map_or("?", String::as_str),
                self.y_key,
                self.y_values.get(y).map_or("?", String::as_str),
                self.unit.format(*v)
            );
        }
        let sub_style = text(20.0, palette::AXIS).pos(top_left);
        let mut lines = wrap(root, &sub, &sub_style, w - 80)?;
        if !self.notes.is_empty() {
            lines.extend(wrap(root, &self.notes.join("; "), &sub_style, w - 80)?);
        }
        for (i, line) in lines.iter().enumerate() {
            root.draw_text(line, &sub_style, (40, 68 + 28 * i as i32))?;
        }
        // Room above the colour bar for its "log scale" note, clear of the label at its top.
        let top = 92 + 28 * lines.len() as i32 + if scale.2 { 14 } else { 0 };
        let chh = (bottom - top) as f64 / ny as f64;
        // The largest size (up to a third of the cell's height) at which every value fits.
        let mut value_size = (chh / 3.2).clamp(CELL_TEXT.0, CELL_TEXT.1);
        while value_size > CELL_TEXT.0 && !fits(&labels, value_size)? {
            value_size -= 1.0;
        }

        let mut values = Vec::new();
        for yi in 0..ny {
            for xi in 0..nx {
                let x0 = left + (xi as f64 * cw).round() as i32;
                let x1 = left + ((xi + 1) as f64 * cw).round() as i32;
                // Row 0 at the bottom.
                let y1 = bottom - (yi as f64 * chh).round() as i32;
                let y0 = bottom - ((yi + 1) as f64 * chh).round() as i32;
                let v = self.cells.get(yi).and_then(|r| r.get(xi)).copied().flatten();
                let fill = match v {
                    Some(v) => ramp(scale_pos(v, scale)),
                    None => (235, 235, 235),
                };
                root.draw(&Rectangle::new([(x0, y0), (x1, y1)], rgb(fill).filled()))?;
                root.draw(&Rectangle::new([(x0, y0), (x1, y1)], ShapeStyle::from(WHITE).stroke_width(2)))?;
                if show_values {
                    let ink = if v.is_some() { ink_on(fill) } else { palette::AXIS };
                    let label = labels.get(yi).and_then(|r| r.get(xi)).map_or("n/a", String::as_str);
                    values.push((label, ink, ((x0 + x1) / 2, (y0 + y1) / 2)));
                }
            }
        }
        if let Some((xi, yi)) = self.marked.filter(|&(x, y)| x < nx && y < ny) {
            let x0 = left + (xi as f64 * cw).round() as i32;
            let x1 = left + ((xi + 1) as f64 * cw).round() as i32;
            let y1 = bottom - (yi as f64 * chh).round() as i32;
            let y0 = bottom - ((yi + 1) as f64 * chh).round() as i32;
            // A black frame between white ones: visible on the palest and the darkest cell.
            let k = ((cw.min(chh) / 16.0).round() as i32).clamp(2, 4);
            let frame = |i: i32, c: RGBColor| {
                Rectangle::new([(x0 + i, y0 + i), (x1 - i, y1 - i)], ShapeStyle::from(c).stroke_width(1))
            };
            root.draw(&frame(0, WHITE))?;
            for i in 1..=k {
                root.draw(&frame(i, rgb(palette::BLACK)))?;
            }
            root.draw(&frame(k + 1, WHITE))?;
            root.draw(&frame(k + 2, WHITE))?;
        }
        // Values last, over the frame.
        for (label, ink, at) in values {
            root.draw_text(label, &text(value_size, ink).pos(Pos::new(HPos::Center, VPos::Center)), at)?;
        }
        // Axis labels: swept values under and beside the cells (as many as fit), keys centred.
        let ticks = tick_style();
        let widths = |values: &[String]| -> Result<Vec<u32>, DrawingAreaErrorKind<DB::ErrorType>> {
            values.iter().map(|l| root.estimate_text_size(l, &ticks).map(|s| s.0)).collect()
        };
        for xi in thin_labels(&widths(&self.x_values)?, cw) {
            let cx = left + ((xi as f64 + 0.5) * cw).round() as i32;
            root.draw_text(&self.x_values[xi], &ticks.pos(Pos::new(HPos::Center, VPos::Top)), (cx, bottom + 10))?;
        }
        for yi in thin_labels(&vec![TICK_HEIGHT; self.y_values.len()], chh) {
            let cy = bottom - ((yi as f64 + 0.5) * chh).round() as i32;
            root.draw_text(&self.y_values[yi], &ticks.pos(Pos::new(HPos::Right, VPos::Center)), (left - 12, cy))?;
        }
        let desc = desc_style();
        root.draw_text(&self.x_key, &desc.pos(Pos::new(HPos::Center, VPos::Top)), ((left + right) / 2, bottom + 50))?;
        root.draw_text(
            &self.y_key,
            &desc.transform(FontTransform::Rotate270).pos(Pos::new(HPos::Center, VPos::Top)),
            (40, (top + bottom) / 2),
        )?;
        // Colour bar.
        let (bx0, bx1) = (right + 40, right + 70);
        let steps = 100;
        for i in 0..steps {
            let f0 = i as f64 / steps as f64;
            let ya = bottom - ((bottom - top) as f64 * f0).round() as i32;
            let yb = bottom - ((bottom - top) as f64 * (f0 + 1.0 / steps as f64)).round() as i32;
            root.draw(&Rectangle::new([(bx0, yb), (bx1, ya)], rgb(ramp(f0 + 0.5 / steps as f64)).filled()))?;
        }
        root.draw(&Rectangle::new([(bx0, top), (bx1, bottom)], ShapeStyle::from(rgb(palette::AXIS)).stroke_width(1)))?;
        let (lo, hi, log) = scale;
        let bar_ticks: Vec<f64> = if log && self.unit == ValueUnit::Seconds {
            axis::log_duration_ticks(10f64.powf(lo), 10f64.powf(hi))
        } else if log {
            axis::log_ticks(10f64.powf(lo), 10f64.powf(hi))
        } else {
            range_ticks(self.unit, lo, hi, 7)
        };
        // Both ends labelled with the values they stand for (the palest and the darkest
        // colour), then the round ticks between that do not crowd them.
        let value_at = |f: f64| if log { 10f64.powf(lo + f * (hi - lo)) } else { lo + f * (hi - lo) };
        let y_of = |f: f64| bottom - ((bottom - top) as f64 * f).round() as i32;
        let ends = [(value_at(0.0), y_of(0.0)), (value_at(1.0), y_of(1.0))];
        let inner = bar_ticks.into_iter().map(|v| (v, y_of(scale_pos(v, scale))));
        let clear = |y: i32| ends.iter().all(|e| (e.1 - y).abs() >= 24);
        for (v, y) in ends.into_iter().chain(inner.filter(|t| clear(t.1))) {
            root.draw(&PathElement::new(vec![(bx1, y), (bx1 + 6, y)], rgb(palette::AXIS)))?;
            root.draw_text(&self.unit.format(v), &ticks.pos(Pos::new(HPos::Left, VPos::Center)), (bx1 + 10, y))?;
        }
        if log {
            root.draw_text(
                "log scale",
                &text(17.0, palette::AXIS).pos(Pos::new(HPos::Left, VPos::Bottom)),
                (bx0, top - 20),
            )?;
        }
        Ok(())
    }
}

/// A metric against a swept quantity, one line per setting: e.g. loss fraction against
/// outage length for each `max_shards`.
#[derive(Clone, Debug, PartialEq)]
pub struct Curves {
    /// Title, e.g. `Loss vs outage length`.
    pub title: String,
    /// Horizontal quantity, e.g. `outage length`.
    pub x_key: String,
    /// How horizontal values are written.
    pub x_unit: ValueUnit,
    /// Vertical quantity, e.g. `samples lost`.
    pub y_label: String,
    /// How vertical values are written.
    pub y_unit: ValueUnit,
    /// `(setting label, points)`, points in increasing `x`. A single series with an empty
    /// label is drawn without a legend.
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    /// Lines under the title: what the lines are, which slice of the grid, what is ringed.
    pub subtitle: Vec<String>,
    /// Horizontal ticks at these values with these labels (e.g. `false`, `true`); empty for
    /// round ticks from 0 in [`Curves::x_unit`].
    pub x_labels: Vec<(f64, String)>,
    /// The recommended point, ringed: `(series, point)`.
    pub marked: Option<(usize, usize)>,
    /// A log horizontal axis: the swept values are a geometric grid ([`is_geometric`]).
    pub x_log: bool,
    /// Draw a change between zero and non-zero (losing nothing, then losing data) as a
    /// step, not a ramp: loss starts at one length, it does not fade in. Other changes stay
    /// straight lines. See [`step_path`].
    pub steps: bool,
    /// Where each series' step from zero is known to be (`rwsim budget` finds the first
    /// length that loses, to its resolution), in horizontal units; `None` (or no entry):
    /// halfway between the two values run.
    pub jumps: Vec<Option<f64>>,
}

/// Whether `values` (in any order) form a geometric grid, to be drawn on a log axis: at
/// least three positive values spanning at least 8×, whose successive ratios are about
/// equal (within 2.5× of one another in log terms, so 1-2-5 steps count) while their
/// differences are not (an even linear grid stays linear).
pub fn is_geometric(values: &[f64]) -> bool {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    if v.len() < 3 || v[0] <= 0.0 || v[v.len() - 1] / v[0] < 8.0 {
        return false;
    }
    let spread = |d: Vec<f64>| {
        let (lo, hi) = d.iter().fold((f64::INFINITY, 0f64), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
        hi / lo
    };
    let logs = spread(v.windows(2).map(|w| (w[1] / w[0]).ln()).collect());
    let diffs = spread(v.windows(2).map(|w| w[1] - w[0]).collect());
    logs <= 2.5 && diffs > 1.5
}

/// For each series, the earlier series it coincides with (the same horizontal values, and
/// vertical values within 0.5 % of the largest): drawn dashed over it, and named in a note,
/// so no line hides another unseen.
pub fn coincident(series: &[(String, Vec<(f64, f64)>)]) -> Vec<Option<usize>> {
    let ymax = series.iter().flat_map(|s| s.1.iter().map(|p| p.1.abs())).fold(0.0, f64::max);
    let tol = 0.005 * if ymax > 0.0 { ymax } else { 1.0 };
    let same = |a: &[(f64, f64)], b: &[(f64, f64)]| {
        a.len() == b.len() && !a.is_empty() && a.iter().zip(b).all(|(p, q)| p.0 == q.0 && (p.1 - q.1).abs() <= tol)
    };
    (0..series.len()).map(|i| (0..i).find(|&j| same(&series[i].1, &series[j].1))).collect()
}

/// The note naming the lines that coincide, if any: `lines coincide: A = B = C`.
fn coincide_note(series: &[(String, Vec<(f64, f64)>)], with: &[Option<usize>]) -> Option<String> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, w) in with.iter().enumerate() {
        if let Some(j) = w {
            match groups.iter_mut().find(|g| g[0] == *j) {
                Some(g) => g.push(i),
                None => groups.push(vec![*j, i]),
            }
        }
    }
    if groups.is_empty() {
        return None;
    }
    let name = |i: usize| if series[i].0.is_empty() { format!("line {}", i + 1) } else { series[i].0.clone() };
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            let names: Vec<String> = g.iter().map(|&i| name(i)).collect();
            let (last, rest) = names.split_last().expect("a group has two lines or more");
            format!("{} and {last}", rest.join(", "))
        })
        .collect();
    Some(format!("lines that coincide (drawn dashed over each other): {}", parts.join("; ")))
}

/// The path through `pts` with each change between zero and non-zero drawn as a step: the
/// earlier value held up to `jump` (when it falls inside the segment) or else halfway, then
/// a vertical line to the later value. Other segments are straight.
pub fn step_path(pts: &[(f64, f64)], jump: Option<f64>) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * pts.len());
    for (i, &(x, y)) in pts.iter().enumerate() {
        if i > 0 {
            let (px, py) = pts[i - 1];
            if (py == 0.0) != (y == 0.0) {
                let at = jump.filter(|j| *j > px && *j <= x).unwrap_or((px + x) / 2.0);
                out.push((at, py));
                out.push((at, y));
            }
        }
        out.push((x, y));
    }
    out
}

/// A marker of series `i`: one shape per series (circle, square, triangle, diamond,
/// inverted triangle), filled, or hollow and larger for a line drawn over another.
fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    at: (i32, i32),
    i: usize,
    c: RGBColor,
    hollow: bool,
) -> DrawResult<DB> {
    let r = if hollow { 9 } else { 6 };
    let style = if hollow { ShapeStyle::from(c).stroke_width(2) } else { c.filled() };
    let (x, y) = at;
    let shape: Vec<(i32, i32)> = match i % 5 {
        0 => return area.draw(&Circle::new(at, r, style)),
        1 => vec![(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)],
        2 => vec![(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)],
        3 => vec![(x, y - r - 2), (x + r + 2, y), (x, y + r + 2), (x - r - 2, y)],
        _ => vec![(x, y + r + 1), (x + r + 1, y - r), (x - r - 1, y - r)],
    };
    if hollow {
        let mut closed = shape.clone();
        closed.push(shape[0]);
        area.draw(&PathElement::new(closed, style))
    } else {
        area.draw(&Polygon::new(shape, style))
    }
}

/// Line colours of curves, in order.
const SERIES_COLORS: [Rgb; 7] = [
    palette::BLUE,
    palette::VERMILLION,
    palette::GREEN,
    palette::PURPLE,
    palette::ORANGE,
    palette::SKY,
    palette::BLACK,
];

/// Round ticks from 0 to at least `max` in `unit`: clock steps for seconds, 1-2-5 steps of
/// KiB/MiB/GiB for bytes, 1-2-5 steps otherwise.
pub fn unit_ticks(unit: ValueUnit, max: f64, max_ticks: usize) -> Vec<f64> {
    match unit {
        ValueUnit::Seconds => axis::linear_duration_ticks(max, max_ticks),
        ValueUnit::Bytes => {
            let mut scale = 1.0;
            while max / scale >= 1024.0 {
                scale *= 1024.0;
            }
            axis::linear_ticks(max / scale, max_ticks).into_iter().map(|t| t * scale).collect()
        }
        ValueUnit::Fraction | ValueUnit::Count => axis::linear_ticks(max, max_ticks),
    }
}

/// The horizontal axis of curves through values from `min` to `max`: round ticks from the
/// last one at or below `min` to the first at or past `max`, so the axis starts at the data
/// (an outage length from 30m starts at 30m, not 0). Returns `(lo, hi, ticks)` with 2 % of
/// room on either side for the dots at the ends.
pub fn curve_x_axis(unit: ValueUnit, min: f64, max: f64) -> (f64, f64, Vec<f64>) {
    let max = if max > 0.0 { max } else { 1.0 };
    let min = min.clamp(0.0, max);
    let step = unit_ticks(unit, (max - min).max(max * 1e-3), 10).get(1).copied().unwrap_or(1.0);
    let first = (min / step + 1e-9).floor() as i64;
    let last = ((max / step - 1e-9).ceil() as i64).max(first + 1);
    let ticks: Vec<f64> = (first..=last).map(|i| i as f64 * step).collect();
    let (lo, hi) = (ticks.first().copied().unwrap_or(0.0), ticks.last().copied().unwrap_or(max));
    let pad = (hi - lo) * 0.02;
    (lo - pad, hi + pad, ticks)
}

/// Ticks of a curves axis, with a little room above the largest value.
fn curve_ticks(unit: ValueUnit, max: f64) -> Vec<f64> {
    match unit {
        ValueUnit::Seconds => unit_ticks(unit, max, 10),
        _ => unit_ticks(unit, max * 1.05, 7),
    }
}

impl Figure for Curves {
    fn size(&self) -> (u32, u32) {
        draw::CURVES_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, target: Target) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let top_left = Pos::new(HPos::Left, VPos::Top);
        root.draw_text(&self.title, &bold(30.0, palette::BLACK).pos(top_left), (40, 24))?;
        let sub_style = text(20.0, palette::AXIS).pos(top_left);
        let (w, _) = root.dim_in_pixel();
        let with = coincident(&self.series);
        let mut subtitle = self.subtitle.clone();
        subtitle.extend(coincide_note(&self.series, &with));
        let changes_from_zero = self.series.iter().any(|s| s.1.windows(2).any(|w| (w[0].1 == 0.0) != (w[1].1 == 0.0)));
        if self.steps && changes_from_zero {
            subtitle.push(if self.jumps.iter().any(Option::is_some) {
                "the change from losing nothing to losing data is drawn as a step at the first length found to lose"
                    .into()
            } else {
                "a change between losing nothing and losing data is drawn as a step halfway between the values run"
                    .into()
            });
        }
        let mut y = 68;
        for line in &subtitle {
            for piece in wrap(root, line, &sub_style, w as i32 - 80)? {
                root.draw_text(&piece, &sub_style, (40, y))?;
                y += 28;
            }
        }
        // Legend under the title, wrapping; never over the data.
        let legend = text(20.0, palette::BLACK).pos(top_left);
        let unlabelled = self.series.len() == 1 && self.series[0].0.is_empty();
        let mut x = 40;
        y += 8;
        for (i, (label, _)) in self.series.iter().enumerate().filter(|_| !unlabelled) {
            let (tw, _) = root.estimate_text_size(label, &legend)?;
            if x + 50 + tw as i32 > w as i32 - 40 && x > 40 {
                x = 40;
                y += 30;
            }
            let c = rgb(SERIES_COLORS[i % SERIES_COLORS.len()]);
            let hollow = with[i].is_some();
            let style = ShapeStyle::from(c).stroke_width(4);
            if hollow {
                root.draw(&PathElement::new(vec![(x, y + 11), (x + 12, y + 11)], style))?;
                root.draw(&PathElement::new(vec![(x + 24, y + 11), (x + 36, y + 11)], style))?;
            } else {
                root.draw(&PathElement::new(vec![(x, y + 11), (x + 36, y + 11)], style))?;
            }
            marker(root, (x + 18, y + 11), i, c, hollow)?;
            root.draw_text(label, &legend, (x + 46, y))?;
            x += 46 + tw as i32 + 36;
        }
        if unlabelled {
            y -= 30;
        }
        // On a log axis everything horizontal is in log10 of the value.
        let fx = |v: f64| if self.x_log { v.max(f64::MIN_POSITIVE).log10() } else { v };
        let series: Vec<Vec<(f64, f64)>> =
            self.series.iter().map(|s| s.1.iter().map(|&(x, y)| (fx(x), y)).collect()).collect();
        let xs = || series.iter().flat_map(|s| s.iter().map(|p| p.0));
        let ymax = self.series.iter().flat_map(|s| s.1.iter().map(|p| p.1)).fold(0.0, f64::max);
        let (xlo, xhi, xt) = if self.x_labels.is_empty() {
            let xmax = xs().fold(f64::NEG_INFINITY, f64::max);
            let xmin = xs().fold(f64::INFINITY, f64::min);
            if xmax.is_finite() { curve_x_axis(self.x_unit, xmin, xmax) } else { curve_x_axis(self.x_unit, 0.0, 1.0) }
        } else {
            // Categories: half a step of room on either side.
            let at: Vec<f64> = self.x_labels.iter().map(|l| fx(l.0)).collect();
            let lo = at.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = at.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let pad = if at.len() > 1 { (hi - lo) / (at.len() - 1) as f64 / 2.0 } else { 0.5 };
            (lo - pad, hi + pad, at)
        };
        let yt = curve_ticks(self.y_unit, if ymax > 0.0 { ymax } else { 0.01 });
        let yhi = yt.last().copied().unwrap_or(1.0);
        // Room below 0 for the dots (and the ring) of zero values, clear of the tick labels.
        let ylo = -0.03 * yhi;
        let mut chart = ChartBuilder::on(root)
            .margin_top(y as u32 + 46)
            .margin_left(20)
            .margin_right(50)
            .margin_bottom(20)
            .x_label_area_size(70)
            .y_label_area_size(130)
            .build_cartesian_2d(Ticked::new(xlo, xhi, xt), Ticked::new(ylo, yhi, yt))?;
        let (xu, yu) = (self.x_unit, self.y_unit);
        let x_labels = &self.x_labels;
        let x_format = |v: &f64| match x_labels.iter().find(|l| (fx(l.0) - *v).abs() <= 1e-9 * v.abs().max(1.0)) {
            Some(l) => l.1.clone(),
            None => xu.format(*v),
        };
        let x_desc = if self.x_log { format!("{} (log scale)", self.x_key) } else { self.x_key.clone() };
        draw::house_mesh(
            chart
                .configure_mesh()
                .x_label_formatter(&x_format)
                .y_label_formatter(&|v| yu.format(*v))
                .x_desc(x_desc.as_str())
                .y_desc(self.y_label.as_str()),
        )
        .draw()?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let px = ((xhi - xlo) / f64::from(pw.max(1)), (yhi - ylo) / f64::from(ph.max(1)));
        for (i, pts) in series.iter().enumerate() {
            let c = rgb(SERIES_COLORS[i % SERIES_COLORS.len()]);
            let path =
                if self.steps { step_path(pts, self.jumps.get(i).copied().flatten().map(fx)) } else { pts.clone() };
            // A line over an earlier one it coincides with is dashed, so both show.
            let dashed = with[i].is_some();
            match target {
                Target::Vector if dashed => {
                    chart.draw_series(DashedLineSeries::new(path, 14, 10, ShapeStyle::from(c).stroke_width(3)))?;
                }
                Target::Vector => {
                    chart.draw_series(LineSeries::new(path, ShapeStyle::from(c).stroke_width(3)))?;
                }
                // A thick raster stroke frays on steep segments (a cliff in loss): five
                // 1-pixel strokes a pixel apart, as the dashboard draws its lines.
                Target::Raster => {
                    for (ox, oy) in [(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
                        let shifted: Vec<(f64, f64)> =
                            path.iter().map(|&(x, y)| (x + ox * px.0, y + oy * px.1)).collect();
                        let style = ShapeStyle::from(c).stroke_width(1);
                        if dashed {
                            chart.draw_series(DashedLineSeries::new(shifted, 14, 10, style))?;
                        } else {
                            chart.draw_series(LineSeries::new(shifted, style))?;
                        }
                    }
                }
            }
            for p in pts {
                let at = chart.backend_coord(p);
                marker(root, at, i, c, dashed)?;
            }
        }
        if let Some((i, p)) = self.marked.and_then(|(s, p)| Some((s, series.get(s)?.get(p)?))) {
            // The point's own marker on top of any other line's, in a white ring in a black one.
            let c = rgb(SERIES_COLORS[i % SERIES_COLORS.len()]);
            let at = chart.backend_coord(p);
            marker(root, at, i, c, false)?;
            chart.draw_series([
                Circle::new(*p, 14, ShapeStyle::from(rgb(palette::BLACK)).stroke_width(4)),
                Circle::new(*p, 11, ShapeStyle::from(WHITE).stroke_width(2)),
            ])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_in_their_unit() {
        assert_eq!(ValueUnit::Fraction.format(0.3118), "31.2%");
        assert_eq!(ValueUnit::Fraction.format(0.0), "0%");
        assert_eq!(ValueUnit::Fraction.format(0.00001), "<0.01%");
        assert_eq!(ValueUnit::Seconds.format(14_100.0), "3h55m");
        assert_eq!(ValueUnit::Bytes.format(43_620_000.0), "41.6 MiB");
        assert_eq!(ValueUnit::Count.format(1500.0), "1.5k");
    }

    #[test]
    fn colours_run_from_pale_to_dark_and_log_scale_when_values_span_decades() {
        assert_eq!(ramp(0.0), RAMP[0]);
        assert_eq!(ramp(1.0), RAMP[6]);
        assert_eq!(ramp(f64::NAN), RAMP[0]);
        let linear = vec![vec![Some(0.0), Some(0.1)], vec![None, Some(0.3)]];
        assert_eq!(color_scale(&linear, true), (0.0, 0.3, false));
        assert!((scale_pos(0.15, color_scale(&linear, true)) - 0.5).abs() < 1e-12);
        let narrow = vec![vec![Some(6060.0), Some(7860.0)]];
        assert_eq!(color_scale(&narrow, false), (6060.0, 7860.0, false), "from the smallest value");
        assert_eq!(color_scale(&narrow, true), (0.0, 7860.0, false));
        assert_eq!(
            range_ticks(ValueUnit::Seconds, 6060.0, 7860.0, 7),
            [6300.0, 6600.0, 6900.0, 7200.0, 7500.0, 7800.0]
        );
        let pct: Vec<String> =
            range_ticks(ValueUnit::Fraction, 0.0, 0.3, 7).into_iter().map(|v| ValueUnit::Fraction.format(v)).collect();
        assert_eq!(pct, ["0%", "5%", "10%", "15%", "20%", "25%", "30%"]);
        let spans = vec![vec![Some(0.3), Some(14_400.0)]];
        let s = color_scale(&spans, false);
        assert!(s.2, "p99 latencies from 300ms to 4h get a log scale");
        assert_eq!(scale_pos(0.3, s), 0.0);
        assert_eq!(scale_pos(14_400.0, s), 1.0);
    }

    fn heatmap() -> Heatmap {
        Heatmap {
            title: "Loss fraction".into(),
            unit: ValueUnit::Fraction,
            x_key: "queue_config.max_shards".into(),
            x_values: vec!["10".into(), "50".into(), "200".into()],
            y_key: "queue_config.capacity".into(),
            y_values: vec!["2500".into(), "10000".into()],
            cells: vec![vec![Some(0.3), Some(0.2), Some(0.1)], vec![Some(0.25), Some(0.05), None]],
            marked: Some((1, 1)),
            from_zero: true,
            notes: vec!["other swept keys fixed at the recommended point: fault length = 1h".into()],
        }
    }

    /// Width, height and RGB pixels of a PNG.
    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut r = png::Decoder::new(std::io::Cursor::new(png_bytes)).read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn heatmap_draws_every_cell_and_outlines_the_recommendation() {
        let h = heatmap();
        let mut png = Vec::new();
        crate::charts::write_png(&h, &mut png).unwrap();
        let (w, hh, px) = decode(&png);
        assert_eq!((w, hh), HEATMAP_SIZE_FOR_TESTS);
        // The darkest cell (30%) is drawn in the ramp's top colour.
        let top = RAMP[6];
        assert!(px.chunks(3).any(|p| p == [top.0, top.1, top.2]));
        let svg = crate::charts::render_svg(&h).unwrap();
        for text in [
            "Loss fraction",
            "outlined: recommended point, queue_config.max_shards = 50, queue_config.capacity = 10000 (5%)",
            "30%",
            "n/a",
            "queue_config.capacity",
        ] {
            assert!(svg.contains(text), "SVG lacks {text:?}");
        }
        assert_eq!(svg, crate::charts::render_svg(&h).unwrap(), "deterministic");
    }

    #[test]
    fn curves_draw_one_line_per_setting_with_a_legend() {
        let c = Curves {
            title: "Loss vs outage length".into(),
            x_key: "outage length".into(),
            x_unit: ValueUnit::Seconds,
            y_label: "samples lost".into(),
            y_unit: ValueUnit::Fraction,
            series: vec![
                ("max_shards = 50".into(), vec![(1800.0, 0.0), (7200.0, 0.05), (14400.0, 0.3)]),
                ("max_shards = 200".into(), vec![(1800.0, 0.0), (7200.0, 0.02), (14400.0, 0.25)]),
            ],
            subtitle: vec!["one line per max_shards".into()],
            x_labels: Vec::new(),
            marked: Some((1, 1)),
            x_log: false,
            steps: true,
            jumps: Vec::new(),
        };
        let mut png = Vec::new();
        crate::charts::write_png(&c, &mut png).unwrap();
        let (w, h, px) = decode(&png);
        assert_eq!((w, h), (1400, 900));
        for color in [palette::BLUE, palette::VERMILLION] {
            assert!(px.chunks(3).any(|p| p == [color.0, color.1, color.2]));
        }
        let svg = crate::charts::render_svg(&c).unwrap();
        for text in
            ["Loss vs outage length", "one line per max_shards", "max_shards = 200", "outage length", "4h", "30%"]
        {
            assert!(svg.contains(text), "SVG lacks {text:?}");
        }
        assert!(svg.contains("drawn as a step halfway between the values run"), "the lines start losing");
        let flat = Curves {
            series: vec![("max_shards = 50".into(), vec![(1800.0, 0.1), (7200.0, 0.2)])],
            marked: None,
            ..c.clone()
        };
        assert!(!crate::charts::render_svg(&flat).unwrap().contains("drawn as a step"), "no step to explain");
    }

    const HEATMAP_SIZE_FOR_TESTS: (u32, u32) = (1400, 1000);

    #[test]
    fn byte_ticks_are_round_binary_sizes() {
        let t = unit_ticks(ValueUnit::Bytes, 211_000_000.0, 7);
        assert_eq!(
            t.iter().map(|v| ValueUnit::Bytes.format(*v)).collect::<Vec<_>>(),
            ["0 B", "50 MiB", "100 MiB", "150 MiB", "200 MiB", "250 MiB"]
        );
    }

    #[test]
    fn curves_start_at_the_data() {
        let (lo, hi, t) = curve_x_axis(ValueUnit::Count, 2.0, 40.0);
        assert_eq!(t, [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0]);
        assert_eq!((lo, hi), (-0.8, 40.8));
        let (_, _, t) = curve_x_axis(ValueUnit::Seconds, 3600.0, 7200.0);
        assert_eq!(t.first(), Some(&3600.0));
        assert_eq!(t.last(), Some(&7200.0));
        // An outage length from 30m to 4h: the axis starts at 30m, not at 0.
        let (lo, _, t) = curve_x_axis(ValueUnit::Seconds, 1800.0, 14_400.0);
        assert_eq!(t.first(), Some(&1800.0), "{t:?}");
        assert!(lo > 1000.0);
    }

    #[test]
    fn geometric_grids_are_told_from_linear_ones() {
        assert!(is_geometric(&[2500.0, 5000.0, 10000.0, 20000.0, 40000.0, 100_000.0]));
        assert!(is_geometric(&[100_000.0, 1000.0, 10_000.0]), "in any order");
        assert!(is_geometric(&[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]), "1-2-5 steps");
        let linear: Vec<f64> = (1..=20).map(|i| f64::from(i) * 2.0).collect();
        assert!(!is_geometric(&linear));
        let capacities: Vec<f64> = (1..=10).map(|i| f64::from(i) * 2500.0).collect();
        assert!(!is_geometric(&capacities));
        assert!(!is_geometric(&[1.0, 2.0, 4.0]), "too narrow a span");
        assert!(!is_geometric(&[0.0, 10.0, 100.0, 1000.0]), "zero has no log");
    }

    #[test]
    fn coincident_lines_are_found_and_named() {
        let s = |label: &str, ys: [f64; 3]| (label.to_string(), vec![(1.0, ys[0]), (2.0, ys[1]), (3.0, ys[2])]);
        let series =
            vec![s("a", [0.0, 0.1, 0.3]), s("b", [0.0, 0.2, 0.3]), s("c", [0.0, 0.1, 0.3005]), s("d", [0.0, 0.2, 0.3])];
        let with = coincident(&series);
        assert_eq!(with, [None, None, Some(0), Some(1)]);
        assert_eq!(
            coincide_note(&series, &with).unwrap(),
            "lines that coincide (drawn dashed over each other): a and c; b and d"
        );
        assert_eq!(coincide_note(&series[..2], &with[..2]), None);
    }

    #[test]
    fn only_the_change_from_zero_is_a_step() {
        // Lossless to 1h, then a ramp: the rise is a step halfway, the ramp stays straight.
        let pts = [(0.0, 0.0), (1.0, 0.0), (2.0, 5.0), (3.0, 6.0)];
        assert_eq!(step_path(&pts, None), [(0.0, 0.0), (1.0, 0.0), (1.5, 0.0), (1.5, 5.0), (2.0, 5.0), (3.0, 6.0)]);
        // Where the first loss is known, the step is there.
        assert_eq!(step_path(&pts, Some(1.9))[2..4], [(1.9, 0.0), (1.9, 5.0)]);
        // A fall to zero (more capacity, no loss) is a step too.
        assert_eq!(step_path(&[(0.0, 3.0), (2.0, 0.0)], None), [(0.0, 3.0), (1.0, 3.0), (1.0, 0.0), (2.0, 0.0)]);
    }

    #[test]
    fn curve_ticks_are_round_durations() {
        assert_eq!(
            curve_ticks(ValueUnit::Seconds, 4.0 * 3600.0),
            vec![0.0, 1800.0, 3600.0, 5400.0, 7200.0, 9000.0, 10800.0, 12600.0, 14400.0]
        );
    }
}
