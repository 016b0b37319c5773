//! `slfsim study`: resume after real kills, sharding and merging, and
//! rejection of invalid points before anything runs. Uses the smoke study
//! (`scenarios/studies/smoke.ron`), the embedded data and shipped checkpoints.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_clean_error, root, slfsim, stderr};

const SMOKE: &str = "scenarios/studies/smoke.ron";

fn study(args: &[&str]) {
    let mut all = vec!["study"];
    all.extend_from_slice(args);
    let o = slfsim(&all);
    assert!(o.status.success(), "slfsim {all:?} failed: {}", stderr(&o));
}

/// Ids of the runs finished in a study folder (complete `runs/<id>/` folders).
fn finished_runs(out: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(out.join("runs"))
        .map(|r| {
            r.flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.') && e.path().join("summary.json").exists())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Finished jobs in the study's cache (not temp files being written).
fn cache_entries(out: &Path) -> usize {
    std::fs::read_dir(out.join("cache"))
        .map_or(0, |r| r.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count())
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

    // Three real SIGKILLs, each right after the study made progress (a new cache
    // entry, then a newly finished run, twice), then a resume to the end.
    let killed = d.path().join("killed");
    for (k, wait_for) in ["cache entry", "finished run", "finished run"].into_iter().enumerate() {
        let before = (finished_runs(&killed).len(), cache_entries(&killed));
        let mut child = Command::new(env!("CARGO_BIN_EXE_slfsim"))
            .args(["study", SMOKE, "--out", killed.to_str().unwrap(), "--jobs", "2"])
            .current_dir(root())
            .env_remove("SLFSIM_DATA")
            .env_remove("LD_LIBRARY_PATH")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let now = (finished_runs(&killed).len(), cache_entries(&killed));
            let progressed = if wait_for == "cache entry" { now.1 > before.1 } else { now.0 > before.0 };
            if progressed {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("start {k}: the study exited ({status}) before a new {wait_for}");
            }
            assert!(Instant::now() < deadline, "start {k}: no new {wait_for} in 300 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(child.try_wait().unwrap().is_none(), "start {k}: the study had exited before the kill");
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "start {k}: not ended by our SIGKILL: {status}");
    }
    // Before the last start: some runs finished, some not, and the job cache holds entries.
    let done = finished_runs(&killed);
    assert!(!done.is_empty() && done.len() < 12, "{} of 12 runs finished before the resume", done.len());
    assert!(cache_entries(&killed) > 0, "no cache entry before the resume");
    let timings: Vec<Vec<u8>> = done.iter().map(|id| read(&killed.join("runs").join(id).join("timing.json"))).collect();
    let o = slfsim(&["study", SMOKE, "--out", killed.to_str().unwrap(), "--jobs", "2"]);
    assert!(o.status.success(), "resume failed: {}", stderr(&o));
    // The resumed process ran only what was missing and left the finished runs alone
    // (a run done again would have written its own wall time into timing.json).
    let stdout = String::from_utf8_lossy(&o.stdout);
    let expect = format!("{} to run, {} already finished", 12 - done.len(), done.len());
    assert!(stdout.contains(&expect), "expected {expect:?} in: {stdout}");
    for (id, t) in done.iter().zip(&timings) {
        assert!(read(&killed.join("runs").join(id).join("timing.json")) == *t, "run {id} was run again");
    }
    assert_eq!(finished_runs(&killed).len(), 12);
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
    // Study files in a temporary folder, pointing at the shipped base scenario.
    let base = root().join("scenarios/studies/star_base.ron");
    let text = std::fs::read_to_string(root().join(SMOKE))
        .unwrap()
        .replace(r#"scenario: "star_base.ron""#, &format!("scenario: {:?}", base.to_str().unwrap()));
    let write = |name: &str, body: &str| {
        let p = d.path().join(format!("{name}.ron"));
        std::fs::write(&p, body).unwrap();
        p
    };
    assert!(slfsim(&["check", write("ok", &text).to_str().unwrap()]).status.success(), "the copy itself is valid");
    // ℓ = 9 > L = 4 at the second point of the freeze axis.
    let bad = write("freeze", &text.replace("values: [0, 4]", "values: [0, 9]"));
    let out = d.path().join("out");
    let o = slfsim(&["study", bad.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_clean_error(&o, &["point 1", "freeze=9", "network.policy.method"]);
    assert!(!out.exists(), "a rejected study wrote {}", out.display());

    let bad = write("path", &text.replace("network.users[1].count", "network.users[1].cuont"));
    let o = slfsim(&["check", bad.to_str().unwrap()]);
    assert_clean_error(&o, &["axes[0].path", "cuont"]);
}

/// `(computed, reused)` from a study's `job cache DIR: N computed, M reused` line.
fn cache_counts(stdout: &str) -> (usize, usize) {
    let line =
        stdout.lines().find(|l| l.starts_with("job cache ")).unwrap_or_else(|| panic!("no cache line in {stdout}"));
    let num = |after: &str| -> usize {
        let rest = &line[line.find(after).unwrap_or_else(|| panic!("{after:?} not in {line:?}")) + after.len()..];
        rest.split(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("no number after {after:?} in {line:?}"))
    };
    (num(": "), num("computed, "))
}

#[test]
fn two_studies_racing_on_one_cache_compute_each_job_once_and_match_a_private_cache() {
    let d = tempfile::tempdir().unwrap();
    // The smoke study made smaller (1, 2 TX x ℓ = 4 x 2 replications: 4 runs, 4 jobs).
    let base = root().join("scenarios/studies/star_base.ron");
    let text = std::fs::read_to_string(root().join(SMOKE))
        .unwrap()
        .replace(r#"scenario: "star_base.ron""#, &format!("scenario: {:?}", base.to_str().unwrap()))
        .replace("values: [1, 2, 4]", "values: [1, 2]")
        .replace("values: [0, 4]", "values: [4]");
    let spec = d.path().join("small.ron");
    std::fs::write(&spec, text).unwrap();
    let spec = spec.to_str().unwrap();
    let shared = d.path().join("shared-cache");
    let (a, b, r) = (d.path().join("a"), d.path().join("b"), d.path().join("reference"));
    // Started at once: two studies on one cache, and a reference with its own (cold) cache.
    let spawn = |out: &Path, cache: &Path| {
        Command::new(env!("CARGO_BIN_EXE_slfsim"))
            .args(["study", spec, "--out", out.to_str().unwrap(), "--cache", cache.to_str().unwrap()])
            .current_dir(root())
            .env_remove("SLFSIM_DATA")
            .env_remove("LD_LIBRARY_PATH")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [spawn(&a, &shared), spawn(&b, &shared), spawn(&r, &d.path().join("private-cache"))];
    let outs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    for (o, name) in outs.iter().zip(["a", "b", "reference"]) {
        assert!(o.status.success(), "study {name} failed: {}", stderr(o));
    }
    let counts: Vec<(usize, usize)> = outs.iter().map(|o| cache_counts(&String::from_utf8_lossy(&o.stdout))).collect();
    println!("(computed, reused) by a, b and the reference: {counts:?}");
    let distinct = counts[2].0;
    assert!(distinct > 0, "the reference computed nothing: {counts:?}");
    // Each distinct job was computed once by the two racing processes together
    // (the other one waited for it or found it), and every entry is there.
    assert_eq!(counts[0].0 + counts[1].0, distinct, "computed by a, b vs distinct jobs: {counts:?}");
    assert_eq!(cache_entries_in(&shared), distinct);
    assert!(counts[0].1 >= counts[1].0 && counts[1].1 >= counts[0].0, "each reused the other's jobs: {counts:?}");
    for f in ["study.csv", "summary.csv"] {
        for out in [&a, &b] {
            assert!(
                read(&r.join(f)) == read(&out.join(f)),
                "{f} of {} differs from a private cold cache",
                out.display()
            );
        }
    }
    // A damaged entry (here truncated) is computed again and replaced, with the same results.
    let victim = std::fs::read_dir(&shared)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("align-"))
        .expect("an align entry");
    let whole = read(&victim);
    std::fs::write(&victim, &whole[..whole.len() / 2]).unwrap();
    let c = d.path().join("c");
    let o = slfsim(&["study", spec, "--out", c.to_str().unwrap(), "--cache", shared.to_str().unwrap()]);
    assert!(o.status.success(), "study on a damaged cache failed: {}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(cache_counts(&stdout).0, 1, "{stdout}");
    assert!(stdout.contains("damaged entries replaced: 1"), "{stdout}");
    assert!(read(&victim) == whole, "the replaced entry differs from the original");
    assert!(read(&r.join("study.csv")) == read(&c.join("study.csv")));
}

fn cache_entries_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map_or(0, |r| r.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count())
}
