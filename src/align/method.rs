//! Alignment methods, one interface: which parameters TX fine-tunes, what
//! crosses the link, and what it costs.

use serde::{Deserialize, Serialize};

use super::trainable::Trainable;

/// Which end of decoder φ the ℓ frozen layers sit at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreezeSide {
    /// The last ℓ layers (output side): the paper's default.
    #[default]
    Output,
    /// The first ℓ layers (input side, next to the codebook).
    Input,
}

/// The map a `latent_map` aligner fits from TX's codewords to RX's latents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapKind {
    /// y ≈ A x, least squares.
    Linear,
    /// y ≈ A x + b, least squares.
    Affine,
    /// Orthogonal Procrustes after centring and scaling both sides:
    /// y ≈ μ_y + s_y · R (x − μ_x) / s_x with R orthogonal.
    Procrustes,
}

impl MapKind {
    pub fn label(&self) -> &'static str {
        match self {
            MapKind::Linear => "linear",
            MapKind::Affine => "affine",
            MapKind::Procrustes => "procrustes",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The misaligned pair as met: no exchange.
    None,
    /// Split learning with layer freezing: TX downloads RX's decoder φ_j and
    /// codebook, freezes ℓ layers, fine-tunes encoder θ_i, codebook and the
    /// unfrozen layers, uploads the unfrozen layers and the codebook.
    Slf { freeze: usize, side: FreezeSide },
    /// All decoder layers frozen; only TX's encoder (and optionally the codebook) adapts.
    EncoderOnly { codebook: bool },
    /// U-shaped split learning: φ stays at RX and trains there; TX keeps
    /// θ_i, the codebook, its images and the loss. Every step hands the cut's
    /// activations z up, x̂ down, ∂L/∂x̂ up and ∂L/∂z down; the trained
    /// codebook goes up once at the end. Learns like `slf` with ℓ = 0.
    SplitLearning,
    /// Train a new transceiver from scratch at TX and upload its whole decoder and codebook.
    Retrain,
    /// Pilot-based (zero-shot) latent alignment: both ends encode the same
    /// `pilots` public images; TX sends its pilot messages (through its
    /// channel ε_i) and its codebook up; RX fits `map` from TX's codewords to
    /// its own latents z_e and reads TX's messages through it, re-quantised
    /// to its own codebook. Nothing is trained or downloaded.
    LatentMap { pilots: usize, map: MapKind },
    /// Pilot-based index table: TX sends its pilot messages up; RX maps each
    /// TX index to the RX index it co-occurs with most often at the same
    /// latent position of the same pilot. No codebook crosses.
    IndexMap { pilots: usize },
}

impl Method {
    /// Short name for tables and file names, e.g. `slf-l2`.
    pub fn label(&self) -> String {
        match self {
            Method::None => "none".into(),
            Method::Slf { freeze, side: FreezeSide::Output } => format!("slf-l{freeze}"),
            Method::Slf { freeze, side: FreezeSide::Input } => format!("slf-in-l{freeze}"),
            Method::EncoderOnly { codebook: true } => "encoder-only+codebook".into(),
            Method::EncoderOnly { codebook: false } => "encoder-only".into(),
            Method::SplitLearning => "split-learning".into(),
            Method::Retrain => "retrain".into(),
            Method::LatentMap { pilots, map } => format!("latent-map-{}-p{pilots}", map.label()),
            Method::IndexMap { pilots } => format!("index-map-p{pilots}"),
        }
    }

    /// Pilot images a pilot-based aligner needs (None for the others).
    pub fn pilots(&self) -> Option<usize> {
        match self {
            Method::LatentMap { pilots, .. } | Method::IndexMap { pilots } => Some(*pilots),
            _ => None,
        }
    }

    /// ℓ, the number of frozen decoder layers (None where it does not apply).
    pub fn freeze(&self, big_l: usize) -> Option<usize> {
        match self {
            Method::Slf { freeze, .. } => Some(*freeze),
            Method::EncoderOnly { .. } => Some(big_l),
            Method::SplitLearning | Method::Retrain => Some(0),
            Method::None | Method::LatentMap { .. } | Method::IndexMap { .. } => None,
        }
    }

    /// What TX trains, for a decoder of `big_l` layers.
    pub fn trainable(&self, big_l: usize) -> Trainable {
        match *self {
            Method::None | Method::LatentMap { .. } | Method::IndexMap { .. } => {
                Trainable { codebook: false, decoder: vec![false; big_l] }
            }
            Method::Slf { freeze, side } => Trainable {
                codebook: true,
                decoder: (0..big_l)
                    .map(|i| match side {
                        FreezeSide::Output => i < big_l.saturating_sub(freeze),
                        FreezeSide::Input => i >= freeze,
                    })
                    .collect(),
            },
            Method::EncoderOnly { codebook } => Trainable { codebook, decoder: vec![false; big_l] },
            Method::SplitLearning | Method::Retrain => Trainable { codebook: true, decoder: vec![true; big_l] },
        }
    }

    /// What RX hands TX before the fine-tuning: the codebook and decoder φ_j
    /// for the methods that fine-tune at TX, the codebook alone for split
    /// learning (φ_j stays at RX), nothing for `none` and `retrain`.
    pub fn downloads(&self, big_l: usize) -> Trainable {
        match self {
            Method::Slf { .. } | Method::EncoderOnly { .. } => Trainable { codebook: true, decoder: vec![true; big_l] },
            Method::SplitLearning => Trainable { codebook: true, decoder: vec![false; big_l] },
            Method::None | Method::Retrain | Method::LatentMap { .. } | Method::IndexMap { .. } => {
                Trainable { codebook: false, decoder: vec![false; big_l] }
            }
        }
    }

    /// What TX hands RX after the fine-tuning: what it trained, except that
    /// split learning trained φ at RX already and uploads only the codebook.
    /// (The pilot aligners' pilot messages and codebook are costed by
    /// `cost::pilot_cost`, not as trained parameters.)
    pub fn uploads(&self, big_l: usize) -> Trainable {
        match self {
            Method::SplitLearning => Trainable { codebook: true, decoder: vec![false; big_l] },
            _ => self.trainable(big_l),
        }
    }

    pub fn validate(&self, big_l: usize) -> Result<(), String> {
        match self {
            Method::Slf { freeze, .. } if *freeze > big_l => {
                Err(format!("freeze: ℓ = {freeze} > L = {big_l} decoder layers"))
            }
            Method::LatentMap { pilots: 0, .. } | Method::IndexMap { pilots: 0 } => {
                Err("pilots: must be at least 1".into())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freezing_flags_follow_side_and_count() {
        let t = Method::Slf { freeze: 1, side: FreezeSide::Output }.trainable(4);
        assert_eq!(t.decoder, vec![true, true, true, false]);
        let t = Method::Slf { freeze: 1, side: FreezeSide::Input }.trainable(4);
        assert_eq!(t.decoder, vec![false, true, true, true]);
        assert_eq!(Method::Slf { freeze: 0, side: FreezeSide::Output }.trainable(4).decoder, vec![true; 4]);
        assert_eq!(Method::Slf { freeze: 4, side: FreezeSide::Output }.trainable(4).decoder, vec![false; 4]);
        assert!(Method::Slf { freeze: 5, side: FreezeSide::Output }.validate(4).is_err());
    }
}
