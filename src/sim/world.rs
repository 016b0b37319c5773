//! The population a scenario describes, expanded and resolved: users with
//! their compute budgets, the links between them, the (TX, RX) pairs that
//! exchange messages, the timed changes, and everything the event loop needs
//! from the scenario (policy, detection, fidelity, times in ns, one resolved
//! fine-tuning per TX profile), so the loop never reads the scenario. Built
//! before anything runs, so a name that does not resolve or a TX cut off
//! from its RX is reported (with the field path) before any model is loaded.

use std::collections::BTreeMap;

use rand::Rng;
use rand_distr::{Distribution, LogNormal};

use super::core::{
    components, edge, generate, secs_to_ns, EdgeParams, LinkSpec, NetError, Network, RouteTable, SimTime, TopologyKind,
};
use super::lab::AlignJob;
use super::physical_world::{build_cells, check_pairs, resolve_churn, Churn, PhysicalWorld};
use crate::align::cost::{method_cost, split_learning_plan};
use crate::align::Method;
use crate::scenario::{
    Change, ComputeSpec, DetectionRule, Fidelity, LinkParams, Order, PolicyMethod, RatePer, Scenario, TopologyShape,
};
use crate::seed::stream;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub name: String,
    pub group: String,
    /// Index into `Scenario::profiles` of the transceiver it starts with.
    pub profile: usize,
    pub flops_per_s: f64,
    /// When it enters the network (its first `join`, else 0).
    pub join: SimTime,
}

/// TX `tx` sends messages to RX `rx` at `rate_hz` (Poisson).
#[derive(Debug, Clone, PartialEq)]
pub struct PairSpec {
    pub tx: usize,
    pub rx: usize,
    pub rate_hz: f64,
}

/// What a timed change does to its user, names resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UserChange {
    Join,
    /// It now sends over channel ε.
    Channel {
        epsilon: f64,
    },
    /// It now holds this profile's data.
    Data {
        profile: usize,
    },
}

/// A change resolved to one user.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedChange {
    pub at: SimTime,
    pub user: usize,
    pub change: UserChange,
    /// Index in `network.dynamics` (events name it).
    pub source: usize,
}

/// What the loop needs of a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileInfo {
    pub name: String,
    /// The channel ε it was trained for (a user's ε until a change).
    pub epsilon: f64,
    /// L, the decoder's layer count.
    pub decoder_layers: usize,
    /// Its fine-tuning when it is TX (policy method, budget, cost for its
    /// model); under the adaptive policy, its first candidate (SLF ℓ = 0, the
    /// largest transfer), which bounds the others.
    pub job: AlignJob,
    /// The adaptive policy's candidates for it as TX (empty for a fixed method).
    pub candidates: Vec<AlignJob>,
    /// The data set of its local data (the adaptive policy's calibration kind).
    pub dataset: crate::data::DatasetKind,
    /// What the escalating policy's pilot check of its alignments costs.
    pub check: super::escalate::CheckCost,
}

/// How RXs serve detected misalignments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServicePolicy {
    pub order: Order,
    /// Alignments an RX serves at once (0: no limit).
    pub max_concurrent: usize,
}

/// The scenario's settings, resolved for the loop.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    pub scenario: String,
    pub seed: u64,
    pub profiles: Vec<ProfileInfo>,
    pub detection: DetectionRule,
    pub policy: ServicePolicy,
    /// The policy method's label (`summary.json`).
    pub method: String,
    /// The adaptive policy's target (None: a fixed method).
    pub adaptive: Option<crate::scenario::AdaptiveTarget>,
    /// The adaptive policy's calibration file, read (`run --calibration`; empty: none).
    pub calibration: super::adaptive::FileCalibration,
    /// The escalating policy's target accuracy (None: another method).
    pub escalate: Option<f64>,
    pub fidelity: Fidelity,
    pub horizon: SimTime,
    /// The horizon as written (reported as is).
    pub horizon_s: f64,
    /// Spacing of `timeseries.csv` rows.
    pub sample_step: SimTime,
    /// Distinct test messages per link (`eval.test_images`).
    pub messages: usize,
}

#[derive(Debug, Clone)]
pub struct World {
    pub users: Vec<User>,
    /// Network nodes: the users (0..users.len()), then relay nodes (a star's hub).
    pub nodes: usize,
    pub links: Vec<LinkSpec>,
    pub pairs: Vec<PairSpec>,
    pub changes: Vec<TimedChange>,
    pub settings: RunSettings,
    /// Radio, stations, mobility (a cells topology only).
    pub physical: Option<PhysicalWorld>,
    pub churn: Churn,
}

type Invalid = (String, String);

impl World {
    pub fn network(&self) -> Network {
        Network::new(self.nodes, &self.links).expect("links were validated when the world was built")
    }

    /// Every pair's routes: route 2p is pair p's download (RX -> TX), 2p + 1
    /// its upload (TX -> RX). The lowest-latency routes (one shortest-path
    /// tree per source), or a cells topology's radio routes.
    pub fn route_table(&self, net: &Network) -> Result<RouteTable, NetError> {
        match &self.physical {
            Some(ph) => {
                let mut table = RouteTable::default();
                for pr in &self.pairs {
                    let (down, up) = ph.routes(net, pr.tx, pr.rx)?;
                    table.push(&down);
                    table.push(&up);
                }
                Ok(table)
            }
            None => {
                let requests: Vec<(usize, usize)> =
                    self.pairs.iter().flat_map(|p| [(p.rx, p.tx), (p.tx, p.rx)]).collect();
                net.graph().route_table(&requests)
            }
        }
    }

    /// Users matched by a selector: a user name, a group name or "*".
    fn select(&self, sel: &str) -> Vec<usize> {
        if sel == "*" {
            return (0..self.users.len()).collect();
        }
        self.users.iter().enumerate().filter(|(_, u)| u.name == sel || u.group == sel).map(|(i, _)| i).collect()
    }
}

fn member_name(group: &str, count: usize, i: usize) -> String {
    if count == 1 {
        group.to_string()
    } else {
        format!("{group}{i}")
    }
}

fn draw_compute(spec: &ComputeSpec, seed: u64, user: &str) -> f64 {
    let mut rng = stream(seed, "compute", &[user]);
    match *spec {
        ComputeSpec::Fixed(v) => v,
        ComputeSpec::Uniform(lo, hi) if hi > lo => rng.random_range(lo..=hi),
        ComputeSpec::Uniform(lo, _) => lo,
        ComputeSpec::LogNormal { median, sigma } => {
            LogNormal::new(median.ln(), sigma).map(|d| d.sample(&mut rng)).unwrap_or(median)
        }
    }
}

/// Expands and checks the scenario's network. Errors are (field path, message).
pub fn build(sc: &Scenario) -> Result<World, Invalid> {
    let net = &sc.network;
    if net.users.is_empty() {
        return Err((
            "network.users".into(),
            "no users: `slfsim run` needs a network section with at least two users".into(),
        ));
    }
    // Sizes from the specification, before anything is allocated.
    crate::scenario::limits::check_size(sc, &crate::scenario::limits::Limits::current())?;
    let mut users = Vec::new();
    let profile_of =
        |field: String, name: &str| sc.profile_index(name).ok_or_else(|| (field, format!("no profile named {name:?}")));
    for (gi, g) in net.users.iter().enumerate() {
        let profile = profile_of(format!("network.users[{gi}].profile"), &g.profile)?;
        for i in 0..g.count {
            let name = member_name(&g.name, g.count, i);
            users.push(User {
                flops_per_s: draw_compute(&g.compute, sc.seed, &name),
                name,
                group: g.name.clone(),
                profile,
                join: 0,
            });
        }
    }
    // A user name must not shadow another user or a group.
    let mut seen = BTreeMap::new();
    for (i, u) in users.iter().enumerate() {
        if let Some(j) = seen.insert(u.name.clone(), i) {
            return Err((
                "network.users".into(),
                format!("user name {:?} is produced twice (by groups {:?} and {:?})", u.name, users[j].group, u.group),
            ));
        }
    }
    for g in &net.users {
        if g.count > 1 && seen.contains_key(&g.name) {
            return Err(("network.users".into(), format!("group name {:?} is also a user's name", g.name)));
        }
    }
    let nodes = users.len();
    let mut settings = settings(sc);
    settings.calibration = read_calibration(sc, &settings.profiles)?;
    let mut world = World {
        users,
        nodes,
        links: Vec::new(),
        pairs: Vec::new(),
        changes: Vec::new(),
        settings,
        physical: None,
        churn: Churn::default(),
    };
    let n = world.users.len();

    // Topology. `seen` indexes users by name.
    let idx = |field: String, name: &str| seen.get(name).copied().ok_or((field, format!("no user named {name:?}")));
    let kind = match &net.topology.kind {
        TopologyShape::Star { center, .. } => {
            TopologyKind::Star { center: idx("network.topology.kind.center".into(), center)? }
        }
        TopologyShape::Complete => TopologyKind::Complete,
        TopologyShape::RandomGeometric { radius } => TopologyKind::RandomGeometric { radius: *radius },
        TopologyShape::ErdosRenyi { p } => TopologyKind::ErdosRenyi { p: *p },
        TopologyShape::Explicit { edges } => {
            let mut v = Vec::new();
            for (i, e) in edges.iter().enumerate() {
                let a = idx(format!("network.topology.kind.edges[{i}].a"), &e.a)?;
                let b = idx(format!("network.topology.kind.edges[{i}].b"), &e.b)?;
                if a == b {
                    return Err((
                        format!("network.topology.kind.edges[{i}]"),
                        format!("an edge from {:?} to itself", e.a),
                    ));
                }
                v.push((a, b));
            }
            TopologyKind::Explicit { edges: v }
        }
        // Laid out by `build_cells` below.
        TopologyShape::Cells { .. } => TopologyKind::Explicit { edges: Vec::new() },
    };
    let mut rng = stream(sc.seed, "topology", &[]);
    let mut links = generate(&kind, n, &edge_params(&net.topology.link), &mut rng)
        .map_err(|e| crate::scenario::nested("network.topology.kind", e))?;
    match &net.topology.kind {
        TopologyShape::Star { shared, .. } => {
            // Each leaf's access link may come from its group.
            for l in &mut links {
                let leaf = &world.users[l.b];
                if let Some(p) = net.users.iter().find(|g| g.name == leaf.group).and_then(|g| g.link) {
                    *l = edge(l.a, l.b, &edge_params(&p));
                }
            }
            if let (Some(s), Some(first)) = (shared, links.first().copied()) {
                // centre -> hub (shared) -> leaves: the hub is node n.
                let hub = n;
                for l in &mut links {
                    l.a = hub;
                }
                links.push(edge(first.a, hub, &edge_params(s)));
                world.nodes = n + 1;
            }
        }
        TopologyShape::Explicit { edges } => {
            for (l, e) in links.iter_mut().zip(edges) {
                if let Some(p) = e.link {
                    *l = edge(l.a, l.b, &edge_params(&p));
                }
            }
        }
        _ => {}
    }
    world.links = links;
    build_cells(sc, &mut world)?;
    Network::new(world.nodes, &world.links).map_err(|e| ("network.topology".into(), e.to_string()))?;

    // Traffic: pairs in a deterministic order; a pair named twice adds rates.
    // Connectivity and neighbours are computed once, not per pair.
    let mut pairs: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    let component = components(world.nodes, &world.links);
    let mut neighbours = vec![Vec::new(); world.nodes];
    for l in &world.links {
        neighbours[l.a].push(l.b);
        neighbours[l.b].push(l.a);
    }
    for v in &mut neighbours {
        v.sort_unstable();
        v.dedup();
    }
    let mut in_to = vec![false; n];
    for (i, t) in net.traffic.iter().enumerate() {
        let at = format!("network.traffic[{i}]");
        let from = world.select(&t.from);
        let to = world.select(&t.to);
        if from.is_empty() {
            return Err((format!("{at}.from"), format!("no user or group named {:?}", t.from)));
        }
        if to.is_empty() {
            return Err((format!("{at}.to"), format!("no user or group named {:?}", t.to)));
        }
        for &b in &to {
            in_to[b] = true;
        }
        for &a in &from {
            // `to` is in ascending order, and so are the neighbour lists.
            let dests: Vec<usize> = if t.neighbours_only {
                neighbours[a].iter().copied().filter(|&b| b < n && b != a && in_to[b]).collect()
            } else {
                to.iter().copied().filter(|&b| b != a).collect()
            };
            let rate = match t.per {
                RatePer::Pair => t.rate_hz,
                RatePer::User => t.rate_hz / dests.len().max(1) as f64,
            };
            for b in dests {
                if world.users[a].profile_model_differs(&world.users[b], sc) {
                    return Err((
                        at,
                        format!(
                            "{} and {} use models of different sizes or colour modes; they cannot talk",
                            world.users[a].name, world.users[b].name
                        ),
                    ));
                }
                // Every user of a cells topology reaches every station by radio.
                if world.physical.is_none() && component[a] != component[b] {
                    return Err((
                        at,
                        format!(
                            "{} and {} are not connected in the topology",
                            world.users[a].name, world.users[b].name
                        ),
                    ));
                }
                *pairs.entry((a, b)).or_insert(0.0) += rate;
            }
        }
        for &b in &to {
            in_to[b] = false;
        }
    }
    if pairs.is_empty() {
        return Err(("network.traffic".into(), "no (TX, RX) pair exchanges messages".into()));
    }
    world.pairs = pairs.into_iter().map(|((tx, rx), rate_hz)| PairSpec { tx, rx, rate_hz }).collect();
    check_pairs(&world)?;

    // Dynamics: groups expand to their members; a user's first join sets its arrival.
    let mut changes = Vec::new();
    for (i, d) in net.dynamics.iter().enumerate() {
        let who = world.select(d.change.user());
        if who.is_empty() || d.change.user() == "*" && matches!(d.change, Change::Join { .. }) {
            return Err((
                format!("network.dynamics[{i}].change.user"),
                format!("no user or group named {:?}", d.change.user()),
            ));
        }
        let change = match &d.change {
            Change::Join { .. } => UserChange::Join,
            Change::Channel { epsilon, .. } => UserChange::Channel { epsilon: *epsilon },
            Change::Data { profile, .. } => {
                UserChange::Data { profile: profile_of(format!("network.dynamics[{i}].change.profile"), profile)? }
            }
        };
        if let UserChange::Data { profile } = change {
            let p = &sc.profiles[profile];
            for &u in &who {
                if p.image_channels() != sc.profiles[world.users[u].profile].image_channels() {
                    return Err((
                        format!("network.dynamics[{i}].change.profile"),
                        format!("{:?} has another colour mode than {}", p.name, world.users[u].name),
                    ));
                }
            }
        }
        for u in who {
            changes.push(TimedChange { at: secs_to_ns(d.at_s), user: u, change, source: i });
        }
    }
    changes.sort_by_key(|c| (c.at, c.source, c.user));
    // Sorted by time, so the first join seen is the earliest.
    let mut joined = vec![false; n];
    for c in &changes {
        if c.change == UserChange::Join && !joined[c.user] {
            joined[c.user] = true;
            world.users[c.user].join = c.at;
        }
    }
    world.changes = changes;
    resolve_churn(sc, &mut world)?;
    super::bounds::check_durations(&world)?;
    Ok(world)
}

impl User {
    fn profile_model_differs(&self, other: &User, sc: &Scenario) -> bool {
        let (a, b) = (&sc.profiles[self.profile], &sc.profiles[other.profile]);
        a.model != b.model || a.image_channels() != b.image_channels()
    }
}

fn edge_params(l: &LinkParams) -> EdgeParams {
    EdgeParams { down_bps: l.down_bps, up_bps: l.up_bps, latency_s: l.latency_s }
}

/// The adaptive policy's calibration file, if the scenario names one.
fn read_calibration(sc: &Scenario, profiles: &[ProfileInfo]) -> Result<super::adaptive::FileCalibration, Invalid> {
    let Some(file) = &sc.network.policy.calibration else { return Ok(Default::default()) };
    let at = "network.policy.calibration";
    if !matches!(sc.network.policy.method, PolicyMethod::Adaptive { .. }) {
        return Err((at.into(), "only the adaptive policy reads a calibration file".into()));
    }
    let mut labels: Vec<String> = profiles.iter().flat_map(|p| p.candidates.iter().map(|j| j.method.label())).collect();
    labels.sort();
    labels.dedup();
    let text = crate::bounded::read_text(file, 16 << 20)
        .map_err(|e| (at.to_string(), format!("cannot read {}: {e}", file.display())))?;
    super::adaptive::parse_calibration(&text, file, &labels).map_err(|e| (at.to_string(), e.to_string()))
}

/// Everything the loop reads of the scenario besides the population.
fn settings(sc: &Scenario) -> RunSettings {
    let net = &sc.network;
    let b = &sc.align.budget;
    let policy = net.policy.method;
    let profiles = sc
        .profiles
        .iter()
        .map(|p| {
            let job = |method: Method| AlignJob {
                method,
                budget: b.clone(),
                // Bytes of slf / encoder-only / retrain do not depend on the steps run.
                cost: method_cost(&p.model, p.image_channels(), &method, b.steps, b.batch_size, &sc.align.cost),
                split: matches!(method, Method::SplitLearning)
                    .then(|| split_learning_plan(&p.model, p.image_channels(), b.batch_size)),
            };
            let mut jobs: Vec<AlignJob> = policy.candidates(p.model.decoder_layers()).into_iter().map(job).collect();
            let first = jobs[0].clone();
            if policy.fixed().is_some() {
                jobs.clear();
            }
            ProfileInfo {
                name: p.name.clone(),
                epsilon: p.channel.epsilon,
                decoder_layers: p.model.decoder_layers(),
                job: first,
                candidates: jobs,
                dataset: p.data.dataset,
                check: super::escalate::check_cost(&p.model, p.image_channels()),
            }
        })
        .collect();
    let horizon = secs_to_ns(net.horizon_s);
    RunSettings {
        scenario: sc.name.clone(),
        seed: sc.seed,
        profiles,
        detection: net.detection.clone(),
        policy: ServicePolicy { order: net.policy.order, max_concurrent: net.policy.max_concurrent },
        method: policy.label(),
        adaptive: match policy {
            PolicyMethod::Adaptive { target } => Some(target),
            PolicyMethod::Fixed(_) | PolicyMethod::Escalate { .. } => None,
        },
        calibration: Default::default(),
        escalate: match policy {
            PolicyMethod::Escalate { target_accuracy } => Some(target_accuracy),
            PolicyMethod::Fixed(_) | PolicyMethod::Adaptive { .. } => None,
        },
        fidelity: net.fidelity,
        horizon,
        horizon_s: net.horizon_s,
        sample_step: if net.sample_s > 0.0 { secs_to_ns(net.sample_s) } else { (horizon / 200).max(1) },
        messages: sc.eval.test_images,
    }
}
