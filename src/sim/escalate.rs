//! The escalating policy, `method: escalate(target_accuracy: A)`: when a
//! pair's service starts, RX ranks the adaptive candidates
//! (`PolicyMethod::candidates`) by the adaptive policy's predicted recovery
//! time (ties: candidate order) and runs the cheapest. When its result is
//! installed, RX *checks* it with a measurement a deployed system can make:
//! its accuracy on the P = `ADAPTIVE_PILOTS` public pilot images (the last P
//! of TX's test split, as the pilot aligners use; the judge uses the first
//! `eval.test_images`). TX sends the pilots' messages through its channel ε
//! and its (new) encoder θ and codebook; RX decodes them through what it
//! installed and classifies them with the link's headline classifier
//! (RX's; TX's task's for a data link, as `align` judges), against the
//! pilots' public labels. The check runs in the real lab job
//! (`lab_jobs`), with its own seeded stream.
//!
//! - Check ≥ A: done; the episode ends (recovery ends at this installation).
//! - Check < A: the result is installed anyway when its check beats what
//!   is installed (a partial repair beats none), and the pair goes back to
//!   RX's queue for the next costlier candidate: it releases RX's service
//!   slot, so that other pairs' cheap first rungs do not wait behind a long
//!   ladder (with `max_concurrent: 1`, ladders interleave in queue order).
//!   The next rung is chosen at the check, from what the run knows then.
//!   A candidate is skipped when this run's checks (the same link class,
//!   else the same kind; `adaptive::Calibration` fed with check accuracies,
//!   not judged ones) predict it at or below the best check so far (it
//!   cannot improve what is installed), or below A while a costlier one is
//!   still predicted to reach it (a known miss). An unmeasured candidate is
//!   never skipped.
//! - No rung left: the most accurate result by check stays installed and
//!   the episode ends.
//!
//! Costs: a pilot aligner's pilot messages crossed already (the check reuses
//! what RX received); after SLF they go up as a flow of P messages once the
//! upload ends. RX's decoding and classification of the pilots
//! (`CheckCost::rx_flops`, in `escalate.csv` and `summary.json`) runs on
//! RX's compute queue, after a pilot aligner's fit, before the check decides.

use serde::{Deserialize, Serialize};

use super::adaptive::{Calibration, Kind, KindKey, Prediction, Source};
use super::core::{ns_to_secs, SimTime};
use super::engine::{Dir, Engine, EngineError};
use super::events::EventKind;
use super::lab::{LabError, LinkClass};
use super::state::Serving;
use crate::align::cost::layer_costs;
use crate::scenario::ADAPTIVE_PILOTS;
use crate::transceiver::ModelConfig;

/// What checking one result costs for a TX of a given model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckCost {
    /// P pilot messages of g² packed log2 K-bit indices (sent after SLF;
    /// a pilot aligner's crossed already).
    pub up_bytes: u64,
    /// RX decodes and classifies the P pilots: decoder φ and classifier forward.
    pub rx_flops: u64,
}

/// The check's cost for `cfg` (one config stands for both ends, as in the
/// cost model). The classifier: 3×3 convolutions at full size, each followed
/// by a 2×2 max-pool, then two dense layers.
pub fn check_cost(cfg: &ModelConfig, image_channels: i64) -> CheckCost {
    let p = ADAPTIVE_PILOTS as u64;
    let g = cfg.grid_side() as u64;
    let message = (g * g * cfg.bits_per_index() as u64).div_ceil(8);
    let decoder: u64 = layer_costs(cfg, image_channels)
        .iter()
        .filter(|l| l.part == crate::align::cost::Part::Decoder)
        .map(|l| l.forward_flops)
        .sum();
    let (mut side, mut c_in, mut classifier) = (32u64, image_channels as u64, 0u64);
    for &c in &cfg.classifier_channels {
        classifier += 2 * c_in * c as u64 * 9 * side * side;
        (side, c_in) = (side / 2, c as u64);
    }
    let hidden = cfg.classifier_hidden as u64;
    classifier += 2 * c_in * side * side * hidden + 2 * hidden * 10;
    CheckCost { up_bytes: p * message, rx_flops: p * (decoder + classifier) }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptEnding {
    /// Its check reached the target: installed, the episode ends.
    Passed,
    /// Its check missed: the pair moved to a costlier candidate.
    Escalated,
    /// Its check missed and no rung was left: the best result kept.
    Exhausted,
    /// TX changed while it was served: discarded, the pair served again.
    Stale,
    TxLeft,
    /// Still being served at the horizon.
    Unfinished,
}

impl AttemptEnding {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptEnding::Passed => "passed",
            AttemptEnding::Escalated => "escalated",
            AttemptEnding::Exhausted => "exhausted",
            AttemptEnding::Stale => "stale",
            AttemptEnding::TxLeft => "tx_left",
            AttemptEnding::Unfinished => "unfinished",
        }
    }
}

/// Candidate indices cheapest first by predicted time (ties: candidate order).
pub fn cost_order(preds: &[Prediction]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..preds.len()).collect();
    order.sort_by(|&i, &j| preds[i].time_s.total_cmp(&preds[j].time_s).then(i.cmp(&j)));
    order
}

/// The position in `order` of the next rung after position `at`, or None:
/// the first later candidate not skipped (module doc). `predicted[c]` is
/// candidate c's predicted check accuracy and its source now; `best` the
/// best check of this ladder so far.
pub fn next_rung(order: &[usize], at: usize, predicted: &[(f64, Source)], best: f64, target: f64) -> Option<usize> {
    let online = |c: usize| matches!(predicted[c].1, Source::Class | Source::Kind);
    let improves = |c: usize| !(online(c) && predicted[c].0 <= best);
    let rest = || order.iter().enumerate().skip(at + 1).filter(|&(_, &c)| improves(c));
    let any_reaches = rest().any(|(_, &c)| predicted[c].0 >= target);
    rest().find(|&(_, &c)| !(online(c) && predicted[c].0 < target && any_reaches)).map(|(i, _)| i)
}

/// One pair's episode's candidates in cost order, as ranked when its
/// service started.
struct Ladder {
    episode: usize,
    class: LinkClass,
    kind: KindKey,
    preds: Vec<Prediction>,
    order: Vec<usize>,
    /// (check, job, attempt) of the best result so far.
    best: Option<(f64, usize, usize)>,
    /// The position in `order` to run when the pair is served again.
    pending: Option<usize>,
}

struct Attempt {
    ladder: usize,
    /// Position in the ladder's order (0: the cheapest).
    rung: usize,
    at: SimTime,
    check: Option<f64>,
    realised: Option<f64>,
    check_bytes: u64,
    check_flops: u64,
    /// The check's pilot messages are on their way up.
    pilots_sent: bool,
    installed: bool,
    ending: AttemptEnding,
    ended: Option<SimTime>,
}

/// The escalating policy's state during a run.
pub(super) struct Escalation {
    pub target: f64,
    /// Check accuracies per candidate (class, then kind; no file, no judge).
    calibration: Calibration,
    ladders: Vec<Ladder>,
    attempts: Vec<Attempt>,
}

impl Escalation {
    pub fn new(target: f64) -> Escalation {
        Escalation { target, calibration: Calibration::default(), ladders: Vec::new(), attempts: Vec::new() }
    }
}

/// An attempt as `escalate.csv` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRecord {
    pub attempt: usize,
    pub pair: usize,
    pub episode: usize,
    pub tx: String,
    pub rx: String,
    /// When its service started.
    pub t_s: f64,
    pub kind: Kind,
    /// Its place in the ladder (0: the cheapest candidate).
    pub rung: usize,
    pub method: String,
    pub predicted_time_s: f64,
    pub predicted_accuracy: f64,
    pub accuracy_source: Source,
    pub target_accuracy: f64,
    pub check_accuracy: Option<f64>,
    /// The judge's accuracy of its result (the headline judge on the test images).
    pub realised_accuracy: Option<f64>,
    pub passed: Option<bool>,
    /// Whether its result was installed at RX.
    pub installed: bool,
    pub check_bytes: u64,
    pub check_flops: u64,
    /// From its service's start to its check.
    pub time_s: Option<f64>,
    pub ending: AttemptEnding,
}

/// Attempts of the rung at one position of the ladders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RungSummary {
    pub rung: usize,
    pub attempts: usize,
    pub checked: usize,
    pub passed: usize,
    /// passed / checked (null if none was checked).
    pub share_passed: Option<f64>,
}

/// The escalating policy in `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationSummary {
    pub target_accuracy: f64,
    pub attempts: usize,
    /// Ladders (services of an episode: the first and one per restart).
    pub ladders: usize,
    /// Attempts per episode whose escalation ended (passed or exhausted): mean and max.
    pub attempts_per_episode_mean: Option<f64>,
    pub attempts_per_episode_max: usize,
    pub passed: usize,
    pub exhausted: usize,
    pub check_bytes: u64,
    /// RX's FLOPs of the checks (run on RX's compute queue).
    pub check_flops: u64,
    pub rungs: Vec<RungSummary>,
}

impl<'a> Engine<'a> {
    /// Starts a ladder for pair `p`'s episode `ep`: (candidate, attempt) of its first rung.
    pub(super) fn escalate_begin(&mut self, now: SimTime, p: usize, ep: usize) -> Result<(usize, usize), EngineError> {
        let class = self.class(p);
        let es = self.escalate.as_mut().expect("escalate");
        // Back from RX's queue for its next rung (TX unchanged meanwhile).
        if let Some(l) = es.ladders.iter().rposition(|l| l.episode == ep) {
            if let (Some(next), true) = (es.ladders[l].pending.take(), es.ladders[l].class == class) {
                return Ok((es.ladders[l].order[next], push_attempt(es, l, next, now)));
            }
        }
        let profiles = &self.world.settings.profiles;
        let kind = KindKey::of(class, profiles);
        let cands = &profiles[self.world.users[self.pairs[p].tx].profile].candidates;
        let es = self.escalate.as_ref().expect("escalate");
        let preds: Vec<Prediction> = cands
            .iter()
            .map(|job| {
                let method = job.method.label();
                let (accuracy, source) = es.calibration.predict(class, kind, &method);
                Prediction { accuracy, source, gap_share: None, time_s: self.predict_time(now, p, job), method }
            })
            .collect();
        let order = cost_order(&preds);
        let first = order[0];
        if self.sink.wants(EventKind::MethodChosen) {
            let c = &preds[first];
            let detail = format!(
                "escalate rung 0: {} predicted_time_s={} predicted_accuracy={} ({}) of {} candidates",
                c.method,
                c.time_s,
                c.accuracy,
                c.source,
                preds.len()
            );
            self.log_pair_with(now, EventKind::MethodChosen, p, None, None, Some(&detail))?;
        }
        let es = self.escalate.as_mut().expect("escalate");
        es.ladders.push(Ladder { episode: ep, class, kind, preds, order, best: None, pending: None });
        let ladder = es.ladders.len() - 1;
        Ok((first, push_attempt(es, ladder, 0, now)))
    }

    /// Pair `p`'s upload ended. After SLF, the check's pilot messages go up
    /// next (true: sent; the installation waits for them).
    pub(super) fn escalate_pilots_up(&mut self, now: SimTime, p: usize) -> Result<bool, EngineError> {
        let Some(es) = self.escalate.as_ref() else { return Ok(false) };
        let Some(a) = self.pairs[p].serving.as_ref().and_then(|s| s.decision) else { return Ok(false) };
        let tx_profile = self.world.users[self.pairs[p].tx].profile;
        let info = &self.world.settings.profiles[tx_profile];
        let candidate = es.ladders[es.attempts[a].ladder].order[es.attempts[a].rung];
        if es.attempts[a].pilots_sent || info.candidates[candidate].method.pilots().is_some() {
            return Ok(false);
        }
        let bytes = info.check.up_bytes;
        let es = self.escalate.as_mut().expect("escalate");
        (es.attempts[a].pilots_sent, es.attempts[a].check_bytes) = (true, bytes);
        if let Some(s) = self.pairs[p].serving.as_mut() {
            s.upload_bytes += bytes;
        }
        self.log_pair_with(now, EventKind::UploadStarted, p, Some(bytes), None, Some("check pilots"))?;
        self.transfer(now, p, Dir::Up, bytes)?;
        Ok(true)
    }

    /// Attempt `s` of pair `p` (episode `ep`) is installed with TX unchanged:
    /// its check decides. True when the pair went back to RX's queue for its
    /// next rung (RX's slot released); false when the episode ends with
    /// `s.job` installed (set to the best result when no rung is left).
    pub(super) fn escalate_checked(
        &mut self,
        now: SimTime,
        p: usize,
        ep: usize,
        s: &mut Serving,
    ) -> Result<bool, EngineError> {
        let (Some(es), Some(a)) = (self.escalate.as_ref(), s.decision) else { return Ok(false) };
        let target = es.target;
        let out = self.lab.align_result(s.job)?;
        let realised = out.after.accuracy;
        let check = out.check.ok_or_else(|| LabError {
            job: format!("align {}", s.job),
            msg: "the escalating policy needs the pilot check, and this job has none".into(),
        })?;
        let check_flops = self.world.settings.profiles[self.world.users[self.pairs[p].tx].profile].check.rx_flops;
        let es = self.escalate.as_mut().expect("escalate");
        let at = &mut es.attempts[a];
        (at.check, at.realised, at.check_flops, at.ended) = (Some(check), Some(realised), check_flops, Some(now));
        let (l, rung) = (at.ladder, at.rung);
        let ladder = &es.ladders[l];
        let (class, kind) = (ladder.class, ladder.kind);
        let candidate = ladder.order[rung];
        let method = ladder.preds[candidate].method.clone();
        es.calibration.observe(class, kind, &method, check);
        let better = es.ladders[l].best.is_none_or(|(b, _, _)| check > b);
        if better {
            es.ladders[l].best = Some((check, s.job, a));
        }
        if check >= target {
            es.attempts[a].ending = AttemptEnding::Passed;
            es.attempts[a].installed = true;
            return Ok(false);
        }
        let ladder = &es.ladders[l];
        let predicted: Vec<(f64, Source)> =
            ladder.preds.iter().map(|c| es.calibration.predict(class, kind, &c.method)).collect();
        let (best, best_job, best_attempt) = ladder.best.expect("just set");
        let next = next_rung(&ladder.order, rung, &predicted, best, target);
        let to = next.map(|n| ladder.preds[ladder.order[n]].method.clone());
        let kept = ladder.preds[ladder.order[es.attempts[best_attempt].rung]].method.clone();
        if self.sink.wants(EventKind::Escalated) {
            let detail = match &to {
                Some(to) => format!("from={method} check_accuracy={check} target={target} to={to}"),
                None => format!("from={method} check_accuracy={check} target={target} to=none keeps={kept} ({best})"),
            };
            self.log_pair_with(now, EventKind::Escalated, p, None, None, Some(&detail))?;
        }
        let es = self.escalate.as_mut().expect("escalate");
        let Some(next) = next else {
            // No rung left: the best result by check is the one installed.
            es.attempts[a].ending = AttemptEnding::Exhausted;
            es.attempts[best_attempt].installed = true;
            s.job = best_job;
            self.episodes[ep].job = Some(best_job);
            return Ok(false);
        };
        es.attempts[a].ending = AttemptEnding::Escalated;
        if better {
            // A partial repair beats none: RX reads TX through it meanwhile.
            es.attempts[a].installed = true;
            let pr = &mut self.pairs[p];
            (pr.aligned, pr.aligned_job) = (Some(s.version), Some(s.job));
            if let Some(m) = pr.monitor.as_mut() {
                m.reset();
            }
            self.refresh(p, now)?;
            // The station holds it like any decoder (the episode stays open: no drift settling).
            self.decoder_cached(p, now)?;
        }
        self.escalate.as_mut().expect("escalate").ladders[l].pending = Some(next);
        self.enqueue(now, p)?;
        Ok(true)
    }

    /// Attempt `a` ended without a check (stale, TX left).
    pub(super) fn attempt_ended(&mut self, now: SimTime, a: usize, ending: AttemptEnding) {
        if let Some(es) = self.escalate.as_mut() {
            let at = &mut es.attempts[a];
            if at.ending == AttemptEnding::Unfinished {
                (at.ending, at.ended) = (ending, Some(now));
            }
        }
    }

    /// The attempts as reported.
    pub(super) fn attempt_records(&self) -> Vec<AttemptRecord> {
        let Some(es) = self.escalate.as_ref() else { return Vec::new() };
        let users = &self.world.users;
        es.attempts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let l = &es.ladders[a.ladder];
                let e = &self.episodes[l.episode];
                let pr = &self.pairs[e.pair];
                let c = &l.preds[l.order[a.rung]];
                AttemptRecord {
                    attempt: i,
                    pair: e.pair,
                    episode: e.episode,
                    tx: users[pr.tx].name.clone(),
                    rx: users[pr.rx].name.clone(),
                    t_s: ns_to_secs(a.at),
                    kind: l.kind.kind,
                    rung: a.rung,
                    method: c.method.clone(),
                    predicted_time_s: c.time_s,
                    predicted_accuracy: c.accuracy,
                    accuracy_source: c.source,
                    target_accuracy: es.target,
                    check_accuracy: a.check,
                    realised_accuracy: a.realised,
                    passed: a.check.map(|c| c >= es.target),
                    installed: a.installed,
                    check_bytes: a.check_bytes,
                    check_flops: a.check_flops,
                    time_s: a.check.and(a.ended).map(|t| ns_to_secs(t - a.at)),
                    ending: a.ending,
                }
            })
            .collect()
    }

    /// `summary.json`'s view of the attempts.
    pub(super) fn escalation_summary(&self) -> Option<EscalationSummary> {
        let es = self.escalate.as_ref()?;
        Some(summarise(es.target, es.ladders.len(), &self.attempt_records()))
    }
}

/// Counts over attempt records (`ladders` of them started).
pub fn summarise(target: f64, ladders: usize, records: &[AttemptRecord]) -> EscalationSummary {
    let ends = |e: AttemptEnding| records.iter().filter(|r| r.ending == e).count();
    // Attempts per episode, and whether its escalation ended (passed or exhausted).
    let mut per: std::collections::BTreeMap<(usize, usize), (usize, bool)> = Default::default();
    for r in records {
        let e = per.entry((r.pair, r.episode)).or_default();
        e.0 += 1;
        e.1 |= matches!(r.ending, AttemptEnding::Passed | AttemptEnding::Exhausted);
    }
    let done: Vec<usize> = per.values().filter(|v| v.1).map(|v| v.0).collect();
    let max_rung = records.iter().map(|r| r.rung + 1).max().unwrap_or(0);
    let rungs = (0..max_rung)
        .map(|rung| {
            let at: Vec<&AttemptRecord> = records.iter().filter(|r| r.rung == rung).collect();
            let checked = at.iter().filter(|r| r.passed.is_some()).count();
            let passed = at.iter().filter(|r| r.passed == Some(true)).count();
            RungSummary {
                rung,
                attempts: at.len(),
                checked,
                passed,
                share_passed: (checked > 0).then(|| passed as f64 / checked as f64),
            }
        })
        .collect();
    EscalationSummary {
        target_accuracy: target,
        attempts: records.len(),
        ladders,
        attempts_per_episode_mean: (!done.is_empty()).then(|| done.iter().sum::<usize>() as f64 / done.len() as f64),
        attempts_per_episode_max: done.iter().copied().max().unwrap_or(0),
        passed: ends(AttemptEnding::Passed),
        exhausted: ends(AttemptEnding::Exhausted),
        check_bytes: records.iter().map(|r| r.check_bytes).sum(),
        check_flops: records.iter().map(|r| r.check_flops).sum(),
        rungs,
    }
}

fn push_attempt(es: &mut Escalation, ladder: usize, rung: usize, now: SimTime) -> usize {
    es.attempts.push(Attempt {
        ladder,
        rung,
        at: now,
        check: None,
        realised: None,
        check_bytes: 0,
        check_flops: 0,
        pilots_sent: false,
        installed: false,
        ending: AttemptEnding::Unfinished,
        ended: None,
    });
    es.attempts.len() - 1
}

#[cfg(test)]
#[path = "escalate_tests.rs"]
mod tests;
