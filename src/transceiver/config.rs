//! Plain configuration structs: what a transceiver looks like (`ModelConfig`),
//! how it is trained (`TrainConfig`) and the *profile* that names a data set,
//! a channel, a seed and a training budget.

use serde::{Deserialize, Serialize};

use super::channel::ChannelSpec;
use crate::data::{ColorMode, DatasetKind, Partition};

/// Sizes of encoder θ, codebook and decoder φ (defaults are the paper-style
/// network of the issue: 8x8 grid of D=16 latents, K=64 codewords, L=4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Output channels of the encoder's stride-2 convolutions (each halves the side).
    pub encoder_channels: Vec<i64>,
    /// Latent dimension D (= codeword dimension).
    pub latent_dim: i64,
    /// Number of codewords K (a power of two, so an index is log2 K bits).
    pub codebook_size: i64,
    /// Channels of decoder layers 1..L-1; layer 1 is a k3 conv from D, the
    /// next ones are stride-2 transposed convs, the last layer (L) is a k3
    /// conv to the image channels. So L = decoder_channels.len() + 1.
    pub decoder_channels: Vec<i64>,
    /// Classifier conv channels (each conv is followed by a 2x2 max-pool).
    pub classifier_channels: Vec<i64>,
    pub classifier_hidden: i64,
    /// Weight of the commitment loss (β in VQ-VAE).
    pub commitment: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            encoder_channels: vec![32, 64],
            latent_dim: 16,
            codebook_size: 64,
            decoder_channels: vec![64, 64, 32],
            classifier_channels: vec![16, 32],
            classifier_hidden: 64,
            commitment: 0.25,
        }
    }
}

impl ModelConfig {
    /// Number of decoder weight layers L.
    pub fn decoder_layers(&self) -> usize {
        self.decoder_channels.len() + 1
    }
    /// Side of the latent grid for 32x32 images.
    pub fn grid_side(&self) -> i64 {
        32 >> self.encoder_channels.len()
    }
    /// Bits per transmitted index.
    pub fn bits_per_index(&self) -> u32 {
        (self.codebook_size as u64).trailing_zeros()
    }
    /// Checks the sizes fit together; the message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        let k = self.codebook_size;
        if k < 2 || (k & (k - 1)) != 0 {
            return Err(format!("codebook_size: {k} must be a power of two >= 2"));
        }
        if self.latent_dim < 1 {
            return Err("latent_dim: must be >= 1".into());
        }
        if self.encoder_channels.is_empty() || self.encoder_channels.len() > 4 {
            return Err("encoder_channels: needs 1 to 4 entries (each halves the 32-pixel side)".into());
        }
        if self.decoder_channels.len() != self.encoder_channels.len() + 1 {
            return Err(format!(
                "decoder_channels: needs {} entries (one k3 conv plus one stride-2 transposed conv per encoder downsampling), has {}",
                self.encoder_channels.len() + 1,
                self.decoder_channels.len()
            ));
        }
        if self.classifier_channels.is_empty() || self.classifier_channels.len() > 4 {
            return Err("classifier_channels: needs 1 to 4 entries".into());
        }
        for (name, v) in [
            ("encoder_channels", &self.encoder_channels),
            ("decoder_channels", &self.decoder_channels),
            ("classifier_channels", &self.classifier_channels),
        ] {
            if v.iter().any(|&c| c < 1) {
                return Err(format!("{name}: channel counts must be >= 1"));
            }
        }
        if self.classifier_hidden < 1 {
            return Err("classifier_hidden: must be >= 1".into());
        }
        if !(self.commitment >= 0.0 && self.commitment.is_finite()) {
            return Err("commitment: must be a finite number >= 0".into());
        }
        Ok(())
    }
}

/// Training budget and optimiser settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Optimiser steps of the VQ-VAE (encoder, codebook, decoder).
    pub steps: usize,
    /// Optimiser steps of the receiver's classifier (on clean images).
    pub classifier_steps: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Every this many steps, codewords unused since the last check are
    /// restarted at random encoder outputs (keeps the codebook from collapsing).
    pub restart_every: usize,
    /// Test images used for the metrics stored with the checkpoint.
    pub eval_images: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            steps: 3000,
            classifier_steps: 1500,
            batch_size: 64,
            learning_rate: 2e-3,
            restart_every: 100,
            eval_images: 2000,
        }
    }
}

/// A profile's local data: which data set, how it is cut, grey or colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    pub dataset: DatasetKind,
    #[serde(default)]
    pub partition: Partition,
    #[serde(default)]
    pub color: ColorMode,
}

/// A named way of being a transceiver: data, channel, seed, training budget
/// and model sizes. Two profiles that differ only in `seed` are trained apart
/// and are misaligned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub data: DataSpec,
    pub channel: ChannelSpec,
    pub seed: u64,
    #[serde(default)]
    pub train: TrainConfig,
    #[serde(default)]
    pub model: ModelConfig,
}

impl Profile {
    /// Image channels the model consumes and produces.
    pub fn image_channels(&self) -> i64 {
        self.data.color.channels() as i64
    }

    /// Hash of everything that determines the trained weights (the name and
    /// the evaluation size do not): a checkpoint is up to date when it matches.
    pub fn config_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut train = self.train.clone();
        train.eval_images = 0;
        let key = serde_json::json!({
            "data": self.data,
            "channel": self.channel,
            "seed": self.seed,
            "train": train,
            "model": self.model,
            "format": super::checkpoint::FORMAT_VERSION,
        });
        hex::encode(Sha256::digest(key.to_string().as_bytes()))
    }
}
