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

/// P(|T| ≤ t) for Student's t with `df` ≥ 1 degrees of freedom, exactly, by
/// the finite sums of Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even
/// df) in θ = atan(t/√df). Costs about df/2 terms.
pub fn t_two_sided(t: f64, df: usize) -> f64 {
    let theta = (t / (df as f64).sqrt()).atan();
    let (s, c2) = (theta.sin(), theta.cos().powi(2));
    // Σ a_k cos^{2k}θ with a_0 = 1 and a_k = a_{k-1}·num(k)/den(k), for k < terms.
    let series = |terms: usize, ratio: &dyn Fn(f64) -> f64| {
        let (mut sum, mut a) = (0.0, 1.0);
        for k in 0..terms {
            if k > 0 {
                a *= ratio(k as f64) * c2;
            }
            sum += a;
            if a < 1e-17 * sum {
                break;
            }
        }
        sum
    };
    if df % 2 == 1 {
        // (2/π)(θ + sinθ cosθ (1 + 2/3 cos²θ + 2·4/(3·5) cos⁴θ + …)), (df-1)/2 terms.
        let sum = series((df - 1) / 2, &|k| 2.0 * k / (2.0 * k + 1.0));
        2.0 / std::f64::consts::PI * (theta + s * theta.cos() * sum)
    } else {
        // sinθ (1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + …), df/2 terms.
        s * series(df / 2, &|k| (2.0 * k - 1.0) / (2.0 * k))
    }
}

/// 97.5% quantile of Student's t with `df` degrees of freedom (NaN for 0):
/// the t with P(|T| ≤ t) = 0.95, by bisection on the exact distribution.
pub fn t975(df: usize) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    // t(0.975, 1) = 12.706 is the largest; the quantile falls with df.
    let (mut lo, mut hi) = (0.0f64, 13.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if t_two_sided(mid, df) < 0.95 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 {
            break;
        }
    }
    0.5 * (lo + hi)
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

    #[test]
    fn t_quantiles_match_closed_forms_and_published_tables() {
        // Closed forms: df 1 is Cauchy, t = tan(0.475π); df 2 has t = (2p-1)/√(2p(1-p)).
        assert!((t975(1) - (0.475 * std::f64::consts::PI).tan()).abs() < 1e-9, "{}", t975(1));
        assert!((t975(2) - 0.95 / (2.0f64 * 0.975 * 0.025).sqrt()).abs() < 1e-9, "{}", t975(2));
        // Published two-sided 95% critical values (three decimals), e.g. NIST/SEMATECH
        // e-Handbook table 1.3.6.7.2; ∞ is the normal 1.960.
        for (df, t) in [
            (1, 12.706),
            (2, 4.303),
            (3, 3.182),
            (5, 2.571),
            (10, 2.228),
            (20, 2.086),
            (30, 2.042),
            (31, 2.040),
            (40, 2.021),
            (60, 2.000),
            (100, 1.984),
            (1000, 1.962),
            (100_000, 1.960),
        ] {
            assert!((t975(df) - t).abs() <= 0.0005, "df {df}: {} vs {t}", t975(df));
        }
        // More digits (R's qt(0.975, df)): 2.570582, 2.228139, 2.042272, 1.983972.
        for (df, t) in [(5, 2.570_582), (10, 2.228_139), (30, 2.042_272), (100, 1.983_972)] {
            assert!((t975(df) - t).abs() < 1e-6, "df {df}: {} vs {t}", t975(df));
        }
        assert!(t975(0).is_nan());
        // The CDF itself: P(|T| ≤ 0) = 0, P(|T| ≤ 1) at df 1 is 1/2 (atan 1 = π/4).
        assert_eq!(t_two_sided(0.0, 7), 0.0);
        assert!((t_two_sided(1.0, 1) - 0.5).abs() < 1e-15);
    }
}
