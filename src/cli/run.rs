//! `slfsim run`: the multi-user network simulation of a scenario.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use slfsim::report::write_run;
use slfsim::sim::simulate::{simulate, SimPaths};

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
    super::override_steps(&mut sc, args.steps)?;
    let dir = args.paths.out(&sc)?;
    let data_dir = ctx.data_dir()?;
    super::fit_to_data(&mut sc, &data_dir);
    let paths = SimPaths { models_dir: args.paths.models(&sc), data_dir, cache_dir: None };
    let started = std::time::Instant::now();
    let horizon_ms = (sc.network.horizon_s * 1000.0) as u64;
    let pb = progress::bar(horizon_ms, "simulated ms");
    let out = simulate(&sc, &paths, ctx.threads, |now_s| pb.set_position((now_s * 1000.0) as u64))
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.scenario.display()))?;
    pb.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();

    Paths::claim(&dir)?;
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
