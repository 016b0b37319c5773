//! The results of a study folder: `study.csv` (one row per run),
//! `summary.csv` (one row per point: mean, sd and 95% CI of every metric),
//! `timing.csv` (wall time per run), the plots and `report.html`, all from
//! the finished runs under `runs/`.

use std::path::{Path, PathBuf};

use super::{read_finished_runs, write_csv_atomic, write_study_plots, FinishedRun, ReportError};
use crate::study::results::{summarise_points, PointSummary};
use crate::study::sweep::Plan;

/// What `write_study_results` found and wrote.
pub struct StudyResults {
    pub runs: usize,
    pub points: usize,
    /// Sum of the runs' wall times (seconds).
    pub wall_s: f64,
    pub files: Vec<PathBuf>,
}

/// Reads every run of `plan` from `out/runs` (all must be finished), then
/// writes the study's tables and plots into `out`.
pub fn write_study_results(plan: &Plan, out: &Path) -> Result<StudyResults, ReportError> {
    let runs = read_finished_runs(plan, out)?;
    let by_point: Vec<_> = runs.iter().map(|r| (r.spec.clone(), r.metrics.clone())).collect();
    let points = summarise_points(&by_point);
    let mut files = write_study_tables(out, &plan.labels, &runs, &points)?;
    files.extend(write_study_plots(out, &plan.name, &plan.labels, plan.x_axis, &points, &runs)?);
    // Last: the page is built from the files above.
    files.push(super::html::write_study_report(out)?);
    let wall_s = runs.iter().map(|r| r.timing.wall_s).sum();
    Ok(StudyResults { runs: runs.len(), points: points.len(), wall_s, files })
}

fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map(|x| x.to_string()).unwrap_or_default()
}

/// `study.csv`: one row per run; `summary.csv`: one per point with mean,
/// sd and 95% CI (lo, hi) of every metric; `timing.csv`: wall time per run.
pub fn write_study_tables(
    out: &Path,
    labels: &[String],
    runs: &[FinishedRun],
    points: &[PointSummary],
) -> Result<Vec<PathBuf>, ReportError> {
    let Some(first) = runs.first() else { return Ok(Vec::new()) };
    let names: Vec<&str> = first.metrics.iter().map(|(n, _)| n.as_str()).collect();
    let mut headers: Vec<String> = vec!["run".into(), "point".into(), "replication".into(), "seed".into()];
    headers.extend(labels.iter().cloned());
    headers.extend(names.iter().map(|s| s.to_string()));
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|FinishedRun { spec: r, metrics: m, .. }| {
            let mut row = vec![r.id.clone(), r.point.to_string(), r.replication.to_string(), r.seed.to_string()];
            row.extend(r.values.iter().cloned());
            row.extend(m.iter().map(|(_, v)| num(*v)));
            row
        })
        .collect();
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let study = out.join("study.csv");
    write_csv_atomic(&study, &h, &rows)?;

    let mut headers: Vec<String> = vec!["point".into()];
    headers.extend(labels.iter().cloned());
    headers.push("runs".into());
    for n in &names {
        for s in ["mean", "sd", "ci95_lo", "ci95_hi"] {
            headers.push(format!("{n}_{s}"));
        }
    }
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let mut row = vec![p.point.to_string()];
            row.extend(p.values.iter().cloned());
            row.push(p.runs.to_string());
            for (_, s) in &p.metrics {
                let f = |v: f64| num(Some(v));
                row.extend([f(s.mean), f(s.std), f(s.mean - s.ci95), f(s.mean + s.ci95)]);
            }
            row
        })
        .collect();
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let summary = out.join("summary.csv");
    write_csv_atomic(&summary, &h, &rows)?;

    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|FinishedRun { spec: r, timing: t, .. }| {
            vec![r.id.clone(), t.wall_s.to_string(), t.events.to_string(), t.events_per_s.to_string()]
        })
        .collect();
    let timing = out.join("timing.csv");
    write_csv_atomic(&timing, &["run", "wall_s", "events", "events_per_s"], &rows)?;
    Ok(vec![study, summary, timing])
}
