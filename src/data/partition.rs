//! Cutting a user's local data out of a data set's split.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use serde::{Deserialize, Serialize};

use super::DataError;

/// How a user's local data is cut from a data set's split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Partition {
    /// Every item of the split.
    #[default]
    All,
    /// `size` items drawn uniformly without replacement.
    Iid { size: usize },
    /// `size` items whose class mix follows p ~ Dir(alpha, ..., alpha): small alpha = few classes.
    Dirichlet { alpha: f64, size: usize },
}

/// Indices into `labels` (sorted ascending) chosen by `partition` with `rng`.
///
/// * `All`: every index.
/// * `Iid { size }`: a uniform sample of `size` indices without replacement (`size > len` is an error).
/// * `Dirichlet { alpha, size }`: class proportions p ~ Dir(alpha, ..., alpha) over `num_classes`,
///   then round(p_c * size) items of class c without replacement (largest-remainder rounding so the
///   total is exactly `size`); if a class runs out, its excess is taken from the other classes in
///   order of decreasing proportion.
///
/// Deterministic given the rng state.
pub fn select(
    labels: &[u8],
    num_classes: usize,
    partition: &Partition,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<usize>, DataError> {
    let bad = |msg: String| DataError::BadPartition { msg };
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= num_classes) {
        return Err(bad(format!("label {l} at index {i} is not below num_classes = {num_classes}")));
    }
    match *partition {
        Partition::All => Ok((0..labels.len()).collect()),
        Partition::Iid { size } => {
            if size > labels.len() {
                return Err(bad(format!("iid size {size} exceeds the {} items available", labels.len())));
            }
            let mut all: Vec<usize> = (0..labels.len()).collect();
            let mut idx = sample_from(&mut all, size, rng);
            idx.sort_unstable();
            Ok(idx)
        }
        Partition::Dirichlet { alpha, size } => {
            if !(alpha.is_finite() && alpha > 0.0) {
                return Err(bad(format!("dirichlet alpha must be finite and > 0, got {alpha}")));
            }
            if num_classes == 0 {
                return Err(bad("dirichlet partition needs num_classes > 0".into()));
            }
            if size > labels.len() {
                return Err(bad(format!("dirichlet size {size} exceeds the {} items available", labels.len())));
            }
            let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); num_classes];
            for (i, &l) in labels.iter().enumerate() {
                by_class[l as usize].push(i);
            }
            let p = dirichlet(alpha, num_classes, rng);
            let avail: Vec<usize> = by_class.iter().map(Vec::len).collect();
            let counts = class_counts(&p, &avail, size);
            let mut idx = Vec::with_capacity(size);
            for (pool, &k) in by_class.iter_mut().zip(&counts) {
                idx.extend(sample_from(pool, k, rng));
            }
            idx.sort_unstable();
            Ok(idx)
        }
    }
}

/// Partial Fisher-Yates: `k` distinct elements of `pool` (which gets reordered).
fn sample_from(pool: &mut [usize], k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    debug_assert!(k <= pool.len());
    for i in 0..k {
        let j = rng.random_range(i..pool.len());
        pool.swap(i, j);
    }
    pool[..k].to_vec()
}

/// p ~ Dir(alpha, ..., alpha) of dimension `k`, computed in log space so tiny alphas
/// (whose Gamma draws underflow to 0) still give a valid distribution.
pub(crate) fn dirichlet(alpha: f64, k: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    // ln Gamma(alpha) = ln Gamma(alpha + 1) + ln(U) / alpha   (boosting; exact in distribution).
    let gamma = Gamma::new(alpha + 1.0, 1.0).expect("alpha + 1 > 0");
    let logs: Vec<f64> = (0..k)
        .map(|_| {
            let g: f64 = gamma.sample(rng);
            let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            g.max(f64::MIN_POSITIVE).ln() + u.ln() / alpha
        })
        .collect();
    let m = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = logs.iter().map(|l| (l - m).exp()).collect();
    let s: f64 = w.iter().sum();
    w.into_iter().map(|x| x / s).collect()
}

/// Per-class counts summing to `size`: largest-remainder rounding of p*size, capped by
/// availability, with the excess refilled from other classes in decreasing-p order.
fn class_counts(p: &[f64], avail: &[usize], size: usize) -> Vec<usize> {
    let k = p.len();
    let exact: Vec<f64> = p.iter().map(|&pc| pc * size as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|&e| e.floor() as usize).collect();
    let mut left = size.saturating_sub(counts.iter().sum());
    let mut by_frac: Vec<usize> = (0..k).collect();
    by_frac.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &c in by_frac.iter().cycle().take(k * 2) {
        if left == 0 {
            break;
        }
        counts[c] += 1;
        left -= 1;
    }
    // Cap by availability and refill from the other classes, biggest proportion first.
    let mut excess = 0;
    for (c, a) in counts.iter_mut().zip(avail) {
        if *c > *a {
            excess += *c - *a;
            *c = *a;
        }
    }
    let mut by_p: Vec<usize> = (0..k).collect();
    by_p.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    for &c in &by_p {
        if excess == 0 {
            break;
        }
        let add = (avail[c] - counts[c]).min(excess);
        counts[c] += add;
        excess -= add;
    }
    debug_assert_eq!(excess, 0, "size <= total available was checked");
    counts
}
