//! `slfsim study`: every (point, replication) of a study file as its own
//! simulation, several at a time; resumable, shardable, mergeable.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use clap::Args;
use slfsim::report::{
    clean_partial_runs, copy_missing_runs, write_plan, write_run_folder, write_study_results, Timing,
};
use slfsim::sim::events::NoEvents;
use slfsim::sim::job_cache::JobCache;
use slfsim::sim::simulate::{simulate, SimPaths};
use slfsim::study::sweep::{plan, shard, Plan};

use super::{progress, Ctx};

#[derive(Args, Debug)]
pub struct StudyArgs {
    /// The study file (not with --merge).
    study: Option<PathBuf>,
    /// Output folder (default: output/<study name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs at a time (each gets --threads / jobs LibTorch job workers).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Run only slice I of N (0 <= I < N), e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Combine the outputs of shards (folders) into --out.
    #[arg(long, num_args = 1.., conflicts_with_all = ["study", "shard"])]
    merge: Vec<PathBuf>,
    /// Checkpoint folder (default: each scenario's models_dir).
    #[arg(long)]
    models_dir: Option<PathBuf>,
    /// Job cache folder (default: <out>/cache). Shards given one shared folder
    /// pay each fine-tuning and link evaluation once, also when running at once.
    #[arg(long, conflicts_with = "merge")]
    cache: Option<PathBuf>,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s.split_once('/').ok_or("expected I/N, e.g. 0/4")?;
    let (i, n): (usize, usize) =
        (i.trim().parse().map_err(|_| "I is not a number")?, n.trim().parse().map_err(|_| "N is not a number")?);
    if n == 0 || i >= n {
        return Err(format!("need 0 <= I < N, got {i}/{n}"));
    }
    Ok((i, n))
}

pub fn run(ctx: &Ctx, args: StudyArgs) -> Result<()> {
    if !args.merge.is_empty() {
        let out = args.out.clone().context("--merge needs --out DIR")?;
        return merge(&args.merge, &out);
    }
    let file = args.study.clone().context("give a study file (or --merge DIR...)")?;
    anyhow::ensure!((1..=1024).contains(&args.jobs), "--jobs {} must be in 1..=1024", args.jobs);
    let plan = plan(&file)?;
    let out = args.out.clone().unwrap_or_else(|| Path::new("output").join(&plan.name));
    // Both folders refused (a file, not writable) before anything is written.
    slfsim::report::out_dir::check(&out)?;
    let cache = Arc::new(JobCache::open(&args.cache.clone().unwrap_or_else(|| out.join("cache")))?);
    slfsim::report::out_dir::claim(&out)?;
    let previous = out.join("study.json");
    if previous.exists() {
        let old: Plan =
            serde_json::from_slice(&read_json(&previous)?).with_context(|| format!("{}", previous.display()))?;
        // Compare what study.json records (the scenarios themselves are not stored).
        if (&old.name, &old.labels, old.x_axis, &old.runs) != (&plan.name, &plan.labels, plan.x_axis, &plan.runs) {
            bail!("{} holds the results of another study (or an edited one); use a fresh --out", out.display());
        }
    }
    write_plan(&out, &plan)?;
    let runs_dir = out.join("runs");
    let cleaned = clean_partial_runs(&runs_dir)?;
    if cleaned > 0 {
        tracing::info!(cleaned, "removed unfinished runs of an interrupted study");
    }
    let selected: Vec<usize> = match args.shard {
        Some((i, n)) => shard(plan.runs.len(), i, n),
        None => (0..plan.runs.len()).collect(),
    };
    let todo: Vec<usize> =
        selected.iter().copied().filter(|&i| !runs_dir.join(&plan.runs[i].id).join("summary.json").exists()).collect();
    let points = plan.runs.iter().map(|r| r.point).max().map_or(0, |p| p + 1);
    let shard_note = args.shard.map_or(String::new(), |(i, n)| format!(" in shard {i}/{n}"));
    println!(
        "{}: {} points x {} replications = {} runs; {} selected{shard_note}, {} to run, {} already finished",
        plan.name,
        points,
        plan.runs.len() / points.max(1),
        plan.runs.len(),
        selected.len(),
        todo.len(),
        selected.len() - todo.len()
    );

    let data_dir = ctx.data_dir()?;
    let threads = (ctx.threads / args.jobs).max(1);
    let pb = progress::bar(selected.len() as u64, "runs");
    pb.set_position((selected.len() - todo.len()) as u64);
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..args.jobs.min(todo.len().max(1)) {
            s.spawn(|| loop {
                // A signal: finished runs are in place, the others start again on resume.
                if failed.lock().unwrap_or_else(|e| e.into_inner()).is_some() || slfsim::cancel::interrupted().is_some()
                {
                    return;
                }
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(&i) = todo.get(k) else { return };
                let (spec, sc) = (&plan.runs[i], &plan.scenarios[i]);
                let paths = SimPaths {
                    models_dir: args.models_dir.clone().unwrap_or_else(|| sc.models_dir.clone()),
                    data_dir: data_dir.clone(),
                    cache: Some(Arc::clone(&cache)),
                };
                let started = std::time::Instant::now();
                let r = simulate(sc, &paths, threads, &mut NoEvents, |_| {})
                    .map_err(|e| anyhow::anyhow!("run {}: {e}", spec.id))
                    .and_then(|o| {
                        let wall_s = started.elapsed().as_secs_f64();
                        let events = o.summary.aggregate.events;
                        let t = Timing { wall_s, events, events_per_s: events as f64 / wall_s.max(1e-9) };
                        Ok(write_run_folder(&runs_dir, spec, &o.summary, &t)?)
                    });
                match r {
                    Ok(_) => pb.inc(1),
                    Err(e) => {
                        failed.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    pb.finish_and_clear();
    print_cache(&cache);
    if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    if slfsim::cancel::interrupted().is_some() {
        bail!("interrupted");
    }
    if let Some((i, n)) = args.shard {
        println!(
            "shard {i}/{n} finished: {} runs in {}; combine the shards with `slfsim study --merge DIR... --out DIR`",
            selected.len(),
            runs_dir.display()
        );
        return Ok(());
    }
    finish(&plan, &out)
}

/// What this process did with the job cache (stdout only: outputs do not depend on it).
fn print_cache(cache: &JobCache) {
    let s = cache.stats();
    let waited =
        if s.waited > 0 { format!(" ({} after waiting for another run or process)", s.waited) } else { String::new() };
    let replaced = if s.replaced > 0 { format!("; damaged entries replaced: {}", s.replaced) } else { String::new() };
    println!("job cache {}: {} computed, {} reused{waited}{replaced}", cache.dir().display(), s.computed, s.hits);
}

/// Writes the study's tables and plots into `out` from its finished runs.
fn finish(plan: &Plan, out: &Path) -> Result<()> {
    let r = write_study_results(plan, out)?;
    println!("{}: {} runs, {} points; {:.0} s of run wall time in total", plan.name, r.runs, r.points, r.wall_s);
    println!("wrote {} files to {}", r.files.len(), out.display());
    Ok(())
}

/// A study's own JSON file, read with a size limit.
fn read_json(p: &Path) -> Result<Vec<u8>> {
    slfsim::bounded::read(p, slfsim::bounded::MAX_TEXT << 4).with_context(|| format!("{}", p.display()))
}

fn merge(dirs: &[PathBuf], out: &Path) -> Result<()> {
    // Merging into an input would rewrite it while it is read.
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y);
    if let Some(d) = dirs.iter().find(|d| same(d, out)) {
        bail!("--out {} is one of the folders to merge ({}); merge into a new folder", out.display(), d.display());
    }
    let mut plans = Vec::new();
    for d in dirs {
        let p = d.join("study.json");
        let bytes = read_json(&p).with_context(|| format!("{} is not a study output (no study.json)", d.display()))?;
        let plan: Plan = serde_json::from_slice(&bytes).with_context(|| format!("{}", p.display()))?;
        plans.push(plan);
    }
    slfsim::report::out_dir::claim(out)?;
    let plan = plans[0].clone();
    if let Some(i) = plans.iter().position(|p| *p != plan) {
        bail!("{} holds another study than {}", dirs[i].display(), dirs[0].display());
    }
    // The merged folder is a complete study folder: every run is written into it.
    copy_missing_runs(&plan, dirs, out)?;
    write_plan(out, &plan)?;
    finish(&plan, out)
}
