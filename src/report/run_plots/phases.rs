//! Mean time per recovery phase: one stacked horizontal bar per run.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::rows::{draw_rows, draw_segments, Rows, Segment};
use super::style::{phase_colour, Swatch, UNFINISHED};
use crate::report::chart::{fmt_tick, style};
use crate::report::{perr, render_svg_png, Plot, ReportError};
use crate::sim::outcome::PhaseMean;

/// One stacked horizontal bar per labelled run, segments = mean seconds per
/// phase in the given order, into `<stem>.svg` / `<stem>.png` (900 wide).
/// Non-finite or negative means are left out.
pub fn phase_bars(stem: &Path, title: &str, runs: &[(String, Vec<PhaseMean>)]) -> Result<Vec<PathBuf>, ReportError> {
    let mut unknown = vec![];
    let mut legend: Vec<(String, Swatch)> = vec![];
    let mut bars = Vec::with_capacity(runs.len());
    let mut x_max = 0.0f64;
    for (label, phases) in runs {
        let mut segs = vec![];
        let mut total = 0.0;
        for p in phases {
            let c = phase_colour(&p.phase, &mut unknown);
            if !legend.iter().any(|(n, _)| *n == p.phase) {
                legend.push((p.phase.clone(), Swatch::Box(c)));
            }
            if p.mean_s.is_finite() && p.mean_s >= 0.0 {
                segs.push(Segment { colour: c, start: total, end: total + p.mean_s, unfinished: false });
                total += p.mean_s;
            }
        }
        x_max = x_max.max(total);
        bars.push((label.clone(), segs, total));
    }
    // Room for the total written after the longest bar.
    let x_max = if x_max > 0.0 { x_max * 1.15 } else { 1.0 };
    let height = (170 + 44 * bars.len() as u32).clamp(320, 1200);
    let plot = BarsPlot { title, bars, x_max, legend };
    render_svg_png(stem, (900, height), &plot)
}

struct BarsPlot<'a> {
    title: &'a str,
    /// (label, segments, total seconds) per run.
    bars: Vec<(String, Vec<Segment>, f64)>,
    x_max: f64,
    legend: Vec<(String, Swatch)>,
}

impl Plot for BarsPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let labels: Vec<String> = self.bars.iter().map(|(l, ..)| l.clone()).collect();
        let n = labels.len().max(1);
        let frame = Rows {
            title: self.title,
            legend: &self.legend,
            labels: &labels,
            x_max: self.x_max,
            x_desc: "mean time to recover (s)",
            note: self.bars.is_empty().then_some("no runs"),
        };
        draw_rows(root, &frame, |chart| {
            let st = style(14.0).pos(Pos::new(HPos::Left, VPos::Center));
            for (i, (_, segs, total)) in self.bars.iter().enumerate() {
                draw_segments(chart, n, i, segs, 0.2)?;
                // Thin white gaps keep equal-coloured neighbours apart.
                let (y0, y1) = ((n - i - 1) as f64 + 0.2, (n - i) as f64 - 0.2);
                chart
                    .draw_series(
                        segs.iter().map(|s| Rectangle::new([(s.start, y0), (s.end, y1)], WHITE.stroke_width(1))),
                    )
                    .map_err(perr)?;
                let (text, st) = if segs.is_empty() {
                    ("no recovered episodes".to_string(), st.clone().color(&UNFINISHED))
                } else {
                    (format!("{} s", fmt_tick(*total)), st.clone())
                };
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((*total, (n - i) as f64 - 0.5)) + Text::new(text, (6, 0), st),
                    ))
                    .map_err(perr)?;
            }
            Ok(())
        })
    }
}
