//! `escalate.csv`: the escalating policy's attempts, one row each in the
//! order they started, with what was predicted, the pilot check and the
//! judge's accuracy of the result.

use std::path::{Path, PathBuf};

use super::{write_csv_atomic, ReportError};
use crate::sim::escalate::AttemptRecord;

const HEADERS: [&str; 21] = [
    "attempt",
    "pair",
    "episode",
    "tx",
    "rx",
    "t_s",
    "kind",
    "rung",
    "method",
    "predicted_time_s",
    "predicted_accuracy",
    "accuracy_source",
    "target_accuracy",
    "check_accuracy",
    "realised_accuracy",
    "passed",
    "installed",
    "check_bytes",
    "check_flops",
    "time_s",
    "ending",
];

/// Writes `out/escalate.csv` when there are attempts (an escalating run).
pub fn write_attempts(out: &Path, attempts: &[AttemptRecord]) -> Result<Option<PathBuf>, ReportError> {
    if attempts.is_empty() {
        return Ok(None);
    }
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let rows: Vec<Vec<String>> = attempts
        .iter()
        .map(|a| {
            vec![
                a.attempt.to_string(),
                a.pair.to_string(),
                a.episode.to_string(),
                a.tx.clone(),
                a.rx.clone(),
                a.t_s.to_string(),
                a.kind.as_str().to_string(),
                a.rung.to_string(),
                a.method.clone(),
                a.predicted_time_s.to_string(),
                a.predicted_accuracy.to_string(),
                a.accuracy_source.to_string(),
                a.target_accuracy.to_string(),
                opt(a.check_accuracy),
                opt(a.realised_accuracy),
                a.passed.map(|p| p.to_string()).unwrap_or_default(),
                a.installed.to_string(),
                a.check_bytes.to_string(),
                a.check_flops.to_string(),
                opt(a.time_s),
                a.ending.as_str().to_string(),
            ]
        })
        .collect();
    let p = out.join("escalate.csv");
    write_csv_atomic(&p, &HEADERS, &rows)?;
    Ok(Some(p))
}
