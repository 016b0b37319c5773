//! Scenario files (RON): plain serde structs, defaults and validation.
//! Errors name the file with line and column (syntax and type errors, from
//! RON) or the field path (rules RON cannot check, e.g. `profiles[2].channel.epsilon`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::align::cost::CostParams;
use crate::align::Budget;
use crate::align::Method;
use crate::data::Partition;
use crate::transceiver::Profile;

pub mod limits;
mod physical;
mod policy_method;
mod population;
mod population_check;
pub use physical::{
    AreaSpec, ChurnSpec, FadingSpec, MobilitySpec, ModulationSpec, MotionSpec, PathLossSpec, PlacementSpec, RadioSpec,
    RateSpec, StationPlacement,
};
pub use policy_method::{AdaptiveTarget, PolicyMethod, ADAPTIVE_PILOTS};
pub use population::{
    Change, ComputeSpec, DetectionRule, Dynamic, EdgeSpec, Fidelity, LinkParams, NetworkSpec, Order, Policy, RatePer,
    TopologyShape, TopologySpec, Traffic, UserGroup,
};

/// A scenario: the transceiver profiles that exist in it, how pairs are
/// evaluated and aligned, and (for `slfsim run`) the network of users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// Scenario seed (evaluation channel noise and, later, the simulation).
    #[serde(default)]
    pub seed: u64,
    /// Folder of checkpoints, relative to the working directory.
    #[serde(default = "default_models_dir")]
    pub models_dir: PathBuf,
    pub profiles: Vec<Profile>,
    #[serde(default)]
    pub eval: EvalConfig,
    /// Defaults of `slfsim align`: fine-tuning budget and link/compute costs.
    #[serde(default)]
    pub align: AlignConfig,
    /// The paper's two-user study (`slfsim two-user`).
    #[serde(default)]
    pub two_user: TwoUserConfig,
    /// The multi-user network `slfsim run` simulates.
    #[serde(default)]
    pub network: NetworkSpec,
}

/// How alignments are run and costed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AlignConfig {
    pub budget: Budget,
    pub cost: CostParams,
}

fn default_models_dir() -> PathBuf {
    PathBuf::from("models")
}

/// How the misalignment map is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// Held-out test images of TX's data set per pair (the first n of the test split).
    pub test_images: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig { test_images: 2000 }
    }
}

/// The paper's two-user study: replicate pairs grouped by the kind of
/// dissimilarity, and the methods run on each.
/// One replicate pair of a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    /// The kind of dissimilarity, e.g. "channel" or "mnist<-fashion"; rows are grouped by it.
    pub study: String,
    pub tx: String,
    pub rx: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TwoUserConfig {
    pub pairs: Vec<PairSpec>,
    /// Methods run on every pair (`none` is always run first as the reference).
    pub methods: Vec<Method>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{col}: {msg}")]
    Syntax { path: PathBuf, line: usize, col: usize, msg: String },
    #[error("{path}: {field}: {msg}")]
    Invalid { path: PathBuf, field: String, msg: String },
}

pub(crate) fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(
        ron::extensions::Extensions::IMPLICIT_SOME | ron::extensions::Extensions::UNWRAP_NEWTYPES,
    )
}

/// Parses scenario text; `path` only labels errors.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let sc: Scenario = ron_options().from_str(text).map_err(|e| ScenarioError::Syntax {
        path: path.into(),
        line: e.span.start.line,
        col: e.span.start.col,
        msg: e.code.to_string(),
    })?;
    sc.validate().map_err(|(field, msg)| ScenarioError::Invalid { path: path.into(), field, msg })?;
    Ok(sc)
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = crate::bounded::read_text(path, crate::bounded::MAX_TEXT)
        .map_err(|source| ScenarioError::Read { path: path.into(), source })?;
    parse(&text, path)
}

/// Splits "field: message" from the model/channel validators into (path, msg).
pub(crate) fn nested(prefix: &str, err: String) -> (String, String) {
    match err.split_once(": ") {
        Some((f, m)) => (format!("{prefix}.{f}"), m.to_string()),
        None => (prefix.to_string(), err),
    }
}

impl Scenario {
    /// Rules beyond the types: unique names, ranges, sizes that fit together.
    /// Returns (field path, message) of the first problem.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.name.is_empty() || !valid_name(&self.name) {
            return Err(("name".into(), format!("{:?} must be non-empty letters, digits, '-', '_' or '.'", self.name)));
        }
        if self.profiles.is_empty() {
            return Err(("profiles".into(), "at least one profile is needed".into()));
        }
        let mut seen = HashSet::new();
        for (i, p) in self.profiles.iter().enumerate() {
            let at = format!("profiles[{i}]");
            if !valid_name(&p.name) {
                return Err((
                    format!("{at}.name"),
                    format!("{:?} must be non-empty letters, digits, '-', '_' or '.' (it names files)", p.name),
                ));
            }
            if !seen.insert(&p.name) {
                return Err((format!("{at}.name"), format!("duplicate profile name {:?}", p.name)));
            }
            p.channel.validate().map_err(|e| nested(&format!("{at}.channel"), e))?;
            p.model.validate().map_err(|e| nested(&format!("{at}.model"), e))?;
            match &p.data.partition {
                Partition::All => {}
                Partition::Iid { size } | Partition::Dirichlet { size, .. } if *size == 0 => {
                    return Err((format!("{at}.data.partition.size"), "must be >= 1".into()));
                }
                Partition::Dirichlet { alpha, .. } if !(*alpha > 0.0 && alpha.is_finite()) => {
                    return Err((format!("{at}.data.partition.alpha"), format!("{alpha} must be > 0")));
                }
                _ => {}
            }
            let t = &p.train;
            if t.batch_size == 0 {
                return Err((format!("{at}.train.batch_size"), "must be >= 1".into()));
            }
            if !(t.learning_rate > 0.0 && t.learning_rate.is_finite()) {
                return Err((format!("{at}.train.learning_rate"), format!("{} must be > 0", t.learning_rate)));
            }
            if t.eval_images == 0 {
                return Err((format!("{at}.train.eval_images"), "must be >= 1".into()));
            }
        }
        self.align.cost.validate().map_err(|e| nested("align.cost", e))?;
        let b = &self.align.budget;
        if b.batch_size == 0 {
            return Err(("align.budget.batch_size".into(), "must be >= 1".into()));
        }
        if !(b.learning_rate > 0.0 && b.learning_rate.is_finite()) {
            return Err(("align.budget.learning_rate".into(), format!("{} must be > 0", b.learning_rate)));
        }
        if b.curve_images == 0 {
            return Err(("align.budget.curve_images".into(), "must be >= 1".into()));
        }
        for (i, pair) in self.two_user.pairs.iter().enumerate() {
            for (field, name) in [("tx", &pair.tx), ("rx", &pair.rx)] {
                if self.profile(name).is_none() {
                    return Err((format!("two_user.pairs[{i}].{field}"), format!("no profile named {name:?}")));
                }
            }
            let (tx, rx) = (self.profile(&pair.tx).unwrap(), self.profile(&pair.rx).unwrap());
            if tx.image_channels() != rx.image_channels() || tx.model != rx.model {
                return Err((
                    format!("two_user.pairs[{i}]"),
                    format!(
                        "{} and {} have different model sizes or colour modes; they cannot be paired",
                        tx.name, rx.name
                    ),
                ));
            }
        }
        for (i, m) in self.two_user.methods.iter().enumerate() {
            let big_l = self.profiles[0].model.decoder_layers();
            m.validate(big_l).map_err(|e| nested(&format!("two_user.methods[{i}]"), e))?;
        }
        let big_l = self.profiles[0].model.decoder_layers();
        self.network.validate(&|n| self.profile(n).is_some(), big_l)?;
        if self.eval.test_images == 0 {
            return Err(("eval.test_images".into(), "must be >= 1".into()));
        }
        // Bounds that keep a run finite (clock, model and data sizes).
        limits::check_fields(self)
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profile_index(name).map(|i| &self.profiles[i])
    }

    pub fn profile_index(&self, name: &str) -> Option<usize> {
        self.profiles.iter().position(|p| p.name == name)
    }
}

pub(crate) fn valid_name(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('.') && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

#[cfg(test)]
mod tests;
