//! Plots of simulation runs: recovery-time CDFs, per-episode phase
//! timelines, the network's state over time, and mean time per phase.
//! Each is written as `<stem>.svg` and `<stem>.png` via `render_svg_png`.

use std::path::{Path, PathBuf};

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{colour, fmt_tick, style};
use super::{fit_text, perr, render_svg_png, Plot, ReportError};
use crate::sim::outcome::{EpisodeRecord, PhaseMean, TimePoint};

/// Phase names (as in `EpisodeRecord::phases`) with fixed colours, so that
/// timelines and bars of every run read the same.
const PHASES: [(&str, RGBColor); 6] = [
    ("detection", RGBColor(214, 39, 40)),
    ("queue", RGBColor(150, 150, 150)),
    ("download", RGBColor(31, 119, 180)),
    ("compute wait", RGBColor(255, 127, 14)),
    ("fine-tune", RGBColor(44, 160, 44)),
    ("upload", RGBColor(148, 103, 189)),
];

/// Colours for phase names not in `PHASES` (none of them used there).
const EXTRA: [RGBColor; 4] =
    [RGBColor(140, 86, 75), RGBColor(227, 119, 194), RGBColor(188, 189, 34), RGBColor(23, 190, 207)];

/// Timelines taller than this many rows would be unreadable.
const MAX_ROWS: usize = 60;

const GRID: RGBColor = RGBColor(215, 215, 215);
const AXIS: RGBColor = RGBColor(90, 90, 90);
const UNFINISHED: RGBColor = RGBColor(110, 110, 110);

/// Colour of phase `name`; unknown names get `EXTRA` colours in the order
/// they are first met (tracked in `unknown`).
fn phase_colour(name: &str, unknown: &mut Vec<String>) -> RGBColor {
    if let Some((_, c)) = PHASES.iter().find(|(n, _)| *n == name) {
        return *c;
    }
    let i = match unknown.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            unknown.push(name.to_string());
            unknown.len() - 1
        }
    };
    EXTRA[i % EXTRA.len()]
}

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
    let bounds = |e: &EpisodeRecord| -> [Option<f64>; 7] {
        [
            Some(e.onset_s),
            e.detected_s,
            e.download_start_s,
            e.download_end_s,
            e.finetune_start_s,
            e.finetune_end_s,
            e.aligned_s,
        ]
    };
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
    let mut rows = Vec::with_capacity(eps.len());
    let mut any_unfinished = false;
    for e in &eps {
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
            any_unfinished |= unfinished;
            segs.push(Segment { colour: PHASES[k].1, start, end, unfinished });
        }
        let mut label = format!("{}→{}", e.tx, e.rx);
        if e.episode > 0 {
            label.push_str(&format!(" #{}", e.episode));
        }
        rows.push((label, segs));
    }
    let mut legend: Vec<(String, Swatch)> = PHASES.iter().map(|(n, c)| (n.to_string(), Swatch::Box(*c))).collect();
    if any_unfinished {
        legend.push(("unfinished".into(), Swatch::Hatched(UNFINISHED)));
    }
    let height = (190 + 22 * rows.len() as u32).clamp(320, 1500);
    let plot = TimelinePlot { title: &title, rows, x_max, legend };
    render_svg_png(stem, (900, height), &plot)
}

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

// ---------------------------------------------------------------------------
// Drawing.

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

#[derive(Debug, Clone, Copy)]
enum Swatch {
    Line(RGBColor),
    Box(RGBColor),
    Hatched(RGBColor),
}

/// A bar piece from `start` to `end` on the x axis.
#[derive(Debug, Clone, Copy)]
struct Segment {
    colour: RGBColor,
    start: f64,
    end: f64,
    unfinished: bool,
}

/// Draws the title centred at the top; returns the y below it.
fn draw_title<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> Result<i32, String> {
    let w = root.dim_in_pixel().0 as i32;
    let st = style(22.0).pos(Pos::new(HPos::Center, VPos::Top));
    let t = fit_text(root, title, &st, w - 32)?;
    root.draw(&Text::new(t, (w / 2, 12), st)).map_err(perr)?;
    Ok(12 + 22 + 12)
}

/// 45° hatch lines inside the pixel box (x0, y0)-(x1, y1), y0 above y1.
fn hatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    c: RGBColor,
) -> Result<(), String> {
    let h = y1 - y0;
    let mut s = x0 - h;
    while s < x1 {
        // The line y = y1 - (x - s), clipped to [x0, x1].
        let (mut ax, mut ay, mut bx, mut by) = (s, y1, s + h, y0);
        if ax < x0 {
            ay -= x0 - ax;
            ax = x0;
        }
        if bx > x1 {
            by += bx - x1;
            bx = x1;
        }
        if ax < bx {
            area.draw(&PathElement::new(vec![(ax, ay), (bx, by)], c.stroke_width(1))).map_err(perr)?;
        }
        s += 7;
    }
    Ok(())
}

/// A box drawn as "unfinished": light fill, hatching, outline.
fn hatched_box<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p0: (i32, i32),
    p1: (i32, i32),
    c: RGBColor,
) -> Result<(), String> {
    area.draw(&Rectangle::new([p0, p1], c.mix(0.25).filled())).map_err(perr)?;
    hatch(area, p0, p1, c)?;
    area.draw(&Rectangle::new([p0, p1], c.stroke_width(1))).map_err(perr)
}

/// Draws legend entries left to right from `y0`, wrapping at the right
/// margin; returns the height used (0 for no entries).
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    items: &[(String, Swatch)],
    y0: i32,
) -> Result<i32, String> {
    if items.is_empty() {
        return Ok(0);
    }
    let w = root.dim_in_pixel().0 as i32;
    let (x0, x1) = (24, w - 24);
    let st = style(15.0).pos(Pos::new(HPos::Left, VPos::Center));
    let line_h = 22;
    let (mut x, mut y) = (x0, y0 + line_h / 2);
    for (name, sw) in items {
        let t = fit_text(root, name, &st, x1 - x0 - 30)?;
        let tw = root.estimate_text_size(&t, &st).map_err(perr)?.0 as i32;
        let need = 28 + tw;
        if x > x0 && x + need > x1 {
            x = x0;
            y += line_h;
        }
        let (p0, p1) = ((x, y - 7), (x + 22, y + 7));
        match *sw {
            Swatch::Line(c) => {
                root.draw(&PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(3))).map_err(perr)?
            }
            Swatch::Box(c) => root.draw(&Rectangle::new([p0, p1], c.filled())).map_err(perr)?,
            Swatch::Hatched(c) => hatched_box(root, p0, p1, c)?,
        }
        root.draw(&Text::new(t, (x + 28, y), st.clone())).map_err(perr)?;
        x += need + 22;
    }
    Ok(y - y0 + line_h / 2)
}

/// Writes `note` in the middle of the chart's plotting area (for empty data).
fn draw_note<DB: DrawingBackend, X: Ranged, Y: Ranged>(
    chart: &ChartContext<DB, Cartesian2d<X, Y>>,
    note: &str,
) -> Result<(), String> {
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    let st = style(18.0).color(&UNFINISHED).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(note.to_string(), (w as i32 / 2, h as i32 / 2), st)).map_err(perr)
}

/// Frame shared by the timeline and the bars: title, legend, one labelled
/// horizontal row per entry of `labels` (the first at the top) over an x
/// axis `0..x_max`. `body` draws the rows' content; row `i` spans y from
/// `n - i - 1` to `n - i`.
#[allow(clippy::too_many_arguments)]
fn draw_rows<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[(String, Swatch)],
    labels: &[String],
    x_max: f64,
    x_desc: &str,
    note: Option<&str>,
    body: impl FnOnce(&mut Chart<'_, DB>) -> Result<(), String>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(perr)?;
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let mut top = draw_title(root, title)?;
    top += draw_legend(root, legend, top)? + 10;
    let n = labels.len().max(1);
    let x_area = 52;
    let row_h = ((h - top - x_area - 16) as f64 / n as f64).max(1.0);
    let lab_st = style((row_h * 0.7).clamp(9.0, 15.0)).pos(Pos::new(HPos::Right, VPos::Center));
    let max_w = (w as f64 * 0.3) as i32;
    let mut texts = Vec::with_capacity(labels.len());
    let mut lab_w = 0;
    for l in labels {
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
        .build_cartesian_2d(0.0..x_max, 0.0..n as f64)
        .map_err(perr)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_labels(0)
        .disable_y_mesh()
        .label_style(style(15.0))
        .axis_desc_style(style(17.0))
        .x_label_formatter(&|v| fmt_tick(*v))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(1))
        .draw()
        .map_err(perr)?;
    body(&mut chart)?;
    let base = root.get_base_pixel();
    for (i, t) in texts.into_iter().enumerate() {
        let (px, py) = chart.backend_coord(&(0.0, (n - i) as f64 - 0.5));
        root.draw(&Text::new(t, (px - base.0 - 8, py - base.1), lab_st.clone())).map_err(perr)?;
    }
    if let Some(note) = note {
        draw_note(&chart, note)?;
    }
    Ok(())
}

/// Draws `segs` in row `i` of `n` (see `draw_rows`), `pad` rows thinner at
/// top and bottom.
fn draw_segments<DB: DrawingBackend>(
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
        chart
            .configure_mesh()
            .x_desc("recovery time (s)")
            .y_desc("fraction of episodes recovered")
            .label_style(style(15.0))
            .axis_desc_style(style(17.0))
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| fmt_tick(*v))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS.stroke_width(1))
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
        draw_rows(
            root,
            self.title,
            &self.legend,
            &labels,
            self.x_max,
            "simulated time (s)",
            self.rows.is_empty().then_some("no episodes"),
            |chart| {
                for (i, (_, segs)) in self.rows.iter().enumerate() {
                    draw_segments(chart, n, i, segs, 0.15)?;
                }
                Ok(())
            },
        )
    }
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
        let (x0, x1) = self.x;
        // Same side margins and label widths, so both panels share x pixels.
        let mut acc = ChartBuilder::on(&upper)
            .margin_left(16)
            .margin_right(28)
            .margin_top(4)
            .margin_bottom(8)
            .y_label_area_size(78)
            .build_cartesian_2d(x0..x1, 0.0..1.0)
            .map_err(perr)?;
        acc.configure_mesh()
            .y_desc("network accuracy")
            .label_style(style(15.0))
            .axis_desc_style(style(17.0))
            .y_label_formatter(&|v| fmt_tick(*v))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS.stroke_width(1))
            .draw()
            .map_err(perr)?;
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

        let y_max = self.misaligned.iter().map(|p| p.1).max().unwrap_or(0).max(0) + 1;
        let mut mis = ChartBuilder::on(&lower)
            .margin_left(16)
            .margin_right(28)
            .margin_top(8)
            .margin_bottom(12)
            .x_label_area_size(x_area)
            .y_label_area_size(78)
            .build_cartesian_2d(x0..x1, 0i64..y_max)
            .map_err(perr)?;
        mis.configure_mesh()
            .x_desc("simulated time (s)")
            .y_desc("misaligned pairs")
            .label_style(style(15.0))
            .axis_desc_style(style(17.0))
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_labels(6.min(y_max as usize + 1))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS.stroke_width(1))
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
        draw_rows(
            root,
            self.title,
            &self.legend,
            &labels,
            self.x_max,
            "mean time to recover (s)",
            self.bars.is_empty().then_some("no runs"),
            |chart| {
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
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn episode(tx: &str, rx: &str, n: usize, onset: f64, t: [Option<f64>; 6]) -> EpisodeRecord {
        let aligned = t[5];
        EpisodeRecord {
            pair: 0,
            tx: tx.into(),
            rx: rx.into(),
            tx_profile: "p".into(),
            rx_profile: "q".into(),
            episode: n,
            cause: crate::sim::outcome::Cause::Initial,
            onset_s: onset,
            detected_s: t[0],
            download_start_s: t[1],
            download_end_s: t[2],
            finetune_start_s: t[3],
            finetune_end_s: t[4],
            upload_start_s: t[4],
            upload_end_s: aligned,
            aligned_s: aligned,
            recovery_time_s: aligned.map(|a| a - onset),
            accuracy_before: 0.3,
            mse_before: 1.0,
            accuracy_after: aligned.map(|_| 0.9),
            mse_after: aligned.map(|_| 0.1),
            confidence_before: 0.4,
            confidence_after: aligned.map(|_| 0.9),
            download_bytes: 0,
            upload_bytes: 0,
            finetune_flops: 0,
            steps: 0,
            fidelity: crate::scenario::Fidelity::Exact,
            job: None,
            restarts: 0,
            ended_s: None,
        }
    }

    fn sample_episodes() -> Vec<EpisodeRecord> {
        vec![
            episode("u0", "u1", 0, 0.0, [Some(1.0), Some(1.5), Some(3.0), Some(4.0), Some(7.0), Some(8.0)]),
            episode("u2", "u1", 1, 2.0, [Some(2.5), Some(4.0), Some(6.0), Some(6.0), None, None]),
            episode("u3", "u0", 0, 5.0, [None, None, None, None, None, None]),
        ]
    }

    /// Checks both files exist and are non-empty, and the SVG holds `texts`.
    fn check(paths: &[PathBuf], texts: &[&str]) {
        assert_eq!(paths.len(), 2);
        assert!(paths[0].extension().unwrap() == "svg");
        assert!(paths[1].extension().unwrap() == "png");
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        for t in texts {
            assert!(svg.contains(t), "SVG lacks {t:?}");
        }
        let png = std::fs::read(&paths[1]).unwrap();
        assert!(png.len() > 1_000 && png.starts_with(b"\x89PNG"));
    }

    #[test]
    fn recovery_cdf_draws_series_and_copes_with_empty() {
        let dir = tempfile::tempdir().unwrap();
        let runs = vec![
            ("ℓ = 0".to_string(), vec![3.0, 1.0, 2.0, f64::NAN, 2.0]),
            ("ℓ = 2".to_string(), vec![]),
            ("ℓ = 4".to_string(), vec![5.0, f64::INFINITY]),
        ];
        let p = recovery_cdf(&dir.path().join("cdf"), "Recovery CDF", &runs).unwrap();
        check(&p, &["Recovery CDF", "ℓ = 0", "ℓ = 4", "recovery time (s)"]);
        let svg = std::fs::read_to_string(&p[0]).unwrap();
        assert!(!svg.contains("ℓ = 2") && !svg.contains("no recovered"));

        let empty = vec![("a".to_string(), vec![f64::NAN])];
        let p = recovery_cdf(&dir.path().join("e1"), "Empty", &empty).unwrap();
        check(&p, &["Empty", "no recovered episodes"]);
        let p = recovery_cdf(&dir.path().join("e2"), "None", &[]).unwrap();
        check(&p, &["no recovered episodes"]);
        // A single value (zero-width data range).
        let one = vec![("x".to_string(), vec![0.0])];
        recovery_cdf(&dir.path().join("one"), "One", &one).unwrap();
    }

    #[test]
    fn phase_timeline_draws_rows_and_unfinished_phases() {
        let dir = tempfile::tempdir().unwrap();
        let eps = sample_episodes();
        let p = phase_timeline(&dir.path().join("tl"), "Timeline", &eps, 10.0).unwrap();
        check(&p, &["Timeline", "u0→u1", "u2→u1 #1", "fine-tune", "compute wait", "unfinished"]);
        let svg = std::fs::read_to_string(&p[0]).unwrap();
        assert!(!svg.contains("u0→u1 #"));

        // Degenerate: nothing, zero or NaN horizon, NaN times.
        let p = phase_timeline(&dir.path().join("none"), "Nothing", &[], 0.0).unwrap();
        check(&p, &["no episodes"]);
        let mut odd = sample_episodes();
        odd[0].detected_s = Some(f64::NAN);
        odd[1].onset_s = f64::NAN;
        phase_timeline(&dir.path().join("odd"), "Odd", &odd, f64::NAN).unwrap();
        let zero = vec![episode("a", "b", 0, 0.0, [None; 6])];
        phase_timeline(&dir.path().join("zero"), "Zero", &zero, 0.0).unwrap();
    }

    #[test]
    fn phase_timeline_caps_rows() {
        let dir = tempfile::tempdir().unwrap();
        // Onsets in reverse, so the first 60 by onset are the last 60 given.
        let eps: Vec<EpisodeRecord> = (0..75)
            .map(|i| {
                let t0 = (75 - i) as f64;
                episode(
                    &format!("t{i}"),
                    "r",
                    0,
                    t0,
                    [Some(t0 + 1.0), Some(t0 + 2.0), Some(t0 + 3.0), None, None, None],
                )
            })
            .collect();
        let p = phase_timeline(&dir.path().join("many"), "Many", &eps, 100.0).unwrap();
        check(&p, &["Many (first 60 of 75)", "t74→r", "t15→r"]);
        let svg = std::fs::read_to_string(&p[0]).unwrap();
        assert!(!svg.contains("t14→r"));
    }

    #[test]
    fn network_timeseries_draws_two_panels() {
        let dir = tempfile::tempdir().unwrap();
        let pt = |t: f64, acc: f64, m: usize| TimePoint {
            t_s: t,
            network_accuracy: acc,
            mean_mse: 0.0,
            active_pairs: 4,
            misaligned_pairs: m,
            active_flows: 0,
            running_finetunes: 0,
        };
        let pts = vec![pt(0.0, 0.2, 4), pt(1.0, 0.4, 3), pt(2.0, f64::NAN, 3), pt(3.0, 0.8, 1), pt(4.0, 0.9, 0)];
        let p = network_timeseries(&dir.path().join("ts"), "Network", &pts).unwrap();
        check(&p, &["Network", "network accuracy", "misaligned pairs", "simulated time (s)"]);
        let p = network_timeseries(&dir.path().join("empty"), "Empty", &[]).unwrap();
        check(&p, &["no samples"]);
        network_timeseries(&dir.path().join("one"), "One", &[pt(5.0, 0.5, 0)]).unwrap();
        network_timeseries(&dir.path().join("nan"), "NaN", &[pt(f64::NAN, 0.5, 2)]).unwrap();
    }

    #[test]
    fn phase_bars_stack_phases_per_run() {
        let dir = tempfile::tempdir().unwrap();
        let means = |k: f64| -> Vec<PhaseMean> {
            PHASES
                .iter()
                .enumerate()
                .map(|(i, (n, _))| PhaseMean { phase: n.to_string(), mean_s: k * (i + 1) as f64 })
                .collect()
        };
        let mut odd = means(0.5);
        odd[2].mean_s = f64::NAN;
        odd.push(PhaseMean { phase: "install".into(), mean_s: 0.3 });
        let runs = vec![("N = 1".to_string(), means(1.0)), ("N = 8".to_string(), odd), ("none".to_string(), vec![])];
        let p = phase_bars(&dir.path().join("bars"), "Phases", &runs).unwrap();
        check(&p, &["Phases", "N = 1", "N = 8", "detection", "upload", "install", "21 s"]);
        let p = phase_bars(&dir.path().join("one"), "Single", &runs[..1]).unwrap();
        check(&p, &["Single", "queue"]);
        let p = phase_bars(&dir.path().join("empty"), "Empty", &[]).unwrap();
        check(&p, &["no runs"]);
    }

    #[test]
    fn phase_colours_are_fixed() {
        let mut unknown = vec![];
        assert_eq!(phase_colour("download", &mut unknown), PHASES[2].1);
        let a = phase_colour("install", &mut unknown);
        assert_eq!(phase_colour("install", &mut unknown), a);
        assert_ne!(phase_colour("other", &mut unknown), a);
        assert!(PHASES.iter().all(|(_, c)| *c != a));
    }

    /// Writes sample plots to $SLFSIM_REPORT_DEMO (if set) for a visual check.
    #[test]
    fn demo_run_plots_for_eyeballing() {
        let Some(dir) = std::env::var_os("SLFSIM_REPORT_DEMO") else {
            return;
        };
        let dir = Path::new(&dir);
        let runs: Vec<(String, Vec<f64>)> = (0..4)
            .map(|l| {
                let v = (0..30).map(|i| 5.0 + l as f64 * 3.0 + (i * 7 % 11) as f64).collect();
                (format!("ℓ = {l}"), v)
            })
            .collect();
        recovery_cdf(&dir.join("run_cdf"), "Recovery time", &runs).unwrap();
        phase_timeline(&dir.join("run_timeline"), "Episodes", &sample_episodes(), 10.0).unwrap();
        let pts: Vec<TimePoint> = (0..50)
            .map(|i| TimePoint {
                t_s: i as f64 * 0.5,
                network_accuracy: 0.3 + 0.6 * (1.0 - (-(i as f64) / 15.0).exp()),
                mean_mse: 0.0,
                active_pairs: 8,
                misaligned_pairs: 8usize.saturating_sub(i / 5),
                active_flows: 0,
                running_finetunes: 0,
            })
            .collect();
        network_timeseries(&dir.join("run_ts"), "Network state", &pts).unwrap();
        let bars: Vec<(String, Vec<PhaseMean>)> = (1..=3)
            .map(|k| {
                let m = PHASES
                    .iter()
                    .map(|(n, _)| PhaseMean { phase: n.to_string(), mean_s: k as f64 * 0.7 + n.len() as f64 * 0.2 })
                    .collect();
                (format!("N = {k} TX"), m)
            })
            .collect();
        phase_bars(&dir.join("run_bars"), "Mean time per phase", &bars).unwrap();
        let many: Vec<EpisodeRecord> = (0..75)
            .map(|i| {
                let t0 = i as f64 * 0.4;
                // Some episodes stop early, to show unfinished phases.
                let t = |d: f64| (d < 3.0 + (i % 7) as f64).then_some(t0 + d);
                episode(
                    &format!("u{}", i % 9),
                    &format!("u{}", i % 5 + 9),
                    i / 45,
                    t0,
                    [t(0.5), t(1.0), t(3.0), t(4.0), t(7.0), t(8.0)],
                )
            })
            .collect();
        phase_timeline(&dir.join("run_timeline_many"), "Episodes", &many, 40.0).unwrap();
        recovery_cdf(&dir.join("run_cdf_empty"), "Recovery time", &[]).unwrap();
    }
}
