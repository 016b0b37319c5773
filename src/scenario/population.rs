//! The multi-user part of a scenario (`slfsim run`): who the users are, how
//! they are connected, who talks to whom, what changes when, how
//! misalignment is detected and how alignments are served.
//!
//! Everything here is plain data. Checks that need the expanded population
//! (names resolve, TX and RX connected) run in `sim::world`, still before
//! anything is simulated, and report field paths too.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::physical::{station_placement_ok, ChurnSpec, MobilitySpec, RadioSpec, StationPlacement};
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
    /// The alignment method every pair uses (`slf`, `encoder_only` or `retrain`).
    pub method: Method,
    /// Which waiting request an RX serves next.
    pub order: Order,
    /// Alignments an RX serves at once (0: no limit).
    pub max_concurrent: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { method: Method::Slf { freeze: 0, side: Default::default() }, order: Order::Fifo, max_concurrent: 0 }
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

fn positive(field: String, v: f64) -> Result<(), (String, String)> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err((field, format!("{v} must be > 0")))
    }
}

fn link_ok(at: &str, l: &LinkParams) -> Result<(), (String, String)> {
    positive(format!("{at}.down_bps"), l.down_bps)?;
    positive(format!("{at}.up_bps"), l.up_bps)?;
    if !(l.latency_s >= 0.0 && l.latency_s.is_finite()) {
        return Err((format!("{at}.latency_s"), format!("{} must be >= 0", l.latency_s)));
    }
    Ok(())
}

impl NetworkSpec {
    /// Checks of single fields and names; `profile_exists` resolves profile
    /// names, `big_l` is the decoder depth L of the scenario's models.
    pub fn validate(&self, profile_exists: &dyn Fn(&str) -> bool, big_l: usize) -> Result<(), (String, String)> {
        let mut names = std::collections::HashSet::new();
        for (i, g) in self.users.iter().enumerate() {
            let at = format!("network.users[{i}]");
            if !super::valid_name(&g.name) || g.name == "*" {
                return Err((
                    format!("{at}.name"),
                    format!("{:?} must be non-empty letters, digits, '-', '_' or '.'", g.name),
                ));
            }
            if !names.insert(g.name.as_str()) {
                return Err((format!("{at}.name"), format!("duplicate group name {:?}", g.name)));
            }
            if !profile_exists(&g.profile) {
                return Err((format!("{at}.profile"), format!("no profile named {:?}", g.profile)));
            }
            if g.count == 0 {
                return Err((format!("{at}.count"), "must be >= 1".into()));
            }
            match g.compute {
                ComputeSpec::Fixed(v) => positive(format!("{at}.compute"), v)?,
                ComputeSpec::Uniform(lo, hi) => {
                    positive(format!("{at}.compute"), lo)?;
                    if !(hi >= lo && hi.is_finite()) {
                        return Err((format!("{at}.compute"), format!("uniform bounds ({lo}, {hi}) need hi >= lo")));
                    }
                }
                ComputeSpec::LogNormal { median, sigma } => {
                    positive(format!("{at}.compute.median"), median)?;
                    if !(sigma >= 0.0 && sigma.is_finite()) {
                        return Err((format!("{at}.compute.sigma"), format!("{sigma} must be >= 0")));
                    }
                }
            }
            if let Some(l) = &g.link {
                link_ok(&format!("{at}.link"), l)?;
            }
        }
        link_ok("network.topology.link", &self.topology.link)?;
        match &self.topology.kind {
            TopologyShape::RandomGeometric { radius } => positive("network.topology.kind.radius".into(), *radius)?,
            TopologyShape::ErdosRenyi { p } if !(0.0..=1.0).contains(p) => {
                return Err(("network.topology.kind.p".into(), format!("{p} is outside [0, 1]")));
            }
            TopologyShape::Star { shared: Some(l), .. } => link_ok("network.topology.kind.shared", l)?,
            TopologyShape::Explicit { edges } => {
                for (i, e) in edges.iter().enumerate() {
                    if let Some(l) = &e.link {
                        link_ok(&format!("network.topology.kind.edges[{i}].link"), l)?;
                    }
                }
            }
            TopologyShape::Cells { placement, backhaul, cell, hysteresis_db, time_to_trigger_s, .. } => {
                let at = "network.topology.kind";
                station_placement_ok(&format!("{at}.placement"), placement)?;
                link_ok(&format!("{at}.backhaul"), backhaul)?;
                if let Some(c) = cell {
                    link_ok(&format!("{at}.cell"), c)?;
                }
                for (f, v) in [("hysteresis_db", hysteresis_db), ("time_to_trigger_s", time_to_trigger_s)] {
                    if !(*v >= 0.0 && v.is_finite()) {
                        return Err((format!("{at}.{f}"), format!("{v} must be >= 0")));
                    }
                }
            }
            _ => {}
        }
        self.validate_physical()?;
        for (i, t) in self.traffic.iter().enumerate() {
            positive(format!("network.traffic[{i}].rate_hz"), t.rate_hz)?;
        }
        for (i, d) in self.dynamics.iter().enumerate() {
            let at = format!("network.dynamics[{i}]");
            if !(d.at_s >= 0.0 && d.at_s.is_finite()) {
                return Err((format!("{at}.at_s"), format!("{} must be >= 0", d.at_s)));
            }
            match &d.change {
                Change::Channel { epsilon, .. } if !(0.0..1.0).contains(epsilon) => {
                    return Err((format!("{at}.change.epsilon"), format!("{epsilon} is outside [0, 1)")));
                }
                Change::Data { profile, .. } if !profile_exists(profile) => {
                    return Err((format!("{at}.change.profile"), format!("no profile named {profile:?}")));
                }
                _ => {}
            }
        }
        self.detection.validate().map_err(|e| super::nested("network.detection", e))?;
        let m = &self.policy.method;
        m.validate(big_l).map_err(|e| super::nested("network.policy.method", e))?;
        if matches!(m, Method::None | Method::SplitLearning) {
            return Err((
                "network.policy.method".into(),
                format!(
                    "{} cannot be simulated by `run` (use slf, encoder_only, retrain, latent_map or index_map)",
                    m.label()
                ),
            ));
        }
        positive("network.horizon_s".into(), self.horizon_s)?;
        if !(self.sample_s >= 0.0 && self.sample_s.is_finite()) {
            return Err(("network.sample_s".into(), format!("{} must be >= 0", self.sample_s)));
        }
        Ok(())
    }
}

impl NetworkSpec {
    /// The physical sections: each field, and how they fit together.
    fn validate_physical(&self) -> Result<(), (String, String)> {
        let cells = matches!(self.topology.kind, TopologyShape::Cells { .. });
        match (&self.radio, cells) {
            (Some(r), true) => r.validate()?,
            (None, true) => {
                return Err(("network.radio".into(), "a cells topology needs a radio section".into()));
            }
            (Some(_), false) => {
                return Err(("network.radio".into(), "radio needs a cells topology (network.topology.kind)".into()));
            }
            (None, false) => {}
        }
        for (i, m) in self.mobility.iter().enumerate() {
            let at = format!("network.mobility[{i}]");
            if self.radio.is_none() {
                return Err((at, "mobility needs a radio section".into()));
            }
            m.validate(&at)?;
        }
        for (i, c) in self.churn.iter().enumerate() {
            c.validate(&format!("network.churn[{i}]"))?;
        }
        if self.radio.is_some() {
            if let Some(i) = self.dynamics.iter().position(|d| matches!(d.change, Change::Channel { .. })) {
                return Err((
                    format!("network.dynamics[{i}].change"),
                    "with a radio section a user's channel ε comes from its SNR; channel changes cannot be scripted"
                        .into(),
                ));
            }
        }
        Ok(())
    }
}
