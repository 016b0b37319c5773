//! Pilot-based (zero-shot) aligners: both ends encode the same P public pilot
//! images, TX sends its pilot messages up, and RX fits a map from TX's
//! messages to its own latent space (`latent_map`) or index set (`index_map`).
//!
//! Pilots are the *last* P images of the test split of TX's data set. Users'
//! local data come from the train split, and the judge uses the *first*
//! `eval.test_images` of the test split, so the pilots are disjoint from both
//! (an error says so when the test split is too small for both).
//!
//! Both aligners end as a K-entry table T from TX's index to one of RX's
//! codewords, installed at RX as a per-TX codebook C_rx[T]: RX decodes TX's
//! message i with its own φ_j from codeword T[i]. `latent_map` re-quantises
//! the mapped codewords to RX's codebook rather than feeding them to φ_j
//! directly, because φ_j was trained only on RX's K codewords; off-codebook
//! inputs are outside what it learnt, and snapping to the nearest codeword
//! removes the map's residual error whenever it is below half the distance
//! between codewords.

use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use super::method::{MapKind, Method};
use super::payload::Payload;
use crate::data::{self, Split};
use crate::seed::stream;
use crate::transceiver::{apply_channel, TestBatch, TrainError, Transceiver};

/// An affine map of row vectors, y = x·A + b (A is D×D, b has D entries), f64.
#[derive(Debug)]
pub struct LatentMap {
    pub a: Tensor,
    pub b: Tensor,
}

impl LatentMap {
    /// Maps rows `x` (N, D), any float kind, to f64 rows (N, D).
    pub fn apply(&self, x: &Tensor) -> Tensor {
        x.to_kind(Kind::Double).matmul(&self.a) + &self.b
    }
}

/// Fits `kind` from rows `x` (N, D) to rows `y` (N, D) on the CPU in f64.
/// Least squares uses LAPACK's SVD-based solver (`gelsd`), which returns the
/// minimum-norm solution when the pilots span fewer than D directions;
/// Procrustes takes R = U·Vᵀ from the SVD of the cross-covariance of the
/// centred, scaled sides. Both are deterministic for a fixed thread count.
pub fn fit_latent_map(x: &Tensor, y: &Tensor, kind: MapKind) -> Result<LatentMap, tch::TchError> {
    let (x, y) = (x.to_kind(Kind::Double).detach(), y.to_kind(Kind::Double).detach());
    let d = x.size()[1];
    let zero_b = || Tensor::zeros([d], (Kind::Double, tch::Device::Cpu));
    match kind {
        MapKind::Linear => {
            let (a, _, _, _) = x.f_linalg_lstsq(&y, None, "gelsd")?;
            Ok(LatentMap { a, b: zero_b() })
        }
        MapKind::Affine => {
            let ones = Tensor::ones([x.size()[0], 1], (Kind::Double, tch::Device::Cpu));
            let (w, _, _, _) = Tensor::cat(&[&x, &ones], 1).f_linalg_lstsq(&y, None, "gelsd")?;
            Ok(LatentMap { a: w.narrow(0, 0, d), b: w.get(d) })
        }
        MapKind::Procrustes => {
            let (mx, my) =
                (x.mean_dim([0i64].as_slice(), true, Kind::Double), y.mean_dim([0i64].as_slice(), true, Kind::Double));
            let (xc, yc) = (&x - &mx, &y - &my);
            // RMS row norm of each centred side (guarded: all-equal pilots have none).
            let scale =
                |t: &Tensor| (t.square().sum(Kind::Double).double_value(&[]) / t.size()[0] as f64).sqrt().max(1e-12);
            let (sx, sy) = (scale(&xc), scale(&yc));
            let m = (&xc / sx).tr().matmul(&(&yc / sy));
            let (u, _, v) = m.f_svd(true, true)?;
            let a = u.matmul(&v.tr()) * (sy / sx);
            let b = (my - mx.matmul(&a)).squeeze_dim(0);
            Ok(LatentMap { a, b })
        }
    }
}

/// The `index_map` table: T[a] is the RX index seen most often at the same
/// position of the same pilot as TX index `a` (ties to the smaller index); a
/// TX index no pilot produced maps to RX's most frequent pilot index.
pub fn index_table(tx_idx: &[i64], rx_idx: &[i64], k: usize) -> Vec<i64> {
    let mut counts = vec![0u64; k * k];
    let mut overall = vec![0u64; k];
    for (&a, &b) in tx_idx.iter().zip(rx_idx) {
        counts[a as usize * k + b as usize] += 1;
        overall[b as usize] += 1;
    }
    let argmax = |row: &[u64]| {
        let best = row.iter().copied().max().unwrap_or(0);
        row.iter().position(|&c| c == best).unwrap_or(0) as i64
    };
    let fallback = argmax(&overall);
    (0..k)
        .map(|a| {
            let row = &counts[a * k..(a + 1) * k];
            if row.iter().all(|&c| c == 0) {
                fallback
            } else {
                argmax(row)
            }
        })
        .collect()
}

/// The last `p` images of the test split of `tx`'s data set, which must not
/// reach into the first `judged` (the judge's test images).
pub fn pilot_images(
    tx: &Transceiver,
    data_dir: &std::path::Path,
    p: usize,
    judged: usize,
) -> Result<Tensor, TrainError> {
    let d = &tx.profile.data;
    let set = data::load_cached(data_dir, d.dataset, Split::Test, d.color)?;
    if p + judged > set.len() {
        return Err(TrainError::Config {
            profile: tx.name().into(),
            msg: format!(
                "{p} pilots and {judged} judged test images need {} images, but the test split has {}; \
                 pilots must be disjoint from the judged images (lower the pilots or eval.test_images)",
                p + judged,
                set.len()
            ),
        });
    }
    let idx: Vec<usize> = (set.len() - p..set.len()).collect();
    Ok(TestBatch::from_set(&set.subset(&idx)).images)
}

/// What a pilot exchange leaves behind: RX's per-TX view (its codebook
/// replaced by C_rx[T]), what TX sent, and its bytes on the air.
pub struct PilotExchange {
    pub rx_view: Transceiver,
    /// TX's pilot messages as received (and, for `latent_map`, TX's codebook).
    pub sent: Payload,
    pub upload_bytes: u64,
}

/// Bytes of one pilot message: g² indices of log2 K bits, packed.
pub fn pilot_message_bytes(tx: &Transceiver) -> u64 {
    let cfg = &tx.profile.model;
    let g = cfg.grid_side() as u64;
    (g * g * cfg.bits_per_index() as u64).div_ceil(8)
}

/// Runs a pilot-based aligner: TX encodes the pilots, sends its indices
/// through its channel ε_i (one seeded stream per pair), RX encodes the same
/// pilots and fits its table.
pub fn pilot_exchange(
    tx: &Transceiver,
    rx: &Transceiver,
    method: &Method,
    pilots: &Tensor,
    seed: u64,
) -> Result<PilotExchange, TrainError> {
    let k = tx.profile.model.codebook_size;
    let mut rng: ChaCha8Rng = stream(seed, "align-pilot-channel", &[tx.name(), rx.name()]);
    let (received, rx_latents, rx_idx) = tch::no_grad(|| -> Result<_, TrainError> {
        let mut sent: Vec<i64> = Vec::try_from(&tx.codebook.quantize(&tx.flat_latents(pilots)))?;
        apply_channel(&tx.profile.channel, k, &mut sent, &mut rng);
        let z = rx.flat_latents(pilots);
        let rx_idx: Vec<i64> = Vec::try_from(&rx.codebook.quantize(&z))?;
        Ok((sent, z, rx_idx))
    })?;
    let n_pilots = pilots.size()[0] as u64;
    let mut upload_bytes = n_pilots * pilot_message_bytes(tx);
    let mut sent: Payload = vec![("pilot_indices".into(), Tensor::from_slice(&received))];
    let table: Vec<i64> = match method {
        Method::IndexMap { .. } => index_table(&received, &rx_idx, k as usize),
        Method::LatentMap { map, .. } => {
            let c_tx = tx.codebook.weight.detach().copy();
            upload_bytes += c_tx.numel() as u64 * 4;
            let x = c_tx.index_select(0, &Tensor::from_slice(&received));
            let fitted = fit_latent_map(&x, &rx_latents, *map)?;
            // Every TX codeword through the map, re-quantised to RX's codebook.
            let mapped = fitted.apply(&c_tx).to_kind(Kind::Float);
            sent.push(("codebook".into(), c_tx));
            Vec::try_from(&tch::no_grad(|| rx.codebook.quantize(&mapped)))?
        }
        _ => unreachable!("pilot_exchange is called for pilot-based methods only"),
    };
    let view = rx.codebook.weight.detach().index_select(0, &Tensor::from_slice(&table));
    let rx_view = super::payload::install(rx, &vec![("codebook".to_string(), view)])
        .map_err(|msg| TrainError::Config { profile: rx.name().into(), msg })?;
    Ok(PilotExchange { rx_view, sent, upload_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    use rand::Rng;

    /// n rows of D values from a seeded stream, and a D×D matrix the same way.
    fn random(rows: i64, cols: i64, purpose: &str) -> Tensor {
        let mut rng = stream(7, purpose, &[]);
        let v: Vec<f64> = (0..rows * cols).map(|_| rng.random_range(-1.0..1.0)).collect();
        Tensor::from_slice(&v).reshape([rows, cols])
    }

    fn max_abs(t: &Tensor) -> f64 {
        t.abs().max().double_value(&[])
    }

    #[test]
    fn least_squares_recovers_a_known_linear_and_affine_map() {
        let (n, d) = (200, 16);
        let x = random(n, d, "x");
        let a = random(d, d, "a");
        let b = random(1, d, "b").squeeze_dim(0);
        let fit = fit_latent_map(&x, &x.matmul(&a), MapKind::Linear).unwrap();
        assert!(max_abs(&(&fit.a - &a)) < 1e-9, "linear A off by {}", max_abs(&(&fit.a - &a)));
        assert!(max_abs(&fit.b) == 0.0);
        let fit = fit_latent_map(&x, &(x.matmul(&a) + &b), MapKind::Affine).unwrap();
        assert!(max_abs(&(&fit.a - &a)) < 1e-9 && max_abs(&(&fit.b - &b)) < 1e-9);
        // Without an offset term, a linear fit cannot absorb b.
        let lin = fit_latent_map(&x, &(x.matmul(&a) + &b), MapKind::Linear).unwrap();
        assert!(max_abs(&(&lin.a - &a)) > 1e-3);
    }

    #[test]
    fn procrustes_recovers_a_known_rotation_scale_and_shift() {
        let (n, d) = (200, 16);
        let x = random(n, d, "x");
        // A random orthogonal R: the Q of a QR decomposition.
        let (r, _) = Tensor::linalg_qr(&random(d, d, "r"), "reduced");
        let shift = random(1, d, "b").squeeze_dim(0);
        let y = x.matmul(&r) * 2.5 + &shift;
        let fit = fit_latent_map(&x, &y, MapKind::Procrustes).unwrap();
        assert!(max_abs(&(&fit.a - &r * 2.5)) < 1e-9, "A off by {}", max_abs(&(&fit.a - &r * 2.5)));
        assert!(max_abs(&(&fit.b - &shift)) < 1e-9);
        assert!(max_abs(&(fit.apply(&x) - &y)) < 1e-9);
        // A general (non-orthogonal) map is beyond Procrustes: its residual stays.
        let y = x.matmul(&random(d, d, "a"));
        let fit = fit_latent_map(&x, &y, MapKind::Procrustes).unwrap();
        assert!(max_abs(&(fit.apply(&x) - &y)) > 1e-2);
    }

    #[test]
    fn index_table_takes_the_majority_and_falls_back_to_the_mode() {
        // TX index 0 meets RX 2 twice and RX 1 once; TX 1 meets RX 3; TX 2 is never seen.
        let t = index_table(&[0, 0, 0, 1], &[2, 1, 2, 3], 4);
        assert_eq!(t, vec![2, 3, 2, 2]);
    }
}
