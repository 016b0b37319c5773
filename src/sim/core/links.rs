//! The graph the network runs on: nodes `0..n` joined by directed links,
//! each with a rate and a latency. A scenario edge (`LinkSpec`) becomes two
//! directed links, `a -> b` (`LinkId(2i)`) and `b -> a` (`LinkId(2i + 1)`).

use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};

use super::error::NetError;
use super::time::{secs_to_ns, SimTime};

/// One undirected edge of a scenario: it becomes two directed links,
/// `a -> b` (id `2 * i`) and `b -> a` (id `2 * i + 1`) for the `i`-th spec.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinkSpec {
    pub a: usize,
    pub b: usize,
    pub rate_ab_bps: f64,
    pub rate_ba_bps: f64,
    pub latency_s: f64,
}

/// A directed link, `2 * spec_index + (0 for a->b, 1 for b->a)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LinkId(pub usize);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Directed links from source to destination (empty when src == dst).
    pub links: Vec<LinkId>,
    /// Sum of the links' latencies, each rounded up to the ns.
    pub latency_ns: SimTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub from: usize,
    pub to: usize,
    pub rate_bps: f64,
    pub latency_ns: SimTime,
}

/// Validated links and the directed graph over them (for routing).
#[derive(Debug, Clone)]
pub struct Graph {
    pub(super) n_nodes: usize,
    pub(super) links: Vec<Link>,
    /// Node weights unused; edge weight is the `LinkId` (edge index == link id).
    pub(super) graph: DiGraph<(), LinkId>,
}

impl Graph {
    /// Rates must be finite and > 0, latencies finite and >= 0, no self-loops.
    pub fn new(n_nodes: usize, specs: &[LinkSpec]) -> Result<Graph, NetError> {
        let mut graph = DiGraph::with_capacity(n_nodes, 2 * specs.len());
        for _ in 0..n_nodes {
            graph.add_node(());
        }
        let mut links = Vec::with_capacity(2 * specs.len());
        for (i, s) in specs.iter().enumerate() {
            for node in [s.a, s.b] {
                if node >= n_nodes {
                    return Err(NetError::NodeOutOfRange { spec: i, node, n_nodes });
                }
            }
            if s.a == s.b {
                return Err(NetError::SelfLoop { spec: i, node: s.a });
            }
            for rate in [s.rate_ab_bps, s.rate_ba_bps] {
                // NaN is not finite, so it is caught by the first test.
                if !rate.is_finite() || rate <= 0.0 {
                    return Err(NetError::InvalidRate { spec: i, rate });
                }
            }
            if !s.latency_s.is_finite() || s.latency_s < 0.0 {
                return Err(NetError::InvalidLatency { spec: i, latency: s.latency_s });
            }
            let latency_ns = secs_to_ns(s.latency_s);
            for (from, to, rate_bps) in [(s.a, s.b, s.rate_ab_bps), (s.b, s.a, s.rate_ba_bps)] {
                let id = LinkId(links.len());
                links.push(Link { from, to, rate_bps, latency_ns });
                let e = graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), id);
                debug_assert_eq!(e.index(), id.0);
            }
        }
        Ok(Graph { n_nodes, links, graph })
    }

    pub fn n_nodes(&self) -> usize {
        self.n_nodes
    }

    pub fn links(&self) -> &[Link] {
        &self.links
    }

    pub fn link(&self, id: LinkId) -> Option<&Link> {
        self.links.get(id.0)
    }

    /// Sets a link's rate (finite and > 0).
    pub(super) fn set_rate(&mut self, id: LinkId, rate_bps: f64) -> Result<(), NetError> {
        self.check_rate(id, rate_bps)?;
        self.links[id.0].rate_bps = rate_bps;
        Ok(())
    }

    /// Why `set_rate(id, rate_bps)` would fail, if it would.
    pub(super) fn check_rate(&self, id: LinkId, rate_bps: f64) -> Result<(), NetError> {
        if !rate_bps.is_finite() || rate_bps <= 0.0 {
            return Err(NetError::InvalidRate { spec: id.0 / 2, rate: rate_bps });
        }
        self.links.get(id.0).map(drop).ok_or(NetError::UnknownLink(id))
    }
}

/// An edge with the same rate both ways (for tests).
#[cfg(test)]
pub(crate) fn symmetric(a: usize, b: usize, rate: f64, latency_s: f64) -> LinkSpec {
    LinkSpec { a, b, rate_ab_bps: rate, rate_ba_bps: rate, latency_s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use symmetric as spec;

    #[test]
    fn rejects_bad_specs() {
        let bad = |s: LinkSpec| Graph::new(2, &[s]).unwrap_err();
        assert!(matches!(bad(spec(0, 1, 0.0, 0.0)), NetError::InvalidRate { .. }));
        assert!(matches!(bad(spec(0, 1, -1.0, 0.0)), NetError::InvalidRate { .. }));
        assert!(matches!(bad(spec(0, 1, f64::NAN, 0.0)), NetError::InvalidRate { .. }));
        assert!(matches!(bad(spec(0, 1, f64::INFINITY, 0.0)), NetError::InvalidRate { .. }));
        assert!(matches!(bad(LinkSpec { rate_ba_bps: 0.0, ..spec(0, 1, 1.0, 0.0) }), NetError::InvalidRate { .. }));
        assert!(matches!(bad(spec(0, 1, 1.0, -0.1)), NetError::InvalidLatency { .. }));
        assert!(matches!(bad(spec(0, 1, 1.0, f64::NAN)), NetError::InvalidLatency { .. }));
        assert!(matches!(bad(spec(0, 2, 1.0, 0.0)), NetError::NodeOutOfRange { node: 2, .. }));
        assert!(matches!(bad(spec(1, 1, 1.0, 0.0)), NetError::SelfLoop { .. }));
    }

    #[test]
    fn each_spec_becomes_two_directed_links() {
        let g = Graph::new(3, &[LinkSpec { a: 0, b: 2, rate_ab_bps: 5.0, rate_ba_bps: 7.0, latency_s: 0.5 }]).unwrap();
        assert_eq!(g.links()[0], Link { from: 0, to: 2, rate_bps: 5.0, latency_ns: 500_000_000 });
        assert_eq!(g.links()[1], Link { from: 2, to: 0, rate_bps: 7.0, latency_ns: 500_000_000 });
        assert_eq!(g.link(LinkId(2)), None);
    }
}
