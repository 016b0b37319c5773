//! The event loop of `slfsim run`: the clock, the dispatch of events to
//! their handlers, and the assembly of the run's records.
//!
//! Users send messages over their links; a pair whose TX and RX have not
//! aligned since TX last changed is misaligned. Once the detection rule
//! declares it, RX serves the request (`service`): TX downloads RX's decoder
//! φ_j and codebook as a network flow, fine-tunes on its own compute (FIFO,
//! FLOPs / budget), uploads the unfrozen layers as another flow, and RX
//! installs the aligned decoder φ_ij (`alignment`). Timing comes from the
//! cost model and the shared network; accuracy and MSE come from real
//! fine-tunings run by the `Lab`. Onsets, messages and detection are in
//! `episodes`; the network's state over time in `metrics`.
//!
//! A user's channel ε and data are what it sends over and fine-tunes on, so
//! a change misaligns the pairs where it is TX; as RX it keeps its decoder
//! and classifier. Simplification: after a change, the link is judged as TX's
//! checkpoint meeting RX's checkpoint under the new state (what an
//! earlier alignment adapted is taken as lost), and SLF starts again from
//! TX's own encoder θ_i.

use std::collections::HashMap;

use super::core::{ns_to_secs, ComputeQueue, EventQueue, FlowId, NetError, Network, QueueError, SimTime};
use super::detect::{DetectionScore, Monitor};
use super::events::{EventKind, EventRecord};
use super::lab::{Lab, LabError, LinkClass, TxState};
use super::metrics::Metrics;
use super::outcome::{aggregate, Cause, EpisodeRecord, PairRecord, RunCounts, RunSummary, TimePoint, UserRecord};
use super::physical_events::PhysEv;
use super::physical_output::PhysicalOutput;
use super::physical_state::PhysState;
use super::service::ServiceQueues;
use super::state::{PairState, UserState};
use super::world::{UserChange, World};
use crate::scenario::DetectionRule;
use crate::seed::stream;

/// Everything a run produces.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub summary: RunSummary,
    pub events: Vec<EventRecord>,
    pub timeseries: Vec<TimePoint>,
    /// Radio, cells and churn records (a cells topology only).
    pub physical: Option<PhysicalOutput>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error("network: {0}")]
    Net(#[from] NetError),
    #[error("event queue: {0}")]
    Queue(#[from] QueueError),
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
    Sample,
    Horizon,
    /// Radio ticks, churn, compute speeds (`physical_events`).
    Physical(PhysEv),
}

pub(super) struct Engine<'a> {
    pub world: &'a World,
    pub lab: &'a mut dyn Lab,
    pub q: EventQueue<Ev>,
    pub net: Network,
    pub users: Vec<UserState>,
    pub pairs: Vec<PairState>,
    /// The pairs each user takes part in (as TX or RX).
    pub pairs_of: Vec<Vec<usize>>,
    pub episodes: Vec<EpisodeRecord>,
    pub events: Vec<EventRecord>,
    pub service: ServiceQueues,
    /// Flows in flight: which pair's transfer, which way.
    pub flows: HashMap<FlowId, (usize, Dir)>,
    pub score: DetectionScore,
    pub metrics: Metrics,
    pub handled: usize,
    pub phys: PhysState,
}

/// Runs the world's network to its horizon. `progress(now_s)` is called
/// as simulated time advances.
pub fn run(world: &World, lab: &mut dyn Lab, mut progress: impl FnMut(f64)) -> Result<RunOutput, EngineError> {
    let mut e = Engine::new(world, lab)?;
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
    fn new(world: &'a World, lab: &'a mut dyn Lab) -> Result<Engine<'a>, EngineError> {
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
        let mut pairs_of = vec![Vec::new(); users.len()];
        let mut pairs = Vec::new();
        for (i, p) in world.pairs.iter().enumerate() {
            let (down, up) = world.pair_routes(&net, i)?;
            pairs_of[p.tx].push(i);
            pairs_of[p.rx].push(i);
            let (t, r) = (&world.users[p.tx], &world.users[p.rx]);
            let monitor = match s.detection {
                DetectionRule::Monitor { window, threshold } => Some(Monitor::new(window, threshold)),
                DetectionRule::Oracle { .. } => None,
            };
            pairs.push(PairState {
                tx: p.tx,
                rx: p.rx,
                rate_hz: p.rate_hz,
                down,
                up,
                // Users of one profile hold one jointly trained transceiver.
                aligned: (t.profile == r.profile).then_some(0),
                episodes: 0,
                aligned_job: None,
                open: None,
                serving: None,
                monitor,
                rng: stream(s.seed, "messages", &[&t.name, &r.name]),
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
            q: EventQueue::new(),
            net,
            users,
            pairs,
            pairs_of,
            episodes: Vec::new(),
            events: Vec::new(),
            service: ServiceQueues::new(n, s.policy, stream(s.seed, "service-order", &[])),
            flows: HashMap::new(),
            score: DetectionScore::default(),
            metrics: Metrics::default(),
            handled: 0,
            phys: PhysState::new(world),
        })
    }

    /// Records an event.
    pub fn log(&mut self, t: SimTime, event: EventKind) -> &mut EventRecord {
        self.events.push(EventRecord::new(t, event));
        self.events.last_mut().expect("just pushed")
    }

    /// Records an event of pair `p` (its users and open episode).
    pub fn log_pair(&mut self, t: SimTime, event: EventKind, p: usize) -> &mut EventRecord {
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
        self.physical_start()?;
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
                self.log_pair(now, EventKind::MessageReceived, pair);
                self.observe(now, pair, message)
            }
            Ev::Detect { pair, episode } => self.oracle_detects(now, pair, episode),
            Ev::FlowStart { pair, dir, bytes } => self.flow_start(now, pair, dir, bytes),
            Ev::NetCheck { epoch } => self.net_check(now, epoch),
            Ev::FinetuneStarted { pair } => {
                self.finetune_started(now, pair);
                Ok(())
            }
            Ev::FinetuneFinished { pair } => self.finetune_finished(now, pair),
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

    fn finish(mut self) -> RunOutput {
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
        let aggregate = aggregate(&self.episodes, counts);
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
                hops: pr.up.links.len(),
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
            episodes: self.episodes,
            aggregate,
            world: physical.as_ref().map(|p| p.summary.clone()),
        };
        RunOutput { summary, events: self.events, timeseries: self.metrics.timeseries, physical }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
