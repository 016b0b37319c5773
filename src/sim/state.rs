//! The loop's view of users and pairs while a run is in progress.

use super::core::{ComputeQueue, SimTime, SmallChaCha8};
use super::detect::Monitor;
use super::outcome::Cause;

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
    /// The upload's size (split learning: the trained codebook after the steps).
    pub upload_bytes: u64,
    /// Bytes the network delivered for this service, down and up (every
    /// flow's, split learning's per-step hand-overs included).
    pub delivered: [u64; 2],
    /// From the cost model; the step count is known only once the download ends.
    pub flops_per_step: u64,
    pub flops: u64,
    pub steps: usize,
    /// Under the adaptive policy: the candidate run and its decision (the
    /// escalating policy: its attempt).
    pub candidate: Option<usize>,
    pub decision: Option<usize>,
    /// Split learning while its steps run (None before and after them).
    pub split: Option<SplitProgress>,
}

/// Where split learning's step chain stands: step `step` of `steps`, at
/// `stage` (0..8: TX forward, z up, RX forward, x̂ down, ∂L/∂x̂ up, RX
/// backward, ∂L/∂z down, TX backward; `split_service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SplitProgress {
    pub step: u32,
    pub steps: u32,
    pub stage: u8,
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
    /// Boxed: most pairs are not being served, and a pair stays small.
    pub serving: Option<Box<Serving>>,
    pub monitor: Option<Monitor>,
    /// Message times and test messages (`ChaCha8Rng`'s stream, smaller state).
    pub rng: SmallChaCha8,
    /// Both users present.
    pub active: bool,
    pub acc: f64,
    pub mse: f64,
    pub confidence: f64,
    pub misaligned: bool,
}

/// A misalignment episode as the loop keeps it: indices and ns, no names.
/// `outcome::EpisodeRecord` (names, seconds) is made from it at the end.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Episode {
    pub pair: usize,
    /// 0, 1, ... per pair.
    pub episode: usize,
    pub cause: Cause,
    pub onset: SimTime,
    pub detected: Option<SimTime>,
    pub download_start: Option<SimTime>,
    pub download_end: Option<SimTime>,
    pub finetune_start: Option<SimTime>,
    pub finetune_end: Option<SimTime>,
    pub upload_start: Option<SimTime>,
    pub upload_end: Option<SimTime>,
    pub aligned: Option<SimTime>,
    /// (accuracy, MSE, mean confidence) of the link before, and after once aligned.
    pub before: (f64, f64, f64),
    pub after: Option<(f64, f64, f64)>,
    pub download_bytes: u64,
    pub upload_bytes: u64,
    pub finetune_flops: u64,
    pub steps: usize,
    pub job: Option<usize>,
    pub restarts: usize,
    /// Ended unaligned (the pair stopped talking, or its channel came back).
    pub ended: Option<SimTime>,
}

/// What the loop's state costs, measured at the end of a run from the
/// structures' sizes and heap capacities: per user (its `UserState`, its
/// service queue, its index into `pairs_of`) and per pair (its `PairState`
/// with the monitor's window and any alignment being served, its two
/// entries in `pairs_of`, its two routes, its physical-world flags). Shared structures (the network's
/// links and flows, the event queue, the episodes) are not in either.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StateBytes {
    pub users: usize,
    pub pairs: usize,
    pub per_user: f64,
    pub per_pair: f64,
}

/// Each user's pairs (as TX or RX) in pair order, back to back: returns
/// (`at`, `of`) with user u's pairs at `of[at[u]..at[u + 1]]`.
pub(super) fn pairs_by_user(users: usize, pairs: impl Iterator<Item = (usize, usize)> + Clone) -> (Vec<u32>, Vec<u32>) {
    let mut at = vec![0u32; users + 1];
    for (tx, rx) in pairs.clone() {
        at[tx + 1] += 1;
        at[rx + 1] += 1;
    }
    for u in 0..users {
        at[u + 1] += at[u];
    }
    let mut next = at.clone();
    let mut of = vec![0u32; at[users] as usize];
    for (i, (tx, rx)) in pairs.enumerate() {
        for u in [tx, rx] {
            of[next[u] as usize] = i as u32;
            next[u] += 1;
        }
    }
    (at, of)
}
