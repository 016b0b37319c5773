//! Topologies: how a population's nodes are joined, as undirected edges with
//! a rate per direction and a latency. Random kinds draw from a seeded
//! ChaCha stream, so a scenario and seed always give the same graph.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::links::LinkSpec;

/// What every generated edge gets: a rate each way and a latency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EdgeParams {
    /// Rate from the lower-numbered node to the higher one (a star: centre
    /// to leaf, the download direction), bit/s.
    pub down_bps: f64,
    /// Rate the other way, bit/s.
    pub up_bps: f64,
    pub latency_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopologyKind {
    /// Every node joined to `center` (a base station).
    Star { center: usize },
    /// Every pair of nodes joined.
    Complete,
    /// Nodes placed uniformly in the unit square; pairs closer than `radius` joined.
    RandomGeometric { radius: f64 },
    /// Each pair joined independently with probability `p`.
    ErdosRenyi { p: f64 },
    /// The listed pairs.
    Explicit { edges: Vec<(usize, usize)> },
}

/// The edge a–b with `l`'s rates (a -> b: `down_bps`) and latency.
pub fn edge(a: usize, b: usize, l: &EdgeParams) -> LinkSpec {
    LinkSpec { a, b, rate_ab_bps: l.down_bps, rate_ba_bps: l.up_bps, latency_s: l.latency_s }
}

/// The edges of `kind` over nodes 0..n, in a deterministic order.
pub fn generate(
    kind: &TopologyKind,
    n: usize,
    link: &EdgeParams,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<LinkSpec>, String> {
    let pairs = || (0..n).flat_map(move |a| (a + 1..n).map(move |b| (a, b)));
    Ok(match kind {
        TopologyKind::Star { center } => {
            if *center >= n {
                return Err(format!("center: node {center} does not exist (n = {n})"));
            }
            (0..n).filter(|&i| i != *center).map(|i| edge(*center, i, link)).collect()
        }
        TopologyKind::Complete => pairs().map(|(a, b)| edge(a, b, link)).collect(),
        TopologyKind::RandomGeometric { radius } => {
            if !(*radius > 0.0 && radius.is_finite()) {
                return Err(format!("radius: {radius} must be > 0"));
            }
            let pos: Vec<(f64, f64)> = (0..n).map(|_| (rng.random::<f64>(), rng.random::<f64>())).collect();
            geometric_pairs(&pos, *radius).into_iter().map(|(a, b)| edge(a, b, link)).collect()
        }
        TopologyKind::ErdosRenyi { p } => {
            if !(0.0..=1.0).contains(p) {
                return Err(format!("p: {p} is outside [0, 1]"));
            }
            // One draw per pair in a fixed order, so the graph depends on the seed only.
            pairs().filter(|_| rng.random::<f64>() < *p).map(|(a, b)| edge(a, b, link)).collect()
        }
        TopologyKind::Explicit { edges } => {
            let mut out = Vec::with_capacity(edges.len());
            for (i, &(a, b)) in edges.iter().enumerate() {
                if a >= n || b >= n {
                    return Err(format!("edges[{i}]: ({a}, {b}) names a node outside 0..{n}"));
                }
                if a == b {
                    return Err(format!("edges[{i}]: ({a}, {b}) joins a node to itself"));
                }
                out.push(edge(a, b, link));
            }
            out
        }
    })
}

/// The pairs (a, b), a < b, closer than `radius`, in (a, b) order: the
/// same test as over all pairs, but only among points of neighbouring grid
/// cells (cells a little wider than `radius`, so no closer pair is missed).
fn geometric_pairs(pos: &[(f64, f64)], radius: f64) -> Vec<(usize, usize)> {
    let n = pos.len();
    let max_dim = (2.0 * (n as f64).sqrt()).ceil().max(1.0);
    let dim = (1.0 / (radius * (1.0 + 1e-6))).floor().clamp(1.0, max_dim) as usize;
    let cell = |x: f64| ((x * dim as f64) as usize).min(dim - 1);
    let mut start = vec![0usize; dim * dim + 1];
    let cell_of: Vec<usize> = pos.iter().map(|&(x, y)| cell(x) * dim + cell(y)).collect();
    for &c in &cell_of {
        start[c + 1] += 1;
    }
    for c in 0..dim * dim {
        start[c + 1] += start[c];
    }
    let mut fill = start.clone();
    let mut members = vec![0usize; n];
    for (i, &c) in cell_of.iter().enumerate() {
        members[fill[c]] = i;
        fill[c] += 1;
    }
    let mut out = Vec::new();
    let mut near = Vec::new();
    for a in 0..n {
        let (cx, cy) = (cell_of[a] / dim, cell_of[a] % dim);
        near.clear();
        for x in cx.saturating_sub(1)..=(cx + 1).min(dim - 1) {
            for y in cy.saturating_sub(1)..=(cy + 1).min(dim - 1) {
                let c = x * dim + y;
                near.extend(members[start[c]..start[c + 1]].iter().copied().filter(|&b| b > a));
            }
        }
        near.sort_unstable();
        let (pa, r) = (pos[a], radius);
        out.extend(near.iter().filter(|&&b| (pa.0 - pos[b].0).hypot(pa.1 - pos[b].1) < r).map(|&b| (a, b)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const L: EdgeParams = EdgeParams { down_bps: 20e6, up_bps: 10e6, latency_s: 0.01 };

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    #[test]
    fn star_and_complete_have_the_right_edges() {
        let s = generate(&TopologyKind::Star { center: 2 }, 5, &L, &mut rng(0)).unwrap();
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(|e| e.a == 2 && e.b != 2 && e.rate_ab_bps == 20e6 && e.rate_ba_bps == 10e6));
        assert_eq!(generate(&TopologyKind::Complete, 6, &L, &mut rng(0)).unwrap().len(), 15);
        assert!(generate(&TopologyKind::Star { center: 5 }, 5, &L, &mut rng(0)).is_err());
    }

    #[test]
    fn random_kinds_are_seeded_and_bounded() {
        let er = |p: f64, seed| generate(&TopologyKind::ErdosRenyi { p }, 12, &L, &mut rng(seed)).unwrap();
        assert_eq!(er(1.0, 1).len(), 66);
        assert!(er(0.0, 1).is_empty());
        assert_eq!(er(0.3, 7), er(0.3, 7));
        assert_ne!(er(0.3, 7), er(0.3, 8));
        let rgg =
            |r: f64, seed| generate(&TopologyKind::RandomGeometric { radius: r }, 30, &L, &mut rng(seed)).unwrap();
        assert_eq!(rgg(0.3, 3), rgg(0.3, 3));
        assert_eq!(rgg(2.0, 3).len(), 30 * 29 / 2, "every pair of the unit square is closer than 2");
        assert!(rgg(0.3, 3).len() < rgg(0.6, 3).len());
        assert!(generate(&TopologyKind::ErdosRenyi { p: 1.5 }, 3, &L, &mut rng(0)).is_err());
    }

    #[test]
    fn the_geometric_grid_finds_exactly_the_close_pairs() {
        use rand::SeedableRng;
        for (n, radius, seed) in
            [(300, 0.05, 1), (300, 0.2, 2), (50, 0.9, 3), (40, 5.0, 4), (200, 1e-4, 5), (1, 0.1, 6)]
        {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let pos: Vec<(f64, f64)> = (0..n).map(|_| (rng.random::<f64>(), rng.random::<f64>())).collect();
            let all: Vec<(usize, usize)> = (0..n)
                .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
                .filter(|&(a, b)| (pos[a].0 - pos[b].0).hypot(pos[a].1 - pos[b].1) < radius)
                .collect();
            assert_eq!(geometric_pairs(&pos, radius), all, "n {n}, radius {radius}");
        }
        // Points on cell borders and exactly one radius apart.
        let pos = [(0.0, 0.0), (0.25, 0.0), (0.5, 0.0), (0.5, 0.25), (0.74, 0.26), (0.999, 0.999)];
        assert_eq!(geometric_pairs(&pos, 0.25), vec![(3, 4)]);
        assert_eq!(geometric_pairs(&pos, 0.2500001), vec![(0, 1), (1, 2), (2, 3), (3, 4)]);
    }

    #[test]
    fn explicit_edges_are_checked() {
        let e = |edges: Vec<(usize, usize)>| generate(&TopologyKind::Explicit { edges }, 4, &L, &mut rng(0));
        assert!(e(vec![(0, 4)]).unwrap_err().contains("edges[0]"));
        assert!(e(vec![(1, 1)]).is_err());
        assert_eq!(e(vec![(0, 1), (1, 2)]).unwrap().len(), 2);
    }
}
