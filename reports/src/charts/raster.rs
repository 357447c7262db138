//! The bitmap backend used for PNGs: plotters' `BitMapBackend` with text drawn by this
//! module instead of plotters' `ab_glyph` glue.
//!
//! plotters 0.3.7 places each glyph at the pen position without its left side bearing, so
//! narrow glyphs drift left and labels read `00: 10` instead of `00:10`. Here each glyph is
//! placed at pen + bearing (the font's own metrics, kerning included); the text box, the
//! anchors and the vertical placement stay plotters' own, so layout is the same as in SVG.

use ab_glyph::{Font, FontRef, ScaleFont, point};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind, FontStyle,
};
use std::sync::OnceLock;

type Error = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

/// The bundled regular and bold faces, parsed once.
fn faces() -> Option<&'static (FontRef<'static>, FontRef<'static>)> {
    static FACES: OnceLock<Option<(FontRef<'static>, FontRef<'static>)>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Some((FontRef::try_from_slice(super::FONT_REGULAR).ok()?, FontRef::try_from_slice(super::FONT_BOLD).ok()?))
        })
        .as_ref()
}

/// `BitMapBackend` with correctly spaced text.
pub struct RasterBackend<'a> {
    inner: BitMapBackend<'a>,
}

impl<'a> RasterBackend<'a> {
    /// Draws into an RGB buffer of `size`.
    pub fn with_buffer(buf: &'a mut [u8], size: (u32, u32)) -> Self {
        RasterBackend { inner: BitMapBackend::with_buffer(buf, size) }
    }
}

impl DrawingBackend for RasterBackend<'_> {
    type ErrorType = Error;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, p: BackendCoord, c: BackendColor) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_rect(a, b, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.fill_polygon(vert, style)
    }
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Error>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let Some((regular, bold)) = faces() else {
            return self.inner.draw_text(text, style, pos);
        };
        let font = match style.style() {
            FontStyle::Bold => bold,
            _ => regular,
        };
        // plotters' box and anchors (the same numbers `estimate_text_size` reports).
        let ((min_x, min_y), (max_x, max_y)) =
            style.layout_box(text).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let size = style.size() as f32;
        let scaled = font.as_scaled(size);
        let (w, h) = self.get_size();
        let mut pixels = Vec::new();
        let mut pen = 0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(size, point(pen, 0.0));
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                // Baseline half the size below the top of the box, as plotters places it.
                let x0 = b.min.x.round() as i32;
                let y0 = (size / 2.0 + b.min.y) as i32;
                outline.draw(|x, y, coverage| pixels.push((x0 + x as i32, y0 + y as i32, coverage)));
            }
            pen += scaled.h_advance(id);
            prev = Some(id);
        }
        for (x, y, coverage) in pixels {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                self.inner.draw_pixel(
                    (x, y),
                    BackendColor { alpha: color.alpha * f64::from(coverage.min(1.0)), rgb: color.rgb },
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    /// Column runs that hold ink, as (first, last) x.
    fn ink_runs(text: &str) -> Vec<(usize, usize)> {
        super::super::fonts().unwrap();
        let (w, h) = (240usize, 80usize);
        let mut buf = vec![255u8; w * h * 3];
        {
            let root = RasterBackend::with_buffer(&mut buf, (w as u32, h as u32)).into_drawing_area();
            let style = TextStyle::from((super::super::FONT, 48.0).into_font()).color(&BLACK);
            root.draw_text(text, &style, (10, 10)).unwrap();
            root.present().unwrap();
        }
        let inked: Vec<bool> = (0..w).map(|x| (0..h).any(|y| buf[(y * w + x) * 3] < 128)).collect();
        let mut runs = Vec::new();
        let mut start = None;
        for (x, &ink) in inked.iter().chain([&false]).enumerate() {
            match (ink, start) {
                (true, None) => start = Some(x),
                (false, Some(s)) => {
                    runs.push((s, x - 1));
                    start = None;
                }
                _ => {}
            }
        }
        runs
    }

    #[test]
    fn glyphs_keep_their_side_bearings() {
        // "0:0": the colon sits midway between the digits (plotters' own glue drew it
        // against the first digit, so tick labels read "00: 10").
        let runs = ink_runs("0:0");
        assert_eq!(runs.len(), 3, "{runs:?}");
        let gap_before = runs[1].0 - runs[0].1;
        let gap_after = runs[2].0 - runs[1].1;
        assert!(gap_before.abs_diff(gap_after) <= 2, "{runs:?}");
    }
}
