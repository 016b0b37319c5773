//! The event loop of `slfsim run`: the clock, the dispatch of events to
//! their handlers, and the assembly of the run's records.
//!
//! Users send messages over their links; a pair whose TX and RX have not
//! aligned since TX last changed is misaligned. Once the detection rule
//! declares it, RX serves the request (`service`): TX downloads RX's decoder
//! φ_j and codebook as a network flow, fine-tunes on its own compute (FIFO,
//! FLOPs / budget), uploads the unfrozen layers as another flow, and RX
//! installs the aligned decoder φ_ij (`alignment`); a pilot aligner's fit
//! runs on RX's compute first. Split learning hands every step's activations
//! and gradients over as flows between the two ends' computes
//! (`split_service`). Timing comes from the cost model and the shared
//! network; accuracy and MSE come from real fine-tunings run by the `Lab`. Onsets, messages and detection are in
//! `episodes`; the network's state over time in `metrics`.
//!
//! A user's channel ε and data are what it sends over and fine-tunes on, so
//! a change misaligns the pairs where it is TX; as RX it keeps its decoder
//! and classifier. Simplification: after a change, the link is judged as TX's
//! checkpoint meeting RX's checkpoint under the new state (what an
//! earlier alignment adapted is taken as lost), and SLF starts again from
//! TX's own encoder θ_i.

use std::collections::HashMap;

use super::adaptive::Calibration;
use super::choice::{Adaptive, DecisionRecord};
use super::core::{
    ns_to_secs, prefetch, ComputeQueue, EventQueue, FlowId, LinkId, NetError, Network, QueueError, RouteTable, SimTime,
    SmallChaCha8, NO_HINT,
};
use super::detect::{DetectionScore, Monitor};
use super::escalate::{AttemptRecord, Escalation};
use super::events::{EventKind, EventLine, EventSink};
use super::lab::{Lab, LabError, LinkClass, TxState};
use super::metrics::Metrics;
use super::outcome::{Cause, RunSummary, TimePoint};
use super::physical_events::PhysEv;
use super::physical_output::PhysicalOutput;
use super::physical_state::PhysState;
use super::service::ServiceQueues;
pub use super::state::StateBytes;
use super::state::{pairs_by_user, Episode, PairState, UserState};
use super::world::{UserChange, World};
use crate::scenario::{AdaptiveTarget, DetectionRule};
use crate::seed::stream;

/// Everything a run produces (its events went to the run's `EventSink`).
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub summary: RunSummary,
    pub timeseries: Vec<TimePoint>,
    /// The loop's memory per user and per pair.
    pub state: StateBytes,
    /// Radio, cells and churn records (a cells topology only).
    pub physical: Option<PhysicalOutput>,
    /// The adaptive policy's decisions (empty for a fixed method).
    pub decisions: Vec<DecisionRecord>,
    /// The escalating policy's attempts (empty otherwise).
    pub attempts: Vec<AttemptRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error("network: {0}")]
    Net(#[from] NetError),
    #[error("event queue: {0}")]
    Queue(#[from] QueueError),
    #[error("cannot write events: {0}")]
    Events(#[from] std::io::Error),
    /// A signal asked the process to stop (`crate::cancel`).
    #[error("interrupted")]
    Interrupted,
}

/// Which way a model transfer goes: RX's decoder down to TX, or the aligned
/// layers up to RX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dir {
    Down,
    Up,
}

/// What the loop schedules.
#[derive(Debug, Clone)]
pub(super) enum Ev {
    Join(usize),
    Change(usize),
    MessageSent(usize),
    MessageReceived {
        pair: usize,
        message: usize,
    },
    Detect {
        pair: usize,
        episode: usize,
    },
    FlowStart {
        pair: usize,
        dir: Dir,
        bytes: u64,
    },
    NetCheck {
        epoch: u64,
    },
    FinetuneStarted {
        pair: usize,
    },
    FinetuneFinished {
        pair: usize,
    },
    /// Split learning: a compute stage of the current step finished (`split_service`).
    SplitStage {
        pair: usize,
    },
    /// RX's part of a pilot aligner (encoding the pilots, fitting the map) finished.
    RxComputed {
        pair: usize,
    },
    Sample,
    Horizon,
    /// Radio ticks, churn, compute speeds (`physical_events`).
    Physical(PhysEv),
}

impl Ev {
    /// The pair an event is about, as a queue hint (for prefetching).
    fn pair(&self) -> u32 {
        match *self {
            Ev::MessageSent(p)
            | Ev::MessageReceived { pair: p, .. }
            | Ev::Detect { pair: p, .. }
            | Ev::FlowStart { pair: p, .. }
            | Ev::FinetuneStarted { pair: p }
            | Ev::FinetuneFinished { pair: p } => u32::try_from(p).unwrap_or(NO_HINT),
            _ => NO_HINT,
        }
    }
}

pub(super) struct Engine<'a> {
    pub world: &'a World,
    pub lab: &'a mut dyn Lab,
    pub q: EventQueue<Ev>,
    pub net: Network,
    /// Route 2p is pair p's download (RX to TX), 2p + 1 its upload.
    pub routes: RouteTable,
    pub users: Vec<UserState>,
    pub pairs: Vec<PairState>,
    /// The pairs each user takes part in (as TX or RX), back to back:
    /// user u's are `pairs_of[pairs_at[u]..pairs_at[u + 1]]` (no vector per user).
    pub pairs_of: Vec<u32>,
    pub pairs_at: Vec<u32>,
    pub episodes: Vec<Episode>,
    pub sink: &'a mut dyn EventSink,
    pub service: ServiceQueues,
    /// Flows in flight: which pair's transfer, which way.
    pub flows: HashMap<FlowId, (usize, Dir)>,
    pub score: DetectionScore,
    pub metrics: Metrics,
    pub handled: usize,
    pub phys: PhysState,
    /// The adaptive policy's calibration and decisions (None: a fixed method).
    pub adaptive: Option<Adaptive>,
    /// The escalating policy's ladders and attempts (None: another method).
    pub escalate: Option<Escalation>,
}

/// Runs the world's network to its horizon, handing every event to
/// `events` as it happens. `progress(now_s)` is called as simulated time
/// advances.
pub fn run(
    world: &World,
    lab: &mut dyn Lab,
    events: &mut dyn EventSink,
    mut progress: impl FnMut(f64),
) -> Result<RunOutput, EngineError> {
    let mut e = Engine::new(world, lab, events)?;
    e.start()?;
    let horizon = world.settings.horizon;
    while let Some((t, _, ev)) = e.q.pop() {
        if t > horizon {
            break;
        }
        if crate::cancel::interrupted().is_some() {
            return Err(EngineError::Interrupted);
        }
        e.handled += 1;
        // The next event's pair is far in memory: start loading it (and
        // its message latency) now.
        if let Some(p) = e.q.peek_hint().filter(|&p| p != NO_HINT) {
            prefetch(&e.pairs[p as usize]);
            e.routes.prefetch_latency(2 * p as usize + 1);
        }
        let stop = matches!(ev, Ev::Horizon);
        e.handle(t, ev)?;
        progress(ns_to_secs(t));
        if stop {
            break;
        }
    }
    Ok(e.finish())
}

impl<'a> Engine<'a> {
    fn new(world: &'a World, lab: &'a mut dyn Lab, sink: &'a mut dyn EventSink) -> Result<Engine<'a>, EngineError> {
        let s = &world.settings;
        let net = world.network();
        let users: Vec<UserState> = world
            .users
            .iter()
            .map(|u| UserState {
                present: u.join == 0,
                version: 0,
                epsilon: s.profiles[u.profile].epsilon,
                data_profile: u.profile,
                compute: ComputeQueue::new(u.flops_per_s),
            })
            .collect();
        let (pairs_at, pairs_of) = pairs_by_user(users.len(), world.pairs.iter().map(|p| (p.tx, p.rx)));
        let mut pairs = Vec::with_capacity(world.pairs.len());
        let routes = world.route_table(&net)?;
        for p in &world.pairs {
            let (t, r) = (&world.users[p.tx], &world.users[p.rx]);
            let monitor = match s.detection {
                DetectionRule::Monitor { window, threshold } => Some(Monitor::new(window, threshold)),
                DetectionRule::Oracle { .. } => None,
            };
            pairs.push(PairState {
                tx: p.tx,
                rx: p.rx,
                rate_hz: p.rate_hz,
                // Users of one profile hold one jointly trained transceiver.
                aligned: (t.profile == r.profile).then_some(0),
                episodes: 0,
                aligned_job: None,
                open: None,
                serving: None,
                monitor,
                rng: SmallChaCha8::new(&stream(s.seed, "messages", &[&t.name, &r.name])),
                active: false,
                acc: 0.0,
                mse: 0.0,
                confidence: 0.0,
                misaligned: false,
            });
        }
        let n = users.len();
        Ok(Engine {
            world,
            lab,
            q: EventQueue::with_hint(Ev::pair),
            net,
            routes,
            users,
            pairs,
            pairs_of,
            pairs_at,
            episodes: Vec::new(),
            sink,
            service: ServiceQueues::new(n, s.policy, stream(s.seed, "service-order", &[])),
            flows: HashMap::new(),
            score: DetectionScore::default(),
            metrics: Metrics::default(),
            handled: 0,
            phys: PhysState::new(world),
            adaptive: s.adaptive.map(|target| Adaptive {
                target,
                calibration: Calibration::new(s.calibration.clone()),
                decisions: Vec::new(),
            }),
            escalate: s.escalate.map(Escalation::new),
        })
    }

    /// Records an event of user `user` (if any), with `detail`.
    pub fn log(
        &mut self,
        t: SimTime,
        event: EventKind,
        user: Option<usize>,
        detail: Option<&str>,
    ) -> Result<(), EngineError> {
        if self.sink.wants(event) {
            let line = EventLine {
                t_s: ns_to_secs(t),
                event,
                pair: None,
                tx: None,
                rx: None,
                user: user.map(|u| self.world.users[u].name.as_str()),
                episode: None,
                bytes: None,
                flops: None,
                detail,
            };
            self.sink.write(&line)?;
        }
        Ok(())
    }

    /// Records an event of pair `p` (its users and open episode).
    pub fn log_pair(&mut self, t: SimTime, event: EventKind, p: usize) -> Result<(), EngineError> {
        self.log_pair_with(t, event, p, None, None, None)
    }

    /// An event of pair `p` with bytes, FLOPs or a detail.
    pub fn log_pair_with(
        &mut self,
        t: SimTime,
        event: EventKind,
        p: usize,
        bytes: Option<u64>,
        flops: Option<u64>,
        detail: Option<&str>,
    ) -> Result<(), EngineError> {
        if self.sink.wants(event) {
            let pr = &self.pairs[p];
            let users = &self.world.users;
            let line = EventLine {
                t_s: ns_to_secs(t),
                event,
                pair: Some(p),
                tx: Some(users[pr.tx].name.as_str()),
                rx: Some(users[pr.rx].name.as_str()),
                user: None,
                episode: pr.open,
                bytes,
                flops,
                detail,
            };
            self.sink.write(&line)?;
        }
        Ok(())
    }

    fn start(&mut self) -> Result<(), EngineError> {
        self.physical_start()?;
        self.prefetch_certain();
        // Every link class met at the start is evaluated in parallel up front
        // (and, for a gap-share target, each TX's matched link).
        let matched = matches!(self.adaptive.as_ref().map(|a| a.target), Some(AdaptiveTarget::GapShare(_)));
        for p in 0..self.pairs.len() {
            let c = self.class(p);
            self.lab.evaluate(c);
            if matched {
                self.lab.evaluate(Self::matched_class(c));
            }
        }
        for (u, user) in self.world.users.iter().enumerate() {
            if user.join > 0 {
                self.q.push(user.join, Ev::Join(u))?;
            }
        }
        for (i, c) in self.world.changes.iter().enumerate() {
            if c.change != UserChange::Join {
                self.q.push(c.at, Ev::Change(i))?;
            }
        }
        self.q.push(self.world.settings.horizon, Ev::Horizon)?;
        self.q.push(0, Ev::Sample)?;
        for p in 0..self.pairs.len() {
            if self.both_present(p) {
                self.activate(p, 0, Cause::Initial)?;
            }
        }
        Ok(())
    }

    /// Links and latency of pair `p`'s route in direction `dir`.
    pub fn route(&self, p: usize, dir: Dir) -> (&[LinkId], SimTime) {
        let i = 2 * p + usize::from(dir == Dir::Up);
        (self.routes.links(i), self.routes.latency_ns(i))
    }

    /// The latency of pair `p`'s message route (TX to RX) alone: every
    /// message reads it, and its links' span would be one more cache miss.
    pub fn message_latency(&self, p: usize) -> SimTime {
        self.routes.latency_ns(2 * p + 1)
    }

    pub fn both_present(&self, p: usize) -> bool {
        let pr = &self.pairs[p];
        self.users[pr.tx].present && self.users[pr.rx].present && self.attached(p)
    }

    fn tx_state(&self, u: usize) -> TxState {
        let s = &self.users[u];
        TxState {
            profile: self.world.users[u].profile,
            epsilon_bits: s.epsilon.to_bits(),
            data_profile: s.data_profile,
        }
    }

    /// The link class of pair `p` as it stands.
    pub fn class(&self, p: usize) -> LinkClass {
        let pr = &self.pairs[p];
        (self.tx_state(pr.tx), self.world.users[pr.rx].profile)
    }

    /// A link changes only with its TX: ε and data are what a user sends
    /// over and on, while as RX it keeps its decoder and classifier.
    pub fn version(&self, p: usize) -> u64 {
        self.users[self.pairs[p].tx].version
    }

    pub fn truly_aligned(&self, p: usize) -> bool {
        self.pairs[p].aligned == Some(self.version(p)) && !self.phys.drifted(p)
    }

    fn handle(&mut self, now: SimTime, ev: Ev) -> Result<(), EngineError> {
        match ev {
            Ev::Join(u) => self.join(now, u),
            Ev::Change(i) => self.change(now, i),
            Ev::MessageSent(p) => self.message_sent(now, p),
            Ev::MessageReceived { pair, message } => {
                self.log_pair(now, EventKind::MessageReceived, pair)?;
                self.observe(now, pair, message)
            }
            Ev::Detect { pair, episode } => self.oracle_detects(now, pair, episode),
            Ev::FlowStart { pair, dir, bytes } => self.flow_start(now, pair, dir, bytes),
            Ev::NetCheck { epoch } => self.net_check(now, epoch),
            Ev::FinetuneStarted { pair } => self.finetune_started(now, pair),
            Ev::FinetuneFinished { pair } => self.finetune_finished(now, pair),
            Ev::SplitStage { pair } => self.split_stage_done(now, pair),
            Ev::RxComputed { pair } => self.rx_computed(now, pair),
            Ev::Sample => {
                self.metrics.sample(now, self.net.active());
                let next = now + self.world.settings.sample_step;
                if next <= self.world.settings.horizon {
                    self.q.push(next, Ev::Sample)?;
                }
                Ok(())
            }
            Ev::Horizon => {
                self.metrics.integrate(now);
                Ok(())
            }
            Ev::Physical(e) => self.physical(now, e),
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
pub(crate) mod tests;
