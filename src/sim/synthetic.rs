//! A stand-in for `TorchLab` without models, for benchmarks and tests of
//! the event loop only: every job is answered at once with fixed numbers.
//! `slfsim run` and `slfsim study` never use it; no result of slfsim comes
//! from it.

use std::collections::HashMap;

use super::lab::{AlignJob, AlignOutcome, Lab, LabError, LinkClass, LinkEval};
use super::world::{ProfileInfo, World};
use crate::align::{AlignResult, Judge, Judged};

/// Accuracy / MSE / monitor confidence of a link as met across profiles.
const MISALIGNED: (f64, f64, f32) = (0.1, 0.08, 0.2);
/// The same for a jointly trained or freshly aligned link.
const ALIGNED: (f64, f64, f32) = (0.9, 0.01, 0.95);

/// A `Lab` without models: every job is answered at once with fixed,
/// plausible numbers. A link class whose TX state is the RX's own profile
/// (same profile, own data) evaluates as aligned, less 2 points of accuracy
/// and confidence per 0.01 of ε above the profile's ε; every other class as
/// misaligned. Every fine-tuning reaches the aligned numbers after
/// the full step budget. Bytes and FLOPs in the `AlignResult` come from the
/// job's cost (the real cost model). Jobs are memoized by class / key like
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
        }
    }

    /// Alignments by the method labelled `label` reach `accuracy` (instead of
    /// the aligned 0.9).
    pub fn with_accuracies(mut self, by_label: &[(&str, f64)]) -> SyntheticLab {
        self.by_method.extend(by_label.iter().map(|&(l, a)| (l.to_string(), a)));
        self
    }

    fn link_eval(&self, (accuracy, mse, conf): (f64, f64, f32)) -> LinkEval {
        LinkEval::new(accuracy, mse, vec![conf; self.messages])
    }

    fn judged((accuracy, mse, _): (f64, f64, f32)) -> Judged {
        Judged { accuracy_rx: accuracy, accuracy_tx: accuracy, mse, psnr_db: -10.0 * mse.log10() }
    }

    fn synthetic_result(&self, class: LinkClass, job: &AlignJob) -> AlignResult {
        let (tx_state, rx) = class;
        let tx = &self.profiles[tx_state.profile];
        let (b, method, c) = (&job.budget, &job.method, &job.cost);
        let steps = if method.pilots().is_some() { 0 } else { b.steps };
        AlignResult {
            tx: tx.name.clone(),
            rx: self.profiles[rx].name.clone(),
            method: method.label(),
            freeze: method.freeze(tx.decoder_layers),
            steps,
            headline: Judge::Rx,
            before: Self::judged(MISALIGNED),
            after: Self::judged(ALIGNED),
            // The synthetic lab's aligned link is the matched one: the whole gap.
            matched: Self::judged(ALIGNED),
            gap_recovered: crate::align::gap_recovered(MISALIGNED.0, ALIGNED.0, ALIGNED.0),
            download_bytes: c.download_bytes,
            upload_bytes: c.upload_bytes,
            per_step_up_bytes: c.per_step_up_bytes,
            per_step_down_bytes: c.per_step_down_bytes,
            flops_per_step: c.flops_per_step,
            finetune_flops: c.total_flops(steps),
            download_s: c.download_s,
            compute_s: c.compute_s,
            upload_s: c.upload_s,
            recovery_time_s: c.download_s + c.compute_s + c.upload_s,
            curve: Vec::new(),
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
        let outcome = AlignOutcome {
            result: self.synthetic_result(class, job),
            after: self.link_eval((acc, mse, conf)),
            at_bins: Vec::new(),
        };
        self.aligns.push(outcome);
        self.align_class.push(class);
        self.align_ids.insert(id, self.aligns.len() - 1);
        self.aligns.len() - 1
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
