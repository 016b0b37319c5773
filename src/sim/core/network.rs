//! Flows on a directed graph of links, sharing bandwidth max-min fairly.
//!
//! See `NETWORK.md` beside this file for the model and the hand-computed
//! test cases. In short: every arrival (`activate`) or departure (`complete`)
//! first advances all flows' progress at their old rates, then recomputes all
//! rates (`fair_share::max_min_rates`) and each flow's predicted finish time,
//! and bumps `epoch()` so the caller can drop completion events computed
//! earlier. Routes come from `routing`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::NetError;
use super::fair_share::max_min_rates;
use super::links::{Graph, Link, LinkId, LinkSpec, Route};
use super::time::{ns_ceil, SimTime, NS_PER_SEC};

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

#[derive(Debug, Clone)]
struct Flow {
    links: Vec<LinkId>,
    bytes: u64,
    started: SimTime,
    /// Bits still to send as of `Network::updated`.
    remaining_bits: f64,
    /// Current rate in bit/s; +inf for a flow with an empty route.
    rate: f64,
    /// Predicted finish time under the current rates.
    finish: SimTime,
}

/// Links, routing and the flows currently sharing them.
#[derive(Debug, Clone)]
pub struct Network {
    graph: Graph,
    /// BTreeMap so every iteration (and thus every float sum) runs in FlowId order.
    flows: BTreeMap<FlowId, Flow>,
    next_flow: u64,
    /// Time up to which `remaining_bits` are accounted.
    updated: SimTime,
    epoch: u64,
}

impl Network {
    pub fn new(n_nodes: usize, specs: &[LinkSpec]) -> Result<Network, NetError> {
        Ok(Network { graph: Graph::new(n_nodes, specs)?, flows: BTreeMap::new(), next_flow: 0, updated: 0, epoch: 0 })
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

    /// Changes link rates at `now` (a radio link following its SNR): flows
    /// are first advanced at the old rates, then all rates and finish times
    /// are recomputed once (bumps the epoch).
    pub fn set_rates(&mut self, now: SimTime, rates: &[(LinkId, f64)]) -> Result<(), NetError> {
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

#[cfg(test)]
mod tests {
    use super::super::links::symmetric as spec;
    use super::super::queue::EventQueue;
    use super::*;
    use proptest::prelude::*;

    const S: SimTime = NS_PER_SEC;
    const MB: u64 = 1_000_000; // bytes: 8e6 bits

    /// Two nodes joined by one link of `rate` bit/s each way, no latency.
    fn one_link(rate: f64) -> Network {
        Network::new(2, &[LinkSpec { a: 0, b: 1, rate_ab_bps: rate, rate_ba_bps: rate, latency_s: 0.0 }]).unwrap()
    }

    enum Ev {
        Activate { links: Vec<LinkId>, bytes: u64 },
        Complete { id: FlowId, epoch: u64 },
    }

    /// Runs arrivals `(time, links, bytes)` to the end the way an event-driven
    /// caller would (stale completions dropped by epoch) and returns the
    /// finished flows in FlowId order. `check` runs after every change.
    fn drive(
        net: &mut Network,
        arrivals: Vec<(SimTime, Vec<LinkId>, u64)>,
        mut check: impl FnMut(&Network),
    ) -> Vec<FlowDone> {
        let mut q = EventQueue::new();
        for (t, links, bytes) in arrivals {
            q.push(t, Ev::Activate { links, bytes }).unwrap();
        }
        let mut done = Vec::new();
        while let Some((t, _, ev)) = q.pop() {
            match ev {
                Ev::Activate { links, bytes } => {
                    net.activate(t, &links, bytes).unwrap();
                }
                Ev::Complete { id, epoch } => {
                    if epoch != net.epoch() {
                        continue; // stale: rates changed since it was scheduled
                    }
                    assert_eq!(net.next_completion(), Some((t, id)));
                    done.push(net.complete(t, id).unwrap());
                }
            }
            check(net);
            if let Some((t, id)) = net.next_completion() {
                q.push(t, Ev::Complete { id, epoch: net.epoch() }).unwrap();
            }
        }
        assert_eq!(net.active(), 0);
        done.sort_by_key(|d| d.id);
        done
    }

    fn finish_times(done: &[FlowDone]) -> Vec<SimTime> {
        done.iter().map(|d| d.finished).collect()
    }

    #[test]
    fn a_single_flow() {
        // 1e6 bytes = 8e6 bits at 8e6 bit/s: 1 s.
        let mut net = one_link(8e6);
        let id = net.activate(0, &[LinkId(0)], MB).unwrap();
        assert_eq!(net.rates(), vec![(id, 8e6)]);
        assert_eq!(net.next_completion(), Some((S, id)));
        let d = net.complete(S, id).unwrap();
        assert_eq!(d, FlowDone { id, bytes: MB, started: 0, finished: S });
        assert_eq!(net.active(), 0);
        assert_eq!(net.next_completion(), None);
    }

    #[test]
    fn b_two_equal_flows() {
        // c = 10 Mbit/s, B = 1e6 bytes each: c/2 = 5e6 each, both finish at
        // 2 * 8e6 / 10e6 = 1.6 s; the tie pops the lower FlowId first.
        let c = 10e6;
        let mut net = one_link(c);
        let f0 = net.activate(0, &[LinkId(0)], MB).unwrap();
        let f1 = net.activate(0, &[LinkId(0)], MB).unwrap();
        assert_eq!(net.rates(), vec![(f0, c / 2.0), (f1, c / 2.0)]);
        let t = 1_600_000_000;
        assert_eq!(net.next_completion(), Some((t, f0)));
        net.complete(t, f0).unwrap();
        // The survivor is done too (its rest is float residue): same instant.
        assert_eq!(net.next_completion(), Some((t, f1)));
        assert_eq!(net.complete(t, f1).unwrap().finished, t);
    }

    #[test]
    fn c_second_flow_halfway() {
        // c = 8 Mbit/s, 8e6 bits each. Flow 0 alone until 0.5 s: 4e6 bits left.
        // Then 4e6 bit/s each: flow 0 ends at 0.5 + 4e6/4e6 = 1.5 s, when flow 1
        // has 8e6 - 4e6 = 4e6 left; alone at 8e6: 1.5 + 0.5 = 2.0 s.
        let mut net = one_link(8e6);
        let done = drive(&mut net, vec![(0, vec![LinkId(0)], MB), (S / 2, vec![LinkId(0)], MB)], |_| {});
        assert_eq!(finish_times(&done), vec![1_500_000_000, 2 * S]);
        assert_eq!(done[1].started, S / 2);
    }

    #[test]
    fn c_rates_change_bumps_epoch() {
        let mut net = one_link(8e6);
        let f0 = net.activate(0, &[LinkId(0)], MB).unwrap();
        let e0 = net.epoch();
        assert_eq!(net.next_completion(), Some((S, f0)));
        net.activate(S / 2, &[LinkId(0)], MB).unwrap();
        assert!(net.epoch() > e0);
        assert_eq!(net.next_completion(), Some((1_500_000_000, f0)));
        // The old prediction (1 s) is stale: completing then is refused.
        let mut early = net.clone();
        assert!(matches!(early.complete(S, f0), Err(NetError::NotFinished { .. })));
    }

    #[test]
    fn d_three_sizes() {
        // c = 8 Mbit/s; 8e6, 16e6, 24e6 bits. c/3 each: flow 0 ends at
        // 8e6 / (8e6/3) = 3 s; the others then have 8e6 and 16e6 left.
        // c/2 = 4e6 each: flow 1 ends at 3 + 2 = 5 s; flow 2 has 8e6 left,
        // alone at 8e6: 5 + 1 = 6 s.
        let mut net = one_link(8e6);
        let l = vec![LinkId(0)];
        let done = drive(&mut net, vec![(0, l.clone(), MB), (0, l.clone(), 2 * MB), (0, l, 3 * MB)], |_| {});
        assert_eq!(finish_times(&done), vec![3 * S, 5 * S, 6 * S]);
    }

    #[test]
    fn d_many_equal_flows_inexact_share() {
        // 10 flows of 8e6 bits on 3e6 bit/s: share 3e5 (inexact in binary
        // arithmetic on the way), all end at 8e7 / 3e6 = 26.666...67 s, rounded
        // up to 26_666_666_667 ns, and the float residue must not delay any.
        let mut net = one_link(3e6);
        let arrivals = (0..10).map(|_| (0, vec![LinkId(0)], MB)).collect();
        let done = drive(&mut net, arrivals, |_| {});
        assert_eq!(finish_times(&done), vec![26_666_666_667; 10]);
    }

    #[test]
    fn e_line_bottleneck() {
        // A=0 -B=1 -C=2; AB 10 Mbit/s, BC 4 Mbit/s.
        // Flow 0 A->C (8e6 bits), flow 1 B->C (4e6 bits), flow 2 A->B (8e6 bits).
        // BC share 4/2 = 2 < AB share 10/2 = 5: flows 0, 1 get 2; flow 2 gets
        // AB's residual 10 - 2 = 8 and ends at 8e6/8e6 = 1 s.
        // At 1 s: flow 0 has 6e6 left, flow 1 2e6; BC still the bottleneck
        // (2 each): flow 1 ends at 1 + 1 = 2 s. Flow 0 has 4e6 left, alone:
        // min(AB 10, BC 4) = 4 -> 2 + 1 = 3 s.
        let mut net = Network::new(3, &[spec(0, 1, 10e6, 0.001), spec(1, 2, 4e6, 0.001)]).unwrap();
        let r_ac = net.route(0, 2).unwrap();
        let r_bc = net.route(1, 2).unwrap();
        let r_ab = net.route(0, 1).unwrap();
        assert_eq!(r_ac.links, vec![LinkId(0), LinkId(2)]);
        assert_eq!(r_ac.latency_ns, 2_000_000);
        let f0 = net.activate(0, &r_ac.links, MB).unwrap();
        let f1 = net.activate(0, &r_bc.links, MB / 2).unwrap();
        let f2 = net.activate(0, &r_ab.links, MB).unwrap();
        assert_eq!(net.rates(), vec![(f0, 2e6), (f1, 2e6), (f2, 8e6)]);
        assert_eq!(net.next_completion(), Some((S, f2)));
        net.complete(S, f2).unwrap();
        assert_eq!(net.rates(), vec![(f0, 2e6), (f1, 2e6)]);
        assert_eq!(net.next_completion(), Some((2 * S, f1)));
        net.complete(2 * S, f1).unwrap();
        assert_eq!(net.rates(), vec![(f0, 4e6)]);
        assert_eq!(net.next_completion(), Some((3 * S, f0)));
        assert_eq!(net.complete(3 * S, f0).unwrap().finished, 3 * S);
    }

    #[test]
    fn zero_bytes_and_local_flows_finish_at_once() {
        let mut net = one_link(8e6);
        let big = net.activate(0, &[LinkId(0)], MB).unwrap();
        let zero = net.activate(100, &[LinkId(0)], 0).unwrap();
        assert_eq!(net.next_completion(), Some((100, zero)));
        net.complete(100, zero).unwrap();
        let local = net.activate(200, &[], 5).unwrap();
        assert_eq!(net.rate(local), Some(f64::INFINITY));
        assert_eq!(net.next_completion(), Some((200, local)));
        net.complete(200, local).unwrap();
        // The 1 s flow lost no time (it shared for 0 ns).
        assert_eq!(net.next_completion(), Some((S, big)));
    }

    #[test]
    fn misuse_errors() {
        let mut net = one_link(8e6);
        assert_eq!(net.activate(0, &[LinkId(2)], 1), Err(NetError::UnknownLink(LinkId(2))));
        assert_eq!(net.activate(0, &[LinkId(0), LinkId(0)], 1), Err(NetError::RepeatedLink(LinkId(0))));
        let f = net.activate(10, &[LinkId(0)], 1).unwrap();
        assert!(matches!(net.activate(5, &[LinkId(0)], 1), Err(NetError::TimeWentBackwards { .. })));
        assert_eq!(net.complete(10, FlowId(99)), Err(NetError::UnknownFlow(FlowId(99))));
        assert!(matches!(net.complete(10, f), Err(NetError::NotFinished { .. })));
        // 8 bits at 8e6 bit/s: 1 us.
        assert_eq!(net.next_completion(), Some((10 + 1_000, f)));
    }

    /// Rates are feasible, positive, and max-min fair: each flow crosses a
    /// saturated link on which no flow has a higher rate.
    fn check_max_min(net: &Network) {
        let n = net.links().len();
        let mut load = vec![0.0; n];
        let mut max_rate = vec![0.0f64; n];
        let rates = net.rates();
        for &(id, r) in &rates {
            assert!(r > 0.0, "flow {id:?} has rate {r}");
            for l in net.flow_links(id).unwrap() {
                load[l.0] += r;
                max_rate[l.0] = max_rate[l.0].max(r);
            }
        }
        let cap: Vec<f64> = net.links().iter().map(|l| l.rate_bps).collect();
        for l in 0..n {
            assert!(load[l] <= cap[l] * (1.0 + 1e-6), "link {l}: load {} > capacity {}", load[l], cap[l]);
        }
        for &(id, r) in &rates {
            let links = net.flow_links(id).unwrap();
            if links.is_empty() {
                continue;
            }
            let bottlenecked =
                links.iter().any(|l| load[l.0] >= cap[l.0] * (1.0 - 1e-6) && r >= max_rate[l.0] * (1.0 - 1e-9));
            assert!(bottlenecked, "flow {id:?} at {r} has no bottleneck link");
        }
    }

    fn topology() -> impl Strategy<Value = (usize, Vec<LinkSpec>)> {
        (2usize..6).prop_flat_map(|n| {
            let link =
                (0..n, 0..n, 1u32..20, 1u32..20, 0u32..5).prop_filter_map("no self-loops", |(a, b, ab, ba, lat)| {
                    (a != b).then_some(LinkSpec {
                        a,
                        b,
                        rate_ab_bps: ab as f64 * 1e6,
                        rate_ba_bps: ba as f64 * 1e6,
                        latency_s: lat as f64 * 1e-3,
                    })
                });
            (Just(n), proptest::collection::vec(link, 1..8))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn g_random_flows_stay_max_min_fair(
            (n, specs) in topology(),
            flows in proptest::collection::vec((0usize..6, 0usize..6, 0u64..2_000, 0u64..3_000_000), 1..12),
        ) {
            let mut net = Network::new(n, &specs).unwrap();
            let mut arrivals = Vec::new();
            for (src, dst, start_ms, bytes) in flows {
                let (src, dst) = (src % n, dst % n);
                match net.route(src, dst) {
                    // Model propagation: active after the route's latency.
                    Ok(r) => arrivals.push((start_ms * 1_000_000 + r.latency_ns, r.links, bytes)),
                    Err(e) => prop_assert_eq!(e, NetError::Disconnected { src, dst }),
                }
            }
            // FlowIds follow activation order: (time, push order).
            arrivals.sort_by_key(|a| a.0);
            let expected = arrivals.len();
            let lower_bounds: Vec<SimTime> = arrivals
                .iter()
                .map(|(t, links, bytes)| {
                    // No flow beats its slowest link running alone.
                    let cap = links.iter().map(|l| net.links()[l.0].rate_bps).fold(f64::INFINITY, f64::min);
                    t + (*bytes as f64 * 8.0 / cap * 1e9).floor() as SimTime
                })
                .collect();
            let done = drive(&mut net, arrivals, check_max_min);
            prop_assert_eq!(done.len(), expected);
            for (d, lb) in done.iter().zip(lower_bounds) {
                prop_assert!(d.finished >= lb, "{:?} finished before {}", d, lb);
            }
        }
    }
}
