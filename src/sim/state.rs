//! The loop's view of users and pairs while a run is in progress.

use rand_chacha::ChaCha8Rng;

use super::core::ComputeQueue;
use super::detect::Monitor;

pub(super) struct UserState {
    pub present: bool,
    /// Bumped on every change of what the user sends (ε, data).
    pub version: u64,
    pub epsilon: f64,
    /// The profile whose data set the user holds.
    pub data_profile: usize,
    pub compute: ComputeQueue,
}

/// An alignment being served.
pub(super) struct Serving {
    /// TX's version when the service started.
    pub version: u64,
    pub job: usize,
    pub download_bytes: u64,
    pub upload_bytes: u64,
    /// From the cost model; the step count is known only once the download ends.
    pub flops_per_step: u64,
    pub flops: u64,
    pub steps: usize,
}

pub(super) struct PairState {
    pub tx: usize,
    pub rx: usize,
    pub rate_hz: f64,
    /// TX's version when last aligned.
    pub aligned: Option<u64>,
    /// Episodes so far.
    pub episodes: usize,
    pub aligned_job: Option<usize>,
    pub open: Option<usize>,
    pub serving: Option<Serving>,
    pub monitor: Option<Monitor>,
    /// Message times and test messages.
    pub rng: ChaCha8Rng,
    /// Both users present.
    pub active: bool,
    pub acc: f64,
    pub mse: f64,
    pub confidence: f64,
    pub misaligned: bool,
}
