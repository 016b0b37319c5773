//! The frame shared by the timeline and the phase bars: labelled horizontal
//! rows over a time axis, each row filled with coloured segments.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{draw_legend, draw_note, draw_title, hatched_box, mesh, Swatch};
use crate::report::chart::{fmt_tick, style};
use crate::report::{fit_text, perr};

pub(super) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A bar piece from `start` to `end` on the x axis.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub colour: RGBColor,
    pub start: f64,
    pub end: f64,
    pub unfinished: bool,
}

/// What `draw_rows` frames: title, legend, one label per row, the x axis
/// `0..x_max` named `x_desc`, and a note written instead of empty data.
pub(super) struct Rows<'a> {
    pub title: &'a str,
    pub legend: &'a [(String, Swatch)],
    pub labels: &'a [String],
    pub x_max: f64,
    pub x_desc: &'a str,
    pub note: Option<&'a str>,
}

/// Draws the frame of `rows` (title, legend, one labelled horizontal row per
/// label, the first at the top). `body` draws the rows' content; row `i`
/// spans y from `n - i - 1` to `n - i`.
pub(super) fn draw_rows<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &Rows,
    body: impl FnOnce(&mut Chart<'_, DB>) -> Result<(), String>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(perr)?;
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let mut top = draw_title(root, rows.title)?;
    top += draw_legend(root, rows.legend, top)? + 10;
    let n = rows.labels.len().max(1);
    let x_area = 52;
    let row_h = ((h - top - x_area - 16) as f64 / n as f64).max(1.0);
    let lab_st = style((row_h * 0.7).clamp(9.0, 15.0)).pos(Pos::new(HPos::Right, VPos::Center));
    let max_w = (w as f64 * 0.3) as i32;
    let mut texts = Vec::with_capacity(rows.labels.len());
    let mut lab_w = 0;
    for l in rows.labels {
        let t = fit_text(root, l, &lab_st, max_w)?;
        lab_w = lab_w.max(root.estimate_text_size(&t, &lab_st).map_err(perr)?.0 as i32);
        texts.push(t);
    }
    let mut chart = ChartBuilder::on(root)
        .margin(16)
        .margin_right(28)
        .margin_top(top)
        .x_label_area_size(x_area)
        .y_label_area_size(lab_w + 14)
        .build_cartesian_2d(0.0..rows.x_max, 0.0..n as f64)
        .map_err(perr)?;
    mesh(&mut chart)
        .x_desc(rows.x_desc)
        .y_labels(0)
        .disable_y_mesh()
        .x_label_formatter(&|v| fmt_tick(*v))
        .draw()
        .map_err(perr)?;
    body(&mut chart)?;
    let base = root.get_base_pixel();
    for (i, t) in texts.into_iter().enumerate() {
        let (px, py) = chart.backend_coord(&(0.0, (n - i) as f64 - 0.5));
        root.draw(&Text::new(t, (px - base.0 - 8, py - base.1), lab_st.clone())).map_err(perr)?;
    }
    if let Some(note) = rows.note {
        draw_note(&chart, note)?;
    }
    Ok(())
}

/// Draws `segs` in row `i` of `n` (see `draw_rows`), `pad` rows thinner at
/// top and bottom.
pub(super) fn draw_segments<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    n: usize,
    i: usize,
    segs: &[Segment],
    pad: f64,
) -> Result<(), String> {
    let (y0, y1) = ((n - i - 1) as f64 + pad, (n - i) as f64 - pad);
    for s in segs {
        if s.unfinished {
            // Hatching is drawn in pixels, in the plotting area's own frame.
            let area = chart.plotting_area().strip_coord_spec();
            let base = area.get_base_pixel();
            let rel = |(x, y): (i32, i32)| (x - base.0, y - base.1);
            let p0 = rel(chart.backend_coord(&(s.start, y1)));
            let p1 = rel(chart.backend_coord(&(s.end, y0)));
            hatched_box(&area, p0, p1, s.colour)?;
        } else {
            chart
                .draw_series(std::iter::once(Rectangle::new([(s.start, y0), (s.end, y1)], s.colour.filled())))
                .map_err(perr)?;
        }
    }
    Ok(())
}
