//! What `network.policy.method` may say: one fixed alignment method for
//! every pair (`slf(freeze: 2, side: output)`, `latent_map(...)`, ...), or a
//! strategy that picks one per pair when its service starts
//! (`adaptive(target_accuracy: 0.9)` or `adaptive(target_gap_share: 0.85)`), or tries them cheapest first until
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

/// What the adaptive policy asks of a candidate's predicted result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdaptiveTarget {
    /// `target_accuracy: A`: the headline accuracy after alignment reaches A.
    Accuracy(f64),
    /// `target_gap_share: G`: the share of the matched-link gap recovered,
    /// (after − before) / (matched − before), reaches G. One G serves links
    /// whose best reachable accuracy differs (CIFAR-10 TX judged near 0.4,
    /// MNIST near 0.97), which one A cannot.
    GapShare(f64),
}

impl AdaptiveTarget {
    /// The value and its field name.
    pub fn parts(self) -> (f64, &'static str) {
        match self {
            AdaptiveTarget::Accuracy(a) => (a, "target_accuracy"),
            AdaptiveTarget::GapShare(g) => (g, "target_gap_share"),
        }
    }

    /// A, for an accuracy target.
    pub fn accuracy(self) -> Option<f64> {
        match self {
            AdaptiveTarget::Accuracy(a) => Some(a),
            AdaptiveTarget::GapShare(_) => None,
        }
    }

    /// G, for a gap-share target.
    pub fn gap_share(self) -> Option<f64> {
        match self {
            AdaptiveTarget::GapShare(g) => Some(g),
            AdaptiveTarget::Accuracy(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Flat", into = "Flat")]
pub enum PolicyMethod {
    /// Every pair aligns by this method.
    Fixed(Method),
    /// Per pair, at the start of its service: the candidate with the
    /// smallest predicted recovery time whose predicted result reaches the
    /// target; if none does, the most accurate (`sim::adaptive`).
    Adaptive { target: AdaptiveTarget },
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
            PolicyMethod::Adaptive { target } => {
                let (v, name) = target.parts();
                format!("adaptive({name}={v})")
            }
            PolicyMethod::Escalate { target_accuracy } => format!("escalate(target_accuracy={target_accuracy})"),
        }
    }

    /// Checks the parameters for transceivers with `big_l` decoder layers.
    /// Errors are relative to the field (`nested` adds the path).
    pub fn validate(&self, big_l: usize) -> Result<(), String> {
        match self {
            PolicyMethod::Fixed(m) => m.validate(big_l),
            PolicyMethod::Adaptive { target } => {
                let (v, name) = target.parts();
                unit(v, &format!("adaptive.{name}"))
            }
            PolicyMethod::Escalate { target_accuracy: a } => unit(*a, "escalate.target_accuracy"),
        }
    }
}

/// A strategy's target must be a share: finite and in [0, 1].
fn unit(v: f64, field: &str) -> Result<(), String> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(format!("{field}: {v} is outside [0, 1]"))
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
    Slf {
        freeze: usize,
        side: FreezeSide,
    },
    EncoderOnly {
        codebook: bool,
    },
    SplitLearning,
    Retrain,
    LatentMap {
        pilots: usize,
        map: MapKind,
    },
    IndexMap {
        pilots: usize,
    },
    Adaptive {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_accuracy: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_gap_share: Option<f64>,
    },
    Escalate {
        target_accuracy: f64,
    },
}

impl TryFrom<Flat> for PolicyMethod {
    type Error = &'static str;

    fn try_from(f: Flat) -> Result<PolicyMethod, Self::Error> {
        Ok(PolicyMethod::Fixed(match f {
            Flat::None => Method::None,
            Flat::Slf { freeze, side } => Method::Slf { freeze, side },
            Flat::EncoderOnly { codebook } => Method::EncoderOnly { codebook },
            Flat::SplitLearning => Method::SplitLearning,
            Flat::Retrain => Method::Retrain,
            Flat::LatentMap { pilots, map } => Method::LatentMap { pilots, map },
            Flat::IndexMap { pilots } => Method::IndexMap { pilots },
            Flat::Adaptive { target_accuracy, target_gap_share } => {
                let target = match (target_accuracy, target_gap_share) {
                    (Some(a), None) => AdaptiveTarget::Accuracy(a),
                    (None, Some(g)) => AdaptiveTarget::GapShare(g),
                    _ => return Err("adaptive takes exactly one of target_accuracy and target_gap_share"),
                };
                return Ok(PolicyMethod::Adaptive { target });
            }
            Flat::Escalate { target_accuracy } => return Ok(PolicyMethod::Escalate { target_accuracy }),
        }))
    }
}

impl From<PolicyMethod> for Flat {
    fn from(p: PolicyMethod) -> Flat {
        match p {
            PolicyMethod::Adaptive { target } => {
                Flat::Adaptive { target_accuracy: target.accuracy(), target_gap_share: target.gap_share() }
            }
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
            ("adaptive(target_accuracy: 0.8)", PolicyMethod::Adaptive { target: AdaptiveTarget::Accuracy(0.8) }),
            ("adaptive(target_gap_share: 0.85)", PolicyMethod::Adaptive { target: AdaptiveTarget::GapShare(0.85) }),
            ("escalate(target_accuracy: 0.8)", PolicyMethod::Escalate { target_accuracy: 0.8 }),
        ] {
            let got: PolicyMethod = crate::scenario::ron_options().from_str(text).unwrap();
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
        for two in ["adaptive()", "adaptive(target_accuracy: 0.8, target_gap_share: 0.8)"] {
            let e = crate::scenario::ron_options().from_str::<PolicyMethod>(two).unwrap_err().to_string();
            assert!(e.contains("exactly one of target_accuracy and target_gap_share"), "{two}: {e}");
        }
        let adaptive = |t| PolicyMethod::Adaptive { target: t };
        assert!(adaptive(AdaptiveTarget::Accuracy(1.5)).validate(4).unwrap_err().contains("1.5"));
        assert!(adaptive(AdaptiveTarget::Accuracy(f64::NAN)).validate(4).is_err());
        assert!(adaptive(AdaptiveTarget::Accuracy(1.0)).validate(4).is_ok());
        let e = adaptive(AdaptiveTarget::GapShare(-0.1)).validate(4).unwrap_err();
        assert!(e.starts_with("adaptive.target_gap_share: -0.1"), "{e}");
        assert_eq!(adaptive(AdaptiveTarget::GapShare(0.85)).label(), "adaptive(target_gap_share=0.85)");
        let e = PolicyMethod::Escalate { target_accuracy: -0.5 }.validate(4).unwrap_err();
        assert!(e.starts_with("escalate.target_accuracy") && e.contains("-0.5"), "{e}");
        assert!(PolicyMethod::Escalate { target_accuracy: f64::INFINITY }.validate(4).is_err());
        assert!(PolicyMethod::Escalate { target_accuracy: 0.0 }.validate(4).is_ok());
        let (a, e) = (adaptive(AdaptiveTarget::Accuracy(0.8)), PolicyMethod::Escalate { target_accuracy: 0.8 });
        assert_eq!(a.candidates(4), e.candidates(4), "the same candidates, in the same order");
        assert_eq!(e.label(), "escalate(target_accuracy=0.8)");
    }
}
