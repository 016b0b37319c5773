//! `slfsim train`: trains the profiles that lack an up-to-date checkpoint.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use slfsim::report::text_table;
use slfsim::transceiver::{is_up_to_date, save_checkpoint, train_profile};

use super::{load_scenario, progress, Ctx};

#[derive(Args, Debug)]
pub struct TrainArgs {
    scenario: PathBuf,
    /// Retrain even when a checkpoint is up to date.
    #[arg(long)]
    force: bool,
    /// Only these profiles (repeatable).
    #[arg(long = "profile")]
    profiles: Vec<String>,
    /// Checkpoint folder (default: the scenario's models_dir).
    #[arg(long)]
    models_dir: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: TrainArgs) -> Result<()> {
    let sc = load_scenario(&args.scenario)?;
    for p in &args.profiles {
        anyhow::ensure!(sc.profile(p).is_some(), "{}: no profile named {p:?}", args.scenario.display());
    }
    let models = args.models_dir.unwrap_or_else(|| sc.models_dir.clone());
    let data_dir = ctx.data_dir()?;
    let mut rows = Vec::new();
    for profile in sc.profiles.iter().filter(|p| args.profiles.is_empty() || args.profiles.contains(&p.name)) {
        if !args.force && is_up_to_date(&models, profile) {
            println!("{}: up to date in {}", profile.name, models.display());
            continue;
        }
        let pb = progress::bar(0, &profile.name);
        let (model, report) = train_profile(profile, &data_dir, &mut |phase, step, total| {
            pb.set_length(total as u64);
            pb.set_position(step as u64);
            pb.set_message(phase.to_string());
        })
        .with_context(|| format!("training profile {}", profile.name))?;
        pb.finish_and_clear();
        let (w, _) = save_checkpoint(&models, &model, &report)?;
        println!(
            "{}: trained in {:.0} s -> {} (matched accuracy {:.3}, mse {:.4}, codebook {}/{})",
            profile.name,
            report.seconds,
            w.display(),
            report.matched.accuracy,
            report.matched.mse,
            report.matched.usage.used,
            report.matched.usage.size
        );
        rows.push(vec![
            profile.name.clone(),
            format!("{:.3}", report.classifier_accuracy),
            format!("{:.3}", report.matched.accuracy),
            format!("{:.4}", report.matched.mse),
            format!("{:.1}", report.matched.psnr_db),
            format!("{}/{}", report.matched.usage.used, report.matched.usage.size),
            format!("{:.1}", report.matched.usage.perplexity),
            format!("{:.0}", report.seconds),
        ]);
    }
    if !rows.is_empty() {
        print!(
            "{}",
            text_table(
                &["profile", "clf acc", "matched acc", "mse", "psnr dB", "codes used", "perplexity", "seconds"],
                &rows
            )
        );
    }
    Ok(())
}
