//! `slfsim run`: the multi-user network simulation of a scenario.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, ValueEnum};
use slfsim::report::{write_run, EventsFile};
use slfsim::sim::events::{EventVolume, NoEvents};
use slfsim::sim::simulate::{simulate, SimPaths};

use super::{load_scenario, progress, Ctx, Paths};

#[derive(Args, Debug)]
pub struct RunArgs {
    scenario: PathBuf,
    /// Override align.budget.steps (e.g. a few steps for a quick check of a scenario's network).
    #[arg(long)]
    steps: Option<usize>,
    /// What events.jsonl records: all events, episodes (all but message_sent and
    /// message_received), or none (no events.jsonl).
    #[arg(long, value_enum, default_value_t = Events::All)]
    events: Events,
    /// The adaptive policy's calibration file (CSV `kind,tx_dataset,rx_dataset,method,accuracy`; overrides
    /// network.policy.calibration).
    #[arg(long)]
    calibration: Option<PathBuf>,
    #[command(flatten)]
    paths: Paths,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Events {
    All,
    Episodes,
    None,
}

pub fn run(ctx: &Ctx, args: RunArgs) -> Result<()> {
    let mut sc = load_scenario(&args.scenario)?;
    super::override_steps(&mut sc, args.steps)?;
    if let Some(c) = args.calibration {
        sc.network.policy.calibration = Some(c);
    }
    let dir = args.paths.out(&sc)?;
    let data_dir = ctx.data_dir()?;
    super::fit_to_data(&mut sc, &data_dir);
    let paths = SimPaths { models_dir: args.paths.models(&sc), data_dir, cache: None };
    let started = std::time::Instant::now();
    let horizon_ms = (sc.network.horizon_s * 1000.0) as u64;
    // events.jsonl is streamed into a temporary file beside it during the run;
    // a rejected or failed run must leave no folder it created.
    let created = missing_dirs(&dir);
    let mut events = match args.events {
        Events::All => Some(EventsFile::create(&dir, EventVolume::All)?),
        Events::Episodes => Some(EventsFile::create(&dir, EventVolume::Episodes)?),
        Events::None => None,
    };
    let pb = progress::bar(horizon_ms, "simulated ms");
    let progress = |now_s: f64| pb.set_position((now_s * 1000.0) as u64);
    let out = match events.as_mut() {
        Some(f) => simulate(&sc, &paths, ctx.threads, f, progress),
        None => simulate(&sc, &paths, ctx.threads, &mut NoEvents, progress),
    }
    .map_err(|e| {
        drop(events.take());
        // Innermost first; remove_dir leaves any folder that is not empty.
        for d in &created {
            let _ = std::fs::remove_dir(d);
        }
        anyhow::anyhow!("{}: {e}", args.scenario.display())
    })?;
    pb.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();

    // Claimed (created if need be, marked) only now that there are results;
    // then events.jsonl first: report.html (written last by write_run) links it.
    Paths::claim(&dir)?;
    let mut files = Vec::new();
    match events {
        Some(f) => files.push(f.commit()?),
        None => {
            // A previous run's events would not match this run's summary.
            let old = dir.join("events.jsonl");
            if old.exists() {
                std::fs::remove_file(&old)?;
            }
        }
    }
    files.extend(write_run(&dir, &out)?);
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
    // stdout: a run that succeeds writes nothing on stderr.
    println!(
        "state: {:.0} B per user, {:.0} B per pair ({} users, {} pairs)",
        out.state.per_user, out.state.per_pair, out.state.users, out.state.pairs
    );
    println!("wrote {} files to {}", files.len(), dir.display());
    Ok(())
}

/// The folders of `dir`'s path that do not exist yet, innermost first.
fn missing_dirs(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors().filter(|p| !p.as_os_str().is_empty()).take_while(|p| !p.exists()).map(Path::to_path_buf).collect()
}
