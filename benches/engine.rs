//! The simulation engine (`slfsim::sim::engine::run`) on a synthetic event
//! load, with no LibTorch work at all.
//!
//! Run it with
//!
//! ```text
//! cargo bench --bench engine               # full measurement (about two minutes)
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
//! - `engine/star_shared/N`, N = 10, 100, 1000, 10000 (and 100000 with
//!   `SLFSIM_BENCH_LARGE=1`): N TX around one base station `bs`, every access
//!   link meeting at a radio hub joined to `bs` by one shared link of 20/10
//!   Mbit/s per thousand TX (at least 20/10); oracle detection, memoized fidelity, SLF
//!   (ℓ = 0), every TX sending 0.5 messages/s to `bs`. About three quarters of
//!   the TX hold a transceiver trained apart from `bs`'s, so their downloads
//!   and uploads all compete for the shared link. The horizon is sized so
//!   every pair recovers (checked before timing).
//! - `engine/mesh/N`, N = 100, 1000 (and 10000 with `SLFSIM_BENCH_LARGE=1`):
//!   N users in a random geometric graph (radius 0.18·√(100/N), about ten
//!   neighbours each; horizon 120 s at 100 users, 240 s above), each
//!   sending 0.5 messages/s to each neighbour, with the `monitor` detection
//!   rule (fed by `SyntheticLab`'s confidences) and a channel
//!   change of one group mid-run, so stale alignments are discarded and
//!   served again.
//!
//! World building and scenario parsing happen outside the timed loop; each
//! timed iteration is one `engine::run` with a fresh `SyntheticLab`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use slfsim::scenario::Scenario;
use slfsim::sim::engine::{self, RunOutput};
use slfsim::sim::events::NoEvents;
use slfsim::sim::synthetic::SyntheticLab;
use slfsim::sim::world::{self, World};

#[path = "common/synthetic.rs"]
mod synthetic;
use synthetic::{mesh_scenario, star_scenario};

/// Builds the world and makes one untimed run: checks that every episode
/// recovered and returns the events a run handles.
fn prepare(sc: &Scenario) -> (World, u64) {
    let w = world::build(sc).unwrap_or_else(|(f, m)| panic!("{}: {f}: {m}", sc.name));
    let out: RunOutput = engine::run(&w, &mut SyntheticLab::new(&w), &mut NoEvents, |_| {})
        .unwrap_or_else(|e| panic!("{}: engine: {e}", sc.name));
    let a = &out.summary.aggregate;
    assert!(a.episodes > 0, "{}: no misalignment episodes", sc.name);
    // Nearly every episode recovers by the horizon (all of them in the
    // stars), or the run would time an idle network. At most one in ten:
    // the meshes' monitor now leaves 5-7% open at the horizon (measured on
    // main at 391a9d1: mesh/100 36 of 681, mesh/1000 616 of 9151).
    assert!(
        a.unrecovered * 10 <= a.episodes,
        "{}: {} of {} episodes unrecovered by the horizon ({} s)",
        sc.name,
        a.unrecovered,
        a.episodes,
        sc.network.horizon_s
    );
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

/// The large cases (a 100,000-TX star, a 10,000-user mesh: a minute per
/// run, ten runs per criterion case) only with `SLFSIM_BENCH_LARGE=1`;
/// `examples/engine_scaling.rs` times them once each for the plot.
fn large() -> bool {
    std::env::var_os("SLFSIM_BENCH_LARGE").is_some_and(|v| v == "1")
}

fn bench(c: &mut Criterion) {
    // The 100,000-TX star expects about 60 M events, above the default cap.
    slfsim::scenario::limits::allow_large();
    let mut g = c.benchmark_group("engine/star_shared");
    for n in [10usize, 100, 1_000, 10_000, 100_000] {
        if n > 10_000 && !large() {
            eprintln!("engine/star_shared/{n}: skipped (set SLFSIM_BENCH_LARGE=1)");
            continue;
        }
        case(&mut g, n.to_string(), &star_scenario(n));
    }
    g.finish();

    let mut g = c.benchmark_group("engine/mesh");
    for n in [100usize, 1_000, 10_000] {
        if n > 1_000 && !large() {
            eprintln!("engine/mesh/{n}: skipped (set SLFSIM_BENCH_LARGE=1)");
            continue;
        }
        case(&mut g, n.to_string(), &mesh_scenario(n));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Short windows keep each case to about ten runs; the command line
    // (--measurement-time, --sample-size, --quick) still overrides them.
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(7));
    targets = bench
}
criterion_main!(benches);
