//! Routing: the lowest-latency path between two nodes, and connectivity.
//!
//! Algorithm: Dijkstra (petgraph) over integer-ns latencies with hop count as
//! the second key, so ties are exact. Among paths of equal latency the one
//! with fewer hops wins; among those, the path is rebuilt backwards from the
//! destination, at each node taking the predecessor with the lowest node id,
//! then the parallel link with the lowest link id. Connectivity is a
//! union-find over the undirected edges.

use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::unionfind::UnionFind;
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use super::error::NetError;
use super::links::{Graph, LinkId, LinkSpec, Route};
use super::time::SimTime;

/// Path cost for Dijkstra: latency first, then hop count.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
struct Cost {
    latency_ns: SimTime,
    hops: u32,
}

impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost { latency_ns: self.latency_ns.saturating_add(o.latency_ns), hops: self.hops + o.hops }
    }
}

impl Graph {
    /// Shortest path by total latency, with the tie-breaks of the module note.
    pub fn route(&self, src: usize, dst: usize) -> Result<Route, NetError> {
        for node in [src, dst] {
            if node >= self.n_nodes {
                return Err(NetError::UnknownNode { node, n_nodes: self.n_nodes });
            }
        }
        if src == dst {
            return Ok(Route { links: Vec::new(), latency_ns: 0 });
        }
        let cost_of = |e: EdgeIndex| Cost { latency_ns: self.links[e.index()].latency_ns, hops: 1 };
        let dist = petgraph::algo::dijkstra(&self.graph, NodeIndex::new(src), None, |e| cost_of(e.id()));
        let Some(&total) = dist.get(&NodeIndex::new(dst)) else {
            return Err(NetError::Disconnected { src, dst });
        };
        // Walk back along edges that are tight (dist[u] + w == dist[v]); hops
        // strictly decrease along them, so this reaches src.
        let mut links = Vec::with_capacity(total.hops as usize);
        let mut v = NodeIndex::new(dst);
        while v.index() != src {
            let best = self
                .graph
                .edges_directed(v, Direction::Incoming)
                .filter(|e| dist.get(&e.source()).is_some_and(|&du| du + cost_of(e.id()) == dist[&v]))
                .min_by_key(|e| (e.source().index(), e.id().index()))
                .expect("dijkstra reached v, so a tight incoming edge exists");
            links.push(LinkId(best.id().index()));
            v = best.source();
        }
        links.reverse();
        Ok(Route { links, latency_ns: total.latency_ns })
    }
}

/// Whether nodes `a` and `b` are joined by some path.
pub fn connected(n: usize, links: &[LinkSpec], a: usize, b: usize) -> bool {
    let mut uf = UnionFind::<usize>::new(n);
    for l in links {
        uf.union(l.a, l.b);
    }
    uf.equiv(a, b)
}

#[cfg(test)]
mod tests {
    use super::super::links::symmetric as spec;
    use super::*;

    #[test]
    fn f_routing_by_latency() {
        // 0-2 direct at 100 ms, or 0-1-2 at 10 + 10 ms: the 2-hop path wins.
        let net = Graph::new(4, &[spec(0, 2, 1e9, 0.1), spec(0, 1, 1e6, 0.01), spec(1, 2, 1e6, 0.01)]).unwrap();
        let r = net.route(0, 2).unwrap();
        assert_eq!(r.links, vec![LinkId(2), LinkId(4)]);
        assert_eq!(r.latency_ns, 20_000_000);
        let back = net.route(2, 0).unwrap();
        assert_eq!(back.links, vec![LinkId(5), LinkId(3)]);
        assert_eq!(net.route(1, 1).unwrap(), Route { links: vec![], latency_ns: 0 });
        assert_eq!(net.route(0, 3), Err(NetError::Disconnected { src: 0, dst: 3 }));
        assert!(matches!(net.route(0, 9), Err(NetError::UnknownNode { node: 9, .. })));
    }

    #[test]
    fn f_routing_ties() {
        // Equal latency: fewer hops wins (0-3 direct over 0-1-3).
        let net = Graph::new(4, &[spec(0, 1, 1e6, 0.0), spec(1, 3, 1e6, 0.0), spec(0, 3, 1e6, 0.0)]).unwrap();
        assert_eq!(net.route(0, 3).unwrap().links, vec![LinkId(4)]);
        // Equal latency and hops (0-1-3 vs 0-2-3): lower predecessor id (1).
        let net = Graph::new(
            4,
            &[spec(0, 2, 1e6, 0.005), spec(2, 3, 1e6, 0.005), spec(0, 1, 1e6, 0.005), spec(1, 3, 1e6, 0.005)],
        )
        .unwrap();
        assert_eq!(net.route(0, 3).unwrap().links, vec![LinkId(4), LinkId(6)]);
        // Parallel links of equal latency: lower link id.
        let net = Graph::new(2, &[spec(0, 1, 1e6, 0.001), spec(0, 1, 1e6, 0.001)]).unwrap();
        assert_eq!(net.route(0, 1).unwrap().links, vec![LinkId(0)]);
    }

    #[test]
    fn connectivity_follows_undirected_edges() {
        let links = [spec(0, 1, 1.0, 0.0), spec(2, 1, 1.0, 0.0)];
        assert!(connected(4, &links, 0, 2));
        assert!(connected(4, &links, 2, 0));
        assert!(!connected(4, &links, 0, 3));
    }
}
