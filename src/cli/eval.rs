//! `slfsim eval`: the misalignment map of a scenario's profiles.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use slfsim::align::misalignment_map;
use slfsim::report::{heatmap, text_table, write_json_atomic, Heatmap};
use slfsim::transceiver::{load_checkpoint, test_batch};

use super::{load_scenario, progress, Ctx, Paths};

#[derive(Args, Debug)]
pub struct EvalArgs {
    scenario: PathBuf,
    /// Also write the JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    paths: Paths,
}

pub fn run(ctx: &Ctx, args: EvalArgs) -> Result<()> {
    let mut sc = load_scenario(&args.scenario)?;
    let out = args.paths.out(&sc)?;
    let models_dir = args.paths.models(&sc);
    let data_dir = ctx.data_dir()?;
    super::fit_to_data(&mut sc, &data_dir);
    let mut models = Vec::new();
    let mut tests = Vec::new();
    for p in &sc.profiles {
        let (m, _) = load_checkpoint(&models_dir, p)?;
        models.push(m);
        tests.push(
            test_batch(p, &data_dir, sc.eval.test_images)
                .with_context(|| format!("test data of profile {}", p.name))?,
        );
    }
    let pb = progress::bar(0, "pairs");
    let map = misalignment_map(&models, &tests, sc.seed, |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    });
    pb.finish_and_clear();

    let json_path = out.join("misalignment.json");
    Paths::claim(&out)?;
    write_json_atomic(&json_path, &map)?;
    if let Some(p) = &args.json {
        write_json_atomic(p, &map)?;
    }
    let names: Vec<String> = sc.profiles.iter().map(|p| p.name.clone()).collect();
    let grid = |f: &dyn Fn(&slfsim::align::PairMetrics) -> f64| -> Vec<Vec<f64>> {
        names
            .iter()
            .map(|tx| names.iter().map(|rx| f(map.get(tx, rx).expect("every pair evaluated"))).collect())
            .collect()
    };
    let acc = grid(&|m| m.accuracy);
    let mse = grid(&|m| m.mse);
    let max_mse = mse.iter().flatten().cloned().fold(0.0, f64::max);
    let mut plots = heatmap(
        &out.join("misalignment_accuracy"),
        &Heatmap {
            title: &format!("{}: RX classifier accuracy on TX's images", sc.name),
            row_axis: "TX profile",
            col_axis: "RX profile",
            row_labels: &names,
            col_labels: &names,
            values: &acc,
            range: (0.0, 1.0),
            reverse: false,
            fmt: &|v| format!("{:.2}", v),
        },
    )?;
    plots.extend(heatmap(
        &out.join("misalignment_mse"),
        &Heatmap {
            title: &format!("{}: reconstruction MSE", sc.name),
            row_axis: "TX profile",
            col_axis: "RX profile",
            row_labels: &names,
            col_labels: &names,
            values: &mse,
            range: (0.0, max_mse.max(1e-6)),
            reverse: true,
            fmt: &|v| format!("{:.3}", v),
        },
    )?);
    let rows: Vec<Vec<String>> = map
        .pairs
        .iter()
        .map(|p| {
            vec![
                p.tx.clone(),
                p.rx.clone(),
                format!("{:.3}", p.accuracy),
                format!("{:.4}", p.mse),
                format!("{:.1}", p.psnr_db),
            ]
        })
        .collect();
    print!("{}", text_table(&["tx", "rx", "accuracy", "mse", "psnr dB"], &rows));
    println!("results: {}", json_path.display());
    for p in plots {
        println!("plot: {}", p.display());
    }
    Ok(())
}
