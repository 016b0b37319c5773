//! Plots of simulation runs: recovery-time CDFs, per-episode phase
//! timelines, the network's state over time, and mean time per phase.
//! One file per plot; `style` holds the look they share and `rows` the
//! frame of the two row plots. Each is written as `<stem>.svg` and
//! `<stem>.png` via `render_svg_png`.

mod cdf;
mod network;
mod phases;
mod rows;
mod style;
mod timeline;

pub use cdf::recovery_cdf;
pub use network::network_timeseries;
pub use phases::phase_bars;
pub use timeline::phase_timeline;

#[cfg(test)]
mod tests;
