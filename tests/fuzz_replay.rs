//! Replays the committed fuzz corpora (`tests/fuzz/corpus/<target>/`) and
//! every input that once crashed a target (`tests/fuzz/regressions/<target>/`)
//! through the same entry functions the fuzz targets call. CI does not run
//! the fuzzer; this keeps what it found fixed.

use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut n = 0;
    for dir in [root.join("corpus").join(target), root.join("regressions").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).unwrap();
            // A panic here names the input.
            let r = std::panic::catch_unwind(|| f(&bytes));
            assert!(r.is_ok(), "{} panicked", p.display());
            n += 1;
        }
    }
    assert!(n >= 3, "{target}: only {n} inputs in {}", root.display());
}

#[test]
fn scenario_corpus() {
    replay("scenario", slfsim::fuzzing::scenario_text);
}

#[test]
fn study_corpus() {
    replay("study", slfsim::fuzzing::study_text);
}

#[test]
fn data_corpus() {
    replay("data", slfsim::fuzzing::data_file);
}

#[test]
fn checkpoint_corpus() {
    replay("checkpoint", slfsim::fuzzing::checkpoint_files);
}
