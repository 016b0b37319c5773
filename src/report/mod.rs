//! Reporting: atomic file output (raw bytes, JSON, CSV), plain-text tables,
//! plots (heat maps, line charts, plots of simulation runs) rendered to both
//! SVG and PNG, the files of runs, studies and the two-user study, and
//! `report.html`, one page per run or study folder (`html`).
//!
//! Every file is written atomically (temp file in the same folder, fsync,
//! rename), so a crash never leaves a half-written report behind.
//!
//! PNG text is rendered with an embedded font (see [`ensure_font`]), so plots
//! come out readable on machines without any system fonts.

mod adaptive_file;
mod atomic;
mod chart;
mod escalate_file;
mod heatmap;
pub mod html;
pub mod out_dir;
mod run_files;
pub mod run_plots;
mod study_files;
mod study_plots;
mod study_runs;
mod table;
mod two_user_files;
mod two_user_plots;
mod world_files;
mod world_plots;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use atomic::{write_atomic, write_csv_atomic, write_json_atomic};
pub use chart::{line_chart, Series};
pub use heatmap::{heatmap, Heatmap};
pub use html::{write_report, FolderKind};
pub use run_files::{write_run, EventsFile};
pub use run_plots::{network_timeseries, phase_bars, phase_timeline, recovery_cdf};
pub use study_files::{write_study_results, write_study_tables, StudyResults};
pub use study_plots::write_study_plots;
pub use study_runs::{
    clean_partial_runs, copy_missing_runs, read_finished_runs, read_run_folder, write_plan, write_run_folder,
    FinishedRun, Timing,
};
pub use table::text_table;
pub use two_user_files::{write_two_user_calibration, write_two_user_tables, TwoUserTables};
pub use two_user_plots::write_two_user_plots;
pub use world_files::write_world;
pub use world_plots::{world_causes, world_map};

/// Errors of the report module. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot plot {path}: {msg}")]
    Plot { path: PathBuf, msg: String },
    #[error("cannot serialise JSON for {path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("cannot write CSV {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("cannot read {path}: {msg}")]
    Read { path: PathBuf, msg: String },
    /// A run or study folder that cannot be reported on (e.g. unfinished
    /// runs, or neither kind); the message names the folder.
    #[error("{0}")]
    Folder(String),
}

/// The font family name under which the embedded font is registered.
pub(crate) const FONT: &str = "sans-serif";

/// DejaVu Sans, copied from Debian's fonts-dejavu-core. Its licence (Bitstream
/// Vera / public-domain changes) allows redistribution and embedding.
static DEJAVU_SANS: &[u8] = include_bytes!("DejaVuSans.ttf");

/// Registers the embedded font with plotters (once per process). Must be
/// called before any drawing: with the `ab_glyph` feature plotters knows no
/// fonts except the registered ones.
pub(crate) fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            use plotters::style::FontStyle;
            for style in [FontStyle::Normal, FontStyle::Bold] {
                plotters::style::register_font(FONT, style, DEJAVU_SANS)
                    .map_err(|_| "embedded font DejaVuSans.ttf is invalid".to_string())?;
            }
            Ok(())
        })
        .clone()
}

/// Something drawable onto any plotters backend; implemented by each plot kind.
pub(crate) trait Plot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Turns any displayable plotters error into a message.
pub(crate) fn perr<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draws `plot` once as SVG (kept in memory) and once as PNG (rendered into a
/// temp file beside the target), then puts `<stem>.svg` and `<stem>.png` in
/// place atomically. Returns the two paths written.
pub(crate) fn render_svg_png<P: Plot>(stem: &Path, size: (u32, u32), plot: &P) -> Result<Vec<PathBuf>, ReportError> {
    let svg_path = with_ext(stem, "svg");
    let png_path = with_ext(stem, "png");
    let plot_err = |path: &Path, msg: String| ReportError::Plot { path: path.to_path_buf(), msg };
    ensure_font().map_err(|m| plot_err(&svg_path, m))?;

    // SVG: render into a String, then write atomically.
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        plot.draw(&root).map_err(|m| plot_err(&svg_path, m))?;
        root.present().map_err(|e| plot_err(&svg_path, perr(e)))?;
    }
    write_atomic(&svg_path, svg.as_bytes())?;

    // PNG: plotters can only encode a PNG by writing a file (through `image`),
    // so render into a temp file in the target folder, fsync, then rename.
    let dir = atomic::parent_dir(&png_path);
    std::fs::create_dir_all(&dir).map_err(|e| atomic::io_err(&png_path, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".slfsim-tmp-").suffix(".png");
    // Results are for reading by others too (tempfile's default is 0600).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let tmp = builder.tempfile_in(&dir).map_err(|e| atomic::io_err(&png_path, e))?;
    {
        let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
        plot.draw(&root).map_err(|m| plot_err(&png_path, m))?;
        root.present().map_err(|e| plot_err(&png_path, perr(e)))?;
    }
    std::fs::File::open(tmp.path()).and_then(|f| f.sync_all()).map_err(|e| atomic::io_err(&png_path, e))?;
    tmp.persist(&png_path).map_err(|e| atomic::io_err(&png_path, e.error))?;
    atomic::sync_dir(&dir);
    Ok(vec![svg_path, png_path])
}

/// Shortens `s` with a middle ellipsis (names like "mnist_eps0.1_s2" differ
/// at both ends, so both are kept) until it fits `max_w` pixels.
pub(crate) fn fit_text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &str,
    st: &TextStyle,
    max_w: i32,
) -> Result<String, String> {
    let wid = |t: &str| root.estimate_text_size(t, st).map(|d| d.0 as i32).map_err(perr);
    if wid(s)? <= max_w {
        return Ok(s.to_string());
    }
    let chars: Vec<char> = s.chars().collect();
    let mut keep = chars.len();
    while keep > 2 {
        keep -= 1;
        let head = keep.div_ceil(2);
        let t: String =
            chars[..head].iter().chain(std::iter::once(&'…')).chain(&chars[chars.len() - (keep - head)..]).collect();
        if wid(&t)? <= max_w {
            return Ok(t);
        }
    }
    Ok("…".into())
}

/// `stem` with `.ext` appended (not replacing: "a/mnist_eps0.1" -> "a/mnist_eps0.1.svg").
fn with_ext(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests;
