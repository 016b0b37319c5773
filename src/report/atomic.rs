//! Atomic file output: temp file in the target folder, fsync, rename.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ReportError;

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> ReportError {
    ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The folder `path` lives in ("." for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Best-effort fsync of a folder so that a rename inside it is durable.
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes bytes to `path` atomically: a temp file in the same folder, fsync,
/// rename. Creates parent folders. Never leaves a partial file at `path`
/// (nor, on error, a temp file beside it).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    if path.file_name().is_none() {
        return Err(io_err(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "path has no file name"),
        ));
    }
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).map_err(|e| io_err(path, e))?;
    // The temp file is deleted when `tmp` is dropped, i.e. on every error path.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".slfsim-tmp-");
    // Results are for reading by others too (tempfile's default is 0600).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder
        .tempfile_in(&dir)
        .map_err(|e| io_err(path, e))?;
    tmp.write_all(bytes).map_err(|e| io_err(path, e))?;
    tmp.as_file().sync_all().map_err(|e| io_err(path, e))?;
    tmp.persist(path).map_err(|e| io_err(path, e.error))?;
    sync_dir(&dir);
    Ok(())
}

/// Writes `value` as pretty JSON with a trailing newline, atomically.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), ReportError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Writes a CSV (header line, then one line per row) atomically. Every row
/// must have as many fields as `headers`.
pub fn write_csv_atomic(
    path: &Path,
    headers: &[&str],
    rows: &[Vec<String>],
) -> Result<(), ReportError> {
    let csv_err = |source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(headers).map_err(csv_err)?;
    for row in rows {
        w.write_record(row).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| io_err(path, std::io::Error::other(e.to_string())))?;
    write_atomic(path, &bytes)
}
