//! The synthetic scenarios of the engine benchmark, shared by
//! `benches/engine.rs` and `examples/engine_scaling.rs` (included by path).

use slfsim::align::cost::method_cost;
use slfsim::scenario::{parse, Scenario};
use std::path::Path;

/// Profiles of quickstart.ron (never loaded: only their names, ε and model
/// shape matter here).
const PROFILES: &str = r#"
    profiles: [
        (name: "mnist_e0_s1", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 1),
        (name: "mnist_e0_s2", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 2),
        (name: "mnist_e10_s1", data: (dataset: mnist), channel: (kind: index, epsilon: 0.1), seed: 1),
        (name: "fashion_e0_s1", data: (dataset: fashion_mnist), channel: (kind: index, epsilon: 0.0), seed: 1),
    ],
    eval: (test_images: 1000),
    align: (budget: (steps: 20, eval_every: 0)),
"#;

/// Four groups sharing `n` users: one on the base station's own profile
/// (aligned from the start), three on profiles trained apart from it.
fn groups(n: usize, compute: &str) -> String {
    let names =
        [("same", "mnist_e0_s1"), ("seed", "mnist_e0_s2"), ("noisy", "mnist_e10_s1"), ("fashion", "fashion_e0_s1")];
    names
        .iter()
        .enumerate()
        .map(|(i, (g, p))| (g, p, n / 4 + usize::from(i < n % 4)))
        .filter(|&(_, _, count)| count > 0)
        .map(|(g, p, count)| format!(r#"(name: "{g}", profile: "{p}", count: {count}, compute: {compute}),"#))
        .collect()
}

/// The shared link's capacity grows with the star beyond 1,000 TX (20/10
/// Mbit/s per thousand), so every size recovers within a similar horizon and
/// a run's events grow linearly with its users.
pub fn star_scenario(n: usize) -> Scenario {
    let scale = (n as f64 / 1000.0).max(1.0);
    let (down, up) = (20e6 * scale, 10e6 * scale);
    let text = format!(
        r#"Scenario(
    name: "bench-star-{n}",
    seed: 7,
    {PROFILES}
    network: (
        users: [
            (name: "bs", profile: "mnist_e0_s1", compute: fixed(200e9)),
            {users}
        ],
        topology: (kind: star(center: "bs", shared: Some((down_bps: {down:e}, up_bps: {up:e}, latency_s: 0.01))), link: (down_bps: 20e6, up_bps: 10e6, latency_s: 0.005)),
        traffic: [(from: "*", to: "bs", rate_hz: 0.5)],
        detection: oracle(delay_s: 1.0),
        policy: (method: slf(freeze: 0, side: output), order: fifo),
        fidelity: memoized,
        horizon_s: 1.0,
    ),
)"#,
        users = groups(n, "uniform(25e9, 100e9)"),
    );
    let mut sc = parse(&text, Path::new("bench")).unwrap_or_else(|e| panic!("star scenario: {e}"));
    // Long enough for every misaligned TX to download and upload one after
    // another over the shared link, plus detection and fine-tuning.
    let p = &sc.profiles[0];
    let b = &sc.align.budget;
    let c = method_cost(
        &p.model,
        p.image_channels(),
        sc.network.policy.method.fixed().expect("a fixed method"),
        b.steps,
        b.batch_size,
        &sc.align.cost,
    );
    let serial_s = n as f64 * (8.0 * c.download_bytes as f64 / down + 8.0 * c.upload_bytes as f64 / up);
    let compute_s = (c.flops_per_step * b.steps as u64) as f64 / 25e9;
    sc.network.horizon_s = (1.1 * serial_s + compute_s + 10.0).ceil();
    sc
}

/// The radius shrinks as 0.18·√(100/n), so every size keeps about ten
/// neighbours per user (a 10,000-user mesh has about 100,000 pairs).
pub fn mesh_scenario(n: usize) -> Scenario {
    let radius = 0.18 * (100.0 / n as f64).sqrt();
    let text = format!(
        r#"Scenario(
    name: "bench-mesh-{n}",
    seed: 7,
    {PROFILES}
    network: (
        users: [
            {users}
        ],
        topology: (kind: random_geometric(radius: {radius}), link: (down_bps: 20e6, up_bps: 10e6, latency_s: 0.01)),
        traffic: [(from: "*", to: "*", rate_hz: 0.5, neighbours_only: true)],
        dynamics: [(at_s: 20.0, change: channel(user: "seed", epsilon: 0.05))],
        detection: monitor(window: 4, threshold: 0.5),
        policy: (method: slf(freeze: 2, side: output), order: fifo, max_concurrent: 4),
        fidelity: memoized,
        horizon_s: 120.0,
    ),
)"#,
        users = groups(n, "log_normal(median: 50e9, sigma: 0.5)"),
    );
    let mut sc = parse(&text, Path::new("bench")).unwrap_or_else(|e| panic!("mesh scenario: {e}"));
    // Larger meshes have busier receivers (a few with many neighbours): more time to recover.
    sc.network.horizon_s = if n > 100 { 240.0 } else { 120.0 };
    sc
}
