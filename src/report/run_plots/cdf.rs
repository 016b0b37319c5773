//! The empirical CDF of recovery times: one step line per labelled series.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{draw_legend, draw_note, draw_title, mesh, Swatch};
use crate::report::chart::{colour, fmt_tick};
use crate::report::{perr, render_svg_png, Plot, ReportError};

/// Empirical CDF of recovery times (seconds), one step line per labelled
/// series, into `<stem>.svg` / `<stem>.png` (900x500). NaN values are
/// ignored; infinite ones count as episodes never recovered (so that curve
/// stays below 1). Series without finite values are left out.
pub fn recovery_cdf(stem: &Path, title: &str, runs: &[(String, Vec<f64>)]) -> Result<Vec<PathBuf>, ReportError> {
    let mut series = vec![];
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for (i, (name, v)) in runs.iter().enumerate() {
        let total = v.iter().filter(|x| !x.is_nan()).count();
        let mut fin: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        if fin.is_empty() {
            continue;
        }
        fin.sort_by(f64::total_cmp);
        lo = lo.min(fin[0]);
        hi = hi.max(fin[fin.len() - 1]);
        series.push(CdfSeries { colour: i, name, sorted: fin, total });
    }
    let x_end = if hi > lo { hi + (hi - lo) * 0.05 } else { lo + 1.0 };
    let plot = CdfPlot { title, series, x: (lo, x_end) };
    render_svg_png(stem, (900, 500), &plot)
}

struct CdfSeries<'a> {
    colour: usize,
    name: &'a str,
    sorted: Vec<f64>,
    /// Episodes in the denominator (recovered or not).
    total: usize,
}

struct CdfPlot<'a> {
    title: &'a str,
    series: Vec<CdfSeries<'a>>,
    x: (f64, f64),
}

impl Plot for CdfPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(perr)?;
        let mut top = draw_title(root, self.title)?;
        let legend: Vec<(String, Swatch)> =
            self.series.iter().map(|s| (s.name.to_string(), Swatch::Line(colour(s.colour)))).collect();
        top += draw_legend(root, &legend, top)? + 10;
        let (x0, x1) = self.x;
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .margin_right(28)
            .margin_top(top)
            .x_label_area_size(52)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, 0.0..1.02)
            .map_err(perr)?;
        mesh(&mut chart)
            .x_desc("recovery time (s)")
            .y_desc("fraction of episodes recovered")
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| fmt_tick(*v))
            .draw()
            .map_err(perr)?;
        for s in &self.series {
            let n = s.total as f64;
            let mut pts = vec![(x0, 0.0)];
            for (k, &v) in s.sorted.iter().enumerate() {
                pts.push((v, k as f64 / n));
                pts.push((v, (k + 1) as f64 / n));
            }
            pts.push((x1, s.sorted.len() as f64 / n));
            chart.draw_series(LineSeries::new(pts, colour(s.colour).stroke_width(2))).map_err(perr)?;
        }
        if self.series.is_empty() {
            draw_note(&chart, "no recovered episodes")?;
        }
        Ok(())
    }
}
