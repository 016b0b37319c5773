//! The misalignment map: every (TX profile, RX profile) pair, as met, with no
//! alignment. TX's encoder θ and codebook choose indices, TX's channel ε
//! corrupts them, RX's codebook and decoder φ reconstruct, and RX's
//! classifier judges the reconstruction against TX's true labels.

use serde::{Deserialize, Serialize};

use crate::transceiver::{evaluate_link, TestBatch, Transceiver};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairMetrics {
    pub tx: String,
    pub rx: String,
    /// RX classifier's accuracy on reconstructions (TX's true labels).
    pub accuracy: f64,
    pub mse: f64,
    pub psnr_db: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MisalignmentMap {
    pub pairs: Vec<PairMetrics>,
}

impl MisalignmentMap {
    pub fn get(&self, tx: &str, rx: &str) -> Option<&PairMetrics> {
        self.pairs.iter().find(|p| p.tx == tx && p.rx == rx)
    }
}

/// Evaluates all ordered pairs of `models` (TX-major order). `tests[i]` holds
/// held-out images of model i's data set; channel noise for pair (i, j) comes
/// from its own stream of `seed`, so adding a profile changes no other pair.
pub fn misalignment_map(
    models: &[Transceiver],
    tests: &[TestBatch],
    seed: u64,
    mut progress: impl FnMut(usize, usize),
) -> MisalignmentMap {
    let total = models.len() * models.len();
    let mut pairs = Vec::with_capacity(total);
    for (i, tx) in models.iter().enumerate() {
        for rx in models {
            let mut rng = crate::seed::stream(seed, "eval-channel", &[tx.name(), rx.name()]);
            let m = evaluate_link(tx, rx, &rx.classifier, &tests[i], &mut rng);
            pairs.push(PairMetrics {
                tx: tx.name().into(),
                rx: rx.name().into(),
                accuracy: m.accuracy,
                mse: m.mse,
                psnr_db: m.psnr_db,
            });
            progress(pairs.len(), total);
        }
    }
    MisalignmentMap { pairs }
}
