//! The paper's two-user study: for each (TX, RX) pair of a kind of
//! dissimilarity (channel, data), align with SLF at every ℓ and baselines,
//! over several replicate pairs (different transceiver seeds and alignment
//! seeds), and summarise the spread.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::stats::{mean_std, Spread};
use crate::align::cost::CostParams;
use crate::align::{align, AlignInputs, AlignResult, Budget, Method};
use crate::scenario::{AdaptiveTarget, PolicyMethod, TwoUserConfig};
use crate::sim::adaptive::{FileCalibration, KindKey};
use crate::transceiver::{load_checkpoint, local_data, test_batch, CheckpointError, Profile, TrainError};

/// One (pair, method) alignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoUserRow {
    pub study: String,
    /// Index of the pair within its study (the replicate).
    pub replicate: usize,
    pub result: AlignResult,
}

#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error("two_user.pairs[{index}]: no profile named {name:?}")]
    UnknownProfile { index: usize, name: String },
}

/// Runs every pair with `none` and every configured method. The alignment
/// seed of replicate r is `seed + r`, so replicates differ in both the
/// transceivers (their profiles' seeds) and the fine-tuning streams.
#[allow(clippy::too_many_arguments)]
pub fn run_two_user(
    cfg: &TwoUserConfig,
    profiles: &[Profile],
    models_dir: &Path,
    data_dir: &Path,
    test_images: usize,
    budget: &Budget,
    cost: &CostParams,
    seed: u64,
    mut progress: impl FnMut(usize, usize, &str),
) -> Result<Vec<TwoUserRow>, StudyError> {
    let find = |index: usize, name: &str| {
        profiles.iter().find(|p| p.name == name).ok_or_else(|| StudyError::UnknownProfile { index, name: name.into() })
    };
    let mut methods = vec![Method::None];
    methods.extend(cfg.methods.iter().filter(|m| **m != Method::None).cloned());
    let total = cfg.pairs.len() * methods.len();
    let mut rows = Vec::with_capacity(total);
    let mut replicate_of = std::collections::HashMap::<&str, usize>::new();
    for (i, pair) in cfg.pairs.iter().enumerate() {
        let replicate = {
            let r = replicate_of.entry(pair.study.as_str()).or_insert(0);
            *r += 1;
            *r - 1
        };
        let (ptx, prx) = (find(i, &pair.tx)?, find(i, &pair.rx)?);
        let (tx, _) = load_checkpoint(models_dir, ptx)?;
        let (rx, _) = load_checkpoint(models_dir, prx)?;
        let (local, _, _) = local_data(ptx, data_dir)?;
        let test = test_batch(ptx, data_dir, test_images)?;
        let inputs = AlignInputs { local_images: &local, test: &test, data_dir };
        for m in &methods {
            progress(rows.len(), total, &format!("{} {}", pair.study, m.label()));
            let (result, _) = align(&tx, &rx, m, budget, cost, &inputs, seed + replicate as u64)?;
            tracing::info!(study = %pair.study, tx = %pair.tx, rx = %pair.rx, method = %result.method,
                before = result.headline_accuracy(&result.before), after = result.headline_accuracy(&result.after), "aligned");
            rows.push(TwoUserRow { study: pair.study.clone(), replicate, result });
        }
    }
    progress(total, total, "done");
    Ok(rows)
}

/// Spread over replicates of one (study, method).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub study: String,
    pub method: String,
    pub freeze: Option<usize>,
    pub accuracy_before: Spread,
    pub accuracy_after: Spread,
    /// Headline accuracy gain, in points (after − before) × 100.
    pub gain_points: Spread,
    /// Share of the matched-link gap recovered, in per cent, over the
    /// replicates that have a gap (see `AlignResult::gap_recovered`).
    pub gap_recovered_percent: Spread,
    pub mse_before: Spread,
    pub mse_after: Spread,
    /// MSE reduction versus `none`, in per cent.
    pub mse_cut_percent: Spread,
    pub upload_bytes: Spread,
    pub download_bytes: Spread,
    pub finetune_flops: Spread,
    pub download_s: Spread,
    pub compute_s: Spread,
    pub upload_s: Spread,
    pub recovery_time_s: Spread,
}

/// Groups rows by (study, method) in first-seen order.
pub fn summarise(rows: &[TwoUserRow]) -> Vec<SummaryRow> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in rows {
        let k = (r.study.clone(), r.result.method.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|(study, method)| {
            let g: Vec<&AlignResult> =
                rows.iter().filter(|r| r.study == study && r.result.method == method).map(|r| &r.result).collect();
            let s = |f: &dyn Fn(&AlignResult) -> f64| mean_std(&g.iter().map(|r| f(r)).collect::<Vec<_>>());
            SummaryRow {
                study: study.clone(),
                method: method.clone(),
                freeze: g[0].freeze,
                accuracy_before: s(&|r| r.headline_accuracy(&r.before)),
                accuracy_after: s(&|r| r.headline_accuracy(&r.after)),
                gain_points: s(&|r| 100.0 * (r.headline_accuracy(&r.after) - r.headline_accuracy(&r.before))),
                gap_recovered_percent: mean_std(
                    &g.iter().filter_map(|r| r.gap_recovered).map(|x| 100.0 * x).collect::<Vec<_>>(),
                ),
                mse_before: s(&|r| r.before.mse),
                mse_after: s(&|r| r.after.mse),
                mse_cut_percent: s(&|r| 100.0 * (1.0 - r.after.mse / r.before.mse)),
                upload_bytes: s(&|r| r.upload_bytes as f64),
                download_bytes: s(&|r| r.download_bytes as f64),
                finetune_flops: s(&|r| r.finetune_flops as f64),
                download_s: s(&|r| r.download_s),
                compute_s: s(&|r| r.compute_s),
                upload_s: s(&|r| r.upload_s),
                recovery_time_s: s(&|r| r.recovery_time_s),
            }
        })
        .collect()
}

/// A calibration for the adaptive policy (`run --calibration`): the mean
/// headline accuracy after alignment per (kind of link, TX's data set, RX's
/// data set, method), over the rows whose method is one of the adaptive
/// policy's candidates for RX's decoder. The kind is the run's rule
/// ([`KindKey::between`]). Rows naming a profile not in `profiles` are left out.
pub fn calibration(rows: &[TwoUserRow], profiles: &[Profile]) -> FileCalibration {
    let find = |name: &str| profiles.iter().find(|p| p.name == name);
    let mut sums: BTreeMap<(KindKey, String), (f64, usize)> = BTreeMap::new();
    for r in rows {
        let (Some(tx), Some(rx)) = (find(&r.result.tx), find(&r.result.rx)) else { continue };
        let candidates =
            PolicyMethod::Adaptive { target: AdaptiveTarget::Accuracy(0.0) }.candidates(rx.model.decoder_layers());
        if !candidates.iter().any(|m| m.label() == r.result.method) {
            continue;
        }
        let key = KindKey::between((tx.data.dataset, tx.channel.epsilon), (rx.data.dataset, rx.channel.epsilon));
        let e = sums.entry((key, r.result.method.clone())).or_default();
        e.0 += r.result.headline_accuracy(&r.result.after);
        e.1 += 1;
    }
    sums.into_iter().map(|(k, (sum, n))| (k, sum / n as f64)).collect()
}
