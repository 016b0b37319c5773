//! Studies: many runs of lower layers, summarised. For now the paper's
//! two-user study (one TX, one RX, SLF over ℓ = 0..L, several replicates).

mod stats;
mod two_user;

pub use stats::{mean_std, Spread};
pub use two_user::{run_two_user, summarise, StudyError, SummaryRow, TwoUserRow};
