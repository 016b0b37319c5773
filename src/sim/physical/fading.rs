//! Random radio effects on top of the path loss, each drawn from a seeded
//! stream the caller owns (one per user), so the numbers depend on the seed
//! and the user only.
//!
//! - Block Rayleigh fading: the power gain |h|² is Exp(1), constant over a
//!   coherence block and independent across blocks (Goldsmith, §3.2.1 and
//!   §4.2.4, the block-fading model).
//! - Log-normal shadowing that moves with the user: an AR(1) process in the
//!   distance walked, S' = ρS + √(1 − ρ²)·σ·Z with ρ = exp(−Δd / d_corr)
//!   (Gudmundson, Electronics Letters 27(23), 1991; 3GPP TR 38.901 §7.4.4
//!   uses the same exponential autocorrelation, e.g. d_corr = 13 m UMi NLOS,
//!   50 m UMa NLOS).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

/// Block Rayleigh fading of one link: block k covers
/// [k·coherence, (k + 1)·coherence).
#[derive(Debug, Clone)]
pub struct BlockFading {
    coherence_s: f64,
    block: u64,
    gain: f64,
    rng: ChaCha8Rng,
}

impl BlockFading {
    /// `coherence_s` > 0. Draws block 0's gain at once.
    pub fn new(coherence_s: f64, mut rng: ChaCha8Rng) -> BlockFading {
        let gain = Exp1.sample(&mut rng);
        BlockFading { coherence_s, block: 0, gain, rng }
    }

    /// The power gain |h|² at time `t_s` (non-decreasing across calls):
    /// every block since the last call is drawn in order, so the gains are a
    /// function of the seed and the block index only, whatever the calls.
    pub fn gain_at(&mut self, t_s: f64) -> f64 {
        let block = (t_s / self.coherence_s).floor().max(0.0) as u64;
        while self.block < block {
            self.gain = Exp1.sample(&mut self.rng);
            self.block += 1;
        }
        self.gain
    }
}

/// Shadowing of one link in dB (a loss: positive means weaker).
#[derive(Debug, Clone)]
pub struct Shadowing {
    sigma_db: f64,
    decorrelation_m: f64,
    value_db: f64,
}

impl Shadowing {
    /// Starts at a N(0, σ²) draw.
    pub fn new(sigma_db: f64, decorrelation_m: f64, rng: &mut impl Rng) -> Shadowing {
        let z: f64 = StandardNormal.sample(rng);
        Shadowing { sigma_db, decorrelation_m, value_db: sigma_db * z }
    }

    pub fn db(&self) -> f64 {
        self.value_db
    }

    /// The user walked `moved_m`: one AR(1) step (no draw when it did not
    /// move, so a static user keeps its shadowing).
    pub fn walk(&mut self, moved_m: f64, rng: &mut impl Rng) {
        if moved_m <= 0.0 || self.sigma_db == 0.0 {
            return;
        }
        let rho = if self.decorrelation_m > 0.0 { (-moved_m / self.decorrelation_m).exp() } else { 0.0 };
        let z: f64 = StandardNormal.sample(rng);
        self.value_db = rho * self.value_db + (1.0 - rho * rho).sqrt() * self.sigma_db * z;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    #[test]
    fn block_gains_have_mean_one_and_do_not_depend_on_the_call_pattern() {
        let mut f = BlockFading::new(0.1, rng(1));
        let gains: Vec<f64> = (0..100_000).map(|k| f.gain_at(k as f64 * 0.1 + 0.05)).collect();
        let mean = gains.iter().sum::<f64>() / gains.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "E|h|² = {mean}");
        // P(|h|² < x) = 1 − e^{−x}: a 10 dB fade (x = 0.1) happens 9.5% of the time.
        let deep = gains.iter().filter(|&&g| g < 0.1).count() as f64 / gains.len() as f64;
        assert!((deep - (1.0 - (-0.1f64).exp())).abs() < 0.003, "{deep}");
        // Constant within a block; sampled sparsely, the same gains.
        let mut a = BlockFading::new(0.5, rng(7));
        let mut b = BlockFading::new(0.5, rng(7));
        let dense: Vec<f64> = (0..40).map(|k| a.gain_at(k as f64 * 0.25)).collect();
        assert_eq!(dense[0], dense[1]);
        assert_eq!(b.gain_at(7.5), dense[30]);
        assert_eq!(b.gain_at(9.9), dense[39]);
    }

    #[test]
    fn shadowing_is_log_normal_and_decorrelates_with_distance() {
        let n = 20_000;
        let mut r = rng(3);
        let mut s0 = Vec::new();
        let (mut near, mut far) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let mut s = Shadowing::new(8.0, 50.0, &mut r);
            s0.push(s.db());
            let mut t = s.clone();
            s.walk(5.0, &mut r);
            t.walk(500.0, &mut r);
            near.push(s.db());
            far.push(t.db());
        }
        let sd = |v: &[f64]| (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt();
        assert!((sd(&s0) - 8.0).abs() < 0.15, "σ {}", sd(&s0));
        assert!((sd(&near) - 8.0).abs() < 0.15, "the walk keeps σ: {}", sd(&near));
        let corr = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (sd(a) * sd(b) * n as f64);
        assert!((corr(&s0, &near) - (-0.1f64).exp()).abs() < 0.02, "ρ(5 m) = e^-0.1");
        assert!(corr(&s0, &far).abs() < 0.03, "ρ(500 m) = e^-10 ≈ 0");
        let mut still = Shadowing::new(8.0, 50.0, &mut r);
        let v = still.db();
        still.walk(0.0, &mut r);
        assert_eq!(still.db(), v);
    }
}
