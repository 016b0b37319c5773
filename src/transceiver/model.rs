//! Encoder θ, decoder φ and the whole transceiver.

use rand_chacha::ChaCha8Rng;
use tch::Tensor;

use super::classifier::Classifier;
use super::codebook::Codebook;
use super::config::{ModelConfig, Profile};
use super::layers::{Conv, ConvKind};

/// Applies `layers` in order with a ReLU between them (none after the last).
fn relu_chain(layers: &[Conv], x: &Tensor) -> Tensor {
    let last = layers.len() - 1;
    let mut h = x.shallow_clone();
    for (i, l) in layers.iter().enumerate() {
        h = l.forward(&h);
        if i != last {
            h = h.relu();
        }
    }
    h
}

/// Encoder θ: stride-2 k4 convs (ReLU) then a k1 conv to D latent channels.
#[derive(Debug)]
pub struct Encoder {
    pub layers: Vec<Conv>,
}

impl Encoder {
    pub fn new(cfg: &ModelConfig, image_channels: i64, rng: &mut ChaCha8Rng) -> Encoder {
        let mut layers = Vec::new();
        let mut c_in = image_channels;
        for &c in &cfg.encoder_channels {
            layers.push(Conv::new(ConvKind::Conv, c_in, c, 4, 2, 1, rng));
            c_in = c;
        }
        layers.push(Conv::new(ConvKind::Conv, c_in, cfg.latent_dim, 1, 1, 0, rng));
        Encoder { layers }
    }

    pub fn deep_clone(&self) -> Encoder {
        Encoder { layers: self.layers.iter().map(Conv::deep_clone).collect() }
    }

    /// Latents z_e (B, D, g, g).
    pub fn forward(&self, x: &Tensor) -> Tensor {
        relu_chain(&self.layers, x)
    }
}

/// Decoder φ with L weight layers, addressable by index 0..L: a k3 conv from
/// D, stride-2 k4 transposed convs, and a k3 conv to the image with a *linear*
/// output (a sigmoid saturates and the decoder goes dark early in training);
/// outputs are clamped to [0, 1] only when judged.
#[derive(Debug)]
pub struct Decoder {
    pub layers: Vec<Conv>,
}

impl Decoder {
    pub fn new(cfg: &ModelConfig, image_channels: i64, rng: &mut ChaCha8Rng) -> Decoder {
        let ch = &cfg.decoder_channels;
        let mut layers = vec![Conv::new(ConvKind::Conv, cfg.latent_dim, ch[0], 3, 1, 1, rng)];
        for w in ch.windows(2) {
            layers.push(Conv::new(ConvKind::Transpose, w[0], w[1], 4, 2, 1, rng));
        }
        layers.push(Conv::new(ConvKind::Conv, *ch.last().unwrap(), image_channels, 3, 1, 1, rng));
        Decoder { layers }
    }

    /// Reconstruction (B, C, 32, 32), unclamped.
    pub fn forward(&self, z: &Tensor) -> Tensor {
        relu_chain(&self.layers, z)
    }

    pub fn deep_clone(&self) -> Decoder {
        Decoder { layers: self.layers.iter().map(Conv::deep_clone).collect() }
    }
}

/// One user's transceiver: the TX half (encoder θ, codebook, channel ε) and
/// the RX half (codebook, decoder φ, classifier).
#[derive(Debug)]
pub struct Transceiver {
    pub profile: Profile,
    pub encoder: Encoder,
    pub codebook: Codebook,
    pub decoder: Decoder,
    pub classifier: Classifier,
}

impl Transceiver {
    /// Fresh weights from the profile's seeded streams. The codebook is zero
    /// until training initialises it from encoder outputs.
    pub fn new(profile: &Profile) -> Transceiver {
        let cfg = &profile.model;
        let c = profile.image_channels();
        let mut rng = crate::seed::stream(profile.seed, "init", &["transceiver"]);
        let encoder = Encoder::new(cfg, c, &mut rng);
        let decoder = Decoder::new(cfg, c, &mut rng);
        let mut crng = crate::seed::stream(profile.seed, "init", &["classifier"]);
        let classifier = Classifier::new(cfg, c, &mut crng);
        Transceiver {
            profile: profile.clone(),
            encoder,
            codebook: Codebook::new(cfg.codebook_size, cfg.latent_dim),
            decoder,
            classifier,
        }
    }

    /// A deep copy with fresh, trainable storage.
    pub fn deep_clone(&self) -> Transceiver {
        Transceiver {
            profile: self.profile.clone(),
            encoder: self.encoder.deep_clone(),
            codebook: self.codebook.deep_clone(),
            decoder: self.decoder.deep_clone(),
            classifier: self.classifier.deep_clone(),
        }
    }

    pub fn name(&self) -> &str {
        &self.profile.name
    }

    /// Latents flattened to (B·g·g, D), one row per transmitted index.
    pub fn flat_latents(&self, x: &Tensor) -> Tensor {
        let d = self.profile.model.latent_dim;
        self.encoder.forward(x).permute([0, 2, 3, 1]).reshape([-1, d])
    }

    /// Codeword rows (B·g·g, D) back to the decoder's input layout (B, D, g, g).
    pub fn grid(&self, rows: &Tensor) -> Tensor {
        let g = self.profile.model.grid_side();
        let d = self.profile.model.latent_dim;
        rows.reshape([-1, g, g, d]).permute([0, 3, 1, 2])
    }

    /// Every tensor with its checkpoint name, in a fixed order.
    pub fn named_tensors(&self) -> Vec<(String, &Tensor)> {
        let mut v = Vec::new();
        for (i, l) in self.encoder.layers.iter().enumerate() {
            v.push((format!("encoder.{i}.weight"), &l.weight));
            v.push((format!("encoder.{i}.bias"), &l.bias));
        }
        v.push(("codebook".to_string(), &self.codebook.weight));
        for (i, l) in self.decoder.layers.iter().enumerate() {
            v.push((format!("decoder.{i}.weight"), &l.weight));
            v.push((format!("decoder.{i}.bias"), &l.bias));
        }
        v.extend(self.classifier.named_tensors());
        v
    }

    /// Parameters of encoder θ, codebook and decoder φ (what VQ-VAE training updates).
    pub fn vq_params(&self) -> Vec<&Tensor> {
        let mut v: Vec<&Tensor> = self.encoder.layers.iter().flat_map(|l| l.params()).collect();
        v.push(&self.codebook.weight);
        v.extend(self.decoder.layers.iter().flat_map(|l| l.params()));
        v
    }
}
