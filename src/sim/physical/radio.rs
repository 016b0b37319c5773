//! Radio link budget, bit errors and rates: pure functions of SNR and
//! distance, each with its source.
//!
//! SNR convention: `snr` is the linear ratio of received signal power to the
//! noise power in the link's bandwidth B, i.e. Es/N0 with one symbol per
//! second per hertz (Nyquist signalling). Eb/N0 = Es/N0 / log2 M.

use std::f64::consts::{LN_2, PI};

/// Speed of light, m/s.
const C: f64 = 299_792_458.0;
/// Euler–Mascheroni constant (series of E1).
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

pub fn db_to_linear(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

pub fn linear_to_db(x: f64) -> f64 {
    10.0 * x.log10()
}

/// Complementary error function, fractional error below 1.2e-7 everywhere
/// (Chebyshev fit of Press et al., Numerical Recipes in C, 2nd ed., §6.2,
/// `erfcc`).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let ans = t * poly.exp();
    if x >= 0.0 {
        ans
    } else {
        2.0 - ans
    }
}

/// The Gaussian tail Q(x) = P(N(0,1) > x) = erfc(x / √2) / 2.
pub fn q(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

/// Digital modulations over AWGN with coherent detection and Gray mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modulation {
    Bpsk,
    Qpsk,
    Qam16,
}

/// E over γ ~ Exp(mean γ̄) (Rayleigh fading) of Q(√(2bγ)):
/// ½(1 − √(bγ̄ / (1 + bγ̄))) (Goldsmith, Wireless Communications, eq. 6.58;
/// Proakis, Digital Communications, 5th ed., eq. 13.3-7, with γ̄ → bγ̄).
fn rayleigh_q(b: f64, mean_snr: f64) -> f64 {
    let g = b * mean_snr;
    0.5 * (1.0 - (g / (1.0 + g)).sqrt())
}

impl Modulation {
    pub fn bits_per_symbol(self) -> u32 {
        match self {
            Modulation::Bpsk => 1,
            Modulation::Qpsk => 2,
            Modulation::Qam16 => 4,
        }
    }

    /// Bit error probability at symbol SNR `snr` (linear Es/N0) over AWGN.
    /// - BPSK: Q(√(2γ)) (Proakis, eq. 4.3-13; Es = Eb).
    /// - QPSK, Gray: Q(√γ), i.e. BPSK at Eb/N0 = γ/2 (Proakis, §4.3-2).
    /// - 16-QAM, Gray, exact: ¼[3Q(√(γ/5)) + 2Q(3√(γ/5)) − Q(5√(γ/5))]
    ///   (Cho & Yoon, IEEE Trans. Commun. 50(7), 2002, eq. 16 with M = 16);
    ///   per rail a Gray 4-PAM with half-distance √(γ/5)·σ.
    pub fn ber_awgn(self, snr: f64) -> f64 {
        let g = snr.max(0.0);
        match self {
            Modulation::Bpsk => q((2.0 * g).sqrt()),
            Modulation::Qpsk => q(g.sqrt()),
            Modulation::Qam16 => {
                let a = (g / 5.0).sqrt();
                0.25 * (3.0 * q(a) + 2.0 * q(3.0 * a) - q(5.0 * a))
            }
        }
    }

    /// Bit error probability averaged over Rayleigh fading of mean symbol
    /// SNR `mean_snr`: every Q(√(2bγ)) term of `ber_awgn` averaged in closed
    /// form (`rayleigh_q`). BPSK b = 1, QPSK b = ½, 16-QAM b = k²/10 for the
    /// terms k = 1, 3, 5.
    pub fn ber_rayleigh(self, mean_snr: f64) -> f64 {
        let g = mean_snr.max(0.0);
        match self {
            Modulation::Bpsk => rayleigh_q(1.0, g),
            Modulation::Qpsk => rayleigh_q(0.5, g),
            Modulation::Qam16 => {
                0.25 * (3.0 * rayleigh_q(0.1, g) + 2.0 * rayleigh_q(0.9, g) - rayleigh_q(2.5, g)).max(0.0)
            }
        }
    }
}

/// The channel ε a bit error probability `p` gives a transceiver whose
/// indices are `bits` bits long: the binary symmetric channel's ε is p
/// itself; the symmetric index channel's ε is the probability that an index
/// arrives changed, 1 − (1 − p)^bits (independent bit errors).
pub fn epsilon_bsc(p: f64) -> f64 {
    p
}

pub fn epsilon_index(p: f64, bits: u32) -> f64 {
    1.0 - (1.0 - p).powi(bits as i32)
}

/// Free-space path loss (Friis), dB: 20·log10(4π d f / c).
pub fn free_space_db(d_m: f64, freq_hz: f64) -> f64 {
    20.0 * (4.0 * PI * d_m * freq_hz / C).log10()
}

/// Path loss as a function of distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PathLoss {
    /// PL(d) = PL(d0) + 10·n·log10(d / d0) for d ≥ d0, PL(d0) below
    /// (Goldsmith, eq. 2.40; Rappaport, Wireless Communications, eq. 4.68).
    LogDistance { pl0_db: f64, d0_m: f64, exponent: f64 },
    /// 3GPP TR 38.901 Table 7.4.1-1, UMi street canyon NLOS:
    /// 35.3·log10(d3D) + 22.4 + 21.3·log10(fc/GHz) − 0.3(h_UT − 1.5),
    /// h_BS = 10 m, h_UT = 1.5 m (the NLOS formula alone, without the
    /// max with LOS).
    UmiNlos { fc_ghz: f64 },
    /// 3GPP TR 38.901 Table 7.4.1-1, UMa NLOS:
    /// 13.54 + 39.08·log10(d3D) + 20·log10(fc/GHz) − 0.6(h_UT − 1.5),
    /// h_BS = 25 m, h_UT = 1.5 m.
    UmaNlos { fc_ghz: f64 },
}

impl PathLoss {
    /// Loss in dB at horizontal distance `d_m` (at least 1 m, and d0).
    pub fn db(&self, d_m: f64) -> f64 {
        let d3 = |h_bs: f64| (d_m.max(1.0).powi(2) + (h_bs - 1.5f64).powi(2)).sqrt();
        match *self {
            PathLoss::LogDistance { pl0_db, d0_m, exponent } => {
                pl0_db + 10.0 * exponent * (d_m.max(d0_m) / d0_m).log10()
            }
            PathLoss::UmiNlos { fc_ghz } => 35.3 * d3(10.0).log10() + 22.4 + 21.3 * fc_ghz.log10(),
            PathLoss::UmaNlos { fc_ghz } => 13.54 + 39.08 * d3(25.0).log10() + 20.0 * fc_ghz.log10(),
        }
    }
}

/// Thermal noise in `bandwidth_hz` behind a receiver of noise figure `nf_db`,
/// dBm: −174 dBm/Hz (kT at 290 K) + 10·log10(B) + NF (Goldsmith, §5.1).
pub fn noise_dbm(bandwidth_hz: f64, nf_db: f64) -> f64 {
    -174.0 + 10.0 * bandwidth_hz.log10() + nf_db
}

/// Received SNR in dB: P_tx − PL − shadowing loss − noise (all dB/dBm).
pub fn snr_db(tx_power_dbm: f64, path_loss_db: f64, shadowing_db: f64, noise_dbm: f64) -> f64 {
    tx_power_dbm - path_loss_db - shadowing_db - noise_dbm
}

/// e^x·E1(x) for x > 0, E1 the exponential integral ∫_x^∞ e^{-t}/t dt:
/// the power series for x ≤ 1, the continued fraction (modified Lentz) above
/// (Press et al., Numerical Recipes, 3rd ed., §6.3, `expint` with n = 1).
/// Scaled by e^x so large arguments do not underflow.
pub fn exp_e1(x: f64) -> f64 {
    assert!(x > 0.0, "E1 needs x > 0");
    if x <= 1.0 {
        // E1(x) = −γ − ln x − Σ_{k≥1} (−x)^k / (k·k!)
        let mut sum = 0.0;
        let mut term = 1.0;
        for k in 1..60 {
            term *= -x / k as f64;
            let add = term / k as f64;
            sum += add;
            if add.abs() < 1e-17 * sum.abs().max(1e-300) {
                break;
            }
        }
        (-EULER_GAMMA - x.ln() - sum) * x.exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..200 {
            let an = -(i as f64) * (i as f64);
            b += 2.0;
            d = 1.0 / (an * d + b);
            c = b + an / c;
            let del = c * d;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        h
    }
}

/// How a link's rate follows its SNR.
#[derive(Debug, Clone, PartialEq)]
pub enum RateModel {
    /// B·min(log2(1 + γ), cap) (Shannon capacity, capped at the highest
    /// spectral efficiency the radio supports).
    Shannon { cap_bps_hz: f64 },
    /// An MCS table: (minimum SNR dB, spectral efficiency b/s/Hz), rising in
    /// both; below the first threshold the link is in outage.
    Mcs(Vec<(f64, f64)>),
}

/// Rate in outage: not zero (links must keep a positive rate), but a
/// transfer on it effectively stalls until the SNR recovers.
pub const OUTAGE_BPS: f64 = 1.0;

impl RateModel {
    /// Spectral efficiency at SNR `snr` (linear), b/s/Hz.
    pub fn efficiency(&self, snr: f64) -> f64 {
        match self {
            RateModel::Shannon { cap_bps_hz } => (1.0 + snr.max(0.0)).log2().min(*cap_bps_hz),
            RateModel::Mcs(table) => {
                let db = linear_to_db(snr);
                table.iter().rev().find(|(th, _)| db >= *th).map_or(0.0, |&(_, e)| e)
            }
        }
    }

    /// Mean spectral efficiency over Rayleigh fading of mean SNR `mean_snr`:
    /// - Shannon with cap c: E[min(log2(1 + γ̄X), c)], X ~ Exp(1), which
    ///   integrates by parts to e^{1/γ̄}[E1(1/γ̄) − E1(a + 1/γ̄)] / ln 2 with
    ///   a = (2^c − 1)/γ̄; c → ∞ gives the ergodic capacity
    ///   e^{1/γ̄} E1(1/γ̄) / ln 2 (Goldsmith, eq. 4.12 ff.).
    /// - MCS: Σ_i e_i (e^{−t_i/γ̄} − e^{−t_{i+1}/γ̄}), t the linear thresholds
    ///   (the probability that γ̄X falls in each MCS's SNR range).
    pub fn efficiency_rayleigh(&self, mean_snr: f64) -> f64 {
        let g = mean_snr.max(1e-300);
        match self {
            RateModel::Shannon { cap_bps_hz } => {
                let a = (2f64.powf(*cap_bps_hz) - 1.0) / g;
                let full = exp_e1(1.0 / g);
                // e^{1/γ̄} E1(a + 1/γ̄) = e^{-a} · e^{a + 1/γ̄} E1(a + 1/γ̄)
                let tail = if a.is_finite() { (-a).exp() * exp_e1(a + 1.0 / g) } else { 0.0 };
                ((full - tail) / LN_2).max(0.0)
            }
            RateModel::Mcs(table) => {
                let p_above = |th_db: f64| (-db_to_linear(th_db) / g).exp();
                let mut sum = 0.0;
                for (i, &(th, e)) in table.iter().enumerate() {
                    let next = table.get(i + 1).map_or(0.0, |&(t, _)| p_above(t));
                    sum += e * (p_above(th) - next);
                }
                sum
            }
        }
    }

    /// Checks an MCS table (rising thresholds and efficiencies, efficiencies > 0)
    /// or the Shannon cap (> 0).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            RateModel::Shannon { cap_bps_hz } if cap_bps_hz.is_nan() || *cap_bps_hz <= 0.0 => {
                Err(format!("cap_bps_hz: {cap_bps_hz} must be > 0"))
            }
            RateModel::Mcs(t) if t.is_empty() => Err("mcs: the table is empty".into()),
            RateModel::Mcs(t) => {
                for (i, w) in t.windows(2).enumerate() {
                    if !(w[1].0 > w[0].0 && w[1].1 > w[0].1) {
                        return Err(format!("mcs[{}]: thresholds and efficiencies must both rise", i + 1));
                    }
                }
                match t.iter().position(|&(th, e)| !(th.is_finite() && e > 0.0 && e.is_finite())) {
                    Some(i) => Err(format!("mcs[{i}]: needs a finite threshold and an efficiency > 0")),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

/// A link's rate in bit/s from its efficiency: B·efficiency, at least
/// `OUTAGE_BPS`.
pub fn rate_bps(bandwidth_hz: f64, efficiency: f64) -> f64 {
    (bandwidth_hz * efficiency).max(OUTAGE_BPS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) {
        assert!((a - b).abs() <= rel * b.abs(), "{a} vs {b} (rel {rel})");
    }

    /// E[f(X)], X ~ Exp(1), by Simpson's rule after x = v² (smooth at 0 even
    /// where f grows like √x).
    fn average_over_rayleigh(f: impl Fn(f64) -> f64) -> f64 {
        let (n, hi) = (200_000, 60f64.sqrt());
        let h = hi / n as f64;
        let g = |v: f64| f(v * v) * (-v * v).exp() * 2.0 * v;
        let mut s = g(0.0) + g(hi);
        for i in 1..n {
            s += g(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        s * h / 3.0
    }

    #[test]
    fn erfc_and_q_match_tabulated_values() {
        // Abramowitz & Stegun, Table 7.1.
        close(erfc(0.5), 0.479_500_122_186_953_5, 2e-7);
        close(erfc(1.0), 0.157_299_207_050_285_1, 2e-7);
        close(erfc(2.0), 4.677_734_981_047_266e-3, 2e-7);
        close(erfc(3.0), 2.209_049_699_858_544e-5, 2e-7);
        close(erfc(-1.0), 2.0 - 0.157_299_207_050_285_1, 2e-7);
        close(q(0.0), 0.5, 2e-7);
        close(q(1.0), 0.158_655_253_931_457, 2e-7);
        close(q(3.0), 1.349_898_031_630_095e-3, 2e-7);
    }

    #[test]
    fn bpsk_ber_at_0_5_and_10_db() {
        // The textbook values of Q(√(2 Eb/N0)).
        let ber = |db: f64| Modulation::Bpsk.ber_awgn(db_to_linear(db));
        close(ber(0.0), 7.864_960_352_514_255e-2, 1e-6);
        close(ber(5.0), 5.953_867_147_778_669e-3, 1e-6);
        close(ber(10.0), 3.872_108_215_522_035e-6, 1e-6);
    }

    #[test]
    fn qpsk_is_bpsk_at_half_the_symbol_snr_and_16qam_by_hand() {
        for db in [0.0, 3.0, 7.0, 12.0] {
            let g = db_to_linear(db);
            close(Modulation::Qpsk.ber_awgn(g), Modulation::Bpsk.ber_awgn(g / 2.0), 1e-12);
        }
        // QPSK at Es/N0 = 10 dB: Q(√10).
        close(Modulation::Qpsk.ber_awgn(10.0), 7.827_011_290_012_762e-4, 1e-6);
        // 16-QAM at Es/N0 = 10 dB: √(γ/5) = √2, so ¼[3Q(√2) + 2Q(3√2) − Q(5√2)].
        let want = 0.25 * (3.0 * 7.864_960_352_514_255e-2 + 2.0 * 1.104_524_849_929_272e-5 - 7.687e-13);
        close(Modulation::Qam16.ber_awgn(10.0), want, 1e-6);
        // At high SNR the nearest-neighbour term dominates: ¾Q(√(γ/5)), γ = 20 dB.
        close(Modulation::Qam16.ber_awgn(100.0), 0.75 * 3.872_108_215_522_035e-6, 1e-5);
        // More bits per symbol cost SNR.
        let g = db_to_linear(8.0);
        assert!(Modulation::Bpsk.ber_awgn(g) < Modulation::Qpsk.ber_awgn(g));
        assert!(Modulation::Qpsk.ber_awgn(g) < Modulation::Qam16.ber_awgn(g));
    }

    #[test]
    fn rayleigh_averages_match_closed_forms_and_integrals() {
        // BPSK: ½(1 − √(γ̄/(1+γ̄))): 0 dB -> 0.14645, 10 dB -> 0.02327.
        close(Modulation::Bpsk.ber_rayleigh(1.0), 0.5 * (1.0 - 0.5f64.sqrt()), 1e-12);
        close(Modulation::Bpsk.ber_rayleigh(10.0), 0.023_268_705_377_203_82, 1e-9);
        // Every modulation against numerical integration of its AWGN BER.
        for m in [Modulation::Bpsk, Modulation::Qpsk, Modulation::Qam16] {
            for db in [0.0, 5.0, 10.0, 20.0] {
                let g = db_to_linear(db);
                let numeric = average_over_rayleigh(|x| m.ber_awgn(g * x));
                close(m.ber_rayleigh(g), numeric, 2e-5);
            }
        }
        // Fading costs: at 10 dB the average is far above the AWGN value.
        assert!(Modulation::Bpsk.ber_rayleigh(10.0) > 1000.0 * Modulation::Bpsk.ber_awgn(10.0));
    }

    #[test]
    fn epsilon_of_a_bit_error_per_channel_kind() {
        assert_eq!(epsilon_bsc(0.01), 0.01);
        // K = 64: 6 bits per index.
        close(epsilon_index(0.01, 6), 1.0 - 0.99f64.powi(6), 1e-15);
        close(epsilon_index(0.01, 6), 0.058_519_850_599, 1e-9);
        assert_eq!(epsilon_index(0.0, 6), 0.0);
        close(epsilon_index(0.5, 1), 0.5, 1e-15);
    }

    #[test]
    fn path_loss_forms() {
        // Friis at 1 m and 3.5 GHz: 20·log10(4π·3.5e9/c) = 43.33 dB.
        close(free_space_db(1.0, 3.5e9), 43.329_144_108_9, 1e-9);
        // Doubling d adds 10·n·log10(2) in the log-distance model.
        let pl = PathLoss::LogDistance { pl0_db: 40.0, d0_m: 1.0, exponent: 3.5 };
        close(pl.db(100.0), 40.0 + 70.0, 1e-12);
        close(pl.db(200.0) - pl.db(100.0), 35.0 * 2f64.log10(), 1e-12);
        assert_eq!(pl.db(0.2), 40.0, "below d0 the loss is PL(d0)");
        // 38.901 UMi NLOS at d2D = 100 m, fc = 3.5 GHz: d3D = √(100² + 8.5²).
        let d3 = (100f64.powi(2) + 8.5f64.powi(2)).sqrt();
        close(PathLoss::UmiNlos { fc_ghz: 3.5 }.db(100.0), 35.3 * d3.log10() + 22.4 + 21.3 * 3.5f64.log10(), 1e-12);
        let d3 = (100f64.powi(2) + 23.5f64.powi(2)).sqrt();
        close(PathLoss::UmaNlos { fc_ghz: 3.5 }.db(100.0), 13.54 + 39.08 * d3.log10() + 20.0 * 3.5f64.log10(), 1e-12);
    }

    #[test]
    fn link_budget_by_hand() {
        // 1 MHz, NF 7 dB: −174 + 60 + 7 = −107 dBm.
        close(noise_dbm(1e6, 7.0), -107.0, 1e-12);
        // 23 dBm, 120 dB loss, 4 dB shadowing: −101 dBm received, SNR 6 dB.
        close(snr_db(23.0, 120.0, 4.0, -107.0), 6.0, 1e-12);
    }

    #[test]
    fn exponential_integral() {
        // A&S Table 5.1: E1(0.1), E1(1), E1(2), E1(5).
        close(exp_e1(0.1) * (-0.1f64).exp(), 1.822_923_958_419_39, 1e-9);
        close(exp_e1(1.0) * (-1.0f64).exp(), 0.219_383_934_395_520, 1e-9);
        close(exp_e1(2.0) * (-2.0f64).exp(), 4.890_051_070_806_11e-2, 1e-9);
        close(exp_e1(5.0) * (-5.0f64).exp(), 1.148_295_591_275_33e-3, 1e-9);
        // Large x: e^x E1(x) -> 1/x.
        close(exp_e1(1e6), 1e-6, 1e-5);
    }

    #[test]
    fn rates_shannon_with_cap_and_mcs() {
        let sh = RateModel::Shannon { cap_bps_hz: 6.0 };
        close(sh.efficiency(1.0), 1.0, 1e-12);
        close(sh.efficiency(15.0), 4.0, 1e-12);
        assert_eq!(sh.efficiency(1e6), 6.0, "capped");
        close(rate_bps(1e6, sh.efficiency(3.0)), 2e6, 1e-12);
        assert_eq!(rate_bps(1e6, 0.0), OUTAGE_BPS);
        // Rayleigh average of the capped Shannon rate against integration,
        // and the uncapped limit against the ergodic capacity.
        for db in [-5.0, 0.0, 10.0, 25.0] {
            let g = db_to_linear(db);
            let numeric = average_over_rayleigh(|x| sh.efficiency(g * x));
            close(sh.efficiency_rayleigh(g), numeric, 1e-5);
            let big = RateModel::Shannon { cap_bps_hz: 200.0 };
            close(big.efficiency_rayleigh(g), exp_e1(1.0 / g) / LN_2, 1e-9);
        }
        let mcs = RateModel::Mcs(vec![(0.0, 0.5), (5.0, 1.0), (10.0, 2.0)]);
        assert!(mcs.validate().is_ok());
        assert_eq!(mcs.efficiency(db_to_linear(-1.0)), 0.0, "outage below the first entry");
        assert_eq!(mcs.efficiency(db_to_linear(7.0)), 1.0);
        assert_eq!(mcs.efficiency(db_to_linear(30.0)), 2.0);
        for db in [0.0, 8.0, 20.0] {
            let g = db_to_linear(db);
            close(mcs.efficiency_rayleigh(g), average_over_rayleigh(|x| mcs.efficiency(g * x)), 2e-3);
        }
        assert!(RateModel::Mcs(vec![(5.0, 1.0), (0.0, 2.0)]).validate().is_err());
        assert!(RateModel::Mcs(vec![]).validate().is_err());
        assert!(RateModel::Shannon { cap_bps_hz: 0.0 }.validate().is_err());
    }
}
