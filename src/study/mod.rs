//! Studies: many runs of lower layers, summarised.
//! - `two_user`: the paper's two-user study (one TX, one RX, SLF over ℓ = 0..L, replicate pairs).
//! - `sweep`: study files (a base scenario, axes varied by field path,
//!   replications), expanded into validated runs; sharding.
//! - `results`: per-run metrics and per-point statistics (mean, sd, 95% CI).

pub mod results;
mod stats;
pub mod sweep;
mod two_user;

pub use stats::{mean_std, Spread};
pub use two_user::{calibration, run_two_user, summarise, StudyError, SummaryRow, TwoUserRow};
