//! Running an alignment: TX i fine-tunes against RX j's decoder φ_j on its own
//! local data and channel ε_i, measured before and after by two judges.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{COptimizer, Tensor};

use super::cost::{method_cost, CostParams};
use super::method::Method;
use crate::seed::stream;
use crate::transceiver::{adam, evaluate_link_judged, train_profile, vq_step, TestBatch, TrainError, Transceiver};

/// How long TX fine-tunes: a step budget, optionally cut short once a target
/// is met at one of the checks made every `eval_every` steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budget {
    pub steps: usize,
    pub eval_every: usize,
    /// Stop once the headline judge's accuracy reaches this.
    pub target_accuracy: Option<f64>,
    /// Stop once the MSE falls to this.
    pub target_mse: Option<f64>,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Test images (the first n of TX's test split) behind each curve point.
    pub curve_images: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            steps: 600,
            eval_every: 50,
            target_accuracy: None,
            target_mse: None,
            batch_size: 64,
            learning_rate: 1e-3,
            curve_images: 500,
        }
    }
}

/// Which classifier a headline accuracy uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judge {
    /// RX's own classifier (the receiver-side task of the paper).
    Rx,
    /// A classifier of TX's data domain (did TX's meaning survive?).
    Tx,
}

/// A link judged both ways.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    pub accuracy_rx: f64,
    pub accuracy_tx: f64,
    pub mse: f64,
    pub psnr_db: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub step: usize,
    pub accuracy_rx: f64,
    pub accuracy_tx: f64,
    pub mse: f64,
}

/// The outcome of one alignment, with its costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignResult {
    pub tx: String,
    pub rx: String,
    pub method: String,
    /// ℓ, frozen decoder layers (null for `none`).
    pub freeze: Option<usize>,
    /// Fine-tuning steps actually run.
    pub steps: usize,
    /// The judge the headline accuracy uses: `rx` for pairs on one data set,
    /// `tx` across data sets (RX's classifier knows nothing of TX's classes).
    pub headline: Judge,
    pub before: Judged,
    pub after: Judged,
    pub download_bytes: u64,
    pub upload_bytes: u64,
    /// Split learning only: bytes each step sends up and down.
    pub per_step_up_bytes: u64,
    pub per_step_down_bytes: u64,
    pub flops_per_step: u64,
    pub finetune_flops: u64,
    pub download_s: f64,
    pub compute_s: f64,
    pub upload_s: f64,
    pub recovery_time_s: f64,
    pub curve: Vec<CurvePoint>,
}

impl AlignResult {
    pub fn headline_accuracy(&self, j: &Judged) -> f64 {
        match self.headline {
            Judge::Rx => j.accuracy_rx,
            Judge::Tx => j.accuracy_tx,
        }
    }
}

/// What TX holds for the fine-tuning: its local training images (never sent)
/// and held-out test images of its data set (for judging only).
pub struct AlignInputs<'a> {
    pub local_images: &'a Tensor,
    pub test: &'a TestBatch,
    /// For `retrain`, which reloads TX's data through the training code.
    pub data_dir: &'a Path,
}

/// The parameters that leave TX after an alignment, by name: the unfrozen
/// decoder layers and (if trained) the codebook. Nothing else is ever sent.
pub fn upload_payload(aligned: &Transceiver, method: &Method) -> Vec<(String, Tensor)> {
    let t = method.trainable(aligned.decoder.layers.len());
    let mut v = Vec::new();
    if t.codebook {
        v.push(("codebook".to_string(), aligned.codebook.weight.detach()));
    }
    for (i, l) in aligned.decoder.layers.iter().enumerate() {
        if t.decoder[i] {
            v.push((format!("decoder.{i}.weight"), l.weight.detach()));
            v.push((format!("decoder.{i}.bias"), l.bias.detach()));
        }
    }
    v
}

fn judge(
    link_tx: &Transceiver,
    link_rx: &Transceiver,
    tx: &Transceiver,
    rx: &Transceiver,
    test: &TestBatch,
    seed: u64,
) -> Judged {
    // The same channel noise for every judgement of a pair: before/after differ by the models only.
    let key = [tx.name(), rx.name()];
    let judges = [&rx.classifier, &tx.classifier];
    let (m, acc) = evaluate_link_judged(link_tx, link_rx, &judges, test, &mut stream(seed, "align-eval", &key));
    Judged { accuracy_rx: acc[0], accuracy_tx: acc[1], mse: m.mse, psnr_db: m.psnr_db }
}

fn first(test: &TestBatch, n: usize) -> TestBatch {
    let n = (n as i64).min(test.len());
    TestBatch { images: test.images.narrow(0, 0, n), labels: test.labels.narrow(0, 0, n) }
}

/// TX's transceiver as it starts an alignment: its own encoder θ_i with a copy
/// of RX's codebook and decoder φ_j, frozen where `method` says.
fn assemble(tx: &Transceiver, rx: &Transceiver, method: &Method) -> Transceiver {
    let mut m = rx.deep_clone();
    m.profile = tx.profile.clone();
    m.encoder = tx.encoder.deep_clone();
    let t = method.trainable(m.decoder.layers.len());
    if !t.codebook {
        let _ = m.codebook.weight.set_requires_grad(false);
    }
    for (l, &train) in m.decoder.layers.iter().zip(&t.decoder) {
        if !train {
            let _ = l.weight.set_requires_grad(false);
            let _ = l.bias.set_requires_grad(false);
        }
    }
    m
}

/// TX's side of an SLF exchange, ready to step: the assembled transceiver
/// (θ_i with RX's codebook and φ_j, frozen per `method`) and an Adam optimiser
/// over exactly its trainable parameters. Each `vq_step` on it is one
/// fine-tuning step on TX's data through TX's channel.
pub fn start_finetune(
    tx: &Transceiver,
    rx: &Transceiver,
    method: &Method,
    lr: f64,
) -> Result<(Transceiver, COptimizer), tch::TchError> {
    let m = assemble(tx, rx, method);
    let t = method.trainable(m.decoder.layers.len());
    let mut params: Vec<&Tensor> = m.encoder.layers.iter().flat_map(|l| l.params()).collect();
    if t.codebook {
        params.push(&m.codebook.weight);
    }
    for (l, &train) in m.decoder.layers.iter().zip(&t.decoder) {
        if train {
            params.extend(l.params());
        }
    }
    let opt = adam(&params, lr)?;
    Ok((m, opt))
}

/// Aligns TX with RX by `method`. Returns the measured result and the aligned
/// transceiver (TX's encoder θ_i' with the codebook and decoder φ_ij RX now
/// uses for TX's messages). Deterministic for a given seed and thread count;
/// `split-learning` and `slf` with ℓ = 0 share their random streams, so they
/// learn identically.
pub fn align(
    tx: &Transceiver,
    rx: &Transceiver,
    method: &Method,
    budget: &Budget,
    cost: &CostParams,
    inputs: &AlignInputs,
    seed: u64,
) -> Result<(AlignResult, Transceiver), TrainError> {
    let big_l = rx.decoder.layers.len();
    method.validate(big_l).map_err(|msg| TrainError::Config { profile: tx.name().into(), msg })?;
    let headline = if tx.profile.data.dataset == rx.profile.data.dataset { Judge::Rx } else { Judge::Tx };
    let before = judge(tx, rx, tx, rx, inputs.test, seed);
    let curve_set = first(inputs.test, budget.curve_images);
    let key = [tx.name(), rx.name()];

    let (aligned, steps, curve) = match method {
        Method::None => (assemble(tx, rx, method), 0, Vec::new()),
        Method::Retrain => {
            // A fresh pair trained at TX on TX's data and channel.
            let mut p = tx.profile.clone();
            p.seed = seed ^ 0x5eed_0000_0000_0000 ^ tx.profile.seed;
            p.train.steps = budget.steps;
            p.train.classifier_steps = 0;
            p.train.batch_size = budget.batch_size;
            p.train.eval_images = budget.curve_images.max(1);
            let (mut fresh, _) = train_profile(&p, inputs.data_dir, &mut |_, _, _| {})?;
            fresh.profile = tx.profile.clone();
            fresh.classifier = rx.classifier.deep_clone();
            let j = judge(&fresh, &fresh, tx, rx, &curve_set, seed);
            let point =
                CurvePoint { step: budget.steps, accuracy_rx: j.accuracy_rx, accuracy_tx: j.accuracy_tx, mse: j.mse };
            (fresh, budget.steps, vec![point])
        }
        _ => {
            let (m, opt) = start_finetune(tx, rx, method, budget.learning_rate)?;
            let mut brng = stream(seed, "align-batches", &key);
            let mut nrng = stream(seed, "align-channel", &key);
            let n = inputs.local_images.size()[0];
            let mut curve = Vec::new();
            let mut steps = 0;
            let check = |m: &Transceiver, step: usize, curve: &mut Vec<CurvePoint>| {
                let j = judge(m, m, tx, rx, &curve_set, seed);
                curve.push(CurvePoint { step, accuracy_rx: j.accuracy_rx, accuracy_tx: j.accuracy_tx, mse: j.mse });
                let acc = if headline == Judge::Rx { j.accuracy_rx } else { j.accuracy_tx };
                budget.target_accuracy.is_some_and(|a| acc >= a) || budget.target_mse.is_some_and(|e| j.mse <= e)
            };
            // A target already met before any step costs nothing.
            let steps_allowed = if check(&m, 0, &mut curve) { 0 } else { budget.steps };
            for step in 1..=steps_allowed {
                let idx: Vec<i64> = (0..budget.batch_size).map(|_| rand::Rng::random_range(&mut brng, 0..n)).collect();
                let x = inputs.local_images.index_select(0, &Tensor::from_slice(&idx));
                vq_step(&m, &x, &opt, &mut nrng)?;
                steps = step;
                if budget.eval_every > 0
                    && (step % budget.eval_every == 0 || step == budget.steps)
                    && check(&m, step, &mut curve)
                {
                    break;
                }
            }
            (m, steps, curve)
        }
    };
    let after =
        if matches!(method, Method::None) { before } else { judge(&aligned, &aligned, tx, rx, inputs.test, seed) };

    let c = method_cost(&tx.profile.model, tx.profile.image_channels(), method, steps, budget.batch_size, cost);
    let result = AlignResult {
        tx: tx.name().into(),
        rx: rx.name().into(),
        method: method.label(),
        freeze: method.freeze(big_l),
        steps,
        headline,
        before,
        after,
        download_bytes: c.download_bytes,
        upload_bytes: c.upload_bytes,
        per_step_up_bytes: c.per_step_up_bytes,
        per_step_down_bytes: c.per_step_down_bytes,
        flops_per_step: c.flops_per_step,
        finetune_flops: c.flops_per_step * steps as u64,
        download_s: c.download_s,
        compute_s: c.compute_s,
        upload_s: c.upload_s,
        recovery_time_s: c.download_s + c.compute_s + c.upload_s,
        curve,
    };
    Ok((result, aligned))
}
