//! Handlers of a pair's misalignment: users joining and changing, the
//! metrics of a link as it stands, onsets of episodes, messages, and their
//! detection (oracle after a delay; monitor from the decoded messages'
//! confidences, scored against the truth).

use rand::Rng;
use rand_distr::{Distribution, Exp};

use super::core::{secs_to_ns, SimTime};
use super::engine::{Engine, EngineError, Ev};
use super::events::EventKind;
use super::outcome::Cause;
use super::state::Episode;
use super::world::UserChange;
use crate::scenario::DetectionRule;

impl Engine<'_> {
    pub(super) fn join(&mut self, now: SimTime, u: usize) -> Result<(), EngineError> {
        if self.users[u].present {
            return Ok(());
        }
        self.users[u].present = true;
        let at = self.serving_station(u).map(|k| format!("at {k}"));
        self.log(now, EventKind::UserJoined, Some(u), at.as_deref())?;
        for k in self.pairs_at[u]..self.pairs_at[u + 1] {
            let p = self.pairs_of[k as usize] as usize;
            if self.both_present(p) {
                self.activate(p, now, Cause::Join)?;
            }
        }
        Ok(())
    }

    /// A user's channel ε or data changes: the pairs where it is TX are
    /// misaligned (a running alignment of one becomes stale).
    pub(super) fn change(&mut self, now: SimTime, i: usize) -> Result<(), EngineError> {
        let c = &self.world.changes[i];
        let u = c.user;
        let (cause, kind, detail) = match c.change {
            UserChange::Channel { epsilon } => {
                self.users[u].epsilon = epsilon;
                (Cause::Channel, EventKind::ChannelChanged, format!("epsilon={epsilon}"))
            }
            UserChange::Data { profile } => {
                self.users[u].data_profile = profile;
                let name = &self.world.settings.profiles[profile].name;
                (Cause::Data, EventKind::DataChanged, format!("data of {name}"))
            }
            UserChange::Join => unreachable!("joins are their own events"),
        };
        self.users[u].version += 1;
        self.forget_decoders(u);
        self.log(now, kind, Some(u), Some(&detail))?;
        for k in self.pairs_at[u]..self.pairs_at[u + 1] {
            let p = self.pairs_of[k as usize] as usize;
            if !self.pairs[p].active || self.pairs[p].tx != u {
                continue;
            }
            self.refresh(p, now)?;
            match self.pairs[p].open {
                // Being served: the running alignment is now stale; it is served again when it ends.
                Some(ep) if self.pairs[p].serving.is_some() => self.episodes[ep].restarts += 1,
                Some(_) => {}
                None => self.open_episode(p, now, cause)?,
            }
        }
        Ok(())
    }

    /// Re-reads a pair's current accuracy/MSE (aligned result, or the link as met).
    pub(super) fn refresh(&mut self, p: usize, now: SimTime) -> Result<(), EngineError> {
        self.metrics.integrate(now);
        let pr = &self.pairs[p];
        if pr.active {
            self.metrics.leave(pr.acc, pr.mse, pr.misaligned);
        }
        let active = self.both_present(p);
        let (acc, mse, confidence) = self.current_numbers(p)?;
        self.update_drift(p, acc)?;
        let aligned = self.truly_aligned(p);
        let pr = &mut self.pairs[p];
        (pr.active, pr.acc, pr.mse, pr.confidence, pr.misaligned) = (active, acc, mse, confidence, !aligned);
        if active {
            self.metrics.enter(acc, mse, !aligned);
        }
        Ok(())
    }

    /// A pair starts exchanging messages (both users present).
    pub(super) fn activate(&mut self, p: usize, now: SimTime, cause: Cause) -> Result<(), EngineError> {
        self.refresh(p, now)?;
        if !self.truly_aligned(p) && self.pairs[p].open.is_none() {
            // Aligned with this RX, but not at TX's current channel.
            let cause = if self.pairs[p].aligned == Some(self.version(p)) { Cause::Channel } else { cause };
            self.open_episode(p, now, cause)?;
        }
        if self.claim_chain(p) {
            self.schedule_message(p, now)?;
        }
        Ok(())
    }

    fn schedule_message(&mut self, p: usize, now: SimTime) -> Result<(), EngineError> {
        let pr = &mut self.pairs[p];
        let gap = Exp::new(pr.rate_hz).map(|d| d.sample(&mut pr.rng)).unwrap_or(f64::INFINITY);
        let t = now.saturating_add(secs_to_ns(gap.min(1e9)));
        if t <= self.world.settings.horizon {
            self.q.push(t, Ev::MessageSent(p))?;
        }
        Ok(())
    }

    pub(super) fn message_sent(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        if !self.pairs[p].active {
            // The pair stopped talking: the chain ends until it is active again.
            self.phys.chain[p] = false;
            return Ok(());
        }
        let message = self.pairs[p].rng.random_range(0..self.world.settings.messages);
        self.log_pair(now, EventKind::MessageSent, p)?;
        self.q.push(now + self.message_latency(p), Ev::MessageReceived { pair: p, message })?;
        self.schedule_message(p, now)
    }

    /// Opens an episode of an active pair whose metrics are up to date.
    pub(super) fn open_episode(&mut self, p: usize, now: SimTime, cause: Cause) -> Result<(), EngineError> {
        let pr = &self.pairs[p];
        let ep = self.episodes.len();
        self.episodes.push(Episode {
            pair: p,
            episode: pr.episodes,
            cause,
            onset: now,
            detected: None,
            download_start: None,
            download_end: None,
            finetune_start: None,
            finetune_end: None,
            upload_start: None,
            upload_end: None,
            aligned: None,
            before: (pr.acc, pr.mse, pr.confidence),
            after: None,
            download_bytes: 0,
            upload_bytes: 0,
            finetune_flops: 0,
            steps: 0,
            job: None,
            restarts: 0,
            ended: None,
        });
        self.pairs[p].open = Some(ep);
        self.pairs[p].episodes += 1;
        self.log_pair_with(now, EventKind::MisalignmentOnset, p, None, None, Some(cause.as_str()))?;
        if let DetectionRule::Oracle { delay_s } = self.world.settings.detection {
            self.q.push(now + secs_to_ns(delay_s), Ev::Detect { pair: p, episode: ep })?;
        }
        Ok(())
    }

    /// The oracle's delay has passed for an episode that may since have ended.
    pub(super) fn oracle_detects(&mut self, now: SimTime, p: usize, episode: usize) -> Result<(), EngineError> {
        if self.pairs[p].open == Some(episode) && self.episodes[episode].detected.is_none() {
            self.score.declared(!self.truly_aligned(p));
            self.detected(now, p, episode)?;
        }
        Ok(())
    }

    /// RX decodes one message; under the monitor rule its classifier's
    /// confidence joins the pair's window.
    pub(super) fn observe(&mut self, now: SimTime, p: usize, message: usize) -> Result<(), EngineError> {
        if self.pairs[p].monitor.is_none() || !self.pairs[p].active {
            return Ok(());
        }
        let conf = self.current_confidence(p, message)?;
        let declared = self.pairs[p].monitor.as_mut().is_some_and(|m| m.observe(conf));
        let busy = self.pairs[p].open.is_some_and(|ep| self.episodes[ep].detected.is_some());
        if !declared || busy {
            return Ok(());
        }
        let truly = !self.truly_aligned(p);
        self.score.declared(truly);
        if let Some(m) = self.pairs[p].monitor.as_mut() {
            m.reset();
        }
        let ep = match self.pairs[p].open {
            Some(ep) => ep,
            None => {
                self.open_episode(p, now, Cause::FalseAlarm)?;
                self.pairs[p].open.expect("just opened")
            }
        };
        self.detected(now, p, ep)
    }

    fn detected(&mut self, now: SimTime, p: usize, ep: usize) -> Result<(), EngineError> {
        self.episodes[ep].detected = Some(now);
        self.log_pair(now, EventKind::MisalignmentDetected, p)?;
        self.enqueue(now, p)
    }
}

/// Message `i`'s confidence; a test split smaller than `eval.test_images`
/// holds fewer messages, which then repeat.
pub(super) fn nth(confidences: &[f32], i: usize) -> f64 {
    match confidences.len() {
        0 => 0.0,
        n => confidences[i % n] as f64,
    }
}
