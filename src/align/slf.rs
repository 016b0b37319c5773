//! Running an alignment: TX i fine-tunes against RX j's decoder φ_j on its own
//! local data and channel ε_i, measured before and after by two judges.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{COptimizer, Tensor};

use rand_chacha::ChaCha8Rng;

use super::cost::{method_cost, CostParams};
use super::method::Method;
use super::payload::{download_payload, install, payload_bytes, upload_payload, Payload};
use super::pilot::{pilot_exchange, pilot_images};
use super::split::{split_step, CutTraffic};
use crate::seed::stream;
use crate::transceiver::{
    adam, decode_images, evaluate_link_judged, train_profile, vq_step, TestBatch, TrainError, Transceiver,
};

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
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
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
    /// TX's own (matched) link on the same test images and channel noise:
    /// what a perfect alignment could reach.
    #[serde(default)]
    pub matched: Judged,
    /// Share of the matched-link gap recovered, on the headline accuracy:
    /// (after − before) / (matched − before); null when matched ≤ before.
    #[serde(default)]
    pub gap_recovered: Option<f64>,
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

/// Share of the gap between `before` and `matched` that `after` recovers,
/// (after − before) / (matched − before); None when there is no gap.
pub fn gap_recovered(before: f64, after: f64, matched: f64) -> Option<f64> {
    let gap = matched - before;
    (gap > 1e-12).then(|| (after - before) / gap)
}

/// What TX holds for the fine-tuning: its local training images (never sent)
/// and held-out test images of its data set (for judging only).
pub struct AlignInputs<'a> {
    /// f32, or bytes from `local_images_bytes` (decoded per batch).
    pub local_images: &'a Tensor,
    pub test: &'a TestBatch,
    /// For `retrain`, which reloads TX's data through the training code,
    /// and the pilot aligners, which read their pilots from it.
    pub data_dir: &'a Path,
}

/// The two ends of a finished alignment and what crossed between them.
#[derive(Debug)]
pub struct Aligned {
    /// TX after the exchange: its encoder θ_i' and the codebook it quantises with.
    pub tx: Transceiver,
    /// RX after installing `upload`: the codebook and decoder φ_ij it reads
    /// TX's messages with.
    pub rx: Transceiver,
    /// The tensors that left TX at the end, as installed at RX.
    pub upload: Payload,
    /// Bytes handed over, counted on the tensors that crossed.
    pub handed: Handed,
}

/// Bytes handed over in one alignment, counted on what was sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Handed {
    /// RX -> TX before the fine-tuning (`download_payload`).
    pub download_bytes: u64,
    /// TX -> RX after it (`upload_payload`).
    pub upload_bytes: u64,
    /// Split learning's per-step hand-overs, summed over the steps run.
    pub cut: CutTraffic,
}

fn acc_of(headline: Judge, j: &Judged) -> f64 {
    match headline {
        Judge::Rx => j.accuracy_rx,
        Judge::Tx => j.accuracy_tx,
    }
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
    let judges = [&rx.classifier, &tx.classifier];
    let (m, acc) = evaluate_link_judged(link_tx, link_rx, &judges, test, &mut judge_stream(tx, rx, seed));
    Judged { accuracy_rx: acc[0], accuracy_tx: acc[1], mse: m.mse, psnr_db: m.psnr_db }
}

fn first(test: &TestBatch, n: usize) -> TestBatch {
    let n = (n as i64).min(test.len());
    TestBatch { images: test.images.narrow(0, 0, n), labels: test.labels.narrow(0, 0, n) }
}

/// TX's transceiver as it starts an alignment: its own encoder θ_i with what
/// RX handed it (`download`), frozen where `method` says.
fn assemble(tx: &Transceiver, download: &Payload, method: &Method) -> Result<Transceiver, TrainError> {
    let m = install(tx, download).map_err(|msg| TrainError::Config { profile: tx.name().into(), msg })?;
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
    Ok(m)
}

/// Encoder θ's parameters, the codebook if `codebook`, and the decoder layers flagged in `decoder`.
fn params<'a>(m: &'a Transceiver, codebook: bool, decoder: &[bool]) -> Vec<&'a Tensor> {
    let mut v: Vec<&Tensor> = m.encoder.layers.iter().flat_map(|l| l.params()).collect();
    if codebook {
        v.push(&m.codebook.weight);
    }
    for (l, &train) in m.decoder.layers.iter().zip(decoder) {
        if train {
            v.extend(l.params());
        }
    }
    v
}

/// TX's side of an SLF (or encoder-only) exchange, ready to step: θ_i with
/// the codebook and φ_j RX handed over, frozen per `method`, and an Adam
/// optimiser over exactly its trainable parameters. Each `vq_step` on it is
/// one fine-tuning step on TX's data through TX's channel.
pub fn start_finetune(
    tx: &Transceiver,
    rx: &Transceiver,
    method: &Method,
    lr: f64,
) -> Result<(Transceiver, COptimizer), TrainError> {
    start_from(tx, &download_payload(rx, method), method, lr)
}

fn start_from(
    tx: &Transceiver,
    download: &Payload,
    method: &Method,
    lr: f64,
) -> Result<(Transceiver, COptimizer), TrainError> {
    let m = assemble(tx, download, method)?;
    let t = method.trainable(m.decoder.layers.len());
    let opt = adam(&params(&m, t.codebook, &t.decoder), lr)?;
    Ok((m, opt))
}

/// Runs up to `budget.steps` steps on batches of TX's local images (one
/// seeded stream of batches, one of channel noise, shared by all methods so
/// they meet the same data), calling `check` at step 0 and every
/// `eval_every` steps; stops early when it returns true. Returns the steps run.
fn finetune(
    budget: &Budget,
    inputs: &AlignInputs,
    seed: u64,
    key: &[&str],
    mut step: impl FnMut(&Tensor, &mut ChaCha8Rng) -> Result<(), TrainError>,
    mut check: impl FnMut(usize) -> Result<bool, TrainError>,
) -> Result<usize, TrainError> {
    let mut brng = stream(seed, "align-batches", key);
    let mut nrng = stream(seed, "align-channel", key);
    let n = inputs.local_images.size()[0];
    // A target already met before any step costs nothing.
    let steps_allowed = if check(0)? { 0 } else { budget.steps };
    let mut steps = 0;
    for s in 1..=steps_allowed {
        let idx: Vec<i64> = (0..budget.batch_size).map(|_| rand::Rng::random_range(&mut brng, 0..n)).collect();
        step(&decode_images(&inputs.local_images.index_select(0, &Tensor::from_slice(&idx))), &mut nrng)?;
        steps = s;
        if budget.eval_every > 0 && (s % budget.eval_every == 0 || s == budget.steps) && check(s)? {
            break;
        }
    }
    Ok(steps)
}

/// Aligns TX with RX by `method`. Returns the measured result and both ends
/// as they come out of the exchange: RX's side is assembled from the tensors
/// TX uploaded (`upload_payload`), and the link after alignment is judged
/// from TX's side to RX's. Deterministic for a given seed and thread count;
/// `split-learning` and `slf` with ℓ = 0 share their random streams, so they
/// learn alike (up to float rounding: split learning sums its gradients in
/// another order).
pub fn align(
    tx: &Transceiver,
    rx: &Transceiver,
    method: &Method,
    budget: &Budget,
    cost: &CostParams,
    inputs: &AlignInputs,
    seed: u64,
) -> Result<(AlignResult, Aligned), TrainError> {
    let big_l = rx.decoder.layers.len();
    method.validate(big_l).map_err(|msg| TrainError::Config { profile: tx.name().into(), msg })?;
    let headline = headline_judge(tx, rx);
    let before = judge(tx, rx, tx, rx, inputs.test, seed);
    let matched = judge(tx, tx, tx, rx, inputs.test, seed);
    let ex = exchange(tx, rx, method, budget, inputs, seed, true)?;
    let (aligned, steps, curve) = (ex.aligned, ex.steps, ex.curve);
    let after = if matches!(method, Method::None) {
        before
    } else {
        judge(&aligned.tx, &aligned.rx, tx, rx, inputs.test, seed)
    };

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
        matched,
        gap_recovered: gap_recovered(acc_of(headline, &before), acc_of(headline, &after), acc_of(headline, &matched)),
        download_bytes: c.download_bytes,
        upload_bytes: c.upload_bytes,
        per_step_up_bytes: c.per_step_up_bytes,
        per_step_down_bytes: c.per_step_down_bytes,
        flops_per_step: c.flops_per_step,
        finetune_flops: c.total_flops(steps),
        download_s: c.download_s,
        compute_s: c.compute_s,
        upload_s: c.upload_s,
        recovery_time_s: c.download_s + c.compute_s + c.upload_s,
        curve,
    };
    Ok((result, aligned))
}

/// The judge whose accuracy is the headline of a TX -> RX link: RX's own
/// classifier on one data set, TX's across data sets.
pub fn headline_judge(tx: &Transceiver, rx: &Transceiver) -> Judge {
    if tx.profile.data.dataset == rx.profile.data.dataset {
        Judge::Rx
    } else {
        Judge::Tx
    }
}

/// The channel-noise stream `align` judges a TX -> RX link with (before,
/// after, matched), so a caller that judges the link itself meets the same noise.
pub fn judge_stream(tx: &Transceiver, rx: &Transceiver, seed: u64) -> ChaCha8Rng {
    stream(seed, "align-eval", &[tx.name(), rx.name()])
}

/// An exchange run, not judged: both ends after it, the steps run and the
/// curve (empty unless asked for or needed by a target).
pub struct Exchange {
    pub aligned: Aligned,
    pub steps: usize,
    pub curve: Vec<CurvePoint>,
}

/// The exchange of `align` alone: TX and RX as they come out of it, without
/// judging the link before, matched or after. The curve is judged only when
/// `record_curve` is set or the budget has a target (which needs the checks); the
/// checks draw from their own streams, so skipping them changes nothing else.
pub fn exchange(
    tx: &Transceiver,
    rx: &Transceiver,
    method: &Method,
    budget: &Budget,
    inputs: &AlignInputs,
    seed: u64,
    record_curve: bool,
) -> Result<Exchange, TrainError> {
    let big_l = rx.decoder.layers.len();
    let config = |msg: String| TrainError::Config { profile: tx.name().into(), msg };
    method.validate(big_l).map_err(config)?;
    let headline = headline_judge(tx, rx);
    let judging = record_curve || budget.target_accuracy.is_some() || budget.target_mse.is_some();
    let curve_set = first(inputs.test, budget.curve_images);
    let key = [tx.name(), rx.name()];
    // The link as it would be if TX uploaded now: RX installs what TX sends.
    let link_now = |tx_side: &Transceiver, rx_base: &Transceiver| -> Result<Transceiver, TrainError> {
        install(rx_base, &upload_payload(tx_side, method)).map_err(config)
    };
    let mut curve = Vec::new();
    let mut check = |tx_side: &Transceiver, rx_base: &Transceiver, step: usize| -> Result<bool, TrainError> {
        if !judging {
            return Ok(false);
        }
        let j = judge(tx_side, &link_now(tx_side, rx_base)?, tx, rx, &curve_set, seed);
        curve.push(CurvePoint { step, accuracy_rx: j.accuracy_rx, accuracy_tx: j.accuracy_tx, mse: j.mse });
        let acc = if headline == Judge::Rx { j.accuracy_rx } else { j.accuracy_tx };
        Ok(budget.target_accuracy.is_some_and(|a| acc >= a) || budget.target_mse.is_some_and(|e| j.mse <= e))
    };
    let mut handed = Handed::default();
    // What TX sent a pilot-based aligner (which uploads no trained parameters).
    let mut pilot_sent: Option<Payload> = None;

    // (TX's side, RX's side before the upload, steps run)
    let (tx_side, rx_base, steps) = match method {
        Method::None => (tx.deep_clone(), rx.deep_clone(), 0),
        Method::LatentMap { pilots, .. } | Method::IndexMap { pilots } => {
            let images = pilot_images(tx, inputs.data_dir, *pilots, inputs.test.len() as usize)?;
            let ex = pilot_exchange(tx, rx, method, &images, seed)?;
            handed.upload_bytes = ex.upload_bytes;
            pilot_sent = Some(ex.sent);
            check(tx, &ex.rx_view, 0)?;
            (tx.deep_clone(), ex.rx_view, 0)
        }
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
            let rx_base = rx.deep_clone();
            check(&fresh, &rx_base, budget.steps)?;
            (fresh, rx_base, budget.steps)
        }
        Method::SplitLearning => {
            // φ_j stays at RX and trains there, with RX's own optimiser.
            let download = download_payload(rx, method);
            handed.download_bytes = payload_bytes(&download);
            let tx_side = assemble(tx, &download, method)?;
            let rx_side = rx.deep_clone();
            let opt_tx = adam(&params(&tx_side, true, &[]), budget.learning_rate)?;
            let phi: Vec<&Tensor> = rx_side.decoder.layers.iter().flat_map(|l| l.params()).collect();
            let opt_rx = adam(&phi, budget.learning_rate)?;
            let cut = &mut handed.cut;
            let steps = finetune(
                budget,
                inputs,
                seed,
                &key,
                |x, rng| split_step(&tx_side, &rx_side, x, &opt_tx, &opt_rx, rng, cut).map(|_| ()),
                |s| check(&tx_side, &rx_side, s),
            )?;
            (tx_side, rx_side, steps)
        }
        Method::Slf { .. } | Method::EncoderOnly { .. } => {
            let download = download_payload(rx, method);
            handed.download_bytes = payload_bytes(&download);
            let (m, opt) = start_from(tx, &download, method, budget.learning_rate)?;
            let steps = finetune(
                budget,
                inputs,
                seed,
                &key,
                |x, rng| vq_step(&m, x, &opt, rng).map(|_| ()),
                |s| check(&m, rx, s),
            )?;
            (m, rx.deep_clone(), steps)
        }
    };
    // What leaves TX, and RX's side assembled from it.
    // A pilot aligner's RX side is already its view through the fitted table.
    let (upload, rx_side) = match pilot_sent {
        Some(sent) => (sent, rx_base),
        None => {
            let up = upload_payload(&tx_side, method);
            handed.upload_bytes = payload_bytes(&up);
            let rx_side = install(&rx_base, &up).map_err(config)?;
            (up, rx_side)
        }
    };
    Ok(Exchange { aligned: Aligned { tx: tx_side, rx: rx_side, upload, handed }, steps, curve })
}

#[cfg(test)]
mod tests {
    use super::gap_recovered;

    #[test]
    fn gap_recovered_by_hand() {
        // Before 0.10, matched 0.90: reaching 0.70 recovers 0.60 / 0.80 = 75% of the gap.
        assert!((gap_recovered(0.10, 0.70, 0.90).unwrap() - 0.75).abs() < 1e-12);
        // Falling below the start is a negative share; no gap, no share.
        assert!((gap_recovered(0.10, 0.05, 0.90).unwrap() + 0.0625).abs() < 1e-12);
        assert_eq!(gap_recovered(0.5, 0.6, 0.5), None);
    }
}
