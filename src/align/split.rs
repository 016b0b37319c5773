//! One step of U-shaped split learning, really split: TX and RX each hold
//! their own parameters and optimiser, and only four tensors cross the cut.
//!
//! TX keeps encoder θ_i, the codebook, its channel ε_i, its images and the
//! loss (the reconstruction's target is TX's image, so the images never leave
//! TX); RX keeps decoder φ_j. Per step, in order:
//! 1. TX runs θ_i, quantises, sends the indices through ε_i and hands the
//!    received codewords z (B·D·g·g values) **up**;
//! 2. RX runs φ_j on z and hands the reconstruction x̂ (B·C·32·32) **down**;
//! 3. TX computes the loss and hands ∂L/∂x̂ **up**;
//! 4. RX back-propagates through φ_j, steps its optimiser and hands ∂L/∂z
//!    **down**; TX back-propagates it (straight through the quantiser and the
//!    channel) with its codebook and commitment losses and steps its optimiser.
//!
//! The sums are the same as one joint backward pass, in another order and
//! memory layout, so it learns like SLF with ℓ = 0 up to float rounding.

use rand_chacha::ChaCha8Rng;
use tch::{COptimizer, Kind, Reduction, Tensor};

use super::payload::hand_over;
use crate::transceiver::{apply_channel, TrainError, Transceiver};

/// Bytes handed over across the cut, each way, summed over steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CutTraffic {
    pub up_bytes: u64,
    pub down_bytes: u64,
}

/// One split-learning step on TX's batch `x`. `tx` holds θ_i and the codebook
/// (`opt_tx` over them), `rx` holds φ_j (`opt_rx` over its layers). Returns the
/// reconstruction MSE; adds what crossed to `traffic`.
pub fn split_step(
    tx: &Transceiver,
    rx: &Transceiver,
    x: &Tensor,
    opt_tx: &COptimizer,
    opt_rx: &COptimizer,
    rng: &mut ChaCha8Rng,
    traffic: &mut CutTraffic,
) -> Result<f64, TrainError> {
    let beta = tx.profile.model.commitment;
    let k = tx.profile.model.codebook_size;
    // TX: θ_i, quantiser and channel, as in `vq_step`.
    let flat = tx.flat_latents(x);
    let idx = tx.codebook.quantize(&flat);
    let mut received: Vec<i64> = Vec::try_from(&idx)?;
    apply_channel(&tx.profile.channel, k, &mut received, rng);
    let q = tx.codebook.lookup(&idx);
    let codebook_loss = q.mse_loss(&flat.detach(), Reduction::Mean);
    let commitment_loss = flat.mse_loss(&q.detach(), Reduction::Mean);
    let rows = tx.codebook.lookup(&Tensor::from_slice(&received)).detach();
    let z = tx.grid(&(&flat + (rows - &flat).detach()));
    opt_tx.zero_grad()?;
    opt_rx.zero_grad()?;

    // 1. up: z. RX: φ_j.
    let z_rx = hand_over(&z, &mut traffic.up_bytes).set_requires_grad(true);
    let x_hat = rx.decoder.forward(&z_rx);
    // 2. down: x̂. TX: the loss on its own image.
    let x_hat_tx = hand_over(&x_hat, &mut traffic.down_bytes).set_requires_grad(true);
    let rec = x_hat_tx.mse_loss(x, Reduction::Mean);
    rec.backward();
    // 3. up: ∂L/∂x̂. RX: back through φ_j (d/dx̂ of Σ x̂·g is g), its own step.
    let g_x_hat = hand_over(&x_hat_tx.grad(), &mut traffic.up_bytes);
    (&x_hat * g_x_hat).sum(Kind::Float).backward();
    opt_rx.step()?;
    // 4. down: ∂L/∂z. TX: back through θ_i and the codebook, its own step.
    let g_z = hand_over(&z_rx.grad(), &mut traffic.down_bytes);
    let local = codebook_loss + commitment_loss * beta + (&z * g_z).sum(Kind::Float);
    local.backward();
    opt_tx.step()?;
    Ok(rec.double_value(&[]))
}
