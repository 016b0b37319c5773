//! The event loop on a `SyntheticLab` (no models): timing against hand
//! computation, service order, stale alignments, and which changes misalign.

use super::*;
use crate::align::cost::method_cost;
use crate::scenario::{parse, Scenario};
use crate::sim::events::{EventKind, EventRecord};
use crate::sim::outcome::RunSummary;
use crate::sim::synthetic::SyntheticLab;
use crate::sim::world;

/// Two MNIST profiles, a (seed 1) and b (seed 2), and `network`: the
/// synthetic-lab tests' scenario (also used by the adaptive policy's tests).
pub(crate) fn scenario(network: &str) -> Scenario {
    let text = format!(
        r#"(
    name: "t",
    seed: 1,
    profiles: [
        (name: "a", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 1),
        (name: "b", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 2),
    ],
    eval: (test_images: 10),
    align: (budget: (steps: 10, eval_every: 0, batch_size: 64)),
    network: ({network}),
)"#
    );
    parse(&text, std::path::Path::new("test.ron")).unwrap_or_else(|e| panic!("{e}"))
}

/// A run's output and its events.
struct Out {
    summary: RunSummary,
    events: Vec<EventRecord>,
}

fn simulate(sc: &Scenario) -> Out {
    let w = world::build(sc).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
    let mut events = Vec::new();
    let o = run(&w, &mut SyntheticLab::new(&w), &mut events, |_| {}).unwrap();
    Out { summary: o.summary, events }
}

const ONE_LINK: &str = r#"
        users: [(name: "bs", profile: "a"), (name: "tx", profile: "b", compute: fixed(50e9))],
        topology: (kind: explicit(edges: [(a: "bs", b: "tx")]), link: (down_bps: 8e6, up_bps: 4e6, latency_s: 0.01)),
        traffic: [(from: "tx", to: "bs", rate_hz: 1.0)],
        detection: oracle(delay_s: 1.0),
        policy: (method: slf(freeze: 2, side: output)),
        horizon_s: 100.0,"#;

#[test]
fn one_pair_recovers_at_the_hand_computed_time() {
    let sc = scenario(ONE_LINK);
    let out = simulate(&sc);
    let e = &out.summary.episodes[0];
    let p = &sc.profiles[1];
    let c = method_cost(&p.model, 1, sc.network.policy.method.fixed().unwrap(), 10, 64, &sc.align.cost);
    // Download: detected at 1 s, 10 ms propagation, then 8·bytes / 8 Mbit/s.
    let down_end = 1.0 + 0.01 + 8.0 * c.download_bytes as f64 / 8e6;
    let ft_end = down_end + (c.flops_per_step * 10) as f64 / 50e9;
    let aligned = ft_end + 0.01 + 8.0 * c.upload_bytes as f64 / 4e6;
    let close = |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 3e-9, "{a:?} vs {b}");
    assert_eq!((e.onset_s, e.detected_s), (0.0, Some(1.0)));
    close(e.download_end_s, down_end);
    close(e.finetune_end_s, ft_end);
    close(e.aligned_s, aligned);
    close(e.recovery_time_s, aligned);
    assert_eq!((e.download_bytes, e.upload_bytes), (c.download_bytes, c.upload_bytes));
    assert_eq!(out.summary.aggregate.recovered, 1);
}

/// Three TX of profile b (one link class) and one of a around "bs", with
/// `detection`, `policy` and `fidelity`.
fn prefetch_star(detection: &str, policy: &str, fidelity: &str) -> Scenario {
    scenario(&format!(
        r#"
        users: [(name: "bs", profile: "a"), (name: "tx", count: 3, profile: "b"), (name: "own", profile: "a")],
        topology: (kind: star(center: "bs")),
        traffic: [(from: "*", to: "bs", rate_hz: 1.0)],
        detection: {detection},
        policy: {policy},
        fidelity: {fidelity},
        horizon_s: 100.0,"#
    ))
}

#[test]
fn only_fine_tunings_the_run_is_certain_to_ask_for_are_prefetched() {
    let prefetched = |sc: &Scenario| {
        let w = world::build(sc).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
        let mut lab = SyntheticLab::new(&w);
        run(&w, &mut lab, &mut crate::sim::events::NoEvents, |_| {}).unwrap();
        let asked: std::collections::HashSet<_> = lab.asked().cloned().collect();
        assert!(lab.prefetched.iter().all(|k| asked.contains(k)), "prefetched but never asked: {:?}", lab.prefetched);
        lab.prefetched
    };
    let (oracle, slf) = ("oracle(delay_s: 1.0)", "(method: slf(freeze: 2, side: output))");
    // Certain: one fine-tuning of the one misaligned class, asked for at 1 s.
    let p = prefetched(&prefetch_star(oracle, slf, "memoized"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].0.starts_with("memo|b|") && p[0].1 == "slf-l2", "{p:?}");
    // Not certain, or not shared: nothing is started ahead.
    for sc in [
        prefetch_star("monitor(window: 5, threshold: 0.85)", slf, "memoized"),
        prefetch_star("oracle(delay_s: 200.0)", slf, "memoized"),
        prefetch_star(oracle, "(method: slf(freeze: 2, side: output), max_concurrent: 1)", "memoized"),
        prefetch_star(oracle, "(method: adaptive(target_accuracy: 0.8))", "memoized"),
        prefetch_star(oracle, slf, "exact"),
    ] {
        assert_eq!(prefetched(&sc), Vec::<(String, String)>::new());
    }
}

fn four_tx(order: &str) -> Scenario {
    scenario(&format!(
        r#"
        users: [(name: "bs", profile: "a"), (name: "first", profile: "b", compute: fixed(10e9)),
                (name: "slow", profile: "b", compute: fixed(5e9)), (name: "fast", profile: "b", compute: fixed(30e9)),
                (name: "mid", profile: "b", compute: fixed(20e9))],
        topology: (kind: star(center: "bs")),
        traffic: [(from: "*", to: "bs", rate_hz: 1.0)],
        detection: oracle(delay_s: 1.0),
        policy: (method: slf(freeze: 2, side: output), order: {order}, max_concurrent: 1),
        horizon_s: 100.0,"#
    ))
}

fn service_order(out: &Out) -> Vec<String> {
    let mut v: Vec<(f64, String)> =
        out.summary.episodes.iter().map(|e| (e.download_start_s.unwrap(), e.tx.clone())).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v.into_iter().map(|(_, t)| t).collect()
}

#[test]
fn an_rx_serves_one_at_a_time_in_policy_order() {
    // All four are detected at 1 s; the first request finds RX idle and is
    // served at once, the other three wait and are taken in policy order.
    let fifo = simulate(&four_tx("fifo"));
    assert_eq!(service_order(&fifo), ["first", "slow", "fast", "mid"]);
    let fastest = simulate(&four_tx("fastest_first"));
    assert_eq!(service_order(&fastest), ["first", "fast", "mid", "slow"]);
    // One at a time: each download starts when the previous alignment is installed.
    let mut e = fastest.summary.episodes.clone();
    e.sort_by(|a, b| a.download_start_s.unwrap().total_cmp(&b.download_start_s.unwrap()));
    for w in e.windows(2) {
        assert_eq!(w[1].download_start_s, w[0].aligned_s);
    }
    assert!(e[1].phases().unwrap()[1].1 > 0.0, "the second waited in the queue");
}

#[test]
fn a_change_during_service_discards_the_stale_alignment_and_serves_again() {
    // The fine-tuning of tx runs from about 1.5 s to 3.9 s; its channel changes at 2 s.
    let sc = scenario(&ONE_LINK.replace(
        "horizon_s: 100.0,",
        r#"horizon_s: 100.0, dynamics: [(at_s: 2.0, change: channel(user: "tx", epsilon: 0.1))],"#,
    ));
    let out = simulate(&sc);
    assert_eq!(out.summary.episodes.len(), 1);
    let e = &out.summary.episodes[0];
    assert_eq!(e.restarts, 1);
    // The first service ends as in `one_pair_recovers_at_the_hand_computed_time`, at
    // t1 = 1 + T; its result is discarded and the same service (same bytes and FLOPs)
    // starts at once on the idle RX, so the pair is aligned at 1 + 2T.
    let c = method_cost(&sc.profiles[1].model, 1, sc.network.policy.method.fixed().unwrap(), 10, 64, &sc.align.cost);
    let t = 0.01
        + 8.0 * c.download_bytes as f64 / 8e6
        + (c.flops_per_step * 10) as f64 / 50e9
        + 0.01
        + 8.0 * c.upload_bytes as f64 / 4e6;
    let stale = out.events.iter().find(|r| r.event == EventKind::StaleAlignmentDiscarded).expect("discarded");
    assert!((stale.t_s - (1.0 + t)).abs() < 3e-9, "{} vs {}", stale.t_s, 1.0 + t);
    assert!((e.aligned_s.unwrap() - (1.0 + 2.0 * t)).abs() < 6e-9, "served twice: {e:?}, T = {t}");
    assert_eq!(out.events.iter().filter(|r| r.event == EventKind::DownloadStarted).count(), 2);
    // Both services' bytes count.
    let once = out.events.iter().find(|r| r.event == EventKind::DownloadStarted).unwrap().bytes.unwrap();
    assert_eq!(e.download_bytes, 2 * once);
}

#[test]
fn only_changes_of_the_transmitter_misalign_a_link() {
    // bs and tx share profile a: aligned from the start.
    let base = ONE_LINK.replace(r#"(name: "tx", profile: "b""#, r#"(name: "tx", profile: "a""#);
    let rx_change = scenario(&base.replace(
        "horizon_s: 100.0,",
        r#"horizon_s: 100.0, dynamics: [(at_s: 5.0, change: channel(user: "bs", epsilon: 0.2))],"#,
    ));
    let out = simulate(&rx_change);
    assert!(out.summary.episodes.is_empty(), "{:?}", out.summary.episodes);
    let tx_change = scenario(&base.replace(
        "horizon_s: 100.0,",
        r#"horizon_s: 100.0, dynamics: [(at_s: 5.0, change: channel(user: "tx", epsilon: 0.2))],"#,
    ));
    let out = simulate(&tx_change);
    assert_eq!(out.summary.episodes.len(), 1);
    assert_eq!((out.summary.episodes[0].cause.as_str(), out.summary.episodes[0].onset_s), ("channel", 5.0));
    assert_eq!(out.summary.aggregate.recovered, 1);
}

#[test]
fn a_late_joiner_starts_its_episode_when_it_joins() {
    let sc = scenario(
        &ONE_LINK
            .replace("horizon_s: 100.0,", r#"horizon_s: 100.0, dynamics: [(at_s: 20.0, change: join(user: "tx"))],"#),
    );
    let out = simulate(&sc);
    let e = &out.summary.episodes[0];
    assert_eq!((e.cause.as_str(), e.onset_s, e.detected_s), ("join", 20.0, Some(21.0)));
    assert!(out.events.iter().filter(|r| r.event == EventKind::MessageSent).all(|r| r.t_s >= 20.0));
}

#[test]
fn pairs_by_user_lists_each_users_pairs_in_pair_order() {
    let (at, of) = pairs_by_user(4, [(1, 0), (2, 0), (1, 3), (0, 2)].into_iter());
    let of_user = |u: usize| of[at[u] as usize..at[u + 1] as usize].to_vec();
    assert_eq!(of_user(0), vec![0, 1, 3]);
    assert_eq!(of_user(1), vec![0, 2]);
    assert_eq!(of_user(2), vec![1, 3]);
    assert_eq!(of_user(3), vec![2]);
}

#[test]
fn state_bytes_are_measured_per_user_and_pair() {
    let sc = four_tx(r#"fifo"#);
    let w = world::build(&sc).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
    let o = run(&w, &mut SyntheticLab::new(&w), &mut crate::sim::events::NoEvents, |_| {}).unwrap();
    assert_eq!((o.state.users, o.state.pairs), (5, 4));
    // At least the structs themselves, and far below a kilobyte of overhead.
    assert!(o.state.per_pair >= std::mem::size_of::<PairState>() as f64, "{:?}", o.state);
    assert!(o.state.per_user >= std::mem::size_of::<UserState>() as f64, "{:?}", o.state);
    assert!(o.state.per_pair < 1024.0 && o.state.per_user < 1024.0, "{:?}", o.state);
}

/// `bs` (1 GFLOP/s) receives from `tx` by a Procrustes map on 64 pilots; with
/// `others` > 0 it also transmits to that many users of profile b, which
/// keeps its compute busy encoding their pilots when `tx`'s upload arrives.
fn pilot_star(others: usize) -> Scenario {
    let (users, traffic) = if others == 0 {
        (String::new(), String::new())
    } else {
        (
            format!(r#", (name: "o", count: {others}, profile: "b")"#),
            r#", (from: "bs", to: "o", rate_hz: 1.0)"#.to_string(),
        )
    };
    scenario(&format!(
        r#"
        users: [(name: "bs", profile: "a", compute: fixed(1e9)), (name: "tx", profile: "b", compute: fixed(50e9)){users}],
        topology: (kind: star(center: "bs"), link: (down_bps: 8e6, up_bps: 4e6, latency_s: 0.01)),
        traffic: [(from: "tx", to: "bs", rate_hz: 1.0){traffic}],
        detection: oracle(delay_s: 1.0),
        policy: (method: latent_map(pilots: 64, map: procrustes)),
        horizon_s: 100.0,"#
    ))
}

#[test]
fn a_pilot_map_is_installed_once_rx_has_fitted_it_on_its_own_compute() {
    let idle = pilot_star(0);
    let c =
        method_cost(&idle.profiles[1].model, 1, idle.network.policy.method.fixed().unwrap(), 10, 64, &idle.align.cost);
    let (tx_s, rx_s) = (c.pilot_tx_flops as f64 / 50e9, c.pilot_rx_flops as f64 / 1e9);
    let uploaded = 1.0 + tx_s + 0.01 + 8.0 * c.upload_bytes as f64 / 4e6;
    let e = simulate(&idle).summary.episodes[0].clone();
    let close = |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 3e-9, "{a:?} vs {b}");
    close(e.upload_end_s, uploaded);
    close(e.aligned_s, uploaded + rx_s);
    assert_eq!(e.finetune_flops, c.pilot_tx_flops + c.pilot_rx_flops, "FLOPs at both ends");
    // bs encodes its own pilots for 3 receivers from 1 s (3 jobs on its queue, which
    // outlast tx's upload): tx's map is fitted after them.
    let busy = simulate(&pilot_star(3));
    let e = busy.summary.episodes.iter().find(|e| e.tx == "tx").unwrap();
    close(e.upload_end_s, uploaded);
    let bs_free = 1.0 + 3.0 * c.pilot_tx_flops as f64 / 1e9;
    assert!(bs_free > uploaded);
    // (Each job's duration is rounded up to the ns.)
    assert!((e.aligned_s.unwrap() - (bs_free + rx_s)).abs() < 1e-8, "{:?} vs {}", e.aligned_s, bs_free + rx_s);
}
