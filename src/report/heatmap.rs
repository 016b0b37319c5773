//! Annotated heat maps (e.g. TX profile x RX profile accuracy matrices).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::{fit_text, perr, render_svg_png, Plot, ReportError, FONT};

/// A heat map of `values[r][c]` (rows x cols; NaN = blank cell).
pub struct Heatmap<'a> {
    pub title: &'a str,
    /// Name of the vertical axis (rows), e.g. "TX profile".
    pub row_axis: &'a str,
    /// Name of the horizontal axis (columns), e.g. "RX profile".
    pub col_axis: &'a str,
    pub row_labels: &'a [String],
    pub col_labels: &'a [String],
    pub values: &'a [Vec<f64>],
    /// Value range mapped onto the colour scale; values outside are clamped.
    pub range: (f64, f64),
    /// Without `reverse`, `range.0` is light and `range.1` dark; `reverse`
    /// flips the scale (so that low values, e.g. losses, are the dark ones).
    pub reverse: bool,
    /// Formats a value for the cell text and the colour-bar ticks.
    pub fmt: &'a dyn Fn(f64) -> String,
}

/// Renders `spec` into `<stem>.svg` and `<stem>.png` (about 800x700 pixels,
/// larger for big matrices), each written atomically. Returns the paths.
pub fn heatmap(stem: &Path, spec: &Heatmap) -> Result<Vec<PathBuf>, ReportError> {
    let bad = |msg: String| ReportError::Plot { path: stem.to_path_buf(), msg };
    let rows = spec.values.len();
    let cols = spec.values.first().map_or(0, Vec::len);
    if rows == 0 || cols == 0 {
        return Err(bad("empty matrix".into()));
    }
    if let Some(r) = spec.values.iter().position(|r| r.len() != cols) {
        return Err(bad(format!("row {r} has {} values, expected {cols}", spec.values[r].len())));
    }
    if spec.row_labels.len() != rows || spec.col_labels.len() != cols {
        return Err(bad(format!(
            "{} row labels and {} column labels for a {rows}x{cols} matrix",
            spec.row_labels.len(),
            spec.col_labels.len()
        )));
    }
    if !(spec.range.0.is_finite() && spec.range.1.is_finite()) {
        return Err(bad(format!("colour range {:?} is not finite", spec.range)));
    }
    let size = (800u32.max(330 + 34 * cols as u32), 700u32.max(280 + 26 * rows as u32));
    render_svg_png(stem, size, &HeatmapPlot(spec))
}

/// ColorBrewer "YlGnBu": light yellow -> green -> dark blue.
const YLGNBU: [(u8, u8, u8); 9] = [
    (255, 255, 217),
    (237, 248, 177),
    (199, 233, 180),
    (127, 205, 187),
    (65, 182, 196),
    (29, 145, 192),
    (34, 94, 168),
    (37, 52, 148),
    (8, 29, 88),
];

/// Colour for `t` in [0, 1] on the sequential map.
fn colormap(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let x = t * (YLGNBU.len() - 1) as f64;
    let i = (x.floor() as usize).min(YLGNBU.len() - 2);
    let f = x - i as f64;
    let (a, b) = (YLGNBU[i], YLGNBU[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn is_dark(c: RGBColor) -> bool {
    let lum = 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
    lum < 140.0
}

struct HeatmapPlot<'s, 'a>(&'s Heatmap<'a>);

impl HeatmapPlot<'_, '_> {
    /// Position of `v` on the colour scale, in [0, 1], reverse applied.
    fn t(&self, v: f64) -> f64 {
        let (lo, hi) = self.0.range;
        let t = if hi == lo { 0.5 } else { (v - lo) / (hi - lo) };
        let t = t.clamp(0.0, 1.0);
        if self.0.reverse {
            1.0 - t
        } else {
            t
        }
    }
}

fn style(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&BLACK)
}

fn text_w<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &str, st: &TextStyle) -> Result<i32, String> {
    Ok(root.estimate_text_size(s, st).map_err(perr)?.0 as i32)
}

/// Largest font size in [min, start] at which every label is at most `max_w`
/// wide (or `min` if none is).
fn fit_size<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &[String],
    start: f64,
    min: f64,
    max_w: i32,
) -> Result<f64, String> {
    let mut size = start;
    while size > min {
        let st = style(size);
        let mut widest = 0;
        for l in labels {
            widest = widest.max(text_w(root, l, &st)?);
        }
        if widest <= max_w {
            return Ok(size);
        }
        size -= 1.0;
    }
    Ok(min)
}

impl Plot for HeatmapPlot<'_, '_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let spec = self.0;
        let rows = spec.values.len();
        let cols = spec.col_labels.len();
        root.fill(&WHITE).map_err(perr)?;
        let (w, h) = root.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let margin = 14;
        let center = Pos::new(HPos::Center, VPos::Center);

        // Title (shrunk if too wide).
        let title_size = fit_size(root, &[spec.title.to_string()], 24.0, 12.0, w - 2 * margin)?;
        let title_st = style(title_size).pos(Pos::new(HPos::Center, VPos::Top));
        let title = fit_text(root, spec.title, &title_st, w - 2 * margin)?;
        root.draw(&Text::new(title, (w / 2, margin), title_st)).map_err(perr)?;
        let top = margin + (title_size * 0.85) as i32 + 18;

        // Colour bar on the right, its tick labels formatted like the cells.
        let (lo, hi) = spec.range;
        let nticks = 5;
        let tick_vals: Vec<f64> = (0..nticks).map(|i| lo + (hi - lo) * i as f64 / (nticks - 1) as f64).collect();
        let tick_txt: Vec<String> = tick_vals.iter().map(|v| (spec.fmt)(*v)).collect();
        let cb_st = style(15.0);
        let mut cb_label_w = 0;
        for t in &tick_txt {
            cb_label_w = cb_label_w.max(text_w(root, t, &cb_st)?);
        }
        let bar_w = 18;
        let right = margin + cb_label_w + 8 + bar_w + 22;

        // Row labels on the left, next to the rotated row-axis name.
        let axis_size = 19.0;
        let axis_st = style(axis_size);
        let axis_h = (axis_size * 0.85) as i32;
        let max_row_w = (w as f64 * 0.28) as i32;
        let row_size = fit_size(root, spec.row_labels, 16.0, 10.0, max_row_w)?;
        let row_st = style(row_size).pos(Pos::new(HPos::Right, VPos::Center));
        let mut row_txt = Vec::with_capacity(rows);
        let mut row_w = 0;
        for l in spec.row_labels {
            let t = fit_text(root, l, &row_st, max_row_w)?;
            row_w = row_w.max(text_w(root, &t, &row_st)?);
            row_txt.push(t);
        }
        let left = margin + axis_h + 14 + row_w + 8;
        let gx0 = left;
        let gx1 = w - right;
        let cell_w = (gx1 - gx0) as f64 / cols as f64;

        // Column labels below the grid: horizontal when they fit, else vertical.
        let col_size_h = fit_size(root, spec.col_labels, 16.0, 14.0, (cell_w * 0.92) as i32)?;
        let mut horizontal = true;
        {
            let st = style(col_size_h);
            for l in spec.col_labels {
                if text_w(root, l, &st)? > (cell_w * 0.92) as i32 {
                    horizontal = false;
                }
            }
        }
        let max_col_h = (h as f64 * 0.28) as i32;
        let (col_st, col_size) = if horizontal {
            (style(col_size_h).pos(Pos::new(HPos::Center, VPos::Top)), col_size_h)
        } else {
            // Vertical text: the font height must fit the cell width.
            let s = fit_size(root, spec.col_labels, 16.0, 10.0, max_col_h)?.min((cell_w * 0.9).max(10.0));
            (style(s).pos(Pos::new(HPos::Right, VPos::Center)).transform(FontTransform::Rotate270), s)
        };
        let mut col_txt = Vec::with_capacity(cols);
        let mut col_extent = 0;
        for l in spec.col_labels {
            let t = if horizontal { l.clone() } else { fit_text(root, l, &style(col_size), max_col_h)? };
            col_extent = col_extent.max(text_w(root, &t, &style(col_size))?);
            col_txt.push(t);
        }
        if horizontal {
            col_extent = (col_size * 0.85) as i32;
        }
        let bottom = margin + axis_h + 14 + col_extent + 10;
        let gy0 = top;
        let gy1 = h - bottom;
        let cell_h = (gy1 - gy0) as f64 / rows as f64;
        let cx = |c: usize| gx0 + (cell_w * c as f64).round() as i32;
        let cy = |r: usize| gy0 + (cell_h * r as f64).round() as i32;

        // Cell text size: as large as fits the narrowest cell, capped.
        let texts: Vec<Vec<Option<String>>> = spec
            .values
            .iter()
            .map(|row| row.iter().map(|v| if v.is_nan() { None } else { Some((spec.fmt)(*v)) }).collect())
            .collect();
        let all_txt: Vec<String> = texts.iter().flatten().flatten().cloned().collect();
        let cell_size = fit_size(root, &all_txt, (cell_h * 0.42).min(20.0), 7.0, (cell_w * 0.86) as i32)?;
        let show_values = cell_size >= 8.0 && cell_h >= 11.0 && {
            let st = style(cell_size);
            let mut ok = true;
            for t in &all_txt {
                ok &= text_w(root, t, &st)? <= (cell_w * 0.92) as i32;
            }
            ok
        };

        // Cells.
        for (r, row) in spec.values.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                let (x0, y0, x1, y1) = (cx(c), cy(r), cx(c + 1), cy(r + 1));
                if v.is_nan() {
                    // Blank: white with a thin grey frame.
                    root.draw(&Rectangle::new([(x0, y0), (x1 - 1, y1 - 1)], RGBColor(225, 225, 225).stroke_width(1)))
                        .map_err(perr)?;
                    continue;
                }
                let col = colormap(self.t(v));
                root.draw(&Rectangle::new([(x0, y0), (x1, y1)], col.filled())).map_err(perr)?;
                if show_values {
                    if let Some(t) = &texts[r][c] {
                        let fg = if is_dark(col) { WHITE } else { BLACK };
                        let st = style(cell_size).color(&fg).pos(center);
                        root.draw(&Text::new(t.clone(), ((x0 + x1) / 2, (y0 + y1) / 2), st)).map_err(perr)?;
                    }
                }
            }
        }
        // Thin white grid lines between cells, then a frame.
        for c in 1..cols {
            root.draw(&PathElement::new(vec![(cx(c), gy0), (cx(c), gy1)], WHITE.stroke_width(1))).map_err(perr)?;
        }
        for r in 1..rows {
            root.draw(&PathElement::new(vec![(gx0, cy(r)), (gx1, cy(r))], WHITE.stroke_width(1))).map_err(perr)?;
        }
        root.draw(&Rectangle::new([(gx0, gy0), (gx1, gy1)], RGBColor(90, 90, 90).stroke_width(1))).map_err(perr)?;

        // Row tick labels.
        for (r, t) in row_txt.into_iter().enumerate() {
            let y = (cy(r) + cy(r + 1)) / 2;
            root.draw(&Text::new(t, (gx0 - 8, y), row_st.clone())).map_err(perr)?;
        }
        // Column tick labels.
        for (c, t) in col_txt.into_iter().enumerate() {
            let x = (cx(c) + cx(c + 1)) / 2;
            root.draw(&Text::new(t, (x, gy1 + 8), col_st.clone())).map_err(perr)?;
        }
        // Axis names.
        let x_axis_y = gy1 + 8 + col_extent + 10;
        root.draw(&Text::new(
            spec.col_axis.to_string(),
            ((gx0 + gx1) / 2, x_axis_y),
            axis_st.clone().pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(perr)?;
        root.draw(&Text::new(
            spec.row_axis.to_string(),
            (margin, (gy0 + gy1) / 2),
            axis_st.pos(Pos::new(HPos::Center, VPos::Top)).transform(FontTransform::Rotate270),
        ))
        .map_err(perr)?;

        // Colour bar: gradient from range.0 (bottom) to range.1 (top).
        let bx0 = gx1 + 22;
        let bx1 = bx0 + bar_w;
        let (by0, by1) = (gy0, gy1);
        let span = (by1 - by0).max(1);
        for y in by0..=by1 {
            let frac = (by1 - y) as f64 / span as f64;
            let v = lo + (hi - lo) * frac;
            root.draw(&PathElement::new(vec![(bx0, y), (bx1, y)], colormap(self.t(v)).stroke_width(1)))
                .map_err(perr)?;
        }
        root.draw(&Rectangle::new([(bx0, by0), (bx1, by1)], RGBColor(90, 90, 90).stroke_width(1))).map_err(perr)?;
        for (i, t) in tick_txt.into_iter().enumerate() {
            let y = by1 - ((span as f64) * i as f64 / (nticks - 1) as f64).round() as i32;
            root.draw(&PathElement::new(vec![(bx1, y), (bx1 + 4, y)], BLACK.stroke_width(1))).map_err(perr)?;
            root.draw(&Text::new(t, (bx1 + 7, y), cb_st.clone().pos(Pos::new(HPos::Left, VPos::Center))))
                .map_err(perr)?;
        }
        Ok(())
    }
}
