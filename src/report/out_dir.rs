//! Output folders. slfsim writes only into a folder that is new, empty, or
//! its own: one holding its marker file, or (for folders written before the
//! marker existed) only names slfsim writes. A file in place of the folder,
//! a folder that cannot be written, or one holding someone else's files is
//! refused before any work starts ([`check`], which creates nothing), and
//! nothing in it is touched; [`claim`] creates and marks the folder when the
//! results are written.

use std::path::Path;

use super::{write_atomic, ReportError};

/// Marks a folder as slfsim's output folder.
pub const MARKER: &str = ".slfsim-output";

/// File names slfsim writes into an output folder (exact names).
const NAMES: &[&str] = &[
    MARKER,
    "summary.json",
    "events.jsonl",
    "pairs.csv",
    "timeseries.csv",
    "misalignment.json",
    "study.json",
    "study.csv",
    "summary.csv",
    "timing.csv",
    "report.html",
    "runs",
    "cache",
];

/// Stems of plots and tables slfsim writes (followed by an extension).
const STEMS: &[&str] =
    &["recovery_cdf", "timeline", "network", "phases", "misalignment_", "two_user_", "study_", "align_"];
const EXTENSIONS: &[&str] = &[".svg", ".png", ".json", ".csv", ".md"];

fn ours(name: &str) -> bool {
    NAMES.contains(&name)
        || name.starts_with(".slfsim-tmp-")
        || (STEMS.iter().any(|s| name.starts_with(s)) && EXTENSIONS.iter().any(|e| name.ends_with(e)))
}

fn refuse(dir: &Path, msg: String) -> ReportError {
    ReportError::Io { path: dir.to_path_buf(), source: std::io::Error::other(msg) }
}

/// Says why `dir` cannot become slfsim's output folder, if it cannot;
/// creates nothing (a probe file or folder is made and removed at once).
pub fn check(dir: &Path) -> Result<(), ReportError> {
    if dir.is_dir() {
        foreign(dir)?;
        let probe = tempfile::Builder::new().prefix(".slfsim-tmp-").tempfile_in(dir);
        return probe.map(drop).map_err(|source| ReportError::Io { path: dir.to_path_buf(), source });
    }
    // The nearest folder that exists must be writable, with no file in the way.
    let mut up = dir;
    loop {
        if up.exists() && !up.is_dir() {
            return Err(refuse(dir, format!("{} exists and is not a folder", up.display())));
        }
        if up.is_dir() {
            let probe = tempfile::Builder::new().prefix(".slfsim-tmp-").tempdir_in(up);
            return probe.map(drop).map_err(|source| ReportError::Io { path: dir.to_path_buf(), source });
        }
        match up.parent() {
            Some(p) if !p.as_os_str().is_empty() => up = p,
            _ => return Ok(()),
        }
    }
}

/// Makes `dir` slfsim's output folder, or says why it cannot be.
pub fn claim(dir: &Path) -> Result<(), ReportError> {
    if dir.exists() && !dir.is_dir() {
        return Err(refuse(dir, "it exists and is not a folder".into()));
    }
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io { path: dir.to_path_buf(), source })?;
    let marker = dir.join(MARKER);
    foreign(dir)?;
    // Also proves the folder is writable.
    write_atomic(&marker, b"This folder holds slfsim outputs; slfsim may replace its files.\n")
}

/// Refuses a folder without the marker that holds names slfsim does not write.
fn foreign(dir: &Path) -> Result<(), ReportError> {
    if !dir.join(MARKER).exists() {
        let entries = std::fs::read_dir(dir).map_err(|source| ReportError::Io { path: dir.to_path_buf(), source })?;
        let mut foreign: Vec<String> =
            entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| !ours(n)).collect();
        if !foreign.is_empty() {
            foreign.sort();
            let n = foreign.len();
            foreign.truncate(3);
            return Err(refuse(
                dir,
                format!(
                    "the folder holds {n} file(s) slfsim did not write ({}); choose a new or empty folder",
                    foreign.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_empty_and_own_folders_are_claimed_others_refused() {
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("a/b");
        check(&fresh).unwrap();
        assert!(!root.path().join("a").exists(), "check creates nothing");
        claim(&fresh).unwrap();
        assert!(fresh.join(MARKER).exists());
        // Written before the marker existed: only slfsim's names.
        let old = root.path().join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::write(old.join("summary.json"), "{}").unwrap();
        std::fs::write(old.join("timeline.png"), "").unwrap();
        claim(&old).unwrap();
        let mine = root.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("thesis.tex"), "x").unwrap();
        assert!(check(&mine).is_err());
        let e = claim(&mine).unwrap_err().to_string();
        assert!(e.contains("thesis.tex") && e.contains("did not write"), "{e}");
        assert!(!mine.join(MARKER).exists());
        let file = root.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert!(claim(&file).unwrap_err().to_string().contains("not a folder"));
        assert!(check(&file.join("sub")).unwrap_err().to_string().contains("not a folder"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }
}
