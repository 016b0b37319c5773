//! Line charts: several named series, optional error bands, linear or log x.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{fit_text, perr, render_svg_png, Plot, ReportError, FONT};

/// One named series of (x, y) points; `band`, if given, holds a (lo, hi)
/// pair per point (same length as `points`) drawn as a shaded band.
/// Non-finite points break the line.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub band: Option<Vec<(f64, f64)>>,
}

/// Renders a line chart into `<stem>.svg` and `<stem>.png` (900x600), each
/// written atomically; the legend sits to the right of the plot area. With
/// `log_x`, points with x <= 0 are left out. The y axis turns logarithmic by
/// itself when every drawable y is positive and they span two decades or more
/// (one slow method would otherwise flatten all the others into the floor).
/// Returns the paths written.
pub fn line_chart(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_x: bool,
) -> Result<Vec<PathBuf>, ReportError> {
    for s in series {
        if let Some(b) = &s.band {
            if b.len() != s.points.len() {
                return Err(ReportError::Plot {
                    path: stem.to_path_buf(),
                    msg: format!("series {:?}: band has {} entries for {} points", s.name, b.len(), s.points.len()),
                });
            }
        }
    }
    let mut plot = LinePlot { title, x_label, y_label, series, log_x, log_y: false };
    plot.log_y = plot.spans_decades();
    render_svg_png(stem, (900, 600), &plot)
}

/// Tableau 10: distinct, print-friendly colours.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub(crate) fn style(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&BLACK)
}

/// Tick label on a log axis: only at mantissas 1, 2 and 5, because plotters
/// puts a key point at every integer multiple and their labels collide
/// ("90100").
pub(crate) fn fmt_log_tick(v: f64) -> String {
    if !(v.is_finite() && v > 0.0) {
        return String::new();
    }
    let m = v / 10f64.powf(v.log10().floor());
    if [1.0, 2.0, 5.0, 10.0].iter().any(|k| (m - k).abs() < 1e-6 * k) {
        fmt_tick(v)
    } else {
        String::new()
    }
}

/// Compact tick label: at most 4 significant digits, no trailing zeros.
pub(crate) fn fmt_tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { format!("{v}") };
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        // "1.00e3" -> "1e3", "2.50e-4" -> "2.5e-4"
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

struct LinePlot<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [Series],
    log_x: bool,
    log_y: bool,
}

impl LinePlot<'_> {
    /// Whether every drawable y (bands included) is positive and max / min >= 100.
    fn spans_decades(&self) -> bool {
        let (_, (lo, hi)) = self.data_range();
        lo > 0.0 && hi / lo >= 100.0
    }

    fn x_ok(&self, x: f64) -> bool {
        x.is_finite() && (!self.log_x || x > 0.0)
    }

    /// The drawable points' ((x0, x1), (y0, y1)), bands included; empty: (+inf, -inf).
    fn data_range(&self) -> ((f64, f64), (f64, f64)) {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for s in self.series {
            for (i, &(x, y)) in s.points.iter().enumerate() {
                if !self.x_ok(x) {
                    continue;
                }
                let mut ys = vec![y];
                if let Some(b) = &s.band {
                    ys.extend([b[i].0, b[i].1]);
                }
                let ys: Vec<f64> = ys.into_iter().filter(|v| v.is_finite()).collect();
                if ys.is_empty() {
                    continue;
                }
                x0 = x0.min(x);
                x1 = x1.max(x);
                for v in ys {
                    y0 = y0.min(v);
                    y1 = y1.max(v);
                }
            }
        }
        ((x0, x1), (y0, y1))
    }

    /// Data bounds ((x0, x1), (y0, y1)) with a little padding.
    fn bounds(&self) -> ((f64, f64), (f64, f64)) {
        let ((mut x0, mut x1), (mut y0, mut y1)) = self.data_range();
        if x0 > x1 {
            (x0, x1) = if self.log_x { (1.0, 10.0) } else { (0.0, 1.0) };
        } else if x0 == x1 {
            (x0, x1) = if self.log_x {
                (x0 / 2.0, x1 * 2.0)
            } else {
                let d = if x0 == 0.0 { 1.0 } else { x0.abs() * 0.1 };
                (x0 - d, x1 + d)
            };
        } else if self.log_x {
            let f = (x1 / x0).powf(0.03);
            (x0, x1) = (x0 / f, x1 * f);
        } else {
            let d = (x1 - x0) * 0.03;
            (x0, x1) = (x0 - d, x1 + d);
        }
        if y0 > y1 {
            (y0, y1) = (0.0, 1.0);
        } else if y0 == y1 {
            let d = if y0 == 0.0 { 1.0 } else { y0.abs() * 0.1 };
            (y0, y1) = (y0 - d, y1 + d);
        } else if self.log_y {
            let f = (y1 / y0).powf(0.06);
            (y0, y1) = (y0 / f, y1 * f);
        } else {
            let d = (y1 - y0) * 0.06;
            (y0, y1) = (y0 - d, y1 + d);
        }
        ((x0, x1), (y0, y1))
    }

    /// Runs of consecutive drawable points (a non-finite point breaks a run).
    fn runs(&self, s: &Series) -> Vec<Vec<usize>> {
        let mut runs = vec![];
        let mut cur = vec![];
        for (i, &(x, y)) in s.points.iter().enumerate() {
            if self.x_ok(x) && y.is_finite() {
                cur.push(i);
            } else if !cur.is_empty() {
                runs.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            runs.push(cur);
        }
        runs
    }

    fn band_runs(&self, s: &Series) -> Vec<Vec<(f64, f64, f64)>> {
        let Some(b) = &s.band else { return vec![] };
        let mut runs = vec![];
        let mut cur = vec![];
        for (i, &(x, _)) in s.points.iter().enumerate() {
            let (lo, hi) = b[i];
            if self.x_ok(x) && lo.is_finite() && hi.is_finite() {
                cur.push((x, lo, hi));
            } else if !cur.is_empty() {
                runs.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            runs.push(cur);
        }
        runs
    }
}

/// Draws the chart body on `$area` with x coordinate spec `$xspec`.
macro_rules! draw_body {
    ($self:ident, $area:expr, $xspec:expr, $y:expr) => {{
        let mut chart = ChartBuilder::on($area)
            .caption($self.title, style(24.0))
            .margin(16)
            .x_label_area_size(58)
            .y_label_area_size(78)
            .build_cartesian_2d($xspec, $y)
            .map_err(perr)?;
        chart
            .configure_mesh()
            .x_desc($self.x_label)
            .y_desc($self.y_label)
            .label_style(style(16.0))
            .axis_desc_style(style(19.0))
            .x_label_formatter(&|v| if $self.log_x { fmt_log_tick(*v) } else { fmt_tick(*v) })
            .y_label_formatter(&|v| if $self.log_y { fmt_log_tick(*v) } else { fmt_tick(*v) })
            .bold_line_style(RGBColor(215, 215, 215).stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(RGBColor(90, 90, 90).stroke_width(1))
            .draw()
            .map_err(perr)?;
        // Bands first, so that all lines stay on top.
        for (i, s) in $self.series.iter().enumerate() {
            for run in $self.band_runs(s) {
                let mut poly: Vec<(f64, f64)> = run.iter().map(|&(x, _, hi)| (x, hi)).collect();
                poly.extend(run.iter().rev().map(|&(x, lo, _)| (x, lo)));
                chart.draw_series(std::iter::once(Polygon::new(poly, colour(i).mix(0.18).filled()))).map_err(perr)?;
            }
        }
        for (i, s) in $self.series.iter().enumerate() {
            let c = colour(i);
            for run in $self.runs(s) {
                let pts: Vec<(f64, f64)> = run.iter().map(|&k| s.points[k]).collect();
                chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2))).map_err(perr)?;
                if pts.len() <= 60 {
                    chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled()))).map_err(perr)?;
                }
            }
        }
    }};
}

impl Plot for LinePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(perr)?;
        let (w, _h) = root.dim_in_pixel();
        let w = w as i32;

        // Legend column on the right, sized to the longest name (capped).
        let leg_st = style(16.0);
        let named: Vec<(usize, &Series)> = self.series.iter().enumerate().filter(|(_, s)| !s.name.is_empty()).collect();
        let max_name_w = (w as f64 * 0.3) as i32;
        let mut names = vec![];
        let mut name_w = 0;
        for (_, s) in &named {
            let t = fit_text(root, &s.name, &leg_st, max_name_w)?;
            name_w = name_w.max(root.estimate_text_size(&t, &leg_st).map_err(perr)?.0 as i32);
            names.push(t);
        }
        let (plot_area, legend_area) = if named.is_empty() {
            (root.clone(), None)
        } else {
            let leg_w = name_w + 62;
            let (a, b) = root.split_horizontally(w - leg_w);
            (a, Some(b))
        };

        let ((x0, x1), (y0, y1)) = self.bounds();
        match (self.log_x, self.log_y) {
            (true, true) => draw_body!(self, &plot_area, (x0..x1).log_scale(), (y0..y1).log_scale()),
            (true, false) => draw_body!(self, &plot_area, (x0..x1).log_scale(), y0..y1),
            (false, true) => draw_body!(self, &plot_area, x0..x1, (y0..y1).log_scale()),
            (false, false) => draw_body!(self, &plot_area, x0..x1, y0..y1),
        }

        if let Some(leg) = legend_area {
            let line_h = 24;
            let top = 70;
            let (lx0, ly0) = (4, top - 12);
            let (lx1, ly1) = (name_w + 52, top + line_h * names.len() as i32 - 10);
            leg.draw(&Rectangle::new([(lx0, ly0), (lx1, ly1)], RGBColor(160, 160, 160).stroke_width(1)))
                .map_err(perr)?;
            for (k, ((i, s), t)) in named.iter().zip(names).enumerate() {
                let y = top + line_h * k as i32;
                let c = colour(*i);
                if s.band.is_some() {
                    leg.draw(&Rectangle::new([(12, y - 7), (40, y + 7)], c.mix(0.18).filled())).map_err(perr)?;
                }
                leg.draw(&PathElement::new(vec![(12, y), (40, y)], c.stroke_width(2))).map_err(perr)?;
                leg.draw(&Circle::new((26, y), 3, c.filled())).map_err(perr)?;
                leg.draw(&Text::new(t, (46, y), leg_st.clone().pos(Pos::new(HPos::Left, VPos::Center))))
                    .map_err(perr)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{fmt_log_tick, fmt_tick, LinePlot, Series};

    fn plot(series: &[Series]) -> LinePlot<'_> {
        LinePlot { title: "", x_label: "", y_label: "", series, log_x: false, log_y: false }
    }

    #[test]
    fn y_turns_logarithmic_only_over_two_positive_decades() {
        let s = |ys: &[f64]| Series {
            name: "a".into(),
            points: ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(),
            band: None,
        };
        assert!(plot(&[s(&[1.0, 2.0]), s(&[150.0])]).spans_decades());
        assert!(!plot(&[s(&[1.0, 99.0])]).spans_decades());
        assert!(!plot(&[s(&[0.0, 1000.0])]).spans_decades(), "zero cannot go on a log axis");
        assert!(!plot(&[s(&[-1.0, 1000.0])]).spans_decades());
        assert!(plot(&[s(&[1.0, f64::NAN, 500.0])]).spans_decades(), "non-finite points are skipped");
        assert!(!plot(&[]).spans_decades());
    }

    #[test]
    fn log_ticks_are_labelled_only_at_one_two_five() {
        let labelled: Vec<String> =
            [10.0, 20.0, 30.0, 50.0, 90.0, 100.0, 200.0, 0.5].iter().map(|&v| fmt_log_tick(v)).collect();
        assert_eq!(labelled, ["10", "20", "", "50", "", "100", "200", "0.5"]);
        assert_eq!(fmt_log_tick(0.0), "");
    }

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(fmt_tick(0.0), "0");
        assert_eq!(fmt_tick(0.5), "0.5");
        assert_eq!(fmt_tick(0.123456), "0.1235");
        assert_eq!(fmt_tick(20.0), "20");
        assert_eq!(fmt_tick(1e6), "1e6");
        assert_eq!(fmt_tick(2.5e-4), "2.5e-4");
    }
}
