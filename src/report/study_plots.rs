//! The plots of a study: metrics against the number of users (mean and
//! 95% CI), accuracy against a second numeric axis (e.g. ℓ), mean time per
//! phase, the accuracy–recovery Pareto front per population size, and the
//! simulator's own wall time and throughput.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{line_chart, phase_bars, FinishedRun, ReportError, Series};
use crate::sim::outcome::PhaseMean;
use crate::study::results::{PointStat, PointSummary};

fn stat<'a>(p: &'a PointSummary, name: &str) -> Option<&'a PointStat> {
    p.metrics.iter().find(|(n, _)| n == name).map(|(_, s)| s)
}

/// A point's values on every axis but `x_axis`, as `label=value, ...`.
fn others(labels: &[String], p: &PointSummary, x_axis: usize) -> String {
    labels
        .iter()
        .zip(&p.values)
        .enumerate()
        .filter(|(k, _)| *k != x_axis)
        .map(|(_, (l, v))| format!("{l}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lines of `metric` against the number of users, one per value of every
/// axis but `x_axis` (with 95% CI bands).
fn by_users(points: &[PointSummary], labels: &[String], x_axis: usize, metric: &str) -> Vec<Series> {
    let mut groups: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for p in points {
        let key = others(labels, p, x_axis);
        let (Some(u), Some(s)) = (stat(p, "users"), stat(p, metric)) else { continue };
        let ci = if s.ci95.is_finite() { s.ci95 } else { 0.0 };
        groups.entry(key).or_default().push((u.mean, s.mean, ci));
    }
    groups.into_iter().map(|(name, v)| ci_series(if name.is_empty() { metric.into() } else { name }, v)).collect()
}

/// A line through (x, mean) sorted by x, with a band of mean ± CI half-width.
fn ci_series(name: String, mut v: Vec<(f64, f64, f64)>) -> Series {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    Series {
        name,
        points: v.iter().map(|&(x, y, _)| (x, y)).collect(),
        band: Some(v.iter().map(|&(_, y, c)| (y - c, y + c)).collect()),
    }
}

/// Values of the x axis to draw one plot each for: all if at most six,
/// else six evenly spread, in numeric order.
fn picked_x_values(points: &[PointSummary], x_axis: usize) -> Vec<String> {
    let mut keys: Vec<(f64, String)> = points
        .iter()
        .map(|p| (p.values[x_axis].parse::<f64>().unwrap_or(f64::NAN), p.values[x_axis].clone()))
        .collect();
    keys.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    keys.dedup_by(|a, b| a.1 == b.1);
    if keys.len() <= 6 {
        keys.into_iter().map(|k| k.1).collect()
    } else {
        (0..6).map(|i| keys[i * (keys.len() - 1) / 5].1.clone()).collect()
    }
}

/// Indices of the points no other point beats on both mean recovery (lower)
/// and time-averaged accuracy (higher), in order of recovery.
pub fn pareto_front(xy: &[(f64, f64)]) -> Vec<usize> {
    let mut front: Vec<usize> = (0..xy.len())
        .filter(|&i| {
            let (x, y) = xy[i];
            x.is_finite() && y.is_finite() && !xy.iter().any(|&(x2, y2)| x2 <= x && y2 >= y && (x2 < x || y2 > y))
        })
        .collect();
    front.sort_by(|&a, &b| xy[a].0.total_cmp(&xy[b].0));
    front
}

/// Accuracy against recovery, one plot per population size: a point per
/// value of the other axes (e.g. per method) and the Pareto front through
/// the points nobody beats on both.
fn pareto_plots(
    out: &Path,
    name: &str,
    labels: &[String],
    x_axis: usize,
    points: &[PointSummary],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    if labels.len() < 2 {
        return Ok(files);
    }
    for xv in picked_x_values(points, x_axis) {
        let here: Vec<&PointSummary> = points.iter().filter(|p| p.values[x_axis] == xv).collect();
        let mut xy = Vec::new();
        let mut series = Vec::new();
        for p in &here {
            let (Some(r), Some(a)) = (stat(p, "recovery_mean_s"), stat(p, "time_avg_accuracy")) else { continue };
            let label = others(labels, p, x_axis);
            xy.push((r.mean, a.mean));
            series.push(Series { name: label, points: vec![(r.mean, a.mean)], band: None });
        }
        let front = pareto_front(&xy);
        if front.is_empty() {
            continue;
        }
        // First, so that the methods' points are drawn on top of it.
        let line = Series { name: "Pareto front".into(), points: front.iter().map(|&i| xy[i]).collect(), band: None };
        series.insert(0, line);
        let xs: Vec<f64> = xy.iter().map(|p| p.0).filter(|x| *x > 0.0 && x.is_finite()).collect();
        let lo = xs.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let log_x = xs.len() == xy.len() && hi / lo >= 16.0;
        let x_label = &labels[x_axis];
        files.extend(line_chart(
            &out.join(format!("study_pareto_{x_label}_{xv}")),
            &format!("{name}: accuracy vs recovery at {x_label} = {xv} (means)"),
            "mean recovery time (s)",
            "time-averaged network accuracy",
            &series,
            log_x,
        )?);
    }
    Ok(files)
}

/// The study's plots. `x_axis` is the axis that sets the population size.
pub fn write_study_plots(
    out: &Path,
    name: &str,
    labels: &[String],
    x_axis: usize,
    points: &[PointSummary],
    runs: &[FinishedRun],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    let users: Vec<f64> = points.iter().filter_map(|p| stat(p, "users").map(|s| s.mean)).collect();
    let spread = users.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        / users.iter().cloned().fold(f64::INFINITY, f64::min).max(1.0);
    let log_x = spread >= 16.0;
    for (metric, title) in [
        ("recovery_mean_s", "mean recovery time (s)"),
        ("recovery_p95_s", "p95 recovery time (s)"),
        ("makespan_s", "makespan: last recovery (s)"),
        ("time_avg_accuracy", "time-averaged network accuracy"),
        ("accuracy_after_mean", "accuracy after alignment"),
    ] {
        let s = by_users(points, labels, x_axis, metric);
        files.extend(line_chart(
            &out.join(format!("study_{metric}")),
            &format!("{name}: {title} (mean, 95% CI)"),
            "users",
            title,
            &s,
            log_x,
        )?);
    }
    // Accuracy against the first other axis (e.g. ℓ) when its values are
    // numbers: one line per population size (at most six, evenly spread).
    if let Some(other) = (0..labels.len()).find(|&k| k != x_axis) {
        let mut by_x: BTreeMap<String, Vec<&PointSummary>> = BTreeMap::new();
        for p in points {
            by_x.entry(p.values[x_axis].clone()).or_default().push(p);
        }
        let mut keys: Vec<(f64, String)> =
            by_x.keys().map(|k| (k.parse::<f64>().unwrap_or(f64::NAN), k.clone())).collect();
        keys.sort_by(|a, b| a.0.total_cmp(&b.0));
        let pick: Vec<&(f64, String)> = if keys.len() <= 6 {
            keys.iter().collect()
        } else {
            (0..6).map(|i| &keys[i * (keys.len() - 1) / 5]).collect()
        };
        for (metric, title) in [
            ("time_avg_accuracy", "time-averaged network accuracy"),
            ("accuracy_after_mean", "accuracy after alignment"),
        ] {
            let series: Vec<Series> = pick
                .iter()
                .map(|(_, k)| {
                    let v: Vec<(f64, f64, f64)> = by_x[k]
                        .iter()
                        .filter_map(|p| {
                            let x = p.values[other].parse::<f64>().ok()?;
                            let s = stat(p, metric)?;
                            Some((x, s.mean, if s.ci95.is_finite() { s.ci95 } else { 0.0 }))
                        })
                        .collect();
                    ci_series(format!("{}={k}", labels[x_axis]), v)
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            if !series.is_empty() {
                let l = &labels[other];
                files.extend(line_chart(
                    &out.join(format!("study_{metric}_vs_{l}")),
                    &format!("{name}: {title} vs {l} (mean, 95% CI)"),
                    l,
                    title,
                    &series,
                    false,
                )?);
            }
        }
    }
    files.extend(pareto_plots(out, name, labels, x_axis, points)?);
    // Phases: one bar per point, at the largest population of each series.
    let max_users = users.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let bars: Vec<(String, Vec<PhaseMean>)> = points
        .iter()
        .filter(|p| stat(p, "users").is_some_and(|u| u.mean == max_users))
        .map(|p| {
            let label = labels.iter().zip(&p.values).map(|(l, v)| format!("{l}={v}")).collect::<Vec<_>>().join(", ");
            let phases = ["detection", "queue", "download", "compute wait", "fine-tune", "upload"]
                .iter()
                .filter_map(|ph| {
                    stat(p, &format!("phase_{}_s", ph.replace([' ', '-'], "_")))
                        .filter(|s| s.mean.is_finite())
                        .map(|s| PhaseMean { phase: ph.to_string(), mean_s: s.mean })
                })
                .collect();
            (label, phases)
        })
        .collect();
    files.extend(phase_bars(
        &out.join("study_phases"),
        &format!("{name}: mean recovery time by phase at {max_users} users"),
        &bars,
    )?);
    // The simulator's own scaling (wall clock; not part of the results).
    let mut wall: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    for r in runs {
        let u = r.metrics.iter().find(|(n, _)| n == "users").and_then(|(_, v)| *v).unwrap_or(0.0);
        wall.entry(u as u64).or_default().push((r.timing.wall_s, r.timing.events_per_s));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let pts = |k: usize| -> Vec<(f64, f64)> {
        wall.iter()
            .map(|(&u, v)| (u as f64, mean(&v.iter().map(|p| if k == 0 { p.0 } else { p.1 }).collect::<Vec<_>>())))
            .collect()
    };
    let s0 = [Series { name: "wall time per run".into(), points: pts(0), band: None }];
    files.extend(line_chart(
        &out.join("study_wall_time"),
        &format!("{name}: wall time per run"),
        "users",
        "seconds",
        &s0,
        log_x,
    )?);
    let s1 = [Series { name: "events per second".into(), points: pts(1), band: None }];
    files.extend(line_chart(
        &out.join("study_events_per_s"),
        &format!("{name}: simulator throughput"),
        "users",
        "events / s",
        &s1,
        log_x,
    )?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::pareto_front;

    #[test]
    fn the_front_keeps_points_nobody_beats_on_both() {
        // (recovery, accuracy): 1 is beaten by 0 (faster and more accurate);
        // 3 ties 0 on recovery and is less accurate; 4 is not finite.
        let xy = [(1.0, 0.8), (2.0, 0.7), (5.0, 0.9), (1.0, 0.6), (f64::NAN, 1.0), (0.5, 0.5)];
        assert_eq!(pareto_front(&xy), vec![5, 0, 2]);
    }
}
