//! Where everything of a heat map goes: font sizes that fit, shortened
//! labels, the grid's pixel box and whether cell values fit their cells.
//! Only measures text; draws nothing.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::Heatmap;
use crate::report::{fit_text, perr, FONT};

pub(super) const MARGIN: i32 = 14;
/// Width of the colour bar and its gap to the grid.
pub(super) const BAR_W: i32 = 18;
pub(super) const BAR_GAP: i32 = 22;
/// Ticks on the colour bar, evenly spread over the range.
pub(super) const NTICKS: usize = 5;

pub(super) fn style(size: f64) -> TextStyle<'static> {
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

/// The grid's pixel box and cell size.
pub(super) struct Grid {
    pub x0: i32,
    pub x1: i32,
    pub y0: i32,
    pub y1: i32,
    pub cell_w: f64,
    pub cell_h: f64,
}

impl Grid {
    /// Left edge of column `c` (the right edge of the last is `cx(cols)`).
    pub fn cx(&self, c: usize) -> i32 {
        self.x0 + (self.cell_w * c as f64).round() as i32
    }
    /// Top edge of row `r`.
    pub fn cy(&self, r: usize) -> i32 {
        self.y0 + (self.cell_h * r as f64).round() as i32
    }
}

/// Texts with the style each is drawn in.
pub(super) struct Layout {
    pub title: String,
    pub title_st: TextStyle<'static>,
    pub grid: Grid,
    pub row_txt: Vec<String>,
    pub row_st: TextStyle<'static>,
    pub col_txt: Vec<String>,
    pub col_st: TextStyle<'static>,
    /// How far column labels reach below the grid.
    pub col_extent: i32,
    pub axis_st: TextStyle<'static>,
    /// Cell values as text (None for blank cells), drawn only if `show_values`.
    pub cell_txt: Vec<Vec<Option<String>>>,
    pub cell_size: f64,
    pub show_values: bool,
    pub tick_txt: Vec<String>,
    pub tick_st: TextStyle<'static>,
}

/// Fits `spec` into `root`: title on top, colour bar on the right, row
/// labels and the turned row-axis name on the left, column labels and the
/// column-axis name below, the grid in between.
pub(super) fn layout<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, spec: &Heatmap) -> Result<Layout, String> {
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);

    // Title (shrunk if too wide).
    let title_size = fit_size(root, &[spec.title.to_string()], 24.0, 12.0, w - 2 * MARGIN)?;
    let title_st = style(title_size).pos(Pos::new(HPos::Center, VPos::Top));
    let title = fit_text(root, spec.title, &title_st, w - 2 * MARGIN)?;
    let top = MARGIN + (title_size * 0.85) as i32 + 18;

    // Colour bar on the right, its tick labels formatted like the cells.
    let (lo, hi) = spec.range;
    let tick_txt: Vec<String> =
        (0..NTICKS).map(|i| (spec.fmt)(lo + (hi - lo) * i as f64 / (NTICKS - 1) as f64)).collect();
    let tick_st = style(15.0);
    let mut tick_w = 0;
    for t in &tick_txt {
        tick_w = tick_w.max(text_w(root, t, &tick_st)?);
    }
    let right = MARGIN + tick_w + 8 + BAR_W + BAR_GAP;

    // Row labels on the left, next to the rotated row-axis name.
    let axis_size = 19.0;
    let axis_h = (axis_size * 0.85) as i32;
    let max_row_w = (w as f64 * 0.28) as i32;
    let row_size = fit_size(root, spec.row_labels, 16.0, 10.0, max_row_w)?;
    let row_st = style(row_size).pos(Pos::new(HPos::Right, VPos::Center));
    let mut row_txt = Vec::with_capacity(spec.row_labels.len());
    let mut row_w = 0;
    for l in spec.row_labels {
        let t = fit_text(root, l, &row_st, max_row_w)?;
        row_w = row_w.max(text_w(root, &t, &row_st)?);
        row_txt.push(t);
    }
    let (x0, x1) = (MARGIN + axis_h + 14 + row_w + 8, w - right);
    let cell_w = (x1 - x0) as f64 / spec.col_labels.len() as f64;

    let (col_txt, col_st, col_extent) = column_labels(root, spec.col_labels, cell_w, (h as f64 * 0.28) as i32)?;
    let (y0, y1) = (top, h - (MARGIN + axis_h + 14 + col_extent + 10));
    let cell_h = (y1 - y0) as f64 / spec.values.len() as f64;

    // Cell text size: as large as fits the narrowest cell, capped.
    let cell_txt: Vec<Vec<Option<String>>> = spec
        .values
        .iter()
        .map(|row| row.iter().map(|v| if v.is_nan() { None } else { Some((spec.fmt)(*v)) }).collect())
        .collect();
    let all_txt: Vec<String> = cell_txt.iter().flatten().flatten().cloned().collect();
    let cell_size = fit_size(root, &all_txt, (cell_h * 0.42).min(20.0), 7.0, (cell_w * 0.86) as i32)?;
    let show_values = cell_size >= 8.0 && cell_h >= 11.0 && {
        let st = style(cell_size);
        let mut ok = true;
        for t in &all_txt {
            ok &= text_w(root, t, &st)? <= (cell_w * 0.92) as i32;
        }
        ok
    };
    Ok(Layout {
        title,
        title_st,
        grid: Grid { x0, x1, y0, y1, cell_w, cell_h },
        row_txt,
        row_st,
        col_txt,
        col_st,
        col_extent,
        axis_st: style(axis_size),
        cell_txt,
        cell_size,
        show_values,
        tick_txt,
        tick_st,
    })
}

/// Column labels below the grid: horizontal when they fit the cell width,
/// else turned upright (at most `max_h` long). Returns the texts, their
/// style and how far they reach below the grid.
fn column_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &[String],
    cell_w: f64,
    max_h: i32,
) -> Result<(Vec<String>, TextStyle<'static>, i32), String> {
    let size_h = fit_size(root, labels, 16.0, 14.0, (cell_w * 0.92) as i32)?;
    let mut horizontal = true;
    {
        let st = style(size_h);
        for l in labels {
            if text_w(root, l, &st)? > (cell_w * 0.92) as i32 {
                horizontal = false;
            }
        }
    }
    let (st, size) = if horizontal {
        (style(size_h).pos(Pos::new(HPos::Center, VPos::Top)), size_h)
    } else {
        // Vertical text: the font height must fit the cell width.
        let s = fit_size(root, labels, 16.0, 10.0, max_h)?.min((cell_w * 0.9).max(10.0));
        (style(s).pos(Pos::new(HPos::Right, VPos::Center)).transform(FontTransform::Rotate270), s)
    };
    let mut txt = Vec::with_capacity(labels.len());
    let mut extent = 0;
    for l in labels {
        let t = if horizontal { l.clone() } else { fit_text(root, l, &style(size), max_h)? };
        extent = extent.max(text_w(root, &t, &style(size))?);
        txt.push(t);
    }
    if horizontal {
        extent = (size * 0.85) as i32;
    }
    Ok((txt, st, extent))
}
