//! `slfsim study`: resume after real kills, sharding and merging, and
//! rejection of invalid points before anything runs. Uses the smoke study
//! (`scenarios/studies/smoke.ron`), the embedded data and shipped checkpoints.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{assert_clean_error, root, slfsim, stderr};

const SMOKE: &str = "scenarios/studies/smoke.ron";

fn study(args: &[&str]) {
    let mut all = vec!["study"];
    all.extend_from_slice(args);
    let o = slfsim(&all);
    assert!(o.status.success(), "slfsim {all:?} failed: {}", stderr(&o));
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn killed_three_times_resumes_to_the_same_results_and_shards_merge_byte_for_byte() {
    let d = tempfile::tempdir().unwrap();
    let reference = d.path().join("reference");
    study(&[SMOKE, "--out", reference.to_str().unwrap(), "--jobs", "2"]);
    let rows = std::fs::read_to_string(reference.join("study.csv")).unwrap();
    assert_eq!(rows.lines().count(), 1 + 12, "{rows}");

    // Three real SIGKILLs at different points, then a resume to the end.
    let killed = d.path().join("killed");
    for wait_ms in [2500u64, 4000, 3000] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_slfsim"))
            .args(["study", SMOKE, "--out", killed.to_str().unwrap(), "--jobs", "2"])
            .current_dir(root())
            .env_remove("SLFSIM_DATA")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms));
        let _ = child.kill();
        child.wait().unwrap();
    }
    let finished_before = std::fs::read_dir(killed.join("runs"))
        .map_or(0, |r| r.flatten().filter(|e| e.path().join("summary.json").exists()).count());
    assert!(finished_before < 12, "the kills came too late to interrupt anything");
    study(&[SMOKE, "--out", killed.to_str().unwrap(), "--jobs", "2"]);
    for f in ["study.csv", "summary.csv"] {
        assert!(read(&reference.join(f)) == read(&killed.join(f)), "{f} after kills differs from an uninterrupted run");
    }
    // No leftovers of the interrupted runs.
    let leftovers: Vec<_> = std::fs::read_dir(killed.join("runs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Three shards, merged: byte-identical to the unsharded study.
    let mut shards = Vec::new();
    for i in 0..3 {
        let out = d.path().join(format!("shard{i}"));
        study(&[SMOKE, "--out", out.to_str().unwrap(), "--shard", &format!("{i}/3")]);
        assert!(!out.join("study.csv").exists(), "a shard alone writes no study table");
        shards.push(out.to_str().unwrap().to_string());
    }
    let merged = d.path().join("merged");
    let mut args = vec!["--merge"];
    args.extend(shards.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap()]);
    study(&args);
    for f in ["study.csv", "summary.csv"] {
        assert!(
            read(&reference.join(f)) == read(&merged.join(f)),
            "{f} of 3 merged shards differs from the unsharded study"
        );
    }
    // Merging too few shards names what is missing.
    let o = slfsim(&["study", "--merge", &shards[0], "--out", d.path().join("partial").to_str().unwrap()]);
    assert_clean_error(&o, &["runs are not finished", "p000_r1"]);
}

#[test]
fn a_study_with_an_invalid_point_is_rejected_before_any_run() {
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(SMOKE)).unwrap();
    let write = |name: &str, body: &str| {
        let p = root().join("scenarios/studies").join(format!(".test_{name}_{}.ron", std::process::id()));
        std::fs::write(&p, body).unwrap();
        p
    };
    // ℓ = 9 > L = 4 at the second point of the freeze axis.
    let bad = write("freeze", &text.replace("values: [0, 4]", "values: [0, 9]"));
    let out = d.path().join("out");
    let o = slfsim(&["study", bad.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let _ = std::fs::remove_file(&bad);
    assert_clean_error(&o, &["point 1", "freeze=9", "network.policy.method"]);
    assert!(!out.exists(), "a rejected study wrote {}", out.display());

    let bad = write("path", &text.replace("network.users[1].count", "network.users[1].cuont"));
    let o = slfsim(&["check", bad.to_str().unwrap()]);
    let _ = std::fs::remove_file(&bad);
    assert_clean_error(&o, &["axes[0].path", "cuont"]);
}
