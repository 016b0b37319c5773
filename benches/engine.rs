//! The simulation engine (`slfsim::sim::engine::run`) on a synthetic event
//! load, with no LibTorch work at all.
//!
//! Run it with
//!
//! ```text
//! cargo bench --bench engine               # full measurement (under a minute)
//! cargo bench --bench engine -- --quick    # a fast sanity pass
//! ```
//!
//! It measures the event loop, the network's max-min flow sharing, the
//! per-user compute queues, detection and the run's bookkeeping (episodes,
//! event log, time series, summary) only — **not the models**. The `Lab`
//! behind the runs is `SyntheticLab`, which answers every evaluation and
//! fine-tuning instantly with fixed numbers, so a run here costs what the
//! engine itself costs; a real run adds the LibTorch jobs on top.
//!
//! Cases (throughput in events/s: the events one run handles,
//! `summary.aggregate.events`):
//!
//! - `engine/star_shared/N`, N = 10, 100, 1000: N TX around one base station
//!   `bs`, every access link meeting at a radio hub joined to `bs` by one
//!   shared 20/10 Mbit/s link; oracle detection, memoized fidelity, SLF
//!   (ℓ = 0), every TX sending 0.5 messages/s to `bs`. About three quarters of
//!   the TX hold a transceiver trained apart from `bs`'s, so their downloads
//!   and uploads all compete for the shared link. The horizon is sized so
//!   every pair recovers (checked before timing).
//! - `engine/mesh/100`: 100 users in a random geometric graph (radius 0.18),
//!   each sending 0.5 messages/s to each neighbour, with the `monitor`
//!   detection rule (fed by `SyntheticLab`'s confidences) and a channel
//!   change of one group mid-run, so stale alignments are discarded and
//!   served again.
//!
//! World building and scenario parsing happen outside the timed loop; each
//! timed iteration is one `engine::run` with a fresh `SyntheticLab`.

use slfsim::align::cost::method_cost;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use slfsim::scenario::{parse, Scenario};
use slfsim::sim::engine::{self, RunOutput};
use slfsim::sim::events::NoEvents;
use slfsim::sim::synthetic::SyntheticLab;
use slfsim::sim::world::{self, World};

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

fn star_scenario(n: usize) -> Scenario {
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
        topology: (kind: star(center: "bs", shared: Some((down_bps: 20e6, up_bps: 10e6, latency_s: 0.01))), link: (down_bps: 20e6, up_bps: 10e6, latency_s: 0.005)),
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
    let c = method_cost(&p.model, p.image_channels(), &sc.network.policy.method, b.steps, b.batch_size, &sc.align.cost);
    let serial_s = n as f64 * (8.0 * c.download_bytes as f64 / 20e6 + 8.0 * c.upload_bytes as f64 / 10e6);
    let compute_s = (c.flops_per_step * b.steps as u64) as f64 / 25e9;
    sc.network.horizon_s = (1.1 * serial_s + compute_s + 10.0).ceil();
    sc
}

fn mesh_scenario(n: usize) -> Scenario {
    let text = format!(
        r#"Scenario(
    name: "bench-mesh-{n}",
    seed: 7,
    {PROFILES}
    network: (
        users: [
            {users}
        ],
        topology: (kind: random_geometric(radius: 0.18), link: (down_bps: 20e6, up_bps: 10e6, latency_s: 0.01)),
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
    parse(&text, Path::new("bench")).unwrap_or_else(|e| panic!("mesh scenario: {e}"))
}

/// Builds the world and makes one untimed run: checks that every episode
/// recovered and returns the events a run handles.
fn prepare(sc: &Scenario) -> (World, u64) {
    let w = world::build(sc).unwrap_or_else(|(f, m)| panic!("{}: {f}: {m}", sc.name));
    let out: RunOutput = engine::run(&w, &mut SyntheticLab::new(&w), &mut NoEvents, |_| {})
        .unwrap_or_else(|e| panic!("{}: engine: {e}", sc.name));
    let a = &out.summary.aggregate;
    assert!(a.episodes > 0, "{}: no misalignment episodes", sc.name);
    assert_eq!(
        a.unrecovered, 0,
        "{}: {} of {} episodes unrecovered by the horizon ({} s)",
        sc.name, a.unrecovered, a.episodes, sc.network.horizon_s
    );
    let stuck = out.summary.pairs.iter().filter(|p| !p.aligned_at_end).count();
    assert_eq!(stuck, 0, "{}: {stuck} pairs still misaligned at the horizon", sc.name);
    eprintln!(
        "{}: {} users, {} pairs, {} episodes, {} events, horizon {} s, makespan {:.1} s, {} B moved, {} evaluations / {} fine-tunings, detection {:?}",
        sc.name,
        w.users.len(),
        a.pairs,
        a.episodes,
        a.events,
        sc.network.horizon_s,
        a.makespan_s.unwrap_or(f64::NAN),
        a.total_bytes,
        a.evaluations,
        a.fine_tunings,
        a.detection,
    );
    (w, a.events as u64)
}

/// One case: world built and events counted outside the timed loop; each
/// iteration runs the engine once with a fresh `SyntheticLab`.
fn case(g: &mut BenchmarkGroup<'_, WallTime>, id: String, sc: &Scenario) {
    let t0 = Instant::now();
    let (w, events) = prepare(sc);
    // Runs of a large fraction of a second: a fixed number of runs per
    // sample, so 10 samples fit the measurement time.
    g.sampling_mode(if t0.elapsed() > Duration::from_millis(20) { SamplingMode::Flat } else { SamplingMode::Auto });
    g.throughput(Throughput::Elements(events));
    g.bench_function(id, |b| {
        b.iter_batched(
            || SyntheticLab::new(&w),
            |mut lab| black_box(engine::run(&w, &mut lab, &mut NoEvents, |_| {}).unwrap()),
            BatchSize::LargeInput,
        )
    });
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine/star_shared");
    for n in [10usize, 100, 1000] {
        case(&mut g, n.to_string(), &star_scenario(n));
    }
    g.finish();

    let mut g = c.benchmark_group("engine/mesh");
    case(&mut g, "100".into(), &mesh_scenario(100));
    g.finish();
}

criterion_group! {
    name = benches;
    // Short windows keep the whole bench under a minute; the command line
    // (--measurement-time, --sample-size, --quick) still overrides them.
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(7));
    targets = bench
}
criterion_main!(benches);
