//! The discrete channel ε between a transmitter's indices and a receiver.
//! Noise is drawn from a seeded ChaCha stream on the CPU (never from
//! LibTorch's global generator), so a run is reproducible in parallel code.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Symmetric index channel: with probability ε an index is replaced by a
    /// uniformly drawn *different* index.
    Index,
    /// Binary symmetric channel on the log2 K bits of each index: each bit
    /// flips independently with probability ε.
    Bsc,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    pub kind: ChannelKind,
    pub epsilon: f64,
}

impl ChannelSpec {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.epsilon) {
            return Err(format!("epsilon: {} is outside [0, 1)", self.epsilon));
        }
        Ok(())
    }
}

/// Sends `indices` (each in 0..k, k a power of two) through the channel, in
/// place. Returns how many indices arrived changed.
pub fn apply_channel(spec: &ChannelSpec, k: i64, indices: &mut [i64], rng: &mut ChaCha8Rng) -> usize {
    if spec.epsilon <= 0.0 {
        return 0;
    }
    let mut changed = 0;
    match spec.kind {
        ChannelKind::Index => {
            for idx in indices.iter_mut() {
                if rng.random::<f64>() < spec.epsilon {
                    // Uniform over the k-1 *other* indices.
                    let shift = rng.random_range(1..k);
                    *idx = (*idx + shift) % k;
                    changed += 1;
                }
            }
        }
        ChannelKind::Bsc => {
            let bits = (k as u64).trailing_zeros();
            for idx in indices.iter_mut() {
                let mut mask = 0i64;
                for b in 0..bits {
                    if rng.random::<f64>() < spec.epsilon {
                        mask |= 1 << b;
                    }
                }
                if mask != 0 {
                    *idx ^= mask;
                    changed += 1;
                }
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn flips(kind: ChannelKind, eps: f64, k: i64) -> (f64, Vec<i64>) {
        let spec = ChannelSpec { kind, epsilon: eps };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 200_000;
        let orig: Vec<i64> = (0..n).map(|i| i % k).collect();
        let mut v = orig.clone();
        let changed = apply_channel(&spec, k, &mut v, &mut rng);
        let diff = orig.iter().zip(&v).filter(|(a, b)| a != b).count();
        assert_eq!(changed, diff);
        assert!(v.iter().all(|&i| (0..k).contains(&i)));
        (diff as f64 / n as f64, v)
    }

    #[test]
    fn index_channel_flips_at_rate_epsilon_to_other_indices() {
        let (rate, v) = flips(ChannelKind::Index, 0.1, 64);
        assert!((rate - 0.1).abs() < 0.005, "rate {rate}");
        // Replacement is uniform over the other 63 indices: index 0's
        // replacements (positions where orig==0 changed) hit many values.
        let mut seen = std::collections::HashSet::new();
        for (i, &x) in v.iter().enumerate() {
            if i as i64 % 64 == 0 && x != 0 {
                seen.insert(x);
            }
        }
        assert!(seen.len() > 55, "only {} replacement values", seen.len());
        assert!(!seen.contains(&0));
    }

    #[test]
    fn bsc_flips_bits_at_rate_epsilon() {
        // P(index unchanged) = (1-ε)^bits.
        let (rate, _) = flips(ChannelKind::Bsc, 0.05, 64);
        let expect = 1.0 - 0.95f64.powi(6);
        assert!((rate - expect).abs() < 0.005, "rate {rate} vs {expect}");
    }

    #[test]
    fn noiseless_channel_is_identity() {
        let (rate, _) = flips(ChannelKind::Index, 0.0, 64);
        assert_eq!(rate, 0.0);
    }
}
