//! What a lab's LibTorch jobs compute: a link as met, and a fine-tuning with
//! its aligned link judged at its own ε and at every ε bin.
//!
//! Only what the engine reads is computed: the headline judge's accuracy,
//! the MSE and RX's confidences. TX's messages are encoded once per job and
//! sent over each channel ε. At the link's own ε the numbers are those of
//! `align` and `link_confidences` (two noise streams); at the other ε bins
//! of a radio world one decoding gives both. The data sets are read once
//! per lab and shared by its jobs. Under the escalating policy a fine-tuning
//! also runs its pilot check (`pilot_check`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use rand::RngCore;
use tch::Tensor;

use super::lab::{AlignOutcome, JobContext, LabError, LinkClass, LinkEval, TxState};
use crate::align::{exchange, headline_judge, judge_stream, AlignInputs, Budget, Exchange, Judge, Method};
use crate::data::{self, Partition, Split};
use crate::seed::stream;
use crate::transceiver::{
    apply_channel, encode_messages, judge_messages_seen, load_checkpoint, local_data_of, local_images_bytes,
    test_batch, ChannelSpec, Classifier, Messages, Profile, TestBatch, Transceiver,
};

/// Data sets as tensors, read once per lab and shared by its jobs.
#[derive(Debug, Default)]
pub struct JobData {
    /// TX's local training images, by data spec and partition seed, as bytes
    /// where they are 8-bit (`local_images_bytes`).
    local: Mutex<HashMap<String, Tensor>>,
    /// The first n test images of a data set (images, labels).
    test: Mutex<HashMap<String, (Tensor, Tensor)>>,
}

impl JobData {
    /// `local_data`'s images for profile `p`, read on first use (the lock is
    /// held meanwhile, so a set is read once).
    fn local(&self, p: &Profile, dir: &Path) -> Result<Tensor, String> {
        // `all` is the whole split in order, whatever the seed.
        let seed = if matches!(p.data.partition, Partition::All) { 0 } else { p.seed };
        let key = format!("{:?}|{seed}", p.data);
        let mut map = self.local.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = map.get(&key) {
            return Ok(t.shallow_clone());
        }
        // Not through the process-wide cache: the split is then held once, as
        // this tensor; as bytes where the source is 8-bit (no f32 copy at all).
        let (ds, color) = (p.data.dataset, p.data.color);
        let images = match data::load_bytes(dir, ds, Split::Train, color).map_err(|e| e.to_string())? {
            Some(set) => local_images_bytes(p, &set).map_err(|e| e.to_string())?,
            None => {
                let set = data::load(dir, ds, Split::Train, color).map_err(|e| e.to_string())?;
                local_data_of(p, &set).map_err(|e| e.to_string())?.0
            }
        };
        map.insert(key, images.shallow_clone());
        Ok(images)
    }

    /// `test_batch` for profile `p`, shared.
    fn test(&self, p: &Profile, dir: &Path, n: usize) -> Result<TestBatch, String> {
        let key = format!("{:?}|{:?}|{n}", p.data.dataset, p.data.color);
        let mut map = self.test.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((images, labels)) = map.get(&key) {
            return Ok(TestBatch { images: images.shallow_clone(), labels: labels.shallow_clone() });
        }
        let b = test_batch(p, dir, n).map_err(|e| e.to_string())?;
        map.insert(key, (b.images.shallow_clone(), b.labels.shallow_clone()));
        Ok(b)
    }
}

fn err(job: &str) -> impl Fn(String) -> LabError + '_ {
    move |msg| LabError { job: job.to_string(), msg }
}

/// TX's transceiver in `state`: its checkpoint, sending over ε and holding
/// another profile's data (whose classifier then judges TX's meaning).
fn tx_model(ctx: &JobContext, s: TxState, job: &str) -> Result<Transceiver, LabError> {
    let (mut tx, _) =
        load_checkpoint(&ctx.models_dir, &ctx.profiles[s.profile]).map_err(|e| err(job)(e.to_string()))?;
    tx.profile.channel.epsilon = s.epsilon();
    if s.data_profile != s.profile {
        let (other, _) =
            load_checkpoint(&ctx.models_dir, &ctx.profiles[s.data_profile]).map_err(|e| err(job)(e.to_string()))?;
        tx.profile.data = other.profile.data.clone();
        tx.classifier = other.classifier;
    }
    Ok(tx)
}

/// Both ends of a link class, its test images and the job's seed.
struct Ends {
    tx: Transceiver,
    rx: Transceiver,
    test: TestBatch,
    /// One u64 per job, from the scenario seed and the job's identity.
    seed: u64,
}

fn ends(ctx: &JobContext, class: LinkClass, key: &str, job: &str) -> Result<Ends, LabError> {
    let e = err(job);
    let tx = tx_model(ctx, class.0, job)?;
    let (rx, _) = load_checkpoint(&ctx.models_dir, &ctx.profiles[class.1]).map_err(|x| e(x.to_string()))?;
    let test = ctx.data.test(&tx.profile, &ctx.data_dir, ctx.test_images).map_err(&e)?;
    let seed = stream(ctx.seed, "align-job", &[key]).next_u64();
    Ok(Ends { tx, rx, test, seed })
}

/// The classifier whose accuracy is the link's headline (`align`'s rule).
fn headline<'a>(tx: &'a Transceiver, rx: &'a Transceiver) -> &'a Classifier {
    match headline_judge(tx, rx) {
        Judge::Rx => &rx.classifier,
        Judge::Tx => &tx.classifier,
    }
}

/// TX's messages `msgs` over `channel` to `rx`: the headline judge's accuracy
/// and the MSE with noise from `judged`, RX's confidences with noise from `seen`.
fn judge(
    ends: &Ends,
    msgs: &Messages,
    channel: &ChannelSpec,
    rx: &Transceiver,
    judged: &mut rand_chacha::ChaCha8Rng,
    seen: &mut rand_chacha::ChaCha8Rng,
) -> LinkEval {
    let judge = headline(&ends.tx, &ends.rx);
    let (m, confidences) =
        judge_messages_seen(msgs, channel, rx, judge, (&ends.rx.classifier, Some(seen)), &ends.test, judged);
    LinkEval::new(m.accuracy, m.mse, confidences)
}

/// A link as met: `align`'s judgement before any exchange and RX's confidences.
pub(super) fn eval_job(ctx: &JobContext, class: LinkClass, key: &str) -> Result<LinkEval, LabError> {
    let ends = ends(ctx, class, key, &format!("job {key}"))?;
    let msgs = encode_messages(&ends.tx, &ends.test);
    let mut judged = judge_stream(&ends.tx, &ends.rx, ends.seed);
    let mut seen = stream(ctx.seed, "monitor-bank", &[key]);
    Ok(judge(&ends, &msgs, &ends.tx.profile.channel, &ends.rx, &mut judged, &mut seen))
}

/// A fine-tuning: the steps it ran, the aligned link as `align` judges it
/// after the exchange, and the same link at every other ε bin.
pub(super) fn align_job(
    ctx: &JobContext,
    class: LinkClass,
    method: &Method,
    budget: &Budget,
    key: &str,
) -> Result<AlignOutcome, LabError> {
    let job = format!("job {key}");
    let e = err(&job);
    let ends = ends(ctx, class, key, &job)?;
    let local = ctx.data.local(&ends.tx.profile, &ctx.data_dir).map_err(&e)?;
    let inputs = AlignInputs { local_images: &local, test: &ends.test, data_dir: &ctx.data_dir };
    let ex = exchange(&ends.tx, &ends.rx, method, budget, &inputs, ends.seed, false).map_err(|x| e(x.to_string()))?;
    let (atx, arx) = (&ex.aligned.tx, &ex.aligned.rx);
    let msgs = encode_messages(atx, &ends.test);
    let mut judged = judge_stream(&ends.tx, &ends.rx, ends.seed);
    let mut seen = stream(ctx.seed, "monitor-bank", &[key]);
    let after = judge(&ends, &msgs, &atx.profile.channel, arx, &mut judged, &mut seen);
    let mut at_bins = Vec::new();
    if !matches!(method, Method::None) {
        let own = class.0.epsilon();
        let judge = headline(&ends.tx, &ends.rx);
        // Each bin with its own noise stream; RX's confidences come from the
        // reconstructions the accuracy is judged on (one decoding per bin).
        for &eps in ctx.epsilon_bins.iter().filter(|&&x| x != own) {
            let channel = ChannelSpec { epsilon: eps, ..atx.profile.channel };
            let mut rng = stream(ctx.seed, "bin-eval", &[key, &eps.to_string()]);
            let (m, confidences) =
                judge_messages_seen(&msgs, &channel, arx, judge, (&ends.rx.classifier, None), &ends.test, &mut rng);
            at_bins.push((eps, LinkEval::new(m.accuracy, m.mse, confidences)));
        }
    }
    let check = match ctx.check_pilots {
        Some(p) => Some(pilot_check(ctx, &ends, method, &ex, p, key).map_err(&e)?),
        None => None,
    };
    Ok(AlignOutcome { steps: ex.steps, after, at_bins, check })
}

/// The last `p` images of the test split of TX's data set and their public
/// labels: the pilots of the pilot aligners (`align::pilot`), disjoint from
/// the judge's first `judged` test images.
fn pilot_batch(tx: &Transceiver, dir: &Path, p: usize, judged: usize) -> Result<TestBatch, String> {
    let d = &tx.profile.data;
    let set = data::load_cached(dir, d.dataset, Split::Test, d.color).map_err(|x| x.to_string())?;
    if p + judged > set.len() {
        return Err(format!(
            "the pilot check needs {p} pilots besides the {judged} judged test images, but the test split has {}",
            set.len()
        ));
    }
    let idx: Vec<usize> = (set.len() - p..set.len()).collect();
    Ok(TestBatch::from_set(&set.subset(&idx)))
}

/// The escalating policy's check of an exchange, as RX can measure it: the
/// headline classifier's accuracy on what RX decodes from the `p` pilots'
/// messages, against their public labels. A pilot aligner's pilot messages
/// crossed already (the indices RX received, read through its fitted
/// table); after SLF, TX encodes the pilots with its new θ and codebook and
/// sends them through its channel ε (noise from the check's own stream),
/// and RX decodes them with the installed φ_ij.
fn pilot_check(
    ctx: &JobContext,
    ends: &Ends,
    method: &Method,
    ex: &Exchange,
    p: usize,
    key: &str,
) -> Result<f64, String> {
    let pilots = pilot_batch(&ends.tx, &ctx.data_dir, p, ctx.test_images)?;
    let (atx, arx) = (&ex.aligned.tx, &ex.aligned.rx);
    let received: Vec<i64> = if method.pilots().is_some() {
        let (_, t) = ex.aligned.upload.iter().find(|(n, _)| n == "pilot_indices").ok_or("no pilot messages")?;
        Vec::<i64>::try_from(t).map_err(|x: tch::TchError| x.to_string())?
    } else {
        let mut rng = stream(ctx.seed, "escalate-check", &[key, &method.label()]);
        let idx = tch::no_grad(|| atx.codebook.quantize(&atx.flat_latents(&pilots.images)));
        let mut sent = Vec::<i64>::try_from(&idx).map_err(|x: tch::TchError| x.to_string())?;
        apply_channel(&atx.profile.channel, atx.profile.model.codebook_size, &mut sent, &mut rng);
        sent
    };
    let judge = headline(&ends.tx, &ends.rx);
    let correct = tch::no_grad(|| {
        let rows = arx.codebook.lookup(&Tensor::from_slice(&received));
        let x_hat = arx.decoder.forward(&arx.grid(&rows)).clamp(0.0, 1.0);
        judge.forward(&x_hat).argmax(1, false).eq_tensor(&pilots.labels).sum(tch::Kind::Int64).int64_value(&[])
    });
    Ok(correct as f64 / p as f64)
}
