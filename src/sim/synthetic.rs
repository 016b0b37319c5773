//! A stand-in for `TorchLab` without models, for benchmarks and tests of
//! the event loop only: every job is answered at once with fixed numbers.
//! `slfsim run` and `slfsim study` never use it; no result of slfsim comes
//! from it.

use std::collections::HashMap;

use super::lab::{AlignJob, AlignOutcome, Lab, LabError, LinkClass, LinkEval};
use super::world::{ProfileInfo, World};

/// Accuracy / MSE / monitor confidence of a link as met across profiles.
const MISALIGNED: (f64, f64, f32) = (0.1, 0.08, 0.2);
/// The same for a jointly trained or freshly aligned link.
const ALIGNED: (f64, f64, f32) = (0.9, 0.01, 0.95);

/// A `Lab` without models: every job is answered at once with fixed,
/// plausible numbers. A link class whose TX state is the RX's own profile
/// (same profile, own data) evaluates as aligned, less 2 points of accuracy
/// and confidence per 0.01 of ε above the profile's ε; every other class as
/// misaligned. Every fine-tuning reaches the aligned numbers after
/// the full step budget. Jobs are memoized by class / key like
/// `TorchLab`, so `counts()` matches what a real run would start.
pub struct SyntheticLab {
    profiles: Vec<ProfileInfo>,
    messages: usize,
    eval_ids: HashMap<LinkClass, usize>,
    evals: Vec<LinkEval>,
    align_ids: HashMap<(String, String), usize>,
    aligns: Vec<AlignOutcome>,
    align_class: Vec<LinkClass>,
    /// Aligned links judged at other ε: (job, ε bits) -> eval.
    at_eps: HashMap<(usize, u64), LinkEval>,
    /// Accuracy after aligning by a method (by label), where it differs from
    /// the aligned numbers (tests of the adaptive policy).
    by_method: HashMap<String, f64>,
    /// The escalating policy's pilot check after a method (by label), where
    /// it differs from the judged accuracy.
    checks: HashMap<String, f64>,
    /// Fine-tunings the engine prefetched, (key, method label), in order.
    pub prefetched: Vec<(String, String)>,
}

impl SyntheticLab {
    pub fn new(world: &World) -> SyntheticLab {
        SyntheticLab {
            profiles: world.settings.profiles.clone(),
            messages: world.settings.messages,
            eval_ids: HashMap::new(),
            evals: Vec::new(),
            align_ids: HashMap::new(),
            aligns: Vec::new(),
            align_class: Vec::new(),
            at_eps: HashMap::new(),
            by_method: HashMap::new(),
            checks: HashMap::new(),
            prefetched: Vec::new(),
        }
    }

    /// Alignments by the method labelled `label` reach `accuracy` (instead of
    /// the aligned 0.9).
    pub fn with_accuracies(mut self, by_label: &[(&str, f64)]) -> SyntheticLab {
        self.by_method.extend(by_label.iter().map(|&(l, a)| (l.to_string(), a)));
        self
    }

    /// The pilot check after the method labelled `label` gives `check`.
    pub fn with_checks(mut self, by_label: &[(&str, f64)]) -> SyntheticLab {
        self.checks.extend(by_label.iter().map(|&(l, a)| (l.to_string(), a)));
        self
    }

    /// The fine-tunings asked for so far, (key, method label).
    pub fn asked(&self) -> impl Iterator<Item = &(String, String)> {
        self.align_ids.keys()
    }

    fn link_eval(&self, (accuracy, mse, conf): (f64, f64, f32)) -> LinkEval {
        LinkEval::new(accuracy, mse, vec![conf; self.messages])
    }

    /// Steps a fine-tuning by `job` runs: its whole budget (none for a pilot aligner).
    fn steps(job: &AlignJob) -> usize {
        if job.method.pilots().is_some() {
            0
        } else {
            job.budget.steps
        }
    }
}

impl Lab for SyntheticLab {
    fn evaluate(&mut self, class: LinkClass) -> usize {
        if let Some(&id) = self.eval_ids.get(&class) {
            return id;
        }
        let (s, rx) = class;
        let own = s.profile == rx && s.data_profile == rx;
        let drop = 2.0 * (s.epsilon() - self.profiles[rx].epsilon).max(0.0);
        let (acc, mse, conf) = ALIGNED;
        let e = self.link_eval(if own { (acc - drop, mse, conf - drop as f32) } else { MISALIGNED });
        self.evals.push(e);
        self.eval_ids.insert(class, self.evals.len() - 1);
        self.evals.len() - 1
    }

    fn align(&mut self, class: LinkClass, key: String, job: &AlignJob) -> usize {
        let id = (key, job.method.label());
        if let Some(&i) = self.align_ids.get(&id) {
            return i;
        }
        let (_, mse, conf) = ALIGNED;
        let acc = self.by_method.get(&job.method.label()).copied().unwrap_or(ALIGNED.0);
        // The pilot check: as set, else the judged accuracy.
        let check = Some(self.checks.get(&job.method.label()).copied().unwrap_or(acc));
        let outcome = AlignOutcome {
            steps: Self::steps(job),
            after: self.link_eval((acc, mse, conf)),
            at_bins: Vec::new(),
            check,
        };
        self.aligns.push(outcome);
        self.align_class.push(class);
        self.align_ids.insert(id, self.aligns.len() - 1);
        self.aligns.len() - 1
    }

    fn prefetch(&mut self, _class: LinkClass, key: String, job: &AlignJob) {
        self.prefetched.push((key, job.method.label()));
    }

    fn eval_result(&mut self, id: usize) -> Result<&LinkEval, LabError> {
        self.evals.get(id).ok_or_else(|| LabError { job: format!("eval {id}"), msg: "no such evaluation".into() })
    }

    fn align_result(&mut self, id: usize) -> Result<&AlignOutcome, LabError> {
        self.aligns.get(id).ok_or_else(|| LabError { job: format!("align {id}"), msg: "no such fine-tuning".into() })
    }

    /// An aligned link loses 2 points of accuracy (and of confidence) per
    /// 0.01 of ε above the ε it was aligned at; below it, nothing.
    fn aligned_eval(&mut self, id: usize, eps_bits: u64) -> Result<&LinkEval, LabError> {
        let own = self
            .align_class
            .get(id)
            .ok_or_else(|| LabError { job: format!("align {id}"), msg: "no such fine-tuning".into() })?;
        let drop = 2.0 * (f64::from_bits(eps_bits) - own.0.epsilon()).max(0.0);
        let (acc, mse, conf) = ALIGNED;
        let e = LinkEval::new(acc - drop, mse, vec![conf - drop as f32; self.messages]);
        Ok(self.at_eps.entry((id, eps_bits)).or_insert(e))
    }

    fn counts(&self) -> (usize, usize) {
        (self.evals.len(), self.aligns.len())
    }
}
