//! Annotated heat maps (e.g. TX profile x RX profile accuracy matrices).
//! `layout` fits title, labels, grid and colour bar into the image;
//! `draw` paints them; `colour` maps values to colours.

mod colour;
mod draw;
mod layout;

use std::path::{Path, PathBuf};

use super::{render_svg_png, ReportError};

/// A heat map of `values[r][c]` (rows x cols; NaN = blank cell).
pub struct Heatmap<'a> {
    pub title: &'a str,
    /// Name of the vertical axis (rows), e.g. "TX profile".
    pub row_axis: &'a str,
    /// Name of the horizontal axis (columns), e.g. "RX profile".
    pub col_axis: &'a str,
    pub row_labels: &'a [String],
    pub col_labels: &'a [String],
    pub values: &'a [Vec<f64>],
    /// Value range mapped onto the colour scale; values outside are clamped.
    pub range: (f64, f64),
    /// Without `reverse`, `range.0` is light and `range.1` dark; `reverse`
    /// flips the scale (so that low values, e.g. losses, are the dark ones).
    pub reverse: bool,
    /// Formats a value for the cell text and the colour-bar ticks.
    pub fmt: &'a dyn Fn(f64) -> String,
}

/// Renders `spec` into `<stem>.svg` and `<stem>.png` (about 800x700 pixels,
/// larger for big matrices), each written atomically. Returns the paths.
pub fn heatmap(stem: &Path, spec: &Heatmap) -> Result<Vec<PathBuf>, ReportError> {
    let bad = |msg: String| ReportError::Plot { path: stem.to_path_buf(), msg };
    let rows = spec.values.len();
    let cols = spec.values.first().map_or(0, Vec::len);
    if rows == 0 || cols == 0 {
        return Err(bad("empty matrix".into()));
    }
    if let Some(r) = spec.values.iter().position(|r| r.len() != cols) {
        return Err(bad(format!("row {r} has {} values, expected {cols}", spec.values[r].len())));
    }
    if spec.row_labels.len() != rows || spec.col_labels.len() != cols {
        return Err(bad(format!(
            "{} row labels and {} column labels for a {rows}x{cols} matrix",
            spec.row_labels.len(),
            spec.col_labels.len()
        )));
    }
    if !(spec.range.0.is_finite() && spec.range.1.is_finite()) {
        return Err(bad(format!("colour range {:?} is not finite", spec.range)));
    }
    let size = (800u32.max(330 + 34 * cols as u32), 700u32.max(280 + 26 * rows as u32));
    render_svg_png(stem, size, &draw::HeatmapPlot(spec))
}
