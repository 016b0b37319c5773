//! The real LibTorch work behind a run: link evaluations and fine-tunings,
//! run on a rayon pool while the event loop goes on.
//!
//! Each job is a pure function of its inputs and seed and runs with one
//! LibTorch intra-op thread, so the pool's size changes wall time only,
//! never a number. The loop asks for a job's result only when it reaches
//! the event that needs it; jobs started close together run in parallel,
//! in the order started. Fine-tunings the loop is certain to ask for can be
//! started ahead (`Lab::prefetch`), so that the long jobs go first.
//!
//! A lab dropped with jobs still running (a run that ends at its horizon
//! before it needs them, an error, a signal) cancels them, waits for them to
//! stop at their next step and joins its threads: no LibTorch work is left
//! running while the process exits, when LibTorch's static destructors
//! would race with it. Cancelled results were never needed, so outputs do
//! not change.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::job_cache::{Entry, JobCache};
pub use super::lab_jobs::JobData;
use super::lab_jobs::{align_job, eval_job};
use crate::align::cost::{CostParams, MethodCost, SplitPlan};
use crate::align::{Budget, Method};
use crate::transceiver::{checkpoint_digest, Profile};

/// What a user brings to a link as TX: its transceiver (profile), the
/// channel ε it sends over, and the data it holds (a profile's data set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxState {
    pub profile: usize,
    /// ε as bits, so the state can key maps.
    pub epsilon_bits: u64,
    pub data_profile: usize,
}

impl TxState {
    pub fn epsilon(&self) -> f64 {
        f64::from_bits(self.epsilon_bits)
    }
}

/// A link as met (no alignment): TX state and RX's profile.
pub type LinkClass = (TxState, usize);

/// A link judged: headline accuracy and MSE, plus RX's classifier
/// confidence (max softmax) on each test message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkEval {
    pub accuracy: f64,
    pub mse: f64,
    pub confidences: Vec<f32>,
    /// Mean of `confidences`, kept so the engine does not re-sum it per event.
    pub mean_confidence: f64,
}

impl LinkEval {
    pub fn new(accuracy: f64, mse: f64, confidences: Vec<f32>) -> LinkEval {
        let mean_confidence = confidences.iter().map(|&c| c as f64).sum::<f64>() / confidences.len().max(1) as f64;
        LinkEval { accuracy, mse, confidences, mean_confidence }
    }
}

/// A finished alignment: the fine-tuning steps it ran and the aligned link judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignOutcome {
    pub steps: usize,
    pub after: LinkEval,
    /// The aligned link judged at the other ε bins of a radio world (ε, eval).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at_bins: Vec<(f64, LinkEval)>,
    /// The escalating policy's check: the headline classifier's accuracy at
    /// RX on the pilots sent through the aligned link (when asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<f64>,
}

impl AlignOutcome {
    /// The aligned link at channel ε `eps_bits`: `after` at the fine-tuning's
    /// own ε, else its evaluation at that bin.
    pub fn at(&self, own_eps_bits: u64, eps_bits: u64) -> Option<&LinkEval> {
        if eps_bits == own_eps_bits {
            return Some(&self.after);
        }
        self.at_bins.iter().find(|(e, _)| e.to_bits() == eps_bits).map(|(_, ev)| ev)
    }
}

/// One fine-tuning as resolved for an alignment class: what the LibTorch job
/// runs (method, budget) and what it costs on the network and at TX (from
/// the cost model for TX's model), so that the two cannot disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignJob {
    pub method: Method,
    pub budget: Budget,
    pub cost: MethodCost,
    /// Split learning's step-by-step schedule (None for the other methods).
    pub split: Option<SplitPlan>,
}

impl AlignJob {
    /// With a target the steps run are an outcome of the real job, known
    /// only once it has run.
    pub fn steps_are_outcome(&self) -> bool {
        self.budget.target_accuracy.is_some() || self.budget.target_mse.is_some()
    }
}

/// The engine's view of the work behind the numbers. `TorchLab` runs real
/// LibTorch jobs; benchmarks of the event loop alone may plug in another.
pub trait Lab {
    /// Starts (or reuses) the evaluation of a link class; returns its id.
    fn evaluate(&mut self, class: LinkClass) -> usize;
    /// Starts a fine-tuning of `class` by `job`; `key` identifies the run and
    /// seeds it (equal keys and methods share one run).
    fn align(&mut self, class: LinkClass, key: String, job: &AlignJob) -> usize;
    /// Starts a fine-tuning the run is certain to ask for by `align` with the
    /// same arguments, before the jobs started after it, so that it does not
    /// wait behind them (`align` then claims it). Only wall time changes.
    fn prefetch(&mut self, class: LinkClass, key: String, job: &AlignJob) {
        let _ = (class, key, job);
    }
    fn eval_result(&mut self, id: usize) -> Result<&LinkEval, LabError>;
    fn align_result(&mut self, id: usize) -> Result<&AlignOutcome, LabError>;
    /// Fine-tuning `id`'s aligned link judged at channel ε `eps_bits` (one of
    /// the context's ε bins, or the fine-tuning's own ε).
    fn aligned_eval(&mut self, id: usize, eps_bits: u64) -> Result<&LinkEval, LabError>;
    /// Jobs started so far: (evaluations, fine-tunings).
    fn counts(&self) -> (usize, usize);
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{job}: {msg}")]
pub struct LabError {
    pub job: String,
    pub msg: String,
}

/// Everything a job needs, shared read-only by all jobs.
#[derive(Debug)]
pub struct JobContext {
    pub profiles: Vec<Profile>,
    pub models_dir: PathBuf,
    pub data_dir: PathBuf,
    pub test_images: usize,
    /// The budget of link evaluations (their curve and judge sizes).
    pub budget: Budget,
    pub cost: CostParams,
    pub seed: u64,
    /// Where finished jobs are kept across runs and processes (a study's
    /// runs and shards share one): a job whose entry exists is read instead of run.
    pub cache: Option<Arc<JobCache>>,
    /// ε bins of a radio world: every fine-tuning's aligned link is also
    /// judged at each (empty: only at its own ε).
    pub epsilon_bins: Vec<f64>,
    /// Pilots of the escalating policy's check of every fine-tuning (None: no check).
    pub check_pilots: Option<usize>,
    /// The data sets the jobs read, loaded once.
    pub data: JobData,
}

impl JobContext {
    /// The cache entry of a job, named by everything that determines its
    /// result (the cache adds the build and its format). None without a
    /// cache, or when a checkpoint cannot be identified (the job then fails
    /// with the checkpoint's own error).
    fn cache_entry(&self, kind: &str, class: LinkClass, key: &str, method: &Method, budget: &Budget) -> Option<Entry> {
        let cache = self.cache.as_ref()?;
        let (s, rx) = class;
        let weights = |i: usize| checkpoint_digest(&self.models_dir, &self.profiles[i]).ok();
        let mut id = serde_json::json!({
            "kind": kind, "key": key, "seed": self.seed,
            "tx": self.profiles[s.profile], "data": self.profiles[s.data_profile], "epsilon": s.epsilon(), "rx": self.profiles[rx],
            "weights": [weights(s.profile)?, weights(s.data_profile)?, weights(rx)?],
            "method": method, "budget": budget, "cost": self.cost, "test_images": self.test_images,
            "data_dir": self.data_dir.canonicalize().unwrap_or_else(|_| self.data_dir.clone()),
            "version": env!("CARGO_PKG_VERSION"),
        });
        if !self.epsilon_bins.is_empty() && kind == "align" {
            id["epsilon_bins"] = serde_json::json!(self.epsilon_bins);
        }
        if let (Some(p), "align") = (self.check_pilots, kind) {
            id["check_pilots"] = serde_json::json!(p);
        }
        Some(cache.entry(kind, &id))
    }
}

enum Slot<T> {
    Pending(Receiver<Result<T, LabError>>),
    Done(Result<T, LabError>),
}

impl<T> Slot<T> {
    fn get(&mut self) -> &Result<T, LabError> {
        if let Slot::Pending(rx) = self {
            let r = rx.recv().unwrap_or_else(|_| Err(LabError { job: "job".into(), msg: "worker thread died".into() }));
            *self = Slot::Done(r);
        }
        match self {
            Slot::Done(r) => r,
            Slot::Pending(_) => unreachable!(),
        }
    }
}

pub struct TorchLab {
    ctx: Arc<JobContext>,
    /// Some until dropped (then its threads are joined).
    pool: Option<rayon::ThreadPool>,
    threads: Vec<JoinHandle<()>>,
    /// Set when the lab is dropped: jobs still running stop at their next step.
    cancel: Arc<AtomicBool>,
    eval_ids: HashMap<LinkClass, usize>,
    evals: Vec<Slot<LinkEval>>,
    /// By (key, method label): one lab may run several methods.
    align_ids: HashMap<(String, String), usize>,
    aligns: Vec<Slot<AlignOutcome>>,
    /// The link class of each fine-tuning (its own ε).
    align_class: Vec<LinkClass>,
    /// Fine-tunings started by `prefetch` and not yet asked for (not counted).
    prefetched: HashMap<(String, String), Slot<AlignOutcome>>,
}

impl TorchLab {
    /// `threads` workers, each job on one LibTorch thread.
    pub fn new(ctx: JobContext, threads: usize) -> Result<TorchLab, LabError> {
        // Our own threads (not rayon's detached ones), so that drop can join them.
        let mut handles = Vec::new();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .spawn_handler(|t| {
                let mut b = std::thread::Builder::new().name(format!("slfsim-job-{}", t.index()));
                if let Some(size) = t.stack_size() {
                    b = b.stack_size(size);
                }
                handles.push(b.spawn(|| t.run())?);
                Ok(())
            })
            .build()
            .map_err(|e| LabError { job: "pool".into(), msg: e.to_string() })?;
        Ok(TorchLab {
            ctx: Arc::new(ctx),
            pool: Some(pool),
            threads: handles,
            cancel: Arc::new(AtomicBool::new(false)),
            eval_ids: HashMap::new(),
            evals: Vec::new(),
            align_ids: HashMap::new(),
            aligns: Vec::new(),
            align_class: Vec::new(),
            prefetched: HashMap::new(),
        })
    }

    fn spawn<T: Send + Serialize + DeserializeOwned + 'static>(
        &self,
        name: String,
        entry: Option<Entry>,
        f: impl FnOnce(&JobContext) -> Result<T, LabError> + Send + 'static,
    ) -> Slot<T> {
        if let (Some(c), Some(e)) = (&self.ctx.cache, &entry) {
            if let Some(v) = c.lookup(e) {
                return Slot::Done(Ok(v));
            }
        }
        let (tx, rx) = channel();
        let ctx = Arc::clone(&self.ctx);
        let cancel = Arc::clone(&self.cancel);
        let Some(pool) = &self.pool else { unreachable!("the pool lives until the lab is dropped") };
        pool.spawn(move || {
            let started = std::time::Instant::now();
            let cancelled = || LabError { job: "job".into(), msg: "cancelled".into() };
            let r = if cancel.load(Ordering::SeqCst) || crate::cancel::interrupted().is_some() {
                Err(cancelled())
            } else {
                // A panic (tch turns LibTorch exceptions into panics) becomes this
                // job's error; left alone, it would abort the process.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::cancel::with_token(cancel, || {
                        // Fixed per job: results must not depend on the pool size.
                        tch::set_num_threads(1);
                        match (&ctx.cache, &entry) {
                            (Some(c), Some(e)) => {
                                // A job waiting for another holder's entry stops like a running one.
                                let stop = || crate::cancel::check().is_err();
                                let mut failed = None;
                                let r = c.get_or_compute(e, stop, || {
                                    f(&ctx).map_err(|x| {
                                        let msg = x.msg.clone();
                                        failed = Some(x);
                                        msg
                                    })
                                });
                                // The job's own error as it was, else the cache's.
                                r.map_err(|msg| failed.unwrap_or_else(|| LabError { job: "job cache".into(), msg }))
                            }
                            _ => f(&ctx),
                        }
                    })
                }))
                .unwrap_or_else(|p| Err(LabError { job: "job".into(), msg: format!("panicked: {}", panic_text(&p)) }))
            };
            // Where a run's wall time goes (SLFSIM_LOG=debug).
            tracing::debug!(job = %name, ok = r.is_ok(), seconds = started.elapsed().as_secs_f64(), "lab job done");
            let _ = tx.send(r);
        });
        Slot::Pending(rx)
    }

    fn spawn_align(&self, class: LinkClass, key: &str, job: &AlignJob) -> Slot<AlignOutcome> {
        let k = key.to_string();
        let entry = self.ctx.cache_entry("align", class, &k, &job.method, &job.budget);
        let (method, budget) = (job.method, job.budget.clone());
        self.spawn(format!("align {k} {}", method.label()), entry, move |ctx| {
            align_job(ctx, class, &method, &budget, &k)
        })
    }
}

impl Drop for TorchLab {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        // Every job answers (cancelled ones at their next step) before the pool goes.
        for slot in &mut self.evals {
            slot.get();
        }
        for slot in self.aligns.iter_mut().chain(self.prefetched.values_mut()) {
            slot.get();
        }
        drop(self.pool.take());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The message of a caught panic.
pub fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

impl Lab for TorchLab {
    fn evaluate(&mut self, class: LinkClass) -> usize {
        if let Some(&id) = self.eval_ids.get(&class) {
            return id;
        }
        let key = format!("eval {}", class_key(|i| &self.ctx.profiles[i].name, class));
        let entry = self.ctx.cache_entry("eval", class, &key, &Method::None, &self.ctx.budget);
        let slot = self.spawn(key.clone(), entry, move |ctx| eval_job(ctx, class, &key));
        self.evals.push(slot);
        self.eval_ids.insert(class, self.evals.len() - 1);
        self.evals.len() - 1
    }

    fn align(&mut self, class: LinkClass, key: String, job: &AlignJob) -> usize {
        let id = (key, job.method.label());
        if let Some(&i) = self.align_ids.get(&id) {
            return i;
        }
        let slot = match self.prefetched.remove(&id) {
            Some(slot) => slot,
            None => self.spawn_align(class, &id.0, job),
        };
        self.aligns.push(slot);
        self.align_class.push(class);
        self.align_ids.insert(id, self.aligns.len() - 1);
        self.aligns.len() - 1
    }

    fn prefetch(&mut self, class: LinkClass, key: String, job: &AlignJob) {
        let id = (key, job.method.label());
        if !self.align_ids.contains_key(&id) && !self.prefetched.contains_key(&id) {
            let slot = self.spawn_align(class, &id.0, job);
            self.prefetched.insert(id, slot);
        }
    }

    fn eval_result(&mut self, id: usize) -> Result<&LinkEval, LabError> {
        self.evals[id].get().as_ref().map_err(Clone::clone)
    }

    fn align_result(&mut self, id: usize) -> Result<&AlignOutcome, LabError> {
        self.aligns[id].get().as_ref().map_err(Clone::clone)
    }

    fn aligned_eval(&mut self, id: usize, eps_bits: u64) -> Result<&LinkEval, LabError> {
        let own = self.align_class[id].0.epsilon_bits;
        let o = self.aligns[id].get().as_ref().map_err(Clone::clone)?;
        o.at(own, eps_bits).ok_or_else(|| LabError {
            job: format!("align {id}"),
            msg: format!("no evaluation at epsilon {}", f64::from_bits(eps_bits)),
        })
    }

    fn counts(&self) -> (usize, usize) {
        (self.evals.len(), self.aligns.len())
    }
}

/// A readable key naming a link class (used for memoized jobs and seeds);
/// `name(i)` is profile i's name.
pub fn class_key<'a>(name: impl Fn(usize) -> &'a str, class: LinkClass) -> String {
    let (s, rx) = class;
    format!("{}|eps={}|data={}|rx={}", name(s.profile), s.epsilon(), name(s.data_profile), name(rx))
}
