//! The plots of the two-user study: accuracy, MSE and recovery time
//! against the frozen layers ℓ, accuracy against recovery time, and, when
//! pilot-based aligners were run, accuracy against bytes on the link.

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
    for st in &studies {
        let rows: Vec<&SummaryRow> = summary.iter().filter(|r| &r.study == st).collect();
        let series = bytes_series(&rows);
        if series.iter().any(|s| s.points.len() > 1) {
            let slug: String = st.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
            plots.extend(line_chart(
                &out.join(format!("two_user_accuracy_vs_bytes_{slug}")),
                &format!("{st}: accuracy vs bytes (± sd over replicates)"),
                "bytes on the link (download + upload, log)",
                "headline accuracy",
                &series,
                true,
            )?);
        }
    }
    Ok(plots)
}

/// A pilot aligner's label split into its family and pilot count:
/// `latent-map-procrustes-p64` -> (`latent-map-procrustes`, 64).
fn pilot_family(method: &str) -> Option<(&str, usize)> {
    let (family, p) = method.rsplit_once("-p")?;
    (family.starts_with("latent-map") || family.starts_with("index-map")).then_some(())?;
    Some((family, p.parse().ok()?))
}

/// One line per pilot aligner (its points over P, by bytes) and one point
/// per other method, at (bytes on the link, mean accuracy) with ± sd bands.
fn bytes_series(rows: &[&SummaryRow]) -> Vec<Series> {
    let mut out: Vec<(String, Vec<(usize, &SummaryRow)>)> = Vec::new();
    for r in rows.iter().filter(|r| r.method != "none") {
        let (name, p) = pilot_family(&r.method).map_or((r.method.as_str(), 0), |(f, p)| (f, p));
        match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => v.push((p, r)),
            None => out.push((name.to_string(), vec![(p, r)])),
        }
    }
    out.into_iter()
        .map(|(name, mut v)| {
            v.sort_by_key(|(p, _)| *p);
            let a = |r: &SummaryRow| r.accuracy_after;
            Series {
                name,
                points: v.iter().map(|(_, r)| (r.download_bytes.mean + r.upload_bytes.mean, a(r).mean)).collect(),
                band: Some(v.iter().map(|(_, r)| (a(r).mean - a(r).std, a(r).mean + a(r).std)).collect()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pilot_family;

    #[test]
    fn pilot_labels_split_into_family_and_count() {
        assert_eq!(pilot_family("latent-map-procrustes-p64"), Some(("latent-map-procrustes", 64)));
        assert_eq!(pilot_family("index-map-p1"), Some(("index-map", 1)));
        assert_eq!(pilot_family("slf-l2"), None);
        assert_eq!(pilot_family("split-learning"), None);
    }
}
