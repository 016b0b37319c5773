//! Plots of a run with a physical world: the map of stations and users at
//! a few instants, and the network's accuracy over time above its
//! misaligned pairs stacked by cause. (Handovers and re-alignments over
//! time are a `line_chart`, see `world_files`.)

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::{colour, fmt_tick, style};
use super::{perr, render_svg_png, Plot, ReportError};
use crate::sim::physical_output::{Snapshot, StationRecord, WorldPoint, CAUSES};

const GRID: RGBColor = RGBColor(215, 215, 215);
const AXIS: RGBColor = RGBColor(90, 90, 90);
const EPISODE: RGBColor = RGBColor(214, 39, 40);

/// Fixed colours per cause (same order as `CAUSES`).
const CAUSE_COLOURS: [RGBColor; 6] = [
    RGBColor(127, 127, 127),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

/// Up to four panels (2 x 2): stations as black squares, users as dots in
/// the colour of their serving station, users in an open episode ringed in
/// red; absent users are not drawn.
pub fn world_map(
    stem: &Path,
    title: &str,
    area: (f64, f64),
    stations: &[StationRecord],
    snapshots: &[Snapshot],
) -> Result<Vec<PathBuf>, ReportError> {
    let plot = MapPlot { title, area, stations, snapshots: &snapshots[..snapshots.len().min(4)] };
    render_svg_png(stem, (1100, 1100), &plot)
}

/// Network accuracy (top) and the active pairs in an open episode stacked
/// by cause (bottom) at each tick.
pub fn world_causes(stem: &Path, title: &str, points: &[WorldPoint]) -> Result<Vec<PathBuf>, ReportError> {
    render_svg_png(stem, (1000, 700), &CausePlot { title, points })
}

struct MapPlot<'a> {
    title: &'a str,
    area: (f64, f64),
    stations: &'a [StationRecord],
    snapshots: &'a [Snapshot],
}

impl Plot for MapPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(perr)?;
        let (top, body) = root.split_vertically(44);
        top.draw_text(self.title, &style(22.0), (16, 10)).map_err(perr)?;
        let panels = body.split_evenly((2, 2));
        for (panel, snap) in panels.iter().zip(self.snapshots) {
            let present = snap.users.iter().filter(|u| u.3.is_some()).count();
            let in_ep = snap.users.iter().filter(|u| u.3.is_some() && u.5).count();
            let caption = format!("t = {} s: {present} users present, {in_ep} in an episode", fmt_tick(snap.t_s));
            let mut chart = ChartBuilder::on(panel)
                .margin(12)
                .caption(caption, style(16.0))
                .x_label_area_size(34)
                .y_label_area_size(50)
                .build_cartesian_2d(0.0..self.area.0, 0.0..self.area.1)
                .map_err(perr)?;
            chart
                .configure_mesh()
                .x_desc("x (m)")
                .y_desc("y (m)")
                .label_style(style(12.0))
                .axis_desc_style(style(13.0))
                .x_label_formatter(&|v| fmt_tick(*v))
                .y_label_formatter(&|v| fmt_tick(*v))
                .bold_line_style(GRID.stroke_width(1))
                .light_line_style(TRANSPARENT)
                .axis_style(AXIS.stroke_width(1))
                .draw()
                .map_err(perr)?;
            for u in &snap.users {
                if let Some(k) = u.3 {
                    chart.draw_series(std::iter::once(Circle::new((u.1, u.2), 2, colour(k).filled()))).map_err(perr)?;
                    if u.5 {
                        chart
                            .draw_series(std::iter::once(Circle::new((u.1, u.2), 4, EPISODE.stroke_width(1))))
                            .map_err(perr)?;
                    }
                }
            }
            for (k, s) in self.stations.iter().enumerate() {
                let (w, h) = (self.area.0 * 0.012, self.area.1 * 0.012);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(s.x_m - w, s.y_m - h), (s.x_m + w, s.y_m + h)],
                        BLACK.filled(),
                    )))
                    .map_err(perr)?;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(s.x_m - w * 0.6, s.y_m - h * 0.6), (s.x_m + w * 0.6, s.y_m + h * 0.6)],
                        colour(k).filled(),
                    )))
                    .map_err(perr)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        s.name.clone(),
                        (s.x_m + w * 1.5, s.y_m + h * 1.5),
                        style(13.0),
                    )))
                    .map_err(perr)?;
            }
        }
        Ok(())
    }
}

struct CausePlot<'a> {
    title: &'a str,
    points: &'a [WorldPoint],
}

impl Plot for CausePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(perr)?;
        let (head, body) = root.split_vertically(70);
        head.draw_text(self.title, &style(22.0), (16, 10)).map_err(perr)?;
        // Legend: one swatch per cause.
        let mut x = 16;
        for (c, name) in CAUSES.iter().enumerate() {
            head.draw(&Rectangle::new([(x, 46), (x + 14, 60)], CAUSE_COLOURS[c].filled())).map_err(perr)?;
            head.draw_text(name, &style(15.0), (x + 20, 44)).map_err(perr)?;
            x += 30 + 9 * name.len() as i32;
        }
        let (upper, lower) = body.split_vertically(body.dim_in_pixel().1 * 2 / 5);
        let t1 = self.points.last().map_or(1.0, |p| p.t_s).max(1e-9);
        let mut acc = ChartBuilder::on(&upper)
            .margin(12)
            .x_label_area_size(10)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t1, 0.0..1.0)
            .map_err(perr)?;
        acc.configure_mesh()
            .y_desc("network accuracy")
            .label_style(style(14.0))
            .axis_desc_style(style(15.0))
            .x_labels(0)
            .y_label_formatter(&|v| fmt_tick(*v))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS.stroke_width(1))
            .draw()
            .map_err(perr)?;
        let line: Vec<(f64, f64)> = self
            .points
            .iter()
            .filter(|p| p.network_accuracy.is_finite())
            .map(|p| (p.t_s, p.network_accuracy))
            .collect();
        acc.draw_series(LineSeries::new(line, colour(0).stroke_width(2))).map_err(perr)?;

        let y_max = self.points.iter().map(|p| p.misaligned.iter().sum::<usize>()).max().unwrap_or(0).max(1) as f64;
        let mut st = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(46)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t1, 0.0..y_max * 1.05)
            .map_err(perr)?;
        st.configure_mesh()
            .x_desc("simulated time (s)")
            .y_desc("pairs in an episode")
            .label_style(style(14.0))
            .axis_desc_style(style(15.0))
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| fmt_tick(*v))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS.stroke_width(1))
            .draw()
            .map_err(perr)?;
        // Stacked areas, drawn top layer first so each lower one covers its part.
        for c in (0..CAUSES.len()).rev() {
            let pts: Vec<(f64, f64)> =
                self.points.iter().map(|p| (p.t_s, p.misaligned[..=c].iter().sum::<usize>() as f64)).collect();
            st.draw_series(AreaSeries::new(pts, 0.0, CAUSE_COLOURS[c].filled())).map_err(perr)?;
        }
        Ok(())
    }
}
