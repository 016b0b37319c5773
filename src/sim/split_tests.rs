//! Split learning as traffic, on a `SyntheticLab`: the bytes the network
//! delivered, the step chain's timing by hand, and sharing.

use crate::align::cost::method_cost;
use crate::align::Method;
use crate::sim::engine::run;
use crate::sim::engine::tests::scenario;
use crate::sim::events::{EventKind, EventRecord};
use crate::sim::outcome::RunSummary;
use crate::sim::synthetic::SyntheticLab;
use crate::sim::world;

fn simulate(network: &str) -> (RunSummary, Vec<EventRecord>) {
    let sc = scenario(network);
    let w = world::build(&sc).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
    let mut events = Vec::new();
    let o = run(&w, &mut SyntheticLab::new(&w), &mut events, |_| {}).unwrap();
    (o.summary, events)
}

/// One TX (50 GFLOP/s) and its RX (`bs`, 20 GFLOP/s) on one 8/4 Mbit/s link with
/// 10 ms latency; 10 steps of 64 MNIST images (the engine tests' scenario).
const ONE_LINK: &str = r#"
        users: [(name: "bs", profile: "a", compute: fixed(20e9)), (name: "tx", profile: "b", compute: fixed(50e9))],
        topology: (kind: explicit(edges: [(a: "bs", b: "tx")]), link: (down_bps: 8e6, up_bps: 4e6, latency_s: 0.01)),
        traffic: [(from: "tx", to: "bs", rate_hz: 1.0)],
        detection: oracle(delay_s: 1.0),
        policy: (method: split_learning),
        horizon_s: 1000.0,"#;

/// Per step, by hand for K = 64, D = 16, g = 8, 32x32 grey images, batch 64,
/// f32: z is 64·16·8·8 values, x̂ 64·1·32·32 (both 262,144 B); the codebook 64·16.
const Z: u64 = 64 * 16 * 8 * 8 * 4;
const IMG: u64 = 64 * 32 * 32 * 4;
const CODEBOOK: u64 = 64 * 16 * 4;

#[test]
fn split_learning_flows_carry_every_steps_tensors_and_the_codebook() {
    let (s, events) = simulate(ONE_LINK);
    let e = &s.episodes[0];
    assert_eq!(e.steps, 10);
    // What the network core delivered for the service, each way.
    assert_eq!(e.download_bytes, CODEBOOK + 10 * (IMG + Z), "x̂ and ∂L/∂z down each step");
    assert_eq!(e.upload_bytes, CODEBOOK + 10 * (Z + IMG), "z and ∂L/∂x̂ up each step");
    // The log: the codebook at the ends, the steps' hand-overs in the fine-tuning phase.
    let bytes = |k: EventKind| events.iter().find(|r| r.event == k).and_then(|r| r.bytes);
    assert_eq!(bytes(EventKind::DownloadStarted), Some(CODEBOOK));
    assert_eq!(bytes(EventKind::FinetuneStarted), Some(10 * 2 * (Z + IMG)));
    assert_eq!(bytes(EventKind::UploadStarted), Some(CODEBOOK));
    // FLOPs at both ends: the same learning as SLF ℓ = 0.
    let sc = scenario(ONE_LINK);
    let c = method_cost(&sc.profiles[1].model, 1, &Method::SplitLearning, 10, 64, &sc.align.cost);
    assert_eq!(e.finetune_flops, 10 * c.flops_per_step);
    assert_eq!(s.aggregate.recovered, 1);
}

#[test]
fn each_hand_over_pays_the_latency_and_each_side_computes_its_share() {
    let (s, _) = simulate(ONE_LINK);
    let e = &s.episodes[0];
    let sc = scenario(ONE_LINK);
    let plan = crate::align::cost::split_learning_plan(&sc.profiles[1].model, 1, 64);
    let [tx_f, rx_f, rx_b, tx_b] = plan.flops.map(|f| f as f64);
    let link = |bytes: u64, bps: f64| 0.01 + 8.0 * bytes as f64 / bps;
    let step = tx_f / 50e9
        + link(Z, 4e6)
        + rx_f / 20e9
        + link(IMG, 8e6)
        + link(IMG, 4e6)
        + rx_b / 20e9
        + link(Z, 8e6)
        + tx_b / 50e9;
    let down_end = 1.0 + link(CODEBOOK, 8e6);
    let close = |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 1e-7, "{a:?} vs {b}");
    close(e.download_end_s, down_end);
    close(e.finetune_start_s, down_end);
    close(e.finetune_end_s, down_end + 10.0 * step);
    close(e.aligned_s, down_end + 10.0 * step + link(CODEBOOK, 4e6));
}

/// `n` split-learning TX behind one shared 2/1 Mbit/s link.
fn shared_star(n: usize) -> String {
    format!(
        r#"
        users: [(name: "bs", profile: "a"), (name: "tx", count: {n}, profile: "b", compute: fixed(50e9))],
        topology: (kind: star(center: "bs", shared: Some((down_bps: 2e6, up_bps: 1e6, latency_s: 0.005))),
                   link: (down_bps: 50e6, up_bps: 20e6, latency_s: 0.01)),
        traffic: [(from: "tx", to: "bs", rate_hz: 1.0)],
        detection: oracle(delay_s: 1.0),
        policy: (method: split_learning),
        horizon_s: 1000.0,"#
    )
}

#[test]
fn split_learning_under_a_shared_link_is_slower_than_alone() {
    let (alone, _) = simulate(&shared_star(1));
    let (shared, _) = simulate(&shared_star(2));
    let r = |s: &RunSummary, i: usize| s.episodes[i].recovery_time_s.expect("recovered");
    let a = r(&alone, 0);
    for i in 0..2 {
        // Both TX hand their tensors over the one link at the same moments: each gets
        // about half of it, so serialisation (most of a step) nearly doubles.
        let b = r(&shared, i);
        assert!(b > 1.5 * a && b < 2.0 * a, "shared {b} vs alone {a}");
        assert_eq!(shared.episodes[i].download_bytes, alone.episodes[0].download_bytes);
    }
}
