use std::path::PathBuf;

use super::style::{phase_colour, PHASES};
use super::*;
use crate::sim::outcome::{EpisodeRecord, PhaseMean, TimePoint};

fn episode(tx: &str, rx: &str, n: usize, onset: f64, t: [Option<f64>; 6]) -> EpisodeRecord {
    let aligned = t[5];
    EpisodeRecord {
        pair: 0,
        tx: tx.into(),
        rx: rx.into(),
        tx_profile: "p".into(),
        rx_profile: "q".into(),
        episode: n,
        cause: crate::sim::outcome::Cause::Initial,
        onset_s: onset,
        detected_s: t[0],
        download_start_s: t[1],
        download_end_s: t[2],
        finetune_start_s: t[3],
        finetune_end_s: t[4],
        upload_start_s: t[4],
        upload_end_s: aligned,
        aligned_s: aligned,
        recovery_time_s: aligned.map(|a| a - onset),
        accuracy_before: 0.3,
        mse_before: 1.0,
        accuracy_after: aligned.map(|_| 0.9),
        mse_after: aligned.map(|_| 0.1),
        confidence_before: 0.4,
        confidence_after: aligned.map(|_| 0.9),
        download_bytes: 0,
        upload_bytes: 0,
        finetune_flops: 0,
        steps: 0,
        fidelity: crate::scenario::Fidelity::Exact,
        job: None,
        restarts: 0,
        ended_s: None,
    }
}

fn sample_episodes() -> Vec<EpisodeRecord> {
    vec![
        episode("u0", "u1", 0, 0.0, [Some(1.0), Some(1.5), Some(3.0), Some(4.0), Some(7.0), Some(8.0)]),
        episode("u2", "u1", 1, 2.0, [Some(2.5), Some(4.0), Some(6.0), Some(6.0), None, None]),
        episode("u3", "u0", 0, 5.0, [None, None, None, None, None, None]),
    ]
}

/// Checks both files exist and are non-empty, and the SVG holds `texts`.
fn check(paths: &[PathBuf], texts: &[&str]) {
    assert_eq!(paths.len(), 2);
    assert!(paths[0].extension().unwrap() == "svg");
    assert!(paths[1].extension().unwrap() == "png");
    let svg = std::fs::read_to_string(&paths[0]).unwrap();
    for t in texts {
        assert!(svg.contains(t), "SVG lacks {t:?}");
    }
    let png = std::fs::read(&paths[1]).unwrap();
    assert!(png.len() > 1_000 && png.starts_with(b"\x89PNG"));
}

#[test]
fn recovery_cdf_draws_series_and_copes_with_empty() {
    let dir = tempfile::tempdir().unwrap();
    let runs = vec![
        ("ℓ = 0".to_string(), vec![3.0, 1.0, 2.0, f64::NAN, 2.0]),
        ("ℓ = 2".to_string(), vec![]),
        ("ℓ = 4".to_string(), vec![5.0, f64::INFINITY]),
    ];
    let p = recovery_cdf(&dir.path().join("cdf"), "Recovery CDF", &runs).unwrap();
    check(&p, &["Recovery CDF", "ℓ = 0", "ℓ = 4", "recovery time (s)"]);
    let svg = std::fs::read_to_string(&p[0]).unwrap();
    assert!(!svg.contains("ℓ = 2") && !svg.contains("no recovered"));

    let empty = vec![("a".to_string(), vec![f64::NAN])];
    let p = recovery_cdf(&dir.path().join("e1"), "Empty", &empty).unwrap();
    check(&p, &["Empty", "no recovered episodes"]);
    let p = recovery_cdf(&dir.path().join("e2"), "None", &[]).unwrap();
    check(&p, &["no recovered episodes"]);
    // A single value (zero-width data range).
    let one = vec![("x".to_string(), vec![0.0])];
    recovery_cdf(&dir.path().join("one"), "One", &one).unwrap();
}

#[test]
fn phase_timeline_draws_rows_and_unfinished_phases() {
    let dir = tempfile::tempdir().unwrap();
    let eps = sample_episodes();
    let p = phase_timeline(&dir.path().join("tl"), "Timeline", &eps, 10.0).unwrap();
    check(&p, &["Timeline", "u0→u1", "u2→u1 #1", "fine-tune", "compute wait", "unfinished"]);
    let svg = std::fs::read_to_string(&p[0]).unwrap();
    assert!(!svg.contains("u0→u1 #"));

    // Degenerate: nothing, zero or NaN horizon, NaN times.
    let p = phase_timeline(&dir.path().join("none"), "Nothing", &[], 0.0).unwrap();
    check(&p, &["no episodes"]);
    let mut odd = sample_episodes();
    odd[0].detected_s = Some(f64::NAN);
    odd[1].onset_s = f64::NAN;
    phase_timeline(&dir.path().join("odd"), "Odd", &odd, f64::NAN).unwrap();
    let zero = vec![episode("a", "b", 0, 0.0, [None; 6])];
    phase_timeline(&dir.path().join("zero"), "Zero", &zero, 0.0).unwrap();
}

#[test]
fn phase_timeline_caps_rows() {
    let dir = tempfile::tempdir().unwrap();
    // Onsets in reverse, so the first 60 by onset are the last 60 given.
    let eps: Vec<EpisodeRecord> = (0..75)
        .map(|i| {
            let t0 = (75 - i) as f64;
            episode(&format!("t{i}"), "r", 0, t0, [Some(t0 + 1.0), Some(t0 + 2.0), Some(t0 + 3.0), None, None, None])
        })
        .collect();
    let p = phase_timeline(&dir.path().join("many"), "Many", &eps, 100.0).unwrap();
    check(&p, &["Many (first 60 of 75)", "t74→r", "t15→r"]);
    let svg = std::fs::read_to_string(&p[0]).unwrap();
    assert!(!svg.contains("t14→r"));
}

#[test]
fn network_timeseries_draws_two_panels() {
    let dir = tempfile::tempdir().unwrap();
    let pt = |t: f64, acc: f64, m: usize| TimePoint {
        t_s: t,
        network_accuracy: acc,
        mean_mse: 0.0,
        active_pairs: 4,
        misaligned_pairs: m,
        active_flows: 0,
        running_finetunes: 0,
    };
    let pts = vec![pt(0.0, 0.2, 4), pt(1.0, 0.4, 3), pt(2.0, f64::NAN, 3), pt(3.0, 0.8, 1), pt(4.0, 0.9, 0)];
    let p = network_timeseries(&dir.path().join("ts"), "Network", &pts).unwrap();
    check(&p, &["Network", "network accuracy", "misaligned pairs", "simulated time (s)"]);
    let p = network_timeseries(&dir.path().join("empty"), "Empty", &[]).unwrap();
    check(&p, &["no samples"]);
    network_timeseries(&dir.path().join("one"), "One", &[pt(5.0, 0.5, 0)]).unwrap();
    network_timeseries(&dir.path().join("nan"), "NaN", &[pt(f64::NAN, 0.5, 2)]).unwrap();
}

#[test]
fn phase_bars_stack_phases_per_run() {
    let dir = tempfile::tempdir().unwrap();
    let means = |k: f64| -> Vec<PhaseMean> {
        PHASES
            .iter()
            .enumerate()
            .map(|(i, (n, _))| PhaseMean { phase: n.to_string(), mean_s: k * (i + 1) as f64 })
            .collect()
    };
    let mut odd = means(0.5);
    odd[2].mean_s = f64::NAN;
    odd.push(PhaseMean { phase: "install".into(), mean_s: 0.3 });
    let runs = vec![("N = 1".to_string(), means(1.0)), ("N = 8".to_string(), odd), ("none".to_string(), vec![])];
    let p = phase_bars(&dir.path().join("bars"), "Phases", &runs).unwrap();
    check(&p, &["Phases", "N = 1", "N = 8", "detection", "upload", "install", "21 s"]);
    let p = phase_bars(&dir.path().join("one"), "Single", &runs[..1]).unwrap();
    check(&p, &["Single", "queue"]);
    let p = phase_bars(&dir.path().join("empty"), "Empty", &[]).unwrap();
    check(&p, &["no runs"]);
}

#[test]
fn phase_colours_are_fixed() {
    let mut unknown = vec![];
    assert_eq!(phase_colour("download", &mut unknown), PHASES[2].1);
    let a = phase_colour("install", &mut unknown);
    assert_eq!(phase_colour("install", &mut unknown), a);
    assert_ne!(phase_colour("other", &mut unknown), a);
    assert!(PHASES.iter().all(|(_, c)| *c != a));
}

/// Writes sample plots for a visual check:
/// `SLFSIM_REPORT_DEMO=DIR cargo test --release --lib demo_run_plots -- --ignored`.
#[test]
#[ignore = "demo: writes sample run plots to $SLFSIM_REPORT_DEMO (or a temp folder) to look at"]
fn demo_run_plots_for_eyeballing() {
    let dir = crate::report::tests::demo_dir();
    let dir = dir.as_path();
    let runs: Vec<(String, Vec<f64>)> = (0..4)
        .map(|l| {
            let v = (0..30).map(|i| 5.0 + l as f64 * 3.0 + (i * 7 % 11) as f64).collect();
            (format!("ℓ = {l}"), v)
        })
        .collect();
    recovery_cdf(&dir.join("run_cdf"), "Recovery time", &runs).unwrap();
    phase_timeline(&dir.join("run_timeline"), "Episodes", &sample_episodes(), 10.0).unwrap();
    let pts: Vec<TimePoint> = (0..50)
        .map(|i| TimePoint {
            t_s: i as f64 * 0.5,
            network_accuracy: 0.3 + 0.6 * (1.0 - (-(i as f64) / 15.0).exp()),
            mean_mse: 0.0,
            active_pairs: 8,
            misaligned_pairs: 8usize.saturating_sub(i / 5),
            active_flows: 0,
            running_finetunes: 0,
        })
        .collect();
    network_timeseries(&dir.join("run_ts"), "Network state", &pts).unwrap();
    let bars: Vec<(String, Vec<PhaseMean>)> = (1..=3)
        .map(|k| {
            let m = PHASES
                .iter()
                .map(|(n, _)| PhaseMean { phase: n.to_string(), mean_s: k as f64 * 0.7 + n.len() as f64 * 0.2 })
                .collect();
            (format!("N = {k} TX"), m)
        })
        .collect();
    phase_bars(&dir.join("run_bars"), "Mean time per phase", &bars).unwrap();
    let many: Vec<EpisodeRecord> = (0..75)
        .map(|i| {
            let t0 = i as f64 * 0.4;
            // Some episodes stop early, to show unfinished phases.
            let t = |d: f64| (d < 3.0 + (i % 7) as f64).then_some(t0 + d);
            episode(
                &format!("u{}", i % 9),
                &format!("u{}", i % 5 + 9),
                i / 45,
                t0,
                [t(0.5), t(1.0), t(3.0), t(4.0), t(7.0), t(8.0)],
            )
        })
        .collect();
    phase_timeline(&dir.join("run_timeline_many"), "Episodes", &many, 40.0).unwrap();
    recovery_cdf(&dir.join("run_cdf_empty"), "Recovery time", &[]).unwrap();
    for stem in ["run_cdf", "run_timeline", "run_ts", "run_bars", "run_timeline_many", "run_cdf_empty"] {
        check(&[dir.join(format!("{stem}.svg")), dir.join(format!("{stem}.png"))], &[]);
    }
    println!("demo plots in {}", dir.display());
}
