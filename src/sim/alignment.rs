//! Handlers of an alignment being served: RX's queue, the download of φ_j,
//! TX's fine-tuning on its compute queue (split learning's steps:
//! `split_service`), the upload, a pilot aligner's fit on RX's compute, and
//! the installation of φ_ij at RX (or its discarding when TX changed
//! meanwhile).

use super::choice::Ending;
use super::core::{secs_to_ns, Job, SimTime};
use super::engine::{Dir, Engine, EngineError, Ev};
use super::events::EventKind;
use super::lab::{class_key, LinkClass};
use super::state::Serving;
use crate::align::Method;
use crate::scenario::{DetectionRule, Fidelity};

impl Engine<'_> {
    /// Pair `p`'s RX is asked for an alignment.
    pub(super) fn enqueue(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        let rx = self.pairs[p].rx;
        self.service.push(rx, now, p);
        self.serve(now, rx)
    }

    /// Starts waiting requests at `rx` while it has capacity, in policy order.
    fn serve(&mut self, now: SimTime, rx: usize) -> Result<(), EngineError> {
        loop {
            let (users, pairs) = (&self.world.users, &self.pairs);
            let Some(p) = self.service.next(rx, |q| users[pairs[q].tx].flops_per_s) else { return Ok(()) };
            self.start_service(now, p)?;
        }
    }

    fn start_service(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        let ep = self.pairs[p].open.expect("queued pairs have an open episode");
        let class = self.class(p);
        let s = &self.world.settings;
        let key = match s.fidelity {
            Fidelity::Memoized => self.memo_key(class),
            Fidelity::Exact => {
                let e = &self.episodes[ep];
                let users = &self.world.users;
                let (tx, rx) = (&users[self.pairs[p].tx].name, &users[self.pairs[p].rx].name);
                format!("exact|{tx}|{rx}|ep{}|r{}", e.episode, e.restarts)
            }
        };
        let decided = self.decide(now, p, ep)?;
        let candidate = decided.map(|d| d.0);
        let spec = self.job_spec(p, candidate);
        let job = self.lab.align(class, key, spec);
        let c = &spec.cost;
        // Split learning moves the codebook once each way here; its steps' traffic comes between.
        let (down, up) = spec.split.map_or((c.download_bytes, c.upload_bytes), |s| (s.once_down, s.once_up));
        self.pairs[p].serving = Some(Box::new(Serving {
            version: self.version(p),
            job,
            upload_bytes: up,
            delivered: [0; 2],
            flops_per_step: c.flops_per_step,
            flops: 0,
            steps: 0,
            candidate,
            decision: decided.map(|d| d.1),
            split: None,
        }));
        self.episodes[ep].job = Some(job);
        self.episodes[ep].download_start = Some(now);
        let bytes = down;
        self.log_pair_with(now, EventKind::DownloadStarted, p, Some(bytes), None, None)?;
        self.transfer(now, p, Dir::Down, bytes)
    }

    /// The job key shared by every memoized alignment of a link class.
    fn memo_key(&self, class: LinkClass) -> String {
        format!("memo|{}", class_key(|i| &self.world.settings.profiles[i].name, class))
    }

    /// Starts, before anything else, the fine-tunings this run is certain
    /// to ask for: memoized, one fixed method, a static world (no physical
    /// layer, no changes, no churn), the oracle detecting within the horizon
    /// and RXs serving without limit, so that every pair misaligned at the
    /// start has its class's fine-tuning asked for at the oracle's delay.
    /// They would otherwise queue behind the link evaluations the loop waits
    /// for first: with few classes, a longest-first order saves wall time.
    /// Results do not change (jobs are pure functions of their keys).
    pub(super) fn prefetch_certain(&mut self) {
        let (w, s) = (self.world, &self.world.settings);
        let oracle_in_time =
            matches!(s.detection, DetectionRule::Oracle { delay_s } if secs_to_ns(delay_s) < s.horizon);
        let fixed = s.adaptive.is_none() && s.escalate.is_none();
        let static_world = w.physical.is_none() && w.changes.is_empty() && w.churn.presence.is_empty();
        if !(oracle_in_time
            && fixed
            && static_world
            && s.fidelity == Fidelity::Memoized
            && s.policy.max_concurrent == 0)
        {
            return;
        }
        let mut seen = std::collections::HashSet::new();
        for p in 0..self.pairs.len() {
            let spec = self.job_spec(p, None);
            if matches!(spec.method, Method::None) || self.truly_aligned(p) || !self.both_present(p) {
                continue;
            }
            let class = self.class(p);
            if seen.insert((class, spec.method.label())) {
                let key = self.memo_key(class);
                self.lab.prefetch(class, key, spec);
            }
        }
    }

    pub(super) fn transfer(&mut self, now: SimTime, p: usize, dir: Dir, bytes: u64) -> Result<(), EngineError> {
        if bytes == 0 {
            return self.transfer_done(now, p, dir);
        }
        let latency = self.route(p, dir).1;
        // Propagation first; then the flow competes for bandwidth.
        self.q.push(now + latency, Ev::FlowStart { pair: p, dir, bytes })?;
        Ok(())
    }

    pub(super) fn flow_start(&mut self, now: SimTime, p: usize, dir: Dir, bytes: u64) -> Result<(), EngineError> {
        let i = 2 * p + usize::from(dir == Dir::Up);
        let id = self.net.activate(now, self.routes.links(i), bytes)?;
        self.flows.insert(id, (p, dir));
        self.schedule_net()
    }

    /// One completion check at the network's earliest predicted finish,
    /// tagged with the epoch it was computed in.
    pub(super) fn schedule_net(&mut self) -> Result<(), EngineError> {
        if let Some((t, _)) = self.net.next_completion() {
            self.q.push(t.max(self.q.now()), Ev::NetCheck { epoch: self.net.epoch() })?;
        }
        Ok(())
    }

    pub(super) fn net_check(&mut self, now: SimTime, epoch: u64) -> Result<(), EngineError> {
        if epoch != self.net.epoch() {
            return Ok(()); // rates changed since it was scheduled
        }
        while let Some((t, id)) = self.net.next_completion() {
            if t > now {
                break;
            }
            let done = self.net.complete(now, id)?;
            let (pair, dir) = self.flows.remove(&id).expect("every flow is registered");
            if let Some(s) = self.pairs[pair].serving.as_mut() {
                s.delivered[usize::from(dir == Dir::Up)] += done.bytes;
            }
            self.transfer_done(now, pair, dir)?;
        }
        self.schedule_net()
    }

    fn transfer_done(&mut self, now: SimTime, p: usize, dir: Dir) -> Result<(), EngineError> {
        if self.pairs[p].serving.as_ref().is_some_and(|s| s.split.is_some()) {
            return self.split_stage_done(now, p); // one of split learning's hand-overs
        }
        let ep = self.pairs[p].open.expect("served pairs have an open episode");
        match dir {
            Dir::Down => {
                self.episodes[ep].download_end = Some(now);
                self.log_pair(now, EventKind::DownloadFinished, p)?;
                let tx = self.pairs[p].tx;
                let (job, flops_per_step, candidate) =
                    self.pairs[p].serving.as_ref().map(|s| (s.job, s.flops_per_step, s.candidate)).expect("serving");
                let spec = self.job_spec(p, candidate);
                // With a target, the steps run are an outcome of the real job;
                // a pilot aligner runs none and encodes its pilots at TX instead.
                let steps = if spec.method.pilots().is_some() {
                    0
                } else if spec.steps_are_outcome() {
                    self.lab.align_result(job)?.steps
                } else {
                    spec.budget.steps
                };
                // FLOPs are reported at both ends; TX's queue runs TX's part.
                if let Some(sv) = self.pairs[p].serving.as_mut() {
                    (sv.flops, sv.steps) = (spec.cost.total_flops(steps), steps);
                }
                if spec.split.is_some() && steps > 0 {
                    return self.split_begin(now, p, steps);
                }
                let flops = flops_per_step * steps as u64 + spec.cost.pilot_tx_flops;
                let s = self.users[tx].compute.submit(now, Job { id: ep as u64, flops });
                self.episodes[ep].finetune_start = Some(s.started);
                self.q.push(s.started, Ev::FinetuneStarted { pair: p })?;
                self.q.push(s.finished, Ev::FinetuneFinished { pair: p })?;
            }
            Dir::Up => {
                self.episodes[ep].upload_end = Some(now);
                self.log_pair(now, EventKind::UploadFinished, p)?;
                if self.escalate_pilots_up(now, p)? {
                    return Ok(()); // the check's pilot messages follow
                }
                // A pilot aligner's RX encodes the pilots and fits its map,
                // and under escalation RX checks the result on the pilots,
                // on its compute before installing it.
                let candidate = self.pairs[p].serving.as_ref().and_then(|s| s.candidate);
                let check = match self.escalate {
                    Some(_) => self.world.settings.profiles[self.world.users[self.pairs[p].tx].profile].check.rx_flops,
                    None => 0,
                };
                let flops = self.job_spec(p, candidate).cost.pilot_rx_flops + check;
                if flops == 0 {
                    return self.install(now, p, ep);
                }
                let s = self.users[self.pairs[p].rx].compute.submit(now, Job { id: ep as u64, flops });
                self.q.push(s.finished, Ev::RxComputed { pair: p })?;
            }
        }
        Ok(())
    }

    pub(super) fn rx_computed(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        let ep = self.pairs[p].open.expect("served pairs have an open episode");
        self.install(now, p, ep)
    }

    pub(super) fn finetune_started(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        self.metrics.running_finetunes += 1;
        let Some(s) = self.pairs[p].serving.as_ref() else { return Ok(()) };
        let (flops, split) = (s.flops, s.split.map(|sp| sp.steps));
        let Some(steps) = split else {
            return self.log_pair_with(now, EventKind::FinetuneStarted, p, None, Some(flops), None);
        };
        // Split learning: the steps' hand-overs, both ways, are this phase's bytes.
        let (up, down) = self.split_step_bytes(p);
        let bytes = u64::from(steps) * (up + down);
        let detail = format!("split learning: {steps} steps, {up} B up and {down} B down a step");
        self.log_pair_with(now, EventKind::FinetuneStarted, p, Some(bytes), Some(flops), Some(&detail))
    }

    pub(super) fn finetune_finished(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        self.metrics.running_finetunes -= 1;
        self.log_pair(now, EventKind::FinetuneFinished, p)?;
        let ep = self.pairs[p].open.expect("served pairs have an open episode");
        self.episodes[ep].finetune_end = Some(now);
        self.episodes[ep].upload_start = Some(now);
        let bytes = self.pairs[p].serving.as_ref().map_or(0, |s| s.upload_bytes);
        self.log_pair_with(now, EventKind::UploadStarted, p, Some(bytes), None, None)?;
        self.transfer(now, p, Dir::Up, bytes)
    }

    fn install(&mut self, now: SimTime, p: usize, ep: usize) -> Result<(), EngineError> {
        let mut s = self.pairs[p].serving.take().expect("serving");
        let e = &mut self.episodes[ep];
        e.download_bytes += s.delivered[0];
        e.upload_bytes += s.delivered[1];
        e.finetune_flops += s.flops;
        e.steps += s.steps;
        let rx = self.pairs[p].rx;
        self.service.done(rx);
        let tx_here = self.users[self.pairs[p].tx].present;
        // Escalation: a check that misses sends the pair back to RX's queue for its next rung.
        if s.version == self.version(p) && tx_here && self.escalate_checked(now, p, ep, &mut s)? {
            return Ok(());
        }
        if s.version == self.version(p) && tx_here {
            let a = &self.lab.align_result(s.job)?.after;
            let (accuracy, mse) = (a.accuracy, a.mse);
            let after = (accuracy, mse, a.mean_confidence);
            if let Some(d) = s.decision {
                self.decision_ended(now, d, Ending::Installed, Some(accuracy));
            }
            let e = &mut self.episodes[ep];
            e.aligned = Some(now);
            e.after = Some(after);
            let pr = &mut self.pairs[p];
            pr.aligned = Some(s.version);
            pr.aligned_job = Some(s.job);
            if let Some(m) = pr.monitor.as_mut() {
                m.reset();
            }
            if self.sink.wants(EventKind::AlignedInstalled) {
                let detail = format!("accuracy={accuracy} mse={mse}");
                self.log_pair_with(now, EventKind::AlignedInstalled, p, None, None, Some(&detail))?;
            }
            self.pairs[p].open = None;
            self.refresh(p, now)?;
            self.decoder_installed(p, now)?;
        } else if !tx_here {
            // TX left while this was served: nobody to align with any more.
            if let Some(d) = s.decision {
                self.decision_ended(now, d, Ending::TxLeft, None);
            }
            self.log_pair_with(now, EventKind::StaleAlignmentDiscarded, p, None, None, Some("tx left"))?;
            self.abandon(p, now, "left")?;
        } else {
            // A change arrived while this was served: the decoder is stale.
            if let Some(d) = s.decision {
                self.decision_ended(now, d, Ending::Stale, None);
            }
            self.log_pair(now, EventKind::StaleAlignmentDiscarded, p)?;
            self.enqueue(now, p)?;
        }
        self.serve(now, rx)
    }
}
