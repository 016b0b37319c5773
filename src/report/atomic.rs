//! Atomic file output: temp file in the target folder, fsync, rename.

use std::path::Path;

use serde::Serialize;

use super::ReportError;

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> ReportError {
    ReportError::Io { path: path.to_path_buf(), source }
}

pub(crate) use crate::atomic::{parent_dir, sync_dir};

/// Writes bytes to `path` atomically (see `crate::atomic::write_atomic`):
/// never a partial file at `path`, nor a temp file beside it on error.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    crate::atomic::write_atomic(path, bytes).map_err(|e| io_err(path, e))
}

/// Writes `value` as pretty JSON with a trailing newline, atomically.
pub fn write_json_atomic<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), ReportError> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|source| ReportError::Json { path: path.to_path_buf(), source })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Writes a CSV (header line, then one line per row) atomically. Every row
/// must have as many fields as `headers`.
pub fn write_csv_atomic(path: &Path, headers: &[&str], rows: &[Vec<String>]) -> Result<(), ReportError> {
    let csv_err = |source| ReportError::Csv { path: path.to_path_buf(), source };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(headers).map_err(csv_err)?;
    for row in rows {
        w.write_record(row).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| io_err(path, std::io::Error::other(e.to_string())))?;
    write_atomic(path, &bytes)
}
