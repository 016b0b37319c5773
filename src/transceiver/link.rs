//! One TX -> RX link judged on held-out images: TX's encoder θ and codebook
//! pick indices, TX's channel ε corrupts them, RX's codebook and decoder φ
//! reconstruct, and a judge classifier labels the reconstruction.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::channel::{apply_channel, ChannelSpec};
use super::classifier::Classifier;
use super::codebook::{usage, CodebookUsage};
use super::model::Transceiver;
use crate::data::ImageSet;

/// Held-out images as tensors, ready to push through links.
#[derive(Debug)]
pub struct TestBatch {
    /// (N, C, 32, 32)
    pub images: Tensor,
    /// (N,) i64
    pub labels: Tensor,
}

impl TestBatch {
    pub fn from_set(set: &ImageSet) -> TestBatch {
        let n = set.len() as i64;
        let c = set.channels as i64;
        TestBatch {
            images: Tensor::from_slice(&set.pixels).reshape([n, c, 32, 32]),
            labels: Tensor::from_slice(&set.labels).to_kind(Kind::Int64),
        }
    }
    pub fn len(&self) -> i64 {
        self.labels.size()[0]
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinkMetrics {
    /// Fraction of reconstructions the judge labels with TX's true label.
    pub accuracy: f64,
    /// Mean squared error per pixel, reconstruction clamped to [0, 1].
    pub mse: f64,
    /// 10·log10(1 / mse).
    pub psnr_db: f64,
    /// Codebook usage of TX's transmitted indices.
    pub usage: CodebookUsage,
    pub images: usize,
}

const CHUNK: i64 = 500;

/// Evaluates TX -> RX on `test` (images of TX's data), judged by `judge`.
pub fn evaluate_link(
    tx: &Transceiver,
    rx: &Transceiver,
    judge: &Classifier,
    test: &TestBatch,
    rng: &mut ChaCha8Rng,
) -> LinkMetrics {
    evaluate_link_judged(tx, rx, &[judge], test, rng).0
}

/// Like `evaluate_link`, but the same reconstructions are labelled by every
/// classifier in `judges` (one decoding pass, one draw of channel noise).
/// Returns the metrics (accuracy by `judges[0]`) and each judge's accuracy.
pub fn evaluate_link_judged(
    tx: &Transceiver,
    rx: &Transceiver,
    judges: &[&Classifier],
    test: &TestBatch,
    rng: &mut ChaCha8Rng,
) -> (LinkMetrics, Vec<f64>) {
    judge_messages(&encode_messages(tx, test), &tx.profile.channel, rx, judges, test, rng)
}

/// TX's messages for a test batch: the codebook indices it sends, before the
/// channel, in chunks of `CHUNK` images. Links that differ only in TX's
/// channel ε share them, so the encoder θ runs once.
#[derive(Debug, Clone)]
pub struct Messages {
    chunks: Vec<Vec<i64>>,
    /// Codebook size K.
    k: i64,
}

/// Encodes `test` by TX's encoder θ and codebook.
pub fn encode_messages(tx: &Transceiver, test: &TestBatch) -> Messages {
    let n = test.len();
    let mut chunks = Vec::new();
    tch::no_grad(|| {
        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            let idx = tx.codebook.quantize(&tx.flat_latents(&test.images.narrow(0, start, len)));
            chunks.push(Vec::try_from(&idx).expect("indices are i64"));
            start += len;
        }
    });
    Messages { chunks, k: tx.profile.model.codebook_size }
}

/// `msgs` sent over `channel` and decoded by RX, judged as `evaluate_link_judged`
/// does (the same draws of channel noise, in the same order).
pub fn judge_messages(
    msgs: &Messages,
    channel: &ChannelSpec,
    rx: &Transceiver,
    judges: &[&Classifier],
    test: &TestBatch,
    rng: &mut ChaCha8Rng,
) -> (LinkMetrics, Vec<f64>) {
    let (metrics, accuracies, _) = decode_judged(msgs, channel, rx, judges, None, test, rng);
    (metrics, accuracies)
}

/// `judge_messages` by one `judge`, plus the confidence (max softmax) of a
/// seer classifier on each message: `(seer, None)` on the same
/// reconstructions (one draw of noise for both; one classifier pass too when
/// `seer` is `judge`), `(seer, Some(seen))` on its own noisy copy of the
/// messages with noise from `seen`, the numbers of `message_confidences`.
/// A chunk whose two copies agree (always when ε = 0) is decoded once, and
/// classified once when `seer` is `judge`: a run's link evaluations cost
/// half as much.
pub fn judge_messages_seen(
    msgs: &Messages,
    channel: &ChannelSpec,
    rx: &Transceiver,
    judge: &Classifier,
    seer: (&Classifier, Option<&mut ChaCha8Rng>),
    test: &TestBatch,
    rng: &mut ChaCha8Rng,
) -> (LinkMetrics, Vec<f32>) {
    let (metrics, _, confidences) = decode_judged(msgs, channel, rx, &[judge], Some(seer), test, rng);
    (metrics, confidences)
}

/// Sends, decodes and judges `msgs`; each judge's accuracy and, given a
/// `seer`, its confidence per image: on the judged reconstructions, or on
/// a copy of the messages sent with noise from the seer's own stream.
fn decode_judged(
    msgs: &Messages,
    channel: &ChannelSpec,
    rx: &Transceiver,
    judges: &[&Classifier],
    mut seer: Option<(&Classifier, Option<&mut ChaCha8Rng>)>,
    test: &TestBatch,
    rng: &mut ChaCha8Rng,
) -> (LinkMetrics, Vec<f64>, Vec<f32>) {
    let n = test.len();
    let k = msgs.k;
    let mut correct = vec![0i64; judges.len()];
    let mut confidences = Vec::new();
    let mut sq_err = 0f64;
    let mut all_idx: Vec<i64> = Vec::with_capacity((n * 64) as usize);
    tch::no_grad(|| {
        let mut start = 0;
        for chunk in &msgs.chunks {
            let len = CHUNK.min(n - start);
            let x = test.images.narrow(0, start, len);
            let y = test.labels.narrow(0, start, len);
            let mut sent = chunk.clone();
            all_idx.extend_from_slice(&sent);
            apply_channel(channel, k, &mut sent, rng);
            // RX reads the received indices in *its own* codebook.
            let decode = |sent: &[i64]| {
                let rows = rx.codebook.lookup(&Tensor::from_slice(sent));
                rx.decoder.forward(&rx.grid(&rows)).clamp(0.0, 1.0)
            };
            let x_hat = decode(&sent);
            sq_err += (&x_hat - &x).square().sum(Kind::Double).double_value(&[]);
            // The seer's own noisy copy, when it has one that differs.
            let own: Option<Vec<i64>> = match &mut seer {
                Some((_, Some(seen_rng))) => {
                    let mut copy = chunk.clone();
                    apply_channel(channel, k, &mut copy, seen_rng);
                    (copy != sent).then_some(copy)
                }
                _ => None,
            };
            let mut seen = None;
            for (c, judge) in correct.iter_mut().zip(judges) {
                let logits = judge.forward(&x_hat);
                *c += logits.argmax(1, false).eq_tensor(&y).sum(Kind::Int64).int64_value(&[]);
                if own.is_none() && seer.as_ref().is_some_and(|(s, _)| std::ptr::eq(*s, *judge)) {
                    seen = Some(logits);
                }
            }
            if let Some((seer, _)) = &seer {
                let logits = match (&own, seen) {
                    (Some(copy), _) => seer.forward(&decode(copy)),
                    (None, Some(logits)) => logits,
                    (None, None) => seer.forward(&x_hat),
                };
                let conf = logits.softmax(1, Kind::Float).max_dim(1, false).0;
                confidences.extend(Vec::<f32>::try_from(&conf).expect("confidences are f32"));
            }
            start += len;
        }
    });
    let pixels = test.images.numel() as f64;
    let mse = sq_err / pixels;
    let accuracies: Vec<f64> = correct.iter().map(|&c| c as f64 / n as f64).collect();
    let metrics = LinkMetrics {
        accuracy: accuracies.first().copied().unwrap_or(f64::NAN),
        mse,
        psnr_db: 10.0 * (1.0 / mse.max(1e-12)).log10(),
        usage: usage(&all_idx, k as usize),
        images: n as usize,
    };
    (metrics, accuracies, confidences)
}

/// Accuracy of a classifier on clean images.
pub fn classifier_accuracy(c: &Classifier, test: &TestBatch) -> f64 {
    let n = test.len();
    let mut correct = 0i64;
    tch::no_grad(|| {
        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            let pred = c.forward(&test.images.narrow(0, start, len)).argmax(1, false);
            correct += pred.eq_tensor(&test.labels.narrow(0, start, len)).sum(Kind::Int64).int64_value(&[]);
            start += len;
        }
    });
    correct as f64 / n as f64
}

/// Per image, the confidence (max softmax probability) of `judge` on what
/// RX decodes from TX's message: what a receiver can see without labels.
pub fn link_confidences(
    tx: &Transceiver,
    rx: &Transceiver,
    judge: &Classifier,
    test: &TestBatch,
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    message_confidences(&encode_messages(tx, test), &tx.profile.channel, rx, judge, test, rng)
}

/// `link_confidences` for messages already encoded, sent over `channel`.
pub fn message_confidences(
    msgs: &Messages,
    channel: &ChannelSpec,
    rx: &Transceiver,
    judge: &Classifier,
    test: &TestBatch,
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(test.len() as usize);
    tch::no_grad(|| {
        for chunk in &msgs.chunks {
            let mut sent = chunk.clone();
            apply_channel(channel, msgs.k, &mut sent, rng);
            let x_hat = rx.decoder.forward(&rx.grid(&rx.codebook.lookup(&Tensor::from_slice(&sent)))).clamp(0.0, 1.0);
            let conf = judge.forward(&x_hat).softmax(1, Kind::Float).max_dim(1, false).0;
            out.extend(Vec::<f32>::try_from(&conf).expect("confidences are f32"));
        }
    });
    out
}
