//! The codebook: K codewords of dimension D. Quantisation maps each latent to
//! its nearest codeword; the index is what crosses the channel.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

#[derive(Debug)]
pub struct Codebook {
    /// (K, D)
    pub weight: Tensor,
}

/// How much of the codebook a set of messages uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CodebookUsage {
    /// Codewords used at least once.
    pub used: usize,
    pub size: usize,
    /// exp(entropy) of the index histogram: the effective number of codewords.
    pub perplexity: f64,
}

impl Codebook {
    /// Placeholder weights; `init_from` replaces them with encoder outputs
    /// before training (random codewords far from the latents go unused).
    pub fn new(k: i64, d: i64) -> Codebook {
        Codebook { weight: Tensor::zeros([k, d], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true) }
    }

    pub fn deep_clone(&self) -> Codebook {
        Codebook { weight: self.weight.detach().copy().set_requires_grad(true) }
    }

    pub fn size(&self) -> i64 {
        self.weight.size()[0]
    }

    /// Sets the codewords to `k` latents drawn from `flat` (N, D) by `rng`.
    pub fn init_from(&mut self, flat: &Tensor, rng: &mut ChaCha8Rng) {
        let n = flat.size()[0];
        let k = self.size();
        let idx: Vec<i64> = (0..k).map(|_| rng.random_range(0..n)).collect();
        let picked = flat.detach().index_select(0, &Tensor::from_slice(&idx));
        tch::no_grad(|| self.weight.copy_(&picked));
    }

    /// Nearest-codeword indices of `flat` (N, D) -> (N,) i64.
    pub fn quantize(&self, flat: &Tensor) -> Tensor {
        // ||z - c||² = ||z||² - 2 z·c + ||c||²; ||z||² does not change the argmin.
        let w = self.weight.detach();
        let dist = w.pow_tensor_scalar(2).sum_dim_intlist([1i64].as_slice(), false, Kind::Float).unsqueeze(0)
            - flat.detach().matmul(&w.tr()) * 2.0;
        dist.argmin(1, false)
    }

    /// Codewords for indices (N,) -> (N, D), differentiable w.r.t. the codebook.
    pub fn lookup(&self, idx: &Tensor) -> Tensor {
        self.weight.index_select(0, idx)
    }

    /// Restarts codewords whose `counts` are zero at latents drawn from `flat`,
    /// so every codeword keeps carrying information. Returns how many restarted.
    pub fn restart_dead(&mut self, counts: &[i64], flat: &Tensor, rng: &mut ChaCha8Rng) -> usize {
        let n = flat.size()[0];
        let dead: Vec<i64> = counts.iter().enumerate().filter(|(_, &c)| c == 0).map(|(i, _)| i as i64).collect();
        if dead.is_empty() {
            return 0;
        }
        let src: Vec<i64> = dead.iter().map(|_| rng.random_range(0..n)).collect();
        let fresh = flat.detach().index_select(0, &Tensor::from_slice(&src));
        tch::no_grad(|| {
            let _ = self.weight.index_copy_(0, &Tensor::from_slice(&dead), &fresh);
        });
        dead.len()
    }
}

/// Usage statistics of `indices` over a codebook of size `k`.
pub fn usage(indices: &[i64], k: usize) -> CodebookUsage {
    let mut counts = vec![0usize; k];
    for &i in indices {
        counts[i as usize] += 1;
    }
    let n = indices.len().max(1) as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum();
    CodebookUsage { used: counts.iter().filter(|&&c| c > 0).count(), size: k, perplexity: entropy.exp() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_picks_nearest_codeword() {
        let cb = Codebook { weight: Tensor::from_slice(&[0.0f32, 0.0, 1.0, 1.0, -2.0, 3.0]).reshape([3, 2]) };
        let z = Tensor::from_slice(&[0.9f32, 1.2, -1.5, 2.0, 0.1, -0.1]).reshape([3, 2]);
        let idx: Vec<i64> = Vec::try_from(cb.quantize(&z)).unwrap();
        assert_eq!(idx, vec![1, 2, 0]);
    }

    #[test]
    fn usage_counts_and_perplexity() {
        let u = usage(&[0, 1, 2, 3], 8);
        assert_eq!(u.used, 4);
        assert!((u.perplexity - 4.0).abs() < 1e-9);
        let u = usage(&[5, 5, 5], 8);
        assert_eq!(u.used, 1);
        assert!((u.perplexity - 1.0).abs() < 1e-9);
    }
}
