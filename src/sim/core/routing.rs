//! Routing: the lowest-latency path between two nodes, and connectivity.
//!
//! Algorithm: Dijkstra over integer-ns latencies with hop count as the
//! second key, so ties are exact. Among paths of equal latency the one with
//! fewer hops wins; among those, the path is rebuilt backwards from the
//! destination, at each node taking the predecessor with the lowest node id,
//! then the parallel link with the lowest link id. Connectivity is a
//! union-find over the undirected edges, computed once (`components`).
//!
//! `Graph::route` answers one request with one Dijkstra (the reference).
//! `Graph::route_table` answers many: one shortest-path tree per distinct
//! source, grown only until that source's destinations are settled, with the
//! predecessor of each node chosen once per tree. A source whose links all
//! lead to one neighbour (a star's leaf) reuses that neighbour's tree: every
//! path from it starts with its cheapest link there (ties: lowest link id),
//! and the tie-breaks further on are the neighbour's. Both give identical
//! routes (proptest `route_table_matches_route`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::unionfind::UnionFind;
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use super::error::NetError;
use super::links::{Graph, LinkId, LinkSpec, Route};
use super::time::SimTime;

/// Path cost for Dijkstra: latency first, then hop count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
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

    /// The routes of many `(src, dst)` requests, in request order: the same
    /// as `route` for each, from one shortest-path tree per distinct source
    /// (see the module note). The first failing request (in order) is the error.
    pub fn route_table(&self, requests: &[(usize, usize)]) -> Result<RouteTable, NetError> {
        for &(src, dst) in requests {
            for node in [src, dst] {
                if node >= self.n_nodes {
                    return Err(NetError::UnknownNode { node, n_nodes: self.n_nodes });
                }
            }
        }
        let mut trees = Trees::new(self);
        // Each request's tree root, and the link that leads there from a leaf source.
        let plan: Vec<(usize, Option<u32>)> = requests
            .iter()
            .map(|&(src, dst)| match trees.sole_neighbour(src) {
                Some((h, link)) if dst != src && trees.has_other_neighbour(h, src) => (h, Some(link)),
                _ => (src, None),
            })
            .collect();
        let mut order: Vec<usize> = (0..requests.len()).collect();
        order.sort_by_key(|&i| plan[i].0);
        let mut found: Vec<Option<(Vec<u32>, SimTime)>> = vec![None; requests.len()];
        let mut targets = Vec::new();
        for group in order.chunk_by(|&i, &j| plan[i].0 == plan[j].0) {
            let root = plan[group[0]].0;
            targets.clear();
            targets.extend(group.iter().map(|&i| requests[i].1));
            trees.grow(root, &targets);
            for &i in group {
                let (src, dst) = requests[i];
                let (_, prefix) = plan[i];
                if src == dst {
                    found[i] = Some((Vec::new(), 0));
                    continue;
                }
                if !trees.is_settled(dst) {
                    continue; // disconnected
                }
                let mut links = trees.path(root, dst);
                let mut latency = trees.dist[dst].latency_ns;
                if let Some(l) = prefix {
                    links.insert(0, l);
                    latency = self.links[l as usize].latency_ns.saturating_add(latency);
                }
                found[i] = Some((links, latency));
            }
        }
        let mut table = RouteTable::default();
        for (i, f) in found.into_iter().enumerate() {
            let Some((links, latency)) = f else {
                let (src, dst) = requests[i];
                return Err(NetError::Disconnected { src, dst });
            };
            let start = table.links.len() as u32;
            table.links.extend(links.into_iter().map(|l| LinkId(l as usize)));
            table.spans.push((start, table.links.len() as u32));
            table.latency_ns.push(latency);
        }
        Ok(table)
    }
}

/// Whether nodes `a` and `b` are joined by some path (one query; for many,
/// compute `components` once).
pub fn connected(n: usize, links: &[LinkSpec], a: usize, b: usize) -> bool {
    let c = components(n, links);
    c[a] == c[b]
}

/// A label per node (0..n), equal for nodes joined by some path: the
/// connected components over the undirected edges.
pub fn components(n: usize, links: &[LinkSpec]) -> Vec<usize> {
    let mut uf = UnionFind::<usize>::new(n);
    for l in links {
        uf.union(l.a, l.b);
    }
    uf.into_labeling()
}

/// Many routes in one table: the links of every route back to back, no
/// allocation per route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    links: Vec<LinkId>,
    /// [start, end) of route i in `links`.
    spans: Vec<(u32, u32)>,
    latency_ns: Vec<SimTime>,
}

impl RouteTable {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Bytes it holds (links, spans and latencies).
    pub fn bytes(&self) -> usize {
        use std::mem::size_of;
        self.links.capacity() * size_of::<LinkId>()
            + self.spans.capacity() * size_of::<(u32, u32)>()
            + self.latency_ns.capacity() * size_of::<SimTime>()
    }

    /// The links of route `i`, source to destination.
    pub fn links(&self, i: usize) -> &[LinkId] {
        let (a, b) = self.spans[i];
        &self.links[a as usize..b as usize]
    }

    pub fn latency_ns(&self, i: usize) -> SimTime {
        self.latency_ns[i]
    }

    /// Starts loading route `i`'s latency into cache (the loop's next event needs it).
    pub fn prefetch_latency(&self, i: usize) {
        if let Some(l) = self.latency_ns.get(i) {
            super::queue::prefetch(l);
        }
    }

    /// Appends `route` as the next route.
    pub fn push(&mut self, route: &Route) {
        let start = self.links.len() as u32;
        self.links.extend_from_slice(&route.links);
        self.spans.push((start, self.links.len() as u32));
        self.latency_ns.push(route.latency_ns);
    }

    /// Route `i` as an owned `Route`.
    pub fn route(&self, i: usize) -> Route {
        Route { links: self.links(i).to_vec(), latency_ns: self.latency_ns[i] }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.links.capacity() * std::mem::size_of::<LinkId>()
            + self.spans.capacity() * std::mem::size_of::<(u32, u32)>()
            + self.latency_ns.capacity() * std::mem::size_of::<SimTime>()
    }
}

const NONE: u32 = u32::MAX;

/// The links out of and into every node, in compressed rows.
struct Adjacency {
    out_start: Vec<u32>,
    out: Vec<u32>,
    in_start: Vec<u32>,
    inc: Vec<u32>,
}

impl Adjacency {
    fn new(g: &Graph) -> Adjacency {
        let rows = |key: fn(&super::links::Link) -> usize| {
            let mut start = vec![0u32; g.n_nodes + 1];
            for l in &g.links {
                start[key(l) + 1] += 1;
            }
            for i in 0..g.n_nodes {
                start[i + 1] += start[i];
            }
            let mut fill = start.clone();
            let mut items = vec![0u32; g.links.len()];
            for (id, l) in g.links.iter().enumerate() {
                let k = key(l);
                items[fill[k] as usize] = id as u32;
                fill[k] += 1;
            }
            (start, items)
        };
        let (out_start, out) = rows(|l| l.from);
        let (in_start, inc) = rows(|l| l.to);
        Adjacency { out_start, out, in_start, inc }
    }

    fn out(&self, v: usize) -> &[u32] {
        &self.out[self.out_start[v] as usize..self.out_start[v + 1] as usize]
    }

    fn inc(&self, v: usize) -> &[u32] {
        &self.inc[self.in_start[v] as usize..self.in_start[v + 1] as usize]
    }
}

/// Shortest-path trees, one at a time, over buffers reused between trees:
/// a node's entries are valid only while its stamp is the current tree's.
struct Trees<'g> {
    g: &'g Graph,
    adj: Adjacency,
    tree: u32,
    stamp: Vec<u32>,
    dist: Vec<Cost>,
    settled: Vec<bool>,
    /// The chosen incoming link, found on first use (NONE: not yet).
    pred: Vec<u32>,
    /// Stamp of the tree for which a node is a still unsettled target.
    target: Vec<u32>,
    heap: BinaryHeap<Reverse<(Cost, u32)>>,
}

impl<'g> Trees<'g> {
    fn new(g: &'g Graph) -> Trees<'g> {
        let n = g.n_nodes;
        Trees {
            g,
            adj: Adjacency::new(g),
            tree: 0,
            stamp: vec![0; n],
            dist: vec![Cost::default(); n],
            settled: vec![false; n],
            pred: vec![NONE; n],
            target: vec![0; n],
            heap: BinaryHeap::new(),
        }
    }

    fn cost(&self, link: u32) -> Cost {
        Cost { latency_ns: self.g.links[link as usize].latency_ns, hops: 1 }
    }

    /// The only node `v` has links to, and its cheapest link there (ties:
    /// lowest id); None if `v` has no links or links to several nodes.
    fn sole_neighbour(&self, v: usize) -> Option<(usize, u32)> {
        let out = self.adj.out(v);
        let h = self.g.links[*out.first()? as usize].to;
        if out.iter().any(|&e| self.g.links[e as usize].to != h) {
            return None;
        }
        let best = out.iter().copied().min_by_key(|&e| (self.g.links[e as usize].latency_ns, e))?;
        Some((h, best))
    }

    fn has_other_neighbour(&self, h: usize, v: usize) -> bool {
        self.adj.out(h).iter().any(|&e| self.g.links[e as usize].to != v)
    }

    fn is_settled(&self, v: usize) -> bool {
        self.stamp[v] == self.tree && self.settled[v]
    }

    /// Dijkstra from `src` until every node of `targets` is settled, or
    /// nothing more is reachable.
    fn grow(&mut self, src: usize, targets: &[usize]) {
        self.tree += 1;
        let tree = self.tree;
        self.heap.clear();
        let mut wanted = 0usize;
        for &t in targets {
            if self.target[t] != tree {
                self.target[t] = tree;
                wanted += 1;
            }
        }
        self.visit(src, Cost::default());
        while let Some(Reverse((c, v))) = self.heap.pop() {
            let v = v as usize;
            if self.settled[v] || c != self.dist[v] {
                continue; // superseded entry
            }
            self.settled[v] = true;
            if self.target[v] == tree {
                self.target[v] = 0;
                wanted -= 1;
                if wanted == 0 {
                    return;
                }
            }
            for i in self.adj.out_start[v]..self.adj.out_start[v + 1] {
                let e = self.adj.out[i as usize];
                self.visit(self.g.links[e as usize].to, c + self.cost(e));
            }
        }
    }

    /// Offers cost `c` for node `w`.
    fn visit(&mut self, w: usize, c: Cost) {
        if self.stamp[w] != self.tree {
            self.stamp[w] = self.tree;
            self.settled[w] = false;
            self.pred[w] = NONE;
        } else if self.settled[w] || c >= self.dist[w] {
            return;
        }
        self.dist[w] = c;
        self.heap.push(Reverse((c, w as u32)));
    }

    /// The incoming link of `v` on its route: among tight links (from a
    /// settled node u with dist[u] + w == dist[v]), the one with the lowest
    /// (u, link id). A tight u is closer than v, hence settled.
    fn pred(&mut self, v: usize) -> u32 {
        if self.pred[v] == NONE {
            let mut best: Option<(usize, u32)> = None;
            for &e in self.adj.inc(v) {
                let u = self.g.links[e as usize].from;
                if self.is_settled(u) && self.dist[u] + self.cost(e) == self.dist[v] && best.is_none_or(|b| (u, e) < b)
                {
                    best = Some((u, e));
                }
            }
            self.pred[v] = best.expect("a settled node has a tight incoming link").1;
        }
        self.pred[v]
    }

    /// Links from `root` to the settled node `dst`.
    fn path(&mut self, root: usize, dst: usize) -> Vec<u32> {
        let mut links = Vec::with_capacity(self.dist[dst].hops as usize);
        let mut v = dst;
        while v != root {
            let e = self.pred(v);
            links.push(e);
            v = self.g.links[e as usize].from;
        }
        links.reverse();
        links
    }
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
        let c = components(5, &[spec(0, 1, 1.0, 0.0), spec(3, 4, 1.0, 0.0)]);
        assert!(c[0] == c[1] && c[3] == c[4]);
        assert!(c[0] != c[2] && c[0] != c[3] && c[2] != c[3]);
    }

    #[test]
    fn route_table_answers_a_star_from_the_hub_tree() {
        // Hub 0 with leaves 1..=4 and a parallel pair of links to leaf 4
        // (the second one faster): leaf sources reuse the hub's tree.
        let mut specs: Vec<LinkSpec> = (1..=4).map(|i| spec(0, i, 1e6, 0.002)).collect();
        specs.push(spec(4, 0, 1e6, 0.001));
        let g = Graph::new(5, &specs).unwrap();
        let reqs = [(1, 2), (4, 3), (2, 0), (0, 4), (3, 3), (4, 0)];
        let t = g.route_table(&reqs).unwrap();
        assert_eq!(t.len(), reqs.len());
        for (i, &(a, b)) in reqs.iter().enumerate() {
            assert_eq!(t.route(i), g.route(a, b).unwrap(), "{a} -> {b}");
        }
        assert_eq!(t.links(1), &[LinkId(8), LinkId(4)]);
        assert_eq!(t.latency_ns(1), 3_000_000);
        let far = Graph::new(3, &[spec(0, 1, 1.0, 0.0)]).unwrap();
        assert_eq!(far.route_table(&[(0, 1), (1, 2), (0, 2)]), Err(NetError::Disconnected { src: 1, dst: 2 }));
        assert!(matches!(far.route_table(&[(0, 7)]), Err(NetError::UnknownNode { node: 7, .. })));
    }

    use proptest::prelude::*;

    /// Small graphs with many latency ties (0 to 2 ms), parallel links, leaves
    /// and isolated nodes.
    fn graph() -> impl Strategy<Value = (usize, Vec<LinkSpec>)> {
        (2usize..9).prop_flat_map(|n| {
            let link = (0..n, 0..n, 0u32..3)
                .prop_filter_map("no self-loops", |(a, b, lat)| (a != b).then_some(spec(a, b, 1e6, lat as f64 * 1e-3)));
            (Just(n), proptest::collection::vec(link, 0..14))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn route_table_matches_route((n, specs) in graph()) {
            let g = Graph::new(n, &specs).unwrap();
            let all: Vec<(usize, usize)> = (0..n).flat_map(|a| (0..n).map(move |b| (a, b))).collect();
            let reference: Vec<Result<Route, NetError>> = all.iter().map(|&(a, b)| g.route(a, b)).collect();
            let ok: Vec<(usize, usize)> =
                all.iter().zip(&reference).filter(|(_, r)| r.is_ok()).map(|(&q, _)| q).collect();
            let t = g.route_table(&ok).unwrap();
            let want: Vec<Route> = reference.iter().filter_map(|r| r.clone().ok()).collect();
            for (i, w) in want.iter().enumerate() {
                prop_assert_eq!(&t.route(i), w, "request {:?}", ok[i]);
            }
            // Connectivity agrees with routing, and the first failing request is the error.
            let c = components(n, &specs);
            for (&(a, b), r) in all.iter().zip(&reference) {
                prop_assert_eq!(r.is_ok(), c[a] == c[b]);
            }
            if let Some(bad) = reference.iter().position(|r| r.is_err()) {
                prop_assert_eq!(g.route_table(&all), Err(reference[bad].clone().unwrap_err()));
            }
        }
    }
}
