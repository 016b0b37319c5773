//! `report.html` of a run folder: the scenario in short, the headline
//! numbers of `summary.json`, the four run plots, the episodes of
//! `pairs.csv` and links to every raw file.

use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::page::{Cell, Page};
use super::{num, read_csv, read_json, secs};
use crate::report::{write_atomic, ReportError};

/// Rows shown at most; the rest are in pairs.csv.
const MAX_ROWS: usize = 2000;

/// What the page reads of `summary.json` (its format, not the simulator's
/// types: the page depends only on the file). Non-finite numbers are
/// written as null, hence the options.
#[derive(Deserialize)]
struct Summary {
    scenario: String,
    seed: u64,
    fidelity: String,
    method: String,
    detection: String,
    horizon_s: Option<f64>,
    users: Vec<IgnoredAny>,
    pairs: Vec<IgnoredAny>,
    aggregate: Aggregate,
}

#[derive(Deserialize)]
struct Aggregate {
    episodes: usize,
    recovered: usize,
    unrecovered: usize,
    false_alarm_episodes: usize,
    recovery_mean_s: Option<f64>,
    recovery_median_s: Option<f64>,
    recovery_p95_s: Option<f64>,
    recovery_max_s: Option<f64>,
    makespan_s: Option<f64>,
    total_bytes: u64,
    total_flops: u64,
    time_avg_accuracy: Option<f64>,
    accuracy_before_mean: Option<f64>,
    accuracy_after_mean: Option<f64>,
    mse_before_mean: Option<f64>,
    mse_after_mean: Option<f64>,
    fine_tunings: usize,
    evaluations: usize,
    events: usize,
    detection: Detection,
}

#[derive(Deserialize)]
struct Detection {
    true_detections: usize,
    false_alarms: usize,
    missed: usize,
}

/// The run's plots: file stem and caption.
const PLOTS: [(&str, &str); 4] = [
    ("recovery_cdf", "Recovery time: fraction of episodes recovered within a time"),
    ("timeline", "SLF phases of every episode (detection, queue, download, compute wait, fine-tune, upload)"),
    ("network", "Network accuracy and misaligned pairs over simulated time"),
    ("phases", "Mean recovery time by phase"),
];

/// The plots of a run with a physical world (radio, cells).
const WORLD_PLOTS: [(&str, &str); 3] = [
    ("world_map", "Stations and users at a few instants (colour: serving station; red ring: in an episode)"),
    ("world_causes", "Network accuracy and pairs in an episode, stacked by cause"),
    ("world_activity", "Handovers and aligned decoders installed per minute"),
];

/// The raw files of a run with a physical world, with what each holds.
const WORLD_FILES: [(&str, &str); 4] = [
    ("stations.csv", "per station: position, handovers in and out, decoders installed, evicted and cached"),
    ("handovers.csv", "one row per handover, and whether the new station held an aligned decoder"),
    ("world_timeseries.csv", "per radio tick: users present, mean ε and SNR, accuracy, misaligned pairs by cause"),
    ("positions.csv", "users' positions, serving station and ε at the map's instants"),
];

/// Whether `dir` holds a run with a physical world.
fn has_world(dir: &Path) -> bool {
    dir.join("stations.csv").is_file()
}

/// The raw files of a run folder, with what each holds.
fn raw_files(world: bool) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = [
        ("summary.json", "scenario facts, users, pairs, episodes and aggregates"),
        ("events.jsonl", "every simulation event, one JSON object a line"),
        ("pairs.csv", "one row per misalignment episode"),
        ("timeseries.csv", "the network's state over time"),
    ]
    .iter()
    .map(|(n, w)| (n.to_string(), w.to_string()))
    .collect();
    if world {
        files.extend(WORLD_FILES.iter().map(|(n, w)| (n.to_string(), w.to_string())));
    }
    let world_plots = if world { &WORLD_PLOTS[..] } else { &[] };
    for (stem, caption) in PLOTS.iter().chain(world_plots) {
        files.push((format!("{stem}.svg"), caption.to_string()));
        files.push((format!("{stem}.png"), "the same plot as PNG".to_string()));
    }
    files
}

/// Writes `dir/report.html` from the run files in `dir`; returns its path.
pub fn write_run_report(dir: &Path) -> Result<PathBuf, ReportError> {
    let s: Summary = read_json(&dir.join("summary.json"))?;
    let (headers, rows) = read_csv(&dir.join("pairs.csv"))?;
    let a = &s.aggregate;

    let mut page = Page::new(
        &format!("{}: simulation run", s.scenario),
        &format!("{} over {} (fidelity {})", s.method, secs(s.horizon_s), s.fidelity),
        &[
            ("scenario", "Scenario"),
            ("headline", "Headline"),
            ("plots", "Plots"),
            ("episodes", "Episodes"),
            ("files", "Files"),
        ],
    );
    page.section("scenario", "Scenario");
    page.facts(&[
        ("name", s.scenario.clone()),
        ("seed", s.seed.to_string()),
        ("users", s.users.len().to_string()),
        ("pairs", s.pairs.len().to_string()),
        ("method", s.method.clone()),
        ("detection", s.detection.clone()),
        ("fidelity", s.fidelity.clone()),
        ("horizon", secs(s.horizon_s)),
    ]);

    page.section("headline", "Headline");
    let arrow = |x: Option<f64>, y: Option<f64>| format!("{} → {}", num(x), num(y));
    page.cards(&[
        (
            "episodes",
            a.episodes.to_string(),
            format!(
                "{} recovered, {} unrecovered, {} false alarms",
                a.recovered, a.unrecovered, a.false_alarm_episodes
            ),
        ),
        (
            "mean recovery time",
            secs(a.recovery_mean_s),
            format!(
                "median {} · p95 {} · max {}",
                secs(a.recovery_median_s),
                secs(a.recovery_p95_s),
                secs(a.recovery_max_s)
            ),
        ),
        ("makespan", secs(a.makespan_s), "last alignment installed".into()),
        ("accuracy", arrow(a.accuracy_before_mean, a.accuracy_after_mean), "mean over episodes, before → after".into()),
        ("time-averaged accuracy", num(a.time_avg_accuracy), "network accuracy over the horizon".into()),
        ("MSE", arrow(a.mse_before_mean, a.mse_after_mean), "mean over episodes, before → after".into()),
        ("traffic", format!("{} MB", num(Some(a.total_bytes as f64 / 1e6))), "downloads and uploads".into()),
        ("compute", format!("{} FLOP", num(Some(a.total_flops as f64))), "fine-tuning".into()),
        (
            "detection",
            format!("{} detected", a.detection.true_detections),
            format!("{} false alarms · {} missed", a.detection.false_alarms, a.detection.missed),
        ),
        (
            "events",
            a.events.to_string(),
            format!("{} fine-tunings · {} link evaluations", a.fine_tunings, a.evaluations),
        ),
    ]);

    page.section("plots", "Plots");
    let world = has_world(dir);
    let world_plots = if world { &WORLD_PLOTS[..] } else { &[] };
    for (stem, caption) in PLOTS.iter().chain(world_plots) {
        page.plot(dir, stem, caption);
    }

    page.section("episodes", "Episodes");
    page.note(&format!(
        "One row per misalignment episode of pairs.csv ({} rows{}); click a column to sort.",
        rows.len(),
        if rows.len() > MAX_ROWS { format!(", the first {MAX_ROWS} shown") } else { String::new() }
    ));
    let cells: Vec<Vec<Cell>> = rows.iter().take(MAX_ROWS).map(|r| r.iter().map(|v| Cell::raw(v)).collect()).collect();
    page.table(&headers, &cells);

    page.section("files", "Files");
    // events.jsonl is absent after `slfsim run --events none`.
    let files: Vec<(String, String)> =
        raw_files(world).into_iter().filter(|(n, _)| n != "events.jsonl" || dir.join(n).exists()).collect();
    page.files(&files);
    let path = dir.join("report.html");
    write_atomic(&path, page.finish().as_bytes())?;
    Ok(path)
}
