//! The network's state over time: accuracy above, misaligned pairs below,
//! on a shared time axis.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{draw_note, draw_title, mesh};
use crate::report::chart::{colour, fmt_tick};
use crate::report::{perr, render_svg_png, Plot, ReportError};
use crate::sim::outcome::TimePoint;

/// Network accuracy (top) and misaligned pairs (bottom) over simulated
/// time, sharing the x axis, into `<stem>.svg` / `<stem>.png` (900x600).
/// Points with a non-finite time are ignored; a NaN accuracy breaks the line.
pub fn network_timeseries(stem: &Path, title: &str, points: &[TimePoint]) -> Result<Vec<PathBuf>, ReportError> {
    let mut pts: Vec<&TimePoint> = points.iter().filter(|p| p.t_s.is_finite()).collect();
    pts.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    let x = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) if b.t_s > a.t_s => (a.t_s, b.t_s),
        (Some(a), _) => (a.t_s - 0.5, a.t_s + 0.5),
        _ => (0.0, 1.0),
    };
    // Runs of finite accuracies.
    let mut accuracy: Vec<Vec<(f64, f64)>> = vec![];
    let mut cur = vec![];
    for p in &pts {
        if p.network_accuracy.is_finite() {
            cur.push((p.t_s, p.network_accuracy));
        } else if !cur.is_empty() {
            accuracy.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        accuracy.push(cur);
    }
    // A count holds until the next sample: a step line.
    let mut misaligned = vec![];
    for (i, p) in pts.iter().enumerate() {
        let m = p.misaligned_pairs as i64;
        misaligned.push((p.t_s, m));
        if let Some(next) = pts.get(i + 1) {
            misaligned.push((next.t_s, m));
        }
    }
    let plot = SeriesPlot { title, x, accuracy, misaligned, empty: pts.is_empty() };
    render_svg_png(stem, (900, 600), &plot)
}

struct SeriesPlot<'a> {
    title: &'a str,
    x: (f64, f64),
    accuracy: Vec<Vec<(f64, f64)>>,
    misaligned: Vec<(f64, i64)>,
    empty: bool,
}

impl Plot for SeriesPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(perr)?;
        let top = draw_title(root, self.title)?;
        let h = root.dim_in_pixel().1 as i32;
        let x_area = 52;
        let body = root.split_vertically(top).1;
        let (upper, lower) = body.split_vertically((h - top - x_area) / 2);
        self.draw_accuracy(&upper)?;
        self.draw_misaligned(&lower, x_area)
    }
}

// Both panels use the same side margins and label widths, so that they
// share x pixels.
impl SeriesPlot<'_> {
    fn draw_accuracy<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (x0, x1) = self.x;
        let mut acc = ChartBuilder::on(area)
            .margin_left(16)
            .margin_right(28)
            .margin_top(4)
            .margin_bottom(8)
            .y_label_area_size(78)
            .build_cartesian_2d(x0..x1, 0.0..1.0)
            .map_err(perr)?;
        mesh(&mut acc).y_desc("network accuracy").y_label_formatter(&|v| fmt_tick(*v)).draw().map_err(perr)?;
        let blue = colour(0);
        for run in &self.accuracy {
            acc.draw_series(LineSeries::new(run.clone(), blue.stroke_width(2))).map_err(perr)?;
            if run.len() == 1 {
                acc.draw_series(std::iter::once(Circle::new(run[0], 3, blue.filled()))).map_err(perr)?;
            }
        }
        if self.empty {
            draw_note(&acc, "no samples")?;
        }
        Ok(())
    }

    fn draw_misaligned<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, x_area: i32) -> Result<(), String> {
        let (x0, x1) = self.x;
        let y_max = self.misaligned.iter().map(|p| p.1).max().unwrap_or(0).max(0) + 1;
        let mut mis = ChartBuilder::on(area)
            .margin_left(16)
            .margin_right(28)
            .margin_top(8)
            .margin_bottom(12)
            .x_label_area_size(x_area)
            .y_label_area_size(78)
            .build_cartesian_2d(x0..x1, 0i64..y_max)
            .map_err(perr)?;
        mesh(&mut mis)
            .x_desc("simulated time (s)")
            .y_desc("misaligned pairs")
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_labels(6.min(y_max as usize + 1))
            .draw()
            .map_err(perr)?;
        let red = colour(3);
        mis.draw_series(LineSeries::new(self.misaligned.clone(), red.stroke_width(2))).map_err(perr)?;
        if self.misaligned.len() == 1 {
            mis.draw_series(std::iter::once(Circle::new(self.misaligned[0], 3, red.filled()))).map_err(perr)?;
        }
        Ok(())
    }
}
