//! Atomic file output at the bottom of the crate, so every layer (job
//! caches in `sim`, reports) writes files the same way: a temp file in the
//! target folder (mode 0644), fsync, rename.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The folder `path` lives in ("." for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Best-effort fsync of a folder so that a rename inside it is durable.
pub fn sync_dir(dir: &Path) {
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
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.file_name().is_none() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "path has no file name"));
    }
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir)?;
    // The temp file is deleted when `tmp` is dropped, i.e. on every error path.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".slfsim-tmp-");
    // Results are for reading by others too (tempfile's default is 0600).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(&dir);
    Ok(())
}
