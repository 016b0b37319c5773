//! The plots of the two-user study: accuracy, MSE and recovery time
//! against the frozen layers ℓ, and accuracy against recovery time.

use std::path::{Path, PathBuf};

use super::{line_chart, ReportError, Series};
use crate::study::{Spread, SummaryRow};

/// Writes the two-user plots of `summary` (SLF rows only) into `out`;
/// returns the paths written.
pub fn write_two_user_plots(out: &Path, summary: &[SummaryRow]) -> Result<Vec<PathBuf>, ReportError> {
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
    Ok(plots)
}
