//! The run folders of a study: one folder per finished run (written to a
//! temp folder, then renamed, so a killed study never leaves a half-written
//! run that looks finished), read back, cleaned up and copied when shards
//! are merged; and `study.json`, the plan they belong to.

use std::path::{Path, PathBuf};

use super::{write_atomic, write_json_atomic, ReportError};
use crate::sim::outcome::RunSummary;
use crate::study::results::run_metrics;
use crate::study::sweep::{Plan, RunSpec};

pub(super) fn io(path: &Path) -> impl Fn(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io { path: path.to_path_buf(), source }
}

/// Wall-clock facts of a run: not part of the deterministic results.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timing {
    pub wall_s: f64,
    pub events: usize,
    pub events_per_s: f64,
}

/// A finished run of a study: its spec, its metrics (`run_metrics`) and
/// its timing.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedRun {
    pub spec: RunSpec,
    pub metrics: Vec<(String, Option<f64>)>,
    pub timing: Timing,
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

/// Every run of `plan` read back from `out/runs`, in the plan's order.
/// Errors if any is missing or belongs to another plan.
pub fn read_finished_runs(plan: &Plan, out: &Path) -> Result<Vec<FinishedRun>, ReportError> {
    let mut runs = Vec::with_capacity(plan.runs.len());
    let mut missing = Vec::new();
    for spec in &plan.runs {
        match read_run_folder(&out.join("runs").join(&spec.id))? {
            Some((s, summary, timing)) => {
                if &s != spec {
                    return Err(ReportError::Folder(format!("run {} does not match the study's plan", spec.id)));
                }
                runs.push(FinishedRun { spec: s, metrics: run_metrics(&summary), timing });
            }
            None => missing.push(spec.id.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(ReportError::Folder(format!(
            "{} runs are not finished in {:?}: {}",
            missing.len(),
            [out],
            missing.join(", ")
        )));
    }
    Ok(runs)
}

/// Copies every run of `plan` that `out/runs` lacks from the first of
/// `dirs` (study folders, e.g. shards) that has it.
pub fn copy_missing_runs(plan: &Plan, dirs: &[PathBuf], out: &Path) -> Result<(), ReportError> {
    let runs_dir = out.join("runs");
    for spec in &plan.runs {
        if runs_dir.join(&spec.id).join("summary.json").exists() {
            continue;
        }
        if let Some((s, summary, timing)) =
            dirs.iter().find_map(|d| read_run_folder(&d.join("runs").join(&spec.id)).transpose()).transpose()?
        {
            write_run_folder(&runs_dir, &s, &summary, &timing)?;
        }
    }
    Ok(())
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

/// `study.json`: the expanded plan, which shards must share to be merged.
pub fn write_plan(out: &Path, plan: &Plan) -> Result<PathBuf, ReportError> {
    let p = out.join("study.json");
    let mut bytes = serde_json::to_vec_pretty(plan).map_err(|source| ReportError::Json { path: p.clone(), source })?;
    bytes.push(b'\n');
    write_atomic(&p, &bytes)?;
    Ok(p)
}
