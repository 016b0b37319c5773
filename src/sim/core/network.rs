//! Flows on a directed graph of links, sharing bandwidth max-min fairly,
//! updated incrementally.
//!
//! See `NETWORK.md` beside this file for the model and the hand-computed
//! test cases. Every arrival (`activate`) or departure (`complete`) changes
//! the rates of the flows connected to it through shared links only
//! (`sharing`: same rates, bit for bit, as progressive filling over all
//! flows), and moves only the virtual clocks of the rate groups whose rate
//! changed (`clocks`); `epoch()` is bumped so the caller can drop completion
//! events computed earlier. Predicted finish times agree with the reference
//! (`reference::ReferenceNetwork`, which recomputes everything at every
//! change) to the ns, or within 1 ns where float rounding of the lazily
//! accounted remaining bits differs (proptest in `network_tests.rs`).

use serde::{Deserialize, Serialize};

use super::clocks::{Clocks, NONE};
use super::error::NetError;
use super::links::{Graph, Link, LinkId, LinkSpec, Route};
use super::sharing::{Member, Sharing};
use super::time::SimTime;

/// Remaining work below this many bits is floating-point residue: the flow is done.
/// (Flows carry whole bytes, so real work left is never a fraction of a bit
/// unless the flow is mid-byte; finishing such a flow at most one bit-time early
/// is far below every other modelling error here.)
pub const DONE_BITS: f64 = 1.0;

/// A flow, numbered from 0 in activation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FlowId(pub u64);

/// A finished flow, as returned by `Network::complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowDone {
    pub id: FlowId,
    pub bytes: u64,
    /// Activation time (when it started competing for bandwidth).
    pub started: SimTime,
    pub finished: SimTime,
}

#[derive(Debug, Clone, Default)]
struct Flow {
    id: u64,
    links: Box<[LinkId]>,
    bytes: u64,
    started: SimTime,
    /// Its class (flows with the same shared links); NONE: it shares no link.
    class: u32,
    /// Its slowest private link: (capacity, link id); (+inf, NONE) if none.
    cap: f64,
    cap_link: u32,
    group: u32,
    v_end: f64,
    /// In a group of its own, at its cap.
    capped: bool,
    mark: u32,
}

impl Flow {
    fn member(&self, slot: u32) -> Member {
        (self.cap.to_bits(), self.cap_link, self.id, slot)
    }
}

/// Links, routing and the flows currently sharing them.
#[derive(Debug, Clone)]
pub struct Network {
    graph: Graph,
    capacity: Vec<f64>,
    /// Flows on each link, and the slot of the flow when there is one.
    count: Vec<u32>,
    sole: Vec<u32>,
    flows: Vec<Flow>,
    free: Vec<u32>,
    /// Slot of each FlowId (NONE once finished).
    slot_of: Vec<u32>,
    active: usize,
    sharing: Sharing,
    clocks: Clocks,
    next_flow: u64,
    /// Time of the last change or `advance_to`.
    updated: SimTime,
    epoch: u64,
    mark: u32,
    /// Scratch: classes to refill, flows to reclassify.
    dirty: Vec<u32>,
    moved: Vec<u32>,
}

impl Network {
    pub fn new(n_nodes: usize, specs: &[LinkSpec]) -> Result<Network, NetError> {
        let graph = Graph::new(n_nodes, specs)?;
        let n = graph.links().len();
        Ok(Network {
            capacity: graph.links().iter().map(|l| l.rate_bps).collect(),
            graph,
            count: vec![0; n],
            sole: vec![NONE; n],
            flows: Vec::new(),
            free: Vec::new(),
            slot_of: Vec::new(),
            active: 0,
            sharing: Sharing::new(n),
            clocks: Clocks::default(),
            next_flow: 0,
            updated: 0,
            epoch: 0,
            mark: 0,
            dirty: Vec::new(),
            moved: Vec::new(),
        })
    }

    pub fn n_nodes(&self) -> usize {
        self.graph.n_nodes()
    }

    pub fn links(&self) -> &[Link] {
        self.graph.links()
    }

    pub fn link(&self, id: LinkId) -> Option<&Link> {
        self.graph.link(id)
    }

    /// The graph the flows run on (for routing).
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Shortest path by total latency (see `routing`).
    pub fn route(&self, src: usize, dst: usize) -> Result<Route, NetError> {
        self.graph.route(src, dst)
    }

    /// Starts a flow of `bytes` over `links` at `now` (it competes for
    /// bandwidth from `now` on; add the route latency before calling to model
    /// propagation). A zero-byte flow, or one with no links, completes at
    /// `now`: `next_completion` returns it at once and the caller still calls
    /// `complete` for it. Updates the rates it affects and bumps the epoch.
    pub fn activate(&mut self, now: SimTime, links: &[LinkId], bytes: u64) -> Result<FlowId, NetError> {
        for (i, &l) in links.iter().enumerate() {
            if l.0 >= self.graph.links().len() {
                return Err(NetError::UnknownLink(l));
            }
            // A repeated link would be counted twice in the sharing.
            if links[..i].contains(&l) {
                return Err(NetError::RepeatedLink(l));
            }
        }
        self.advance_to(now)?;
        let id = self.next_flow;
        self.next_flow += 1;
        let flow = Flow { id, links: links.into(), bytes, started: now, class: NONE, group: NONE, ..Flow::default() };
        let slot = match self.free.pop() {
            Some(s) => {
                self.flows[s as usize] = flow;
                s
            }
            None => {
                self.flows.push(flow);
                (self.flows.len() - 1) as u32
            }
        };
        self.slot_of.push(slot);
        self.active += 1;
        self.moved.clear();
        for &l in links {
            let c = &mut self.count[l.0];
            *c += 1;
            match *c {
                1 => self.sole[l.0] = slot,
                // Its only flow so far now shares the link.
                2 => self.moved.push(self.sole[l.0]),
                _ => {}
            }
        }
        // No link to cross: delivered at once (rate +inf).
        let bits = if links.is_empty() { 0.0 } else { bytes as f64 * 8.0 };
        self.dirty.clear();
        self.attach(slot, now, bits);
        self.reclassify(now);
        self.settle(now);
        Ok(FlowId(id))
    }

    /// Changes link rates at `now` (a radio link following its SNR). Flows
    /// keep the bits sent so far at the old rates; only what the changed
    /// links touch is refilled: a flow alone on a changed link is re-attached
    /// (its cap is its slowest private link), the classes sharing a changed
    /// link are refilled. Bumps the epoch.
    pub fn set_rates(&mut self, now: SimTime, rates: &[(LinkId, f64)]) -> Result<(), NetError> {
        // All checked before any is set: an error leaves the network as it was.
        for &(id, r) in rates {
            self.graph.check_rate(id, r)?;
        }
        self.advance_to(now)?;
        self.dirty.clear();
        self.moved.clear();
        for &(id, r) in rates {
            self.graph.set_rate(id, r)?;
            let l = id.0;
            self.capacity[l] = r;
            match self.count[l] {
                0 => {}
                1 => self.moved.push(self.sole[l]),
                _ => self.dirty.extend_from_slice(&self.sharing.on_link[l]),
            }
        }
        self.reclassify(now);
        self.settle(now);
        Ok(())
    }

    /// Accounts time up to `now` (progress is computed lazily from the
    /// rate groups' clocks, so this only checks and records the time).
    /// Rates and predicted finish times do not change (no epoch bump).
    pub fn advance_to(&mut self, now: SimTime) -> Result<(), NetError> {
        if now < self.updated {
            return Err(NetError::TimeWentBackwards { now, last: self.updated });
        }
        self.updated = now;
        Ok(())
    }

    /// The earliest predicted finish, ties by lowest FlowId.
    pub fn next_completion(&self) -> Option<(SimTime, FlowId)> {
        self.clocks.next().map(|(t, id)| (t, FlowId(id)))
    }

    /// Removes a finished flow and updates the rates it affected (bumps the
    /// epoch). Errors if the flow is unknown or, at `now`, still has
    /// `DONE_BITS` or more to send (a stale completion event).
    pub fn complete(&mut self, now: SimTime, id: FlowId) -> Result<FlowDone, NetError> {
        let slot = self.slot(id).ok_or(NetError::UnknownFlow(id))?;
        self.advance_to(now)?;
        let f = &self.flows[slot as usize];
        let remaining_bits = self.clocks.remaining(f.group, f.v_end, now);
        if remaining_bits >= DONE_BITS {
            return Err(NetError::NotFinished { id, now, remaining_bits });
        }
        self.dirty.clear();
        self.moved.clear();
        self.detach(slot, now);
        let f = std::mem::take(&mut self.flows[slot as usize]);
        for &l in f.links.iter() {
            let l = l.0;
            self.count[l] -= 1;
            match self.count[l] {
                0 => self.sole[l] = NONE,
                1 => {
                    // The flow left alone on the link: in the one class on it that has members.
                    let c = self.sharing.on_link[l]
                        .iter()
                        .copied()
                        .find(|&c| !self.sharing.classes[c as usize].members.is_empty())
                        .expect("a shared link's other flow is in a class on it");
                    let g = self.sharing.classes[c as usize].members.first().expect("non-empty").3;
                    self.sole[l] = g;
                    self.moved.push(g);
                }
                _ => self.dirty.extend_from_slice(&self.sharing.on_link[l]),
            }
        }
        self.free.push(slot);
        self.slot_of[id.0 as usize] = NONE;
        self.active -= 1;
        self.reclassify(now);
        self.settle(now);
        Ok(FlowDone { id, bytes: f.bytes, started: f.started, finished: now })
    }

    /// Current rates in bit/s, in FlowId order (+inf for an empty route).
    pub fn rates(&self) -> Vec<(FlowId, f64)> {
        (0..self.next_flow).filter_map(|i| self.rate(FlowId(i)).map(|r| (FlowId(i), r))).collect()
    }

    pub fn rate(&self, id: FlowId) -> Option<f64> {
        self.slot(id).map(|s| self.clocks.rate(self.flows[s as usize].group))
    }

    pub fn flow_links(&self, id: FlowId) -> Option<&[LinkId]> {
        self.slot(id).map(|s| &*self.flows[s as usize].links)
    }

    /// Bits left as of the last update (`advance_to`, `activate` or `complete`).
    pub fn remaining_bits(&self, id: FlowId) -> Option<f64> {
        self.slot(id).map(|s| {
            let f = &self.flows[s as usize];
            self.clocks.remaining(f.group, f.v_end, self.updated)
        })
    }

    /// The rate a new flow on `links` would get at once if every link's
    /// capacity were split equally among its flows and the newcomer: a
    /// forecast, not max-min sharing (which may give it more where other
    /// flows are held back elsewhere), in bit/s; +inf for an empty route.
    pub fn newcomer_rate(&self, links: &[LinkId]) -> f64 {
        links.iter().map(|l| self.capacity[l.0] / (self.count[l.0] as f64 + 1.0)).fold(f64::INFINITY, f64::min)
    }

    /// Number of active flows.
    pub fn active(&self) -> usize {
        self.active
    }

    /// Increments on every change (each `activate` and `complete`).
    /// A completion event scheduled under an older epoch may be stale: store
    /// the epoch in the event, and on pop ignore it if it differs from this,
    /// then schedule a fresh event from `next_completion`.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Heap bytes held, roughly (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        let links: usize = self.flows.iter().map(|f| f.links.len()).sum();
        self.flows.capacity() * std::mem::size_of::<Flow>()
            + links * std::mem::size_of::<LinkId>()
            + self.slot_of.capacity() * 4
            + self.capacity.capacity() * 16
            + self.sharing.heap_bytes()
            + self.clocks.heap_bytes()
    }

    fn slot(&self, id: FlowId) -> Option<u32> {
        self.slot_of.get(id.0 as usize).copied().filter(|&s| s != NONE)
    }

    /// Puts a flow with `remaining` bits into its class (by the links it
    /// shares now) or, sharing none, into a group of its own at its cap.
    fn attach(&mut self, slot: u32, now: SimTime, remaining: f64) {
        let mut key: Vec<u32> = Vec::new();
        let (mut cap, mut cap_link) = (f64::INFINITY, NONE);
        for &l in self.flows[slot as usize].links.iter() {
            if self.count[l.0] >= 2 {
                key.push(l.0 as u32);
            } else if (self.capacity[l.0], l.0 as u32) < (cap, cap_link) {
                (cap, cap_link) = (self.capacity[l.0], l.0 as u32);
            }
        }
        key.sort_unstable();
        let f = &mut self.flows[slot as usize];
        (f.cap, f.cap_link, f.capped) = (cap, cap_link, false);
        let id = f.id;
        if key.is_empty() {
            // Alone on every link: its slowest link's rate (+inf with no link).
            f.class = NONE;
            let g = self.clocks.create(cap, now);
            f.group = g;
            f.v_end = self.clocks.insert(g, now, id, slot, remaining);
            return;
        }
        let clocks = &mut self.clocks;
        let (c, _) = self.sharing.class_for(&key, || clocks.create(0.0, now));
        let class = &mut self.sharing.classes[c as usize];
        class.members.insert(f.member(slot));
        f.class = c;
        f.group = class.shared;
        f.v_end = self.clocks.insert(class.shared, now, id, slot, remaining);
        self.dirty.push(c);
    }

    /// Takes a flow out of its group and class; returns its remaining bits.
    fn detach(&mut self, slot: u32, now: SimTime) -> f64 {
        let f = &self.flows[slot as usize];
        let rem = self.clocks.remove(f.group, now, f.id, slot, f.v_end);
        if f.class == NONE || f.capped {
            self.clocks.release(f.group);
        }
        if f.class != NONE {
            let c = f.class;
            let class = &mut self.sharing.classes[c as usize];
            class.members.remove(&f.member(slot));
            if f.capped {
                class.capped.retain(|&s| s != slot);
            }
            if class.members.is_empty() {
                let g = self.sharing.remove_class(c);
                self.clocks.release(g);
            } else {
                self.dirty.push(c);
            }
        }
        let f = &mut self.flows[slot as usize];
        (f.class, f.group, f.capped) = (NONE, NONE, false);
        rem
    }

    /// Moves the flows in `moved` (whose links changed between shared and
    /// private) to their new classes.
    fn reclassify(&mut self, now: SimTime) {
        let mut moved = std::mem::take(&mut self.moved);
        moved.sort_unstable();
        moved.dedup();
        for &s in &moved {
            let rem = self.detach(s, now);
            self.attach(s, now, rem);
        }
        self.moved = moved;
    }

    /// Refills the dirty components, moves members between their class's
    /// group and groups of their own as caps start or stop binding, sets the
    /// groups' new rates, and re-predicts what changed.
    fn settle(&mut self, now: SimTime) {
        let dirty = std::mem::take(&mut self.dirty);
        self.sharing.fill(&dirty, &self.count, &self.capacity);
        self.dirty = dirty;
        for i in 0..self.sharing.comp.len() {
            let c = self.sharing.comp[i];
            self.mark = self.mark.wrapping_add(1);
            let mark = self.mark;
            let class = &self.sharing.classes[c as usize];
            let n = class.n_capped as usize;
            let shared = class.shared;
            let now_capped: Vec<u32> = class.members.iter().take(n).map(|m| m.3).collect();
            let was_capped = std::mem::take(&mut self.sharing.classes[c as usize].capped);
            for &s in &now_capped {
                self.flows[s as usize].mark = mark;
                if !self.flows[s as usize].capped {
                    let f = &self.flows[s as usize];
                    let rem = self.clocks.remove(shared, now, f.id, s, f.v_end);
                    let g = self.clocks.create(f.cap, now);
                    let v_end = self.clocks.insert(g, now, f.id, s, rem);
                    let f = &mut self.flows[s as usize];
                    (f.group, f.v_end, f.capped) = (g, v_end, true);
                }
            }
            for &s in &was_capped {
                if self.flows[s as usize].mark != mark {
                    let f = &self.flows[s as usize];
                    let rem = self.clocks.remove(f.group, now, f.id, s, f.v_end);
                    self.clocks.release(f.group);
                    let v_end = self.clocks.insert(shared, now, f.id, s, rem);
                    let f = &mut self.flows[s as usize];
                    (f.group, f.v_end, f.capped) = (shared, v_end, false);
                }
            }
            let class = &mut self.sharing.classes[c as usize];
            class.capped = now_capped;
            if let Some(rate) = class.rate {
                self.clocks.set_rate(shared, now, rate);
            }
        }
        self.epoch += 1;
        self.clocks.flush(now);
    }
}
