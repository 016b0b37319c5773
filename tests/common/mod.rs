//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The small embedded data subsets (always in the clone).
pub fn embedded_data() -> PathBuf {
    root().join("data")
}

/// The full data sets from $SLFSIM_DATA. Tests that need them fail (not
/// skip) with a clear message when they are missing.
pub fn full_data() -> PathBuf {
    let dir = std::env::var("SLFSIM_DATA").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| {
        panic!("this test needs the full data sets: set SLFSIM_DATA to a folder with mnist/, fashion-mnist/ and cifar-10-jpeg75/ (e.g. ../shared/data; `make test` and .ci/run do this)")
    });
    let dir = PathBuf::from(dir);
    assert!(
        dir.join("mnist").is_dir(),
        "SLFSIM_DATA={} has no mnist/ folder; this test needs the full data sets",
        dir.display()
    );
    dir
}

/// The release binary, run without LD_LIBRARY_PATH (it must find LibTorch by its rpath).
pub fn slfsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slfsim"))
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("SLFSIM_DATA")
        .current_dir(root())
        .output()
        .expect("slfsim runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean failure: non-zero exit, one error line containing every
/// `needle`, and no panic.
pub fn assert_clean_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success; stderr: {err}");
    assert_eq!(o.status.code(), Some(1), "exit code; stderr: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    for n in needles {
        assert!(lines[0].contains(n), "error line lacks {n:?}: {err}");
    }
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}
