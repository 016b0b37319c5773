//! One simulation end to end: expand the scenario's network, check every
//! checkpoint it needs, start the LibTorch job pool and run the event loop.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::engine::{run, EngineError, RunOutput};
use super::events::EventSink;
use super::job_cache::JobCache;
use super::lab::{JobContext, LabError, TorchLab};
use super::world;
use crate::scenario::Scenario;
use crate::transceiver::{load_checkpoint, CheckpointError};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{field}: {msg}")]
    Invalid { field: String, msg: String },
    #[error("{source} (run `slfsim train` on the scenario)")]
    Checkpoint { source: CheckpointError },
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Where a simulation reads and keeps things.
#[derive(Debug, Clone)]
pub struct SimPaths {
    pub models_dir: PathBuf,
    pub data_dir: PathBuf,
    /// Finished jobs shared across runs and processes (None: nothing kept).
    pub cache: Option<Arc<JobCache>>,
}

/// Runs `sc`; its events go to `events` as they happen.
pub fn simulate(
    sc: &Scenario,
    paths: &SimPaths,
    threads: usize,
    events: &mut dyn EventSink,
    progress: impl FnMut(f64),
) -> Result<RunOutput, SimError> {
    let w = world::build(sc).map_err(|(field, msg)| SimError::Invalid { field, msg })?;
    check_checkpoints(sc, &w, &paths.models_dir)?;
    let mut lab = TorchLab::new(job_context(sc, paths), threads)?;
    Ok(run(&w, &mut lab, events, progress)?)
}

/// What the scenario's LibTorch jobs need (a lab may serve several runs
/// that share it, e.g. the same scenario at several population sizes).
pub fn job_context(sc: &Scenario, paths: &SimPaths) -> JobContext {
    JobContext {
        profiles: sc.profiles.clone(),
        models_dir: paths.models_dir.clone(),
        data_dir: paths.data_dir.clone(),
        test_images: sc.eval.test_images,
        budget: sc.align.budget.clone(),
        cost: sc.align.cost,
        seed: sc.seed,
        cache: paths.cache.clone(),
        epsilon_bins: sc.network.radio.as_ref().map(|r| r.bins.clone()).unwrap_or_default(),
        check_pilots: matches!(sc.network.policy.method, crate::scenario::PolicyMethod::Escalate { .. })
            .then_some(crate::scenario::ADAPTIVE_PILOTS),
        data: Default::default(),
    }
}

/// Every checkpoint a job may load, checked before the clock starts.
fn check_checkpoints(sc: &Scenario, w: &world::World, dir: &Path) -> Result<(), SimError> {
    let mut used: Vec<usize> = w.users.iter().map(|u| u.profile).collect();
    for c in &w.changes {
        if let world::UserChange::Data { profile } = c.change {
            used.push(profile);
        }
    }
    used.sort();
    used.dedup();
    for i in used {
        load_checkpoint(dir, &sc.profiles[i]).map_err(|source| SimError::Checkpoint { source })?;
    }
    Ok(())
}
