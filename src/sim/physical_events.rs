//! Handlers of the physical world: the radio tick (motion, shadowing,
//! fading, SNR, ε bins, link rates, handovers), users leaving and coming
//! back, compute speeds, pairs that stop and start talking, the decoder
//! caches of stations, and a link's numbers at its current ε bin with the
//! drift rule.
//!
//! Truth with drifting channels: a pair is misaligned when TX and RX have
//! not aligned since TX last changed (as everywhere), or when its accuracy
//! at TX's current ε bin is more than `drift_tolerance` below its accuracy
//! when it was aligned (cause `channel`). The monitor declares from the
//! real confidences of the link at its current bin; the oracle declares the
//! truth after its delay.

use super::core::{ns_to_secs, LinkId, SimTime};
use super::engine::{Engine, EngineError, Ev};
use super::events::EventKind;
use super::lab::LinkClass;
use super::outcome::Cause;
use super::physical::churn::Presence;
use super::physical::radio::{db_to_linear, linear_to_db, rate_bps};
use super::physical_output::HandoverRecord;

/// What the physical world schedules.
#[derive(Debug, Clone, Copy)]
pub(super) enum PhysEv {
    /// Positions, radio and attachments are updated.
    Tick,
    /// `world.churn.presence[i]` happens.
    Presence(usize),
    /// `world.churn.compute[i]` happens.
    Compute(usize),
}

/// One user's radio as measured at a tick.
struct Measured {
    serving: usize,
    handover: Option<(usize, usize)>,
    snr_db: f64,
    epsilon: f64,
}

impl Engine<'_> {
    /// Schedules churn and compute events; with radio, measures t = 0 (so
    /// every user starts attached, with its ε and link rates) and starts
    /// the evaluations of every link class the radio can produce.
    pub(super) fn physical_start(&mut self) -> Result<(), EngineError> {
        let w = self.world;
        for (i, &(t, _, _)) in w.churn.presence.iter().enumerate() {
            self.q.push(t, Ev::Physical(PhysEv::Presence(i)))?;
        }
        for (i, &(t, _, _)) in w.churn.compute.iter().enumerate() {
            self.q.push(t, Ev::Physical(PhysEv::Compute(i)))?;
        }
        let Some(ph) = &w.physical else { return Ok(()) };
        let measured = self.measure(0)?;
        for (u, m) in measured.iter().enumerate() {
            if let Some(m) = m {
                self.users[u].epsilon = ph.radio.bins.nearest(m.epsilon);
            }
        }
        // Every (TX profile, ε bin, station profile) class, evaluated in parallel up front.
        let mut seen = std::collections::BTreeSet::new();
        for p in &w.pairs {
            let (tx, rx) = (w.users[p.tx].profile, w.users[p.rx].profile);
            for &b in ph.radio.bins.values() {
                if seen.insert((tx, b.to_bits(), rx)) {
                    let s = super::lab::TxState { profile: tx, epsilon_bits: b.to_bits(), data_profile: tx };
                    self.lab.evaluate((s, rx));
                }
            }
        }
        self.record_tick(0);
        self.q.push(ph.radio.tick, Ev::Physical(PhysEv::Tick))?;
        Ok(())
    }

    pub(super) fn physical(&mut self, now: SimTime, e: PhysEv) -> Result<(), EngineError> {
        match e {
            PhysEv::Tick => self.tick(now),
            PhysEv::Presence(i) => {
                let (_, u, ev) = self.world.churn.presence[i];
                match ev {
                    Presence::Leave => self.leave(now, u),
                    Presence::Join => self.rejoin(now, u),
                }
            }
            PhysEv::Compute(i) => {
                let (_, u, flops) = self.world.churn.compute[i];
                self.users[u].compute.set_flops_per_s(flops);
                self.log(now, EventKind::ComputeChanged, Some(u), Some(&format!("flops_per_s={flops}")))
            }
        }
    }

    /// Whether pair `p`'s TX is attached to its RX (always, without cells).
    pub(super) fn attached(&self, p: usize) -> bool {
        let Some(r) = &self.phys.radio else { return true };
        let (tx, rx) = (self.pairs[p].tx, self.pairs[p].rx);
        match (&r.users[tx], &self.world.physical) {
            (Some(ur), Some(ph)) => ph.stations[ur.attach.serving] == rx,
            _ => true,
        }
    }

    /// Moves every user to `now`, re-measures its radio, sets every radio
    /// link's rates and decides handovers (applied by the caller).
    fn measure(&mut self, now: SimTime) -> Result<Vec<Option<Measured>>, EngineError> {
        let ph = self.world.physical.as_ref().expect("radio");
        let r = &ph.radio;
        let t_s = ns_to_secs(now);
        let Some(rs) = self.phys.radio.as_mut() else { return Ok(Vec::new()) };
        let mut rates: Vec<(LinkId, f64)> = Vec::new();
        let mut out = Vec::with_capacity(rs.users.len());
        for (u, ur) in rs.users.iter_mut().enumerate() {
            let Some(ur) = ur else {
                out.push(None);
                continue;
            };
            let motion = &ph.motions[ph.user_motion[u]];
            let walked = ur.mover.advance(motion, &ph.area, t_s, &mut ur.move_rng);
            let pos = ur.mover.position();
            let mut loss = Vec::with_capacity(ph.stations.len());
            for (k, sh) in ur.shadow.iter_mut().enumerate() {
                sh.walk(walked, &mut ur.shadow_rng);
                let l = r.path_loss.db(pos.dist(ph.station_pos[k])) + sh.db();
                loss.push(l);
                ur.power_dbm[k] = r.station_power_dbm - l;
            }
            let before = ur.attach.serving;
            let handover = if now == 0 || !self.users[u].present {
                ur.attach.reattach(&ur.power_dbm);
                None
            } else {
                ur.attach.update(t_s, &ur.power_dbm, ph.hysteresis_db, ph.time_to_trigger_s).map(|to| (before, to))
            };
            let serving = ur.attach.serving;
            // The serving link fades with a drawn gain when blocks last a tick or
            // more; with shorter blocks (or on other links) BER and rate are
            // averaged over Rayleigh fading.
            let gain = ur.fading.as_mut().map(|f| f.gain_at(t_s));
            let averaged = r.coherence_s.is_some() && gain.is_none();
            let mut eps = 0.0;
            let mut snr_serving = f64::NAN;
            for (k, &l) in loss.iter().enumerate() {
                let g = if k == serving { gain.unwrap_or(1.0) } else { 1.0 };
                let up = db_to_linear(r.ue_power_dbm - l - r.noise_dbm) * g;
                let down = db_to_linear(r.station_power_dbm - l - r.noise_dbm) * g;
                let avg = averaged || (r.coherence_s.is_some() && k != serving);
                let eff = |s: f64| if avg { r.rate.efficiency_rayleigh(s) } else { r.rate.efficiency(s) };
                let link = ph.radio_link[u][k];
                rates.push((LinkId(2 * link), rate_bps(r.bandwidth_hz, eff(down))));
                rates.push((LinkId(2 * link + 1), rate_bps(r.bandwidth_hz, eff(up))));
                if k == serving {
                    let ber = if avg { r.modulation.ber_rayleigh(up) } else { r.modulation.ber_awgn(up) };
                    eps = ph.eps_map[self.world.users[u].profile].epsilon(ber).min(0.999_999);
                    snr_serving = linear_to_db(up);
                }
            }
            ur.snr_db = snr_serving;
            ur.epsilon = eps;
            out.push(Some(Measured { serving, handover, snr_db: snr_serving, epsilon: eps }));
        }
        self.net.set_rates(now, &rates)?;
        self.schedule_net()?;
        Ok(out)
    }

    fn tick(&mut self, now: SimTime) -> Result<(), EngineError> {
        let ph = self.world.physical.as_ref().expect("ticks only with radio");
        let measured = self.measure(now)?;
        for (u, m) in measured.into_iter().enumerate() {
            let Some(m) = m else { continue };
            let bin = ph.radio.bins.nearest(m.epsilon);
            let moved = bin != self.users[u].epsilon;
            if moved {
                self.users[u].epsilon = bin;
                if let Some(rs) = self.phys.radio.as_mut() {
                    rs.epsilon_changes += 1;
                }
                if self.sink.wants(EventKind::ChannelChanged) {
                    let detail = format!("epsilon={bin} snr_db={:.2} (radio)", m.snr_db);
                    self.log(now, EventKind::ChannelChanged, Some(u), Some(&detail))?;
                }
            }
            if let Some((from, to)) = m.handover {
                self.handover(now, u, from, to)?;
            } else if moved {
                self.channel_moved(now, u)?;
            }
            debug_assert!(m.serving < ph.stations.len());
        }
        self.record_tick(now);
        let next = now + ph.radio.tick;
        if next <= self.world.settings.horizon {
            self.q.push(next, Ev::Physical(PhysEv::Tick))?;
        }
        Ok(())
    }

    /// User `u`'s ε moved to another bin: its links as TX are re-judged; a
    /// link that drifted beyond the tolerance opens a `channel` episode, one
    /// whose channel came back before it was served ends.
    fn channel_moved(&mut self, now: SimTime, u: usize) -> Result<(), EngineError> {
        for k in self.pairs_at[u]..self.pairs_at[u + 1] {
            let p = self.pairs_of[k as usize] as usize;
            if self.pairs[p].tx != u || !self.pairs[p].active {
                continue;
            }
            self.refresh(p, now)?;
            self.settle_drift(p, now)?;
        }
        Ok(())
    }

    /// Opens or ends a drift episode of an active pair whose metrics are fresh.
    fn settle_drift(&mut self, p: usize, now: SimTime) -> Result<(), EngineError> {
        if !self.pairs[p].active {
            return Ok(());
        }
        let aligned = self.truly_aligned(p);
        match self.pairs[p].open {
            None if !aligned => self.open_episode(p, now, Cause::Channel)?,
            Some(ep) if aligned && self.episodes[ep].cause == Cause::Channel && self.pairs[p].serving.is_none() => {
                self.abandon(p, now, "channel came back")?
            }
            _ => {}
        }
        Ok(())
    }

    fn handover(&mut self, now: SimTime, u: usize, from: usize, to: usize) -> Result<(), EngineError> {
        let ph = self.world.physical.as_ref().expect("radio");
        let rs = self.phys.radio.as_ref().expect("radio");
        let (old, new) = (rs.pair_to[u][from], rs.pair_to[u][to]);
        let cached = new.is_some_and(|q| self.pairs[q].aligned == Some(self.version(q)));
        let (fname, tname) = (&self.world.users[ph.stations[from]].name, &self.world.users[ph.stations[to]].name);
        let rec = HandoverRecord {
            t_s: ns_to_secs(now),
            user: self.world.users[u].name.clone(),
            from: fname.clone(),
            to: tname.clone(),
            cached,
        };
        let detail = format!("{} -> {}{}", fname, tname, if cached { " (aligned decoder kept)" } else { "" });
        let rs = self.phys.radio.as_mut().expect("radio");
        rs.tally[from].handovers_out += 1;
        rs.tally[to].handovers_in += 1;
        rs.handovers_to_cached += cached as usize;
        rs.handovers.push(rec);
        self.log(now, EventKind::Handover, Some(u), Some(&detail))?;
        if let Some(p) = old {
            self.deactivate(p, now, "handover")?;
        }
        if let Some(q) = new {
            if self.both_present(q) {
                if let Some(rs) = self.phys.radio.as_mut() {
                    rs.caches[to].take(u);
                }
                self.activate(q, now, Cause::Handover)?;
            }
        }
        Ok(())
    }

    fn leave(&mut self, now: SimTime, u: usize) -> Result<(), EngineError> {
        if !self.users[u].present {
            return Ok(());
        }
        self.users[u].present = false;
        if let Some(rs) = self.phys.radio.as_mut() {
            rs.leaves += 1;
        }
        self.log(now, EventKind::UserLeft, Some(u), None)?;
        for k in self.pairs_at[u]..self.pairs_at[u + 1] {
            let p = self.pairs_of[k as usize] as usize;
            self.deactivate(p, now, "left")?;
        }
        Ok(())
    }

    fn rejoin(&mut self, now: SimTime, u: usize) -> Result<(), EngineError> {
        if self.users[u].present {
            return Ok(());
        }
        if let Some(rs) = self.phys.radio.as_mut() {
            rs.rejoins += 1;
            if let Some(ur) = rs.users[u].as_mut() {
                ur.attach.reattach(&ur.power_dbm);
                let k = ur.attach.serving;
                rs.caches[k].take(u);
            }
        }
        self.join(now, u)
    }

    /// Pair `p` stops talking (TX left or moved to another station): it
    /// leaves the metrics; an episode not yet being served ends; an aligned
    /// decoder turns idle in RX's cache. A service under way goes on: its
    /// decoder is installed (and cached) when it ends.
    pub(super) fn deactivate(&mut self, p: usize, now: SimTime, why: &str) -> Result<(), EngineError> {
        if !self.pairs[p].active {
            return Ok(());
        }
        self.refresh(p, now)?;
        if let Some(m) = self.pairs[p].monitor.as_mut() {
            m.reset();
        }
        if self.pairs[p].open.is_some() && self.pairs[p].serving.is_none() {
            self.abandon(p, now, why)?;
        }
        if self.pairs[p].aligned_job.is_some() && self.pairs[p].aligned == Some(self.version(p)) {
            if let Some(k) = self.station_index(self.pairs[p].rx) {
                let tx = self.pairs[p].tx;
                let evicted = self.phys.radio.as_mut().map(|rs| rs.caches[k].park(tx)).unwrap_or_default();
                self.evict(now, k, evicted)?;
            }
        }
        Ok(())
    }

    /// With cells, the name of the station serving user `u`.
    pub(super) fn serving_station(&self, u: usize) -> Option<String> {
        let ph = self.world.physical.as_ref()?;
        let k = self.phys.radio.as_ref()?.users[u].as_ref()?.attach.serving;
        Some(self.world.users[ph.stations[k]].name.clone())
    }

    fn station_index(&self, u: usize) -> Option<usize> {
        self.world.physical.as_ref()?.station_of[u]
    }

    /// Station `k` dropped the idle decoders of `users`.
    fn evict(&mut self, now: SimTime, k: usize, users: Vec<usize>) -> Result<(), EngineError> {
        let Some(ph) = &self.world.physical else { return Ok(()) };
        for e in users {
            let Some(q) = self.phys.radio.as_ref().and_then(|rs| rs.pair_to[e][k]) else { continue };
            self.pairs[q].aligned = None;
            self.pairs[q].aligned_job = None;
            let detail = format!("at {}", self.world.users[ph.stations[k]].name);
            self.log(now, EventKind::DecoderEvicted, Some(e), Some(&detail))?;
        }
        Ok(())
    }

    /// Ends pair `p`'s open episode unaligned.
    pub(super) fn abandon(&mut self, p: usize, now: SimTime, why: &str) -> Result<(), EngineError> {
        let Some(ep) = self.pairs[p].open else { return Ok(()) };
        self.episodes[ep].ended = Some(now);
        self.service.remove(self.pairs[p].rx, p);
        self.log_pair_with(now, EventKind::EpisodeAbandoned, p, None, None, Some(why))?;
        self.pairs[p].open = None;
        Ok(())
    }

    /// A decoder was installed at RX for pair `p` (its metrics fresh): the
    /// station's cache holds it; if the channel has since drifted, a new
    /// episode opens at once.
    pub(super) fn decoder_installed(&mut self, p: usize, now: SimTime) -> Result<(), EngineError> {
        self.decoder_cached(p, now)?;
        self.settle_drift(p, now)
    }

    /// Pair `p`'s station keeps the decoder just installed for its TX
    /// (also a partial repair the escalating policy installs on its way up).
    pub(super) fn decoder_cached(&mut self, p: usize, now: SimTime) -> Result<(), EngineError> {
        let Some(k) = self.station_index(self.pairs[p].rx) else { return Ok(()) };
        let tx = self.pairs[p].tx;
        let active = self.pairs[p].active;
        let evicted = match self.phys.radio.as_mut() {
            Some(rs) => {
                rs.tally[k].installed += 1;
                rs.installed += 1;
                if active {
                    rs.caches[k].install(tx);
                    Vec::new()
                } else {
                    rs.caches[k].install_idle(tx)
                }
            }
            None => Vec::new(),
        };
        self.evict(now, k, evicted)
    }

    /// TX's state changed (data): decoders stations hold for it are stale.
    pub(super) fn forget_decoders(&mut self, u: usize) {
        if let Some(rs) = self.phys.radio.as_mut() {
            for c in &mut rs.caches {
                c.forget(u);
            }
        }
    }

    /// A pair starts a message chain unless one is pending.
    pub(super) fn claim_chain(&mut self, p: usize) -> bool {
        !std::mem::replace(&mut self.phys.chain[p], true)
    }

    /// The decoder in use for pair `p` judged at TX's current ε: the aligned
    /// decoder (its evaluation at this ε bin) or the link as met.
    pub(super) fn current_numbers(&mut self, p: usize) -> Result<(f64, f64, f64), EngineError> {
        let e = self.current_eval(p)?;
        Ok((e.accuracy, e.mse, e.mean_confidence))
    }

    /// RX's confidence on test message `message` over the link as it stands.
    pub(super) fn current_confidence(&mut self, p: usize, message: usize) -> Result<f64, EngineError> {
        Ok(super::episodes::nth(&self.current_eval(p)?.confidences, message))
    }

    fn current_eval(&mut self, p: usize) -> Result<&super::lab::LinkEval, EngineError> {
        let structural = self.pairs[p].aligned == Some(self.version(p));
        match (structural, self.pairs[p].aligned_job) {
            (true, Some(job)) if self.world.physical.is_some() => {
                let eps = self.users[self.pairs[p].tx].epsilon.to_bits();
                Ok(self.lab.aligned_eval(job, eps)?)
            }
            (true, Some(job)) => Ok(&self.lab.align_result(job)?.after),
            _ => {
                let id = self.lab.evaluate(self.class(p));
                Ok(self.lab.eval_result(id)?)
            }
        }
    }

    /// With radio, whether pair `p`, aligned, lost more than the tolerance
    /// of its accuracy when aligned; kept in `phys.drifted`.
    pub(super) fn update_drift(&mut self, p: usize, acc: f64) -> Result<(), EngineError> {
        let Some(ph) = &self.world.physical else { return Ok(()) };
        let tol = ph.radio.drift_tolerance;
        let structural = self.pairs[p].aligned == Some(self.version(p));
        self.phys.drifted[p] = structural && self.reference(p)? - acc > tol;
        Ok(())
    }

    /// The accuracy pair `p` had when aligned: its fine-tuning's result, or
    /// for a jointly trained pair the link at the bin of the profile's ε.
    fn reference(&mut self, p: usize) -> Result<f64, EngineError> {
        let job = self.pairs[p].aligned_job;
        if let Some((j, acc)) = self.phys.reference[p] {
            if j == job {
                return Ok(acc);
            }
        }
        let acc = match job {
            Some(j) => self.lab.align_result(j)?.after.accuracy,
            None => {
                let ph = self.world.physical.as_ref().expect("radio");
                let (mut s, rx): LinkClass = self.class(p);
                let own = self.world.settings.profiles[s.profile].epsilon;
                s.epsilon_bits = ph.radio.bins.nearest(own).to_bits();
                s.data_profile = s.profile;
                let id = self.lab.evaluate((s, rx));
                self.lab.eval_result(id)?.accuracy
            }
        };
        self.phys.reference[p] = Some((job, acc));
        Ok(acc)
    }
}

#[cfg(test)]
#[path = "physical_tests.rs"]
mod tests;
