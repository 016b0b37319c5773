//! `slfsim two-user`: the paper's two-user study from a scenario's
//! `two_user` section; writes a table (CSV + Markdown) and plots.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use slfsim::report::{line_chart, text_table, write_atomic, write_csv_atomic, Series};
use slfsim::study::{run_two_user, summarise, Spread, SummaryRow};

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

fn pm(s: &Spread, digits: usize) -> String {
    format!("{:.*} ± {:.*}", digits, s.mean, digits, s.std)
}

pub fn run(ctx: &Ctx, args: TwoUserArgs) -> Result<()> {
    let mut sc = load_scenario(&args.scenario)?;
    anyhow::ensure!(!sc.two_user.pairs.is_empty(), "{}: two_user.pairs is empty", args.scenario.display());
    super::override_steps(&mut sc, args.steps)?;
    let budget = sc.align.budget.clone();
    let out = args.paths.out(&sc)?;
    let models_dir = args.paths.models(&sc);
    let data_dir = ctx.data_dir()?;
    super::fit_to_data(&mut sc, &data_dir);
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
    // Per-run CSV.
    let runs: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let a = &r.result;
            vec![
                r.study.clone(),
                r.replicate.to_string(),
                a.tx.clone(),
                a.rx.clone(),
                a.method.clone(),
                a.freeze.map(|f| f.to_string()).unwrap_or_default(),
                a.steps.to_string(),
                format!("{:?}", a.headline).to_lowercase(),
                format!("{:.4}", a.before.accuracy_rx),
                format!("{:.4}", a.before.accuracy_tx),
                format!("{:.6}", a.before.mse),
                format!("{:.4}", a.after.accuracy_rx),
                format!("{:.4}", a.after.accuracy_tx),
                format!("{:.6}", a.after.mse),
                a.download_bytes.to_string(),
                a.upload_bytes.to_string(),
                a.finetune_flops.to_string(),
                format!("{:.4}", a.download_s),
                format!("{:.4}", a.compute_s),
                format!("{:.4}", a.upload_s),
                format!("{:.4}", a.recovery_time_s),
            ]
        })
        .collect();
    let run_headers = [
        "study",
        "replicate",
        "tx",
        "rx",
        "method",
        "freeze",
        "steps",
        "headline",
        "before_accuracy_rx",
        "before_accuracy_tx",
        "before_mse",
        "after_accuracy_rx",
        "after_accuracy_tx",
        "after_mse",
        "download_bytes",
        "upload_bytes",
        "finetune_flops",
        "download_s",
        "compute_s",
        "upload_s",
        "recovery_time_s",
    ];
    write_csv_atomic(&out.join("two_user_runs.csv"), &run_headers, &runs)?;
    slfsim::report::write_json_atomic(&out.join("two_user_runs.json"), &rows)?;

    // Summary: CSV (mean, std) and Markdown.
    let headers = [
        "study",
        "method",
        "freeze",
        "n",
        "accuracy_after",
        "gain_points",
        "mse_after",
        "mse_cut_percent",
        "upload_bytes",
        "finetune_flops",
        "recovery_time_s",
    ];
    let mut csv_rows = Vec::new();
    let mut md_rows = Vec::new();
    for s in &summary {
        csv_rows.push(vec![
            s.study.clone(),
            s.method.clone(),
            s.freeze.map(|f| f.to_string()).unwrap_or_default(),
            s.accuracy_after.n.to_string(),
            format!("{:.4}", s.accuracy_after.mean),
            format!("{:.2}", s.gain_points.mean),
            format!("{:.6}", s.mse_after.mean),
            format!("{:.2}", s.mse_cut_percent.mean),
            format!("{:.0}", s.upload_bytes.mean),
            format!("{:.4e}", s.finetune_flops.mean),
            format!("{:.3}", s.recovery_time_s.mean),
        ]);
        md_rows.push(vec![
            s.study.clone(),
            s.method.clone(),
            s.freeze.map(|f| f.to_string()).unwrap_or("-".into()),
            format!("{} → {}", pm(&s.accuracy_before, 3), pm(&s.accuracy_after, 3)),
            pm(&s.gain_points, 1),
            format!("{} → {}", pm(&s.mse_before, 4), pm(&s.mse_after, 4)),
            pm(&s.mse_cut_percent, 1),
            format!("{:.0}", s.upload_bytes.mean),
            format!("{:.3e}", s.finetune_flops.mean),
            pm(&s.recovery_time_s, 2),
        ]);
    }
    write_csv_atomic(&out.join("two_user_summary.csv"), &headers, &csv_rows)?;
    let md_headers = [
        "study",
        "method",
        "ℓ",
        "accuracy before → after",
        "gain (points)",
        "MSE before → after",
        "MSE cut %",
        "upload B",
        "FLOPs",
        "recovery s",
    ];
    let mut md = format!("| {} |\n|{}\n", md_headers.join(" | "), " --- |".repeat(md_headers.len()));
    for r in &md_rows {
        md += &format!("| {} |\n", r.join(" | "));
    }
    md += "\nMean ± standard deviation over replicates. Accuracy is the headline judge: RX's classifier for pairs on one data set, a classifier of TX's data domain across data sets.\n";
    write_atomic(&out.join("two_user_summary.md"), md.as_bytes())?;
    print!("{}", text_table(&md_headers, &md_rows));

    let mut plots = Vec::new();
    let studies: Vec<String> = summary.iter().fold(Vec::new(), |mut v, s| {
        if !v.contains(&s.study) {
            v.push(s.study.clone());
        }
        v
    });
    let slf = |study: &str| -> Vec<&SummaryRow> {
        summary.iter().filter(|s| s.study == study && s.method.starts_with("slf-l")).collect()
    };
    let series_of = |f: &dyn Fn(&SummaryRow) -> &Spread| -> Vec<Series> {
        studies
            .iter()
            .map(|st| {
                let rows = slf(st);
                Series {
                    name: st.clone(),
                    points: rows.iter().map(|r| (r.freeze.unwrap_or(0) as f64, f(r).mean)).collect(),
                    band: Some(rows.iter().map(|r| (f(r).min, f(r).max)).collect()),
                }
            })
            .collect()
    };
    plots.extend(line_chart(
        &out.join("two_user_accuracy_vs_freeze"),
        "Accuracy after SLF vs frozen layers (band: min-max over replicates)",
        "frozen decoder layers ℓ",
        "headline accuracy",
        &series_of(&|r| &r.accuracy_after),
        false,
    )?);
    plots.extend(line_chart(
        &out.join("two_user_mse_vs_freeze"),
        "Reconstruction MSE after SLF vs frozen layers",
        "frozen decoder layers ℓ",
        "MSE",
        &series_of(&|r| &r.mse_after),
        false,
    )?);
    if let Some(st) = studies.first() {
        let rows = slf(st);
        let stacked = |name: &str, f: &dyn Fn(&SummaryRow) -> f64| Series {
            name: name.into(),
            points: rows.iter().map(|r| (r.freeze.unwrap_or(0) as f64, f(r))).collect(),
            band: None,
        };
        let series = vec![
            stacked("download", &|r| r.download_s.mean),
            stacked("download + compute", &|r| r.download_s.mean + r.compute_s.mean),
            stacked("download + compute + upload", &|r| r.recovery_time_s.mean),
        ];
        plots.extend(line_chart(
            &out.join("two_user_time_vs_freeze"),
            "Recovery time by part (stacked) vs frozen layers",
            "frozen decoder layers ℓ",
            "seconds",
            &series,
            false,
        )?);
    }
    let tradeoff: Vec<Series> = studies
        .iter()
        .map(|st| Series {
            name: st.clone(),
            points: slf(st).iter().map(|r| (r.recovery_time_s.mean, r.accuracy_after.mean)).collect(),
            band: None,
        })
        .collect();
    plots.extend(line_chart(
        &out.join("two_user_accuracy_vs_time"),
        "Accuracy vs recovery time (one point per ℓ)",
        "recovery time (s)",
        "headline accuracy",
        &tradeoff,
        false,
    )?);
    println!("results: {}", out.join("two_user_summary.md").display());
    for p in plots {
        println!("plot: {}", p.display());
    }
    Ok(())
}
