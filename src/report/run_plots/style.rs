//! The look shared by every run plot: fixed phase colours, the title, the
//! legend, hatching for unfinished phases, notes for empty data, and the
//! styling of axes and grid.

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::chart::style;
use crate::report::{fit_text, perr};

/// Phase names (as in `EpisodeRecord::phases`) with fixed colours, so that
/// timelines and bars of every run read the same.
pub(super) const PHASES: [(&str, RGBColor); 6] = [
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

const GRID: RGBColor = RGBColor(215, 215, 215);
const AXIS: RGBColor = RGBColor(90, 90, 90);
pub(super) const UNFINISHED: RGBColor = RGBColor(110, 110, 110);

/// Colour of phase `name`; unknown names get `EXTRA` colours in the order
/// they are first met (tracked in `unknown`).
pub(super) fn phase_colour(name: &str, unknown: &mut Vec<String>) -> RGBColor {
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

/// How a legend entry shows its colour.
#[derive(Debug, Clone, Copy)]
pub(super) enum Swatch {
    Line(RGBColor),
    Box(RGBColor),
    Hatched(RGBColor),
}

/// The mesh of every run plot: label and axis-name sizes, light grid lines
/// only at the labelled ticks, grey axes. Callers add axis names, tick
/// formatters and label counts, then `draw()`.
pub(super) fn mesh<'a, 'b, DB, X, Y>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    DB: DrawingBackend,
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut m = chart.configure_mesh();
    m.label_style(style(15.0))
        .axis_desc_style(style(17.0))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(1));
    m
}

/// Draws the title centred at the top; returns the y below it.
pub(super) fn draw_title<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> Result<i32, String> {
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
pub(super) fn hatched_box<DB: DrawingBackend>(
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
pub(super) fn draw_legend<DB: DrawingBackend>(
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
pub(super) fn draw_note<DB: DrawingBackend, X: Ranged, Y: Ranged>(
    chart: &ChartContext<DB, Cartesian2d<X, Y>>,
    note: &str,
) -> Result<(), String> {
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    let st = style(18.0).color(&UNFINISHED).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(note.to_string(), (w as i32 / 2, h as i32 / 2), st)).map_err(perr)
}
