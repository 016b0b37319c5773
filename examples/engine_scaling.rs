//! The engine's throughput against the number of users: the synthetic stars
//! and random geometric meshes of `benches/engine.rs` (same scenarios,
//! `SyntheticLab`, no LibTorch work, no events written), each run `--runs`
//! times (default 3) after one untimed run; the median wall time gives
//! events/s. Writes `engine_scaling.csv` and the plot
//! `engine_scaling.{svg,png}` into the output folder (default
//! `docs/figures`).
//!
//! ```text
//! cargo run --release --example engine_scaling -- [--runs 3] [--out docs/figures] [--max-users 100000] [--only star:1000,mesh:1000]
//! ```
//!
//! `--only` times just the listed cases (kind:users), for profiling one size.

#[path = "../benches/common/synthetic.rs"]
mod synthetic;

use std::path::PathBuf;
use std::time::Instant;

use slfsim::report::{line_chart, write_atomic, Series};
use slfsim::scenario::Scenario;
use slfsim::sim::engine;
use slfsim::sim::events::NoEvents;
use slfsim::sim::synthetic::SyntheticLab;
use slfsim::sim::world;
use synthetic::{mesh_scenario, star_scenario};

struct Row {
    kind: &'static str,
    users: usize,
    pairs: usize,
    events: usize,
    build_s: f64,
    run_s: f64,
    per_user: f64,
    per_pair: f64,
}

fn measure(kind: &'static str, sc: &Scenario, runs: usize) -> Row {
    let t = Instant::now();
    let w = world::build(sc).unwrap_or_else(|(f, m)| panic!("{}: {f}: {m}", sc.name));
    let build_s = t.elapsed().as_secs_f64();
    let first = engine::run(&w, &mut SyntheticLab::new(&w), &mut NoEvents, |_| {}).expect("engine");
    let a = &first.summary.aggregate;
    // Nearly every episode must recover within the horizon, or the run
    // would measure an idle network (at most one in ten, as in benches/engine.rs).
    assert!(a.unrecovered * 10 <= a.episodes, "{}: {} of {} episodes unrecovered", sc.name, a.unrecovered, a.episodes);
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let mut lab = SyntheticLab::new(&w);
            let t = Instant::now();
            let o = engine::run(&w, &mut lab, &mut NoEvents, |_| {}).expect("engine");
            let s = t.elapsed().as_secs_f64();
            assert_eq!(o.summary.aggregate.events, a.events, "runs differ");
            s
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let row = Row {
        kind,
        users: w.users.len(),
        pairs: a.pairs,
        events: a.events,
        build_s,
        run_s: times[times.len() / 2],
        per_user: first.state.per_user,
        per_pair: first.state.per_pair,
    };
    eprintln!(
        "{kind} {:>6} users {:>7} pairs: {:>10} events in {:.3} s = {:.2} M events/s (world built in {:.2} s; {:.0} B/user, {:.0} B/pair; {} of {} episodes unrecovered)",
        row.users,
        row.pairs,
        row.events,
        row.run_s,
        row.events as f64 / row.run_s / 1e6,
        row.build_s,
        row.per_user,
        row.per_pair,
        a.unrecovered,
        a.episodes
    );
    row
}

fn main() {
    // The 100,000-TX star expects about 60 M events, above the default cap.
    slfsim::scenario::limits::allow_large();
    let mut args = std::env::args().skip(1);
    let (mut runs, mut out, mut max_users) = (3usize, PathBuf::from("docs/figures"), 100_000usize);
    let mut only: Option<Vec<String>> = None;
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--runs" => runs = v.parse().expect("--runs N"),
            "--out" => out = PathBuf::from(v),
            "--max-users" => max_users = v.parse().expect("--max-users N"),
            "--only" => only = Some(v.split(',').map(str::to_string).collect()),
            _ => panic!("unknown option {a}"),
        }
    }
    let wanted =
        |kind: &str, n: usize| n <= max_users && only.as_ref().is_none_or(|o| o.contains(&format!("{kind}:{n}")));
    let mut rows = Vec::new();
    for n in [10usize, 100, 1_000, 10_000, 100_000].into_iter().filter(|&n| wanted("star", n)) {
        rows.push(measure("star", &star_scenario(n), runs));
    }
    for n in [100usize, 1_000, 10_000].into_iter().filter(|&n| wanted("mesh", n)) {
        rows.push(measure("mesh", &mesh_scenario(n), runs));
    }
    let mut csv =
        String::from("kind,users,pairs,events,world_build_s,run_s,events_per_s,bytes_per_user,bytes_per_pair\n");
    for r in &rows {
        csv += &format!(
            "{},{},{},{},{:.4},{:.4},{:.0},{:.0},{:.0}\n",
            r.kind,
            r.users,
            r.pairs,
            r.events,
            r.build_s,
            r.run_s,
            r.events as f64 / r.run_s,
            r.per_user,
            r.per_pair
        );
    }
    std::fs::create_dir_all(&out).expect("output folder");
    write_atomic(&out.join("engine_scaling.csv"), csv.as_bytes()).expect("csv");
    let series = |kind: &str, name: &str| Series {
        name: name.into(),
        points: rows
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| (r.users as f64, r.events as f64 / r.run_s / 1e6))
            .collect(),
        band: None,
    };
    let files = line_chart(
        &out.join("engine_scaling"),
        "Engine throughput (synthetic lab, 2 cores shared)",
        "users",
        "million events per second",
        &[series("star", "star, shared link"), series("mesh", "random geometric mesh")],
        true,
    )
    .expect("plot");
    for f in files {
        eprintln!("wrote {}", f.display());
    }
}
