//! `report.html` of a study folder: the study and its scenario in short,
//! the range of the key metrics over the points, the study plots, the
//! points of `summary.csv` and links to every raw file. Wall-clock plots
//! are linked, not shown, so that the page is the same for the same
//! results.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::page::{Cell, Page};
use super::{num, read_csv, read_json, secs};
use crate::report::{write_atomic, ReportError};
use crate::study::sweep::Plan;

/// What the page reads of a run's `summary.json`.
#[derive(Deserialize)]
struct RunFacts {
    scenario: String,
    fidelity: String,
    method: String,
    detection: String,
    horizon_s: Option<f64>,
}

/// Key metrics of the headline: column of summary.csv, name, unit.
const KEY: [(&str, &str, &str); 5] = [
    ("recovery_mean_s", "mean recovery time", " s"),
    ("recovery_p95_s", "p95 recovery time", " s"),
    ("makespan_s", "makespan", " s"),
    ("time_avg_accuracy", "time-averaged accuracy", ""),
    ("accuracy_after_mean", "accuracy after alignment", ""),
];

/// Plots in reading order (others found in the folder follow by name).
const PLOTS: [(&str, &str); 6] = [
    ("study_recovery_mean_s", "Mean recovery time against users (mean and 95% CI over replications)"),
    ("study_recovery_p95_s", "p95 recovery time against users"),
    ("study_makespan_s", "Makespan (last recovery) against users"),
    ("study_time_avg_accuracy", "Time-averaged network accuracy against users"),
    ("study_accuracy_after_mean", "Accuracy after alignment against users"),
    ("study_phases", "Mean recovery time by phase at the largest population"),
];

/// The simulator's own speed: wall clock, different on every machine.
const WALL_CLOCK: [&str; 2] = ["study_wall_time", "study_events_per_s"];

/// Every `study_*.svg` of `dir` as (stem, caption), in reading order.
fn plots(dir: &Path) -> Vec<(String, String)> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".svg")).map(String::from))
        .filter(|s| s.starts_with("study_") && !WALL_CLOCK.contains(&s.as_str()))
        .collect();
    found.sort();
    let mut out: Vec<(String, String)> = PLOTS
        .iter()
        .filter(|(s, _)| found.iter().any(|f| f == s))
        .map(|(s, c)| (s.to_string(), c.to_string()))
        .collect();
    for s in found {
        if !out.iter().any(|(o, _)| *o == s) {
            let caption = match s.strip_prefix("study_pareto_").and_then(|r| r.rsplit_once('_')) {
                Some((axis, v)) => format!("Time-averaged accuracy against mean recovery at {axis} = {v}: one point per value of the other axes, and the Pareto front"),
                None => s.trim_start_matches("study_").replace('_', " "),
            };
            out.push((s, caption));
        }
    }
    out
}

/// Writes `dir/report.html` from the study files in `dir`; returns its path.
pub fn write_study_report(dir: &Path) -> Result<PathBuf, ReportError> {
    let plan: Plan = read_json(&dir.join("study.json"))?;
    if !dir.join("summary.csv").is_file() {
        return Err(ReportError::Folder(format!(
            "{}: the study is not finished (no summary.csv); run it to the end or merge its shards first",
            dir.display()
        )));
    }
    let (headers, rows) = read_csv(&dir.join("summary.csv"))?;
    let first =
        plan.runs.first().ok_or_else(|| ReportError::Folder(format!("{}: study.json has no runs", dir.display())))?;
    let facts: RunFacts = read_json(&dir.join("runs").join(&first.id).join("summary.json"))?;
    let points = plan.runs.iter().map(|r| r.point).max().map_or(0, |p| p + 1);
    let col = |name: &str| headers.iter().position(|h| h == name);
    let labels_of = |row: &[String]| -> String {
        plan.labels.iter().enumerate().map(|(k, l)| format!("{l}={}", row[1 + k])).collect::<Vec<_>>().join(", ")
    };

    let mut page = Page::new(
        &format!("{}: study", plan.name),
        &format!("{} runs: {} points × {} replications", plan.runs.len(), points, plan.runs.len() / points.max(1)),
        &[("study", "Study"), ("headline", "Headline"), ("plots", "Plots"), ("points", "Points"), ("files", "Files")],
    );
    page.section("study", "Study");
    let mut facts_rows = vec![("study", plan.name.clone()), ("scenario", facts.scenario.clone())];
    let axes: Vec<String> = plan
        .labels
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let mut vals: Vec<&str> = vec![];
            for r in &plan.runs {
                if !vals.contains(&r.values[k].as_str()) {
                    vals.push(&r.values[k]);
                }
            }
            format!("{l} ∈ {{{}}}{}", vals.join(", "), if k == plan.x_axis { " (sets the users)" } else { "" })
        })
        .collect();
    facts_rows.push(("axes", axes.join("; ")));
    facts_rows.push(("seed", "one per run, derived from the study's seed (see study.csv)".into()));
    let range = |name: &str| -> String {
        let Some(c) = col(&format!("{name}_mean")) else { return "–".into() };
        let v: Vec<f64> = rows.iter().filter_map(|r| r[c].parse::<f64>().ok()).collect();
        let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        if lo > hi {
            "–".into()
        } else if lo == hi {
            num(Some(lo))
        } else {
            format!("{} to {}", num(Some(lo)), num(Some(hi)))
        }
    };
    facts_rows.push(("users", range("users")));
    facts_rows.push(("pairs", range("pairs")));
    facts_rows.push(("method", format!("{} (first run)", facts.method)));
    facts_rows.push(("detection", facts.detection.clone()));
    facts_rows.push(("fidelity", facts.fidelity.clone()));
    facts_rows.push(("horizon", secs(facts.horizon_s)));
    page.facts(&facts_rows);

    page.section("headline", "Headline");
    page.note("Lowest and highest mean over replications among the points.");
    let mut cards = vec![];
    for (name, title, unit) in KEY {
        let Some(c) = col(&format!("{name}_mean")) else { continue };
        let vals: Vec<(f64, &Vec<String>)> =
            rows.iter().filter_map(|r| r[c].parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| (v, r))).collect();
        let lo = vals.iter().min_by(|a, b| a.0.total_cmp(&b.0));
        let hi = vals.iter().max_by(|a, b| a.0.total_cmp(&b.0));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            cards.push((
                title,
                format!("{}{unit} – {}{unit}", num(Some(lo.0)), num(Some(hi.0))),
                format!("lowest at {}; highest at {}", labels_of(lo.1), labels_of(hi.1)),
            ));
        }
    }
    page.cards(&cards);

    page.section("plots", "Plots");
    for (stem, caption) in plots(dir) {
        page.plot(dir, &stem, &caption);
    }

    page.section("points", "Points");
    page.note(
        "One row per point of summary.csv: mean ± half-width of the 95% CI over replications; click a column to sort.",
    );
    let (table_headers, cells) = point_table(&headers, &rows);
    page.table(&table_headers, &cells);

    page.section("files", "Files");
    page.files(&raw_files(dir));
    let path = dir.join("report.html");
    write_atomic(&path, page.finish().as_bytes())?;
    Ok(path)
}

/// summary.csv as a table: the leading columns (point, axes, runs) as they
/// are, then one column per metric: "mean ± CI half-width", sorted by mean.
fn point_table(headers: &[String], rows: &[Vec<String>]) -> (Vec<String>, Vec<Vec<Cell>>) {
    let lead = headers.iter().position(|h| h.ends_with("_mean")).unwrap_or(headers.len());
    let mut out_headers: Vec<String> = headers[..lead].to_vec();
    let metrics: Vec<(usize, String)> =
        headers.iter().enumerate().filter_map(|(i, h)| h.strip_suffix("_mean").map(|m| (i, m.to_string()))).collect();
    out_headers.extend(metrics.iter().map(|(_, m)| m.clone()));
    let cells = rows
        .iter()
        .map(|r| {
            let mut row: Vec<Cell> = r[..lead].iter().map(|v| Cell::raw(v)).collect();
            for (i, name) in &metrics {
                let at = |suffix: &str| {
                    headers.iter().position(|h| *h == format!("{name}_{suffix}")).and_then(|k| r[k].parse::<f64>().ok())
                };
                let mut cell = Cell::raw(&r[*i]);
                if let (Some(lo), Some(hi)) = (at("ci95_lo"), at("ci95_hi")) {
                    if hi > lo {
                        cell.text = format!("{} ± {}", cell.text, num(Some((hi - lo) / 2.0)));
                    }
                }
                row.push(cell);
            }
            row
        })
        .collect();
    (out_headers, cells)
}

/// The raw files of a study folder that exist, with what each holds.
fn raw_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = [
        ("study.json", "the expanded plan: axes and every run"),
        ("study.csv", "one row per run: axis values, seed and metrics"),
        ("summary.csv", "one row per point: mean, sd and 95% CI of every metric"),
        ("timing.csv", "wall time and events per second of every run"),
    ]
    .iter()
    .filter(|(n, _)| dir.join(n).is_file())
    .map(|(n, w)| (n.to_string(), w.to_string()))
    .collect();
    for (stem, caption) in plots(dir) {
        files.push((format!("{stem}.svg"), caption));
        files.push((format!("{stem}.png"), "the same plot as PNG".into()));
    }
    for stem in WALL_CLOCK {
        if dir.join(format!("{stem}.svg")).is_file() {
            files.push((format!("{stem}.svg"), "the simulator's own speed (wall clock, not a result)".into()));
            files.push((format!("{stem}.png"), "the same plot as PNG".into()));
        }
    }
    files.push(("runs/".into(), "one folder per run: summary.json, run.json, timing.json".into()));
    files
}
