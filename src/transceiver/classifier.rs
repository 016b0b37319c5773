//! The receiver's classifier: a small CNN trained on clean images of the
//! receiver's own data set, then used frozen to judge reconstructions.

use rand_chacha::ChaCha8Rng;
use tch::Tensor;

use super::config::ModelConfig;
use super::layers::{Conv, ConvKind, Linear};

#[derive(Debug)]
pub struct Classifier {
    pub convs: Vec<Conv>,
    pub hidden: Linear,
    pub out: Linear,
}

pub const NUM_CLASSES: i64 = 10;

impl Classifier {
    pub fn new(cfg: &ModelConfig, image_channels: i64, rng: &mut ChaCha8Rng) -> Classifier {
        let mut convs = Vec::new();
        let mut c_in = image_channels;
        for &c in &cfg.classifier_channels {
            convs.push(Conv::new(ConvKind::Conv, c_in, c, 3, 1, 1, rng));
            c_in = c;
        }
        let side = 32 >> cfg.classifier_channels.len();
        let hidden = Linear::new(c_in * side * side, cfg.classifier_hidden, rng);
        let out = Linear::new(cfg.classifier_hidden, NUM_CLASSES, rng);
        Classifier { convs, hidden, out }
    }

    pub fn deep_clone(&self) -> Classifier {
        Classifier {
            convs: self.convs.iter().map(Conv::deep_clone).collect(),
            hidden: self.hidden.deep_clone(),
            out: self.out.deep_clone(),
        }
    }

    /// Class logits (B, 10) for images (B, C, 32, 32).
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = x.shallow_clone();
        for conv in &self.convs {
            h = conv.forward(&h).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        }
        self.out.forward(&self.hidden.forward(&h.flatten(1, -1)).relu())
    }

    pub fn named_tensors(&self) -> Vec<(String, &Tensor)> {
        let mut v = Vec::new();
        for (i, c) in self.convs.iter().enumerate() {
            v.push((format!("classifier.conv{i}.weight"), &c.weight));
            v.push((format!("classifier.conv{i}.bias"), &c.bias));
        }
        v.push(("classifier.hidden.weight".into(), &self.hidden.weight));
        v.push(("classifier.hidden.bias".into(), &self.hidden.bias));
        v.push(("classifier.out.weight".into(), &self.out.weight));
        v.push(("classifier.out.bias".into(), &self.out.bias));
        v
    }
}
