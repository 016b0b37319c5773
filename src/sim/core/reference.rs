//! The reference network: flows on a directed graph of links, sharing
//! bandwidth max-min fairly, recomputed from scratch at every change.
//!
//! This is the simulator's network as it was up to issue 11, kept as the
//! oracle that `Network` (incremental, the one the engine uses) is tested
//! against, and as a baseline for benchmarks. Every arrival (`activate`) or
//! departure (`complete`) first advances all flows' progress at their old
//! rates, then recomputes all rates (`fair_share::max_min_rates`, global
//! progressive filling) and each flow's predicted finish time, and bumps
//! `epoch()`. Cost: O(F) per event at best, O(L² + F·P) in general. See
//! `NETWORK.md` for the model and the hand-computed test cases.

use std::collections::BTreeMap;

use super::error::NetError;
use super::fair_share::max_min_rates;
use super::links::{Graph, Link, LinkId, LinkSpec, Route};
use super::network::{FlowDone, FlowId, DONE_BITS};
use super::time::{ns_ceil, SimTime, NS_PER_SEC};

#[derive(Debug, Clone)]
struct Flow {
    links: Vec<LinkId>,
    bytes: u64,
    started: SimTime,
    /// Bits still to send as of `ReferenceNetwork::updated`.
    remaining_bits: f64,
    /// Current rate in bit/s; +inf for a flow with an empty route.
    rate: f64,
    /// Predicted finish time under the current rates.
    finish: SimTime,
}

/// Links, routing and the flows currently sharing them (reference version).
#[derive(Debug, Clone)]
pub struct ReferenceNetwork {
    graph: Graph,
    /// BTreeMap so every iteration (and thus every float sum) runs in FlowId order.
    flows: BTreeMap<FlowId, Flow>,
    next_flow: u64,
    /// Time up to which `remaining_bits` are accounted.
    updated: SimTime,
    epoch: u64,
}

impl ReferenceNetwork {
    pub fn new(n_nodes: usize, specs: &[LinkSpec]) -> Result<ReferenceNetwork, NetError> {
        Ok(ReferenceNetwork {
            graph: Graph::new(n_nodes, specs)?,
            flows: BTreeMap::new(),
            next_flow: 0,
            updated: 0,
            epoch: 0,
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
    /// `complete` for it. Recomputes all rates and bumps the epoch.
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
        let id = FlowId(self.next_flow);
        self.next_flow += 1;
        self.flows.insert(
            id,
            Flow {
                links: links.to_vec(),
                bytes,
                started: now,
                // No link to cross: delivered at once (rate +inf).
                remaining_bits: if links.is_empty() { 0.0 } else { bytes as f64 * 8.0 },
                rate: 0.0,
                finish: now,
            },
        );
        self.recompute(now);
        Ok(id)
    }

    /// Changes link rates at `now`: flows are first advanced at the old
    /// rates, then all rates and finish times are recomputed once (bumps the
    /// epoch).
    pub fn set_rates(&mut self, now: SimTime, rates: &[(LinkId, f64)]) -> Result<(), NetError> {
        for &(id, r) in rates {
            self.graph.check_rate(id, r)?;
        }
        self.advance_to(now)?;
        for &(id, r) in rates {
            self.graph.set_rate(id, r)?;
        }
        self.recompute(now);
        Ok(())
    }

    /// Accounts the bits sent since the last update at the current rates.
    /// Rates and predicted finish times do not change (no epoch bump).
    pub fn advance_to(&mut self, now: SimTime) -> Result<(), NetError> {
        if now < self.updated {
            return Err(NetError::TimeWentBackwards { now, last: self.updated });
        }
        let dt = now - self.updated;
        if dt > 0 {
            for f in self.flows.values_mut() {
                if f.rate.is_finite() {
                    // rate * dt before dividing keeps the hand cases exact.
                    let sent = f.rate * dt as f64 / NS_PER_SEC as f64;
                    f.remaining_bits = (f.remaining_bits - sent).max(0.0);
                } else {
                    f.remaining_bits = 0.0;
                }
            }
        }
        self.updated = now;
        Ok(())
    }

    /// The earliest predicted finish, ties by lowest FlowId.
    pub fn next_completion(&self) -> Option<(SimTime, FlowId)> {
        self.flows.iter().map(|(&id, f)| (f.finish, id)).min()
    }

    /// Removes a finished flow and recomputes the others' rates (bumps the epoch).
    /// Errors if the flow is unknown or, after accounting up to `now`, still
    /// has `DONE_BITS` or more to send (a stale completion event).
    pub fn complete(&mut self, now: SimTime, id: FlowId) -> Result<FlowDone, NetError> {
        if !self.flows.contains_key(&id) {
            return Err(NetError::UnknownFlow(id));
        }
        self.advance_to(now)?;
        let remaining_bits = self.flows[&id].remaining_bits;
        if remaining_bits >= DONE_BITS {
            return Err(NetError::NotFinished { id, now, remaining_bits });
        }
        let f = self.flows.remove(&id).expect("checked above");
        self.recompute(now);
        Ok(FlowDone { id, bytes: f.bytes, started: f.started, finished: now })
    }

    /// Current rates in bit/s, in FlowId order (+inf for an empty route).
    pub fn rates(&self) -> Vec<(FlowId, f64)> {
        self.flows.iter().map(|(&id, f)| (id, f.rate)).collect()
    }

    pub fn rate(&self, id: FlowId) -> Option<f64> {
        self.flows.get(&id).map(|f| f.rate)
    }

    pub fn flow_links(&self, id: FlowId) -> Option<&[LinkId]> {
        self.flows.get(&id).map(|f| f.links.as_slice())
    }

    /// Bits left as of the last update (`advance_to`, `activate` or `complete`).
    pub fn remaining_bits(&self, id: FlowId) -> Option<f64> {
        self.flows.get(&id).map(|f| f.remaining_bits)
    }

    /// Number of active flows.
    pub fn active(&self) -> usize {
        self.flows.len()
    }

    /// Increments on every rate recomputation (each `activate` and `complete`).
    /// A completion event scheduled under an older epoch may be stale: store
    /// the epoch in the event, and on pop ignore it if it differs from this,
    /// then schedule a fresh event from `next_completion`.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Fair rates, then predicted finish times. `self.updated == now`.
    fn recompute(&mut self, now: SimTime) {
        self.epoch += 1;
        let capacity: Vec<f64> = self.graph.links().iter().map(|l| l.rate_bps).collect();
        let routes: Vec<&[LinkId]> = self.flows.values().map(|f| f.links.as_slice()).collect();
        let rates = max_min_rates(&capacity, &routes);
        for (f, rate) in self.flows.values_mut().zip(rates) {
            f.rate = rate;
            f.finish = if f.remaining_bits < DONE_BITS || f.rate.is_infinite() {
                now
            } else {
                // A zero rate (impossible unless capacities underflow) saturates to never.
                now.saturating_add(ns_ceil(f.remaining_bits * NS_PER_SEC as f64 / f.rate))
            };
        }
    }
}
