//! Drawing: turns prepared chart data into plotters calls. No data decisions here beyond
//! layout; everything shown comes from the [`Dashboard`] (or sweep figure) value.

use super::axis;
use super::palette::{self, Rgb};
use super::run::{Axis, Dashboard, Line, Panel, Scale, Unit, WindowKind};
use super::{DrawResult, FONT, Figure, Target};
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width of the run dashboard; its height follows from the panel count (2400 for six).
pub const DASHBOARD_WIDTH: u32 = 1600;
/// Top of the header's first line (the title).
const HEADER_TOP: i32 = 20;
/// Height of a gap band along the bottom of a plot, pixels.
const GAP_BAND_H: i32 = 14;
/// One panel, including its title band and time labels.
const PANEL_H: u32 = 350;
/// Space between a panel's time labels and the next panel's title.
const PANEL_GAP: i32 = 16;
/// Below the last panel: the time-axis description.
const FOOTER_H: u32 = 50;
/// Title and legend band at the top of each panel (after [`PANEL_GAP`]).
const BAND_H: u32 = 72 + PANEL_GAP as u32;
/// Left and right axis areas: equal on every panel so plots line up.
const Y_AREA_W: u32 = 130;
/// Time tick labels under each plot.
const X_AREA_H: u32 = 34;
/// Outer padding.
const PAD: i32 = 28;
/// Opacity of the fill under an area line.
const AREA_ALPHA: f64 = 0.22;
/// Opacity of the band of a min/max envelope.
const ENVELOPE_ALPHA: f64 = 0.55;
/// Most time ticks per axis.
const MAX_TIME_TICKS: usize = 13;

/// Size of the six-panel run dashboard with a headline of two lines, a subtitle of two and
/// no marker, in pixels (the header grows by a line per marker row).
pub const DASHBOARD_SIZE: (u32, u32) = (DASHBOARD_WIDTH, 240 + 6 * PANEL_H + FOOTER_H);
/// Size of one sweep heatmap.
pub const HEATMAP_SIZE: (u32, u32) = (1400, 1000);
/// Size of a sweep curves chart.
pub const CURVES_SIZE: (u32, u32) = (1400, 900);

pub(super) fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

pub(super) fn text(size: f64, color: Rgb) -> TextStyle<'static> {
    TextStyle { font: (FONT, size).into_font(), color: rgb(color).to_backend_color(), pos: Pos::default() }
}

pub(super) fn bold(size: f64, color: Rgb) -> TextStyle<'static> {
    TextStyle {
        font: (FONT, size, FontStyle::Bold).into_font(),
        color: rgb(color).to_backend_color(),
        pos: Pos::default(),
    }
}

/// A linear `f64` axis whose ticks (and grid lines) are exactly the given values; labels
/// come from the formatter given to the mesh.
#[derive(Clone)]
pub struct Ticked {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    pub fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Ticked { inner: (lo..hi).into(), ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Bold points only: no light grid lines.
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

impl ValueFormatter<f64> for Ticked {
    fn format(value: &f64) -> String {
        axis::si(*value)
    }
}

fn top_left(s: TextStyle<'static>) -> TextStyle<'static> {
    s.pos(Pos::new(HPos::Left, VPos::Top))
}

/// Tick labels.
pub(super) fn tick_style() -> TextStyle<'static> {
    text(21.0, palette::AXIS)
}

/// Axis descriptions.
pub(super) fn desc_style() -> TextStyle<'static> {
    text(22.0, palette::AXIS)
}

/// The house grid, shared by every chart: gridlines at the labelled ticks only, grey axes,
/// tick and description labels in the axis colour.
pub(super) fn house_mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style(tick_style())
        .axis_desc_style(desc_style())
        .bold_line_style(rgb(palette::GRID))
        .light_line_style(TRANSPARENT)
        .axis_style(rgb(palette::AXIS))
}

/// A vertical axis ready to draw: range and ticks in plot coordinates (log10 of the value on
/// a log axis) and the mapping from values.
///
/// A log axis that has zeros (an outage's delivered rate, a lag of 0) gets a band half a
/// decade high at its bottom labelled `0`, where zeros are drawn: an honest axis break
/// instead of pretending zero is the smallest decade.
pub(super) struct YAxis {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
    /// log10 of the smallest positive value drawn, on a log axis.
    floor: Option<f64>,
    unit: Unit,
}

impl YAxis {
    pub fn new(a: &Axis) -> YAxis {
        let values = a.lines.iter().flat_map(|l| l.points.iter().chain(&l.low).map(|p| p.1));
        let max = values.clone().fold(0.0, f64::max);
        match a.scale {
            Scale::Linear if a.lines.is_empty() => {
                YAxis { lo: 0.0, hi: 1.0, ticks: vec![0.0], floor: None, unit: a.unit }
            }
            Scale::Linear => {
                let ticks = match (a.top, a.unit) {
                    (Some(top), _) => {
                        axis::linear_ticks(top, 6).into_iter().filter(|t| *t <= top * 1.000_001).collect()
                    }
                    (None, Unit::Seconds) => axis::linear_duration_ticks(max * 1.05, 6),
                    (None, Unit::Count) => axis::linear_ticks(max * 1.05, 6),
                };
                let ticks = if ticks.is_empty() { vec![0.0, 1.0] } else { ticks };
                YAxis { lo: 0.0, hi: *ticks.last().unwrap_or(&1.0), ticks, floor: None, unit: a.unit }
            }
            Scale::Log => {
                let max = if max > 0.0 { max } else { 1.0 };
                let min_pos = values.clone().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min).max(max / 1e7);
                let has_zero = values.clone().any(|v| v <= 0.0);
                let floor_v = 10f64.powf(min_pos.log10().floor());
                let hi_dec = 10f64.powf(max.log10().ceil());
                let ticks = match a.unit {
                    Unit::Count => axis::log_ticks(floor_v, hi_dec),
                    Unit::Seconds => {
                        let t = axis::log_duration_ticks(floor_v, hi_dec * 10.0);
                        // Stop at the first tick above the data.
                        let n = t.iter().position(|v| *v >= max).map_or(t.len(), |i| i + 1);
                        t[..n].to_vec()
                    }
                };
                let top = ticks.last().copied().unwrap_or(hi_dec).max(max);
                let floor = floor_v.log10();
                let lo = if has_zero { floor - 0.5 } else { floor };
                let mut ticks: Vec<f64> = ticks.iter().map(|v| v.log10()).collect();
                if has_zero {
                    ticks.insert(0, lo);
                }
                YAxis { lo, hi: top.log10(), ticks, floor: Some(floor), unit: a.unit }
            }
        }
    }

    /// Plot coordinate of a value.
    pub fn map(&self, v: f64) -> f64 {
        match self.floor {
            None => v,
            Some(_) if v <= 0.0 => self.lo,
            Some(f) => v.log10().max(f),
        }
    }

    /// Tick label of a plot coordinate.
    pub fn label(&self, y: f64) -> String {
        let v = match self.floor {
            None => y,
            Some(f) if y < f - 1e-9 => 0.0,
            Some(_) => 10f64.powf(y),
        };
        match self.unit {
            Unit::Count => axis::si(v),
            Unit::Seconds => axis::duration_label(v),
        }
    }
}

/// Height of the title line.
const TITLE_LINE: i32 = 50;
/// Height of a headline line.
const HEADLINE_LINE: i32 = 34;
/// Headline lines drawn: the answer, whether the run ends behind, the worst case.
const HEADLINE_LINES: usize = 3;
/// Height of a subtitle line.
const SUBTITLE_LINE: i32 = 28;
/// Height of a marker-key row.
const MARKER_ROW: i32 = 25;
/// Marker keys per column of the header.
const MARKER_ROWS: usize = 4;
/// Marker keys listed in the header (two columns).
const MARKERS_LISTED: usize = 2 * MARKER_ROWS;

impl Dashboard {
    /// The header's lines, top to bottom, as `(y of the headline, of the subtitle, of the
    /// marker key, height)`: only as tall as what it holds, so no empty band.
    fn header_layout(&self) -> (i32, i32, i32, u32) {
        let headline = HEADER_TOP + TITLE_LINE;
        let lines = self.headline.as_ref().map_or(0, |h| h.lines().take(HEADLINE_LINES).count()) as i32;
        let subtitle = headline + lines * HEADLINE_LINE + if lines > 0 { 6 } else { 0 };
        let markers = subtitle + self.subtitle.lines().take(2).count() as i32 * SUBTITLE_LINE + 10;
        let rows = self.markers.len().min(MARKER_ROWS) as i32;
        let end = markers + rows * MARKER_ROW + if rows > 0 { 10 } else { 0 };
        (headline, subtitle, markers, end as u32)
    }
}

impl Figure for Dashboard {
    fn size(&self) -> (u32, u32) {
        (DASHBOARD_WIDTH, self.header_layout().3 + self.panels.len() as u32 * PANEL_H + FOOTER_H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, target: Target) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (header, rest) = root.split_vertically(self.header_layout().3);
        self.draw_header(&header)?;
        let (body, footer) = rest.split_vertically(self.panels.len() as u32 * PANEL_H);
        let areas = body.split_evenly((self.panels.len().max(1), 1));
        for (panel, area) in self.panels.iter().zip(&areas) {
            self.draw_panel(area, panel, target)?;
        }
        let desc = format!(
            "time since the start of the run ({}) · {} = {}",
            axis::time_unit(self.duration_s),
            axis::time_label(0.0, self.duration_s),
            axis::utc(self.start_unix_secs)
        );
        let (w, _) = footer.dim_in_pixel();
        footer.draw_text(
            &desc,
            &desc_style().pos(Pos::new(HPos::Center, VPos::Top)),
            ((Y_AREA_W as i32 + PAD + w as i32 - Y_AREA_W as i32 - PAD) / 2, 6),
        )?;
        Ok(())
    }
}

impl Dashboard {
    fn draw_header<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (headline_y, subtitle_y, markers_y, _) = self.header_layout();
        area.draw_text(&self.title, &top_left(bold(36.0, palette::BLACK)), (PAD, HEADER_TOP))?;
        let mut y = headline_y;
        if let Some(h) = &self.headline {
            // The answer in time, in the colour of the gap bands, then whether the run ends
            // behind and the worst case: each line shrunk to fit the width.
            let avail = DASHBOARD_WIDTH as i32 - 2 * PAD;
            for (i, line) in h.lines().take(HEADLINE_LINES).enumerate() {
                let sizes: &[f64] = if i == 0 { &[26.0, 23.0, 20.0, 18.0] } else { &[22.0, 20.0, 18.0, 16.0] };
                let mut style = top_left(bold(sizes[0], palette::GAP));
                for &size in sizes {
                    style = top_left(bold(size, palette::GAP));
                    if area.estimate_text_size(line, &style)?.0 as i32 <= avail {
                        break;
                    }
                }
                area.draw_text(line, &style, (PAD, y))?;
                y += HEADLINE_LINE;
            }
        }
        let mut y = subtitle_y;
        for line in self.subtitle.lines().take(2) {
            area.draw_text(line, &top_left(text(22.0, palette::AXIS)), (PAD, y))?;
            y += SUBTITLE_LINE;
        }
        if self.markers.is_empty() {
            return Ok(());
        }
        let col_w = (DASHBOARD_WIDTH as i32 - 2 * PAD) / 2;
        for (i, m) in self.markers.iter().take(MARKERS_LISTED).enumerate() {
            let x = PAD + (i / MARKER_ROWS) as i32 * col_w;
            let y = markers_y + (i % MARKER_ROWS) as i32 * MARKER_ROW;
            area.draw(&badge!((x, y), (0, 0), &m.key))?;
            area.draw_text(&m.label, &top_left(text(20.0, palette::BLACK)), (x + 30, y + 1))?;
        }
        Ok(())
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        p: &Panel,
        target: Target,
    ) -> DrawResult<DB> {
        // Title band: title (and scale) on the first line, legend on the second, so the
        // legend never covers data.
        let title_style = top_left(bold(27.0, palette::BLACK));
        area.draw_text(&p.title, &title_style, (PAD, PANEL_GAP + 6))?;
        if p.left.scale == Scale::Log {
            let (tw, _) = area.estimate_text_size(&p.title, &title_style)?;
            area.draw_text(
                "· log scale",
                &top_left(text(22.0, palette::AXIS)),
                (PAD + tw as i32 + 14, PANEL_GAP + 10),
            )?;
        }
        let lines: Vec<&Line> = p.left.lines.iter().collect();
        // Legend at 21 px, or smaller when the items would not fit on one line.
        let avail = DASHBOARD_WIDTH as i32 - 2 * PAD;
        let mut legend = top_left(text(21.0, palette::BLACK));
        for size in [21.0, 19.0, 17.0] {
            legend = top_left(text(size, palette::BLACK));
            let mut width = 0;
            for l in &lines {
                width += 40 + area.estimate_text_size(&l.label, &legend)?.0 as i32 + 30;
            }
            if width <= avail {
                break;
            }
        }
        let mut x = PAD;
        let y = PANEL_GAP + 42;
        for l in &lines {
            swatch(area, (x, y + 11), l)?;
            area.draw_text(&l.label, &legend, (x + 40, y))?;
            let (tw, _) = area.estimate_text_size(&l.label, &legend)?;
            x += 40 + tw as i32 + 30;
        }
        if let (Some(note), false) = (&p.note, lines.is_empty()) {
            area.draw_text(note, &top_left(text(21.0, palette::AXIS)), (x, y))?;
        }

        let ly = YAxis::new(&p.left);
        let x_ticks = axis::time_ticks(self.duration_s, MAX_TIME_TICKS);
        let mut chart = ChartBuilder::on(area)
            .margin_top(BAND_H)
            .margin_left(PAD as u32 - 10)
            .margin_right(PAD as u32 - 10 + Y_AREA_W)
            .x_label_area_size(X_AREA_H)
            .y_label_area_size(Y_AREA_W)
            .build_cartesian_2d(
                Ticked::new(0.0, self.duration_s, x_ticks),
                Ticked::new(ly.lo, ly.hi, ly.ticks.clone()),
            )?;
        self.draw_plot(&mut chart, p, &ly, target)
    }

    /// The primary plot of a panel: grid and left axis, windows, lines, markers, note.
    fn draw_plot<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<Ticked, Ticked>>,
        p: &Panel,
        ly: &YAxis,
        target: Target,
    ) -> DrawResult<DB> {
        house_mesh(
            chart
                .configure_mesh()
                .x_label_formatter(&|t| axis::time_label(*t, self.duration_s))
                .y_label_formatter(&|y| ly.label(*y))
                .y_desc(p.left.label.as_str()),
        )
        .draw()?;

        // Windows under everything else, labelled at their top left; a label that would run
        // into the previous one is left out (a crash loop has dozens of short windows).
        let mut label_free_from = i32::MIN;
        for w in &self.windows {
            let (a, b) = (w.start_s.max(0.0), w.end_s.min(self.duration_s));
            if b <= a {
                continue;
            }
            let shade = match w.kind {
                WindowKind::Fault => palette::FAULT_SHADE,
                WindowKind::Incident => palette::INCIDENT_SHADE,
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a, ly.lo), (b, ly.hi)],
                rgb(shade).mix(palette::SHADE_ALPHA).filled(),
            )))?;
            let style = top_left(text(20.0, shade_text(shade)));
            let x = chart.backend_coord(&(a, ly.hi)).0;
            if x >= label_free_from {
                let (tw, _) = chart.plotting_area().estimate_text_size(&w.label, &style)?;
                label_free_from = x + 7 + tw as i32 + 12;
                chart.draw_series(std::iter::once(
                    EmptyElement::at((a, ly.hi)) + Text::new(w.label.clone(), (7, 6), style),
                ))?;
            }
        }

        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let px = (self.duration_s / f64::from(pw.max(1)), (ly.hi - ly.lo) / f64::from(ph.max(1)));
        for l in &p.left.lines {
            let pts: Vec<(f64, f64)> = l.points.iter().map(|&(t, v)| (t, ly.map(v))).collect();
            if !l.low.is_empty() {
                // A min/max envelope: the band between the edges, outlined by both edges
                // 2 px wide, so a stretch where min and max agree still shows as a line.
                let low: Vec<(f64, f64)> = l.low.iter().map(|&(t, v)| (t, ly.map(v))).collect();
                let band: Vec<(f64, f64)> = pts.iter().chain(low.iter().rev()).copied().collect();
                chart.draw_series(std::iter::once(Polygon::new(band, rgb(l.color).mix(ENVELOPE_ALPHA).filled())))?;
                let edge = Line { dashed: true, ..Line::clone(l) };
                for edge_pts in [pts, low] {
                    for (p, style) in strokes(edge_pts, &edge, target, px) {
                        chart.draw_series(LineSeries::new(p, style))?;
                    }
                }
                continue;
            }
            if l.area {
                chart.draw_series(AreaSeries::new(
                    pts.iter().copied(),
                    ly.lo,
                    rgb(l.color).mix(AREA_ALPHA).filled(),
                ))?;
            }
            for (pts, style) in strokes(pts, l, target, px) {
                if l.dashed {
                    chart.draw_series(DashedLineSeries::new(pts, 12, 8, style))?;
                } else {
                    chart.draw_series(LineSeries::new(pts, style))?;
                }
            }
        }

        // Lost data: a band along the bottom per gap (at least 2 px wide), solid for a full
        // gap and lighter for a partial one, labelled on the first panel.
        let first_panel = std::ptr::eq(p, &self.panels[0]);
        let mut gap_label_free_from = i32::MIN;
        for g in &self.gaps {
            let (a, b) = (g.start_s.max(0.0), g.end_s.min(self.duration_s));
            if b < a {
                continue;
            }
            let (xa, y0) = chart.backend_coord(&(a, ly.lo));
            let xb = chart.backend_coord(&(b, ly.lo)).0.max(xa + 2);
            let alpha = 0.35 + 0.65 * g.coverage.clamp(0.0, 1.0);
            chart.plotting_area().strip_coord_spec().draw(&Rectangle::new(
                [
                    (
                        xa - chart.plotting_area().get_base_pixel().0,
                        y0 - GAP_BAND_H - chart.plotting_area().get_base_pixel().1,
                    ),
                    (xb - chart.plotting_area().get_base_pixel().0, y0 - chart.plotting_area().get_base_pixel().1),
                ],
                rgb(palette::GAP).mix(alpha).filled(),
            ))?;
            if first_panel && xa >= gap_label_free_from {
                let label = "data lost";
                let style = top_left(bold(19.0, palette::GAP));
                let (tw, th) = chart.plotting_area().estimate_text_size(label, &style)?;
                let base = chart.plotting_area().get_base_pixel();
                chart.plotting_area().strip_coord_spec().draw(&Text::new(
                    label.to_string(),
                    (xa - base.0 + 4, y0 - GAP_BAND_H - th as i32 - 4 - base.1),
                    style,
                ))?;
                gap_label_free_from = xa + tw as i32 + 20;
            }
        }

        // Badges of markers closer than a badge's width step down so none hides another.
        let mut prev: Option<(f64, i32)> = None;
        for m in &self.markers {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(m.at_s, ly.lo), (m.at_s, ly.hi)],
                ShapeStyle::from(rgb(palette::MARKER)).stroke_width(2),
            )))?;
            let level = match prev {
                Some((at, level)) if (m.at_s - at) / px.0 < 30.0 => (level + 1) % 4,
                _ => 0,
            };
            prev = Some((m.at_s, level));
            chart.draw_series(std::iter::once(badge!((m.at_s, ly.hi), (5, 30 + 28 * level), &m.key)))?;
        }

        let empty = p.left.lines.is_empty();
        if empty && let Some(note) = &p.note {
            let plot = chart.plotting_area().strip_coord_spec();
            let (w, h) = plot.dim_in_pixel();
            plot.draw_text(
                note,
                &text(26.0, palette::AXIS).pos(Pos::new(HPos::Center, VPos::Center)),
                (w as i32 / 2, h as i32 / 2),
            )?;
        }
        Ok(())
    }
}

/// Darker version of a shade, for text on it.
fn shade_text(c: Rgb) -> Rgb {
    ((f64::from(c.0) * 0.7) as u8, (f64::from(c.1) * 0.7) as u8, (f64::from(c.2) * 0.7) as u8)
}

/// The strokes that draw line `l` through `pts` (plot coordinates): one thick stroke for SVG;
/// for a bitmap, 1-pixel strokes shifted by whole pixels (`px` is one pixel in plot units),
/// which look the same without plotters' miter spikes (see [`Target`]).
fn strokes(pts: Vec<(f64, f64)>, l: &Line, target: Target, px: (f64, f64)) -> Vec<(Vec<(f64, f64)>, ShapeStyle)> {
    let color = rgb(l.color);
    match target {
        Target::Vector => {
            let w = if l.dashed { 2 } else { 3 };
            vec![(pts, ShapeStyle::from(color).stroke_width(w))]
        }
        Target::Raster => {
            let offsets: &[(f64, f64)] = if l.dashed {
                &[(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
            } else {
                &[(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)]
            };
            offsets
                .iter()
                .map(|&(ox, oy)| {
                    let shifted = pts.iter().map(|&(x, y)| (x + ox * px.0, y + oy * px.1)).collect();
                    (shifted, ShapeStyle::from(color).stroke_width(1))
                })
                .collect()
        }
    }
}

/// A legend swatch: a short line in the series' colour and dash, centred on `y`.
fn swatch<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, (x, y): (i32, i32), l: &Line) -> DrawResult<DB> {
    let style = ShapeStyle::from(rgb(l.color)).stroke_width(4);
    if !l.low.is_empty() {
        area.draw(&Rectangle::new([(x, y - 7), (x + 32, y + 7)], rgb(l.color).mix(ENVELOPE_ALPHA).filled()))?;
        area.draw(&Rectangle::new([(x, y - 7), (x + 32, y + 7)], ShapeStyle::from(rgb(l.color)).stroke_width(1)))?;
    } else if l.area {
        area.draw(&Rectangle::new([(x, y - 9), (x + 32, y + 9)], rgb(l.color).mix(AREA_ALPHA).filled()))?;
        area.draw(&PathElement::new(vec![(x, y - 8), (x + 32, y - 8)], style))?;
    } else if l.dashed {
        area.draw(&PathElement::new(vec![(x, y), (x + 12, y)], style))?;
        area.draw(&PathElement::new(vec![(x + 20, y), (x + 32, y)], style))?;
    } else {
        area.draw(&PathElement::new(vec![(x, y), (x + 32, y)], style))?;
    }
    Ok(())
}

/// A marker key as an element: a 22 px dark square with a white bold letter, its top left
/// `offset` pixels from `anchor`.
macro_rules! badge {
    ($anchor:expr, $offset:expr, $key:expr) => {{
        let (x, y): (i32, i32) = $offset;
        let style = bold(17.0, (255, 255, 255)).pos(Pos::new(HPos::Center, VPos::Center));
        EmptyElement::at($anchor)
            + Rectangle::new([(x, y), (x + 22, y + 22)], rgb(palette::MARKER).filled())
            + Text::new($key.to_string(), (x + 11, y + 12), style)
    }};
}
use badge;
