//! What keeping ε in bins costs in accuracy: real link evaluations and
//! fine-tunings at held-out exact ε values against the same at their
//! nearest bin, as the simulator memoizes them (a radio world's bins).
//!
//!   cargo run --release --example binning_error [-- SCENARIO [OUT_DIR [STEPS [N_FT]]]]
//!
//! SCENARIO (default scenarios/network/city.ron) gives the profiles, the bins
//! (`network.radio.bins`), the test images and the fine-tuning budget
//! (STEPS replaces its steps, as `--steps` does); the RX is the profile of
//! the first cells station, the TXs every other profile a user group starts
//! with. Held-out ε: 16 values drawn uniformly in [0, last bin] from the
//! scenario's seed (evaluations), the first N_FT (default 4) of them for
//! fine-tunings. For a link as met the error is |acc(bin) −
//! acc(ε)|; for an aligned link it is |acc of the fine-tuning at the bin,
//! judged at the bin − acc of the fine-tuning at ε, judged at ε| (what the
//! simulator reports against what an exact simulation would). A second
//! fine-tuning at the same bin with another seed gives the seed-to-seed
//! spread for scale. Writes OUT_DIR/binning_error.md (default docs/figures).

use std::path::{Path, PathBuf};

use rand::Rng;
use slfsim::report::write_atomic;
use slfsim::scenario::{load, TopologyShape};
use slfsim::sim::lab::{Lab, TorchLab, TxState};
use slfsim::sim::physical::bins::Bins;
use slfsim::sim::simulate::{job_context, SimPaths};

fn tx(profile: usize, eps: f64) -> TxState {
    TxState { profile, epsilon_bits: eps.to_bits(), data_profile: profile }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).map_or_else(|| PathBuf::from("scenarios/network/city.ron"), PathBuf::from);
    let out = args.get(2).map_or_else(|| PathBuf::from("docs/figures"), PathBuf::from);
    let mut sc = load(&file).unwrap_or_else(|e| panic!("{e}"));
    if let Some(steps) = args.get(3) {
        sc.align.budget.steps = steps.parse().expect("STEPS");
    }
    let n_ft: usize = args.get(4).map_or(4, |n| n.parse().expect("N_FT"));
    let radio = sc.network.radio.clone().expect("the scenario needs a radio section");
    let bins = Bins::new(&radio.bins).expect("bins");
    let TopologyShape::Cells { stations, .. } = &sc.network.topology.kind else { panic!("needs a cells topology") };
    let group = |name: &str| sc.network.users.iter().find(|g| g.name == name).expect("group");
    let rx = sc.profile_index(&group(stations).profile).expect("profile");
    let mut txs: Vec<usize> =
        sc.network.users.iter().map(|g| sc.profile_index(&g.profile).expect("profile")).filter(|&p| p != rx).collect();
    txs.sort();
    txs.dedup();
    let top = *radio.bins.last().expect("bins");
    let mut rng = slfsim::seed::stream(sc.seed, "binning-heldout", &[]);
    let held: Vec<f64> = (0..16).map(|_| rng.random::<f64>() * top).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let data_dir = slfsim::data::resolve_data_dir(None).expect("data folder");
    let paths = SimPaths { models_dir: sc.models_dir.clone(), data_dir, cache: None };
    let started = std::time::Instant::now();

    // Links as met: the stations' own transceiver and every other profile.
    let mut eval_lab = TorchLab::new(job_context(&sc, &paths), threads).expect("pool");
    let mut rows = Vec::new();
    let mut links = vec![rx];
    links.extend(&txs);
    let mut ids = Vec::new();
    for &p in &links {
        for &e in &held {
            ids.push((p, e, eval_lab.evaluate((tx(p, e), rx)), eval_lab.evaluate((tx(p, bins.nearest(e)), rx))));
        }
    }
    let mut eval_err = Vec::new();
    for (p, e, exact, binned) in ids {
        let (a, ca) = eval_lab.eval_result(exact).map(|r| (r.accuracy, r.mean_confidence)).expect("evaluation");
        let (b, cb) = eval_lab.eval_result(binned).map(|r| (r.accuracy, r.mean_confidence)).expect("evaluation");
        eval_err.push((b - a).abs());
        rows.push(format!(
            "| {} as met | {e:.4} | {:.2} | {a:.4} | {b:.4} | {:.1} | {ca:.3} / {cb:.3} |",
            sc.profiles[p].name,
            bins.nearest(e),
            100.0 * (b - a).abs()
        ));
    }

    // Fine-tunings: every TX profile aligned with RX at ε and at its bin
    // (plus a second seed at the bin), each judged at ε, the bin and back.
    let ft_eps: Vec<f64> = held.iter().copied().take(n_ft).collect();
    let mut judge_at: Vec<f64> = ft_eps.clone();
    judge_at.extend(ft_eps.iter().map(|&e| bins.nearest(e)));
    judge_at.sort_by(f64::total_cmp);
    judge_at.dedup();
    let mut ctx = job_context(&sc, &paths);
    ctx.epsilon_bins = judge_at;
    let mut ft_lab = TorchLab::new(ctx, threads).expect("pool");
    let job = {
        let w = slfsim::sim::world::build(&sc).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
        w.settings.profiles[txs[0]].job.clone()
    };
    let mut jobs = Vec::new();
    for &p in &txs {
        for &e in &ft_eps {
            let b = bins.nearest(e);
            let name = &sc.profiles[p].name;
            let exact = ft_lab.align((tx(p, e), rx), format!("exact|{name}|{e}"), &job);
            let binned = ft_lab.align((tx(p, b), rx), format!("bin|{name}|{b}"), &job);
            let again = ft_lab.align((tx(p, b), rx), format!("bin-seed2|{name}|{b}|{e}"), &job);
            jobs.push((p, e, b, exact, binned, again));
        }
    }
    let (mut ft_err, mut seed_err) = (Vec::new(), Vec::new());
    for (p, e, b, exact, binned, again) in jobs {
        let acc = |lab: &mut TorchLab, j: usize, at: f64| {
            lab.aligned_eval(j, at.to_bits()).map(|r| (r.accuracy, r.mean_confidence)).expect("judged")
        };
        let ((x, cx), (y, cy), (z, _)) =
            (acc(&mut ft_lab, exact, e), acc(&mut ft_lab, binned, b), acc(&mut ft_lab, again, b));
        ft_err.push((y - x).abs());
        seed_err.push((z - y).abs());
        rows.push(format!(
            "| {} aligned (SLF) | {e:.4} | {b:.2} | {x:.4} | {y:.4} | {:.1} (another seed at the bin: {:.1}) | {cx:.3} / {cy:.3} |",
            sc.profiles[p].name,
            100.0 * (y - x).abs(),
            100.0 * (z - y).abs()
        ));
    }
    let pts = |v: &[f64]| 100.0 * mean(v);
    let max = |v: &[f64]| 100.0 * v.iter().copied().fold(0.0, f64::max);
    let summary = format!(
        "Links as met: mean absolute error {:.2} accuracy points (max {:.2}) over {} held-out ε.\n\
         Aligned links (SLF ℓ from the scenario, {} steps): mean absolute error {:.2} points (max {:.2}) over {}; \
         the same fine-tuning at the bin with another seed differs by {:.2} points on average.\n\
         {} LibTorch jobs, {:.0} s wall on {} threads.\n",
        pts(&eval_err),
        max(&eval_err),
        eval_err.len(),
        job.budget.steps,
        pts(&ft_err),
        max(&ft_err),
        ft_err.len(),
        pts(&seed_err),
        eval_lab.counts().0 + ft_lab.counts().1,
        started.elapsed().as_secs_f64(),
        threads
    );
    let md = format!(
        "# Binning error (generated by `cargo run --release --example binning_error -- {}`)\n\n\
         Bins: {:?}; RX: {}; {} test images.\n\n{summary}\n\
         | link | exact ε | bin | accuracy at ε | accuracy at bin | error (points) | confidence at ε / at bin |\n| --- | --- | --- | --- | --- | --- | --- |\n{}\n",
        args[1..].join(" "),
        radio.bins,
        sc.profiles[rx].name,
        sc.eval.test_images,
        rows.join("\n")
    );
    print!("{summary}");
    let path = out.join("binning_error.md");
    write_atomic(Path::new(&path), md.as_bytes()).expect("write");
    println!("wrote {}", path.display());
}
