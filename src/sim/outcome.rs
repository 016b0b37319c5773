//! What a run produces: one record per misalignment episode of a (TX, RX)
//! pair, a time series of the network's state, and aggregates over both.
//! Plain data; `report` turns it into files and plots.

use serde::{Deserialize, Serialize};

use super::detect::DetectionScore;

/// One misalignment episode of one (TX, RX) pair, from onset to the aligned
/// decoder being installed at RX. Times are simulated seconds; a phase that
/// never happened (horizon reached first) is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// Index of the pair (order of `RunSummary::pairs` of first episodes).
    pub pair: usize,
    pub tx: String,
    pub rx: String,
    pub tx_profile: String,
    pub rx_profile: String,
    /// 0, 1, ... per pair.
    pub episode: usize,
    /// What started it: `initial`, `join`, `channel`, `data`, or
    /// `false_alarm` (a monitor declaration while truly aligned).
    pub cause: String,
    pub onset_s: f64,
    pub detected_s: Option<f64>,
    pub download_start_s: Option<f64>,
    pub download_end_s: Option<f64>,
    pub finetune_start_s: Option<f64>,
    pub finetune_end_s: Option<f64>,
    pub upload_start_s: Option<f64>,
    pub upload_end_s: Option<f64>,
    /// The aligned decoder φ_ij is in use at RX.
    pub aligned_s: Option<f64>,
    /// `aligned_s - onset_s`.
    pub recovery_time_s: Option<f64>,
    /// Headline accuracy and MSE of the link before and after (after: None
    /// until aligned). The judge is RX's classifier on one data set, TX's
    /// across data sets (see `align::Judge`).
    pub accuracy_before: f64,
    pub mse_before: f64,
    pub accuracy_after: Option<f64>,
    pub mse_after: Option<f64>,
    /// Mean confidence (max softmax) of RX's classifier on the decoded
    /// messages, before and after: what a `monitor` threshold is compared with.
    pub confidence_before: f64,
    pub confidence_after: Option<f64>,
    pub download_bytes: u64,
    pub upload_bytes: u64,
    pub finetune_flops: u64,
    pub steps: usize,
    /// Which fine-tuning produced `*_after`: `exact` (this episode's own) or
    /// `memoized` (shared by every episode of the same class).
    pub fidelity: String,
    /// The fine-tuning job (class) id; episodes with the same id share one run.
    pub job: Option<usize>,
    /// Changes that hit the pair while this episode was being served (the
    /// stale alignment was discarded and served again).
    pub restarts: usize,
}

impl EpisodeRecord {
    /// The phases of a recovered episode in order, as (name, seconds):
    /// detection, queue (waiting for RX), download, compute wait (TX busy),
    /// fine-tune, upload, install (upload end to use).
    pub fn phases(&self) -> Option<[(&'static str, f64); 6]> {
        let d = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        Some([
            ("detection", self.detected_s? - self.onset_s),
            ("queue", d(self.detected_s, self.download_start_s)?),
            ("download", d(self.download_start_s, self.download_end_s)?),
            ("compute wait", d(self.download_end_s, self.finetune_start_s)?),
            ("fine-tune", d(self.finetune_start_s, self.finetune_end_s)?),
            ("upload", d(self.finetune_end_s, self.aligned_s)?),
        ])
    }
}

/// A user of the expanded population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: String,
    pub group: String,
    pub profile: String,
    pub flops_per_s: f64,
    pub join_s: f64,
}

/// A (TX, RX) pair that exchanges messages, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairRecord {
    pub pair: usize,
    pub tx: String,
    pub rx: String,
    pub rate_hz: f64,
    /// Links on the TX -> RX route.
    pub hops: usize,
    pub episodes: usize,
    /// Both present and aligned at the horizon.
    pub aligned_at_end: bool,
    pub accuracy_end: Option<f64>,
    pub mse_end: Option<f64>,
    /// Mean confidence of RX's classifier on the link at the horizon.
    pub confidence_end: Option<f64>,
}

/// The network at one sample time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimePoint {
    pub t_s: f64,
    /// Mean headline accuracy over pairs whose users are both present.
    pub network_accuracy: f64,
    pub mean_mse: f64,
    pub active_pairs: usize,
    /// Pairs truly misaligned (not aligned since either user last changed).
    pub misaligned_pairs: usize,
    /// Transfers in flight and fine-tunings running.
    pub active_flows: usize,
    pub running_finetunes: usize,
}

/// Mean seconds per phase over recovered episodes (names as in `EpisodeRecord::phases`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseMean {
    pub phase: String,
    pub mean_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub pairs: usize,
    pub episodes: usize,
    pub recovered: usize,
    /// Truly misaligned episodes not yet recovered at the horizon.
    pub unrecovered: usize,
    /// Episodes opened by a monitor declaration on a truly aligned link
    /// (counted in `episodes`, served like any other).
    pub false_alarm_episodes: usize,
    pub recovery_mean_s: Option<f64>,
    pub recovery_median_s: Option<f64>,
    pub recovery_p95_s: Option<f64>,
    pub recovery_max_s: Option<f64>,
    /// Time of the last alignment installed.
    pub makespan_s: Option<f64>,
    pub total_bytes: u64,
    pub total_flops: u64,
    /// Integral of the network accuracy over [0, horizon] / horizon.
    pub time_avg_accuracy: f64,
    pub accuracy_before_mean: f64,
    pub accuracy_after_mean: Option<f64>,
    pub mse_before_mean: f64,
    pub mse_after_mean: Option<f64>,
    pub phases: Vec<PhaseMean>,
    /// Real LibTorch fine-tunings run (exact: one per served episode;
    /// memoized: one per class).
    pub fine_tunings: usize,
    /// Link evaluations run (one per distinct misaligned link state).
    pub evaluations: usize,
    pub events: usize,
    pub detection: DetectionScore,
}

/// Everything `summary.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub scenario: String,
    pub seed: u64,
    pub fidelity: String,
    pub method: String,
    pub detection: String,
    pub horizon_s: f64,
    pub users: Vec<UserRecord>,
    pub pairs: Vec<PairRecord>,
    pub episodes: Vec<EpisodeRecord>,
    pub aggregate: Aggregate,
}

/// The q-quantile (0..=1) of `v` by linear interpolation; None when empty.
pub fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(s[lo] + (s[hi] - s[lo]) * (pos - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[1.0, 2.0], 0.5), Some(1.5));
        assert_eq!(quantile(&[0.0, 10.0, 20.0, 30.0, 40.0], 0.95), Some(38.0));
        assert_eq!(quantile(&[5.0], 0.95), Some(5.0));
    }
}
