//! The event loop of `slfsim run`.
//!
//! Users send messages over their links; a pair whose TX and RX have not
//! aligned since TX last changed is misaligned. Once the detection rule
//! declares it, RX serves the request (policy order, at most
//! `max_concurrent` at a time): TX downloads RX's decoder φ_j and codebook
//! as a network flow, fine-tunes on its own compute (FIFO, FLOPs / budget),
//! uploads the unfrozen layers as another flow, and RX installs the aligned
//! decoder φ_ij. Timing comes from the cost model and the shared network;
//! accuracy and MSE come from real fine-tunings run by the `Lab`.
//!
//! A user's channel ε and data are what it sends over and fine-tunes on, so
//! a change misaligns the pairs where it is TX; as RX it keeps its decoder
//! and classifier. Simplification: after a change, the link is judged as TX's
//! checkpoint meeting RX's checkpoint under the new state (what an
//! earlier alignment adapted is taken as lost), and SLF starts again from
//! TX's own encoder θ_i.

use std::collections::HashMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};
use serde::Serialize;

use super::compute::{ComputeQueue, Job};
use super::detect::{DetectionScore, Monitor};
use super::lab::{class_key, Lab, LabError, LinkClass, TxState};
use super::network::{FlowId, NetError, Network, Route};
use super::outcome::{quantile, Aggregate, EpisodeRecord, PairRecord, PhaseMean, RunSummary, TimePoint, UserRecord};
use super::queue::{ns_to_secs, secs_to_ns, EventQueue, QueueError, SimTime};
use super::world::World;
use crate::align::cost::method_cost;
use crate::scenario::{Change, DetectionRule, Fidelity, Order, Scenario};
use crate::seed::stream;

/// One line of `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    pub t_s: f64,
    pub event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rx: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flops: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Everything a run produces.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub summary: RunSummary,
    pub events: Vec<EventRecord>,
    pub timeseries: Vec<TimePoint>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error("network: {0}")]
    Net(#[from] NetError),
    #[error("event queue: {0}")]
    Queue(#[from] QueueError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Down,
    Up,
}

#[derive(Debug, Clone)]
enum Ev {
    Join(usize),
    Change(usize),
    MessageSent(usize),
    MessageReceived { pair: usize, message: usize },
    Detect { pair: usize, episode: usize },
    FlowStart { pair: usize, dir: Dir, bytes: u64 },
    NetCheck { epoch: u64 },
    FinetuneStarted { pair: usize },
    FinetuneFinished { pair: usize },
    Sample,
    Horizon,
}

struct UserState {
    present: bool,
    version: u64,
    epsilon: f64,
    data_profile: usize,
    compute: ComputeQueue,
}

/// An alignment being served.
struct Service {
    /// TX's version when the service started.
    version: u64,
    job: usize,
    download_bytes: u64,
    upload_bytes: u64,
    /// From the cost model; the step count is known only once the download ends.
    flops_per_step: u64,
    flops: u64,
    steps: usize,
}

struct PairState {
    tx: usize,
    rx: usize,
    rate_hz: f64,
    down: Route,
    up: Route,
    /// TX's version when last aligned.
    aligned: Option<u64>,
    /// Episodes so far.
    episodes: usize,
    aligned_job: Option<usize>,
    open: Option<usize>,
    serving: Option<Service>,
    monitor: Option<Monitor>,
    rng: ChaCha8Rng,
    active: bool,
    acc: f64,
    mse: f64,
    confidence: f64,
    misaligned: bool,
}

struct Engine<'a> {
    sc: &'a Scenario,
    world: &'a World,
    lab: &'a mut dyn Lab,
    q: EventQueue<Ev>,
    net: Network,
    users: Vec<UserState>,
    pairs: Vec<PairState>,
    pairs_of: Vec<Vec<usize>>,
    episodes: Vec<EpisodeRecord>,
    events: Vec<EventRecord>,
    waiting: Vec<Vec<(SimTime, u64, usize)>>,
    in_service: Vec<usize>,
    wait_seq: u64,
    order_rng: ChaCha8Rng,
    flows: HashMap<FlowId, (usize, Dir)>,
    score: DetectionScore,
    // Time-averaged accuracy, integrated exactly between state changes.
    acc_sum: f64,
    mse_sum: f64,
    active: usize,
    misaligned: usize,
    running_finetunes: usize,
    last_t: SimTime,
    integral: f64,
    active_time: f64,
    timeseries: Vec<TimePoint>,
    horizon: SimTime,
    handled: usize,
}

/// Runs the scenario's network to its horizon. `progress(now_s)` is called
/// as simulated time advances.
pub fn run(
    sc: &Scenario,
    world: &World,
    lab: &mut dyn Lab,
    mut progress: impl FnMut(f64),
) -> Result<RunOutput, EngineError> {
    let net = world.network();
    let users: Vec<UserState> = world
        .users
        .iter()
        .map(|u| UserState {
            present: u.join == 0,
            version: 0,
            epsilon: sc.profiles[u.profile].channel.epsilon,
            data_profile: u.profile,
            compute: ComputeQueue::new(u.flops_per_s),
        })
        .collect();
    let mut pairs_of = vec![Vec::new(); users.len()];
    let mut pairs = Vec::new();
    for (i, p) in world.pairs.iter().enumerate() {
        pairs_of[p.tx].push(i);
        pairs_of[p.rx].push(i);
        let (t, r) = (&world.users[p.tx], &world.users[p.rx]);
        let monitor = match sc.network.detection {
            DetectionRule::Monitor { window, threshold } => Some(Monitor::new(window, threshold)),
            DetectionRule::Oracle { .. } => None,
        };
        pairs.push(PairState {
            tx: p.tx,
            rx: p.rx,
            rate_hz: p.rate_hz,
            down: net.route(p.rx, p.tx)?,
            up: net.route(p.tx, p.rx)?,
            // Users of one profile hold one jointly trained transceiver.
            aligned: (t.profile == r.profile).then_some(0),
            episodes: 0,
            aligned_job: None,
            open: None,
            serving: None,
            monitor,
            rng: stream(sc.seed, "messages", &[&t.name, &r.name]),
            active: false,
            acc: 0.0,
            mse: 0.0,
            confidence: 0.0,
            misaligned: false,
        });
    }
    let n = users.len();
    let mut e = Engine {
        sc,
        world,
        lab,
        q: EventQueue::new(),
        net,
        users,
        pairs,
        pairs_of,
        episodes: Vec::new(),
        events: Vec::new(),
        waiting: vec![Vec::new(); n],
        in_service: vec![0; n],
        wait_seq: 0,
        order_rng: stream(sc.seed, "service-order", &[]),
        flows: HashMap::new(),
        score: DetectionScore::default(),
        acc_sum: 0.0,
        mse_sum: 0.0,
        active: 0,
        misaligned: 0,
        running_finetunes: 0,
        last_t: 0,
        integral: 0.0,
        active_time: 0.0,
        timeseries: Vec::new(),
        horizon: secs_to_ns(sc.network.horizon_s),
        handled: 0,
    };
    e.start()?;
    while let Some((t, _, ev)) = e.q.pop() {
        if t > e.horizon {
            break;
        }
        e.handled += 1;
        let stop = matches!(ev, Ev::Horizon);
        e.handle(t, ev)?;
        progress(ns_to_secs(t));
        if stop {
            break;
        }
    }
    e.finish()
}

impl Engine<'_> {
    fn log(&mut self, t: SimTime, event: &'static str) -> &mut EventRecord {
        self.events.push(EventRecord {
            t_s: ns_to_secs(t),
            event,
            pair: None,
            tx: None,
            rx: None,
            user: None,
            episode: None,
            bytes: None,
            flops: None,
            detail: None,
        });
        self.events.last_mut().expect("just pushed")
    }

    fn log_pair(&mut self, t: SimTime, event: &'static str, p: usize) -> &mut EventRecord {
        let (tx, rx) =
            (self.world.users[self.pairs[p].tx].name.clone(), self.world.users[self.pairs[p].rx].name.clone());
        let episode = self.pairs[p].open;
        let r = self.log(t, event);
        r.pair = Some(p);
        r.tx = Some(tx);
        r.rx = Some(rx);
        r.episode = episode;
        r
    }

    fn start(&mut self) -> Result<(), EngineError> {
        // Every link class met at the start is evaluated in parallel up front.
        for p in 0..self.pairs.len() {
            let c = self.class(p);
            self.lab.evaluate(c);
        }
        for (u, user) in self.world.users.iter().enumerate() {
            if user.join > 0 {
                self.q.push(user.join, Ev::Join(u))?;
            }
        }
        for (i, c) in self.world.changes.iter().enumerate() {
            if !matches!(c.change, Change::Join { .. }) {
                self.q.push(c.at, Ev::Change(i))?;
            }
        }
        self.q.push(self.horizon, Ev::Horizon)?;
        self.q.push(0, Ev::Sample)?;
        for p in 0..self.pairs.len() {
            let (a, b) = (self.pairs[p].tx, self.pairs[p].rx);
            if self.users[a].present && self.users[b].present {
                self.activate(p, 0, "initial")?;
            }
        }
        Ok(())
    }

    fn tx_state(&self, u: usize) -> TxState {
        let s = &self.users[u];
        TxState {
            profile: self.world.users[u].profile,
            epsilon_bits: s.epsilon.to_bits(),
            data_profile: s.data_profile,
        }
    }

    fn class(&self, p: usize) -> LinkClass {
        let pr = &self.pairs[p];
        (self.tx_state(pr.tx), self.world.users[pr.rx].profile)
    }

    /// A link changes only with its TX: ε and data are what a user sends
    /// over and on, while as RX it keeps its decoder and classifier.
    fn version(&self, p: usize) -> u64 {
        self.users[self.pairs[p].tx].version
    }

    fn truly_aligned(&self, p: usize) -> bool {
        self.pairs[p].aligned == Some(self.version(p))
    }

    fn integrate(&mut self, now: SimTime) {
        let dt = ns_to_secs(now - self.last_t);
        if self.active > 0 {
            self.integral += self.acc_sum / self.active as f64 * dt;
            self.active_time += dt;
        }
        self.last_t = now;
    }

    /// Re-reads a pair's current accuracy/MSE (aligned result, or the link as met).
    fn refresh(&mut self, p: usize, now: SimTime) -> Result<(), EngineError> {
        self.integrate(now);
        let pr = &self.pairs[p];
        if pr.active {
            self.acc_sum -= pr.acc;
            self.mse_sum -= pr.mse;
            self.active -= 1;
            self.misaligned -= pr.misaligned as usize;
        }
        let active = self.users[pr.tx].present && self.users[pr.rx].present;
        let aligned = self.truly_aligned(p);
        let (acc, mse, confidence) = match (aligned, self.pairs[p].aligned_job) {
            (true, Some(job)) => {
                let a = &self.lab.align_result(job)?.after;
                (a.accuracy, a.mse, a.mean_confidence)
            }
            _ => {
                let id = self.lab.evaluate(self.class(p));
                let ev = self.lab.eval_result(id)?;
                (ev.accuracy, ev.mse, ev.mean_confidence)
            }
        };
        let pr = &mut self.pairs[p];
        (pr.active, pr.acc, pr.mse, pr.confidence, pr.misaligned) = (active, acc, mse, confidence, !aligned);
        if active {
            self.acc_sum += acc;
            self.mse_sum += mse;
            self.active += 1;
            self.misaligned += !aligned as usize;
        }
        Ok(())
    }

    fn activate(&mut self, p: usize, now: SimTime, cause: &'static str) -> Result<(), EngineError> {
        self.refresh(p, now)?;
        if !self.truly_aligned(p) {
            self.open_episode(p, now, cause)?;
        }
        self.schedule_message(p, now)
    }

    fn schedule_message(&mut self, p: usize, now: SimTime) -> Result<(), EngineError> {
        let pr = &mut self.pairs[p];
        let gap = Exp::new(pr.rate_hz).map(|d| d.sample(&mut pr.rng)).unwrap_or(f64::INFINITY);
        let t = now.saturating_add(secs_to_ns(gap.min(1e9)));
        if t <= self.horizon {
            self.q.push(t, Ev::MessageSent(p))?;
        }
        Ok(())
    }

    /// Opens an episode of an active pair whose metrics are up to date.
    fn open_episode(&mut self, p: usize, now: SimTime, cause: &'static str) -> Result<(), EngineError> {
        let pr = &self.pairs[p];
        let (acc, mse, confidence) = (pr.acc, pr.mse, pr.confidence);
        let (t, r) = (&self.world.users[pr.tx], &self.world.users[pr.rx]);
        let ep = self.episodes.len();
        self.episodes.push(EpisodeRecord {
            pair: p,
            tx: t.name.clone(),
            rx: r.name.clone(),
            tx_profile: self.sc.profiles[t.profile].name.clone(),
            rx_profile: self.sc.profiles[r.profile].name.clone(),
            episode: self.pairs[p].episodes,
            cause: cause.to_string(),
            onset_s: ns_to_secs(now),
            detected_s: None,
            download_start_s: None,
            download_end_s: None,
            finetune_start_s: None,
            finetune_end_s: None,
            upload_start_s: None,
            upload_end_s: None,
            aligned_s: None,
            recovery_time_s: None,
            accuracy_before: acc,
            mse_before: mse,
            accuracy_after: None,
            mse_after: None,
            confidence_before: confidence,
            confidence_after: None,
            download_bytes: 0,
            upload_bytes: 0,
            finetune_flops: 0,
            steps: 0,
            fidelity: fidelity_label(self.sc.network.fidelity),
            job: None,
            restarts: 0,
        });
        self.pairs[p].open = Some(ep);
        self.pairs[p].episodes += 1;
        self.log_pair(now, "misalignment_onset", p).detail = Some(cause.into());
        if let DetectionRule::Oracle { delay_s } = self.sc.network.detection {
            self.q.push(now + secs_to_ns(delay_s), Ev::Detect { pair: p, episode: ep })?;
        }
        Ok(())
    }

    fn handle(&mut self, now: SimTime, ev: Ev) -> Result<(), EngineError> {
        match ev {
            Ev::Join(u) => {
                if self.users[u].present {
                    return Ok(());
                }
                self.users[u].present = true;
                let name = self.world.users[u].name.clone();
                self.log(now, "user_joined").user = Some(name);
                for p in self.pairs_of[u].clone() {
                    let (a, b) = (self.pairs[p].tx, self.pairs[p].rx);
                    if self.users[a].present && self.users[b].present {
                        self.activate(p, now, "join")?;
                    }
                }
            }
            Ev::Change(i) => self.change(now, i)?,
            Ev::MessageSent(p) => {
                let message = self.pairs[p].rng.random_range(0..self.sc.eval.test_images);
                self.log_pair(now, "message_sent", p);
                self.q.push(now + self.pairs[p].up.latency_ns, Ev::MessageReceived { pair: p, message })?;
                self.schedule_message(p, now)?;
            }
            Ev::MessageReceived { pair, message } => {
                self.log_pair(now, "message_received", pair);
                self.observe(now, pair, message)?;
            }
            Ev::Detect { pair, episode } => {
                if self.pairs[pair].open == Some(episode) && self.episodes[episode].detected_s.is_none() {
                    self.score.declared(!self.truly_aligned(pair));
                    self.detected(now, pair, episode)?;
                }
            }
            Ev::FlowStart { pair, dir, bytes } => {
                let links = if dir == Dir::Down {
                    self.pairs[pair].down.links.clone()
                } else {
                    self.pairs[pair].up.links.clone()
                };
                let id = self.net.activate(now, &links, bytes)?;
                self.flows.insert(id, (pair, dir));
                self.schedule_net()?;
            }
            Ev::NetCheck { epoch } => {
                if epoch != self.net.epoch() {
                    return Ok(());
                }
                while let Some((t, id)) = self.net.next_completion() {
                    if t > now {
                        break;
                    }
                    self.net.complete(now, id)?;
                    let (pair, dir) = self.flows.remove(&id).expect("every flow is registered");
                    self.transfer_done(now, pair, dir)?;
                }
                self.schedule_net()?;
            }
            Ev::FinetuneStarted { pair } => {
                self.running_finetunes += 1;
                let flops = self.pairs[pair].serving.as_ref().map(|s| s.flops);
                self.log_pair(now, "finetune_started", pair).flops = flops;
            }
            Ev::FinetuneFinished { pair } => {
                self.running_finetunes -= 1;
                self.log_pair(now, "finetune_finished", pair);
                let ep = self.pairs[pair].open.expect("served pairs have an open episode");
                self.episodes[ep].finetune_end_s = Some(ns_to_secs(now));
                self.episodes[ep].upload_start_s = Some(ns_to_secs(now));
                let bytes = self.pairs[pair].serving.as_ref().map_or(0, |s| s.upload_bytes);
                self.log_pair(now, "upload_started", pair).bytes = Some(bytes);
                self.transfer(now, pair, Dir::Up, bytes)?;
            }
            Ev::Sample => {
                self.integrate(now);
                self.timeseries.push(TimePoint {
                    t_s: ns_to_secs(now),
                    network_accuracy: if self.active > 0 { self.acc_sum / self.active as f64 } else { f64::NAN },
                    mean_mse: if self.active > 0 { self.mse_sum / self.active as f64 } else { f64::NAN },
                    active_pairs: self.active,
                    misaligned_pairs: self.misaligned,
                    active_flows: self.net.active(),
                    running_finetunes: self.running_finetunes,
                });
                let step = if self.sc.network.sample_s > 0.0 {
                    secs_to_ns(self.sc.network.sample_s)
                } else {
                    (self.horizon / 200).max(1)
                };
                if now + step <= self.horizon {
                    self.q.push(now + step, Ev::Sample)?;
                }
            }
            Ev::Horizon => self.integrate(now),
        }
        Ok(())
    }

    fn change(&mut self, now: SimTime, i: usize) -> Result<(), EngineError> {
        let c = self.world.changes[i].clone();
        let u = c.user;
        let cause = match &c.change {
            Change::Channel { epsilon, .. } => {
                self.users[u].epsilon = *epsilon;
                "channel"
            }
            Change::Data { profile, .. } => {
                self.users[u].data_profile = self.sc.profile_index(profile).expect("validated");
                "data"
            }
            Change::Join { .. } => unreachable!("joins are their own events"),
        };
        self.users[u].version += 1;
        let name = self.world.users[u].name.clone();
        let r = self.log(now, if cause == "channel" { "channel_changed" } else { "data_changed" });
        r.user = Some(name);
        r.detail = Some(match &c.change {
            Change::Channel { epsilon, .. } => format!("epsilon={epsilon}"),
            Change::Data { profile, .. } => format!("data of {profile}"),
            Change::Join { .. } => unreachable!(),
        });
        for p in self.pairs_of[u].clone() {
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

    fn observe(&mut self, now: SimTime, p: usize, message: usize) -> Result<(), EngineError> {
        if self.pairs[p].monitor.is_none() {
            return Ok(());
        }
        let conf = match (self.truly_aligned(p), self.pairs[p].aligned_job) {
            (true, Some(job)) => self.lab.align_result(job)?.after.confidences[message] as f64,
            _ => {
                let id = self.lab.evaluate(self.class(p));
                self.lab.eval_result(id)?.confidences[message] as f64
            }
        };
        let declared = self.pairs[p].monitor.as_mut().is_some_and(|m| m.observe(conf));
        let busy = self.pairs[p].open.is_some_and(|ep| self.episodes[ep].detected_s.is_some());
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
                self.open_episode(p, now, "false_alarm")?;
                self.pairs[p].open.expect("just opened")
            }
        };
        self.detected(now, p, ep)
    }

    fn detected(&mut self, now: SimTime, p: usize, ep: usize) -> Result<(), EngineError> {
        self.episodes[ep].detected_s = Some(ns_to_secs(now));
        self.log_pair(now, "misalignment_detected", p);
        self.enqueue(now, p)
    }

    fn enqueue(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        let rx = self.pairs[p].rx;
        self.waiting[rx].push((now, self.wait_seq, p));
        self.wait_seq += 1;
        self.serve(now, rx)
    }

    /// Starts waiting requests at `rx` while it has capacity, in policy order.
    fn serve(&mut self, now: SimTime, rx: usize) -> Result<(), EngineError> {
        let cap = self.sc.network.policy.max_concurrent;
        while !self.waiting[rx].is_empty() && (cap == 0 || self.in_service[rx] < cap) {
            let w = &self.waiting[rx];
            let pick = match self.sc.network.policy.order {
                Order::Fifo => (0..w.len()).min_by_key(|&i| (w[i].0, w[i].1)),
                Order::FastestFirst => (0..w.len()).min_by(|&i, &j| {
                    let f = |k: usize| self.world.users[self.pairs[w[k].2].tx].flops_per_s;
                    f(j).total_cmp(&f(i)).then((w[i].0, w[i].1).cmp(&(w[j].0, w[j].1)))
                }),
                Order::Random => Some(self.order_rng.random_range(0..w.len())),
            }
            .expect("non-empty");
            let (_, _, p) = self.waiting[rx].remove(pick);
            self.in_service[rx] += 1;
            self.start_service(now, p)?;
        }
        Ok(())
    }

    fn start_service(&mut self, now: SimTime, p: usize) -> Result<(), EngineError> {
        let ep = self.pairs[p].open.expect("queued pairs have an open episode");
        let class = self.class(p);
        let key = match self.sc.network.fidelity {
            Fidelity::Memoized => format!("memo|{}", class_key(&self.sc.profiles, class)),
            Fidelity::Exact => {
                let e = &self.episodes[ep];
                format!("exact|{}|{}|ep{}|r{}", e.tx, e.rx, e.episode, e.restarts)
            }
        };
        let job = self.lab.align(class, key);
        let tx_profile = &self.sc.profiles[self.world.users[self.pairs[p].tx].profile];
        let b = &self.sc.align.budget;
        // Bytes of slf / encoder-only / retrain do not depend on the steps run.
        let c = method_cost(
            &tx_profile.model,
            tx_profile.image_channels(),
            &self.sc.network.policy.method,
            b.steps,
            b.batch_size,
            &self.sc.align.cost,
        );
        self.pairs[p].serving = Some(Service {
            version: self.version(p),
            job,
            download_bytes: c.download_bytes,
            upload_bytes: c.upload_bytes,
            flops_per_step: c.flops_per_step,
            flops: 0,
            steps: 0,
        });
        self.episodes[ep].job = Some(job);
        self.episodes[ep].download_start_s = Some(ns_to_secs(now));
        self.log_pair(now, "download_started", p).bytes = Some(c.download_bytes);
        self.transfer(now, p, Dir::Down, c.download_bytes)
    }

    fn transfer(&mut self, now: SimTime, p: usize, dir: Dir, bytes: u64) -> Result<(), EngineError> {
        if bytes == 0 {
            return self.transfer_done(now, p, dir);
        }
        let latency = if dir == Dir::Down { self.pairs[p].down.latency_ns } else { self.pairs[p].up.latency_ns };
        // Propagation first; then the flow competes for bandwidth.
        self.q.push(now + latency, Ev::FlowStart { pair: p, dir, bytes })?;
        Ok(())
    }

    fn schedule_net(&mut self) -> Result<(), EngineError> {
        if let Some((t, _)) = self.net.next_completion() {
            self.q.push(t.max(self.q.now()), Ev::NetCheck { epoch: self.net.epoch() })?;
        }
        Ok(())
    }

    fn transfer_done(&mut self, now: SimTime, p: usize, dir: Dir) -> Result<(), EngineError> {
        let ep = self.pairs[p].open.expect("served pairs have an open episode");
        match dir {
            Dir::Down => {
                self.episodes[ep].download_end_s = Some(ns_to_secs(now));
                self.log_pair(now, "download_finished", p);
                let (job, flops_per_step) =
                    self.pairs[p].serving.as_ref().map(|s| (s.job, s.flops_per_step)).expect("serving");
                let b = &self.sc.align.budget;
                // With a target, the steps run are an outcome of the real job.
                let steps = if b.target_accuracy.is_some() || b.target_mse.is_some() {
                    self.lab.align_result(job)?.result.steps
                } else {
                    b.steps
                };
                let tx = self.pairs[p].tx;
                let flops = flops_per_step * steps as u64;
                let s = self.users[tx].compute.submit(now, Job { id: ep as u64, flops });
                if let Some(sv) = self.pairs[p].serving.as_mut() {
                    (sv.flops, sv.steps) = (flops, steps);
                }
                self.episodes[ep].finetune_start_s = Some(ns_to_secs(s.started));
                self.q.push(s.started, Ev::FinetuneStarted { pair: p })?;
                self.q.push(s.finished, Ev::FinetuneFinished { pair: p })?;
            }
            Dir::Up => {
                self.episodes[ep].upload_end_s = Some(ns_to_secs(now));
                self.log_pair(now, "upload_finished", p);
                self.install(now, p, ep)?;
            }
        }
        Ok(())
    }

    fn install(&mut self, now: SimTime, p: usize, ep: usize) -> Result<(), EngineError> {
        let s = self.pairs[p].serving.take().expect("serving");
        let e = &mut self.episodes[ep];
        e.download_bytes += s.download_bytes;
        e.upload_bytes += s.upload_bytes;
        e.finetune_flops += s.flops;
        e.steps += s.steps;
        let rx = self.pairs[p].rx;
        self.in_service[rx] -= 1;
        if s.version == self.version(p) {
            let after = self.lab.align_result(s.job)?.after.clone();
            let e = &mut self.episodes[ep];
            e.aligned_s = Some(ns_to_secs(now));
            e.recovery_time_s = Some(ns_to_secs(now) - e.onset_s);
            e.accuracy_after = Some(after.accuracy);
            e.mse_after = Some(after.mse);
            e.confidence_after = Some(after.mean_confidence);
            let pr = &mut self.pairs[p];
            pr.aligned = Some(s.version);
            pr.aligned_job = Some(s.job);
            if let Some(m) = pr.monitor.as_mut() {
                m.reset();
            }
            self.log_pair(now, "aligned_installed", p).detail =
                Some(format!("accuracy={} mse={}", after.accuracy, after.mse));
            self.pairs[p].open = None;
            self.refresh(p, now)?;
        } else {
            // A change arrived while this was served: the decoder is stale.
            self.log_pair(now, "stale_alignment_discarded", p);
            self.enqueue(now, p)?;
        }
        self.serve(now, rx)
    }

    fn finish(mut self) -> Result<RunOutput, EngineError> {
        self.integrate(self.horizon.max(self.last_t));
        for e in &self.episodes {
            if e.detected_s.is_none() {
                self.score.missed_episode();
            }
        }
        let rec: Vec<f64> = self.episodes.iter().filter_map(|e| e.recovery_time_s).collect();
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let before: Vec<f64> = self.episodes.iter().map(|e| e.accuracy_before).collect();
        let after: Vec<f64> = self.episodes.iter().filter_map(|e| e.accuracy_after).collect();
        let mse_before: Vec<f64> = self.episodes.iter().map(|e| e.mse_before).collect();
        let mse_after: Vec<f64> = self.episodes.iter().filter_map(|e| e.mse_after).collect();
        let mut phases: Vec<PhaseMean> = Vec::new();
        let all: Vec<_> = self.episodes.iter().filter_map(|e| e.phases()).collect();
        if let Some(first) = all.first() {
            for (k, (name, _)) in first.iter().enumerate() {
                let v: Vec<f64> = all.iter().map(|ph| ph[k].1).collect();
                phases.push(PhaseMean { phase: name.to_string(), mean_s: mean(&v).unwrap_or(0.0) });
            }
        }
        let (evaluations, fine_tunings) = self.lab.counts();
        let mut pair_records = Vec::new();
        for (i, pr) in self.pairs.iter().enumerate() {
            pair_records.push(PairRecord {
                pair: i,
                tx: self.world.users[pr.tx].name.clone(),
                rx: self.world.users[pr.rx].name.clone(),
                rate_hz: pr.rate_hz,
                hops: pr.up.links.len(),
                episodes: pr.episodes,
                aligned_at_end: pr.active && !pr.misaligned,
                accuracy_end: pr.active.then_some(pr.acc),
                mse_end: pr.active.then_some(pr.mse),
                confidence_end: pr.active.then_some(pr.confidence),
            });
        }
        let aggregate = Aggregate {
            pairs: self.pairs.len(),
            episodes: self.episodes.len(),
            recovered: rec.len(),
            unrecovered: self.episodes.iter().filter(|e| e.aligned_s.is_none() && e.cause != "false_alarm").count(),
            false_alarm_episodes: self.episodes.iter().filter(|e| e.cause == "false_alarm").count(),
            recovery_mean_s: mean(&rec),
            recovery_median_s: quantile(&rec, 0.5),
            recovery_p95_s: quantile(&rec, 0.95),
            recovery_max_s: rec.iter().copied().reduce(f64::max),
            makespan_s: self.episodes.iter().filter_map(|e| e.aligned_s).reduce(f64::max),
            total_bytes: self.episodes.iter().map(|e| e.download_bytes + e.upload_bytes).sum(),
            total_flops: self.episodes.iter().map(|e| e.finetune_flops).sum(),
            time_avg_accuracy: if self.active_time > 0.0 { self.integral / self.active_time } else { f64::NAN },
            accuracy_before_mean: mean(&before).unwrap_or(f64::NAN),
            accuracy_after_mean: mean(&after),
            mse_before_mean: mean(&mse_before).unwrap_or(f64::NAN),
            mse_after_mean: mean(&mse_after),
            phases,
            fine_tunings,
            evaluations,
            events: self.handled,
            detection: self.score,
        };
        let sc = self.sc;
        let summary = RunSummary {
            scenario: sc.name.clone(),
            seed: sc.seed,
            fidelity: fidelity_label(sc.network.fidelity),
            method: sc.network.policy.method.label(),
            detection: match sc.network.detection {
                DetectionRule::Oracle { delay_s } => format!("oracle(delay_s={delay_s})"),
                DetectionRule::Monitor { window, threshold } => {
                    format!("monitor(window={window}, threshold={threshold})")
                }
            },
            horizon_s: sc.network.horizon_s,
            users: self
                .world
                .users
                .iter()
                .map(|u| UserRecord {
                    name: u.name.clone(),
                    group: u.group.clone(),
                    profile: sc.profiles[u.profile].name.clone(),
                    flops_per_s: u.flops_per_s,
                    join_s: ns_to_secs(u.join),
                })
                .collect(),
            pairs: pair_records,
            episodes: self.episodes,
            aggregate,
        };
        Ok(RunOutput { summary, events: self.events, timeseries: self.timeseries })
    }
}

fn fidelity_label(f: Fidelity) -> String {
    match f {
        Fidelity::Exact => "exact".into(),
        Fidelity::Memoized => "memoized".into(),
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
