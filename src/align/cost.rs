//! The cost model: bytes on the air and FLOPs of fine-tuning, per layer, and
//! the recovery time T = T_download + T_compute + T_upload they imply.
//!
//! Per sample, f32 parameters:
//! - conv forward FLOPs = 2 · C_out · H_out · W_out · C_in · k²;
//!   transposed conv = 2 · C_in · H_in · W_in · C_out · k²;
//! - backward: the input gradient (≈ forward) is needed by every layer between
//!   the loss and the encoder's first layer (the encoder always trains, so all
//!   decoder layers need it); the weight gradient (≈ forward) only by
//!   trainable layers;
//! - nearest-codeword search: 2 · K · D per latent (forward only).
//!
//! Biases and activations are ignored: they are a few per cent at most.
//!
//! Pilot-based aligners (`pilot_cost`) train nothing and download nothing.
//! TX encodes the P pilots (encoder forward and codeword search per image)
//! and uploads P messages of g² packed log2 K-bit indices, plus its codebook
//! (K·D f32) for `latent_map`. RX encodes the same pilots with its own θ_j
//! (the cost model's one config stands for both ends) and fits, on n = P·g²
//! pairs of D-vectors:
//! - linear: XᵀX and XᵀY, 2·n·D² each, and the solve, 2·D³;
//! - affine: the same with D + 1 inputs;
//! - procrustes: centring and scaling, 4·n·D; the cross-covariance, 2·n·D²;
//!   the SVD, counted as 20·D³, and R = U·Vᵀ, 2·D³;
//! - then the K codewords through the map, 2·K·D², and their re-quantisation, 2·K²·D;
//! - index_map: one count per pair and a K² arg-max, n + K².

use serde::{Deserialize, Serialize};

use super::method::{MapKind, Method};
use super::trainable::Trainable;
use crate::transceiver::{ConvKind, ModelConfig};

pub const BYTES_PER_PARAM: u64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Encoder,
    Codebook,
    Decoder,
}

/// One weight layer: its parameters and forward FLOPs per sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerCost {
    pub part: Part,
    pub index: usize,
    pub params: u64,
    pub forward_flops: u64,
    /// Values in the layer's output per sample (activations crossing a cut).
    pub output_values: u64,
}

#[allow(clippy::too_many_arguments)] // one layer's shape, named as in the formula
fn conv(
    part: Part,
    index: usize,
    kind: ConvKind,
    c_in: i64,
    c_out: i64,
    k: i64,
    side_in: i64,
    side_out: i64,
) -> LayerCost {
    let macs_side = match kind {
        ConvKind::Conv => side_out * side_out,
        ConvKind::Transpose => side_in * side_in,
    };
    LayerCost {
        part,
        index,
        params: (c_in * c_out * k * k + c_out) as u64,
        forward_flops: (2 * c_in * c_out * k * k * macs_side) as u64,
        output_values: (c_out * side_out * side_out) as u64,
    }
}

/// Per-layer costs of a transceiver for 32x32 images: encoder layers, the
/// codebook, then the L decoder layers (index 0 = input side).
pub fn layer_costs(cfg: &ModelConfig, image_channels: i64) -> Vec<LayerCost> {
    let mut v = Vec::new();
    let mut side = 32;
    let mut c_in = image_channels;
    for (i, &c) in cfg.encoder_channels.iter().enumerate() {
        v.push(conv(Part::Encoder, i, ConvKind::Conv, c_in, c, 4, side, side / 2));
        side /= 2;
        c_in = c;
    }
    let n = cfg.encoder_channels.len();
    v.push(conv(Part::Encoder, n, ConvKind::Conv, c_in, cfg.latent_dim, 1, side, side));
    let (k, d, g) = (cfg.codebook_size, cfg.latent_dim, side);
    v.push(LayerCost {
        part: Part::Codebook,
        index: 0,
        params: (k * d) as u64,
        forward_flops: (2 * k * d * g * g) as u64,
        output_values: (d * g * g) as u64,
    });
    let ch = &cfg.decoder_channels;
    v.push(conv(Part::Decoder, 0, ConvKind::Conv, d, ch[0], 3, side, side));
    for (i, w) in ch.windows(2).enumerate() {
        v.push(conv(Part::Decoder, i + 1, ConvKind::Transpose, w[0], w[1], 4, side, side * 2));
        side *= 2;
    }
    v.push(conv(Part::Decoder, ch.len(), ConvKind::Conv, *ch.last().unwrap(), image_channels, 3, side, side));
    v
}

/// FLOPs of one fine-tuning step per sample (forward + backward).
pub fn step_flops_per_sample(layers: &[LayerCost], t: &Trainable) -> u64 {
    let mut total = 0;
    for l in layers {
        total += l.forward_flops;
        let (input_grad, weight_grad) = match l.part {
            // The first encoder layer's input is the image: no input gradient.
            Part::Encoder => (l.index > 0, true),
            // The straight-through estimator bypasses the search; the
            // codebook's own gradient is a D-vector per latent (negligible).
            Part::Codebook => (false, false),
            Part::Decoder => (true, t.decoder[l.index]),
        };
        total += l.forward_flops * (input_grad as u64 + weight_grad as u64);
    }
    total
}

/// Parameter bytes of the decoder layers flagged in `which` (+ the codebook).
pub fn decoder_bytes(layers: &[LayerCost], which: &[bool], codebook: bool) -> u64 {
    layers
        .iter()
        .filter(|l| match l.part {
            Part::Decoder => which[l.index],
            Part::Codebook => codebook,
            Part::Encoder => false,
        })
        .map(|l| l.params * BYTES_PER_PARAM)
        .sum()
}

/// The network and compute a recovery runs on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostParams {
    /// RX -> TX link rate, bit/s.
    pub down_bps: f64,
    /// TX -> RX link rate, bit/s.
    pub up_bps: f64,
    /// One-way latency, seconds.
    pub latency_s: f64,
    /// TX's fine-tuning compute budget, FLOP/s.
    pub tx_flops_per_s: f64,
    /// RX's compute budget (used by split learning, whose decoder stays at RX).
    pub rx_flops_per_s: f64,
}

impl Default for CostParams {
    /// A 20/10 Mbit/s link with 10 ms latency and 50 GFLOP/s devices.
    fn default() -> Self {
        CostParams { down_bps: 20e6, up_bps: 10e6, latency_s: 0.010, tx_flops_per_s: 50e9, rx_flops_per_s: 50e9 }
    }
}

impl CostParams {
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("down_bps", self.down_bps),
            ("up_bps", self.up_bps),
            ("tx_flops_per_s", self.tx_flops_per_s),
            ("rx_flops_per_s", self.rx_flops_per_s),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!("{name}: {v} must be > 0"));
            }
        }
        if !(self.latency_s >= 0.0 && self.latency_s.is_finite()) {
            return Err(format!("latency_s: {} must be >= 0", self.latency_s));
        }
        Ok(())
    }
}

/// Seconds to move `bytes` over a link (latency + serialisation); 0 bytes cost nothing.
pub fn transfer_s(bytes: u64, bps: f64, latency_s: f64) -> f64 {
    if bytes == 0 {
        0.0
    } else {
        latency_s + 8.0 * bytes as f64 / bps
    }
}

/// The hand-overs of one U-shaped split-learning step, in order, as (up?,
/// bytes): the cut's activations z up, x̂ down, ∂L/∂x̂ up, ∂L/∂z down. TX keeps
/// the loss because its target is TX's own image, which never leaves TX.
pub fn split_learning_messages(layers: &[LayerCost], batch: u64) -> [(bool, u64); 4] {
    let z = layers.iter().find(|l| l.part == Part::Codebook).map_or(0, |l| l.output_values);
    let img = layers.iter().rfind(|l| l.part == Part::Decoder).map_or(0, |l| l.output_values);
    let per = |values: u64| values * batch * BYTES_PER_PARAM;
    [(true, per(z)), (false, per(img)), (true, per(img)), (false, per(z))]
}

/// Bytes of hand-overs given as (up?, bytes), summed each way: (up, down).
pub fn bytes_each_way(messages: &[(bool, u64)]) -> (u64, u64) {
    let sum = |up: bool| messages.iter().filter(|(u, _)| *u == up).map(|(_, b)| b).sum();
    (sum(true), sum(false))
}

/// Bytes per step of U-shaped split learning, (up, down).
pub fn split_learning_step_bytes(layers: &[LayerCost], batch: u64) -> (u64, u64) {
    bytes_each_way(&split_learning_messages(layers, batch))
}

/// U-shaped split learning as a schedule (what `run` simulates step by step):
/// the codebook down before the steps and up after them, the four hand-overs
/// of a step, and who computes what.
///
/// The rule for the FLOPs: a step costs `flops_per_step` as for SLF ℓ = 0,
/// split as `method_cost` splits it: TX holds the encoder and the codebook
/// (`step_flops_per_sample` on those layers), RX the decoder (the rest). Each
/// side's forward share is the `forward_flops` of its layers; its backward
/// share is the remainder (input and weight gradients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitPlan {
    pub once_down: u64,
    pub once_up: u64,
    /// One step's hand-overs in order, as (up?, bytes): z, x̂, ∂L/∂x̂, ∂L/∂z.
    pub messages: [(bool, u64); 4],
    /// One step's compute in order: TX forward, RX forward, RX backward, TX backward.
    pub flops: [u64; 4],
}

/// The split-learning schedule of a transceiver of `cfg` with `batch` samples a step.
pub fn split_learning_plan(cfg: &ModelConfig, image_channels: i64, batch: usize) -> SplitPlan {
    let layers = layer_costs(cfg, image_channels);
    let big_l = cfg.decoder_layers();
    let m = Method::SplitLearning;
    let t = m.trainable(big_l);
    let batch = batch as u64;
    let tx_side: Vec<LayerCost> = layers.iter().filter(|l| l.part != Part::Decoder).cloned().collect();
    let forward = |tx: bool| -> u64 {
        layers.iter().filter(|l| (l.part != Part::Decoder) == tx).map(|l| l.forward_flops).sum::<u64>() * batch
    };
    let tx_total = step_flops_per_sample(&tx_side, &t) * batch;
    let rx_total = step_flops_per_sample(&layers, &t) * batch - tx_total;
    let (tx_fwd, rx_fwd) = (forward(true), forward(false));
    let (down, up) = (m.downloads(big_l), m.uploads(big_l));
    SplitPlan {
        once_down: decoder_bytes(&layers, &down.decoder, down.codebook),
        once_up: decoder_bytes(&layers, &up.decoder, up.codebook),
        messages: split_learning_messages(&layers, batch),
        flops: [tx_fwd, rx_fwd, rx_total - rx_fwd, tx_total - tx_fwd],
    }
}

/// What one alignment costs, before any queueing: bytes each way, FLOPs and
/// the three parts of the recovery time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MethodCost {
    /// Totals, including split learning's per-step traffic.
    pub download_bytes: u64,
    pub upload_bytes: u64,
    pub per_step_up_bytes: u64,
    pub per_step_down_bytes: u64,
    pub flops_per_step: u64,
    pub download_s: f64,
    pub compute_s: f64,
    pub upload_s: f64,
    /// Pilot-based aligners: FLOPs of encoding the pilots at TX, and of
    /// encoding them and fitting the map at RX (0 for the other methods).
    pub pilot_tx_flops: u64,
    pub pilot_rx_flops: u64,
}

impl MethodCost {
    /// All FLOPs of an alignment that ran `steps` steps, at both ends.
    pub fn total_flops(&self, steps: usize) -> u64 {
        self.flops_per_step * steps as u64 + self.pilot_tx_flops + self.pilot_rx_flops
    }
}

/// FLOPs RX spends fitting a pilot-based aligner on `n` pairs (see the module doc).
pub fn fit_flops(method: &Method, n: u64, k: u64, d: u64) -> u64 {
    let through_map = 2 * k * d * d + 2 * k * k * d;
    match method {
        Method::LatentMap { map: MapKind::Linear, .. } => 4 * n * d * d + 2 * d.pow(3) + through_map,
        Method::LatentMap { map: MapKind::Affine, .. } => {
            2 * n * (d + 1) * (d + 1) + 2 * n * (d + 1) * d + 2 * (d + 1).pow(3) + through_map
        }
        Method::LatentMap { map: MapKind::Procrustes, .. } => 4 * n * d + 2 * n * d * d + 22 * d.pow(3) + through_map,
        Method::IndexMap { .. } => n + k * k,
        _ => 0,
    }
}

/// Costs a pilot-based aligner with `pilots` pilot images (see the module doc).
pub fn pilot_cost(
    cfg: &ModelConfig,
    image_channels: i64,
    method: &Method,
    pilots: usize,
    p: &CostParams,
) -> MethodCost {
    let layers = layer_costs(cfg, image_channels);
    let encode: u64 = layers.iter().filter(|l| l.part != Part::Decoder).map(|l| l.forward_flops).sum();
    let (g, k, d, pilots) = (cfg.grid_side() as u64, cfg.codebook_size as u64, cfg.latent_dim as u64, pilots as u64);
    let message = (g * g * cfg.bits_per_index() as u64).div_ceil(8);
    let codebook = if matches!(method, Method::LatentMap { .. }) { k * d * BYTES_PER_PARAM } else { 0 };
    let upload = pilots * message + codebook;
    let (tx_flops, rx_flops) = (pilots * encode, pilots * encode + fit_flops(method, pilots * g * g, k, d));
    MethodCost {
        download_bytes: 0,
        upload_bytes: upload,
        per_step_up_bytes: 0,
        per_step_down_bytes: 0,
        flops_per_step: 0,
        download_s: 0.0,
        compute_s: tx_flops as f64 / p.tx_flops_per_s + rx_flops as f64 / p.rx_flops_per_s,
        upload_s: transfer_s(upload, p.up_bps, p.latency_s),
        pilot_tx_flops: tx_flops,
        pilot_rx_flops: rx_flops,
    }
}

/// Costs `steps` fine-tuning steps of `batch` samples by `method` for a
/// transceiver of `cfg`. SLF and encoder-only download the whole decoder φ_j
/// and codebook and upload what they trained; retrain uploads a whole new
/// decoder; split learning downloads the codebook, hands activations and
/// gradients over four times a step, uploads the trained codebook at the end,
/// and splits compute between TX (encoder) and RX (decoder).
pub fn method_cost(
    cfg: &ModelConfig,
    image_channels: i64,
    method: &Method,
    steps: usize,
    batch: usize,
    p: &CostParams,
) -> MethodCost {
    if let Some(pilots) = method.pilots() {
        return pilot_cost(cfg, image_channels, method, pilots, p);
    }
    let layers = layer_costs(cfg, image_channels);
    let big_l = cfg.decoder_layers();
    let t = method.trainable(big_l);
    let (steps, batch) = (steps as u64, batch as u64);
    let flops_per_step = if matches!(method, Method::None) { 0 } else { step_flops_per_sample(&layers, &t) * batch };
    let (down, up) = (method.downloads(big_l), method.uploads(big_l));
    let once_down = decoder_bytes(&layers, &down.decoder, down.codebook);
    let once_up = decoder_bytes(&layers, &up.decoder, up.codebook);
    // Split learning's per-step messages, each paying the latency once.
    let messages = if matches!(method, Method::SplitLearning) {
        split_learning_messages(&layers, batch).to_vec()
    } else {
        Vec::new()
    };
    let step_s = |u: bool, bps: f64| {
        messages.iter().filter(|(x, _)| *x == u).map(|&(_, b)| transfer_s(b, bps, p.latency_s)).sum::<f64>()
    };
    let (step_up, step_down) = bytes_each_way(&messages);
    let compute_s = match method {
        Method::SplitLearning => {
            // TX runs the encoder side, RX the decoder side.
            let tx_side: Vec<LayerCost> = layers.iter().filter(|l| l.part != Part::Decoder).cloned().collect();
            let tx_flops = step_flops_per_sample(&tx_side, &t) * batch;
            let rx_flops = flops_per_step - tx_flops;
            steps as f64 * (tx_flops as f64 / p.tx_flops_per_s + rx_flops as f64 / p.rx_flops_per_s)
        }
        _ => (flops_per_step * steps) as f64 / p.tx_flops_per_s,
    };
    MethodCost {
        download_bytes: once_down + step_down * steps,
        upload_bytes: once_up + step_up * steps,
        per_step_up_bytes: step_up,
        per_step_down_bytes: step_down,
        flops_per_step,
        download_s: transfer_s(once_down, p.down_bps, p.latency_s) + steps as f64 * step_s(false, p.down_bps),
        compute_s,
        upload_s: transfer_s(once_up, p.up_bps, p.latency_s) + steps as f64 * step_s(true, p.up_bps),
        pilot_tx_flops: 0,
        pilot_rx_flops: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_flops_match_hand_computation() {
        let cfg = ModelConfig::default();
        let l = layer_costs(&cfg, 1);
        // Encoder layer 0: conv 1->32, k4 s2, 32x32 -> 16x16:
        // 2 · C_out(32) · H_out(16) · W_out(16) · C_in(1) · k²(16) = 262,144.
        assert_eq!(l[0].forward_flops, 2 * 32 * 16 * 16 * 16);
        assert_eq!(l[0].params, 32 * 16 + 32);
        // Encoder layer 1: conv 32->64, k4 s2, 16 -> 8: 2·64·8·8·32·16 = 4,194,304.
        assert_eq!(l[1].forward_flops, 4_194_304);
        // Decoder layer 1: conv-transpose 64->64, k4 s2, 8 -> 16: 2·64·8·8·64·16 = 8,388,608.
        let d1 = l.iter().find(|x| x.part == Part::Decoder && x.index == 1).unwrap();
        assert_eq!(d1.forward_flops, 8_388_608);
        assert_eq!(d1.params, 64 * 64 * 16 + 64);
        // Decoder layer 3 (L = 4): conv 32->1, k3, 32x32: 2·1·32·32·32·9 = 589,824.
        let d3 = l.iter().find(|x| x.part == Part::Decoder && x.index == 3).unwrap();
        assert_eq!(d3.forward_flops, 589_824);
        assert_eq!(l.iter().filter(|x| x.part == Part::Decoder).count(), cfg.decoder_layers());
    }

    #[test]
    fn step_flops_and_upload_shrink_with_each_frozen_layer() {
        let cfg = ModelConfig::default();
        let l = layer_costs(&cfg, 1);
        let big_l = cfg.decoder_layers();
        let mut prev = (u64::MAX, u64::MAX);
        for frozen in 0..=big_l {
            let flags: Vec<bool> = (0..big_l).map(|i| i < big_l - frozen).collect();
            let f = step_flops_per_sample(&l, &Trainable { codebook: true, decoder: flags.clone() });
            let b = decoder_bytes(&l, &flags, true);
            assert!(f < prev.0 && b < prev.1, "ℓ={frozen}: flops {f}, bytes {b}");
            prev = (f, b);
        }
    }

    #[test]
    fn recovery_time_parts_by_hand() {
        use crate::align::FreezeSide;
        let cfg = ModelConfig::default();
        let p = CostParams { down_bps: 8e6, up_bps: 4e6, latency_s: 0.01, tx_flops_per_s: 1e9, rx_flops_per_s: 2e9 };
        let l = layer_costs(&cfg, 1);
        let dec_params: u64 = l.iter().filter(|x| x.part != Part::Encoder).map(|x| x.params).sum();
        let c = method_cost(&cfg, 1, &Method::Slf { freeze: 0, side: FreezeSide::Output }, 10, 64, &p);
        // Download and upload: the whole decoder and codebook, 4 bytes a parameter.
        assert_eq!(c.download_bytes, dec_params * 4);
        assert_eq!(c.upload_bytes, dec_params * 4);
        assert!((c.download_s - (0.01 + dec_params as f64 * 32.0 / 8e6)).abs() < 1e-12);
        assert!((c.upload_s - (0.01 + dec_params as f64 * 32.0 / 4e6)).abs() < 1e-12);
        assert!((c.compute_s - c.flops_per_step as f64 * 10.0 / 1e9).abs() < 1e-9);
        // Split learning: no decoder on the air, but 64 x (z + image) floats each way per step,
        // and the codebook (64 x 16 floats) down before and up after.
        let s = method_cost(&cfg, 1, &Method::SplitLearning, 10, 64, &p);
        let (z, img) = (64 * 16 * 8 * 8 * 4, 64 * 32 * 32 * 4);
        assert_eq!((s.per_step_up_bytes, s.per_step_down_bytes), (z + img, z + img));
        assert_eq!(s.upload_bytes, 64 * 16 * 4 + 10 * (z + img));
        assert_eq!(s.download_bytes, 64 * 16 * 4 + 10 * (z + img));
        // Four messages a step, each one latency: z and ∂L/∂x̂ up, x̂ and ∂L/∂z down.
        let up_s =
            (0.01 + 64.0 * 16.0 * 32.0 / 4e6) + 10.0 * (0.01 + z as f64 * 8.0 / 4e6 + 0.01 + img as f64 * 8.0 / 4e6);
        assert!((s.upload_s - up_s).abs() < 1e-9, "{} vs {up_s}", s.upload_s);
        assert_eq!(s.flops_per_step, c.flops_per_step, "same learning, same FLOPs");
        assert!(s.compute_s < c.compute_s, "RX's faster compute takes the decoder side");
        assert_eq!(
            method_cost(&cfg, 1, &Method::None, 10, 64, &p),
            MethodCost {
                download_bytes: 0,
                upload_bytes: 0,
                per_step_up_bytes: 0,
                per_step_down_bytes: 0,
                flops_per_step: 0,
                download_s: 0.0,
                compute_s: 0.0,
                upload_s: 0.0,
                pilot_tx_flops: 0,
                pilot_rx_flops: 0,
            }
        );
    }

    #[test]
    fn split_plan_adds_up_to_the_cost_model() {
        let cfg = ModelConfig::default();
        let p = CostParams::default();
        let plan = split_learning_plan(&cfg, 1, 64);
        let c = method_cost(&cfg, 1, &Method::SplitLearning, 10, 64, &p);
        assert_eq!(plan.flops.iter().sum::<u64>(), c.flops_per_step);
        let step = |up: bool| plan.messages.iter().filter(|m| m.0 == up).map(|m| m.1).sum::<u64>();
        assert_eq!((step(true), step(false)), (c.per_step_up_bytes, c.per_step_down_bytes));
        assert_eq!(plan.once_down + 10 * step(false), c.download_bytes);
        assert_eq!(plan.once_up + 10 * step(true), c.upload_bytes);
        // The codebook (K·D f32) each way; TX's forward is its encoder and the codeword
        // search (per image 4,718,592 FLOPs, as in `pilot_bytes_and_flops_by_hand`).
        assert_eq!((plan.once_down, plan.once_up), (64 * 16 * 4, 64 * 16 * 4));
        assert_eq!(plan.flops[0], 64 * (262_144 + 4_194_304 + 131_072 + 131_072));
        // RX runs the whole decoder forward; every backward share is positive.
        let dec: u64 = layer_costs(&cfg, 1).iter().filter(|l| l.part == Part::Decoder).map(|l| l.forward_flops).sum();
        assert_eq!(plan.flops[1], 64 * dec);
        assert!(plan.flops[2] > plan.flops[1] && plan.flops[3] > 0, "{plan:?}");
    }

    #[test]
    fn pilot_bytes_and_flops_by_hand() {
        let cfg = ModelConfig::default(); // K = 64, D = 16, g = 8, encoder 1 -> 32 -> 64 -> 16
        let p = CostParams { down_bps: 8e6, up_bps: 4e6, latency_s: 0.01, tx_flops_per_s: 1e9, rx_flops_per_s: 2e9 };
        let m = Method::LatentMap { pilots: 4, map: MapKind::Linear };
        let c = method_cost(&cfg, 1, &m, 600, 64, &p);
        // 4 pilots × 64 indices × 6 bits = 4 × 48 B, and TX's codebook 64 × 16 × 4 B.
        assert_eq!(c.upload_bytes, 4 * 48 + 4096);
        assert_eq!((c.download_bytes, c.download_s, c.flops_per_step), (0, 0.0, 0));
        assert!((c.upload_s - (0.01 + (4.0 * 48.0 + 4096.0) * 8.0 / 4e6)).abs() < 1e-12);
        // Encoding one image: 262,144 + 4,194,304 (convs) + 2·16·64·8·8·1 = 131,072 (1x1 conv)
        // + 2·64·16·64 = 131,072 (codeword search).
        let encode: u64 = 262_144 + 4_194_304 + 131_072 + 131_072;
        assert_eq!(c.pilot_tx_flops, 4 * encode);
        // n = 4 × 64 = 256 pairs: XᵀX + XᵀY 4·256·16², solve 2·16³,
        // 64 codewords through the map 2·64·16², re-quantised 2·64²·16.
        let fit = 4 * 256 * 256 + 2 * 4096 + 2 * 64 * 256 + 2 * 4096 * 16;
        assert_eq!(c.pilot_rx_flops, 4 * encode + fit);
        assert!((c.compute_s - (4.0 * encode as f64 / 1e9 + (4 * encode + fit) as f64 / 2e9)).abs() < 1e-15);
        assert_eq!(c.total_flops(600), 8 * encode + fit, "no fine-tuning steps count");
        // The index table needs no codebook: 48 B a pilot; its fit is n + K².
        let c = method_cost(&cfg, 1, &Method::IndexMap { pilots: 4 }, 600, 64, &p);
        assert_eq!(c.upload_bytes, 4 * 48);
        assert_eq!(c.pilot_rx_flops, 4 * encode + 256 + 64 * 64);
    }

    #[test]
    fn transfer_time_is_latency_plus_serialisation() {
        assert_eq!(transfer_s(0, 1e6, 0.5), 0.0);
        assert!((transfer_s(125_000, 1e6, 0.01) - 1.01).abs() < 1e-12);
    }
}
