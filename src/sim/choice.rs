//! The adaptive policy in the loop (`adaptive` has the predictor): each
//! candidate's recovery time predicted from the network and TX's compute
//! queue as they stand, the decision logged and kept, and the calibration
//! fed when the chosen alignment is installed.

use serde::Serialize;

use super::adaptive::{choose, Calibration, Kind, KindKey, Prediction};
use super::core::{ns_to_secs, SimTime};
use super::engine::{Dir, Engine, EngineError};
use super::events::EventKind;
use super::lab::{AlignJob, LinkClass};
use crate::scenario::AdaptiveTarget;

/// How a decision's alignment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    Installed,
    /// TX changed while it was served: discarded, served again (a new decision).
    Stale,
    /// TX left while it was served.
    TxLeft,
    /// Still being served at the horizon.
    Unfinished,
}

impl Ending {
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Installed => "installed",
            Ending::Stale => "stale",
            Ending::TxLeft => "tx_left",
            Ending::Unfinished => "unfinished",
        }
    }
}

/// The adaptive policy's state during a run.
pub(super) struct Adaptive {
    pub target: AdaptiveTarget,
    pub calibration: Calibration,
    pub decisions: Vec<Decision>,
}

pub(super) struct Decision {
    pub episode: usize,
    pub at: SimTime,
    pub class: LinkClass,
    pub kind: KindKey,
    pub preds: Vec<Prediction>,
    pub chosen: usize,
    /// The pair's link as it stood and TX's own link (gap-share target only).
    pub gap: Option<(f64, f64)>,
    /// Realised accuracy and install time.
    pub realised: Option<(f64, SimTime)>,
    pub ending: Ending,
}

/// A decision as `adaptive.csv` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecord {
    pub decision: usize,
    pub pair: usize,
    /// The pair's episode (0, 1, ... as in `episodes.csv`).
    pub episode: usize,
    pub tx: String,
    pub rx: String,
    pub t_s: f64,
    pub kind: Kind,
    pub tx_dataset: String,
    pub rx_dataset: String,
    pub target: AdaptiveTarget,
    /// Under a gap-share target: the pair's accuracy when it was decided and
    /// TX's own link's (the matched link).
    pub before_accuracy: Option<f64>,
    pub matched_accuracy: Option<f64>,
    pub candidates: Vec<Prediction>,
    pub chosen: usize,
    pub realised_accuracy: Option<f64>,
    pub realised_gap_share: Option<f64>,
    /// From the decision (the service's start) to the installation.
    pub realised_time_s: Option<f64>,
    pub ending: Ending,
}

impl<'a> Engine<'a> {
    /// Pair `p`'s alignment job for its service: the decided candidate, or
    /// the fixed method's.
    pub(super) fn job_spec(&self, p: usize, candidate: Option<usize>) -> &'a AlignJob {
        let world: &'a super::world::World = self.world;
        let info = &world.settings.profiles[world.users[self.pairs[p].tx].profile];
        candidate.map_or(&info.job, |i| &info.candidates[i])
    }

    /// Seconds the alignment `job` of pair `p` would take if it started now:
    /// the download at the rate a new flow would get, TX's FLOPs after the
    /// jobs already queued at TX, the upload at today's rate, and RX's FLOPs
    /// (a pilot aligner's fit) after the jobs already queued at RX.
    pub(super) fn predict_time(&self, now: SimTime, p: usize, job: &AlignJob) -> f64 {
        let c = &job.cost;
        let transfer = |dir: Dir, bytes: u64| -> SimTime {
            if bytes == 0 {
                return 0;
            }
            let (links, latency) = self.route(p, dir);
            latency + super::core::secs_to_ns(8.0 * bytes as f64 / self.net.newcomer_rate(links))
        };
        let down = transfer(Dir::Down, c.download_bytes);
        // A target makes the steps an outcome: the budget bounds them.
        let steps = if job.method.pilots().is_some() { 0 } else { job.budget.steps };
        let compute = &self.users[self.pairs[p].tx].compute;
        let start = (now + down).max(compute.free_at());
        let done = start + compute.duration(c.flops_per_step * steps as u64 + c.pilot_tx_flops);
        let uploaded = done + transfer(Dir::Up, c.upload_bytes);
        let rx = &self.users[self.pairs[p].rx].compute;
        let installed =
            if c.pilot_rx_flops == 0 { uploaded } else { uploaded.max(rx.free_at()) + rx.duration(c.pilot_rx_flops) };
        ns_to_secs(installed - now)
    }

    /// The matched link of a link `class`: TX's own encoder θ, decoder φ and
    /// classifier on its channel ε and data.
    pub(super) fn matched_class(class: LinkClass) -> LinkClass {
        (class.0, class.0.profile)
    }

    /// Accuracy of link `class` as it stands and of its matched link (the
    /// gap-share target's ends; evaluated up front, see `start`).
    fn gap_ends(&mut self, class: LinkClass) -> Result<(f64, f64), EngineError> {
        let (now, matched) = (self.lab.evaluate(class), self.lab.evaluate(Self::matched_class(class)));
        Ok((self.lab.eval_result(now)?.accuracy, self.lab.eval_result(matched)?.accuracy))
    }

    /// Under the adaptive policy, decides pair `p`'s candidate for the
    /// service of episode `ep` starting now and logs it; None for a fixed method.
    pub(super) fn decide(&mut self, now: SimTime, p: usize, ep: usize) -> Result<Option<(usize, usize)>, EngineError> {
        if self.escalate.is_some() {
            return self.escalate_begin(now, p, ep).map(Some);
        }
        let Some(ad) = self.adaptive.as_ref() else { return Ok(None) };
        let target = ad.target;
        let profiles = &self.world.settings.profiles;
        let class = self.class(p);
        let kind = KindKey::of(class, profiles);
        let gap = match target {
            AdaptiveTarget::GapShare(_) => Some(self.gap_ends(class)?),
            AdaptiveTarget::Accuracy(_) => None,
        };
        let ad = self.adaptive.as_ref().expect("adaptive");
        let cands = &profiles[self.world.users[self.pairs[p].tx].profile].candidates;
        let preds: Vec<Prediction> = cands
            .iter()
            .map(|job| {
                let method = job.method.label();
                let (accuracy, source) = ad.calibration.predict(class, kind, &method);
                let gap_share =
                    gap.and_then(|(before, matched)| crate::align::gap_recovered(before, accuracy, matched));
                Prediction { accuracy, source, gap_share, time_s: self.predict_time(now, p, job), method }
            })
            .collect();
        let chosen = choose(&preds, target);
        if self.sink.wants(EventKind::MethodChosen) {
            let c = &preds[chosen];
            let detail = format!(
                "{} predicted_accuracy={} ({}) predicted_time_s={} kind={} of {} candidates",
                c.method,
                c.accuracy,
                c.source,
                c.time_s,
                kind.kind.as_str(),
                preds.len()
            );
            self.log_pair_with(now, EventKind::MethodChosen, p, None, None, Some(&detail))?;
        }
        let ad = self.adaptive.as_mut().expect("adaptive");
        ad.decisions.push(Decision {
            episode: ep,
            at: now,
            class,
            kind,
            preds,
            chosen,
            gap,
            realised: None,
            ending: Ending::Unfinished,
        });
        Ok(Some((chosen, ad.decisions.len() - 1)))
    }

    /// Decision `d`'s alignment ended; an installed one feeds the calibration.
    pub(super) fn decision_ended(&mut self, now: SimTime, d: usize, ending: Ending, accuracy: Option<f64>) {
        use super::escalate::AttemptEnding;
        if self.escalate.is_some() {
            // An installed attempt's ending was set by its check.
            match ending {
                Ending::Stale => self.attempt_ended(now, d, AttemptEnding::Stale),
                Ending::TxLeft => self.attempt_ended(now, d, AttemptEnding::TxLeft),
                Ending::Installed | Ending::Unfinished => {}
            }
            return;
        }
        let Some(ad) = self.adaptive.as_mut() else { return };
        let dec = &mut ad.decisions[d];
        dec.ending = ending;
        if let Some(a) = accuracy {
            dec.realised = Some((a, now));
            let method = &dec.preds[dec.chosen].method;
            ad.calibration.observe(dec.class, dec.kind, method, a);
        }
    }

    /// The decisions as reported.
    pub(super) fn decision_records(&self) -> Vec<DecisionRecord> {
        let Some(ad) = self.adaptive.as_ref() else { return Vec::new() };
        let users = &self.world.users;
        ad.decisions
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let e = &self.episodes[d.episode];
                let pr = &self.pairs[e.pair];
                DecisionRecord {
                    decision: i,
                    pair: e.pair,
                    episode: e.episode,
                    tx: users[pr.tx].name.clone(),
                    rx: users[pr.rx].name.clone(),
                    t_s: ns_to_secs(d.at),
                    kind: d.kind.kind,
                    tx_dataset: d.kind.tx_dataset.to_string(),
                    rx_dataset: d.kind.rx_dataset.to_string(),
                    target: ad.target,
                    before_accuracy: d.gap.map(|g| g.0),
                    matched_accuracy: d.gap.map(|g| g.1),
                    candidates: d.preds.clone(),
                    chosen: d.chosen,
                    realised_accuracy: d.realised.map(|r| r.0),
                    realised_gap_share: d
                        .realised
                        .zip(d.gap)
                        .and_then(|(r, (before, matched))| crate::align::gap_recovered(before, r.0, matched)),
                    realised_time_s: d.realised.map(|r| ns_to_secs(r.1 - d.at)),
                    ending: d.ending,
                }
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "adaptive_tests.rs"]
mod tests;
