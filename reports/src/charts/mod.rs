//! Charts as PNG and SVG, drawn with plotters: the run dashboard ([`run`] prepares the data,
//! `draw` draws it) and the sweep heatmaps and curves ([`sweep`]).
//!
//! Every chart is a [`Figure`]: a value holding everything it shows, with a fixed size.
//! [`write_png`] and [`render_svg`] turn a figure into bytes; the caller decides where they
//! go. Rendering is deterministic: the same figure gives the same bytes on any machine.
//!
//! **Fonts.** Text is set in DejaVu Sans, compiled into the binary (`reports/fonts/`, Bitstream
//! Vera licence) and registered with plotters' `ab_glyph` backend, so PNGs render the same
//! with or without fontconfig or system fonts. SVGs keep text as `<text>` elements (readable,
//! searchable, sharp at any zoom) with `font-family="DejaVu Sans, sans-serif"`; a viewer
//! without DejaVu Sans substitutes its sans-serif font.

pub mod axis;
pub mod compare;
pub mod downsample;
mod draw;
pub mod palette;
mod raster;
pub mod run;
pub mod sweep;

use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt;
use std::io::Write;
use std::sync::OnceLock;

pub use draw::{CURVES_SIZE, DASHBOARD_SIZE, HEATMAP_SIZE};

/// Font family of every text; registered from the bundled files under this name, which is
/// also the SVG `font-family` list.
pub const FONT: &str = "DejaVu Sans, sans-serif";

static FONT_REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
static FONT_BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled fonts with plotters (once per process).
fn fonts() -> Result<(), ChartError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_REGULAR)
            .map_err(|_| "bundled font DejaVuSans.ttf is not a valid font".to_string())?;
        plotters::style::register_font(FONT, FontStyle::Bold, FONT_BOLD)
            .map_err(|_| "bundled font DejaVuSans-Bold.ttf is not a valid font".to_string())
    })
    .clone()
    .map_err(ChartError)
}

/// A chart that failed to draw or encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot draw the chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

/// The error type of drawing on backend `DB`.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// What a figure is drawn for. Thick lines differ: plotters' raster backend joins thick
/// polyline segments with unbounded miters, which shoot spikes out of the plot at every
/// sharp turn of a noisy series, so raster lines are drawn as several 1-pixel lines instead.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A bitmap (PNG).
    Raster,
    /// SVG, where the viewer strokes lines (with the standard miter limit).
    Vector,
}

/// Something drawable at a fixed size on any plotters backend.
pub trait Figure {
    /// Width and height in pixels (SVG user units).
    fn size(&self) -> (u32, u32);
    /// Draws on `root`, which has [`Figure::size`].
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, target: Target) -> DrawResult<DB>;
}

/// Renders `fig` as an 8-bit RGB PNG into `out`.
pub fn write_png<F: Figure, W: Write>(fig: &F, out: W) -> Result<(), ChartError> {
    fonts()?;
    let (w, h) = fig.size();
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = raster::RasterBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        fig.draw(&root, Target::Raster).map_err(|e| ChartError(e.to_string()))?;
        root.present().map_err(|e| ChartError(e.to_string()))?;
    }
    let mut enc = png::Encoder::new(out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Best);
    let mut writer = enc.write_header().map_err(|e| ChartError(format!("PNG: {e}")))?;
    writer.write_image_data(&buf).map_err(|e| ChartError(format!("PNG: {e}")))?;
    writer.finish().map_err(|e| ChartError(format!("PNG: {e}")))
}

/// Renders `fig` as an SVG document.
pub fn render_svg<F: Figure>(fig: &F) -> Result<String, ChartError> {
    fonts()?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, fig.size()).into_drawing_area();
        fig.draw(&root, Target::Vector).map_err(|e| ChartError(e.to_string()))?;
        root.present().map_err(|e| ChartError(e.to_string()))?;
    }
    s.push('\n');
    Ok(s)
}
