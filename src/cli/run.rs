//! `slfsim run`: the multi-user network simulation of a scenario.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use slfsim::report::write_run;
use slfsim::sim::engine;
use slfsim::sim::lab::{JobContext, TorchLab};
use slfsim::sim::world;
use slfsim::transceiver::load_checkpoint;

use super::{load_scenario, progress, Ctx, Paths};

#[derive(Args, Debug)]
pub struct RunArgs {
    scenario: PathBuf,
    /// Override align.budget.steps (e.g. a few steps for a quick check of a scenario's network).
    #[arg(long)]
    steps: Option<usize>,
    #[command(flatten)]
    paths: Paths,
}

pub fn run(ctx: &Ctx, args: RunArgs) -> Result<()> {
    let mut sc = load_scenario(&args.scenario)?;
    if let Some(n) = args.steps {
        sc.align.budget.steps = n;
    }
    let w = world::build(&sc).map_err(|(field, msg)| anyhow::anyhow!("{}: {field}: {msg}", args.scenario.display()))?;
    let models_dir = args.paths.models(&sc);
    let data_dir = ctx.data_dir()?;
    // Every checkpoint a job may load is checked before the clock starts.
    let mut used: Vec<usize> = w.users.iter().map(|u| u.profile).collect();
    for c in &w.changes {
        if let slfsim::scenario::Change::Data { profile, .. } = &c.change {
            used.extend(sc.profiles.iter().position(|p| &p.name == profile));
        }
    }
    used.sort();
    used.dedup();
    for &i in &used {
        load_checkpoint(&models_dir, &sc.profiles[i]).with_context(|| format!("profile {} (run `slfsim train {}`)", sc.profiles[i].name, args.scenario.display()))?;
    }
    let started = std::time::Instant::now();
    let job_ctx = JobContext {
        profiles: sc.profiles.clone(),
        models_dir,
        data_dir,
        test_images: sc.eval.test_images,
        budget: sc.align.budget.clone(),
        cost: sc.align.cost,
        method: sc.network.policy.method,
        seed: sc.seed,
    };
    let mut lab = TorchLab::new(job_ctx, ctx.threads)?;
    let horizon_ms = (sc.network.horizon_s * 1000.0) as u64;
    let pb = progress::bar(horizon_ms, "simulated ms");
    let out = engine::run(&sc, &w, &mut lab, |now_s| pb.set_position((now_s * 1000.0) as u64))?;
    pb.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();

    let dir = args.paths.out(&sc);
    let files = write_run(&dir, &out)?;
    let a = &out.summary.aggregate;
    let f = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:.2}"));
    println!(
        "{}: {} users, {} pairs, {} episodes, {} recovered; recovery mean {} s, median {} s, p95 {} s, max {} s; accuracy {:.3} -> {} (time-averaged {:.3})",
        sc.name,
        out.summary.users.len(),
        a.pairs,
        a.episodes,
        a.recovered,
        f(a.recovery_mean_s),
        f(a.recovery_median_s),
        f(a.recovery_p95_s),
        f(a.recovery_max_s),
        a.accuracy_before_mean,
        a.accuracy_after_mean.map_or("-".into(), |x| format!("{x:.3}")),
        a.time_avg_accuracy
    );
    println!(
        "{} events, {} fine-tunings and {} link evaluations ({}), {:.1} s wall, {:.0} events/s",
        a.events,
        a.fine_tunings,
        a.evaluations,
        out.summary.fidelity,
        wall,
        a.events as f64 / wall.max(1e-9)
    );
    println!("wrote {} files to {}", files.len(), dir.display());
    Ok(())
}
