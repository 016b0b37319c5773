//! `slfsim two-user`: the paper's two-user study from a scenario's
//! `two_user` section; the report module writes its tables and plots.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use slfsim::report::{write_two_user_calibration, write_two_user_plots, write_two_user_tables};
use slfsim::study::{calibration, run_two_user, summarise};

use super::{load_scenario, progress, Ctx, Paths};

#[derive(Args, Debug)]
pub struct TwoUserArgs {
    scenario: PathBuf,
    /// Fine-tuning steps per alignment (default: the scenario's align.budget.steps).
    #[arg(long)]
    steps: Option<usize>,
    #[command(flatten)]
    paths: Paths,
}

pub fn run(ctx: &Ctx, args: TwoUserArgs) -> Result<()> {
    let mut sc = load_scenario(&args.scenario)?;
    anyhow::ensure!(!sc.two_user.pairs.is_empty(), "{}: two_user.pairs is empty", args.scenario.display());
    super::override_steps(&mut sc, args.steps)?;
    let out = args.paths.out(&sc)?;
    let models_dir = args.paths.models(&sc);
    let data_dir = ctx.data_dir()?;
    super::fit_to_data(&mut sc, &data_dir);
    // After the fit: curve_images may have been clamped.
    let budget = sc.align.budget.clone();
    let pb = progress::bar(0, "alignments");
    let rows = run_two_user(
        &sc.two_user,
        &sc.profiles,
        &models_dir,
        &data_dir,
        sc.eval.test_images,
        &budget,
        &sc.align.cost,
        sc.seed,
        |done, total, what| {
            pb.set_length(total as u64);
            pb.set_position(done as u64);
            pb.set_message(what.to_string());
        },
    )?;
    pb.finish_and_clear();
    let summary = summarise(&rows);

    Paths::claim(&out)?;
    let tables = write_two_user_tables(&out, &rows, &summary)?;
    print!("{}", tables.terminal);
    let plots = write_two_user_plots(&out, &summary)?;
    let note = [
        format!("Mean headline accuracy after alignment, by `slfsim two-user {}`", args.scenario.display()),
        format!(
            "({} pairs, {} fine-tuning steps, {} test images); kind and data sets (TX's, RX's)",
            sc.two_user.pairs.len(),
            budget.steps,
            sc.eval.test_images
        ),
        "as the adaptive policy groups links; only its candidates' methods.".to_string(),
    ];
    let cal = write_two_user_calibration(&out, &calibration(&rows, &sc.profiles), &note)?;
    println!("results: {}", tables.summary_md.display());
    println!("calibration: {}", cal.display());
    for p in plots {
        println!("plot: {}", p.display());
    }
    Ok(())
}
