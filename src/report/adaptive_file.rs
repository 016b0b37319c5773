//! `adaptive.csv`: the adaptive policy's decisions, one row per candidate
//! of each decision (tidy: filter `chosen` for the choices), with what was
//! predicted and, on the chosen row, what was realised.

use std::path::{Path, PathBuf};

use super::{write_csv_atomic, ReportError};
use crate::sim::choice::DecisionRecord;

const HEADERS: [&str; 24] = [
    "decision",
    "pair",
    "episode",
    "tx",
    "rx",
    "t_s",
    "kind",
    "tx_dataset",
    "rx_dataset",
    "target_accuracy",
    "target_gap_share",
    "before_accuracy",
    "matched_accuracy",
    "candidate",
    "predicted_accuracy",
    "accuracy_source",
    "predicted_gap_share",
    "predicted_time_s",
    "chosen",
    "realised_accuracy",
    "realised_gap_share",
    "realised_time_s",
    "ending",
    "meets_target",
];

/// Writes `out/adaptive.csv` when there are decisions (an adaptive run).
pub fn write_decisions(out: &Path, decisions: &[DecisionRecord]) -> Result<Option<PathBuf>, ReportError> {
    if decisions.is_empty() {
        return Ok(None);
    }
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let mut rows = Vec::new();
    for d in decisions {
        for (i, c) in d.candidates.iter().enumerate() {
            let chosen = i == d.chosen;
            let realised = |v: Option<f64>| if chosen { opt(v) } else { String::new() };
            rows.push(vec![
                d.decision.to_string(),
                d.pair.to_string(),
                d.episode.to_string(),
                d.tx.clone(),
                d.rx.clone(),
                d.t_s.to_string(),
                d.kind.as_str().to_string(),
                d.tx_dataset.clone(),
                d.rx_dataset.clone(),
                opt(d.target.accuracy()),
                opt(d.target.gap_share()),
                opt(d.before_accuracy),
                opt(d.matched_accuracy),
                c.method.clone(),
                c.accuracy.to_string(),
                c.source.to_string(),
                opt(c.gap_share),
                c.time_s.to_string(),
                chosen.to_string(),
                realised(d.realised_accuracy),
                realised(d.realised_gap_share),
                realised(d.realised_time_s),
                if chosen { d.ending.as_str().to_string() } else { String::new() },
                c.meets(d.target).to_string(),
            ]);
        }
    }
    let p = out.join("adaptive.csv");
    write_csv_atomic(&p, &HEADERS, &rows)?;
    Ok(Some(p))
}
