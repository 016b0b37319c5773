//! Split learning served as traffic. After the codebook's download, every
//! step is a chain of computes on the two ends' compute queues and
//! hand-overs on the pair's routes, each a flow under fair sharing that
//! pays its route's latency:
//!
//! TX forward → z up → RX forward → x̂ down → ∂L/∂x̂ up → RX backward →
//! ∂L/∂z down → TX backward
//!
//! (`cost::SplitPlan` sizes the tensors and splits the FLOPs). After the
//! last step the trained codebook goes up and RX installs, as for SLF.
//!
//! The log keeps the phases' events: `finetune_started` when TX's first
//! forward starts (its bytes: all the steps' hand-overs, both ways),
//! `finetune_finished` when the last backward ends. A step's stages are not
//! logged, even under `--events all`: they would be 8 lines a step (2,400
//! for 300 steps) per alignment and drown the run's other events, while the
//! episode's phase times, bytes and FLOPs already carry their sum.

use super::core::{Job, SimTime};
use super::engine::{Dir, Engine, EngineError, Ev};
use super::state::SplitProgress;
use crate::align::cost::{bytes_each_way, SplitPlan};

/// One stage of a step: a compute at TX or RX (index into `SplitPlan::flops`)
/// or a hand-over (index into `SplitPlan::messages`).
#[derive(Clone, Copy)]
enum Stage {
    Compute { at_rx: bool, part: usize },
    HandOver(usize),
}

const STAGES: [Stage; 8] = [
    Stage::Compute { at_rx: false, part: 0 },
    Stage::HandOver(0),
    Stage::Compute { at_rx: true, part: 1 },
    Stage::HandOver(1),
    Stage::HandOver(2),
    Stage::Compute { at_rx: true, part: 2 },
    Stage::HandOver(3),
    Stage::Compute { at_rx: false, part: 3 },
];

impl Engine<'_> {
    fn split_plan(&self, p: usize) -> SplitPlan {
        let candidate = self.pairs[p].serving.as_ref().and_then(|s| s.candidate);
        self.job_spec(p, candidate).split.expect("a split-learning service has a plan")
    }

    /// Bytes one step hands over, (up, down).
    pub(super) fn split_step_bytes(&self, p: usize) -> (u64, u64) {
        bytes_each_way(&self.split_plan(p).messages)
    }

    /// The codebook reached TX: the first of `steps` steps starts.
    pub(super) fn split_begin(&mut self, now: SimTime, p: usize, steps: usize) -> Result<(), EngineError> {
        let sv = self.pairs[p].serving.as_mut().expect("serving");
        sv.split = Some(SplitProgress { step: 0, steps: steps as u32, stage: 0 });
        self.split_stage(now, p)
    }

    /// Starts the current stage.
    fn split_stage(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        let sp = self.pairs[p].serving.as_ref().and_then(|s| s.split).expect("split learning in progress");
        let plan = self.split_plan(p);
        match STAGES[sp.stage as usize] {
            Stage::Compute { at_rx, part } => {
                let pr = &self.pairs[p];
                let (user, ep) =
                    (if at_rx { pr.rx } else { pr.tx }, pr.open.expect("served pairs have an open episode"));
                let s = self.users[user].compute.submit(now, Job { id: ep as u64, flops: plan.flops[part] });
                if sp.step == 0 && sp.stage == 0 {
                    self.episodes[ep].finetune_start = Some(s.started);
                    self.q.push(s.started, Ev::FinetuneStarted { pair: p })?;
                }
                self.q.push(s.finished, Ev::SplitStage { pair: p })?;
                Ok(())
            }
            Stage::HandOver(i) => {
                let (up, bytes) = plan.messages[i];
                self.transfer(now, p, if up { Dir::Up } else { Dir::Down }, bytes)
            }
        }
    }

    /// The current stage ended: the next starts, or after the last step the
    /// fine-tuning phase ends and the codebook's upload starts.
    pub(super) fn split_stage_done(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        let sv = self.pairs[p].serving.as_mut().expect("serving");
        let sp = sv.split.as_mut().expect("split learning in progress");
        sp.stage += 1;
        if usize::from(sp.stage) == STAGES.len() {
            sp.stage = 0;
            sp.step += 1;
        }
        if sp.step == sp.steps {
            sv.split = None;
            return self.finetune_finished(now, p);
        }
        self.split_stage(now, p)
    }
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
