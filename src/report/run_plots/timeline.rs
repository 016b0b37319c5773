//! The phase timeline: one row per misalignment episode, a coloured segment
//! per SLF phase, unfinished phases hatched.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::rows::{draw_rows, draw_segments, Rows, Segment};
use super::style::{Swatch, PHASES, UNFINISHED};
use crate::report::{render_svg_png, Plot, ReportError};
use crate::sim::outcome::EpisodeRecord;

/// Timelines taller than this many rows would be unreadable.
const MAX_ROWS: usize = 60;

/// One horizontal row per episode (the first `MAX_ROWS` by onset) with a
/// coloured segment per phase, into `<stem>.svg` / `<stem>.png` (900 wide,
/// taller with more rows). A phase that started but never ended is drawn
/// hatched up to `horizon_s`.
pub fn phase_timeline(
    stem: &Path,
    title: &str,
    episodes: &[EpisodeRecord],
    horizon_s: f64,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut eps: Vec<&EpisodeRecord> = episodes.iter().collect();
    eps.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let total = eps.len();
    eps.truncate(MAX_ROWS);
    let title = if total > MAX_ROWS { format!("{title} (first {MAX_ROWS} of {total})") } else { title.to_string() };
    // The x axis covers the horizon and every time shown.
    let mut x_max = if horizon_s.is_finite() { horizon_s } else { 0.0 };
    for e in &eps {
        for t in bounds(e).into_iter().flatten().filter(|t| t.is_finite()) {
            x_max = x_max.max(t);
        }
    }
    if x_max <= 0.0 {
        x_max = 1.0;
    }
    let rows: Vec<(String, Vec<Segment>)> = eps.iter().map(|e| (label(e), segments(e, x_max))).collect();
    let mut legend: Vec<(String, Swatch)> = PHASES.iter().map(|(n, c)| (n.to_string(), Swatch::Box(*c))).collect();
    if rows.iter().flat_map(|(_, s)| s).any(|s| s.unfinished) {
        legend.push(("unfinished".into(), Swatch::Hatched(UNFINISHED)));
    }
    let height = (190 + 22 * rows.len() as u32).clamp(320, 1500);
    let plot = TimelinePlot { title: &title, rows, x_max, legend };
    render_svg_png(stem, (900, height), &plot)
}

/// The phase boundaries of `e` in `PHASES` order: phase k runs from
/// element k to element k + 1.
fn bounds(e: &EpisodeRecord) -> [Option<f64>; 7] {
    [
        Some(e.onset_s),
        e.detected_s,
        e.download_start_s,
        e.download_end_s,
        e.finetune_start_s,
        e.finetune_end_s,
        e.aligned_s,
    ]
}

/// "tx→rx", with " #n" for a pair's later episodes.
fn label(e: &EpisodeRecord) -> String {
    let mut label = format!("{}→{}", e.tx, e.rx);
    if e.episode > 0 {
        label.push_str(&format!(" #{}", e.episode));
    }
    label
}

/// The drawn phases of `e`: those that started before `x_max`; one that
/// never ended runs to `x_max`, unfinished.
fn segments(e: &EpisodeRecord, x_max: f64) -> Vec<Segment> {
    let b = bounds(e);
    let mut segs = vec![];
    for k in 0..PHASES.len() {
        let Some(start) = b[k].filter(|s| s.is_finite() && *s < x_max) else {
            continue;
        };
        let (end, unfinished) = match b[k + 1] {
            None => (x_max, true),
            Some(end) if end.is_finite() && end >= start => (end, false),
            Some(_) => continue,
        };
        segs.push(Segment { colour: PHASES[k].1, start, end, unfinished });
    }
    segs
}

struct TimelinePlot<'a> {
    title: &'a str,
    rows: Vec<(String, Vec<Segment>)>,
    x_max: f64,
    legend: Vec<(String, Swatch)>,
}

impl Plot for TimelinePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let labels: Vec<String> = self.rows.iter().map(|(l, _)| l.clone()).collect();
        let n = labels.len().max(1);
        let frame = Rows {
            title: self.title,
            legend: &self.legend,
            labels: &labels,
            x_max: self.x_max,
            x_desc: "simulated time (s)",
            note: self.rows.is_empty().then_some("no episodes"),
        };
        draw_rows(root, &frame, |chart| {
            for (i, (_, segs)) in self.rows.iter().enumerate() {
                draw_segments(chart, n, i, segs, 0.15)?;
            }
            Ok(())
        })
    }
}
