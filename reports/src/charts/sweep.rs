//! Sweep charts: a heatmap of one metric over two swept keys, with the recommended point
//! marked, and curves of a metric against a swept duration (loss vs outage length), one
//! line per setting. The sweep command fills these values; the drawing only formats them.

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
            ValueUnit::Bytes => crate::summary::bytes(v.max(0.0).round() as u64),
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
}

/// Sequential colour ramp for "higher is worse": pale yellow to dark red (ColorBrewer YlOrRd).
const RAMP: [Rgb; 7] =
    [(255, 255, 204), (255, 237, 160), (254, 217, 118), (254, 178, 76), (253, 141, 60), (227, 26, 28), (128, 0, 38)];

/// Colour at `f` in `[0, 1]` along [`RAMP`].
pub fn ramp(f: f64) -> Rgb {
    let f = if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 };
    let x = f * (RAMP.len() - 1) as f64;
    let i = (x.floor() as usize).min(RAMP.len() - 2);
    let t = x - i as f64;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + (f64::from(q) - f64::from(p)) * t).round() as u8;
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// How cell values map to the colour ramp: linear from 0, or log10 when the non-zero values
/// span more than two decades (latencies from 300ms to 4h). Returns `(lo, hi, log)`.
pub fn color_scale(cells: &[Vec<Option<f64>>]) -> (f64, f64, bool) {
    let vals: Vec<f64> = cells.iter().flatten().flatten().copied().collect();
    let max = vals.iter().copied().fold(0.0, f64::max);
    let min_pos = vals.iter().copied().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    if max > 0.0 && min_pos.is_finite() && max / min_pos > 100.0 {
        (min_pos.log10(), max.log10(), true)
    } else {
        (0.0, if max > 0.0 { max } else { 1.0 }, false)
    }
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
        let mut sub = String::from("lower is better; darker is worse");
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
        root.draw_text(&sub, &text(20.0, palette::AXIS).pos(top_left), (40, 68))?;

        let (nx, ny) = (self.x_values.len().max(1), self.y_values.len().max(1));
        let (left, right, top, bottom) = (230, w - 190, 120, h - 120);
        let cw = (right - left) as f64 / nx as f64;
        let chh = (bottom - top) as f64 / ny as f64;
        let scale = color_scale(&self.cells);
        let value_size = (chh / 3.2).min(cw / 5.5).clamp(12.0, 24.0);
        for yi in 0..ny {
            for xi in 0..nx {
                let x0 = left + (xi as f64 * cw).round() as i32;
                let x1 = left + ((xi + 1) as f64 * cw).round() as i32;
                // Row 0 at the bottom.
                let y1 = bottom - (yi as f64 * chh).round() as i32;
                let y0 = bottom - ((yi + 1) as f64 * chh).round() as i32;
                let v = self.cells.get(yi).and_then(|r| r.get(xi)).copied().flatten();
                let (fill, label) = match v {
                    Some(v) => (ramp(scale_pos(v, scale)), self.unit.format(v)),
                    None => ((235, 235, 235), "n/a".to_string()),
                };
                root.draw(&Rectangle::new([(x0, y0), (x1, y1)], rgb(fill).filled()))?;
                root.draw(&Rectangle::new([(x0, y0), (x1, y1)], ShapeStyle::from(WHITE).stroke_width(2)))?;
                let ink = if v.is_some() { ink_on(fill) } else { palette::AXIS };
                root.draw_text(
                    &label,
                    &text(value_size, ink).pos(Pos::new(HPos::Center, VPos::Center)),
                    ((x0 + x1) / 2, (y0 + y1) / 2),
                )?;
            }
        }
        if let Some((xi, yi)) = self.marked.filter(|&(x, y)| x < nx && y < ny) {
            let x0 = left + (xi as f64 * cw).round() as i32;
            let x1 = left + ((xi + 1) as f64 * cw).round() as i32;
            let y1 = bottom - (yi as f64 * chh).round() as i32;
            let y0 = bottom - ((yi + 1) as f64 * chh).round() as i32;
            for k in 0..4 {
                root.draw(&Rectangle::new(
                    [(x0 + 2 + k, y0 + 2 + k), (x1 - 2 - k, y1 - 2 - k)],
                    ShapeStyle::from(rgb(palette::BLACK)).stroke_width(1),
                ))?;
            }
        }
        // Axis labels: swept values under and beside the cells, keys centred.
        let ticks = tick_style();
        for (xi, label) in self.x_values.iter().enumerate() {
            let cx = left + ((xi as f64 + 0.5) * cw).round() as i32;
            root.draw_text(label, &ticks.pos(Pos::new(HPos::Center, VPos::Top)), (cx, bottom + 10))?;
        }
        for (yi, label) in self.y_values.iter().enumerate() {
            let cy = bottom - ((yi as f64 + 0.5) * chh).round() as i32;
            root.draw_text(label, &ticks.pos(Pos::new(HPos::Right, VPos::Center)), (left - 12, cy))?;
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
            unit_ticks(self.unit, hi, 7).into_iter().filter(|v| *v <= hi * 1.0001).collect()
        };
        for v in bar_ticks {
            let f = scale_pos(v, scale);
            let y = bottom - ((bottom - top) as f64 * f).round() as i32;
            root.draw(&PathElement::new(vec![(bx1, y), (bx1 + 6, y)], rgb(palette::AXIS)))?;
            root.draw_text(&self.unit.format(v), &ticks.pos(Pos::new(HPos::Left, VPos::Center)), (bx1 + 10, y))?;
        }
        if log {
            root.draw_text(
                "log scale",
                &text(17.0, palette::AXIS).pos(Pos::new(HPos::Left, VPos::Bottom)),
                (bx0, top - 10),
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
    /// `(setting label, points)`, points in increasing `x`.
    pub series: Vec<(String, Vec<(f64, f64)>)>,
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
        // Legend under the title, wrapping; never over the data.
        let legend = text(20.0, palette::BLACK).pos(top_left);
        let (w, _) = root.dim_in_pixel();
        let (mut x, mut y) = (40, 76);
        for (i, (label, _)) in self.series.iter().enumerate() {
            let (tw, _) = root.estimate_text_size(label, &legend)?;
            if x + 50 + tw as i32 > w as i32 - 40 && x > 40 {
                x = 40;
                y += 30;
            }
            let c = rgb(SERIES_COLORS[i % SERIES_COLORS.len()]);
            root.draw(&PathElement::new(vec![(x, y + 11), (x + 36, y + 11)], ShapeStyle::from(c).stroke_width(4)))?;
            root.draw(&Circle::new((x + 18, y + 11), 6, c.filled()))?;
            root.draw_text(label, &legend, (x + 46, y))?;
            x += 46 + tw as i32 + 36;
        }
        let xmax = self.series.iter().flat_map(|s| s.1.iter().map(|p| p.0)).fold(0.0, f64::max);
        let ymax = self.series.iter().flat_map(|s| s.1.iter().map(|p| p.1)).fold(0.0, f64::max);
        let xt = curve_ticks(self.x_unit, if xmax > 0.0 { xmax } else { 1.0 });
        let yt = curve_ticks(self.y_unit, if ymax > 0.0 { ymax } else { 0.01 });
        let (xhi, yhi) = (xt.last().copied().unwrap_or(1.0), yt.last().copied().unwrap_or(1.0));
        let mut chart = ChartBuilder::on(root)
            .margin_top(y as u32 + 46)
            .margin_left(20)
            .margin_right(50)
            .margin_bottom(20)
            .x_label_area_size(70)
            .y_label_area_size(130)
            .build_cartesian_2d(Ticked::new(0.0, xhi, xt), Ticked::new(0.0, yhi, yt))?;
        let (xu, yu) = (self.x_unit, self.y_unit);
        chart
            .configure_mesh()
            .x_label_formatter(&|v| xu.format(*v))
            .y_label_formatter(&|v| yu.format(*v))
            .x_desc(self.x_key.as_str())
            .y_desc(self.y_label.as_str())
            .label_style(tick_style())
            .axis_desc_style(desc_style())
            .bold_line_style(rgb(palette::GRID))
            .light_line_style(TRANSPARENT)
            .axis_style(rgb(palette::AXIS))
            .draw()?;
        for (i, (_, pts)) in self.series.iter().enumerate() {
            let c = rgb(SERIES_COLORS[i % SERIES_COLORS.len()]);
            let width = match target {
                Target::Vector => 3,
                // Few points with gentle turns: plotters' joins are fine here.
                Target::Raster => 3,
            };
            chart.draw_series(LineSeries::new(pts.iter().copied(), ShapeStyle::from(c).stroke_width(width)))?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 6, c.filled())))?;
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
        assert_eq!(color_scale(&linear), (0.0, 0.3, false));
        assert!((scale_pos(0.15, color_scale(&linear)) - 0.5).abs() < 1e-12);
        let spans = vec![vec![Some(0.3), Some(14_400.0)]];
        let s = color_scale(&spans);
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
        };
        let mut png = Vec::new();
        crate::charts::write_png(&c, &mut png).unwrap();
        let (w, h, px) = decode(&png);
        assert_eq!((w, h), (1400, 900));
        for color in [palette::BLUE, palette::VERMILLION] {
            assert!(px.chunks(3).any(|p| p == [color.0, color.1, color.2]));
        }
        let svg = crate::charts::render_svg(&c).unwrap();
        for text in ["Loss vs outage length", "max_shards = 200", "outage length", "4h", "30%"] {
            assert!(svg.contains(text), "SVG lacks {text:?}");
        }
    }

    const HEATMAP_SIZE_FOR_TESTS: (u32, u32) = (1400, 1000);

    #[test]
    fn byte_ticks_are_round_binary_sizes() {
        let t = unit_ticks(ValueUnit::Bytes, 211_000_000.0, 7);
        assert_eq!(
            t.iter().map(|v| ValueUnit::Bytes.format(*v)).collect::<Vec<_>>(),
            ["0 B", "50.0 MiB", "100.0 MiB", "150.0 MiB", "200.0 MiB", "250.0 MiB"]
        );
    }

    #[test]
    fn curve_ticks_are_round_durations() {
        assert_eq!(
            curve_ticks(ValueUnit::Seconds, 4.0 * 3600.0),
            vec![0.0, 1800.0, 3600.0, 5400.0, 7200.0, 9000.0, 10800.0, 12600.0, 14400.0]
        );
    }
}
