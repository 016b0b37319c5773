//! Paints a laid-out heat map: title, cells, labels and axis names, then
//! the colour bar.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::colour::{colormap, is_dark};
use super::layout::{layout, style, Layout, BAR_GAP, BAR_W, MARGIN, NTICKS};
use super::Heatmap;
use crate::report::{perr, Plot};

const FRAME: RGBColor = RGBColor(90, 90, 90);

pub(super) struct HeatmapPlot<'s, 'a>(pub &'s Heatmap<'a>);

impl HeatmapPlot<'_, '_> {
    /// Position of `v` on the colour scale, in [0, 1], reverse applied.
    fn t(&self, v: f64) -> f64 {
        let (lo, hi) = self.0.range;
        let t = if hi == lo { 0.5 } else { (v - lo) / (hi - lo) };
        let t = t.clamp(0.0, 1.0);
        if self.0.reverse {
            1.0 - t
        } else {
            t
        }
    }

    /// Coloured cells with their values, white lines between cells, a frame.
    fn draw_cells<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, l: &Layout) -> Result<(), String> {
        let g = &l.grid;
        for (r, row) in self.0.values.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                let (x0, y0, x1, y1) = (g.cx(c), g.cy(r), g.cx(c + 1), g.cy(r + 1));
                if v.is_nan() {
                    // Blank: white with a thin grey frame.
                    root.draw(&Rectangle::new([(x0, y0), (x1 - 1, y1 - 1)], RGBColor(225, 225, 225).stroke_width(1)))
                        .map_err(perr)?;
                    continue;
                }
                let col = colormap(self.t(v));
                root.draw(&Rectangle::new([(x0, y0), (x1, y1)], col.filled())).map_err(perr)?;
                if l.show_values {
                    if let Some(t) = &l.cell_txt[r][c] {
                        let fg = if is_dark(col) { WHITE } else { BLACK };
                        let st = style(l.cell_size).color(&fg).pos(Pos::new(HPos::Center, VPos::Center));
                        root.draw(&Text::new(t.clone(), ((x0 + x1) / 2, (y0 + y1) / 2), st)).map_err(perr)?;
                    }
                }
            }
        }
        for c in 1..l.col_txt.len() {
            root.draw(&PathElement::new(vec![(g.cx(c), g.y0), (g.cx(c), g.y1)], WHITE.stroke_width(1)))
                .map_err(perr)?;
        }
        for r in 1..l.row_txt.len() {
            root.draw(&PathElement::new(vec![(g.x0, g.cy(r)), (g.x1, g.cy(r))], WHITE.stroke_width(1)))
                .map_err(perr)?;
        }
        root.draw(&Rectangle::new([(g.x0, g.y0), (g.x1, g.y1)], FRAME.stroke_width(1))).map_err(perr)
    }

    /// Row and column tick labels, then the two axis names.
    fn draw_labels<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, l: &Layout) -> Result<(), String> {
        let g = &l.grid;
        for (r, t) in l.row_txt.iter().enumerate() {
            let y = (g.cy(r) + g.cy(r + 1)) / 2;
            root.draw(&Text::new(t.clone(), (g.x0 - 8, y), l.row_st.clone())).map_err(perr)?;
        }
        for (c, t) in l.col_txt.iter().enumerate() {
            let x = (g.cx(c) + g.cx(c + 1)) / 2;
            root.draw(&Text::new(t.clone(), (x, g.y1 + 8), l.col_st.clone())).map_err(perr)?;
        }
        let x_axis_y = g.y1 + 8 + l.col_extent + 10;
        root.draw(&Text::new(
            self.0.col_axis.to_string(),
            ((g.x0 + g.x1) / 2, x_axis_y),
            l.axis_st.clone().pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(perr)?;
        root.draw(&Text::new(
            self.0.row_axis.to_string(),
            (MARGIN, (g.y0 + g.y1) / 2),
            l.axis_st.clone().pos(Pos::new(HPos::Center, VPos::Top)).transform(FontTransform::Rotate270),
        ))
        .map_err(perr)
    }

    /// The colour bar beside the grid: a gradient from range.0 (bottom) to
    /// range.1 (top), framed, with ticks and their labels.
    fn draw_colour_bar<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, l: &Layout) -> Result<(), String> {
        let (lo, hi) = self.0.range;
        let bx0 = l.grid.x1 + BAR_GAP;
        let bx1 = bx0 + BAR_W;
        let (by0, by1) = (l.grid.y0, l.grid.y1);
        let span = (by1 - by0).max(1);
        for y in by0..=by1 {
            let frac = (by1 - y) as f64 / span as f64;
            let v = lo + (hi - lo) * frac;
            root.draw(&PathElement::new(vec![(bx0, y), (bx1, y)], colormap(self.t(v)).stroke_width(1)))
                .map_err(perr)?;
        }
        root.draw(&Rectangle::new([(bx0, by0), (bx1, by1)], FRAME.stroke_width(1))).map_err(perr)?;
        for (i, t) in l.tick_txt.iter().enumerate() {
            let y = by1 - ((span as f64) * i as f64 / (NTICKS - 1) as f64).round() as i32;
            root.draw(&PathElement::new(vec![(bx1, y), (bx1 + 4, y)], BLACK.stroke_width(1))).map_err(perr)?;
            root.draw(&Text::new(t.clone(), (bx1 + 7, y), l.tick_st.clone().pos(Pos::new(HPos::Left, VPos::Center))))
                .map_err(perr)?;
        }
        Ok(())
    }
}

impl Plot for HeatmapPlot<'_, '_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(perr)?;
        let l = layout(root, self.0)?;
        let w = root.dim_in_pixel().0 as i32;
        root.draw(&Text::new(l.title.clone(), (w / 2, MARGIN), l.title_st.clone())).map_err(perr)?;
        self.draw_cells(root, &l)?;
        self.draw_labels(root, &l)?;
        self.draw_colour_bar(root, &l)
    }
}
