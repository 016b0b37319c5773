//! What `network.policy.method` may say: one fixed alignment method for
//! every pair (`slf(freeze: 2, side: output)`, `latent_map(...)`, ...), or a
//! strategy that picks one per pair when its service starts
//! (`adaptive(target_accuracy: 0.9)`), or tries them cheapest first until
//! one passes a check on pilots (`escalate(target_accuracy: 0.9)`).
//!
//! Written in RON and JSON (studies patch the JSON form) exactly as the
//! methods are, externally tagged; a flat mirror of `Method`'s variants plus
//! the strategies does the (de)serialising, so a typo gets serde's usual
//! "unknown variant, expected one of ..." and the matches below are
//! exhaustive: a new `Method` variant does not compile until it is listed.

use serde::{Deserialize, Serialize};

use crate::align::{FreezeSide, MapKind, Method};

/// Pilot images of the adaptive policy's pilot aligners (a kilobyte-scale
/// exchange that closes most of the gap in the two-user measurements).
pub const ADAPTIVE_PILOTS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "Flat", into = "Flat")]
pub enum PolicyMethod {
    /// Every pair aligns by this method.
    Fixed(Method),
    /// Per pair, at the start of its service: the candidate with the
    /// smallest predicted recovery time whose predicted accuracy reaches the
    /// target; if none does, the most accurate (`sim::adaptive`).
    Adaptive { target_accuracy: f64 },
    /// Per pair: the adaptive candidates cheapest first; each result is
    /// checked on pilots at RX and the next costlier one tried while the
    /// check misses the target (`sim::escalate`).
    Escalate { target_accuracy: f64 },
}

impl PolicyMethod {
    /// The fixed method, if any.
    pub fn fixed(&self) -> Option<&Method> {
        match self {
            PolicyMethod::Fixed(m) => Some(m),
            PolicyMethod::Adaptive { .. } | PolicyMethod::Escalate { .. } => None,
        }
    }

    /// The methods it may use, for transceivers with `big_l` decoder layers:
    /// the fixed one, or the strategies' candidates (`ADAPTIVE_PILOTS` pilots):
    /// SLF with ℓ = 0..=L frozen output-side layers, `latent_map` with
    /// Procrustes, and `index_map`, in that order.
    pub fn candidates(&self, big_l: usize) -> Vec<Method> {
        match self {
            PolicyMethod::Fixed(m) => vec![*m],
            PolicyMethod::Adaptive { .. } | PolicyMethod::Escalate { .. } => {
                let mut v: Vec<Method> =
                    (0..=big_l).map(|freeze| Method::Slf { freeze, side: FreezeSide::Output }).collect();
                v.push(Method::LatentMap { pilots: ADAPTIVE_PILOTS, map: MapKind::Procrustes });
                v.push(Method::IndexMap { pilots: ADAPTIVE_PILOTS });
                v
            }
        }
    }

    /// Its name in `summary.json` and tables.
    pub fn label(&self) -> String {
        match self {
            PolicyMethod::Fixed(m) => m.label(),
            PolicyMethod::Adaptive { target_accuracy } => format!("adaptive(target_accuracy={target_accuracy})"),
            PolicyMethod::Escalate { target_accuracy } => format!("escalate(target_accuracy={target_accuracy})"),
        }
    }

    /// Checks the parameters for transceivers with `big_l` decoder layers.
    /// Errors are relative to the field (`nested` adds the path).
    pub fn validate(&self, big_l: usize) -> Result<(), String> {
        match self {
            PolicyMethod::Fixed(m) => m.validate(big_l),
            PolicyMethod::Adaptive { target_accuracy: a } if !(a.is_finite() && (0.0..=1.0).contains(a)) => {
                Err(format!("adaptive.target_accuracy: {a} is outside [0, 1]"))
            }
            PolicyMethod::Escalate { target_accuracy: a } if !(a.is_finite() && (0.0..=1.0).contains(a)) => {
                Err(format!("escalate.target_accuracy: {a} is outside [0, 1]"))
            }
            PolicyMethod::Adaptive { .. } | PolicyMethod::Escalate { .. } => Ok(()),
        }
    }
}

impl From<Method> for PolicyMethod {
    fn from(m: Method) -> PolicyMethod {
        PolicyMethod::Fixed(m)
    }
}

/// `Method`'s variants, then the strategies, as written in files (named
/// `Method` in serde's errors, as users know it).
#[derive(Serialize, Deserialize)]
#[serde(rename = "Method", rename_all = "snake_case")]
enum Flat {
    None,
    Slf { freeze: usize, side: FreezeSide },
    EncoderOnly { codebook: bool },
    SplitLearning,
    Retrain,
    LatentMap { pilots: usize, map: MapKind },
    IndexMap { pilots: usize },
    Adaptive { target_accuracy: f64 },
    Escalate { target_accuracy: f64 },
}

impl From<Flat> for PolicyMethod {
    fn from(f: Flat) -> PolicyMethod {
        PolicyMethod::Fixed(match f {
            Flat::None => Method::None,
            Flat::Slf { freeze, side } => Method::Slf { freeze, side },
            Flat::EncoderOnly { codebook } => Method::EncoderOnly { codebook },
            Flat::SplitLearning => Method::SplitLearning,
            Flat::Retrain => Method::Retrain,
            Flat::LatentMap { pilots, map } => Method::LatentMap { pilots, map },
            Flat::IndexMap { pilots } => Method::IndexMap { pilots },
            Flat::Adaptive { target_accuracy } => return PolicyMethod::Adaptive { target_accuracy },
            Flat::Escalate { target_accuracy } => return PolicyMethod::Escalate { target_accuracy },
        })
    }
}

impl From<PolicyMethod> for Flat {
    fn from(p: PolicyMethod) -> Flat {
        match p {
            PolicyMethod::Adaptive { target_accuracy } => Flat::Adaptive { target_accuracy },
            PolicyMethod::Escalate { target_accuracy } => Flat::Escalate { target_accuracy },
            PolicyMethod::Fixed(m) => match m {
                Method::None => Flat::None,
                Method::Slf { freeze, side } => Flat::Slf { freeze, side },
                Method::EncoderOnly { codebook } => Flat::EncoderOnly { codebook },
                Method::SplitLearning => Flat::SplitLearning,
                Method::Retrain => Flat::Retrain,
                Method::LatentMap { pilots, map } => Flat::LatentMap { pilots, map },
                Method::IndexMap { pilots } => Flat::IndexMap { pilots },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_strategies_read_and_write_as_written() {
        for (text, want) in [
            ("slf(freeze: 2, side: output)", PolicyMethod::Fixed(Method::Slf { freeze: 2, side: FreezeSide::Output })),
            ("retrain", PolicyMethod::Fixed(Method::Retrain)),
            ("index_map(pilots: 64)", PolicyMethod::Fixed(Method::IndexMap { pilots: 64 })),
            ("adaptive(target_accuracy: 0.8)", PolicyMethod::Adaptive { target_accuracy: 0.8 }),
            ("escalate(target_accuracy: 0.8)", PolicyMethod::Escalate { target_accuracy: 0.8 }),
        ] {
            let got: PolicyMethod = ron::from_str(text).unwrap();
            assert_eq!(got, want, "{text}");
            // The JSON form (what studies patch) round-trips, and matches Method's own.
            let json = serde_json::to_value(got).unwrap();
            assert_eq!(serde_json::from_value::<PolicyMethod>(json.clone()).unwrap(), want);
            if let Some(m) = want.fixed() {
                assert_eq!(json, serde_json::to_value(m).unwrap());
            }
        }
        let e = ron::from_str::<PolicyMethod>("adaptiv(target_accuracy: 0.8)").unwrap_err().to_string();
        assert!(e.contains("adaptive") && e.contains("slf"), "{e}");
        assert!(PolicyMethod::Adaptive { target_accuracy: 1.5 }.validate(4).unwrap_err().contains("1.5"));
        assert!(PolicyMethod::Adaptive { target_accuracy: f64::NAN }.validate(4).is_err());
        assert!(PolicyMethod::Adaptive { target_accuracy: 1.0 }.validate(4).is_ok());
        let e = PolicyMethod::Escalate { target_accuracy: -0.5 }.validate(4).unwrap_err();
        assert!(e.starts_with("escalate.target_accuracy") && e.contains("-0.5"), "{e}");
        assert!(PolicyMethod::Escalate { target_accuracy: f64::INFINITY }.validate(4).is_err());
        assert!(PolicyMethod::Escalate { target_accuracy: 0.0 }.validate(4).is_ok());
        let (a, e) = (PolicyMethod::Adaptive { target_accuracy: 0.8 }, PolicyMethod::Escalate { target_accuracy: 0.8 });
        assert_eq!(a.candidates(4), e.candidates(4), "the same candidates, in the same order");
        assert_eq!(e.label(), "escalate(target_accuracy=0.8)");
    }
}
