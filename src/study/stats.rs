//! Small statistics over replications.

use serde::{Deserialize, Serialize};

/// Mean, sample standard deviation, min and max of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

pub fn mean_std(v: &[f64]) -> Spread {
    let n = v.len();
    if n == 0 {
        return Spread { mean: f64::NAN, std: f64::NAN, min: f64::NAN, max: f64::NAN, n };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    let var = if n > 1 { v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
    Spread {
        mean,
        std: var.sqrt(),
        min: v.iter().cloned().fold(f64::INFINITY, f64::min),
        max: v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_by_hand() {
        let s = mean_std(&[1.0, 2.0, 3.0, 6.0]);
        assert_eq!(s.mean, 3.0);
        assert!((s.std - (14.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max, s.n), (1.0, 6.0, 4));
        assert_eq!(mean_std(&[5.0]).std, 0.0);
    }
}
