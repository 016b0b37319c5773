//! Locating a data file (raw or `.gz`) and reading it whole into memory.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::DataError;

/// Finds `name` in `dir`, raw first, then with `.gz` appended.
/// Returns the path found and whether it is gzip-compressed.
pub(crate) fn find_file(dir: &Path, name: &str) -> Result<(PathBuf, bool), DataError> {
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok((raw, false));
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok((gz, true));
    }
    Err(DataError::MissingFile { path: raw })
}

/// Finds `name` in `dir` (raw or `.gz`) and returns its decompressed bytes and the path read.
pub(crate) fn read_data_file(dir: &Path, name: &str) -> Result<(Vec<u8>, PathBuf), DataError> {
    let (path, gz) = find_file(dir, name)?;
    let bytes = read_path(&path, gz)?;
    Ok((bytes, path))
}

/// Reads a whole file, gunzipping it if `gz`.
pub(crate) fn read_path(path: &Path, gz: bool) -> Result<Vec<u8>, DataError> {
    let io_err = |source| DataError::Io { path: path.to_path_buf(), source };
    let raw = crate::bounded::read(path, crate::bounded::MAX_DATA).map_err(io_err)?;
    if !gz {
        return Ok(raw);
    }
    gunzip(path, &raw)
}

/// Decompresses gzip bytes (all members), up to `bounded::MAX_DATA`; `path` labels errors.
pub(crate) fn gunzip(path: &Path, raw: &[u8]) -> Result<Vec<u8>, DataError> {
    // The gzip trailer's ISIZE (uncompressed size mod 2^32) is a good capacity hint
    // for the single-member files data sets are distributed as.
    let hint = if raw.len() >= 18 {
        let t = &raw[raw.len() - 4..];
        (u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize).min(64 << 20)
    } else {
        0
    };
    let mut out = Vec::with_capacity(hint);
    // A gzip bomb stops at the limit instead of filling memory.
    MultiGzDecoder::new(raw)
        .take(crate::bounded::MAX_DATA + 1)
        .read_to_end(&mut out)
        .map_err(|e| DataError::Corrupt { path: path.to_path_buf(), msg: format!("gzip decoding failed: {e}") })?;
    if out.len() as u64 > crate::bounded::MAX_DATA {
        return Err(DataError::Corrupt {
            path: path.to_path_buf(),
            msg: format!("decompresses to more than the limit of {} bytes", crate::bounded::MAX_DATA),
        });
    }
    Ok(out)
}
