//! Training of a profile's transceiver: first the receiver's classifier on
//! clean local images, then the VQ-VAE (encoder θ, codebook, decoder φ)
//! end to end through the profile's own channel ε.

use std::path::Path;
use std::time::Instant;

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{COptimizer, Reduction, Tensor};

use super::channel::apply_channel;
use super::classifier::Classifier;
use super::config::Profile;
use super::layers::batch_indices;
use super::link::{classifier_accuracy, evaluate_link, LinkMetrics, TestBatch};
use super::model::Transceiver;
use crate::data::{self, DataError, Split};
use crate::seed::stream;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("profile {profile}: {msg}")]
    Config { profile: String, msg: String },
    #[error("LibTorch: {0}")]
    Torch(#[from] tch::TchError),
    /// Stopped between two steps (a signal, or a job no longer needed).
    #[error(transparent)]
    Cancelled(#[from] crate::cancel::Cancelled),
}

/// What training measured; stored in the checkpoint's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub steps: usize,
    pub seconds: f64,
    pub threads: i32,
    pub local_images: usize,
    /// Receiver classifier accuracy on clean held-out images.
    pub classifier_accuracy: f64,
    /// The matched link (TX and RX of this profile) on held-out images.
    pub matched: LinkMetrics,
    /// (step, reconstruction MSE of the batch), every 100 steps.
    pub loss_curve: Vec<(usize, f64)>,
    /// Codewords restarted over training (dead-code restarts).
    pub restarts: usize,
}

/// Progress callback: (phase, step, total).
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

/// The profile's local training images as one tensor (N, C, 32, 32), labels
/// (N,) and their count: the data that never leaves the user.
pub fn local_data(profile: &Profile, data_dir: &Path) -> Result<(Tensor, Tensor, usize), TrainError> {
    let set = data::load_cached(data_dir, profile.data.dataset, Split::Train, profile.data.color)?;
    local_data_of(profile, &set)
}

/// Which images of a training split (by its labels) are the profile's local data.
fn local_indices(profile: &Profile, labels: &[u8]) -> Result<Vec<usize>, TrainError> {
    let mut rng = stream(profile.seed, "partition", &[]);
    Ok(data::select(labels, 10, &profile.data.partition, &mut rng)?)
}

/// `local_data_of`'s images kept as bytes (u8, N x C x 32 x 32), from the
/// training split read as bytes (`data::load_bytes`): a quarter of the f32
/// tensor's memory (61 MB instead of 246 MB for 60,000 MNIST images), which
/// matters when a run holds several users' data sets. [`decode_images`]
/// turns a batch of it back into the very same floats.
pub fn local_images_bytes(profile: &Profile, set: &data::ByteSet) -> Result<Tensor, TrainError> {
    let idx = local_indices(profile, &set.labels)?;
    let local = set.subset(&idx);
    Ok(Tensor::from_slice(&local.pixels).reshape([idx.len() as i64, set.channels as i64, 32, 32]))
}

/// A batch of local images as f32: bytes from [`local_images_bytes`]
/// through the loaders' levels (a table lookup, so bit for bit the values
/// the loader would have stored); f32 batches pass through.
pub fn decode_images(batch: &Tensor) -> Tensor {
    if batch.kind() != tch::Kind::Uint8 {
        return batch.shallow_clone();
    }
    let table = Tensor::from_slice(&data::levels());
    table.index_select(0, &batch.flatten(0, -1).to_kind(tch::Kind::Int64)).reshape(batch.size())
}

/// `local_data` from the training split `set` of the profile's data set.
pub fn local_data_of(profile: &Profile, set: &data::ImageSet) -> Result<(Tensor, Tensor, usize), TrainError> {
    let idx = local_indices(profile, &set.labels)?;
    // The whole set in order needs no copy before the tensor's own.
    let b = if idx.iter().enumerate().all(|(i, &j)| i == j) && idx.len() == set.len() {
        TestBatch::from_set(set)
    } else {
        TestBatch::from_set(&set.subset(&idx))
    };
    Ok((b.images, b.labels, idx.len()))
}

/// Held-out test images of a profile's data set (the first `n`).
pub fn test_batch(profile: &Profile, data_dir: &Path, n: usize) -> Result<TestBatch, DataError> {
    let set = data::load_cached(data_dir, profile.data.dataset, Split::Test, profile.data.color)?;
    Ok(TestBatch::from_set(&set.take(n)))
}

/// Adam over explicit tensors (so SLF can pass exactly the unfrozen layers).
pub fn adam(params: &[&Tensor], lr: f64) -> Result<COptimizer, tch::TchError> {
    let mut opt = COptimizer::adam(lr, 0.9, 0.999, 0.0, 1e-8, false)?;
    for p in params {
        opt.add_parameters(p, 0)?;
    }
    Ok(opt)
}

/// Cosine decay from `lr` towards 5% of it.
fn cosine_lr(lr: f64, step: usize, total: usize) -> f64 {
    let t = step as f64 / total.max(1) as f64;
    lr * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
}

/// Trains `clf` on clean images for `steps` steps with batches from `rng`.
pub fn train_classifier(
    clf: &Classifier,
    images: &Tensor,
    labels: &Tensor,
    steps: usize,
    batch: usize,
    rng: &mut ChaCha8Rng,
    progress: Progress,
) -> Result<(), TrainError> {
    let params: Vec<&Tensor> = clf.named_tensors().into_iter().map(|(_, t)| t).collect();
    let mut opt = adam(&params, 1e-3)?;
    let n = images.size()[0] as usize;
    for step in 0..steps {
        crate::cancel::check()?;
        opt.set_learning_rate(cosine_lr(1e-3, step, steps))?;
        let idx = batch_indices(n, batch, rng);
        let loss = clf.forward(&images.index_select(0, &idx)).cross_entropy_for_logits(&labels.index_select(0, &idx));
        opt.zero_grad()?;
        loss.backward();
        opt.step()?;
        if step % 50 == 0 || step + 1 == steps {
            progress("classifier", step + 1, steps);
        }
    }
    Ok(())
}

/// One VQ-VAE step on batch `x` through the channel; returns the
/// reconstruction MSE and the indices TX chose (before the channel).
pub fn vq_step(
    model: &Transceiver,
    x: &Tensor,
    opt: &COptimizer,
    rng: &mut ChaCha8Rng,
) -> Result<(f64, Vec<i64>), TrainError> {
    // Every training and fine-tuning loop steps through here: the place to stop.
    crate::cancel::check()?;
    let beta = model.profile.model.commitment;
    let k = model.profile.model.codebook_size;
    let flat = model.flat_latents(x);
    let idx = model.codebook.quantize(&flat);
    let chosen: Vec<i64> = Vec::try_from(&idx)?;
    let mut received = chosen.clone();
    apply_channel(&model.profile.channel, k, &mut received, rng);
    let q = model.codebook.lookup(&idx);
    let codebook_loss = q.mse_loss(&flat.detach(), Reduction::Mean);
    let commitment_loss = flat.mse_loss(&q.detach(), Reduction::Mean);
    // Straight-through: the decoder sees the *received* codewords, the
    // gradient reaches the encoder as if quantisation and channel were identity.
    let rx = model.codebook.lookup(&Tensor::from_slice(&received)).detach();
    let z = &flat + (rx - &flat).detach();
    let x_hat = model.decoder.forward(&model.grid(&z));
    let rec = x_hat.mse_loss(x, Reduction::Mean);
    let loss = &rec + codebook_loss + commitment_loss * beta;
    opt.zero_grad()?;
    loss.backward();
    opt.step()?;
    Ok((rec.double_value(&[]), chosen))
}

/// Trains the profile's transceiver from its seed. Deterministic for a given
/// profile and LibTorch intra-op thread count.
pub fn train_profile(
    profile: &Profile,
    data_dir: &Path,
    progress: Progress,
) -> Result<(Transceiver, TrainReport), TrainError> {
    let cfg_err = |msg: String| TrainError::Config { profile: profile.name.clone(), msg };
    profile.model.validate().map_err(cfg_err)?;
    profile.channel.validate().map_err(cfg_err)?;
    let t0 = Instant::now();
    let (images, labels, local_images) = local_data(profile, data_dir)?;
    let mut model = Transceiver::new(profile);
    let tc = &profile.train;

    let mut crng = stream(profile.seed, "batches", &["classifier"]);
    train_classifier(&model.classifier, &images, &labels, tc.classifier_steps, tc.batch_size, &mut crng, progress)?;

    tracing::info!(profile = %profile.name, seconds = t0.elapsed().as_secs_f64(), "classifier trained");
    let mut brng = stream(profile.seed, "batches", &["vq"]);
    let mut nrng = stream(profile.seed, "channel", &["train"]);
    let mut rrng = stream(profile.seed, "restart", &[]);
    let n = images.size()[0] as usize;
    // Codebook starts at encoder outputs, so every codeword is near the data.
    tch::no_grad(|| {
        let x0 = images.index_select(0, &batch_indices(n, tc.batch_size, &mut brng));
        let flat = model.flat_latents(&x0);
        model.codebook.init_from(&flat, &mut rrng);
    });
    let mut opt = adam(&model.vq_params(), tc.learning_rate)?;
    let k = profile.model.codebook_size as usize;
    let mut counts = vec![0i64; k];
    let mut curve = Vec::new();
    let mut restarts = 0;
    // Restarts stop for the last fifth so the final codebook settles.
    let restart_until = tc.steps * 4 / 5;
    for step in 0..tc.steps {
        opt.set_learning_rate(cosine_lr(tc.learning_rate, step, tc.steps))?;
        let x = images.index_select(0, &batch_indices(n, tc.batch_size, &mut brng));
        let (rec, chosen) = vq_step(&model, &x, &opt, &mut nrng)?;
        for i in chosen {
            counts[i as usize] += 1;
        }
        if tc.restart_every > 0 && (step + 1) % tc.restart_every == 0 {
            if step < restart_until {
                let flat = tch::no_grad(|| model.flat_latents(&x));
                restarts += model.codebook.restart_dead(&counts, &flat, &mut rrng);
            }
            counts.iter_mut().for_each(|c| *c = 0);
        }
        if step % 100 == 0 || step + 1 == tc.steps {
            curve.push((step, rec));
            progress("vq-vae", step + 1, tc.steps);
        }
    }

    tracing::info!(profile = %profile.name, seconds = t0.elapsed().as_secs_f64(), "vq-vae trained");
    let test = test_batch(profile, data_dir, tc.eval_images)?;
    let classifier_accuracy = classifier_accuracy(&model.classifier, &test);
    let mut erng = stream(profile.seed, "channel", &["eval"]);
    let matched = evaluate_link(&model, &model, &model.classifier, &test, &mut erng);
    let report = TrainReport {
        steps: tc.steps,
        seconds: t0.elapsed().as_secs_f64(),
        threads: tch::get_num_threads(),
        local_images,
        classifier_accuracy,
        matched,
        loss_curve: curve,
        restarts,
    };
    Ok((model, report))
}
