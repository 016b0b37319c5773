//! The multi-user part of a scenario (`slfsim run`): who the users are, how
//! they are connected, who talks to whom, what changes when, how
//! misalignment is detected and how alignments are served.
//!
//! Everything here is plain data. Checks that need the expanded population
//! (names resolve, TX and RX connected) run in `sim::world`, still before
//! anything is simulated, and report field paths too.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::physical::{ChurnSpec, MobilitySpec, RadioSpec, StationPlacement};
use super::PolicyMethod;
use crate::align::Method;

/// A group of users sharing a profile: `count` users named `name0..` (or
/// just `name` when `count` is 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserGroup {
    pub name: String,
    /// The transceiver every member starts with (a profile name).
    pub profile: String,
    #[serde(default = "one")]
    pub count: usize,
    /// Fine-tuning compute per user, FLOP/s.
    #[serde(default)]
    pub compute: ComputeSpec,
    /// Star topology only: this group's access link to the centre
    /// (default: `topology.link`).
    #[serde(default)]
    pub link: Option<LinkParams>,
}

fn one() -> usize {
    1
}

/// A per-user FLOP/s budget, fixed or drawn once per user from its own
/// seeded stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComputeSpec {
    Fixed(f64),
    /// Uniform in [lo, hi].
    Uniform(f64, f64),
    /// Log-normal with the given median and σ of the logarithm.
    LogNormal {
        median: f64,
        sigma: f64,
    },
}

impl Default for ComputeSpec {
    fn default() -> Self {
        ComputeSpec::Fixed(50e9)
    }
}

/// The graph joining the users; node i is the i-th user in expansion order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    pub kind: TopologyShape,
    /// Every generated link's rates and latency unless overridden.
    #[serde(default = "default_link")]
    pub link: LinkParams,
}

impl Default for TopologySpec {
    fn default() -> Self {
        TopologySpec { kind: TopologyShape::Complete, link: default_link() }
    }
}

fn default_link() -> LinkParams {
    LinkParams { down_bps: 20e6, up_bps: 10e6, latency_s: 0.010 }
}

/// Like `sim::TopologyKind`, with users named instead of numbered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopologyShape {
    /// Every user joined to `center` (a base station). With `shared`, the
    /// users' access links meet at a radio hub joined to the centre by one
    /// link of these rates, which all transfers to and from the centre share.
    Star {
        center: String,
        #[serde(default)]
        shared: Option<LinkParams>,
    },
    Complete,
    /// Users placed uniformly in the unit square; pairs closer than `radius` joined.
    RandomGeometric {
        radius: f64,
    },
    /// Each pair joined independently with probability `p`.
    ErdosRenyi {
        p: f64,
    },
    /// The listed edges; `down_bps` is a -> b, `up_bps` b -> a.
    Explicit {
        edges: Vec<EdgeSpec>,
    },
    /// The members of group `stations` are base stations placed on the
    /// radio area and joined by a wired `backhaul` (a star around a core
    /// node); every other user reaches each station over a radio link whose
    /// rates follow its SNR (`network.radio`), sends to the station serving
    /// it and hands over by the A3 rule. `cell`: the users' radio links to a
    /// station meet at its air interface, one shared link of these rates.
    Cells {
        stations: String,
        #[serde(default)]
        placement: StationPlacement,
        #[serde(default = "default_backhaul")]
        backhaul: LinkParams,
        #[serde(default)]
        cell: Option<LinkParams>,
        /// A neighbour must be this much stronger (dB) ...
        #[serde(default = "default_hysteresis")]
        hysteresis_db: f64,
        /// ... for this long (s) to take a user over.
        #[serde(default = "default_ttt")]
        time_to_trigger_s: f64,
        /// Aligned decoders a station keeps for users it no longer serves (LRU).
        #[serde(default = "default_cache")]
        cache: usize,
    },
}

fn default_backhaul() -> LinkParams {
    LinkParams { down_bps: 1e9, up_bps: 1e9, latency_s: 0.002 }
}

fn default_hysteresis() -> f64 {
    3.0
}

fn default_ttt() -> f64 {
    1.0
}

fn default_cache() -> usize {
    16
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSpec {
    pub a: String,
    pub b: String,
    #[serde(default)]
    pub link: Option<LinkParams>,
}

/// Messages from every user matched by `from` to every user matched by `to`
/// (a user or group name, or "*"), as Poisson processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    pub from: String,
    pub to: String,
    /// Messages per second.
    pub rate_hz: f64,
    /// `pair`: each (TX, RX) pair sends at `rate_hz`; `user`: each TX sends
    /// `rate_hz` in total, split evenly over its receivers.
    #[serde(default)]
    pub per: RatePer,
    /// Only pairs joined directly by an edge.
    #[serde(default)]
    pub neighbours_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatePer {
    #[default]
    Pair,
    User,
}

/// Something that happens to a user (or every user of a group) at `at_s`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dynamic {
    pub at_s: f64,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The user enters the network (it is absent until its first `join`).
    Join { user: String },
    /// The user's channel ε changes (it now sends and fine-tunes over it).
    Channel { user: String, epsilon: f64 },
    /// The user now holds `profile`'s data set (it sends and fine-tunes on
    /// it; `profile`'s classifier judges its meaning).
    Data { user: String, profile: String },
}

impl Change {
    pub fn user(&self) -> &str {
        match self {
            Change::Join { user } | Change::Channel { user, .. } | Change::Data { user, .. } => user,
        }
    }
}

/// How detected misalignments are served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The alignment method every pair uses (`slf`, `encoder_only`,
    /// `retrain`, `latent_map`, `index_map`), or a strategy: `adaptive(target_accuracy: A)`,
    /// `adaptive(target_gap_share: G)`, `escalate(target_accuracy: A)`.
    pub method: PolicyMethod,
    /// Which waiting request an RX serves next.
    pub order: Order,
    /// Alignments an RX serves at once (0: no limit).
    pub max_concurrent: usize,
    /// The adaptive policy's calibration file (CSV `kind,dataset,method,accuracy`,
    /// relative to the working directory; `run --calibration` sets it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<PathBuf>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            method: PolicyMethod::Fixed(Method::Slf { freeze: 0, side: Default::default() }),
            order: Order::Fifo,
            max_concurrent: 0,
            calibration: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// First detected, first served.
    #[default]
    Fifo,
    /// The TX with the most FLOP/s first (shortest fine-tuning).
    FastestFirst,
    /// Uniformly at random from the scenario's seeded stream.
    Random,
}

/// How many real fine-tunings back the numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fidelity {
    /// One real fine-tuning per misalignment episode of every pair.
    #[default]
    Exact,
    /// One per distinct (TX state, RX profile, method, ℓ, budget), reused by
    /// every pair of that class.
    Memoized,
}

impl Fidelity {
    /// The name scenarios and outputs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Fidelity::Exact => "exact",
            Fidelity::Memoized => "memoized",
        }
    }
}

impl std::fmt::Display for Fidelity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a receiver notices misalignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectionRule {
    Oracle { delay_s: f64 },
    Monitor { window: usize, threshold: f64 },
}

impl DetectionRule {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            DetectionRule::Oracle { delay_s } if !(*delay_s >= 0.0 && delay_s.is_finite()) => {
                Err(format!("delay_s: {delay_s} must be >= 0"))
            }
            DetectionRule::Monitor { window: 0, .. } => Err("window: must be >= 1".into()),
            DetectionRule::Monitor { threshold, .. } if !(0.0..=1.0).contains(threshold) => {
                Err(format!("threshold: {threshold} is outside [0, 1]"))
            }
            _ => Ok(()),
        }
    }
}

/// The parameters every generated link gets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkParams {
    /// Rate from the lower-numbered node to the higher one (for a star: from
    /// the centre to a leaf, i.e. the download direction), bit/s.
    pub down_bps: f64,
    /// Rate in the other direction (a star's uplink), bit/s.
    pub up_bps: f64,
    pub latency_s: f64,
}

/// The multi-user simulation: absent (empty `users`) in scenarios used only
/// by `eval`, `align` and `two-user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSpec {
    pub users: Vec<UserGroup>,
    pub topology: TopologySpec,
    pub traffic: Vec<Traffic>,
    pub dynamics: Vec<Dynamic>,
    pub detection: DetectionRule,
    pub policy: Policy,
    pub fidelity: Fidelity,
    /// Simulated seconds; nothing happens after it.
    pub horizon_s: f64,
    /// Spacing of `timeseries.csv` rows (0: horizon / 200).
    pub sample_s: f64,
    /// Radio from positions (needs a `cells` topology).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radio: Option<RadioSpec>,
    /// Placement and motion per group (default: uniform, static).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mobility: Vec<MobilitySpec>,
    /// Users leaving and coming back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub churn: Vec<ChurnSpec>,
    /// Rows `t_s,user,flops_per_s` (CSV, relative to the working directory):
    /// a user's compute speed from then on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_trace: Option<PathBuf>,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            users: Vec::new(),
            topology: TopologySpec::default(),
            traffic: Vec::new(),
            dynamics: Vec::new(),
            detection: DetectionRule::Oracle { delay_s: 1.0 },
            policy: Policy::default(),
            fidelity: Fidelity::default(),
            horizon_s: 600.0,
            sample_s: 0.0,
            radio: None,
            mobility: Vec::new(),
            churn: Vec::new(),
            compute_trace: None,
        }
    }
}
