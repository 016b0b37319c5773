//! Max-min fair sharing of link capacity among flows, by progressive filling.
//!
//! Algorithm (Bertsekas and Gallager, *Data Networks*, 6.5.2): every flow
//! starts without a rate. Repeat: on each link that still carries flows
//! without a rate, the fair share is its residual capacity divided by the
//! number of those flows; the link with the smallest share (ties: lowest
//! link id) is the bottleneck, and each of its unassigned flows gets that
//! share, which is subtracted from every link on the flow's route. Stop when
//! every flow has a rate. The result is the unique max-min fair allocation:
//! no flow can get more without taking from a flow whose rate is not larger.
//!
//! Cost: O(bottlenecks × links) per call. Flows are visited in the order
//! given, so the float sums (and thus the rates) are reproducible.

use super::links::LinkId;

/// Max-min fair rates (bit/s) of flows over links of `capacity` (bit/s),
/// one per entry of `routes`, in the same order. A flow with an empty route
/// crosses no link and gets +inf.
pub fn max_min_rates(capacity: &[f64], routes: &[&[LinkId]]) -> Vec<f64> {
    let n_links = capacity.len();
    let mut rate = vec![0.0; routes.len()];
    let mut residual = capacity.to_vec();
    // Flows per link (in the given order) and how many of them have no rate yet.
    let mut on_link: Vec<Vec<usize>> = vec![Vec::new(); n_links];
    let mut unassigned = vec![0usize; n_links];
    let mut assigned = vec![false; routes.len()];
    for (i, links) in routes.iter().enumerate() {
        if links.is_empty() {
            rate[i] = f64::INFINITY;
            assigned[i] = true;
            continue;
        }
        for l in links.iter() {
            on_link[l.0].push(i);
            unassigned[l.0] += 1;
        }
    }
    loop {
        // The bottleneck: smallest fair share, ties by lowest link id.
        let mut best: Option<(f64, usize)> = None;
        for l in 0..n_links {
            if unassigned[l] == 0 {
                continue;
            }
            // Clamp: float residue must not turn into a negative rate.
            let share = residual[l].max(0.0) / unassigned[l] as f64;
            if best.is_none_or(|(s, _)| share < s) {
                best = Some((share, l));
            }
        }
        let Some((share, l)) = best else { break };
        for &i in &on_link[l] {
            if assigned[i] {
                continue; // fixed at an earlier bottleneck
            }
            assigned[i] = true;
            rate[i] = share;
            for m in routes[i].iter() {
                residual[m.0] -= share;
                unassigned[m.0] -= 1;
            }
        }
    }
    rate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_flows_split_a_link() {
        let l = [LinkId(0)];
        assert_eq!(max_min_rates(&[10e6], &[&l, &l]), vec![5e6, 5e6]);
    }

    #[test]
    fn the_bottleneck_fixes_its_flows_first_and_others_take_the_rest() {
        // Links 0 (10 Mbit/s) and 1 (4 Mbit/s): flow a crosses both, b only 1,
        // c only 0. Link 1's share 4/2 = 2 < link 0's 10/2 = 5, so a and b get
        // 2; c gets link 0's residual 10 - 2 = 8.
        let (a, b, c) = ([LinkId(0), LinkId(1)], [LinkId(1)], [LinkId(0)]);
        assert_eq!(max_min_rates(&[10e6, 4e6], &[&a, &b, &c]), vec![2e6, 2e6, 8e6]);
    }

    #[test]
    fn a_flow_without_links_is_unbounded_and_takes_nothing() {
        let l = [LinkId(0)];
        assert_eq!(max_min_rates(&[3.0], &[&[], &l]), vec![f64::INFINITY, 3.0]);
    }

    use proptest::prelude::*;

    /// Capacities with many ties (to exercise the lowest-id tie-break) and
    /// routes of 1 to 4 distinct links among 2 to 10.
    fn instance() -> impl Strategy<Value = (Vec<f64>, Vec<Vec<LinkId>>)> {
        (2usize..10).prop_flat_map(|n| {
            let cap = prop_oneof![Just(1e6), Just(3e6), (1u32..40).prop_map(|c| c as f64 * 0.7e6)];
            let route = proptest::collection::btree_set(0..n, 0..4)
                .prop_map(|s| s.into_iter().map(LinkId).collect::<Vec<_>>())
                .prop_shuffle();
            (proptest::collection::vec(cap, n), proptest::collection::vec(route, 0..20))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// The claim `sharing` rests on: progressive filling restricted to
        /// a connected component of the flow-link graph gives, bit for bit,
        /// the rates of the filling over all flows.
        #[test]
        fn components_fill_like_the_whole_network((capacity, routes) in instance()) {
            let all: Vec<&[LinkId]> = routes.iter().map(|r| r.as_slice()).collect();
            let global = max_min_rates(&capacity, &all);
            // Components: flows joined through a shared link.
            let mut uf = petgraph::unionfind::UnionFind::<usize>::new(routes.len() + capacity.len());
            for (i, r) in routes.iter().enumerate() {
                for l in r {
                    uf.union(i, routes.len() + l.0);
                }
            }
            let labels = uf.into_labeling();
            let mut seen = std::collections::BTreeSet::new();
            for i in 0..routes.len() {
                if !seen.insert(labels[i]) {
                    continue;
                }
                let members: Vec<usize> = (0..routes.len()).filter(|&j| labels[j] == labels[i]).collect();
                let sub: Vec<&[LinkId]> = members.iter().map(|&j| all[j]).collect();
                let rates = max_min_rates(&capacity, &sub);
                for (&j, r) in members.iter().zip(rates) {
                    prop_assert_eq!(r.to_bits(), global[j].to_bits(), "flow {}", j);
                }
            }
        }
    }
}
