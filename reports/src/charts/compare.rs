//! The comparison chart: each sender's lag (top) and data lost so far (bottom) on one time
//! axis, receiver faults and incidents shaded, one colour per sender in `--senders` order.

use super::axis;
use super::draw::{Ticked, bold, house_mesh, rgb, text};
use super::palette::{self, Rgb};
use super::{DrawResult, Figure, Target};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Size of the comparison chart.
pub const COMPARE_SIZE: (u32, u32) = (1600, 1100);

const COLORS: [Rgb; 7] = [
    palette::BLUE,
    palette::VERMILLION,
    palette::GREEN,
    palette::PURPLE,
    palette::ORANGE,
    palette::SKY,
    palette::BROWN,
];

/// One sender's curves.
#[derive(Clone, Debug, PartialEq)]
pub struct SenderCurves {
    /// Legend label.
    pub label: String,
    /// `(t seconds, lag seconds)`.
    pub lag: Vec<(f64, f64)>,
    /// `(t seconds, % of the samples the workload produced so far that were lost)`.
    pub lost_pct: Vec<(f64, f64)>,
}

/// The chart's content.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareChart {
    /// Title.
    pub title: String,
    /// Subtitle (the answer in one line).
    pub subtitle: String,
    /// Run length, seconds.
    pub duration: f64,
    /// Shaded periods `(from, to)`, seconds.
    pub windows: Vec<(f64, f64)>,
    /// The senders.
    pub senders: Vec<SenderCurves>,
}

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * p).find(|m| *m >= v).unwrap_or(10.0 * p)
}

impl CompareChart {
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        pick: fn(&SenderCurves) -> &[(f64, f64)],
        fmt: fn(f64) -> String,
        durations: bool,
        target: Target,
    ) -> DrawResult<DB> {
        let ymax = self.senders.iter().flat_map(|s| pick(s).iter().map(|p| p.1)).fold(0.0, f64::max);
        let yt: Vec<f64> = if durations {
            axis::linear_duration_ticks(ymax.max(1.0) * 1.05, 6)
        } else {
            let top = nice_max(ymax * 1.05);
            (0..=5).map(|i| top * f64::from(i) / 5.0).collect()
        };
        let yhi = yt.last().copied().unwrap_or(1.0).max(ymax);
        let xt = axis::time_ticks(self.duration, 13);
        area.draw_text(title, &bold(26.0, palette::BLACK), (150, 8))?;
        let mut chart = ChartBuilder::on(area)
            .margin_top(48)
            .margin_left(20)
            .margin_right(50)
            .margin_bottom(10)
            .x_label_area_size(40)
            .y_label_area_size(130)
            .build_cartesian_2d(Ticked::new(0.0, self.duration.max(1.0), xt), Ticked::new(0.0, yhi, yt))?;
        house_mesh(chart.configure_mesh().x_label_formatter(&|v| axis::hhmm(*v)).y_label_formatter(&|v| fmt(*v)))
            .draw()?;
        for &(a, b) in &self.windows {
            let c = rgb(palette::FAULT_SHADE).mix(palette::SHADE_ALPHA);
            chart.draw_series([Rectangle::new([(a, 0.0), (b, yhi)], c.filled())])?;
        }
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let px = (self.duration / f64::from(pw.max(1)), yhi / f64::from(ph.max(1)));
        for (i, s) in self.senders.iter().enumerate() {
            let c = rgb(COLORS[i % COLORS.len()]);
            let pts = pick(s);
            match target {
                Target::Vector => {
                    chart.draw_series(LineSeries::new(pts.iter().copied(), ShapeStyle::from(c).stroke_width(3)))?;
                }
                // Thick raster strokes fray on cliffs: three 1-pixel strokes instead.
                Target::Raster => {
                    for (ox, oy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)] {
                        let shifted = pts.iter().map(|&(x, y)| (x + ox * px.0, y + oy * px.1));
                        chart.draw_series(LineSeries::new(shifted, ShapeStyle::from(c).stroke_width(1)))?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl Figure for CompareChart {
    fn size(&self) -> (u32, u32) {
        COMPARE_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, target: Target) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        root.draw_text(&self.title, &bold(34.0, palette::BLACK), (40, 24))?;
        root.draw_text(&self.subtitle, &text(22.0, palette::AXIS), (40, 72))?;
        let legend = text(22.0, palette::BLACK);
        let mut x = 40;
        for (i, s) in self.senders.iter().enumerate() {
            let c = rgb(COLORS[i % COLORS.len()]);
            root.draw(&PathElement::new(vec![(x, 124), (x + 36, 124)], ShapeStyle::from(c).stroke_width(5)))?;
            root.draw_text(&s.label, &legend, (x + 46, 112))?;
            x += 60 + 13 * s.label.chars().count() as i32 + 30;
        }
        let shade = rgb(palette::FAULT_SHADE).mix(palette::SHADE_ALPHA * 2.0);
        root.draw(&Rectangle::new([(x + 10, 114), (x + 46, 134)], shade.filled()))?;
        root.draw_text("receiver fault or incident", &legend, (x + 56, 112))?;
        let body = root.margin(150, 0, 0, 0);
        let (top, bottom) = body.split_vertically(470);
        self.panel(
            &top,
            "Lag: newest scraped sample minus newest delivered",
            |s| &s.lag,
            axis::duration_label,
            true,
            target,
        )?;
        self.panel(
            &bottom,
            "Data lost so far (% of what the workload produced)",
            |s| &s.lost_pct,
            |v| format!("{}%", axis::si(v)),
            false,
            target,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> CompareChart {
        let curve = |k: f64| SenderCurves {
            label: format!("s{k}"),
            lag: (0..60).map(|i| (f64::from(i) * 60.0, k * f64::from(i % 20))).collect(),
            lost_pct: (0..60).map(|i| (f64::from(i) * 60.0, k * f64::from(i) / 10.0)).collect(),
        };
        CompareChart {
            title: "compare".into(),
            subtitle: "x".into(),
            duration: 3600.0,
            windows: vec![(600.0, 1200.0)],
            senders: vec![curve(1.0), curve(2.0)],
        }
    }

    #[test]
    fn renders_the_same_bytes_every_time() {
        let a = super::super::render_svg(&chart()).unwrap();
        assert_eq!(a, super::super::render_svg(&chart()).unwrap());
        assert!(a.contains(">\ns2\n</text>"), "the legend names every sender");
        let mut png = Vec::new();
        super::super::write_png(&chart(), &mut png).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.2), 5.0);
        assert_eq!(nice_max(1800.0), 2000.0);
    }
}
