//! What a run produces: one record per misalignment episode of a (TX, RX)
//! pair, a time series of the network's state, and aggregates computed from
//! the episode records. Plain data; `report` turns it into files and plots.

use serde::{Deserialize, Serialize};

use super::detect::DetectionScore;
pub use super::physical_output::WorldSummary;
use crate::scenario::Fidelity;

/// What started a misalignment episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// TX and RX were trained apart and met at the start.
    Initial,
    /// One of them joined the network.
    Join,
    /// TX's channel ε changed.
    Channel,
    /// TX's data changed.
    Data,
    /// A monitor declaration while the link was truly aligned.
    FalseAlarm,
    /// TX handed over to a station that holds no aligned decoder for it.
    Handover,
}

impl Cause {
    /// The name used in `pairs.csv` and `events.jsonl` (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Initial => "initial",
            Cause::Join => "join",
            Cause::Channel => "channel",
            Cause::Data => "data",
            Cause::FalseAlarm => "false_alarm",
            Cause::Handover => "handover",
        }
    }
}

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
    pub cause: Cause,
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
    pub fidelity: Fidelity,
    /// The fine-tuning job (class) id; episodes with the same id share one run.
    pub job: Option<usize>,
    /// Changes that hit the pair while this episode was being served (the
    /// stale alignment was discarded and served again).
    pub restarts: usize,
    /// The episode ended unaligned because the pair stopped talking (TX left
    /// or moved to another cell before it was served) or its channel came
    /// back within tolerance (physical worlds only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_s: Option<f64>,
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
    /// Episodes that ended unaligned (`EpisodeRecord::ended_s`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub abandoned: usize,
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

/// Everything `summary.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub scenario: String,
    pub seed: u64,
    pub fidelity: Fidelity,
    pub method: String,
    pub detection: String,
    pub horizon_s: f64,
    pub users: Vec<UserRecord>,
    pub pairs: Vec<PairRecord>,
    pub episodes: Vec<EpisodeRecord>,
    pub aggregate: Aggregate,
    /// Radio, cells, churn (physical worlds only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<WorldSummary>,
    /// The escalating policy's attempts in counts (`escalate` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<super::escalate::EscalationSummary>,
}

/// What the event loop counted itself; everything else in `Aggregate`
/// comes from the episode records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunCounts {
    pub pairs: usize,
    pub time_avg_accuracy: f64,
    pub fine_tunings: usize,
    pub evaluations: usize,
    pub events: usize,
    /// Declarations so far; episodes never declared are added as missed here.
    pub detection: DetectionScore,
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Mean seconds per phase over the recovered episodes.
fn phase_means(episodes: &[EpisodeRecord]) -> Vec<PhaseMean> {
    let all: Vec<_> = episodes.iter().filter_map(|e| e.phases()).collect();
    let Some(first) = all.first() else { return Vec::new() };
    first
        .iter()
        .enumerate()
        .map(|(k, (name, _))| {
            let v: Vec<f64> = all.iter().map(|ph| ph[k].1).collect();
            PhaseMean { phase: name.to_string(), mean_s: mean(&v).unwrap_or(0.0) }
        })
        .collect()
}

/// The run's aggregates, from its episode records and the loop's counts.
pub fn aggregate(episodes: &[EpisodeRecord], counts: RunCounts) -> Aggregate {
    let mut detection = counts.detection;
    for _ in episodes.iter().filter(|e| e.detected_s.is_none() && e.ended_s.is_none()) {
        detection.missed_episode();
    }
    let rec: Vec<f64> = episodes.iter().filter_map(|e| e.recovery_time_s).collect();
    let before: Vec<f64> = episodes.iter().map(|e| e.accuracy_before).collect();
    let after: Vec<f64> = episodes.iter().filter_map(|e| e.accuracy_after).collect();
    let mse_before: Vec<f64> = episodes.iter().map(|e| e.mse_before).collect();
    let mse_after: Vec<f64> = episodes.iter().filter_map(|e| e.mse_after).collect();
    let false_alarm = |e: &&EpisodeRecord| e.cause == Cause::FalseAlarm;
    Aggregate {
        pairs: counts.pairs,
        episodes: episodes.len(),
        recovered: rec.len(),
        unrecovered: episodes
            .iter()
            .filter(|e| e.aligned_s.is_none() && !false_alarm(e) && e.ended_s.is_none())
            .count(),
        false_alarm_episodes: episodes.iter().filter(false_alarm).count(),
        recovery_mean_s: mean(&rec),
        recovery_median_s: quantile(&rec, 0.5),
        recovery_p95_s: quantile(&rec, 0.95),
        recovery_max_s: rec.iter().copied().reduce(f64::max),
        makespan_s: episodes.iter().filter_map(|e| e.aligned_s).reduce(f64::max),
        total_bytes: episodes.iter().map(|e| e.download_bytes + e.upload_bytes).sum(),
        total_flops: episodes.iter().map(|e| e.finetune_flops).sum(),
        time_avg_accuracy: counts.time_avg_accuracy,
        accuracy_before_mean: mean(&before).unwrap_or(f64::NAN),
        accuracy_after_mean: mean(&after),
        mse_before_mean: mean(&mse_before).unwrap_or(f64::NAN),
        mse_after_mean: mean(&mse_after),
        phases: phase_means(episodes),
        fine_tunings: counts.fine_tunings,
        evaluations: counts.evaluations,
        events: counts.events,
        detection,
        abandoned: episodes.iter().filter(|e| e.ended_s.is_some()).count(),
    }
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

    fn episode(cause: Cause, onset: f64, detected: Option<f64>, aligned: Option<f64>) -> EpisodeRecord {
        EpisodeRecord {
            pair: 0,
            tx: "tx".into(),
            rx: "rx".into(),
            tx_profile: "a".into(),
            rx_profile: "b".into(),
            episode: 0,
            cause,
            onset_s: onset,
            detected_s: detected,
            download_start_s: detected,
            download_end_s: detected.map(|t| t + 1.0),
            finetune_start_s: detected.map(|t| t + 1.0),
            finetune_end_s: detected.map(|t| t + 3.0),
            upload_start_s: detected.map(|t| t + 3.0),
            upload_end_s: aligned,
            aligned_s: aligned,
            recovery_time_s: aligned.map(|t| t - onset),
            accuracy_before: 0.1,
            mse_before: 0.2,
            accuracy_after: aligned.map(|_| 0.9),
            mse_after: aligned.map(|_| 0.01),
            confidence_before: 0.3,
            confidence_after: aligned.map(|_| 0.95),
            download_bytes: 100,
            upload_bytes: 10,
            finetune_flops: 1000,
            steps: 5,
            fidelity: Fidelity::Exact,
            job: None,
            restarts: 0,
            ended_s: None,
        }
    }

    #[test]
    fn aggregates_come_from_the_episode_records() {
        // Recovered in 4 s and 8 s; a false alarm and an undetected episode
        // unrecovered at the horizon.
        let eps = [
            episode(Cause::Initial, 0.0, Some(1.0), Some(4.0)),
            episode(Cause::Channel, 2.0, Some(3.0), Some(10.0)),
            episode(Cause::FalseAlarm, 5.0, Some(5.0), None),
            episode(Cause::Join, 6.0, None, None),
        ];
        let counts = RunCounts {
            pairs: 3,
            time_avg_accuracy: 0.5,
            fine_tunings: 2,
            evaluations: 1,
            events: 77,
            detection: DetectionScore { true_detections: 2, false_alarms: 1, missed: 0 },
        };
        let a = aggregate(&eps, counts);
        assert_eq!((a.episodes, a.recovered, a.unrecovered, a.false_alarm_episodes), (4, 2, 1, 1));
        assert_eq!((a.recovery_mean_s, a.recovery_max_s, a.makespan_s), (Some(6.0), Some(8.0), Some(10.0)));
        assert_eq!((a.total_bytes, a.total_flops), (440, 4000));
        assert_eq!(a.detection, DetectionScore { true_detections: 2, false_alarms: 1, missed: 1 });
        assert_eq!(a.accuracy_after_mean, Some(0.9));
        // Phases of the two recovered: detection 1 s each, download 1 s, ...
        let names: Vec<&str> = a.phases.iter().map(|p| p.phase.as_str()).collect();
        assert_eq!(names, ["detection", "queue", "download", "compute wait", "fine-tune", "upload"]);
        assert_eq!(a.phases[0].mean_s, 1.0);
        // Upload: aligned - fine-tune end = 4 - 4 and 10 - 6.
        assert_eq!(a.phases[5].mean_s, (0.0 + 4.0) / 2.0);
        assert_eq!((a.pairs, a.events, a.fine_tunings, a.evaluations), (3, 77, 2, 1));
    }

    #[test]
    fn causes_serialise_as_their_names() {
        for c in [Cause::Initial, Cause::Join, Cause::Channel, Cause::Data, Cause::FalseAlarm, Cause::Handover] {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.as_str()));
        }
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[1.0, 2.0], 0.5), Some(1.5));
        assert_eq!(quantile(&[0.0, 10.0, 20.0, 30.0, 40.0], 0.95), Some(38.0));
        assert_eq!(quantile(&[5.0], 0.95), Some(5.0));
    }
}
