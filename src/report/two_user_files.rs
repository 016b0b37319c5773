//! The tables of the two-user study: `two_user_runs.csv` and `.json` (one
//! row per alignment), `two_user_summary.csv` and `.md` (mean ± sd per
//! study and method), and `calibration.csv` for the adaptive policy. Every
//! file is written atomically.

use std::path::{Path, PathBuf};

use super::{text_table, write_atomic, write_csv_atomic, write_json_atomic, ReportError};
use crate::sim::adaptive::{calibration_text, FileCalibration};
use crate::study::{Spread, SummaryRow, TwoUserRow};

/// The summary as a text table for the terminal, and where its Markdown went.
pub struct TwoUserTables {
    pub terminal: String,
    pub summary_md: PathBuf,
}

/// Writes the two-user tables of `rows` and their `summary` into `out`.
pub fn write_two_user_tables(
    out: &Path,
    rows: &[TwoUserRow],
    summary: &[SummaryRow],
) -> Result<TwoUserTables, ReportError> {
    let runs: Vec<Vec<String>> = rows.iter().map(run_row).collect();
    write_csv_atomic(&out.join("two_user_runs.csv"), &RUN_HEADERS, &runs)?;
    write_json_atomic(&out.join("two_user_runs.json"), rows)?;

    let csv_rows: Vec<Vec<String>> = summary.iter().map(summary_csv_row).collect();
    write_csv_atomic(&out.join("two_user_summary.csv"), &SUMMARY_HEADERS, &csv_rows)?;
    let md_rows: Vec<Vec<String>> = summary.iter().map(summary_md_row).collect();
    let mut md = format!("| {} |\n|{}\n", MD_HEADERS.join(" | "), " --- |".repeat(MD_HEADERS.len()));
    for r in &md_rows {
        md += &format!("| {} |\n", r.join(" | "));
    }
    md += "\nMean ± standard deviation over replicates. Accuracy is the headline judge: RX's classifier for pairs on one data set, a classifier of TX's data domain across data sets. Gap recovered is (after − before) / (matched − before), where matched is TX's own link.\n";
    let summary_md = out.join("two_user_summary.md");
    write_atomic(&summary_md, md.as_bytes())?;
    Ok(TwoUserTables { terminal: text_table(&MD_HEADERS, &md_rows), summary_md })
}

/// Writes `calibration.csv` (the format `run --calibration` reads) into
/// `out`, with `comment` lines saying where the values come from.
pub fn write_two_user_calibration(
    out: &Path,
    values: &FileCalibration,
    comment: &[String],
) -> Result<PathBuf, ReportError> {
    let path = out.join("calibration.csv");
    write_atomic(&path, calibration_text(values, comment).as_bytes())?;
    Ok(path)
}

const RUN_HEADERS: [&str; 24] = [
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
    "matched_accuracy_rx",
    "matched_accuracy_tx",
    "gap_recovered",
    "download_bytes",
    "upload_bytes",
    "finetune_flops",
    "download_s",
    "compute_s",
    "upload_s",
    "recovery_time_s",
];

/// One alignment as a row of `two_user_runs.csv`.
fn run_row(r: &TwoUserRow) -> Vec<String> {
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
        format!("{:.4}", a.matched.accuracy_rx),
        format!("{:.4}", a.matched.accuracy_tx),
        a.gap_recovered.map(|g| format!("{g:.4}")).unwrap_or_default(),
        a.download_bytes.to_string(),
        a.upload_bytes.to_string(),
        a.finetune_flops.to_string(),
        format!("{:.4}", a.download_s),
        format!("{:.4}", a.compute_s),
        format!("{:.4}", a.upload_s),
        format!("{:.4}", a.recovery_time_s),
    ]
}

const SUMMARY_HEADERS: [&str; 12] = [
    "study",
    "method",
    "freeze",
    "n",
    "accuracy_after",
    "gain_points",
    "gap_recovered_percent",
    "mse_after",
    "mse_cut_percent",
    "upload_bytes",
    "finetune_flops",
    "recovery_time_s",
];

/// One (study, method) as a row of `two_user_summary.csv`: the means.
fn summary_csv_row(s: &SummaryRow) -> Vec<String> {
    vec![
        s.study.clone(),
        s.method.clone(),
        s.freeze.map(|f| f.to_string()).unwrap_or_default(),
        s.accuracy_after.n.to_string(),
        format!("{:.4}", s.accuracy_after.mean),
        format!("{:.2}", s.gain_points.mean),
        format!("{:.2}", s.gap_recovered_percent.mean),
        format!("{:.6}", s.mse_after.mean),
        format!("{:.2}", s.mse_cut_percent.mean),
        format!("{:.0}", s.upload_bytes.mean),
        format!("{:.4e}", s.finetune_flops.mean),
        format!("{:.3}", s.recovery_time_s.mean),
    ]
}

const MD_HEADERS: [&str; 11] = [
    "study",
    "method",
    "ℓ",
    "accuracy before → after",
    "gain (points)",
    "gap recovered %",
    "MSE before → after",
    "MSE cut %",
    "upload B",
    "FLOPs",
    "recovery s",
];

/// One (study, method) as a row of the Markdown table: mean ± sd.
fn summary_md_row(s: &SummaryRow) -> Vec<String> {
    vec![
        s.study.clone(),
        s.method.clone(),
        s.freeze.map(|f| f.to_string()).unwrap_or("-".into()),
        format!("{} → {}", pm(&s.accuracy_before, 3), pm(&s.accuracy_after, 3)),
        pm(&s.gain_points, 1),
        pm(&s.gap_recovered_percent, 1),
        format!("{} → {}", pm(&s.mse_before, 4), pm(&s.mse_after, 4)),
        pm(&s.mse_cut_percent, 1),
        format!("{:.0}", s.upload_bytes.mean),
        format!("{:.3e}", s.finetune_flops.mean),
        pm(&s.recovery_time_s, 2),
    ]
}

fn pm(s: &Spread, digits: usize) -> String {
    format!("{:.*} ± {:.*}", digits, s.mean, digits, s.std)
}
