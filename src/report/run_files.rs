//! The files of a simulation run: `summary.json`, `events.jsonl`,
//! `pairs.csv` (one row per misalignment episode), `timeseries.csv`,
//! `adaptive.csv` (the adaptive policy's decisions, `adaptive_file`),
//! `escalate.csv` (the escalating policy's attempts, `escalate_file`), and
//! the run's plots, and `report.html` over all of them. Every file is
//! written atomically; `events.jsonl` is streamed during the run into a
//! temporary file in the output folder (`EventsFile`) and renamed into place
//! at the end, so it is never held in memory and a failed run leaves no
//! partial file.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::{
    network_timeseries, phase_bars, phase_timeline, recovery_cdf, write_csv_atomic, write_json_atomic, ReportError,
};
use crate::sim::engine::RunOutput;
use crate::sim::events::{EventKind, EventLine, EventSink, EventVolume, JsonLines};

/// `events.jsonl` being written: JSON lines of the events `volume` keeps,
/// into a temporary file beside where it will be. `commit` renames it into
/// place; dropped without `commit` (a failed run), it is deleted.
pub struct EventsFile {
    lines: JsonLines<BufWriter<NamedTempFile>>,
    path: PathBuf,
}

impl EventsFile {
    /// Starts `out/events.jsonl` (creates `out`).
    pub fn create(out: &Path, volume: EventVolume) -> Result<EventsFile, ReportError> {
        let path = out.join("events.jsonl");
        let io = |source| ReportError::Io { path: path.clone(), source };
        std::fs::create_dir_all(out).map_err(io)?;
        let mut b = tempfile::Builder::new();
        b.prefix(".slfsim-tmp-");
        #[cfg(unix)]
        b.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let tmp = b.tempfile_in(out).map_err(io)?;
        Ok(EventsFile { lines: JsonLines { out: BufWriter::with_capacity(1 << 20, tmp), volume }, path })
    }

    /// Flushes, syncs and renames the file into place; returns its path.
    pub fn commit(self) -> Result<PathBuf, ReportError> {
        let path = self.path;
        let io = |source| ReportError::Io { path: path.clone(), source };
        let tmp = self.lines.out.into_inner().map_err(|e| io(e.into_error()))?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        crate::atomic::sync_dir(&crate::atomic::parent_dir(&path));
        Ok(path)
    }
}

impl EventSink for EventsFile {
    fn wants(&self, kind: EventKind) -> bool {
        self.lines.wants(kind)
    }
    fn write(&mut self, e: &EventLine<'_>) -> std::io::Result<()> {
        self.lines.write(e)
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes every output of `run` under `out` but `events.jsonl` (streamed
/// by `EventsFile`); returns the paths written.
pub fn write_run(out: &Path, run: &RunOutput) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    let s = &run.summary;
    let p = out.join("summary.json");
    write_json_atomic(&p, s)?;
    written.push(p);

    let headers = [
        "pair",
        "episode",
        "tx",
        "rx",
        "tx_profile",
        "rx_profile",
        "cause",
        "onset_s",
        "detected_s",
        "download_start_s",
        "download_end_s",
        "finetune_start_s",
        "finetune_end_s",
        "upload_start_s",
        "upload_end_s",
        "aligned_s",
        "recovery_time_s",
        "accuracy_before",
        "accuracy_after",
        "mse_before",
        "mse_after",
        "confidence_before",
        "confidence_after",
        "download_bytes",
        "upload_bytes",
        "finetune_flops",
        "steps",
        "fidelity",
        "job",
        "restarts",
    ];
    let rows: Vec<Vec<String>> = s
        .episodes
        .iter()
        .map(|e| {
            vec![
                e.pair.to_string(),
                e.episode.to_string(),
                e.tx.clone(),
                e.rx.clone(),
                e.tx_profile.clone(),
                e.rx_profile.clone(),
                e.cause.as_str().to_string(),
                e.onset_s.to_string(),
                opt(e.detected_s),
                opt(e.download_start_s),
                opt(e.download_end_s),
                opt(e.finetune_start_s),
                opt(e.finetune_end_s),
                opt(e.upload_start_s),
                opt(e.upload_end_s),
                opt(e.aligned_s),
                opt(e.recovery_time_s),
                e.accuracy_before.to_string(),
                opt(e.accuracy_after),
                e.mse_before.to_string(),
                opt(e.mse_after),
                e.confidence_before.to_string(),
                opt(e.confidence_after),
                e.download_bytes.to_string(),
                e.upload_bytes.to_string(),
                e.finetune_flops.to_string(),
                e.steps.to_string(),
                e.fidelity.to_string(),
                e.job.map(|j| j.to_string()).unwrap_or_default(),
                e.restarts.to_string(),
            ]
        })
        .collect();
    let p = out.join("pairs.csv");
    write_csv_atomic(&p, &headers, &rows)?;
    written.push(p);

    let headers = [
        "t_s",
        "network_accuracy",
        "mean_mse",
        "active_pairs",
        "misaligned_pairs",
        "active_flows",
        "running_finetunes",
    ];
    let rows: Vec<Vec<String>> = run
        .timeseries
        .iter()
        .map(|t| {
            let f = |v: f64| if v.is_finite() { v.to_string() } else { String::new() };
            vec![
                t.t_s.to_string(),
                f(t.network_accuracy),
                f(t.mean_mse),
                t.active_pairs.to_string(),
                t.misaligned_pairs.to_string(),
                t.active_flows.to_string(),
                t.running_finetunes.to_string(),
            ]
        })
        .collect();
    let p = out.join("timeseries.csv");
    write_csv_atomic(&p, &headers, &rows)?;
    written.push(p);
    written.extend(super::adaptive_file::write_decisions(out, &run.decisions)?);
    written.extend(super::escalate_file::write_attempts(out, &run.attempts)?);

    let rec: Vec<f64> = s.episodes.iter().filter_map(|e| e.recovery_time_s).collect();
    let label = format!("{} ({})", s.method, s.fidelity);
    written.extend(recovery_cdf(
        &out.join("recovery_cdf"),
        &format!("{}: recovery time", s.scenario),
        &[(label.clone(), rec)],
    )?);
    written.extend(phase_timeline(
        &out.join("timeline"),
        &format!("{}: SLF phases per pair", s.scenario),
        &s.episodes,
        s.horizon_s,
    )?);
    written.extend(network_timeseries(
        &out.join("network"),
        &format!("{}: network accuracy and misaligned pairs", s.scenario),
        &run.timeseries,
    )?);
    written.extend(phase_bars(
        &out.join("phases"),
        &format!("{}: mean recovery time by phase", s.scenario),
        &[(label, s.aggregate.phases.clone())],
    )?);
    if let Some(w) = &run.physical {
        written.extend(super::write_world(out, &s.scenario, w)?);
    }
    // Last: the page is built from the files above.
    written.push(super::html::write_run_report(out)?);
    Ok(written)
}
