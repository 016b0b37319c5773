//! The files of a study: one folder per finished run (written to a temp
//! folder, then renamed, so a killed study never leaves a half-written run
//! that looks finished), `study.csv`, `summary.csv`, `timing.csv` and plots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{line_chart, phase_bars, write_atomic, write_csv_atomic, write_json_atomic, ReportError, Series};
use crate::sim::outcome::{PhaseMean, RunSummary};
use crate::study::results::PointSummary;
use crate::study::sweep::RunSpec;

fn io(path: &Path) -> impl Fn(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io { path: path.to_path_buf(), source }
}

/// Wall-clock facts of a run: not part of the deterministic results.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timing {
    pub wall_s: f64,
    pub events: usize,
    pub events_per_s: f64,
}

/// Writes run `spec` into `runs_dir/<id>/` (summary.json, run.json,
/// timing.json) atomically as a folder.
pub fn write_run_folder(
    runs_dir: &Path,
    spec: &RunSpec,
    summary: &RunSummary,
    timing: &Timing,
) -> Result<PathBuf, ReportError> {
    std::fs::create_dir_all(runs_dir).map_err(io(runs_dir))?;
    let tmp =
        tempfile::Builder::new().prefix(&format!(".tmp-{}-", spec.id)).tempdir_in(runs_dir).map_err(io(runs_dir))?;
    write_json_atomic(&tmp.path().join("summary.json"), summary)?;
    write_json_atomic(&tmp.path().join("run.json"), spec)?;
    write_json_atomic(&tmp.path().join("timing.json"), timing)?;
    let dest = runs_dir.join(&spec.id);
    let tmp_path = tmp.keep();
    #[cfg(unix)]
    std::fs::set_permissions(&tmp_path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).map_err(io(&tmp_path))?;
    // rename(2) of a folder is atomic: the run appears complete or not at all.
    std::fs::rename(&tmp_path, &dest).map_err(io(&dest))?;
    Ok(dest)
}

/// A finished run read back: its spec, summary and timing. None if absent.
pub fn read_run_folder(dir: &Path) -> Result<Option<(RunSpec, RunSummary, Timing)>, ReportError> {
    if !dir.join("summary.json").exists() {
        return Ok(None);
    }
    let read =
        |name: &str| -> Result<Vec<u8>, ReportError> { std::fs::read(dir.join(name)).map_err(io(&dir.join(name))) };
    let json = |name: &str, e: serde_json::Error| ReportError::Json { path: dir.join(name), source: e };
    let spec = serde_json::from_slice(&read("run.json")?).map_err(|e| json("run.json", e))?;
    let summary = serde_json::from_slice(&read("summary.json")?).map_err(|e| json("summary.json", e))?;
    let timing = serde_json::from_slice(&read("timing.json")?).map_err(|e| json("timing.json", e))?;
    Ok(Some((spec, summary, timing)))
}

/// Removes temp folders left by a killed study (never a finished run).
pub fn clean_partial_runs(runs_dir: &Path) -> Result<usize, ReportError> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else { return Ok(0) };
    let mut n = 0;
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(".tmp-") {
            std::fs::remove_dir_all(e.path()).map_err(io(&e.path()))?;
            n += 1;
        }
    }
    Ok(n)
}

fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map(|x| x.to_string()).unwrap_or_default()
}

/// `study.csv`: one row per run; `summary.csv`: one per point with mean,
/// sd and 95% CI (lo, hi) of every metric; `timing.csv`: wall time per run.
pub fn write_study_tables(
    out: &Path,
    labels: &[String],
    runs: &[(RunSpec, Vec<(String, Option<f64>)>, Timing)],
    points: &[PointSummary],
) -> Result<Vec<PathBuf>, ReportError> {
    let Some((_, first, _)) = runs.first() else { return Ok(Vec::new()) };
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    let mut headers: Vec<String> = vec!["run".into(), "point".into(), "replication".into(), "seed".into()];
    headers.extend(labels.iter().cloned());
    headers.extend(names.iter().map(|s| s.to_string()));
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|(r, m, _)| {
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
        .map(|(r, _, t)| vec![r.id.clone(), t.wall_s.to_string(), t.events.to_string(), t.events_per_s.to_string()])
        .collect();
    let timing = out.join("timing.csv");
    write_csv_atomic(&timing, &["run", "wall_s", "events", "events_per_s"], &rows)?;
    Ok(vec![study, summary, timing])
}

fn stat<'a>(p: &'a PointSummary, name: &str) -> Option<&'a crate::study::results::PointStat> {
    p.metrics.iter().find(|(n, _)| n == name).map(|(_, s)| s)
}

/// Lines of `metric` against the number of users, one per value of every
/// axis but `x_axis` (with 95% CI bands).
fn by_users(points: &[PointSummary], labels: &[String], x_axis: usize, metric: &str) -> Vec<Series> {
    let mut groups: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for p in points {
        let key = labels
            .iter()
            .zip(&p.values)
            .enumerate()
            .filter(|(k, _)| *k != x_axis)
            .map(|(_, (l, v))| format!("{l}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
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

/// The study's plots. `x_axis` is the axis that sets the population size.
pub fn write_study_plots(
    out: &Path,
    name: &str,
    labels: &[String],
    x_axis: usize,
    points: &[PointSummary],
    runs: &[(RunSpec, Vec<(String, Option<f64>)>, Timing)],
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
    for (_, m, t) in runs {
        let u = m.iter().find(|(n, _)| n == "users").and_then(|(_, v)| *v).unwrap_or(0.0);
        wall.entry(u as u64).or_default().push((t.wall_s, t.events_per_s));
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

/// `study.json`: the expanded plan, which shards must share to be merged.
pub fn write_plan(out: &Path, plan: &crate::study::sweep::Plan) -> Result<PathBuf, ReportError> {
    let p = out.join("study.json");
    let mut bytes = serde_json::to_vec_pretty(plan).map_err(|source| ReportError::Json { path: p.clone(), source })?;
    bytes.push(b'\n');
    write_atomic(&p, &bytes)?;
    Ok(p)
}
