//! What a run hands back: the records of users, pairs and episodes (names
//! and seconds, converted once at the end), the aggregates computed from
//! them, the time series and the loop's own memory per user and pair.

use super::core::{ns_to_secs, SimTime};
use super::detect::Monitor;
use super::engine::{Engine, RunOutput, StateBytes};
use super::outcome::{aggregate, EpisodeRecord, PairRecord, RunCounts, RunSummary, UserRecord};
use super::state::{Episode, PairState, Serving, UserState};
use crate::scenario::DetectionRule;

impl Engine<'_> {
    /// Measures the per-user and per-pair state (see `StateBytes`).
    pub(super) fn state_bytes(&self) -> StateBytes {
        use std::mem::size_of;
        let (n, m) = (self.users.len(), self.pairs.len());
        let users = self.users.capacity() * size_of::<UserState>()
            + self.service.bytes()
            + self.pairs_at.capacity() * size_of::<u32>();
        let heap = |p: &PairState| {
            p.monitor.as_ref().map_or(0, Monitor::heap_bytes) + p.serving.as_ref().map_or(0, |_| size_of::<Serving>())
        };
        let pairs = self.pairs.capacity() * size_of::<PairState>()
            + self.pairs.iter().map(heap).sum::<usize>()
            + self.pairs_of.capacity() * size_of::<u32>()
            + self.routes.bytes()
            + self.phys.pair_bytes();
        let per = |b: usize, k: usize| if k == 0 { 0.0 } else { b as f64 / k as f64 };
        StateBytes { users: n, pairs: m, per_user: per(users, n), per_pair: per(pairs, m) }
    }

    pub(super) fn finish(mut self) -> RunOutput {
        let state = self.state_bytes();
        let s = &self.world.settings;
        self.metrics.integrate(s.horizon.max(self.metrics.last_t()));
        let (evaluations, fine_tunings) = self.lab.counts();
        let counts = RunCounts {
            pairs: self.pairs.len(),
            time_avg_accuracy: self.metrics.time_avg_accuracy(),
            fine_tunings,
            evaluations,
            events: self.handled,
            detection: self.score,
        };
        let episodes: Vec<EpisodeRecord> = self.episodes.iter().map(|e| self.record(e)).collect();
        let aggregate = aggregate(&episodes, counts);
        let physical = self.physical_finish();
        let users = &self.world.users;
        let pairs = self
            .pairs
            .iter()
            .enumerate()
            .map(|(i, pr)| PairRecord {
                pair: i,
                tx: users[pr.tx].name.clone(),
                rx: users[pr.rx].name.clone(),
                rate_hz: pr.rate_hz,
                hops: self.routes.links(2 * i + 1).len(),
                episodes: pr.episodes,
                aligned_at_end: pr.active && !pr.misaligned,
                accuracy_end: pr.active.then_some(pr.acc),
                mse_end: pr.active.then_some(pr.mse),
                confidence_end: pr.active.then_some(pr.confidence),
            })
            .collect();
        let summary = RunSummary {
            scenario: s.scenario.clone(),
            seed: s.seed,
            fidelity: s.fidelity,
            method: s.method.clone(),
            detection: match s.detection {
                DetectionRule::Oracle { delay_s } => format!("oracle(delay_s={delay_s})"),
                DetectionRule::Monitor { window, threshold } => {
                    format!("monitor(window={window}, threshold={threshold})")
                }
            },
            horizon_s: s.horizon_s,
            users: users
                .iter()
                .map(|u| UserRecord {
                    name: u.name.clone(),
                    group: u.group.clone(),
                    profile: s.profiles[u.profile].name.clone(),
                    flops_per_s: u.flops_per_s,
                    join_s: ns_to_secs(u.join),
                })
                .collect(),
            pairs,
            episodes,
            aggregate,
            world: physical.as_ref().map(|p| p.summary.clone()),
            escalation: self.escalation_summary(),
        };
        let decisions = self.decision_records();
        let attempts = self.attempt_records();
        RunOutput { summary, timeseries: self.metrics.timeseries, state, physical, decisions, attempts }
    }

    /// An episode as reported: names and seconds.
    fn record(&self, e: &Episode) -> EpisodeRecord {
        let (t, r) = (&self.world.users[self.pairs[e.pair].tx], &self.world.users[self.pairs[e.pair].rx]);
        let profiles = &self.world.settings.profiles;
        let s = |t: Option<SimTime>| t.map(ns_to_secs);
        let onset_s = ns_to_secs(e.onset);
        EpisodeRecord {
            pair: e.pair,
            tx: t.name.clone(),
            rx: r.name.clone(),
            tx_profile: profiles[t.profile].name.clone(),
            rx_profile: profiles[r.profile].name.clone(),
            episode: e.episode,
            cause: e.cause,
            onset_s,
            detected_s: s(e.detected),
            download_start_s: s(e.download_start),
            download_end_s: s(e.download_end),
            finetune_start_s: s(e.finetune_start),
            finetune_end_s: s(e.finetune_end),
            upload_start_s: s(e.upload_start),
            upload_end_s: s(e.upload_end),
            aligned_s: s(e.aligned),
            recovery_time_s: e.aligned.map(|a| ns_to_secs(a) - onset_s),
            accuracy_before: e.before.0,
            mse_before: e.before.1,
            accuracy_after: e.after.map(|a| a.0),
            mse_after: e.after.map(|a| a.1),
            confidence_before: e.before.2,
            confidence_after: e.after.map(|a| a.2),
            download_bytes: e.download_bytes,
            upload_bytes: e.upload_bytes,
            finetune_flops: e.finetune_flops,
            steps: e.steps,
            fidelity: self.world.settings.fidelity,
            job: e.job,
            restarts: e.restarts,
            ended_s: s(e.ended),
        }
    }
}
