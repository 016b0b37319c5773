//! `report.html`: one self-contained page per run folder and per study
//! folder, built only from the files in the folder (so `slfsim report DIR`
//! can rebuild it at any time, e.g. after merging shards). `page` renders
//! (escaping every text), `run_page` and `study_page` choose the content.

mod page;
mod run_page;
mod study_page;

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::ReportError;

pub use run_page::write_run_report;
pub use study_page::write_study_report;

/// The kinds of result folders a report can be made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    /// `slfsim run`: summary.json and pairs.csv.
    Run,
    /// `slfsim study` (or `--merge`): study.json.
    Study,
}

/// Which kind of folder `dir` is, by its files; None if neither.
pub fn folder_kind(dir: &Path) -> Option<FolderKind> {
    if dir.join("study.json").is_file() {
        Some(FolderKind::Study)
    } else if dir.join("summary.json").is_file() && dir.join("pairs.csv").is_file() {
        Some(FolderKind::Run)
    } else {
        None
    }
}

/// (Re)writes `dir/report.html` for a run or study folder; returns the
/// folder's kind and the page's path.
pub fn write_report(dir: &Path) -> Result<(FolderKind, PathBuf), ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::Folder(format!("{}: no such folder", dir.display())));
    }
    match folder_kind(dir) {
        Some(FolderKind::Run) => Ok((FolderKind::Run, write_run_report(dir)?)),
        Some(FolderKind::Study) => Ok((FolderKind::Study, write_study_report(dir)?)),
        None => Err(ReportError::Folder(format!(
            "{} is neither a run folder (summary.json and pairs.csv) nor a study folder (study.json)",
            dir.display()
        ))),
    }
}

fn read_err(path: &Path, msg: impl ToString) -> ReportError {
    ReportError::Read { path: path.to_path_buf(), msg: msg.to_string() }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let bytes = std::fs::read(path).map_err(|e| read_err(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| read_err(path, e))
}

/// A CSV file as its header and rows of text.
fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), ReportError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| read_err(path, e))?;
    let headers = r.headers().map_err(|e| read_err(path, e))?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.map_err(|e| read_err(path, e))?.iter().map(String::from).collect());
    }
    Ok((headers, rows))
}

/// `v` shortened for reading (at most 4 significant digits), or "–".
fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or("–".into(), super::chart::fmt_tick)
}

/// Seconds, e.g. "3.521 s", or "–".
fn secs(v: Option<f64>) -> String {
    match v.filter(|x| x.is_finite()) {
        Some(x) => format!("{} s", super::chart::fmt_tick(x)),
        None => "–".into(),
    }
}

#[cfg(test)]
mod tests;
